#pragma once
/// \file
/// Software-mapping search for one GEMM workload on one machine: the space of divisor tile
/// sizes times the six loop orders, a fixed heuristic mapping, exhaustive search (the ground
/// truth on small layers), simulated annealing and tabular Q-learning (HASCO's software-side
/// explorer). Every search returns the best valid mapping it evaluated, and a valid one whenever
/// any exists: fit is monotone in the tile sizes, so (1, 1, 1) fits whenever anything does.

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <unordered_map>
#include <vector>

#include "../core/error.hpp"
#include "../core/rng.hpp"
#include "accelerator.hpp"

namespace frugal::search {

/// What a mapping search minimises.
enum class mapping_objective { latency, energy, edp };

/// The objective's value for `cost`; +infinity for an invalid cost.
inline double objective_value(const accelerator_cost& cost, mapping_objective objective) {
  if (!cost.valid) return std::numeric_limits<double>::infinity();
  switch (objective) {
    case mapping_objective::latency:
      return cost.latency_s;
    case mapping_objective::energy:
      return cost.energy_j;
    case mapping_objective::edp:
      return cost.energy_j * cost.latency_s;
  }
  return std::numeric_limits<double>::infinity();
}

/// The divisors of `n` in ascending order. O(sqrt n).
inline std::vector<std::int64_t> divisors(std::int64_t n) {
  check(n >= 1, "frugal::search::divisors: n = ", n, " must be positive");
  std::vector<std::int64_t> low, high;
  for (std::int64_t d = 1; d * d <= n; ++d)
    if (n % d == 0) {
      low.push_back(d);
      if (d != n / d) high.push_back(n / d);
    }
  low.insert(low.end(), high.rbegin(), high.rend());
  return low;
}

/// The six loop orders, outermost first.
inline constexpr std::array<std::array<gemm_dim, 3>, 6> loop_orders{{{gemm_dim::M, gemm_dim::N, gemm_dim::K},
                                                                     {gemm_dim::M, gemm_dim::K, gemm_dim::N},
                                                                     {gemm_dim::N, gemm_dim::M, gemm_dim::K},
                                                                     {gemm_dim::N, gemm_dim::K, gemm_dim::M},
                                                                     {gemm_dim::K, gemm_dim::M, gemm_dim::N},
                                                                     {gemm_dim::K, gemm_dim::N, gemm_dim::M}}};

/// The mapping space of one workload: every divisor of M, N and K as a tile size, times the six
/// loop orders (valid or not on a given machine).
struct mapping_space {
  std::vector<std::int64_t> tiles_m, tiles_n, tiles_k;

  explicit mapping_space(const gemm_workload& w)
      : tiles_m((w.validate(), divisors(w.M))), tiles_n(divisors(w.N)), tiles_k(divisors(w.K)) {}

  /// How many mappings: d(M) d(N) d(K) * 6.
  [[nodiscard]] std::uint64_t size() const { return tiles_m.size() * tiles_n.size() * tiles_k.size() * 6; }
  /// The mapping with tile indices (im, in, ik) and order index `io`.
  [[nodiscard]] mapping at(std::size_t im, std::size_t in, std::size_t ik, std::size_t io) const {
    return mapping{tiles_m.at(im), tiles_n.at(in), tiles_k.at(ik), loop_orders.at(io)};
  }
};

/// The result of a mapping search.
struct mapping_result {
  mapping map;
  accelerator_cost cost;         ///< invalid only when no mapping of the space fits the machine
  std::int64_t evaluations = 0;  ///< cost-model calls made
};

namespace detail {

/// Whether tiles that divide the extents fit the buffers (mapping_fit without the message).
inline bool fits(const hardware_config& hw, std::int64_t tm, std::int64_t tn, std::int64_t tk) {
  const std::int64_t b = hw.bytes_per_element;
  if (2 * (tm * tk + tk * tn + tm * tn) * b > hw.scratchpad_bytes) return false;
  const std::int64_t rows = hw.flow == dataflow::weight_stationary ? tk : tm;
  return ceil_div(rows, hw.pe_y) * ceil_div(tn, hw.pe_x) * b <= hw.pe_buffer_bytes;
}

/// Searches keep their best mapping here.
struct best_tracker {
  mapping_objective objective;
  mapping_result best;
  double best_value = std::numeric_limits<double>::infinity();

