#pragma once
/// \file
/// HASCO (Xiao et al., ISCA 2021) hardware/software co-design: an outer multi-objective search
/// over the accelerator's hardware parameters (`hardware_space()`), and for every hardware point
/// an inner search for the software mapping of each distinct layer (any `Mapper`; HASCO uses
/// Q-learning, `annealing_mapper` is the cheaper equivalent). docs/search-hasco.md describes the
/// method, the baselines and the measured figures.
///
/// - Objectives (all minimised): network latency and average power, optionally area too. Area is
///   known analytically before a design is evaluated, so the area budget is a constraint the
///   outer search never violates (`multi_objective_optimizer::set_constraint`); power is only
///   known after evaluation, so an over-budget design is told to the optimiser (it is
///   information about the landscape) but marked infeasible and left out of the front.
/// - The optimiser models the logarithm of each objective: latency spans two decades over the
///   space, and a Gaussian process with one length scale fits ratios better than differences.
/// - Hypervolumes are reported in a `hypervolume_frame`: each objective normalised by an ideal
///   and a nadir point, the reference at 1 + margin. Pass the frame of the exhaustive front
///   (`enumerate_designs`) to compare methods; the regret of a front is 1 − HV / HV_true.

#include <Eigen/Core>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <exception>
#include <limits>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "../core/error.hpp"
#include "../core/execution.hpp"
#include "../core/progress.hpp"
#include "../core/rng.hpp"
#include "accelerator.hpp"
#include "mapping.hpp"
#include "mobo.hpp"
#include "pareto.hpp"
#include "space.hpp"
#include "workloads.hpp"

