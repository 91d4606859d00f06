#pragma once
/// \file
/// Gradients of parameterised circuits.
/// - `adjoint_gradient`: exact gradient of ⟨ψ(θ)|O|ψ(θ)⟩ for state vectors in one backward sweep
///   (Jones & Gacon 2020), O a Pauli sum or a diagonal (weights on basis states, which covers any
///   linear function of the output probabilities).
/// - `parameter_shift_jacobian`: the Jacobian of any vector of outputs (expectations,
///   probabilities, on either register, with or without noise) by the parameter-shift rule, applied
///   per gate occurrence (two-term for rotations, four-term for controlled rotations).
/// - `vector_jacobian_product`: Jᵀ·(dL/d outputs), for outputs measured elsewhere (e.g. on a
///   device): the simulator supplies J, the caller supplies dL/d outputs.

#include <Kokkos_Core.hpp>

#include <cmath>
#include <functional>
#include <numbers>
#include <vector>

#include "circuit.hpp"
#include "measurement.hpp"

namespace frugal::quantum {

/// An observable for `adjoint_gradient`: the sum of a Pauli sum, a real diagonal (one weight per
/// basis state, when non-empty) and a dense Hermitian matrix (when non-empty; applied on the host).
struct observable {
  std::vector<pauli_string> terms = {};
  std::vector<double> diagonal = {};
  cmatrix dense = {};
};

namespace detail {

/// out ← O·in for a state vector (both on the same space).
template <Real R, class S>
void apply_observable(const observable& o, const state_vector<R, S>& in, state_vector<R, S>& out) {
  using Exec = typename state_vector<R, S>::execution_space;
  const index_t d = in.dimension();
  const int n = in.qubits();
  auto x = in.data();
  auto y = out.data();
  Kokkos::deep_copy(in.space(), y, complex<R>(0, 0));
  if (!o.diagonal.empty()) {
    check(static_cast<index_t>(o.diagonal.size()) == d, "frugal::quantum::observable: ", o.diagonal.size(),
          " diagonal weights for ", d, " basis states");
    Kokkos::View<R*, typename state_vector<R, S>::memory_space> w("frugal::quantum::observable::weights", d);
    auto hw = Kokkos::create_mirror_view(w);
    for (index_t i = 0; i < d; ++i) hw(i) = static_cast<R>(o.diagonal[static_cast<std::size_t>(i)]);
    Kokkos::deep_copy(w, hw);
    Kokkos::parallel_for(
        "frugal::quantum::apply_observable_diagonal",
        Kokkos::RangePolicy<Exec, Kokkos::IndexType<index_t>>(in.space(), 0, d),
        KOKKOS_LAMBDA(index_t c) { y(c) = w(c) * x(c); });
  }
  if (o.dense.size() > 0) {
    check(o.dense.rows() == d && o.dense.cols() == d, "frugal::quantum::observable: dense matrix is ", o.dense.rows(),
          "x", o.dense.cols(), " for ", d, " basis states");
    auto hx = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace{}, x);
    auto hy = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace{}, y);
    cvector xv(d);
    for (index_t i = 0; i < d; ++i) xv[i] = {static_cast<double>(hx(i).real()), static_cast<double>(hx(i).imag())};
    const cvector yv = o.dense * xv;
    for (index_t i = 0; i < d; ++i) hy(i) += complex<R>(static_cast<R>(yv[i].real()), static_cast<R>(yv[i].imag()));
    Kokkos::deep_copy(y, hy);
  }
  for (const auto& p : o.terms) {
    const auto masks = pauli_masks(p, n);
    const index_t xmask = masks.x, zmask = masks.z;
    const int ny = masks.ny;
    // (P·ψ)(c) = ⟨c|P|c ⊕ x⟩·ψ(c ⊕ x) = (−i)^ny (−1)^{|c ∧ z|} ψ(c ⊕ x)
    const std::complex<double> ph = std::pow(std::complex<double>(0, -1), ny) * p.coefficient;
    const complex<R> phase(static_cast<R>(ph.real()), static_cast<R>(ph.imag()));
    Kokkos::parallel_for(
        "frugal::quantum::apply_observable_pauli",
        Kokkos::RangePolicy<Exec, Kokkos::IndexType<index_t>>(in.space(), 0, d), KOKKOS_LAMBDA(index_t c) {
          const complex<R> v = phase * x(c ^ xmask);
          y(c) += parity(c & zmask) ? -v : v;
        });
  }
  in.space().fence();
}

