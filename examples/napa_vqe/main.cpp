// NAPA in miniature: VQE for H2 (STO-3G, 2-qubit parity-reduced) on a simulated two-transmon
// device (IBM manila's qubits 0 and 1 by default, or a backend configuration), with the gate-level
// hardware-efficient ansatz compiled to pulses calibrated in simulation (the baseline) against the
// native-pulse ansatz grown layer by layer, each trained with a derivative-free optimiser (as on
// hardware) and with exact pulse gradients (which only a simulator has). Reports energy errors
// and schedule durations along the dissociation curve, closed and with T1/T2. `--task jw` runs the
// 4-qubit Jordan-Wigner H2 on four transmons and `--task maxcut` QAOA MaxCut on three, each with
// the compiled gate circuit against the native-pulse ansatz.
#include <CLI/CLI.hpp>
#include <frugal/quantum/backend_properties.hpp>
#include <frugal/quantum/molecules.hpp>
#include <frugal/quantum/pulse.hpp>
#include <frugal/quantum/pulse/configuration.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <complex>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <numbers>
#include <string>
#include <utility>
#include <vector>

namespace p = frugal::quantum::pulse;
namespace q = frugal::quantum;

namespace {

struct settings {
  std::string out_dir = "napa_vqe_out";
  std::string configuration;  // empty: the built-in manila pair
  std::string properties;     // T1/T2 for a configuration; the built-in device has its own
  std::vector<int> qubits = {0, 1};
  std::vector<double> bonds = {0.5, 0.735, 1.0, 1.5, 2.0, 2.5};
  std::string optimizer = "nelder-mead";
  std::string gradient_optimizer = "lbfgs";
  int evaluations = 1500;
  int gradient_evaluations = 300;
  int max_layers = 6;
  std::uint64_t seed = 1;
  bool quick = false;
  bool progress = true;
  std::vector<std::string> tasks = {"h2"};
  std::vector<double> jw_bonds = {0.735, 1.5};
  int jw_reps = 2;
  int jw_levels = 2;
  std::vector<int> qaoa_layers = {1, 2};
};

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

using clock_point = std::chrono::steady_clock::time_point;

// A training that NLopt ended with a failure still returns its best point; the tables say so.
const char* stop_note(const p::vqe_result& v) {
  return v.stop == p::stop_reason::solver_failure ? "  (optimiser failed; best point kept)" : "";
}

// The device of `n` transmons: manila's first n by default, or qubits 0 … n−1 of --configuration
// (with --properties for T1/T2); `open` keeps T1/T2.
p::device_model chain_device(const settings& cfg, int n, int levels, bool open) {
  if (cfg.configuration.empty()) return p::default_device(n, levels, open);
  std::vector<int> qubits;
  for (int i = 0; i < n; ++i) qubits.push_back(i);
  p::device_model d = p::read_backend_configuration(cfg.configuration, qubits, levels);
  if (open && !cfg.properties.empty()) p::set_decoherence(d, q::read_backend_properties(cfg.properties), qubits);
  if (!open)
    for (auto& t : d.transmons) t.t1_ns = t.t2_ns = 0;
  return d;
}

// Calibration as every task runs it: one CR duration and short refinements with --quick, a line
// per step with progress.
p::calibration_options calibration_settings(const settings& cfg, clock_point t0) {
  p::calibration_options co;
  if (cfg.quick) {
    co.cr_durations = {448};
    co.max_evaluations = 150;
  }
  if (cfg.progress)
    co.progress = [t0](const std::string& s) {
      std::printf("  [%6.1f s] %s\n", seconds_since(t0), s.c_str());
      std::fflush(stdout);
    };
  return co;
}

p::gate_table calibrate_with_progress(const settings& cfg, const p::device_model& dev, clock_point t0) {
  const p::gate_table table = p::calibrate(dev, calibration_settings(cfg, t0));
  for (const auto& cx : table.cx)
    std::printf("  CNOT(%d,%d): 2 x %d CR samples at amp %.4f, %d samples in all, fidelity %.6f\n", cx.control,
                cx.target, cx.cr.duration, cx.cr.amp, cx.duration, cx.fidelity);
  return table;
}

// H2 in its 4-qubit Jordan-Wigner form on four transmons: the compiled hardware-efficient circuit
// against the grown native-pulse ansatz, each trained derivative-free and with gradients.
int run_jordan_wigner(const settings& cfg, p::method slow, p::method fast, clock_point t0) {
  const int levels = cfg.jw_levels;
  const p::device_model dev = chain_device(cfg, 4, levels, false), open_dev = chain_device(cfg, 4, levels, true);
  std::printf("\n4-qubit Jordan-Wigner H2 on four transmons (%d levels each, chain 0-1-2-3)\n", levels);
  const p::gate_table table = calibrate_with_progress(cfg, dev, t0);
  const p::simulator sim(dev), sim_open(open_dev);
  const bool has_open = open_dev.transmons[0].t1_ns > 0;
  std::ofstream csv(std::filesystem::path(cfg.out_dir) / "napa_vqe_jw.csv");
  csv << "bond_angstrom,fci,ansatz,optimizer,error_mha,samples,layers,evaluations,open_error_mha\n";
  std::printf("%6s %11s | %-9s %-12s | %10s %7s %6s %6s | %s\n", "R (A)", "FCI (Ha)", "ansatz", "optimizer",
              "error mHa", "samples", "layers", "evals", "with T1/T2 (mHa)");
  const std::vector<double> bonds = cfg.quick ? std::vector<double>{0.735} : cfg.jw_bonds;
  const int max_layers = cfg.quick ? 2 : cfg.max_layers;
  for (const double r : bonds) {
    const auto h2 = q::h2_sto3g(r);
    const double exact = h2.fci - h2.nuclear_repulsion;
    const p::energy_objective open_energy(sim_open, h2.jordan_wigner, true);
    auto report = [&](const char* ansatz, const std::string& opt, const p::parametrized_schedule& a,
                      const p::vqe_result& v, int layers) {
      const double err = (v.energy - exact) * 1e3;
      const double open_err = has_open ? (open_energy.energy(a.bind(v.x)) - exact) * 1e3 : std::nan("");
      std::printf("%6.3f %11.6f | %-9s %-12s | %10.3f %7d %6d %6d | %.3f%s\n", r, h2.fci, ansatz, opt.c_str(), err,
                  v.duration, layers, v.evaluations, open_err, stop_note(v));
      std::fflush(stdout);
      csv << r << "," << h2.fci << "," << ansatz << "," << opt << "," << err << "," << v.duration << "," << layers
          << "," << v.evaluations << "," << open_err << std::endl;
    };
    const auto gate = p::gate_ansatz(dev, table, cfg.jw_reps);
    for (const auto m : {slow, fast}) {
      const bool grad = p::needs_gradient(m);
      const int budget = cfg.quick ? (grad ? 30 : 150) : (grad ? cfg.gradient_evaluations : cfg.evaluations);
      p::vqe_options vo{.optimizer = {.algorithm = m, .max_evaluations = budget, .seed = cfg.seed}};
      if (cfg.progress) std::printf("  [%6.1f s] R = %.3f: gate ansatz, %s\n", seconds_since(t0), r, p::to_string(m));
      const auto g = p::run_vqe(sim, h2.jordan_wigner, gate, vo);
      report("gate", p::to_string(m), gate, g, cfg.jw_reps);
      if (cfg.progress)
        std::printf("  [%6.1f s] R = %.3f: native ansatz, %s (growing)\n", seconds_since(t0), r, p::to_string(m));
      int layers = 0;
      const p::native_ansatz_options nopt{.seed = cfg.seed};
      const auto n = p::grow_native_vqe(sim, h2.jordan_wigner, table, max_layers, vo, nopt, 1e-4, -1e9, &layers);
      report("native", p::to_string(m), p::native_ansatz(dev, table, layers, nopt), n, layers);
    }
  }
  return 0;
}

// The ideal QAOA state's expected cut for (γ, β) on a small graph, by exact matrices.
double ideal_qaoa_cut(int n, const std::vector<std::pair<int, int>>& edges, const std::vector<double>& x) {
  const std::size_t dim = std::size_t{1} << n;
  q::cvector psi = q::cvector::Constant(static_cast<frugal::index_t>(dim), 1.0 / std::sqrt(double(dim)));
  auto cut = [&](std::size_t b) {
    int c = 0;
    for (const auto& [i, j] : edges) c += ((b >> i) & 1) != ((b >> j) & 1);
    return c;
  };
  for (std::size_t l = 0; l + 1 < x.size(); l += 2) {
    for (std::size_t b = 0; b < dim; ++b) psi(frugal::index_t(b)) *= std::polar(1.0, x[l] * cut(b));
    for (int qb = 0; qb < n; ++qb) {  // exp(−iβX) on qubit qb
      const std::complex<double> c = std::cos(x[l + 1]), s(0, -std::sin(x[l + 1]));
      for (std::size_t b = 0; b < dim; ++b)
        if (!((b >> qb) & 1)) {
          const auto a0 = psi(frugal::index_t(b)), a1 = psi(frugal::index_t(b | (std::size_t{1} << qb)));
          psi(frugal::index_t(b)) = c * a0 + s * a1;
          psi(frugal::index_t(b | (std::size_t{1} << qb))) = s * a0 + c * a1;
        }
    }
  }
  double e = 0;
  for (std::size_t b = 0; b < dim; ++b) e += std::norm(psi(frugal::index_t(b))) * cut(b);
  return e;
}

// QAOA MaxCut on three transmons: the QAOA circuit compiled to the calibrated pulses (p layers)
// against the native-pulse ansatz trained on the same cost Hamiltonian.
int run_maxcut(const settings& cfg, p::method slow, p::method fast, clock_point t0) {
  const int n = 3;
  const p::device_model dev = chain_device(cfg, n, 3, false);
  std::printf("\nQAOA MaxCut on three transmons (3 levels each, chain 0-1-2)\n");
  const p::gate_table table = calibrate_with_progress(cfg, dev, t0);
  const p::simulator sim(dev);
  std::ofstream csv(std::filesystem::path(cfg.out_dir) / "napa_vqe_maxcut.csv");
  csv << "graph,ansatz,optimizer,layers,expected_cut,max_cut,ratio,p_max_cut,leakage,samples,evaluations\n";
  struct graph {
    const char* name;
    std::vector<std::pair<int, int>> edges;
  };
  std::vector<graph> graphs = {{"triangle", {{0, 1}, {1, 2}, {0, 2}}}, {"path", {{0, 1}, {1, 2}}}};
  if (cfg.quick) graphs.resize(1);
  std::printf("%-9s | %-7s %-12s %6s | %9s %7s %8s %8s %7s %6s\n", "graph", "ansatz", "optimizer", "layers", "E[cut]",
              "ratio", "P(max)", "leakage", "samples", "evals");
  for (const auto& g : graphs) {
    const auto h = q::maxcut_hamiltonian(n, g.edges);
    int best_cut = 0;
    std::vector<std::size_t> best_strings;
    for (std::size_t b = 0; b < (std::size_t{1} << n); ++b) {
      int c = 0;
      for (const auto& [i, j] : g.edges) c += ((b >> i) & 1) != ((b >> j) & 1);
      if (c > best_cut) best_strings.clear();
      if (c >= best_cut) best_strings.push_back(b);
      best_cut = std::max(best_cut, c);
    }
    auto report = [&](const char* ansatz, const std::string& opt, const p::parametrized_schedule& a,
                      const p::vqe_result& v, int layers) {
      const q::cvector psi = sim.evolve(a.bind(v.x), sim.ground_state());
      const auto probs = p::bitstring_probabilities(dev, psi);
      double pmax = 0;
      for (const auto b : best_strings) pmax += probs[b];
      const double cut = -v.energy;
      std::printf("%-9s | %-7s %-12s %6d | %9.4f %7.4f %8.4f %8.1e %7d %6d%s\n", g.name, ansatz, opt.c_str(), layers,
                  cut, cut / best_cut, pmax, sim.leakage(psi), v.duration, v.evaluations, stop_note(v));
      std::fflush(stdout);
      csv << g.name << "," << ansatz << "," << opt << "," << layers << "," << cut << "," << best_cut << ","
          << cut / best_cut << "," << pmax << "," << sim.leakage(psi) << "," << v.duration << "," << v.evaluations
          << std::endl;
    };
    // The ideal circuit's optimum for p = 1 (a fine grid), the reference for the compiled one.
    {
      double best = 0;
      for (int i = 0; i <= 200; ++i)
        for (int k = 0; k <= 200; ++k)
          best = std::max(best, ideal_qaoa_cut(n, g.edges,
                                               {-std::numbers::pi + i * std::numbers::pi / 100,
                                                -std::numbers::pi / 2 + k * std::numbers::pi / 200}));
      std::printf("%-9s | ideal QAOA p=1 (exact gates): E[cut] %.4f, ratio %.4f; max cut %d\n", g.name, best,
                  best / best_cut, best_cut);
    }
    for (const auto m : {slow, fast}) {
      const bool grad = p::needs_gradient(m);
      const int budget = cfg.quick ? (grad ? 30 : 100) : (grad ? cfg.gradient_evaluations : cfg.evaluations);
      p::vqe_options vo{.optimizer = {.algorithm = m, .max_evaluations = budget, .seed = cfg.seed}};
      for (const int layers : cfg.quick ? std::vector<int>{1} : cfg.qaoa_layers) {
        if (cfg.progress)
          std::printf("  [%6.1f s] %s: QAOA p=%d, %s\n", seconds_since(t0), g.name, layers, p::to_string(m));
        const auto a = p::qaoa_ansatz(dev, table, g.edges, layers);
        report("qaoa", p::to_string(m), a, p::run_vqe(sim, h, a, vo), layers);
      }
      if (cfg.progress)
        std::printf("  [%6.1f s] %s: native ansatz, %s (growing)\n", seconds_since(t0), g.name, p::to_string(m));
      int layers = 0;
      const p::native_ansatz_options nopt{.seed = cfg.seed};
      const int max_layers = cfg.quick ? 2 : cfg.max_layers;
      const auto v = p::grow_native_vqe(sim, h, table, max_layers, vo, nopt, 1e-4, -best_cut + 1e-3, &layers);
      report("native", p::to_string(m), p::native_ansatz(dev, table, layers, nopt), v, layers);
    }
  }
  return 0;
}

struct run {
  double error_mha = 0;
  int duration = 0;
  int evaluations = 0;
  int layers = 0;
  double open_error_mha = std::nan("");
  std::vector<double> trace;
};

}  // namespace

