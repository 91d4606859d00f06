#pragma once
/// \file
/// Noise-aware variational state preparation (RobustState): the forward pass runs on the device,
/// the backward pass on a classical simulator. Each step measures the prepared state's Pauli
/// expectations o_P on the device (all 3^n Pauli bases, shots, readout confusion mitigated), takes
/// the loss L = (1/d)·Σ_P (o_P − c_P)² against the target's coefficients c_P = ⟨ψ|P|ψ⟩ (the
/// squared Hilbert–Schmidt distance ‖ρ − |ψ⟩⟨ψ|‖², which the device's numbers determine), and
/// back-propagates dL/do_P = 2(o_P − c_P)/d through the noiseless simulator's Jacobian at θ —
/// one adjoint sweep with the observable Σ_P (dL/do_P)·P. Device errors that no noise model
/// captures (coherent over-rotation, residual ZZ) enter through o_P and steer training. Other
/// losses (`output_loss`) and the noise model's Jacobian (`jacobian_noise`) are options.
/// Also here: Pauli tomography helpers, readout mitigation, and the two baselines — noise-unaware
/// training on a noiseless simulator, and training on the calibrated noise model's outputs.

#include <cmath>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "../core/progress.hpp"
#include "../nn/adam_update.hpp"
#include "device.hpp"
#include "gradients.hpp"
#include "measurement.hpp"