namespace frugal::search {

/// Which design figures the co-design search minimises.
enum class hasco_objectives {
  latency_power,       ///< network latency (s) and average power (W)
  latency_power_area,  ///< and silicon area (mm^2)
};

/// How the outer (hardware) search picks points.
enum class hasco_strategy {
  bayesian,  ///< multi-objective Bayesian optimisation (EHVI by default), as HASCO
  random,    ///< distinct uniformly random admissible points (a baseline)
};

/// Options of `hasco_search` and `enumerate_designs`.
struct hasco_options {
  int evaluations = 30;     ///< hardware points evaluated (each: one inner mapping search per layer)
  int initial_points = 10;  ///< space-filling points before the models lead (HASCO: 10)
  int batch = 1;            ///< points asked for at once (`ask(q)`) and evaluated together
  hasco_objectives objectives = hasco_objectives::latency_power;
  hasco_strategy strategy = hasco_strategy::bayesian;
  mo_acquisition acquisition = mo_acquisition::ehvi;
  double area_budget_mm2 = std::numeric_limits<double>::infinity();  ///< never suggested above
  double power_budget_w = std::numeric_limits<double>::infinity();   ///< marked infeasible above
  std::uint64_t seed = 1;
  cost_constants constants{};
  progress_callback progress{};  ///< one event per evaluated design
};

/// One evaluated hardware point.
struct hasco_design {
  point x;                     ///< the point of hardware_space()
  hardware_config hw;          ///< decoded
  design_cost cost;            ///< latency, energy, power, area and the per-layer mappings
  Eigen::VectorXd objectives;  ///< the minimised figures, in the order of hasco_objectives
  bool feasible = false;       ///< valid, within the area and the power budget
};

/// The objective vector of a costed design.
inline Eigen::VectorXd design_objectives(const design_cost& cost, hasco_objectives which) {
  check(cost.valid, "frugal::search::design_objectives: the design is invalid (", cost.why_invalid, ")");
  Eigen::VectorXd y(which == hasco_objectives::latency_power ? 2 : 3);
  y(0) = cost.latency_s;
  y(1) = cost.power_w;
  if (y.size() == 3) y(2) = cost.area_mm2;
  return y;
}

/// Costs the hardware point `p` with `mapper` choosing each distinct layer's mapping, and marks it
/// feasible when every layer maps and it is within the options' budgets.
/// \throws invalid_argument when `p` is not a point of hardware_space() or `layers` is empty.
template <Mapper F>
hasco_design evaluate_hardware_point(const point& p, const std::vector<conv_layer>& layers, const F& mapper,
                                     const hasco_options& options = {}) {
  hasco_design d;
  d.x = p;
  d.hw = decode_hardware(p);
  d.cost = evaluate_design(d.hw, layers, mapper, options.constants);
  if (d.cost.valid) {
    d.objectives = design_objectives(d.cost, options.objectives);
    d.feasible = d.cost.area_mm2 <= options.area_budget_mm2 && d.cost.power_w <= options.power_budget_w;
  }
  return d;
}

namespace detail {

/// Indices of the non-dominated designs among those `keep` accepts, ascending.
template <class Keep>
std::vector<std::size_t> front_of(const std::vector<hasco_design>& designs, Keep keep) {
  std::vector<std::size_t> ok;
  for (std::size_t i = 0; i < designs.size(); ++i)
    if (keep(designs[i])) ok.push_back(i);
  if (ok.empty()) return {};
  Eigen::MatrixXd y(static_cast<index_t>(ok.size()), designs[ok.front()].objectives.size());
  for (std::size_t r = 0; r < ok.size(); ++r) {
    check(designs[ok[r]].objectives.size() == y.cols(),
          "frugal::search::feasible_front: designs with different numbers of objectives");
    y.row(static_cast<index_t>(r)) = designs[ok[r]].objectives.transpose();
  }
  std::vector<std::size_t> out;
  for (index_t i : pareto_indices(y)) out.push_back(ok[static_cast<std::size_t>(i)]);
  return out;
}

}  // namespace detail

/// Indices of the non-dominated feasible designs of `designs`, ascending.
inline std::vector<std::size_t> feasible_front(const std::vector<hasco_design>& designs) {
  return detail::front_of(designs, [](const hasco_design& d) { return d.feasible; });
}

/// A common frame for hypervolumes: objective j maps to (y_j − ideal_j) / (nadir_j − ideal_j)
/// (with `log_scale`, to (log y_j − log ideal_j) / (log nadir_j − log ideal_j)), the reference
/// point is 1 + margin in every objective. Points beyond the reference add nothing. The log scale
/// weighs a factor of two anywhere on the front equally; the linear one lets the large-latency
/// end of a front that spans decades dominate the volume.
struct hypervolume_frame {
  Eigen::VectorXd ideal, nadir;
  double margin = 0.1;
  bool log_scale = false;

  /// The frame spanned by the feasible front of `designs` (its best and worst value of each
  /// objective). \throws invalid_argument when no design is feasible.
  static hypervolume_frame of(const std::vector<hasco_design>& designs, double margin = 0.1, bool log_scale = false) {
    const auto front = feasible_front(designs);
    check(!front.empty(), "frugal::search::hypervolume_frame::of: no feasible design");
    hypervolume_frame f;
    f.ideal = f.nadir = designs[front.front()].objectives;
    for (auto i : front) {
      f.ideal = f.ideal.cwiseMin(designs[i].objectives);
      f.nadir = f.nadir.cwiseMax(designs[i].objectives);
    }
    f.margin = margin;
    f.log_scale = log_scale;
    return f;
  }