  double offer(const mapping& m, const accelerator_cost& c) {
    ++best.evaluations;
    const double v = objective_value(c, objective);
    if (v < best_value) {
      best_value = v;
      best.map = m;
      best.cost = c;
    }
    return v;
  }
};

}  // namespace detail

/// A fixed heuristic mapping, as a hand-written library would ship: the order keeps the
/// stationary operand's tile in the scratchpad across the innermost loop (weight stationary:
/// N, K, M; output stationary: M, N, K); tiles grow greedily, each to its largest divisor that
/// still fits, first the dimensions the array keeps in its PEs (weight stationary: K then N;
/// output stationary: M then N), then the streamed one.
/// \returns a mapping that fits whenever (1, 1, 1) fits.
inline mapping default_mapping(const gemm_workload& w, const hardware_config& hw) {
  w.validate();
  hw.validate();
  const bool ws = hw.flow == dataflow::weight_stationary;
  mapping m;
  m.order = ws ? loop_orders[3] : loop_orders[0];
  const std::array<int, 3> priority = ws ? std::array<int, 3>{2, 1, 0} : std::array<int, 3>{0, 1, 2};
  std::array<std::int64_t, 3> tile{1, 1, 1};
  for (int d : priority) {
    for (auto t : divisors(w.extent(d))) {
      auto trial = tile;
      trial[static_cast<std::size_t>(d)] = t;
      if (detail::fits(hw, trial[0], trial[1], trial[2])) tile = trial;
    }
  }
  m.tile_m = tile[0];
  m.tile_n = tile[1];
  m.tile_k = tile[2];
  return m;
}

/// The best mapping of the whole space: d(M) d(N) d(K) * 6 evaluations at most (tiles that do
/// not fit are skipped before the cost model). Ties go to the first in enumeration order.
inline mapping_result exhaustive_mapping(const gemm_workload& w, const hardware_config& hw,
                                         mapping_objective objective = mapping_objective::latency,
                                         const cost_constants& constants = {}) {
  hw.validate();
  const mapping_space space(w);
  detail::best_tracker best{objective, {}, std::numeric_limits<double>::infinity()};
  for (std::size_t im = 0; im < space.tiles_m.size(); ++im)
    for (std::size_t in = 0; in < space.tiles_n.size(); ++in)
      for (std::size_t ik = 0; ik < space.tiles_k.size(); ++ik) {
        if (!detail::fits(hw, space.tiles_m[im], space.tiles_n[in], space.tiles_k[ik])) continue;
        for (std::size_t io = 0; io < loop_orders.size(); ++io) {
          const auto m = space.at(im, in, ik, io);
          best.offer(m, evaluate(w, hw, m, constants));
        }
      }
  if (!best.best.cost.valid) best.best.cost = evaluate(w, hw, best.best.map, constants);
  return best.best;
}

/// Simulated annealing over (tile index of M, N, K; loop order), starting from
/// default_mapping(). A move changes one coordinate: a tile index by +-1 or +-2, or the order to
/// another one; mappings that do not fit are rejected outright. A worse move is accepted with
/// probability exp(-(log f' - log f) / T), T falling geometrically from 1 to 0.01 (a factor of
/// e in the objective is accepted often at the start, a 1% loss rarely at the end).
/// \param iterations proposals (each at most one cost-model call)
/// \param gen the random stream; the result is a function of the inputs and its state.
inline mapping_result simulated_annealing_mapping(const gemm_workload& w, const hardware_config& hw,
                                                  mapping_objective objective, int iterations, rng& gen,
                                                  const cost_constants& constants = {}) {
  check(iterations >= 0, "frugal::search::simulated_annealing_mapping: iterations ", iterations, " is negative");
  const mapping_space space(w);
  const auto start = default_mapping(w, hw);
  auto index_of = [](const std::vector<std::int64_t>& v, std::int64_t t) {
    return static_cast<std::size_t>(std::find(v.begin(), v.end(), t) - v.begin());
  };
  std::array<std::size_t, 4> at{index_of(space.tiles_m, start.tile_m), index_of(space.tiles_n, start.tile_n),
                                index_of(space.tiles_k, start.tile_k), 0};
  at[3] =
      static_cast<std::size_t>(std::find(loop_orders.begin(), loop_orders.end(), start.order) - loop_orders.begin());
  const std::array<std::size_t, 4> sizes{space.tiles_m.size(), space.tiles_n.size(), space.tiles_k.size(), 6};

  detail::best_tracker best{objective, {}, std::numeric_limits<double>::infinity()};
  double current = std::log(best.offer(start, evaluate(w, hw, start, constants)));
  if (!std::isfinite(current)) return best.best;  // nothing fits
  const double t0 = 1.0, t1 = 0.01;
  for (int i = 0; i < iterations; ++i) {
    const double temperature = t0 * std::pow(t1 / t0, iterations > 1 ? double(i) / (iterations - 1) : 1.0);
    auto next = at;
    const auto c = static_cast<std::size_t>(gen.uniform_int(4));
    if (sizes[c] < 2) continue;
    if (c == 3) {
      next[3] = (at[3] + 1 + static_cast<std::size_t>(gen.uniform_int(5))) % 6;
    } else {
      if (gen.uniform_int(2)) {  // a neighbouring divisor
        const auto to = static_cast<std::int64_t>(at[c]) + (gen.uniform_int(2) ? 1 : -1);
        if (to < 0 || to >= static_cast<std::int64_t>(sizes[c])) continue;
        next[c] = static_cast<std::size_t>(to);
      } else {  // any other divisor: tile landscapes have plateaus a local step cannot cross
        next[c] = (at[c] + 1 + static_cast<std::size_t>(gen.uniform_int(sizes[c] - 1))) % sizes[c];
      }
    }
    // Repair a tile that grew past the buffers by shrinking the other tiles one divisor at a time
    // (at random): the good mappings lie along the fit boundary, where growing one tile means
    // shrinking another.
    bool fit = detail::fits(hw, space.tiles_m[next[0]], space.tiles_n[next[1]], space.tiles_k[next[2]]);
    while (!fit && c != 3) {
      const auto o1 = (c + 1) % 3, o2 = (c + 2) % 3;
      if (next[o1] == 0 && next[o2] == 0) break;
      const auto shrink = next[o1] == 0 ? o2 : next[o2] == 0 ? o1 : (gen.uniform_int(2) ? o1 : o2);
      --next[shrink];
      fit = detail::fits(hw, space.tiles_m[next[0]], space.tiles_n[next[1]], space.tiles_k[next[2]]);
    }
    if (!fit) continue;
    const auto m = space.at(next[0], next[1], next[2], next[3]);
    const double value = std::log(best.offer(m, evaluate(w, hw, m, constants)));
    if (value <= current || gen.uniform() < std::exp(-(value - current) / temperature)) {
      at = next;
      current = value;
    }
  }
  return best.best;
}

/// Tabular Q-learning over mapping decisions, as HASCO's software explorer: an episode chooses
/// the loop order, then the tile of M, of N, of K; the state is the decisions made so far, the
/// reward (at the last step only) log(f(default) / f(mapping)), the update
/// Q(s,a) += 0.5 (target - Q(s,a)) with target the reward or max over a' of Q(s',a') (no
/// discount: four steps). Actions whose partial mapping cannot fit even with the remaining tiles
/// at 1 are masked out, so every episode ends on a mapping that fits. Epsilon-greedy with
/// epsilon falling linearly from 1 to 0.05 over the episodes; ties among greedy actions go to
/// the first. Returns the best mapping any episode reached.
/// \param episodes episodes (each one cost-model call)
/// \param gen the random stream; the result is a function of the inputs and its state.
inline mapping_result q_learning_mapping(const gemm_workload& w, const hardware_config& hw, mapping_objective objective,
                                         int episodes, rng& gen, const cost_constants& constants = {}) {
  check(episodes >= 0, "frugal::search::q_learning_mapping: episodes ", episodes, " is negative");
  const mapping_space space(w);
  detail::best_tracker best{objective, {}, std::numeric_limits<double>::infinity()};
  const auto reference = default_mapping(w, hw);
  const double reference_value = best.offer(reference, evaluate(w, hw, reference, constants));
  if (!std::isfinite(reference_value)) return best.best;  // nothing fits

  const std::array<std::size_t, 4> arity{6, space.tiles_m.size(), space.tiles_n.size(), space.tiles_k.size()};
  // A state is the decisions so far in mixed radix, tagged by the step.
  auto key = [&](int step, const std::array<std::size_t, 4>& choice) {
    std::uint64_t k = 0;
    for (int s = 0; s < step; ++s) k = k * arity[static_cast<std::size_t>(s)] + choice[static_cast<std::size_t>(s)];
    return k * 4 + static_cast<std::uint64_t>(step);
  };
  std::unordered_map<std::uint64_t, std::vector<double>> q;
  auto values = [&](int step, const std::array<std::size_t, 4>& choice) -> std::vector<double>& {
    auto [it, inserted] = q.try_emplace(key(step, choice));
    if (inserted) it->second.assign(arity[static_cast<std::size_t>(step)], 0.0);
    return it->second;
  };
  // Whether action `a` at `step` leaves a partial mapping that fits with the undecided tiles at 1.
  auto allowed = [&](int step, const std::array<std::size_t, 4>& choice, std::size_t a) {
    if (step == 0) return true;
    std::array<std::int64_t, 3> tile{1, 1, 1};
    for (int s = 1; s < step; ++s)
      tile[static_cast<std::size_t>(s - 1)] = (s == 1   ? space.tiles_m
                                               : s == 2 ? space.tiles_n
                                                        : space.tiles_k)[choice[static_cast<std::size_t>(s)]];
    tile[static_cast<std::size_t>(step - 1)] = (step == 1   ? space.tiles_m
                                                : step == 2 ? space.tiles_n
                                                            : space.tiles_k)[a];
    return detail::fits(hw, tile[0], tile[1], tile[2]);
  };
  auto greedy = [&](int step, const std::array<std::size_t, 4>& choice, double& value) {
    const auto& v = values(step, choice);
    std::size_t pick = arity[static_cast<std::size_t>(step)];
    value = -std::numeric_limits<double>::infinity();
    for (std::size_t a = 0; a < v.size(); ++a)
      if (allowed(step, choice, a) && v[a] > value) {
        value = v[a];
        pick = a;
      }
    return pick;
  };

  constexpr double learning_rate = 0.5;
  std::vector<std::size_t> legal;
  for (int e = 0; e < episodes; ++e) {
    const double epsilon = 1.0 - 0.95 * (episodes > 1 ? double(e) / (episodes - 1) : 1.0);
    std::array<std::size_t, 4> choice{};
    for (int step = 0; step < 4; ++step) {
      double unused = 0;
      std::size_t a = greedy(step, choice, unused);
      if (gen.uniform() < epsilon) {
        legal.clear();
        for (std::size_t b = 0; b < arity[static_cast<std::size_t>(step)]; ++b)
          if (allowed(step, choice, b)) legal.push_back(b);
        a = legal[gen.uniform_int(legal.size())];
      }
      choice[static_cast<std::size_t>(step)] = a;
    }
    const auto m = space.at(choice[1], choice[2], choice[3], choice[0]);
    const double reward = std::log(reference_value / best.offer(m, evaluate(w, hw, m, constants)));
    // Back up along the episode, last step first, so the reward reaches the root in one episode.
    for (int step = 3; step >= 0; --step) {
      double target = reward;
      if (step < 3) greedy(step + 1, choice, target);
      auto& v = values(step, choice);
      const auto a = choice[static_cast<std::size_t>(step)];
      v[a] += learning_rate * (target - v[a]);
    }
  }
  return best.best;
}

// ---------------------------------------------------------------------------------------------
// Mappers: callables (workload, machine) -> mapping, for evaluate_design.

/// default_mapping as a mapper.
struct default_mapper {
  [[nodiscard]] mapping operator()(const gemm_workload& w, const hardware_config& hw) const {
    return default_mapping(w, hw);
  }
};

/// exhaustive_mapping as a mapper.
struct exhaustive_mapper {
  mapping_objective objective = mapping_objective::latency;
  cost_constants constants{};
  [[nodiscard]] mapping operator()(const gemm_workload& w, const hardware_config& hw) const {
    return exhaustive_mapping(w, hw, objective, constants).map;
  }
};

/// simulated_annealing_mapping as a mapper; each call starts a fresh stream from `seed`, so a
/// layer gets the same mapping on the same machine however often it is asked.
struct annealing_mapper {
  mapping_objective objective = mapping_objective::latency;
  int iterations = 300;
  std::uint64_t seed = 1;
  cost_constants constants{};
  [[nodiscard]] mapping operator()(const gemm_workload& w, const hardware_config& hw) const {
    rng gen(seed);
    return simulated_annealing_mapping(w, hw, objective, iterations, gen, constants).map;
  }
};

/// q_learning_mapping as a mapper, seeded per call like annealing_mapper.
struct q_learning_mapper {
  mapping_objective objective = mapping_objective::latency;
  int episodes = 300;
  std::uint64_t seed = 1;
  cost_constants constants{};
  [[nodiscard]] mapping operator()(const gemm_workload& w, const hardware_config& hw) const {
    rng gen(seed);
    return q_learning_mapping(w, hw, objective, episodes, gen, constants).map;
  }
};

}  // namespace frugal::search
