// RobustState on the stand-in device: noise-aware variational state preparation whose forward pass
// runs on the (simulated) device and whose backward pass runs on a simulator (by default the
// calibrated noise model's density-matrix adjoint sweep; `--jacobian noiseless`: the noiseless
// state vector), against noise-unaware training (noiseless simulator, then deployed) and training
// on the calibrated noise model (which lacks the device's coherent errors). Targets: GHZ, W, a QFT
// output state and a Haar-random state on 4 and 5 qubits; fidelities on the device exactly from
// its density matrix and estimated from shots by Pauli tomography.
#include <CLI/CLI.hpp>
#include <frugal/quantum.hpp>
#include <frugal/quantum/backend_properties.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <complex>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <numbers>
#include <numeric>
#include <string>
#include <vector>

#include "../common/progress_bar.hpp"
#include "../common/stats.hpp"

namespace q = frugal::quantum;
using frugal::index_t;

namespace {

struct settings {
  std::string out_dir = "robuststate_out";
  std::string calibration_file;  // empty: the built-in Falcon line
  std::vector<int> sizes = {4, 5};
  int seeds = 3;
  int layers = 0;  // 0: n + 1
  int noiseless_steps = 600;
  int steps = 150;
  double lr = 0.01;
  std::int64_t shots = 4096;
  double over_rotation = 0.05;
  double zz_scale = 1.0;
  std::string zz_model = "during_gates";
  std::string ansatz = "u3_cu3";
  std::string jacobian = "model";
  std::string loss = "distilled";
  int distillation_power = 2;
  int first_seed = 1;
  bool quick = false;
  bool oracle = false;
  bool progress = true;
};

q::cvector ghz(int n) {
  q::cvector v = q::cvector::Zero(index_t(1) << n);
  v[0] = v[v.size() - 1] = 1 / std::sqrt(2.0);
  return v;
}

q::cvector w_state(int n) {
  q::cvector v = q::cvector::Zero(index_t(1) << n);
  for (int t = 0; t < n; ++t) v[index_t(1) << t] = 1 / std::sqrt(static_cast<double>(n));
  return v;
}

/// QFT|x⟩ for x = 0b0101…: amplitudes e^{2πi·x·k/2^n}/√2^n.
q::cvector qft_state(int n) {
  const index_t d = index_t(1) << n;
  index_t x = 0;
  for (int t = 0; t < n; t += 2) x |= index_t(1) << t;
  q::cvector v(d);
  for (index_t k = 0; k < d; ++k)
    v[k] = std::polar(1 / std::sqrt(static_cast<double>(d)), 2 * std::numbers::pi * static_cast<double>(x * k) / d);
  return v;
}

q::cvector random_state(int n, std::uint64_t seed) {
  frugal::rng gen(seed);
  q::cvector v(index_t(1) << n);
  for (index_t i = 0; i < v.size(); ++i) v[i] = {gen.normal(), gen.normal()};
  return v / v.norm();
}

/// The first n qubits of a calibration (gates and couplings among them).
/// Device qubits 0..n-1 of a calibration file (the ansatz couples the pairs they share).
q::calibration first_qubits(const q::calibration& cal, int n) {
  std::vector<int> chosen(static_cast<std::size_t>(n));
  std::iota(chosen.begin(), chosen.end(), 0);
  return cal.subset(chosen);
}

using frugal::examples::median;

/// The oracle: Adam on the device's exact fidelity, gradient by central differences (h = 1e-4) on
/// its density matrix, which no real device reveals.
std::vector<double> fine_tune_on_exact_fidelity(const std::function<double(const std::vector<double>&)>& fidelity,
                                                std::vector<double> theta, const q::state_preparation_options& o) {
  std::vector<double> grad(theta.size());
  q::detail::adam_state adam;
  for (int s = 0; s < o.steps; ++s) {
    for (std::size_t i = 0; i < theta.size(); ++i) {
      const double keep = theta[i];
      theta[i] = keep + 1e-4;
      const double up = fidelity(theta);
      theta[i] = keep - 1e-4;
      const double down = fidelity(theta);
      theta[i] = keep;
      grad[i] = -(up - down) / 2e-4;
    }
    adam.step(theta, grad, o.learning_rate);
  }
  return theta;
}

struct result {
  int n;
  std::string target;
  int seed;
  double f_noiseless_sim, f_unaware, f_model, f_robust, f_robust_tomography;
  std::vector<double> curve_robust, curve_model;
  double f_oracle = std::nan("");
};

}  // namespace