/// ⟨a|b⟩.
template <Real R, class S>
std::complex<double> inner(const state_vector<R, S>& a, const state_vector<R, S>& b) {
  auto x = a.data();
  auto y = b.data();
  const double re = reproducible_sum<double>(
      "frugal::quantum::inner_re", a.space(), a.dimension(),
      KOKKOS_LAMBDA(index_t i, double& acc) { acc += static_cast<double>((Kokkos::conj(x(i)) * y(i)).real()); });
  const double im = reproducible_sum<double>(
      "frugal::quantum::inner_im", a.space(), a.dimension(),
      KOKKOS_LAMBDA(index_t i, double& acc) { acc += static_cast<double>((Kokkos::conj(x(i)) * y(i)).imag()); });
  return {re, im};
}

/// v ← M·v for a (not necessarily unitary) gate-sized matrix on the operation's qubits.
template <Real R, class S>
void apply_raw(state_vector<R, S>& v, const cmatrix& m, const operation& op) {
  if (gate_qubits(op.kind) == 1)
    apply_bits<1>(v.space(), v.data(), v.qubits(), small_matrix<R, 2>::from(m), {op.q0});
  else
    apply_bits<2>(v.space(), v.data(), v.qubits(), small_matrix<R, 4>::from(m), {op.q0, op.q1});
}

}  // namespace detail

/// Value and gradient of a scalar objective.
struct value_and_gradient {
  double value = 0;
  std::vector<double> gradient;
};

/// ⟨O⟩ at θ and its exact gradient for the circuit run on |0…0⟩, by the adjoint method: one
/// forward run, then one backward sweep un-applying each gate from |ψ⟩ and from |λ⟩ = O|ψ⟩, with
/// ∂⟨O⟩/∂a = 2·Re⟨λ|∂U/∂a|ψ_before⟩ for every angle of every gate (chain rule through `scale`).
template <Real R = double, ExecutionSpace Space = default_host_space>
[[nodiscard]] value_and_gradient adjoint_gradient(const circuit& c, const std::vector<double>& theta,
                                                  const observable& o, Space exec = Space{}) {
  c.check_parameters(theta);
  state_vector<R, Space> psi(c.qubits(), exec), lambda(c.qubits(), exec), tmp(c.qubits(), exec);
  run(c, theta, psi);
  detail::apply_observable(o, psi, lambda);
  value_and_gradient out;
  out.value = detail::inner(psi, lambda).real();
  out.gradient.assign(theta.size(), 0.0);
  const auto& ops = c.operations();
  for (auto it = ops.rbegin(); it != ops.rend(); ++it) {
    const operation& op = *it;
    const cmatrix u = circuit::matrix(op, theta);
    const cmatrix uinv = u.adjoint();
    if (gate_qubits(op.kind) == 1)
      apply_unitary(psi, uinv, op.q0);
    else
      apply_unitary(psi, uinv, op.q0, op.q1);
    const auto values = circuit::angle_values(op, theta);
    for (int j = 0; j < gate_angles(op.kind); ++j) {
      const angle& a = op.angles[static_cast<std::size_t>(j)];
      if (!a.is_parameter()) continue;
      Kokkos::deep_copy(exec, tmp.data(), psi.data());
      detail::apply_raw(tmp, gate_derivative(op.kind, values, j), op);
      out.gradient[static_cast<std::size_t>(a.index)] += 2 * a.scale * detail::inner(lambda, tmp).real();
    }
    if (gate_qubits(op.kind) == 1)
      apply_unitary(lambda, uinv, op.q0);
    else
      apply_unitary(lambda, uinv, op.q0, op.q1);
  }
  return out;
}

