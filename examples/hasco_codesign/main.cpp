// HASCO in miniature: hardware/software co-design of a GEMM accelerator for ResNet-50 and
// MobileNet-V2 on the analytical cost model of frugal::search. For each network it
//
//   1. enumerates all 1,728 hardware points with the inner mapping search (the ground truth front),
//   2. runs, per seed and at the same budget of evaluated hardware points, the co-design search
//      (multi-objective BO: 10 space-filling points, then EHVI), random search, NSGA-II (pagmo,
//      when built with it) and the separate-design flow (hardware searched under the fixed default
//      mapping, software tuned afterwards on the hardware it picked), and prints each method's
//      hypervolume regret against the truth, per seed and the median,
//   3. for several area and power budgets, compares the best latency co-design finds within the
//      budget with the separate-design flow's after tuning.
//
// Objectives: latency and average power, minimised; area is a constraint. CSVs go to --out, plot.py
// draws the fronts and the regret curves.
//
//   hasco_codesign              both networks, 5 seeds, 30 evaluations (a few minutes)
//   hasco_codesign --quick      fewer seeds, budgets and mapping proposals (under a minute)
#include <CLI/CLI.hpp>
#include <Kokkos_Core.hpp>
#include <frugal/search/hasco.hpp>

#ifdef FRUGAL_EXAMPLE_WITH_PAGMO
#include <pagmo/algorithms/nsga2.hpp>
#include <pagmo/population.hpp>
#include <pagmo/problem.hpp>
#endif

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "../common/stats.hpp"

namespace search = frugal::search;
using frugal::examples::median;
using search::hasco_design;

namespace {

struct settings {
  std::vector<std::string> networks = {"resnet50", "mobilenet_v2"};
  int seeds = 5;
  int evaluations = 30;
  int initial = 10;
  int batch = 1;
  std::string mapper = "annealing";  // or q-learning
  std::string mapper_objective = "edp";
  int mapper_steps = 300;                              // annealing proposals or Q-learning episodes per layer
  std::vector<double> area_budgets = {0.5, 1.0, 2.0};  // mm^2
  std::vector<double> power_budgets = {0.2, 0.5, 0};   // W; 0: none
  std::string out_dir = "hasco_out";
  bool quick = false;
  bool progress = true;
};

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

search::mapping_objective parse_objective(const std::string& s) {
  if (s == "latency") return search::mapping_objective::latency;
  if (s == "energy") return search::mapping_objective::energy;
  if (s == "edp") return search::mapping_objective::edp;
  throw CLI::ValidationError("--mapper-objective", "'" + s + "' is not latency, energy or edp");
}

/// The tuned mapper as one callable type, whichever search the command line picked.
struct tuned_mapper {
  std::string kind;
  search::mapping_objective objective;
  int steps;
  [[nodiscard]] search::mapping operator()(const search::gemm_workload& w, const search::hardware_config& hw) const {
    if (kind == "q-learning") return search::q_learning_mapper{objective, steps}(w, hw);
    return search::annealing_mapper{objective, steps}(w, hw);
  }
};

/// One method's designs in evaluation order, and its regrets against the truth.
struct method_run {
  std::string method;
  std::uint64_t seed = 0;
  std::vector<hasco_design> designs;
  std::vector<double> regret_trace;  // after each evaluation (linear frame); empty for separate
  double regret = 0, log_regret = 0;
};

std::vector<double> regret_trace(const std::vector<hasco_design>& designs, const std::vector<hasco_design>& truth,
                                 const search::hypervolume_frame& frame) {
  std::vector<double> out;
  std::vector<hasco_design> prefix;
  for (const auto& d : designs) {
    prefix.push_back(d);
    out.push_back(search::hypervolume_regret(prefix, truth, frame));
  }
  return out;
}

#ifdef FRUGAL_EXAMPLE_WITH_PAGMO
/// hardware_space() as a pagmo problem: one integer gene per dimension (the index of its value),
/// objectives log latency and log power. Over-area points get a penalty that grows with the
/// excess and are not counted (their area is known without evaluating them, as the BO's
/// constraint knows it); the first `budget` distinct admissible points are recorded in order.
struct nsga_recorder {
  std::vector<hasco_design> designs;
  std::map<search::point, Eigen::VectorXd> cache;
};

struct hardware_problem {
  std::shared_ptr<nsga_recorder> recorder;
  std::shared_ptr<const std::vector<search::conv_layer>> layers;
  tuned_mapper mapper;
  search::hasco_options options;
  std::size_t budget = 30;