int main(int argc, char** argv) {
  settings cfg;
  CLI::App app{
      "RobustState: noise-aware variational state preparation on a stand-in noisy device.\n"
      "For each size and target: noise-unaware training (noiseless simulator), then fine-tuning on the\n"
      "calibrated noise model, and RobustState fine-tuning on the device (device outputs forward, simulator\n"
      "Jacobian backward). Prints device fidelities, writes them and the fidelity at every step as CSVs."};
  app.add_option("--out", cfg.out_dir, "Directory for the CSVs")->capture_default_str();
  app.add_option("--calibration", cfg.calibration_file,
                 "Qiskit BackendProperties JSON for the device (default: built-in Falcon line figures)");
  app.add_option("--sizes", cfg.sizes, "Qubit counts")->capture_default_str();
  app.add_option("--seeds", cfg.seeds, "Seeds per target (initial parameters, random target, shots)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--first-seed", cfg.first_seed, "First seed (seeds first-seed ... first-seed + seeds - 1)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--layers", cfg.layers, "Ansatz layers (0: qubits + 1)")->capture_default_str();
  app.add_option("--jacobian", cfg.jacobian,
                 "Simulator whose Jacobian chains the device-measured loss: noiseless (state vector) or model (the "
                 "calibrated noise model, density-matrix adjoint sweep)")
      ->capture_default_str()
      ->check(CLI::IsMember({"noiseless", "model"}));
  app.add_option(
         "--loss", cfg.loss,
         "Loss of the fine-tuning (noise model and RobustState): pauli (every Pauli residual alike) or "
         "distributions (outcome distributions of the 3^n bases) or distilled (infidelity of rho^m / Tr(rho^m), "
         "rho the state the outputs reconstruct; m = --distillation-power)")
      ->check(CLI::IsMember({"pauli", "distributions", "distilled"}))
      ->capture_default_str();
  app.add_option("--distillation-power", cfg.distillation_power, "m of --loss distilled")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--ansatz", cfg.ansatz, "Hardware-efficient ansatz: ry_rz_cx (RY, RZ + CX) or u3_cu3 (U3 + CU3)")
      ->capture_default_str()
      ->check(CLI::IsMember({"ry_rz_cx", "u3_cu3"}));
  app.add_option("--noiseless-steps", cfg.noiseless_steps, "Adam steps of noise-unaware training")
      ->capture_default_str();
  app.add_option("--steps", cfg.steps, "Adam steps of the noise-model and RobustState fine-tuning")
      ->capture_default_str();
  app.add_option("--lr", cfg.lr, "Adam learning rate of the fine-tuning")->capture_default_str();
  app.add_option("--shots", cfg.shots, "Shots per measurement basis (3^n bases per step)")->capture_default_str();
  app.add_option("--over-rotation", cfg.over_rotation,
                 "Hidden coherent error: magnitude of the per-qubit over-rotation (signs alternate)")
      ->capture_default_str();
  app.add_option("--zz-scale", cfg.zz_scale, "Hidden coherent error: residual ZZ as a multiple of the calibration's")
      ->capture_default_str();
  app.add_flag("--oracle", cfg.oracle, "Also fine-tune on the device's exact fidelity (finite differences)");
  app.add_option("--zz", cfg.zz_model,
                 "Hidden residual ZZ: always_on (every coupled pair, whole circuit, ASAP moments) or "
                 "during_gates (only a two-qubit gate's own pair, for its duration)")
      ->capture_default_str()
      ->check(CLI::IsMember({"always_on", "during_gates"}));
  app.add_flag("--quick", cfg.quick, "Smoke run: 3 qubits, GHZ and W, 1 seed, few steps (for tests)");
  bool no_progress = false;
  app.add_flag("--no-progress", no_progress, "Do not draw progress bars");
  CLI11_PARSE(app, argc, argv);
  cfg.progress = !no_progress;
  if (cfg.quick) {
    cfg.sizes = {3};
    cfg.seeds = 1;
    cfg.noiseless_steps = 200;
    cfg.steps = 5;
    cfg.shots = 1024;
  }

  Kokkos::ScopeGuard kokkos(argc, argv);
  try {
    const auto t0 = std::chrono::steady_clock::now();
    std::filesystem::create_directories(cfg.out_dir);
    frugal::examples::progress_bar bar(cfg.progress);
    std::vector<result> results;
    for (int n : cfg.sizes) {
      const q::calibration cal = cfg.calibration_file.empty()
                                     ? q::calibrations::falcon_line(n)
                                     : first_qubits(q::read_backend_properties(cfg.calibration_file), n);
      std::vector<std::pair<int, int>> coupling;
      for (const auto& [a, b] : cal.coupling_map()) coupling.emplace_back(a, b);
      q::coherent_errors hidden;
      for (int t = 0; t < n; ++t) hidden.over_rotation.push_back((t % 2 ? -1 : 1) * cfg.over_rotation * (1 + 0.2 * t));
      hidden.zz_scale = cfg.zz_scale;
      hidden.zz = cfg.zz_model == "always_on" ? q::zz_coupling::always_on : q::zz_coupling::during_two_qubit_gates;
      const int layers = cfg.layers > 0 ? cfg.layers : n + 1;
      const q::circuit ansatz = q::hardware_efficient_ansatz(
          n, layers, coupling, cfg.ansatz == "u3_cu3" ? q::ansatz_style::u3_cu3 : q::ansatz_style::ry_rz_cx);
      const q::noise_model model(cal);
      std::printf(
          "%d qubits on %s: %d-layer %s ansatz (%d parameters, %zu two-qubit gates); hidden over-rotation "
          "%.3f, ZZ x%.1f %s\n",
          n, cal.name.c_str(), layers, cfg.ansatz.c_str(), ansatz.parameters(),
          coupling.size() * static_cast<std::size_t>(layers), cfg.over_rotation, cfg.zz_scale,
          cfg.zz_model == "always_on" ? "always on" : "during two-qubit gates");
      std::fflush(stdout);
      std::vector<std::pair<std::string, q::cvector>> targets = {{"GHZ", ghz(n)}, {"W", w_state(n)}};
      if (!cfg.quick) {
        targets.emplace_back("QFT", qft_state(n));
        targets.emplace_back("random", q::cvector{});
      }
      for (const auto& [name, fixed_target] : targets)
        for (int seed = cfg.first_seed; seed < cfg.first_seed + cfg.seeds; ++seed) {
          const q::cvector target =
              name == "random" ? random_state(n, 1000 + static_cast<std::uint64_t>(seed)) : fixed_target;
          const auto coeff = q::pauli_coefficients(target);
          q::simulated_device device(cal, hidden, 77 + static_cast<std::uint64_t>(seed));
          auto device_fidelity = [&](const std::vector<double>& th) {
            return q::fidelity(device.density(ansatz, th).to_host(), target);
          };
          frugal::rng gen(static_cast<std::uint64_t>(seed) * 7919 + static_cast<std::uint64_t>(n));
          std::vector<double> theta0(static_cast<std::size_t>(ansatz.parameters()));
          for (auto& x : theta0) x = gen.uniform(-0.3, 0.3);
          const std::string label = std::to_string(n) + "q " + name + " seed " + std::to_string(seed);
          q::state_preparation_options o;
          o.steps = cfg.noiseless_steps;
          o.learning_rate = 0.05;
          o.progress = bar.callback(label);
          const auto unaware = q::train_noiseless(ansatz, target, theta0, o);
          result r{n, name, seed, 1 - unaware.loss.back(), device_fidelity(unaware.theta), 0, 0, 0, {}, {}};
          o.steps = cfg.steps;
          o.learning_rate = cfg.lr;
          o.jacobian_noise = cfg.jacobian == "model" ? &model : nullptr;
          o.loss = cfg.loss == "distributions" ? q::output_loss::basis_distributions
                   : cfg.loss == "distilled"   ? q::output_loss::distilled_state
                                               : q::output_loss::pauli;
          o.distillation_power = cfg.distillation_power;
          const auto on_model = q::train_on_outputs(
              ansatz, target, unaware.theta,
              [&](const std::vector<double>& th) { return q::pauli_expectations(q::simulate(ansatz, th, &model)); }, o,
              device_fidelity);
          r.f_model = device_fidelity(on_model.theta);
          const auto readout = model.readout_errors();
          const auto robust = q::train_on_outputs(
              ansatz, target, unaware.theta,
              [&](const std::vector<double>& th) {
                return q::measure_pauli_expectations(device, ansatz, th, cfg.shots, readout);
              },
              o, device_fidelity);
          r.f_robust = device_fidelity(robust.theta);
          r.f_robust_tomography = q::fidelity_from_paulis(
              q::measure_pauli_expectations(device, ansatz, robust.theta, cfg.shots, readout), coeff);
          if (cfg.oracle) r.f_oracle = device_fidelity(fine_tune_on_exact_fidelity(device_fidelity, unaware.theta, o));
          r.curve_robust = robust.fidelity;
          r.curve_model = on_model.fidelity;
          bar.clear();
          std::printf(
              "  %-7s seed %d: noiseless sim %.4f | on device: noise-unaware %.4f, noise model %.4f, "
              "RobustState %.4f (tomography %.4f)",
              name.c_str(), seed, r.f_noiseless_sim, r.f_unaware, r.f_model, r.f_robust, r.f_robust_tomography);
          if (cfg.oracle) std::printf(", exact-gradient oracle %.4f", r.f_oracle);
          std::printf("\n");
          std::fflush(stdout);
          results.push_back(std::move(r));
        }
    }

    // Table: medians over seeds, then averages over targets per size.
    std::printf("\nDevice fidelity (exact, from the device's density matrix; median of %d seed(s) from seed %d)\n",
                cfg.seeds, cfg.first_seed);
    std::printf("%-3s %-8s %12s %12s %12s %12s %12s%s\n", "n", "target", "noiseless", "unaware", "noise model",
                "RobustState", "RS tomo", cfg.oracle ? "       oracle" : "");
    std::ofstream csv(cfg.out_dir + "/robuststate.csv");
    csv << "qubits,target,seed,noiseless_sim,noise_unaware,noise_model,robuststate,robuststate_tomography,oracle\n";
    for (const auto& r : results)
      csv << r.n << ',' << r.target << ',' << r.seed << ',' << r.f_noiseless_sim << ',' << r.f_unaware << ','
          << r.f_model << ',' << r.f_robust << ',' << r.f_robust_tomography << ',' << r.f_oracle << '\n';
    bool met = true;
    for (int n : cfg.sizes) {
      double avg_u = 0, avg_m = 0, avg_r = 0, avg_o = 0;
      int count = 0;
      std::vector<std::string> names;
      for (const auto& r : results)
        if (r.n == n && std::find(names.begin(), names.end(), r.target) == names.end()) names.push_back(r.target);
      for (const auto& name : names) {
        std::vector<double> s, u, m, rs, rt, orc;
        for (const auto& r : results)
          if (r.n == n && r.target == name) {
            s.push_back(r.f_noiseless_sim);
            u.push_back(r.f_unaware);
            m.push_back(r.f_model);
            rs.push_back(r.f_robust);
            rt.push_back(r.f_robust_tomography);
            orc.push_back(r.f_oracle);
          }
        std::printf("%-3d %-8s %12.4f %12.4f %12.4f %12.4f %12.4f", n, name.c_str(), median(s), median(u), median(m),
                    median(rs), median(rt));
        if (cfg.oracle) std::printf(" %12.4f", median(orc));
        std::printf("\n");
        avg_u += median(u), avg_m += median(m), avg_r += median(rs);
        if (cfg.oracle) avg_o += median(orc);
        ++count;
      }
      avg_u /= count, avg_m /= count, avg_r /= count, avg_o /= count;
      const double gain = avg_r / avg_u - 1, gain_model = avg_m / avg_u - 1;
      const double target_gain = n <= 4 ? 0.30 : 0.40;
      std::printf(
          "%-3d %-8s %12s %12.4f %12.4f %12.4f   RobustState vs unaware: %+.1f%% (target %+.0f%%); noise "
          "model vs unaware: %+.1f%%; infidelity %.4f -> %.4f\n",
          n, "average", "", avg_u, avg_m, avg_r, 100 * gain, 100 * target_gain, 100 * gain_model, 1 - avg_u, 1 - avg_r);
      if (cfg.oracle)
        std::printf(
            "%-3d %-8s exact-gradient oracle %.4f (%+.1f%% vs unaware): RobustState reaches %.0f%% of its gain\n", n,
            "", avg_o, 100 * (avg_o / avg_u - 1), 100 * (avg_r - avg_u) / (avg_o - avg_u));
      met = met && gain >= target_gain;
    }

    // Device fidelity after every fine-tuning step, one row per run and step (a cell is empty where
    // one of the two curves ended earlier); examples/robuststate/plot.py draws their means per size.
    std::ofstream curves(cfg.out_dir + "/robuststate_curves.csv");
    curves << "qubits,target,seed,step,robuststate,noise_model\n";
    for (const auto& r : results)
      for (std::size_t s = 0; s < std::max(r.curve_robust.size(), r.curve_model.size()); ++s) {
        curves << r.n << ',' << r.target << ',' << r.seed << ',' << s + 1 << ',';
        if (s < r.curve_robust.size()) curves << r.curve_robust[s];
        curves << ',';
        if (s < r.curve_model.size()) curves << r.curve_model[s];
        curves << '\n';
      }
    curves.close();
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf(
        "\nwrote %s/robuststate.csv and %s/robuststate_curves.csv; figure: python3 %s %s/robuststate_curves.csv; %s; "
        "total wall time %.0f s\n",
        cfg.out_dir.c_str(), cfg.out_dir.c_str(), FRUGAL_PLOT_SCRIPT, cfg.out_dir.c_str(),
        met ? "targets met" : "targets NOT met", secs);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "robuststate: %s\n", e.what());
    return 1;
  }
  return 0;
}