namespace frugal::quantum {

// ---- Pauli tomography --------------------------------------------------------------------------

/// The Pauli string of index k over n qubits: base-4 digit t of k is qubit t's letter (I, X, Y, Z).
[[nodiscard]] inline std::string pauli_label(index_t k, int n) {
  static constexpr char letters[4] = {'I', 'X', 'Y', 'Z'};
  std::string s(static_cast<std::size_t>(n), 'I');
  for (int t = 0; t < n; ++t, k /= 4) s[static_cast<std::size_t>(t)] = letters[k % 4];
  return s;
}

/// All 3^n measurement bases (strings over X, Y, Z).
[[nodiscard]] inline std::vector<std::string> measurement_bases(int n) {
  check(n >= 1 && n <= 10, "frugal::quantum::measurement_bases: ", n, " qubits (1 to 10)");
  std::vector<std::string> out;
  index_t total = 1;
  for (int t = 0; t < n; ++t) total *= 3;
  for (index_t k = 0; k < total; ++k) {
    std::string s(static_cast<std::size_t>(n), 'Z');
    index_t x = k;
    for (int t = 0; t < n; ++t, x /= 3) s[static_cast<std::size_t>(t)] = "XYZ"[x % 3];
    out.push_back(s);
  }
  return out;
}

/// Undoes independent per-qubit readout confusion on a distribution (applies each 2 × 2
/// confusion matrix's inverse); the result may hold small negative quasi-probabilities.
[[nodiscard]] inline std::vector<double> mitigate_readout(std::vector<double> probs,
                                                          const std::vector<readout_error>& errors) {
  const std::size_t n = errors.size();
  detail::check_readout_errors_fit("frugal::quantum::mitigate_readout", probs.size(), n);
  for (std::size_t q = 0; q < n; ++q) {
    errors[q].validate();
    const double a = 1 - errors[q].p1_given_0, b = errors[q].p0_given_1, c = errors[q].p1_given_0,
                 d = 1 - errors[q].p0_given_1;
    const double det = a * d - b * c;
    check(std::abs(det) > 1e-9, "frugal::quantum::mitigate_readout: qubit ", q, " confusion matrix is singular");
    for (std::size_t i = 0; i < probs.size(); ++i) {
      if ((i >> q) & 1) continue;
      const std::size_t j = i | (std::size_t{1} << q);
      const double m0 = probs[i], m1 = probs[j];
      probs[i] = (d * m0 - b * m1) / det;
      probs[j] = (-c * m0 + a * m1) / det;
    }
  }
  return probs;
}

/// Pauli expectations (index as in `pauli_label`; entry 0 = ⟨I⟩ = 1) from the outcome
/// distributions of measurements in `bases`: each Pauli is averaged over every basis that agrees
/// with it on its support. Paulis no basis covers are NaN.
[[nodiscard]] inline std::vector<double> pauli_expectations(const std::vector<std::string>& bases,
                                                            const std::vector<std::vector<double>>& distributions,
                                                            int n) {
  check(bases.size() == distributions.size(), "frugal::quantum::pauli_expectations: ", bases.size(), " bases but ",
        distributions.size(), " distributions");
  const index_t count = index_t(1) << (2 * n);
  std::vector<double> sum(static_cast<std::size_t>(count), 0.0), hits(static_cast<std::size_t>(count), 0.0);
  static constexpr int code[3] = {1, 2, 3};  // X, Y, Z
  for (std::size_t b = 0; b < bases.size(); ++b) {
    check(distributions[b].size() == (std::size_t{1} << n), "frugal::quantum::pauli_expectations: distribution ", b,
          " has ", distributions[b].size(), " entries");
    int letter[16];
    for (int t = 0; t < n; ++t) {
      const char c = bases[b][static_cast<std::size_t>(t)];
      letter[t] = code[c == 'X' ? 0 : (c == 'Y' ? 1 : 2)];
    }
    // Every subset of qubits (the support) of this basis names one Pauli.
    for (index_t support = 0; support < (index_t(1) << n); ++support) {
      index_t k = 0, mul = 1;
      for (int t = 0; t < n; ++t, mul *= 4)
        if ((support >> t) & 1) k += letter[t] * mul;
      double e = 0;
      for (std::size_t outcome = 0; outcome < distributions[b].size(); ++outcome) {
        const bool odd = detail::parity(static_cast<index_t>(outcome) & support);
        e += odd ? -distributions[b][outcome] : distributions[b][outcome];
      }
      sum[static_cast<std::size_t>(k)] += e;
      hits[static_cast<std::size_t>(k)] += 1;
    }
  }
  for (std::size_t k = 0; k < sum.size(); ++k) sum[k] = hits[k] > 0 ? sum[k] / hits[k] : std::nan("");
  return sum;
}

/// c_P = ⟨ψ|P|ψ⟩ for every Pauli P (index as in `pauli_label`).
[[nodiscard]] inline std::vector<double> pauli_coefficients(const cvector& psi) {
  int n = 0;
  while ((index_t(1) << n) < psi.size()) ++n;
  check((index_t(1) << n) == psi.size(), "frugal::quantum::pauli_coefficients: dimension ", psi.size(),
        " is not a power of two");
  state_vector<double> sv(n);
  sv.assign(psi, 1e-6);
  std::vector<double> c(std::size_t{1} << (2 * n));
  for (std::size_t k = 0; k < c.size(); ++k)
    c[k] = expectation(sv, pauli_string{pauli_label(static_cast<index_t>(k), n)});
  return c;
}

/// Every Pauli expectation of a density matrix (exact).
template <Real R, class S>
[[nodiscard]] std::vector<double> pauli_expectations(const density_matrix<R, S>& rho) {
  const int n = rho.qubits();
  std::vector<double> o(std::size_t{1} << (2 * n));
  for (std::size_t k = 0; k < o.size(); ++k)
    o[k] = expectation(rho, pauli_string{pauli_label(static_cast<index_t>(k), n)});
  return o;
}

/// F = ⟨ψ|ρ|ψ⟩ = (1/d)·Σ_P c_P·o_P from Pauli expectations.
[[nodiscard]] inline double fidelity_from_paulis(const std::vector<double>& o, const std::vector<double>& c) {
  check(o.size() == c.size(), "frugal::quantum::fidelity_from_paulis: size mismatch");
  double f = 0;
  for (std::size_t k = 0; k < o.size(); ++k) f += c[k] * o[k];
  return f / std::sqrt(static_cast<double>(o.size()));
}

/// Pauli expectations measured on a device: every basis of `measurement_bases`, `shots` each,
/// readout confusion mitigated with `readout` (empty: none). Uses the device's `run_in_bases` when
/// it has one, else `run` on each extended circuit.
template <Device D>
[[nodiscard]] std::vector<double> measure_pauli_expectations(D& device, const circuit& c,
                                                             const std::vector<double>& theta, std::int64_t shots,
                                                             const std::vector<readout_error>& readout = {}) {
  const int n = c.qubits();
  const auto bases = measurement_bases(n);
  std::vector<std::vector<std::int64_t>> counts;
  if constexpr (requires { device.run_in_bases(c, theta, bases, shots); }) {
    counts = device.run_in_bases(c, theta, bases, shots);
  } else {
    for (const auto& b : bases) {
      circuit extended = c;
      append_basis_change(extended, b);
      counts.push_back(device.run(extended, theta, shots));
    }
  }
  std::vector<std::vector<double>> dists;
  for (const auto& k : counts) {
    std::vector<double> p(k.size());
    for (std::size_t i = 0; i < k.size(); ++i) p[i] = static_cast<double>(k[i]) / static_cast<double>(shots);
    dists.push_back(readout.empty() ? p : mitigate_readout(p, readout));
  }
  return pauli_expectations(bases, dists, n);
}

// ---- training ----------------------------------------------------------------------------------

/// How `train_on_outputs` weighs the Pauli residuals o_P − c_P in its loss.
enum class output_loss {
  /// (1/d)·Σ_P (o_P − c_P)²: the squared Hilbert–Schmidt distance ‖ρ − |ψ⟩⟨ψ|‖², every Pauli alike.
  pauli,
  /// (1/d)·Σ_P 3^−w(P)·(o_P − c_P)² (w = the Pauli's weight): the squared L2 distance between the
  /// measured and the target outcome distributions summed over the 3^n bases, divided by 3^n (by
  /// Parseval, basis b's distance is (1/d)·Σ over the 2^n Paulis it measures of (o_P − c_P)², and
  /// a Pauli of weight w is measured by 3^(n−w) bases). Low-weight Paulis count more.
  basis_distributions,
  /// 1 − ⟨ψ|ρ̂^m|ψ⟩ / Tr(ρ̂^m) (m = `state_preparation_options::distillation_power`), ρ̂ =
  /// (1/d)·Σ_P o_P·P the state the outputs reconstruct by linear inversion: the infidelity of the
  /// virtually distilled state ρ̂^m / Tr(ρ̂^m), which tends to ρ̂'s dominant eigenvector as m grows.
  /// Depolarizing noise, ρ = p·|χ⟩⟨χ| + (1 − p)·I/d, leaves its minimiser at χ = ψ for every p, so
  /// the loss sees the coherent errors and not the shrinkage. The squared Pauli loss is
  /// Tr ρ² − 2F + 1: it also rewards states that noise mixes more (lower purity), which pulls its
  /// fixed point off the device's best state.
  distilled_state,
};

struct state_preparation_options {
  int steps = 60;
  double learning_rate = 0.02;  ///< Adam
  progress_callback progress;   ///< phase "robuststate", metrics loss and (when monitored) fidelity
  /// `train_on_outputs`: the simulator whose Jacobian chains dL/d outputs — nullptr: the noiseless
  /// state-vector simulator (adjoint sweep); a noise model: the noisy density-matrix simulator
  /// (`density_adjoint_gradient`), whose Jacobian also knows how noise shrinks each output.
  const noise_model* jacobian_noise = nullptr;
  output_loss loss = output_loss::pauli;  ///< `train_on_outputs`' loss
  int distillation_power = 2;             ///< m of `output_loss::distilled_state` (≥ 1)
};

/// Loss, monitored fidelity and parameters after every step.
struct state_preparation_trace {
  std::vector<double> loss;
  std::vector<double> fidelity;  ///< from `monitor` (e.g. the device's exact fidelity), if given
  std::vector<double> theta;     ///< final parameters
};

namespace detail {

/// Adam on the circuit parameters: `nn::adam_update` in the paper's form with the literal
/// coefficients (0.1, 0.001, ε = 1e-12) RobustState's training was written with.
struct adam_state {
  std::vector<double> m, v;
  int t = 0;
  void step(std::vector<double>& theta, const std::vector<double>& g, double lr) {
    if (m.empty()) m.assign(theta.size(), 0.0), v.assign(theta.size(), 0.0);
    ++t;
    nn::adam_update<double>(std::span<double>(theta), std::span<const double>(g.data(), theta.size()),
                            std::span<double>(m), std::span<double>(v), t,
                            nn::adam_update_options<double>::kingma_ba_fixed(lr));
  }
};

/// Number of non-identity letters of Pauli index k (base-4 digits, as in `pauli_label`).
[[nodiscard]] inline int pauli_weight(index_t k) noexcept {
  int w = 0;
  for (; k > 0; k /= 4) w += (k % 4) != 0;
  return w;
}

inline cmatrix pauli_sum_matrix(const std::vector<double>& weights, int n) {
  const index_t d = index_t(1) << n;
  cmatrix o = cmatrix::Zero(d, d);
  for (std::size_t k = 1; k < weights.size(); ++k)
    if (weights[k] != 0) o += pauli_matrix(pauli_string{pauli_label(static_cast<index_t>(k), n), weights[k]});
  return o;
}

/// `output_loss::distilled_state` at Pauli expectations `o` (o[0] = 1): the loss L = 1 − N/D,
/// N = ⟨ψ|ρ̂^m|ψ⟩, D = Tr(ρ̂^m), and the Hermitian M with dL = Tr(dρ̂·M), so that dL/do_P =
/// Tr(P·M)/d and Σ_P (dL/do_P)·P = M up to a multiple of I (the adjoint sweep's observable):
/// dN = Σ_{i<m} Tr(dρ̂·ρ̂^i·|ψ⟩⟨ψ|·ρ̂^(m−1−i)), dD = m·Tr(dρ̂·ρ̂^(m−1)).
struct loss_and_gradient {
  double loss = 0;
  cmatrix gradient;
};
[[nodiscard]] inline loss_and_gradient distilled_state_loss(const std::vector<double>& o, const cvector& psi, int n,
                                                            int m) {
  const index_t d = index_t(1) << n;
  cmatrix rho = pauli_sum_matrix(o, n);
  rho.diagonal().array() += 1.0;
  rho /= static_cast<double>(d);
  std::vector<cmatrix> power(static_cast<std::size_t>(m) + 1);  // ρ̂^0 ... ρ̂^m
  power[0] = cmatrix::Identity(d, d);
  for (std::size_t i = 1; i < power.size(); ++i) power[i] = power[i - 1] * rho;
  const double num = psi.dot(power[static_cast<std::size_t>(m)] * psi).real();
  const double den = power[static_cast<std::size_t>(m)].trace().real();
  check(den > 1e-12, "frugal::quantum::train_on_outputs: the measured state's Tr(rho^", m, ") = ", den,
        " is not positive");
  const cmatrix target = psi * psi.adjoint();
  cmatrix dnum = cmatrix::Zero(d, d);
  for (std::size_t i = 0; i < static_cast<std::size_t>(m); ++i)
    dnum += power[i] * target * power[static_cast<std::size_t>(m) - 1 - i];
  const cmatrix dden = static_cast<double>(m) * power[static_cast<std::size_t>(m) - 1];
  return {1 - num / den, -(dnum / den - (num / (den * den)) * dden)};
}

}  // namespace detail

/// Noise-unaware training: maximise |⟨ψ|ψ(θ)⟩|² on the noiseless state-vector simulator (adjoint
/// gradients, Adam), its registers of real type `R` on `exec`.
template <Real R = double, ExecutionSpace Space = default_host_space>
[[nodiscard]] state_preparation_trace train_noiseless(
    const circuit& ansatz, const cvector& target, std::vector<double> theta,
    const state_preparation_options& options = {},
    const std::function<double(const std::vector<double>&)>& monitor = {}, const Space& exec = Space{}) {
  check(target.size() == (index_t(1) << ansatz.qubits()), "frugal::quantum::train_noiseless: target dimension ",
        target.size(), " for ", ansatz.qubits(), " qubits");
  const observable projector{{}, {}, -(target * target.adjoint())};
  state_preparation_trace trace;
  detail::adam_state adam;
  for (int s = 0; s < options.steps; ++s) {
    const auto vg = adjoint_gradient<R, Space>(ansatz, theta, projector, exec);
    trace.loss.push_back(1 + vg.value);
    adam.step(theta, vg.gradient, options.learning_rate);
    if (monitor) trace.fidelity.push_back(monitor(theta));
    if (options.progress) {
      const metric m[1] = {{"infidelity", trace.loss.back()}};
      options.progress({"noiseless", s + 1, options.steps, m});
    }
  }
  trace.theta = theta;
  return trace;
}

/// Training on measured outputs: `outputs(θ)` returns the 4^n Pauli expectations of the prepared
/// state (from a device, or from a noise model); the loss is (1/d)·Σ_{P≠I} λ_P·(o_P − c_P)² (λ_P = 1,
/// or 3^−w(P) with `output_loss::basis_distributions`), or the infidelity of the state the outputs
/// reconstruct, virtually distilled (`output_loss::distilled_state`); its gradient is chained
/// through a simulator's Jacobian at θ in one adjoint sweep (the noiseless state vector's, or the
/// density matrix's under `options.jacobian_noise`), its registers of real type `R` on `exec`.
template <Real R = double, ExecutionSpace Space = default_host_space>
[[nodiscard]] state_preparation_trace train_on_outputs(
    const circuit& ansatz, const cvector& target, std::vector<double> theta,
    const std::function<std::vector<double>(const std::vector<double>&)>& outputs,
    const state_preparation_options& options = {},
    const std::function<double(const std::vector<double>&)>& monitor = {}, const Space& exec = Space{}) {
  const int n = ansatz.qubits();
  check(target.size() == (index_t(1) << n), "frugal::quantum::train_on_outputs: target dimension ", target.size(),
        " for ", n, " qubits");
  const auto c = pauli_coefficients(target);
  const double d = static_cast<double>(target.size());
  check(options.loss != output_loss::distilled_state || options.distillation_power >= 1,
        "frugal::quantum::train_on_outputs: distillation_power = ", options.distillation_power, " must be >= 1");
  std::vector<double> lambda(c.size(), 1.0);
  if (options.loss == output_loss::basis_distributions)
    for (std::size_t k = 0; k < c.size(); ++k)
      lambda[k] = std::pow(3.0, -detail::pauli_weight(static_cast<index_t>(k)));
  state_preparation_trace trace;
  detail::adam_state adam;
  for (int s = 0; s < options.steps; ++s) {
    const auto o = outputs(theta);
    check(o.size() == c.size(), "frugal::quantum::train_on_outputs: ", o.size(), " outputs, expected ", c.size());
    // Jᵀg in one adjoint sweep: ∇θ ⟨Σ_P g_P·P⟩ on the simulator, g_P = dL/do_P.
    double loss = 0;
    cmatrix weighted;
    if (options.loss == output_loss::distilled_state) {
      auto lg = detail::distilled_state_loss(o, target, n, options.distillation_power);
      loss = lg.loss;
      weighted = std::move(lg.gradient);
    } else {
      std::vector<double> g(c.size(), 0.0);
      for (std::size_t k = 1; k < c.size(); ++k) {
        loss += lambda[k] * (o[k] - c[k]) * (o[k] - c[k]) / d;
        g[k] = 2 * lambda[k] * (o[k] - c[k]) / d;
      }
      weighted = detail::pauli_sum_matrix(g, n);
    }
    const auto vg = options.jacobian_noise
                        ? density_adjoint_gradient<R, Space>(ansatz, theta, weighted, options.jacobian_noise, exec)
                        : adjoint_gradient<R, Space>(ansatz, theta, observable{{}, {}, weighted}, exec);
    trace.loss.push_back(loss);
    adam.step(theta, vg.gradient, options.learning_rate);
    if (monitor) trace.fidelity.push_back(monitor(theta));
    if (options.progress) {
      const metric m[2] = {{"loss", loss}, {"fidelity", monitor ? trace.fidelity.back() : 0.0}};
      options.progress({"robuststate", s + 1, options.steps, std::span<const metric>(m, monitor ? 2 : 1)});
    }
  }
  trace.theta = theta;
  return trace;
}

}  // namespace frugal::quantum