  [[nodiscard]] search::point to_point(const pagmo::vector_double& x) const {
    const auto space = search::hardware_space();
    search::point p(x.size());
    for (std::size_t j = 0; j < x.size(); ++j) {
      const auto& dim = space[j];
      const auto i = static_cast<std::size_t>(std::lround(x[j]));
      p[j] = dim.kind == search::dimension_kind::ordinal ? dim.values[i] : static_cast<double>(i);
    }
    return p;
  }
  [[nodiscard]] pagmo::vector_double fitness(const pagmo::vector_double& x) const {
    const auto p = to_point(x);
    const double area = search::accelerator_area_mm2(search::decode_hardware(p), options.constants);
    if (area > options.area_budget_mm2) return {1e3 + area, 1e3 + area};
    auto hit = recorder->cache.find(p);
    if (hit == recorder->cache.end()) {
      auto d = search::evaluate_hardware_point(p, *layers, mapper, options);
      const Eigen::VectorXd y =
          d.cost.valid ? Eigen::VectorXd(d.objectives.array().log()) : Eigen::VectorXd::Constant(2, 1e3);
      hit = recorder->cache.emplace(p, y).first;
      if (recorder->designs.size() < budget) recorder->designs.push_back(std::move(d));
    }
    return {hit->second(0), hit->second(1)};
  }
  [[nodiscard]] pagmo::vector_double::size_type get_nobj() const { return 2; }
  [[nodiscard]] pagmo::vector_double::size_type get_nix() const { return 6; }
  [[nodiscard]] std::pair<pagmo::vector_double, pagmo::vector_double> get_bounds() const {
    const auto space = search::hardware_space();
    pagmo::vector_double lo, hi;
    for (std::size_t j = 0; j < space.size(); ++j) {
      const auto& dim = space[j];
      lo.push_back(0);
      hi.push_back(dim.kind == search::dimension_kind::ordinal ? static_cast<double>(dim.values.size() - 1)
                                                               : static_cast<double>(dim.categories - 1));
    }
    return {lo, hi};
  }
};

/// NSGA-II (population 8, the smallest pagmo allows above 4) until `budget` distinct admissible
/// designs have been evaluated; crossover 0.95, integer mutation rate 1/6 (one gene per child).
std::vector<hasco_design> run_nsga2(const std::vector<search::conv_layer>& layers, const tuned_mapper& mapper,
                                    const search::hasco_options& options, std::uint64_t seed) {
  auto recorder = std::make_shared<nsga_recorder>();
  hardware_problem hp{recorder, std::make_shared<const std::vector<search::conv_layer>>(layers), mapper, options,
                      static_cast<std::size_t>(options.evaluations)};
  pagmo::problem problem{hp};
  pagmo::population pop{problem, 8u, static_cast<unsigned>(seed)};
  pagmo::algorithm algo{pagmo::nsga2(1u, 0.95, 10., 1.0 / 6, 50., static_cast<unsigned>(seed))};
  for (int generation = 0; recorder->designs.size() < hp.budget && generation < 1000; ++generation)
    pop = algo.evolve(pop);
  if (recorder->designs.size() < hp.budget)
    std::fprintf(stderr, "NSGA-II seed %llu: only %zu distinct designs after 1000 generations\n",
                 static_cast<unsigned long long>(seed), recorder->designs.size());
  return recorder->designs;
}
#endif

/// The feasible front of `designs` by latency, at most `rows` of it (evenly spaced, both ends kept).
void print_front(const char* title, const std::vector<hasco_design>& designs, std::size_t rows = 16) {
  const auto front = search::feasible_front(designs);
  std::printf(
      "  %s: %zu designs on the front%s\n", title, front.size(),
      front.size() > rows ? (", " + std::to_string(rows) + " of them evenly spaced (all in the CSV)").c_str() : "");
  std::printf("    %10s %9s %9s  %-5s %-5s %-7s %-4s %-3s %-2s\n", "latency ms", "power W", "area mm2", "pe_x", "pe_y",
              "sp KiB", "pe B", "bw", "df");
  std::vector<std::size_t> order(front);
  std::sort(order.begin(), order.end(),
            [&](auto a, auto b) { return designs[a].cost.latency_s < designs[b].cost.latency_s; });
  for (std::size_t r = 0; r < std::min(rows, order.size()); ++r) {
    const auto& d = designs[order[order.size() <= rows ? r : r * (order.size() - 1) / (rows - 1)]];
    std::printf("    %10.3f %9.4f %9.3f  %-5.0f %-5.0f %-7.0f %-4.0f %-3.0f %-2s\n", 1e3 * d.cost.latency_s,
                d.cost.power_w, d.cost.area_mm2, d.x[0], d.x[1], d.x[2], d.x[3], d.x[4], d.x[5] == 0 ? "WS" : "OS");
  }
}

}  // namespace