  /// Hypervolume of the feasible designs of `designs` in this frame.
  [[nodiscard]] double hypervolume(const std::vector<hasco_design>& designs) const {
    const auto front = feasible_front(designs);
    const auto m = ideal.size();
    check(m >= 2 && nadir.size() == m, "frugal::search::hypervolume_frame: ideal and nadir need 2 or 3 values, not ",
          ideal.size(), " and ", nadir.size());
    Eigen::MatrixXd y(static_cast<index_t>(front.size()), m);
    for (std::size_t r = 0; r < front.size(); ++r) {
      const auto& o = designs[front[r]].objectives;
      check(o.size() == m, "frugal::search::hypervolume_frame: a design has ", o.size(), " objectives, the frame ", m);
      const Eigen::ArrayXd v = log_scale ? o.array().log().eval() : o.array().eval();
      const Eigen::ArrayXd lo = log_scale ? ideal.array().log().eval() : ideal.array().eval();
      const Eigen::ArrayXd hi = log_scale ? nadir.array().log().eval() : nadir.array().eval();
      y.row(static_cast<index_t>(r)) = ((v - lo) / (hi - lo).max(1e-300)).matrix().transpose();
    }
    return search::hypervolume(y, Eigen::VectorXd::Constant(m, 1 + margin));
  }
};

/// 1 − HV(designs) / HV(truth), both in `frame` (usually the truth's own): 0 when the designs'
/// feasible front dominates as much as the true one.
inline double hypervolume_regret(const std::vector<hasco_design>& designs, const std::vector<hasco_design>& truth,
                                 const hypervolume_frame& frame) {
  const double best = frame.hypervolume(truth);
  check(best > 0, "frugal::search::hypervolume_regret: the true front has no hypervolume in the frame");
  return 1 - frame.hypervolume(designs) / best;
}

/// What a co-design search returns.
struct hasco_result {
  std::vector<hasco_design> designs;  ///< every evaluated design, in order
  std::vector<std::size_t> front;     ///< indices into `designs` of the feasible Pareto front
  std::vector<double> hypervolume;    ///< of the feasible front after each evaluation, in `frame`
  hypervolume_frame frame;            ///< the one given, else the run's own front's
};

namespace detail {

inline void check_hasco_options(const hasco_options& o, const char* who) {
  check(o.evaluations >= 1, who, ": evaluations = ", o.evaluations, "; must be positive");
  check(o.initial_points >= 1, who, ": initial_points = ", o.initial_points, "; must be positive");
  check(o.batch >= 1, who, ": batch = ", o.batch, "; must be positive");
  check(o.area_budget_mm2 > 0, who, ": area_budget_mm2 = ", o.area_budget_mm2, "; must be positive");
  check(o.power_budget_w > 0, who, ": power_budget_w = ", o.power_budget_w, "; must be positive");
}

/// Evaluates `points` in parallel on `exec` (each design is a pure function of its point, so the
/// mapper must be callable concurrently). An exception in one evaluation is caught there, since it
/// may not leave a parallel region, and the first (by index) is rethrown after the loop.
template <Mapper F, HostExecutionSpace Exec>
std::vector<hasco_design> evaluate_points(const std::vector<point>& points, const std::vector<conv_layer>& layers,
                                          const F& mapper, const hasco_options& o, const Exec& exec) {
  std::vector<hasco_design> out(points.size());
  std::vector<std::exception_ptr> failures(points.size());
  parallel_for("frugal::search::evaluate_designs", exec, static_cast<index_t>(points.size()), [&](index_t i) {
    const auto k = static_cast<std::size_t>(i);
    try {
      out[k] = evaluate_hardware_point(points[k], layers, mapper, o);
    } catch (...) {
      failures[k] = std::current_exception();
    }
  });
  for (auto& f : failures)
    if (f) std::rethrow_exception(f);
  return out;
}

}  // namespace detail

/// Every point of hardware_space() within the area budget, costed with `mapper`: the ground
/// truth the searches are measured against (1,728 points at most).
template <Mapper F, HostExecutionSpace Exec = default_host_space>
std::vector<hasco_design> enumerate_designs(const std::vector<conv_layer>& layers, const F& mapper,
                                            const hasco_options& options = {}, const Exec& exec = Exec{}) {
  constexpr auto who = "frugal::search::enumerate_designs";
  detail::check_hasco_options(options, who);
  check(!layers.empty(), who, ": no layers");
  const auto space = hardware_space();
  const auto n = *space.cardinality();
  std::vector<point> points;
  for (std::uint64_t i = 0; i < n; ++i) {
    auto p = space.enumerate(i);
    if (accelerator_area_mm2(decode_hardware(p), options.constants) <= options.area_budget_mm2)
      points.push_back(std::move(p));
  }
  std::vector<hasco_design> out;
  for (std::size_t begin = 0; begin < points.size(); begin += 64) {
    const std::vector<point> chunk(points.begin() + static_cast<std::ptrdiff_t>(begin),
                                   points.begin() + static_cast<std::ptrdiff_t>(std::min(points.size(), begin + 64)));
    auto designs = detail::evaluate_points(chunk, layers, mapper, options, exec);
    for (auto& d : designs) out.push_back(std::move(d));
    report(options.progress,
           {"enumerate hardware", static_cast<std::int64_t>(out.size()), static_cast<std::int64_t>(points.size()), {}});
  }
  return out;
}

/// HASCO's co-design loop: `options.evaluations` hardware points chosen by the outer strategy
/// (never above the area budget), each costed with `mapper` searching every distinct layer's
/// mapping. Evaluations come in batches of `options.batch`; with EHVI a batch is chosen by the
/// Kriging believer (see multi_objective_optimizer::ask).
/// \param frame the frame of the reported hypervolumes; without one, the run's own final front's.
/// \returns every evaluated design, the feasible front and the hypervolume after each evaluation.
/// \throws invalid_argument for bad options or empty layers; error when the area budget leaves
///         fewer admissible points than evaluations.
/// Progress: one event per design, phase "hasco evaluation", with latency, power, area, feasible.
template <Mapper F, HostExecutionSpace Exec = default_host_space>
hasco_result hasco_search(const std::vector<conv_layer>& layers, const F& mapper, const hasco_options& options = {},
                          std::optional<hypervolume_frame> frame = std::nullopt, const Exec& exec = Exec{}) {
  constexpr auto who = "frugal::search::hasco_search";
  detail::check_hasco_options(options, who);
  check(!layers.empty(), who, ": no layers");
  const auto space = hardware_space();
  const auto constants = options.constants;
  const double budget = options.area_budget_mm2;
  auto admissible_area = [constants, budget](const point& p) {
    return accelerator_area_mm2(decode_hardware(p), constants) <= budget;
  };
  std::uint64_t admissible = 0;
  for (std::uint64_t i = 0; i < *space.cardinality(); ++i) admissible += admissible_area(space.enumerate(i)) ? 1 : 0;
  check(admissible >= static_cast<std::uint64_t>(options.evaluations), who, ": the area budget of ", budget,
        " mm^2 admits ", admissible, " hardware points, fewer than the ", options.evaluations, " evaluations asked");

  const int m = options.objectives == hasco_objectives::latency_power ? 2 : 3;
  std::optional<basic_multi_objective_optimizer<Exec>> optimiser;
  if (options.strategy == hasco_strategy::bayesian) {
    optimiser.emplace(
        space, m,
        mo_options{.initial_points = options.initial_points, .seed = options.seed, .acquisition = options.acquisition},
        exec);
    optimiser->set_constraint(admissible_area);
  }
  rng gen(options.seed);
  std::set<point> seen;

  hasco_result result;
  while (static_cast<int>(result.designs.size()) < options.evaluations) {
    const int q = std::min(options.batch, options.evaluations - static_cast<int>(result.designs.size()));
    std::vector<point> batch;
    if (optimiser) {
      batch = optimiser->ask(q);
    } else {
      while (static_cast<int>(batch.size()) < q) {
        point p = space.sample(gen);
        if (admissible_area(p) && seen.insert(p).second) batch.push_back(std::move(p));
      }
    }
    auto designs = detail::evaluate_points(batch, layers, mapper, options, exec);
    for (auto& d : designs) {
      if (optimiser) {
        if (d.cost.valid)
          optimiser->tell(d.x, d.objectives.array().log().matrix());
        else
          optimiser->tell_failed(d.x);
      }
      result.designs.push_back(std::move(d));
      const auto& last = result.designs.back();
      const metric figures[] = {{"latency_s", last.cost.latency_s},
                                {"power_w", last.cost.power_w},
                                {"area_mm2", last.cost.area_mm2},
                                {"feasible", last.feasible ? 1.0 : 0.0}};
      report(options.progress,
             {"hasco evaluation", static_cast<std::int64_t>(result.designs.size()), options.evaluations, figures});
    }
  }

  result.front = feasible_front(result.designs);
  if (frame) {
    result.frame = *frame;
  } else if (!result.front.empty()) {
    result.frame = hypervolume_frame::of(result.designs);
  }
  if (result.frame.ideal.size() > 0) {
    std::vector<hasco_design> prefix;
    for (const auto& d : result.designs) {
      prefix.push_back(d);
      result.hypervolume.push_back(result.frame.hypervolume(prefix));
    }
  } else {
    result.hypervolume.assign(result.designs.size(), 0.0);  // nothing feasible: no volume
  }
  return result;
}

/// The "separate design" baseline: the hardware chosen first, by the same outer search under a
/// fixed software mapping (`default_mapper`), then the software tuned afterwards with
/// `tuned_mapper` on the hardware that search picked: the Pareto front of its valid designs, over
/// the power budget or not (tuning may bring a design under it; the feasible front is a subset,
/// since a design that dominates a feasible one is feasible too).
struct separate_design_result {
  hasco_result hardware_search;       ///< the outer search under default_mapping
  std::vector<std::size_t> chosen;    ///< indices into hardware_search.designs of the hardware picked
  std::vector<hasco_design> tuned;    ///< the chosen designs re-mapped with the tuned mapper
  std::vector<hasco_design> designs;  ///< the final candidates: the chosen designs, default and tuned
  std::vector<std::size_t> front;     ///< indices into `designs` of their feasible Pareto front
};

/// Runs the separate-design baseline with the same options (budget, seed, strategy) as the
/// co-design search it is compared with. A tuned design may draw more power than its default
/// mapping and leave the power budget; both mappings stay candidates, so the baseline keeps the
/// better one that is feasible.
template <Mapper F, HostExecutionSpace Exec = default_host_space>
separate_design_result separate_design(const std::vector<conv_layer>& layers, const F& tuned_mapper,
                                       const hasco_options& options = {},
                                       std::optional<hypervolume_frame> frame = std::nullopt,
                                       const Exec& exec = Exec{}) {
  separate_design_result r;
  r.hardware_search = hasco_search(layers, default_mapper{}, options, frame, exec);
  r.chosen = detail::front_of(r.hardware_search.designs, [](const hasco_design& d) { return d.cost.valid; });
  std::vector<point> points;
  for (auto i : r.chosen) points.push_back(r.hardware_search.designs[i].x);
  r.tuned = detail::evaluate_points(points, layers, tuned_mapper, options, exec);
  for (auto i : r.chosen) r.designs.push_back(r.hardware_search.designs[i]);
  for (const auto& d : r.tuned) r.designs.push_back(d);
  r.front = feasible_front(r.designs);
  return r;
}

/// The lowest latency among the feasible designs of `designs` with area at most `area_mm2` and
/// power at most `power_w`, or nothing when none qualifies.
inline std::optional<double> best_latency_within(const std::vector<hasco_design>& designs, double area_mm2,
                                                 double power_w) {
  std::optional<double> best;
  for (const auto& d : designs)
    if (d.feasible && d.cost.area_mm2 <= area_mm2 && d.cost.power_w <= power_w)
      best = std::min(best.value_or(std::numeric_limits<double>::infinity()), d.cost.latency_s);
  return best;
}

}  // namespace frugal::search