int main(int argc, char** argv) {
  Kokkos::ScopeGuard kokkos(argc, argv);
  settings cfg;
  CLI::App app{"NAPA: native-pulse vs gate-level VQE for H2 on a simulated transmon pair"};
  app.add_option("--out", cfg.out_dir, "folder for the CSVs");
  app.add_option("--configuration", cfg.configuration,
                 "Qiskit backend configuration JSON (default: built-in manila pair)")
      ->check(CLI::ExistingFile);
  app.add_option("--properties", cfg.properties, "Qiskit BackendProperties JSON for T1/T2 of --configuration")
      ->check(CLI::ExistingFile);
  app.add_option("--qubits", cfg.qubits, "the two device qubits of --configuration")->expected(2);
  app.add_option("--bonds", cfg.bonds, "H2 bond lengths in angstrom");
  app.add_option("--optimizer", cfg.optimizer, "derivative-free optimiser: cobyla, nelder-mead, bobyqa, spsa");
  app.add_option("--gradient-optimizer", cfg.gradient_optimizer, "gradient optimiser: lbfgs, adam");
  app.add_option("--evaluations", cfg.evaluations, "energy evaluations per derivative-free training (per layer)");
  app.add_option("--gradient-evaluations", cfg.gradient_evaluations, "gradient evaluations per gradient training");
  app.add_option("--max-layers", cfg.max_layers, "most layers the native ansatz grows to");
  app.add_option("--seed", cfg.seed, "seed of the native ansatz's starting pulses and of SPSA");
  app.add_option("--task", cfg.tasks,
                 "what to run (repeatable): h2 (2-qubit H2 dissociation curve), jw (4-qubit Jordan-Wigner H2 on "
                 "four transmons), maxcut (QAOA MaxCut on three transmons)")
      ->check(CLI::IsMember({"h2", "jw", "maxcut"}));
  app.add_option("--jw-bonds", cfg.jw_bonds, "bond lengths of --task jw (angstrom)");
  app.add_option("--jw-reps", cfg.jw_reps, "RY + CNOT-chain repetitions of the gate ansatz of --task jw");
  app.add_option("--jw-levels", cfg.jw_levels, "levels per transmon of --task jw (2 or 3)")->check(CLI::Range(2, 3));
  app.add_option("--qaoa-layers", cfg.qaoa_layers, "QAOA depths p of --task maxcut");
  app.add_flag("--quick", cfg.quick, "one bond length, short trainings, one CR duration (for ctest)");
  app.add_flag("!--no-progress", cfg.progress, "no progress lines");
  CLI11_PARSE(app, argc, argv);
  try {
    const auto t0 = std::chrono::steady_clock::now();
    const p::method slow = p::parse_method(cfg.optimizer), fast = p::parse_method(cfg.gradient_optimizer);
    frugal::check(!p::needs_gradient(slow) && p::needs_gradient(fast),
                  "--optimizer must be derivative-free and --gradient-optimizer gradient-based");
    if (cfg.quick) {
      cfg.bonds = {0.735};
      cfg.evaluations = std::min(cfg.evaluations, 150);
      cfg.gradient_evaluations = std::min(cfg.gradient_evaluations, 40);
      cfg.max_layers = std::min(cfg.max_layers, 2);
    }
    std::filesystem::create_directories(cfg.out_dir);
    const auto has = [&](const char* t) { return std::find(cfg.tasks.begin(), cfg.tasks.end(), t) != cfg.tasks.end(); };
    if (has("h2")) {
      // The device, closed and open.
      p::device_model open_dev;
      std::string device_name = "IBM manila qubits 0-1 (built-in)";
      if (cfg.configuration.empty()) {
        open_dev = p::default_device(2, 3, true);
      } else {
        open_dev = p::read_backend_configuration(cfg.configuration, cfg.qubits, 3);
        device_name =
            cfg.configuration + " qubits " + std::to_string(cfg.qubits[0]) + "," + std::to_string(cfg.qubits[1]);
        if (!cfg.properties.empty())
          p::set_decoherence(open_dev, q::read_backend_properties(cfg.properties), cfg.qubits);
      }
      frugal::check(open_dev.transmons.size() == 2, "napa_vqe needs a two-transmon device");
      p::device_model dev = open_dev;
      for (auto& t : dev.transmons) t.t1_ns = t.t2_ns = 0;
      const bool has_open = open_dev.transmons[0].t1_ns > 0 || open_dev.transmons[1].t1_ns > 0;
      std::printf("device: %s, 3 levels each, dt %.4f ns; T1 %.1f/%.1f us, T2 %.1f/%.1f us\n", device_name.c_str(),
                  dev.dt, open_dev.transmons[0].t1_ns / 1e3, open_dev.transmons[1].t1_ns / 1e3,
                  open_dev.transmons[0].t2_ns / 1e3, open_dev.transmons[1].t2_ns / 1e3);

      // Calibration in simulation.
      const p::gate_table table = p::calibrate(dev, calibration_settings(cfg, t0));
      std::printf("\ncalibrated gates (average gate fidelity on the qubit subspace, leakage counted against it)\n");
      for (int qb = 0; qb < 2; ++qb) {
        const auto& x = table.x[std::size_t(qb)];
        const auto& sx = table.sx[std::size_t(qb)];
        std::printf("  transmon %d  X: amp %.5f beta %+.4f fidelity %.6f leakage %.1e | SX: amp %.5f fidelity %.6f\n",
                    qb, x.pulse.amp, x.pulse.beta, x.fidelity, x.leakage, sx.pulse.amp, sx.fidelity);
      }
      const auto& cx = table.cx[0];
      std::printf("  CNOT(%d,%d) echoed CR: 2 x %d samples at amp %.4f, %d samples in all (%.0f ns), fidelity %.6f\n",
                  cx.control, cx.target, cx.cr.duration, cx.cr.amp, cx.duration, cx.duration * dev.dt, cx.fidelity);
      {
        const p::simulator one(p::single_transmon(dev, 0));
        const q::cvector psi = one.evolve(p::schedule(one.device()).play(0, 0, table.x[0].pulse), one.ground_state());
        std::vector<int> durations;
        for (int d = 8; d <= 800; d += 8) durations.push_back(d);
        const double w = p::rabi_frequency(one, 0.02, durations);
        std::printf(
            "  pi pulse |0> -> |1>: population %.6f, leakage %.1e; Rabi frequency %.6f rad/ns vs drive %.6f (%.3f%%)\n",
            std::norm(psi(1)), one.leakage(psi), w, 0.02 * dev.channels[0].strength,
            100 * (w / (0.02 * dev.channels[0].strength) - 1));
      }
      if (cx.fidelity < 0.99) std::printf("  warning: the CNOT calibrated to fidelity %.4f only\n", cx.fidelity);

      const p::simulator sim(dev), sim_open(open_dev);
      const p::native_ansatz_options nopt{.seed = cfg.seed};
      std::ofstream curve(std::filesystem::path(cfg.out_dir) / "napa_vqe_curve.csv");
      curve
          << "bond_angstrom,fci,hartree_fock,gate_error_mha,native_error_mha,gate_grad_error_mha,native_grad_error_mha,"
             "gate_samples,native_samples,native_grad_samples,native_layers,gate_open_error_mha,native_open_error_"
             "mha\n";
      std::ofstream traces(std::filesystem::path(cfg.out_dir) / "napa_vqe_traces.csv");
      traces << "bond_angstrom,run,evaluation,error_mha\n";
      std::printf("\nH2 VQE (errors against FCI in mHa; chemical accuracy 1.6 mHa; durations in samples of %.4f ns)\n",
                  dev.dt);
      std::printf("%6s %11s | %-28s | %-28s | %-19s | %-19s | %s\n", "R (A)", "FCI (Ha)",
                  ("gate ansatz " + cfg.optimizer).c_str(), ("native ansatz " + cfg.optimizer).c_str(),
                  ("gate " + cfg.gradient_optimizer).c_str(), ("native " + cfg.gradient_optimizer).c_str(),
                  "with T1/T2: gate / native");
      double worst_native = 0, worst_native_grad = 0, sum_short = 0;
      int rows = 0, shorter_and_better = 0;
      for (const double r : cfg.bonds) {
        const auto h2 = q::h2_sto3g(r);
        const double exact = h2.fci - h2.nuclear_repulsion;
        auto progress = [&](const char* what) {
          if (cfg.progress) std::printf("  [%6.1f s] R = %.3f: %s\n", seconds_since(t0), r, what);
          std::fflush(stdout);
        };
        p::vqe_options vs{.optimizer = {.algorithm = slow, .max_evaluations = cfg.evaluations, .seed = cfg.seed}};
        p::vqe_options vf{.optimizer = {.algorithm = fast, .max_evaluations = cfg.gradient_evaluations}};
        const auto gate = p::gate_ansatz(dev, table, 1);
        auto finish = [&](const p::vqe_result& v, int layers) {
          run out;
          out.error_mha = (v.energy - exact) * 1e3;
          out.duration = v.duration;
          out.evaluations = v.evaluations;
          out.layers = layers;
          for (double e : v.trace) out.trace.push_back((e - exact) * 1e3);
          return out;
        };
        progress("gate ansatz, derivative-free");
        const auto g_res = p::run_vqe(sim, h2.parity, gate, vs);
        run g = finish(g_res, 1);
        progress("gate ansatz, gradient");
        const auto gg_res = p::run_vqe(sim, h2.parity, gate, vf);
        run gg = finish(gg_res, 1);
        progress("native ansatz, derivative-free (growing)");
        int layers = 0;
        const auto n_res = p::grow_native_vqe(sim, h2.parity, table, cfg.max_layers, vs, nopt, 1e-4, -1e9, &layers);
        run n = finish(n_res, layers);
        progress("native ansatz, gradient (growing)");
        int glayers = 0;
        const auto ng_res = p::grow_native_vqe(sim, h2.parity, table, cfg.max_layers, vf, nopt, 1e-4, -1e9, &glayers);
        run ng = finish(ng_res, glayers);
        if (has_open) {
          progress("both trained schedules with T1/T2");
          const p::energy_objective open_energy(sim_open, h2.parity, true);
          g.open_error_mha = (open_energy.energy(gate.bind(g_res.x)) - exact) * 1e3;
          const auto native = p::native_ansatz(dev, table, layers, nopt);
          n.open_error_mha = (open_energy.energy(native.bind(n_res.x)) - exact) * 1e3;
        }
        std::printf(
            "%6.3f %11.6f | %8.3f  %5d smp %5d ev  | %8.3f  %5d smp %dL %5d ev | %8.3f %5d smp | %8.3f %5d smp %dL | "
            "%8.3f / %8.3f\n",
            r, h2.fci, g.error_mha, g.duration, g.evaluations, n.error_mha, n.duration, n.layers, n.evaluations,
            gg.error_mha, gg.duration, ng.error_mha, ng.duration, ng.layers, g.open_error_mha, n.open_error_mha);
        for (const auto& [name, v] : {std::pair<const char*, const p::vqe_result*>{"gate derivative-free", &g_res},
                                      {"native derivative-free", &n_res},
                                      {"gate gradient", &gg_res},
                                      {"native gradient", &ng_res}})
          if (v->stop == p::stop_reason::solver_failure) std::printf("       %s:%s\n", name, stop_note(*v));
        std::fflush(stdout);
        curve << r << "," << h2.fci << "," << h2.hartree_fock << "," << g.error_mha << "," << n.error_mha << ","
              << gg.error_mha << "," << ng.error_mha << "," << g.duration << "," << n.duration << "," << ng.duration
              << "," << n.layers << "," << g.open_error_mha << "," << n.open_error_mha
              << std::endl;  // a stopped run keeps its rows
        for (const auto& [name, rr] : {std::pair<const char*, const run*>{"gate derivative-free", &g},
                                       {"native derivative-free", &n},
                                       {"gate gradient", &gg},
                                       {"native gradient", &ng}})
          for (std::size_t i = 0; i < rr->trace.size(); ++i)
            traces << r << "," << name << "," << i + 1 << "," << rr->trace[i] << "\n";
        worst_native = std::max(worst_native, n.error_mha);
        worst_native_grad = std::max(worst_native_grad, ng.error_mha);
        sum_short += 1 - double(n.duration) / g.duration;
        shorter_and_better += (n.duration <= 0.5 * g.duration && n.error_mha <= g.error_mha) ? 1 : 0;
        ++rows;
      }
      std::printf(
          "\nnative-pulse ansatz: worst error %.3f mHa (%s), %.3f mHa (%s); schedule %.0f%% shorter than the gate "
          "ansatz on average; at least 50%% shorter with equal or lower error at %d of %d bond lengths\n",
          worst_native, cfg.optimizer.c_str(), worst_native_grad, cfg.gradient_optimizer.c_str(),
          100 * sum_short / rows, shorter_and_better, rows);
      std::printf(
          "wrote %s/napa_vqe_curve.csv and napa_vqe_traces.csv (plot: python3 %s %s/napa_vqe_traces.csv) in %.1f s\n",
          cfg.out_dir.c_str(), FRUGAL_PLOT_SCRIPT, cfg.out_dir.c_str(), seconds_since(t0));
      if (cx.fidelity < 0.99) return 1;
    }
    if (has("jw") && run_jordan_wigner(cfg, slow, fast, t0) != 0) return 1;
    if (has("maxcut") && run_maxcut(cfg, slow, fast, t0) != 0) return 1;
    std::printf("done in %.1f s\n", seconds_since(t0));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "napa_vqe: %s\n", e.what());
    return 1;
  }
  return 0;
}