int main(int argc, char** argv) {
  // The searches and the enumeration cost designs in parallel on Kokkos' default host space
  // (threads: OMP_NUM_THREADS or --kokkos-num-threads in an OpenMP build).
  Kokkos::ScopeGuard kokkos(argc, argv);
  settings s;
  CLI::App app{"HASCO hardware/software co-design on the frugal accelerator cost model"};
  app.add_option("--networks", s.networks, "resnet50, mobilenet_v2")
      ->check(CLI::IsMember({"resnet50", "mobilenet_v2"}));
  app.add_option("--seeds", s.seeds, "seeds per method")->check(CLI::Range(1, 1000));
  app.add_option("--evaluations", s.evaluations, "hardware points each method evaluates")->check(CLI::Range(2, 1728));
  app.add_option("--initial", s.initial, "space-filling points before EHVI")->check(CLI::Range(1, 1728));
  app.add_option("--batch", s.batch, "points per ask (Kriging believer)")->check(CLI::Range(1, 64));
  app.add_option("--mapper", s.mapper, "inner mapping search")->check(CLI::IsMember({"annealing", "q-learning"}));
  app.add_option("--mapper-objective", s.mapper_objective, "latency, energy or edp");
  app.add_option("--mapper-steps", s.mapper_steps, "annealing proposals / Q-learning episodes per layer")
      ->check(CLI::Range(1, 100000));
  app.add_option("--area-budgets", s.area_budgets, "mm^2, for the co-design vs separate-design table")
      ->check(CLI::PositiveNumber);
  app.add_option("--power-budgets", s.power_budgets, "W (0: no power budget), for the same table")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--out", s.out_dir, "folder for the CSVs");
  app.add_flag("--quick", s.quick, "2 seeds, 100 mapping steps, 2 x 2 budgets: a smoke run");
  bool no_progress = false;
  app.add_flag("--no-progress", no_progress, "no per-evaluation lines");
  CLI11_PARSE(app, argc, argv);
  s.progress = !no_progress;
  const auto objective = parse_objective(s.mapper_objective);
  if (s.quick) {
    s.seeds = std::min(s.seeds, 2);
    s.mapper_steps = std::min(s.mapper_steps, 100);
    s.area_budgets = {0.5, 2.0};
    s.power_budgets = {0.2, 0};
  }
  if (s.initial > s.evaluations) {
    std::fprintf(stderr, "--initial %d exceeds --evaluations %d\n", s.initial, s.evaluations);
    return 2;
  }
  std::filesystem::create_directories(s.out_dir);
  const auto t_start = std::chrono::steady_clock::now();
  const tuned_mapper mapper{s.mapper, objective, s.mapper_steps};

  std::ofstream designs_csv(std::filesystem::path(s.out_dir) / "hasco_codesign.csv");
  designs_csv << "network,method,seed,evaluation,latency_s,power_w,area_mm2,feasible,on_front,regret\n";
  std::ofstream regret_csv(std::filesystem::path(s.out_dir) / "hasco_regret.csv");
  regret_csv << "network,method,seed,regret,log_regret\n";
  std::ofstream budget_csv(std::filesystem::path(s.out_dir) / "hasco_budgets.csv");
  budget_csv << "network,area_budget_mm2,power_budget_w,seed,codesign_latency_s,separate_latency_s\n";
  auto write_designs = [&](const std::string& network, const std::string& method, std::uint64_t seed,
                           const std::vector<hasco_design>& designs, const std::vector<double>& trace) {
    const auto front = search::feasible_front(designs);
    for (std::size_t i = 0; i < designs.size(); ++i) {
      const auto& d = designs[i];
      designs_csv << network << ',' << method << ',' << seed << ',' << i + 1 << ',' << d.cost.latency_s << ','
                  << d.cost.power_w << ',' << d.cost.area_mm2 << ',' << d.feasible << ','
                  << (std::find(front.begin(), front.end(), i) != front.end()) << ','
                  << (i < trace.size() ? std::to_string(trace[i]) : "") << '\n';
    }
  };

  std::printf(
      "HASCO co-design: objectives latency and power (minimised), %d evaluations per method, %d seeds; "
      "inner mapping search: %s, %s, %d steps per layer\n",
      s.evaluations, s.seeds, s.mapper.c_str(), s.mapper_objective.c_str(), s.mapper_steps);
#ifndef FRUGAL_EXAMPLE_WITH_PAGMO
  std::printf("NSGA-II baseline skipped: built without pagmo (apt-get install libpagmo-dev and reconfigure)\n");
#endif

  for (const auto& network : s.networks) {
    const auto layers = network == "resnet50" ? search::resnet50_layers() : search::mobilenet_v2_layers();
    std::printf("\n=== %s: %zu distinct layers, %.3g GMACs ===\n", network.c_str(), layers.size(),
                search::total_macs(layers) / 1e9);
    search::hasco_options base{.evaluations = s.evaluations, .initial_points = s.initial, .batch = s.batch};

    // 1. Ground truth.
    auto t0 = std::chrono::steady_clock::now();
    const auto truth = search::enumerate_designs(layers, mapper, base);
    const auto frame = search::hypervolume_frame::of(truth);
    const auto log_frame = search::hypervolume_frame::of(truth, 0.1, true);
    std::printf("exhaustive: %zu hardware points costed in %.1f s; the true front has %zu designs\n", truth.size(),
                seconds_since(t0), search::feasible_front(truth).size());
    write_designs(network, "exhaustive", 0, truth, {});
    print_front("true front (latency vs power; area is the third column)", truth);

    // 2. Methods at the same budget, per seed.
    std::map<std::string, std::vector<method_run>> runs;
    for (int k = 0; k < s.seeds; ++k) {
      const auto seed = static_cast<std::uint64_t>(k + 1);
      auto o = base;
      o.seed = seed;
      if (s.progress)
        o.progress = [&](const frugal::progress_event& e) {
          if (e.phase != "hasco evaluation") return;
          std::printf("  [%s seed %llu] evaluation %2lld/%lld: latency %8.3f ms  power %.4f W  area %.3f mm2%s\n",
                      network.c_str(), static_cast<unsigned long long>(seed), static_cast<long long>(e.done),
                      static_cast<long long>(e.total), 1e3 * e.metrics[0].value, e.metrics[1].value, e.metrics[2].value,
                      e.metrics[3].value > 0 ? "" : "  (over budget)");
        };
      t0 = std::chrono::steady_clock::now();
      const auto co = search::hasco_search(layers, mapper, o, frame);
      const double co_seconds = seconds_since(t0);
      o.progress = {};
      std::vector<method_run> seed_runs;
      seed_runs.push_back({"hasco-mobo", seed, co.designs, {}, 0, 0});
      auto r = o;
      r.strategy = search::hasco_strategy::random;
      seed_runs.push_back({"random", seed, search::hasco_search(layers, mapper, r, frame).designs, {}, 0, 0});
#ifdef FRUGAL_EXAMPLE_WITH_PAGMO
      seed_runs.push_back({"nsga2", seed, run_nsga2(layers, mapper, o, seed), {}, 0, 0});
#endif
      const auto sep = search::separate_design(layers, mapper, o);
      seed_runs.push_back({"separate", seed, sep.designs, {}, 0, 0});
      std::printf("  seed %llu (co-design search %.1f s):", static_cast<unsigned long long>(seed), co_seconds);
      for (auto& m : seed_runs) {
        if (m.method != "separate") m.regret_trace = regret_trace(m.designs, truth, frame);
        m.regret = search::hypervolume_regret(m.designs, truth, frame);
        m.log_regret = search::hypervolume_regret(m.designs, truth, log_frame);
        std::printf("  %s %.4f (log %.4f)", m.method.c_str(), m.regret, m.log_regret);
        write_designs(network, m.method, seed, m.designs, m.regret_trace);
        regret_csv << network << ',' << m.method << ',' << seed << ',' << m.regret << ',' << m.log_regret << '\n';
        runs[m.method].push_back(std::move(m));
      }
      std::printf("\n");
      if (k == 0) {
        print_front("co-design front, seed 1", co.designs);
        print_front("separate design front after tuning, seed 1", sep.designs);
      }
    }
    std::printf(
        "\nhypervolume regret vs the exhaustive front after %d evaluations (1 - HV/HV_true; frame: the true "
        "front's ideal and nadir, reference 1.1; 'log': the same in log objectives)\n",
        s.evaluations);
    std::printf("  %-11s %-40s %8s %8s\n", "method", "per seed", "median", "log med");
    for (const auto& [method, list] : runs) {
      std::vector<double> reg, lreg;
      std::string per_seed;
      for (const auto& m : list) {
        reg.push_back(m.regret);
        lreg.push_back(m.log_regret);
        char buf[16];
        std::snprintf(buf, sizeof buf, "%.4f ", m.regret);
        per_seed += buf;
      }
      std::printf("  %-11s %-40s %8.4f %8.4f\n", method.c_str(), per_seed.c_str(), median(reg), median(lreg));
    }

    // 3. Co-design against separate design within area and power budgets.
    std::printf(
        "\nbest latency within budget, co-design vs separate design (hardware under the default mapping, "
        "then software tuned), median over %d seeds; 'truth': the exhaustive best with the tuned and with the "
        "default mapping\n",
        s.seeds);
    std::printf("  %8s %8s  %12s %12s %7s  %12s %12s %7s\n", "area mm2", "power W", "co-design ms", "separate ms",
                "ratio", "truth ms", "default ms", "ratio");
    for (double area : s.area_budgets)
      for (double power : s.power_budgets) {
        auto o = base;
        o.area_budget_mm2 = area;
        o.power_budget_w = power > 0 ? power : std::numeric_limits<double>::infinity();
        std::vector<double> co_lat, sep_lat, ratios;
        bool possible = true;
        try {
          for (int k = 0; k < s.seeds; ++k) {
            o.seed = static_cast<std::uint64_t>(k + 1);
            const auto co = search::hasco_search(layers, mapper, o);
            const auto sep = search::separate_design(layers, mapper, o);
            const auto c = search::best_latency_within(co.designs, area, o.power_budget_w);
            const auto p = search::best_latency_within(sep.designs, area, o.power_budget_w);
            budget_csv << network << ',' << area << ',' << power << ',' << o.seed << ','
                       << (c ? std::to_string(*c) : "") << ',' << (p ? std::to_string(*p) : "") << '\n';
            co_lat.push_back(c.value_or(std::numeric_limits<double>::infinity()));
            sep_lat.push_back(p.value_or(std::numeric_limits<double>::infinity()));
            ratios.push_back(sep_lat.back() / co_lat.back());
          }
        } catch (const frugal::error& e) {  // too tight a budget for the evaluations asked
          possible = false;
          std::printf("  %8.2f %8s  %s\n", area, power > 0 ? std::to_string(power).substr(0, 4).c_str() : "-",
                      e.what());
        }
        if (!possible) continue;
        const auto truth_best = search::best_latency_within(truth, area, o.power_budget_w);
        auto d = o;
        const auto default_truth = search::enumerate_designs(layers, search::default_mapper{}, d);
        const auto default_best = search::best_latency_within(default_truth, area, o.power_budget_w);
        auto ms = [](double v) { return std::isfinite(v) ? 1e3 * v : std::numeric_limits<double>::infinity(); };
        std::printf("  %8.2f %8s  %12.3f %12.3f %6.2fx  %12.3f %12.3f %6.2fx\n", area,
                    power > 0 ? std::to_string(power).substr(0, 4).c_str() : "-", ms(median(co_lat)),
                    ms(median(sep_lat)), median(ratios), ms(truth_best.value_or(INFINITY)),
                    ms(default_best.value_or(INFINITY)),
                    default_best.value_or(INFINITY) / truth_best.value_or(INFINITY));
      }
  }
  std::printf("\nwrote %s/hasco_codesign.csv, hasco_regret.csv, hasco_budgets.csv in %.1f s\n", s.out_dir.c_str(),
              seconds_since(t_start));
#ifdef FRUGAL_PLOT_SCRIPT
  std::printf("draw it with: python3 %s %s\n", FRUGAL_PLOT_SCRIPT,
              (std::filesystem::path(s.out_dir) / "hasco_codesign.csv").c_str());
#endif
  return 0;
}
