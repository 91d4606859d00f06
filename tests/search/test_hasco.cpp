// The HASCO co-design driver: the area budget is never violated and over-power designs stay out
// of the front; a run's front is non-dominated and never beats the exhaustive one; the exhaustive
// enumeration agrees with an independent brute force over hardware points and mappings; and the
// Bayesian search reaches the true front within 5 % hypervolume regret in 30 evaluations (median
// of five seeds) where a handful of random points does not.
#include <doctest/doctest.h>

#include <frugal/search/hasco.hpp>
#include <frugal/search/measured.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

using namespace frugal;
using namespace frugal::search;

namespace {

/// A small CNN: two convolutions, a depthwise one and a classifier (3.4 MMACs).
std::vector<conv_layer> small_cnn() {
  return {
      {"conv1", 1, 16, 3, 32, 32, 3, 3, 1, 1, false, 1},
      {"conv2", 1, 32, 16, 32, 32, 3, 3, 2, 1, false, 2},
      {"dw", 1, 32, 32, 16, 16, 3, 3, 1, 1, true, 1},
      {"fc", 1, 10, 512, 1, 1, 1, 1, 1, 0, false, 1},
  };
}

/// Two tiny layers, so that every mapping of every hardware point can be tried.
std::vector<conv_layer> tiny_layers() {
  return {{"conv", 1, 8, 4, 8, 8, 3, 3, 1, 1, false, 2}, {"fc", 1, 10, 32, 1, 1, 1, 1, 1, 0, false, 1}};
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

}  // namespace

TEST_CASE("hasco_search: never suggests a design over the area budget; over-power designs are flagged, not fronted") {
  const auto layers = small_cnn();
  const annealing_mapper mapper{.objective = mapping_objective::edp, .iterations = 100};
  for (auto strategy : {hasco_strategy::bayesian, hasco_strategy::random}) {
    hasco_options o{.evaluations = 20, .initial_points = 6, .batch = 2, .strategy = strategy};
    o.area_budget_mm2 = 0.3;  // a sixth of the space or so
    const auto truth = enumerate_designs(layers, mapper, o);
    // The budget must bind for the check to mean anything.
    REQUIRE(truth.size() < 1728 / 3);
    std::vector<double> powers;
    for (const auto& d : truth) powers.push_back(d.cost.power_w);
    o.power_budget_w = median(powers);
    const auto r = hasco_search(layers, mapper, o);
    REQUIRE(r.designs.size() == 20);
    int over_power = 0;
    for (const auto& d : r.designs) {
      CHECK(d.cost.area_mm2 <= o.area_budget_mm2);
      CHECK(d.feasible == (d.cost.power_w <= o.power_budget_w));
      over_power += d.feasible ? 0 : 1;
    }
    CHECK(over_power > 0);  // the power budget binds too
    for (auto i : r.front) CHECK(r.designs[i].feasible);
  }
  // A budget below the smallest machine admits nothing.
  CHECK_THROWS_AS(hasco_search(layers, default_mapper{}, {.area_budget_mm2 = 0.01}), invalid_argument);
  CHECK_THROWS_AS(hasco_search(layers, default_mapper{}, {.evaluations = 0}), invalid_argument);
  CHECK_THROWS_AS(hasco_search({}, default_mapper{}), invalid_argument);
}

TEST_CASE("hasco_search: the front is non-dominated, the hypervolume never falls and stays below the exhaustive one") {
  const auto layers = small_cnn();
  const annealing_mapper mapper{.objective = mapping_objective::edp, .iterations = 100};
  for (auto objectives : {hasco_objectives::latency_power, hasco_objectives::latency_power_area}) {
    const hasco_options o{.evaluations = 16, .initial_points = 8, .objectives = objectives, .seed = 4};
    const auto truth = enumerate_designs(layers, mapper, o);
    REQUIRE(truth.size() == 1728);
    const auto frame = hypervolume_frame::of(truth);
    const auto r = hasco_search(layers, mapper, o, frame);
    REQUIRE(!r.front.empty());
    for (auto i : r.front)
      for (const auto& d : r.designs) CHECK_FALSE(dominates(d.objectives, r.designs[i].objectives));
    // Every design outside the front is dominated by (or equal to) one on it.
    for (std::size_t j = 0; j < r.designs.size(); ++j) {
      if (std::find(r.front.begin(), r.front.end(), j) != r.front.end()) continue;
      bool covered = false;
      for (auto i : r.front)
        covered = covered || (r.designs[i].objectives.array() <= r.designs[j].objectives.array()).all();
      CHECK(covered);
    }
    REQUIRE(r.hypervolume.size() == 16);
    for (std::size_t k = 1; k < r.hypervolume.size(); ++k) CHECK(r.hypervolume[k] >= r.hypervolume[k - 1]);
    CHECK(r.hypervolume.back() <= frame.hypervolume(truth) + 1e-12);
    CHECK(r.hypervolume.back() > 0);
    // The designs it evaluated cost exactly what the enumeration says (one cost model, one mapper).
    for (const auto& d : r.designs) {
      const auto same = std::find_if(truth.begin(), truth.end(), [&](const auto& t) { return t.x == d.x; });
      REQUIRE(same != truth.end());
      CHECK(same->objectives == d.objectives);
    }
  }
}

TEST_CASE("hasco_search: batches give the same designs on Kokkos::Serial and on the default host space") {
  const auto layers = small_cnn();
  const annealing_mapper mapper{.objective = mapping_objective::edp, .iterations = 50};
  const hasco_options o{.evaluations = 12, .initial_points = 4, .batch = 4, .seed = 2};
  const auto a = hasco_search(layers, mapper, o, std::nullopt, Kokkos::Serial{});
  const auto b = hasco_search(layers, mapper, o);
  REQUIRE(a.designs.size() == b.designs.size());
  for (std::size_t i = 0; i < a.designs.size(); ++i) {
    CHECK(a.designs[i].x == b.designs[i].x);
    CHECK(a.designs[i].objectives == b.designs[i].objectives);
  }
  CHECK(a.front == b.front);
}

TEST_CASE("separate_design: the hardware is searched under the default mapping, then its front re-mapped") {
  const auto layers = small_cnn();
  const annealing_mapper tuned{.objective = mapping_objective::edp, .iterations = 100};
  const hasco_options o{.evaluations = 14, .initial_points = 6, .seed = 3};
  const auto r = separate_design(layers, tuned, o);
  // The outer search saw default-mapping costs only.
  for (const auto& d : r.hardware_search.designs) {
    REQUIRE(d.cost.valid);
    const auto fixed = evaluate_design(d.hw, layers, default_mapper{});
    CHECK(d.cost.latency_s == fixed.latency_s);
    CHECK(d.cost.mappings == fixed.mappings);
  }
  REQUIRE(!r.chosen.empty());
  REQUIRE(r.tuned.size() == r.chosen.size());
  REQUIRE(r.designs.size() == 2 * r.chosen.size());
  for (std::size_t k = 0; k < r.chosen.size(); ++k) {
    const auto& picked = r.hardware_search.designs[r.chosen[k]];
    CHECK(r.tuned[k].x == picked.x);
    CHECK(r.tuned[k].cost.latency_s == evaluate_hardware_point(picked.x, layers, tuned, o).cost.latency_s);
    // Annealing starts from the default mapping and keeps its best, so no layer's energy-delay
    // product gets worse (the network's, a product of sums, need not follow).
    for (std::size_t j = 0; j < layers.size(); ++j) {
      const auto &t = r.tuned[k].cost.layer_costs[j], &d = picked.cost.layer_costs[j];
      CHECK(t.energy_j * t.latency_s <= d.energy_j * d.latency_s * (1 + 1e-12));
    }
  }
  for (auto i : r.front) CHECK(r.designs[i].feasible);
}

TEST_CASE("enumerate_designs: the exhaustive front on a tiny layer set agrees with brute force") {
  const auto layers = tiny_layers();
  const auto designs = enumerate_designs(layers, exhaustive_mapper{});
  const auto space = hardware_space();
  REQUIRE(designs.size() == *space.cardinality());
  // Brute force: every hardware point, every tile triple and order of every layer, the least
  // cycles kept (ties do not matter for latency), summed with the occurrence counts.
  std::vector<Eigen::Vector2d> brute;
  for (std::uint64_t i = 0; i < *space.cardinality(); ++i) {
    const auto hw = decode_hardware(space.enumerate(i));
    double cycles = 0, energy = 0;
    for (const auto& l : layers) {
      const auto w = lower_to_gemm(l);
      double best = std::numeric_limits<double>::infinity(), best_energy = 0;
      for (std::int64_t tm = 1; tm <= w.M; ++tm)
        for (std::int64_t tn = 1; tn <= w.N; ++tn)
          for (std::int64_t tk = 1; tk <= w.K; ++tk) {
            if (w.M % tm || w.N % tn || w.K % tk) continue;
            for (const auto& order : loop_orders) {
              const auto c = evaluate(w, hw, mapping{tm, tn, tk, order});
              if (c.valid && c.latency_s < best) {
                best = c.latency_s;
                best_energy = c.energy_j;
              }
            }
          }
      REQUIRE(std::isfinite(best));
      cycles += static_cast<double>(l.count) * best * hw.clock_hz;
      energy += static_cast<double>(l.count) * best_energy;
    }
    CHECK(designs[i].x == space.enumerate(i));
    CHECK(designs[i].cost.latency_s == doctest::Approx(cycles / hw.clock_hz).epsilon(1e-12));
    brute.emplace_back(cycles / hw.clock_hz, energy / (cycles / hw.clock_hz));
  }
  // The brute-force front by pairwise dominance, as a set of latencies.
  std::vector<double> brute_front, front;
  for (std::size_t i = 0; i < brute.size(); ++i) {
    bool dominated = false;
    for (std::size_t j = 0; j < brute.size() && !dominated; ++j)
      dominated = dominates(brute[j], brute[i]) || (j < i && brute[j] == brute[i]);
    if (!dominated) brute_front.push_back(brute[i](0));
  }
  for (auto i : feasible_front(designs)) front.push_back(designs[i].cost.latency_s);
  REQUIRE(front.size() == brute_front.size());
  std::sort(front.begin(), front.end());
  std::sort(brute_front.begin(), brute_front.end());
  for (std::size_t k = 0; k < front.size(); ++k) CHECK(front[k] == doctest::Approx(brute_front[k]).epsilon(1e-12));
}

TEST_CASE("hasco_search: 30 evaluations (10 initial, 20 EHVI) reach 5 % hypervolume regret, median of five seeds" *
          doctest::test_suite("quality")) {
  const auto layers = small_cnn();
  const annealing_mapper mapper{.objective = mapping_objective::edp, .iterations = 100};
  const auto truth = enumerate_designs(layers, mapper);
  const auto frame = hypervolume_frame::of(truth);
  std::vector<double> bayesian, few_random;
  for (std::uint64_t seed = 1; seed <= 5; ++seed) {
    const auto r = hasco_search(layers, mapper, {.seed = seed}, frame);
    bayesian.push_back(hypervolume_regret(r.designs, truth, frame));
    MESSAGE("seed ", seed, ": regret ", bayesian.back());
    const auto q = hasco_search(layers, mapper, {.evaluations = 5, .strategy = hasco_strategy::random, .seed = seed});
    few_random.push_back(hypervolume_regret(q.designs, truth, frame));
  }
  CHECK(median(bayesian) <= 0.05);
  // The threshold separates searches: five random points miss it.
  CHECK(median(few_random) > 0.05);
}

TEST_CASE("measured design points: costed on the analytical scale and fronted beside the analytical designs") {
  namespace search = frugal::search;
  const search::cost_constants k;
  search::measured_design_point fast{.name = "core A",
                                     .cycles = 2000,
                                     .clock_hz = 50e6,
                                     .macs = 1e4,
                                     .memory_accesses = 3e3,
                                     .memory_bytes = 4096,
                                     .multipliers = 8};
  const auto c = search::measured_cost(fast, k);
  CHECK(c.valid);
  CHECK(c.latency_s == doctest::Approx(4e-5));
  const double pj = 1e4 * k.mac_pj + 3e3 * k.sram_access_pj(4096);
  CHECK(c.energy_j == doctest::Approx(pj * 1e-12));
  CHECK(c.power_w == doctest::Approx(pj * 1e-12 / 4e-5));
  CHECK(c.area_mm2 == doctest::Approx((8 * k.mac_area_um2 + 4096 * k.sram_area_um2_per_byte) * 1e-6));
  // A slower core doing the same work at the same power is dominated.
  auto slow = fast;
  slow.name = "core B";
  slow.cycles = 4000;
  slow.macs = 2e4;
  slow.memory_accesses = 6e3;
  const std::vector<search::hasco_design> designs = {search::measured_hasco_design(slow),
                                                     search::measured_hasco_design(fast)};
  CHECK(designs[1].objectives.size() == 2);
  const auto front = search::feasible_front(designs);
  REQUIRE(front.size() == 1);
  CHECK(front[0] == 1);
  auto bad = fast;
  bad.clock_hz = 0;
  CHECK_THROWS_WITH_AS((void)search::measured_cost(bad), doctest::Contains("clock_hz"), frugal::invalid_argument);
  // Over the power budget: kept, but not feasible.
  search::hasco_options tight;
  tight.power_budget_w = c.power_w / 2;
  CHECK_FALSE(search::measured_hasco_design(fast, tight).feasible);
}
