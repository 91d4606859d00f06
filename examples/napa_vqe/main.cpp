// NAPA in miniature: VQE for H2 (STO-3G, 2-qubit parity-reduced) on a simulated two-transmon
// device (IBM manila's qubits 0 and 1 by default, or a backend configuration), with the gate-level
// hardware-efficient ansatz compiled to pulses calibrated in simulation (the baseline) against the
// native-pulse ansatz grown layer by layer, each trained with a derivative-free optimiser (as on
// hardware) and with exact pulse gradients (which only a simulator has). Reports energy errors
// and schedule durations along the dissociation curve, closed and with T1/T2.
#include <CLI/CLI.hpp>
#include <frugal/quantum/backend_properties.hpp>
#include <frugal/quantum/molecules.hpp>
#include <frugal/quantum/pulse.hpp>
#include <frugal/quantum/pulse/configuration.hpp>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <numbers>
#include <string>
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
};

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
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
    // The device, closed and open.
    p::device_model open_dev;
    std::string device_name = "IBM manila qubits 0-1 (built-in)";
    if (cfg.configuration.empty()) {
      open_dev = p::default_device(2, 3, true);
    } else {
      open_dev = p::read_backend_configuration(cfg.configuration, cfg.qubits, 3);
      device_name =
          cfg.configuration + " qubits " + std::to_string(cfg.qubits[0]) + "," + std::to_string(cfg.qubits[1]);
      if (!cfg.properties.empty()) p::set_decoherence(open_dev, q::read_backend_properties(cfg.properties), cfg.qubits);
    }
    frugal::check(open_dev.transmons.size() == 2, "napa_vqe needs a two-transmon device");
    p::device_model dev = open_dev;
    for (auto& t : dev.transmons) t.t1_ns = t.t2_ns = 0;
    const bool has_open = open_dev.transmons[0].t1_ns > 0 || open_dev.transmons[1].t1_ns > 0;
    std::printf("device: %s, 3 levels each, dt %.4f ns; T1 %.1f/%.1f us, T2 %.1f/%.1f us\n", device_name.c_str(),
                dev.dt, open_dev.transmons[0].t1_ns / 1e3, open_dev.transmons[1].t1_ns / 1e3,
                open_dev.transmons[0].t2_ns / 1e3, open_dev.transmons[1].t2_ns / 1e3);

    // Calibration in simulation.
    p::calibration_options co;
    if (cfg.quick) {
      co.cr_durations = {448};
      co.max_evaluations = 150;
    }
    if (cfg.progress)
      co.progress = [&](const std::string& s) {
        std::printf("  [%6.1f s] %s\n", seconds_since(t0), s.c_str());
        std::fflush(stdout);
      };
    const p::gate_table table = p::calibrate(dev, co);
    std::printf("\ncalibrated gates (average gate fidelity on the qubit subspace, leakage counted against it)\n");
    for (int qb = 0; qb < 2; ++qb) {
      const auto& x = table.x[std::size_t(qb)];
      const auto& sx = table.sx[std::size_t(qb)];
      std::printf("  transmon %d  X: amp %.5f beta %+.4f fidelity %.6f leakage %.1e | SX: amp %.5f fidelity %.6f\n", qb,
                  x.pulse.amp, x.pulse.beta, x.fidelity, x.leakage, sx.pulse.amp, sx.fidelity);
    }
    const auto& cx = table.cx[0];
    std::printf("  CNOT(0,1) echoed CR: 2 x %d samples at amp %.4f, %d samples in all (%.0f ns), fidelity %.6f\n",
                cx.cr.duration, cx.cr.amp, cx.duration, cx.duration * dev.dt, cx.fidelity);
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
    std::filesystem::create_directories(cfg.out_dir);
    std::ofstream curve(std::filesystem::path(cfg.out_dir) / "napa_vqe_curve.csv");
    curve
        << "bond_angstrom,fci,hartree_fock,gate_error_mha,native_error_mha,gate_grad_error_mha,native_grad_error_mha,"
           "gate_samples,native_samples,native_grad_samples,native_layers,gate_open_error_mha,native_open_error_mha\n";
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
      run gg = finish(p::run_vqe(sim, h2.parity, gate, vf), 1);
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
        worst_native, cfg.optimizer.c_str(), worst_native_grad, cfg.gradient_optimizer.c_str(), 100 * sum_short / rows,
        shorter_and_better, rows);
    std::printf(
        "wrote %s/napa_vqe_curve.csv and napa_vqe_traces.csv (plot: python3 %s %s/napa_vqe_traces.csv) in %.1f s\n",
        cfg.out_dir.c_str(), FRUGAL_PLOT_SCRIPT, cfg.out_dir.c_str(), seconds_since(t0));
    if (cx.fidelity < 0.99) return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "napa_vqe: %s\n", e.what());
    return 1;
  }
  return 0;
}