/// Outputs of a circuit: run it (with whatever register, noise and measurement) and return a
/// vector of numbers that is linear in the final state (expectations, probabilities).
using outputs_function = std::function<std::vector<double>(const circuit&, const std::vector<double>&)>;

/// The Jacobian ∂outputs_k/∂θ_i (rows: outputs, columns: parameters) by the parameter-shift
/// rule, applied to each gate occurrence by shifting that gate's angle alone (so shared
/// parameters and scaled angles are handled by the chain rule). Rotations exp(−iaG/2) with
/// G² = I (rx, ry, rz, rzz, rzx, phase, the three angles of u3, φ and λ of cu3) use the two-term
/// rule [f(a + π/2) − f(a − π/2)]/2; controlled rotations (crx, cry, crz, θ of cu3) the four-term
/// rule. Exact for any outputs linear in ρ, including noisy runs whose channels do not depend
/// on the angles.
[[nodiscard]] inline Eigen::MatrixXd parameter_shift_jacobian(const circuit& c, const std::vector<double>& theta,
                                                              const outputs_function& outputs) {
  c.check_parameters(theta);
  const std::vector<double> base = outputs(c, theta);
  Eigen::MatrixXd jac = Eigen::MatrixXd::Zero(static_cast<index_t>(base.size()), static_cast<index_t>(theta.size()));
  const double h = std::numbers::pi / 2;
  const double dp = (std::sqrt(2.0) + 1) / (4 * std::sqrt(2.0)), dm = (std::sqrt(2.0) - 1) / (4 * std::sqrt(2.0));
  for (std::size_t k = 0; k < c.size(); ++k) {
    const operation& op = c.operations()[k];
    for (int j = 0; j < gate_angles(op.kind); ++j) {
      const angle& a = op.angles[static_cast<std::size_t>(j)];
      if (!a.is_parameter()) continue;
      auto shifted = [&](double s) {
        auto v = outputs(c.with_angle_shift(k, j, s), theta);
        check(v.size() == base.size(), "frugal::quantum::parameter_shift_jacobian: outputs changed length");
        return Eigen::Map<const Eigen::VectorXd>(v.data(), static_cast<index_t>(v.size())).eval();
      };
      const bool four_term = op.kind == gate_kind::crx || op.kind == gate_kind::cry || op.kind == gate_kind::crz ||
                             (op.kind == gate_kind::cu3 && j == 0);
      Eigen::VectorXd d;
      if (four_term)
        d = dp * (shifted(h) - shifted(-h)) - dm * (shifted(3 * h) - shifted(-3 * h));
      else
        d = 0.5 * (shifted(h) - shifted(-h));
      jac.col(a.index) += a.scale * d;
    }
  }
  return jac;
}

/// Jᵀ·g: the gradient of L through outputs whose derivative dL/d outputs = g was computed
/// elsewhere (the outputs may come from a device; J from the simulator).
[[nodiscard]] inline std::vector<double> vector_jacobian_product(const Eigen::MatrixXd& jacobian,
                                                                 const std::vector<double>& dl_doutputs) {
  check(static_cast<index_t>(dl_doutputs.size()) == jacobian.rows(),
        "frugal::quantum::vector_jacobian_product: ", dl_doutputs.size(), " output gradients for ", jacobian.rows(),
        " outputs");
  const Eigen::VectorXd g =
      jacobian.transpose() * Eigen::Map<const Eigen::VectorXd>(dl_doutputs.data(), jacobian.rows());
  return {g.data(), g.data() + g.size()};
}

}  // namespace frugal::quantum
