#pragma once
/// \file
/// Noisy simulation of a circuit on a density matrix (`simulate`), and the exact gradient of an
/// observable's expectation under noise by an adjoint sweep (`density_adjoint_gradient`).

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <numbers>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "../core/parallel.hpp"
#include "circuit.hpp"
#include "gradients.hpp"
#include "measurement.hpp"
#include "noise_model.hpp"
#include "operations.hpp"

namespace frugal::quantum {

/// ρ after running `c` from |0…0⟩ with `noise` (nullptr: noiseless), before readout, in a register
/// of real type `R` on `exec`.
template <Real R = double, ExecutionSpace Space = default_host_space>
[[nodiscard]] density_matrix<R, Space> simulate(const circuit& c, const std::vector<double>& theta,
                                                const noise_model* noise = nullptr, Space exec = Space{}) {
  c.check_parameters(theta);
  if (noise) detail::check_circuit_fits("frugal::quantum::simulate", c.qubits(), noise->device_calibration());
  density_matrix<R, Space> rho(c.qubits(), std::move(exec));
  for (const auto& op : c.operations()) {
    if (noise)
      noise->apply(rho, op, circuit::matrix(op, theta));
    else
      apply_operation(rho, op, theta);
  }
  return rho;
}

namespace detail {

/// Re Tr(A·B) of two registers' flat 4^n entries (A(r, c) at r·d + c), summed on their space.
template <Real R, class S>
[[nodiscard]] double trace_of_product(const density_matrix<R, S>& a, const density_matrix<R, S>& b) {
  const auto x = a.data();
  const auto y = b.data();
  const index_t d = a.dimension();
  return reproducible_sum<double>(
      "frugal::quantum::trace_of_product", a.space(), d * d, KOKKOS_LAMBDA(index_t i, double& acc) {
        const index_t r = i / d, c = i % d;
        acc += static_cast<double>((x(i) * y(c * d + r)).real());
      });
}

}  // namespace detail

/// Tr(O·ρ(θ)) and its exact gradient for the circuit run from |0…0⟩ with `noise` (nullptr:
/// noiseless) on a density matrix, by an adjoint sweep in the Heisenberg picture: the forward pass
/// keeps ρ before each gate; the backward pass carries λ = O back through each gate's noise (the
/// adjoint channel, superoperator S†) and unitary (U†λU), and ∂/∂a of a gate's angle is
/// 2·Re Tr(λ·∂U·ρ·U†). Memory: one density matrix per gate. `observable` is a dense Hermitian
/// matrix on the host (n ≤ 10); the registers have real type `R` and live on `exec`.
template <Real R = double, ExecutionSpace Space = default_host_space>
[[nodiscard]] value_and_gradient density_adjoint_gradient(const circuit& c, const std::vector<double>& theta,
                                                          const cmatrix& observable, const noise_model* noise = nullptr,
                                                          Space exec = Space{}) {
  c.check_parameters(theta);
  const int n = c.qubits();
  const index_t d = index_t(1) << n;
  check(n <= 10, "frugal::quantum::density_adjoint_gradient: ", n, " qubits (at most 10)");
  check(observable.rows() == d && observable.cols() == d, "frugal::quantum::density_adjoint_gradient: observable is ",
        observable.rows(), "x", observable.cols(), " for ", n, " qubits");
  if (noise) detail::check_circuit_fits("frugal::quantum::density_adjoint_gradient", n, noise->device_calibration());
  const auto& ops = c.operations();
  std::vector<density_matrix<R, Space>> before;
  before.reserve(ops.size());
  density_matrix<R, Space> rho(n, exec);
  for (const auto& op : ops) {
    before.push_back(rho.clone());
    if (noise)
      noise->apply(rho, op, circuit::matrix(op, theta));
    else
      apply_operation(rho, op, theta);
  }
  // λ lives in a density_matrix register (it is Hermitian, not a state; the kernels do not care).
  density_matrix<R, Space> lambda(n, exec);
  {
    auto h = Kokkos::create_mirror_view(lambda.data());
    for (index_t r = 0; r < d; ++r)
      for (index_t col = 0; col < d; ++col)
        h(r * d + col) =
            complex<R>(static_cast<R>(observable(r, col).real()), static_cast<R>(observable(r, col).imag()));
    Kokkos::deep_copy(exec, lambda.data(), h);
    exec.fence();
  }
  value_and_gradient out;
  out.value = detail::trace_of_product(lambda, rho);
  out.gradient.assign(theta.size(), 0.0);
  for (std::size_t k = ops.size(); k-- > 0;) {
    const operation& op = ops[k];
    const int nq = gate_qubits(op.kind);
    if (noise) {
      const auto chans = noise->noise_after(op);
      for (auto it = chans.rbegin(); it != chans.rend(); ++it) {
        const cmatrix adj = it->e->superoperator().adjoint();
        if (it->q1 < 0)
          apply_superoperator(lambda, adj, it->q0);
        else
          apply_superoperator(lambda, adj, it->q0, it->q1);
      }
    }
    const cmatrix u = circuit::matrix(op, theta);
    const auto values = circuit::angle_values(op, theta);
    for (int j = 0; j < gate_angles(op.kind); ++j) {
      const angle& a = op.angles[static_cast<std::size_t>(j)];
      if (!a.is_parameter()) continue;
      auto x = before[k].clone();  // X = ∂U·ρ·U†, applied as the superoperator ∂U ⊗ Ū
      const cmatrix s = kron(gate_derivative(op.kind, values, j), u.conjugate());
      if (nq == 1)
        apply_superoperator(x, s, op.q0);
      else
        apply_superoperator(x, s, op.q0, op.q1);
      out.gradient[static_cast<std::size_t>(a.index)] += 2 * a.scale * detail::trace_of_product(lambda, x);
    }
    // λ ← U†·λ·U (the Heisenberg picture of ρ ↦ UρU†)
    if (nq == 1)
      apply_superoperator(lambda, kron(u.adjoint(), u.transpose()), op.q0);
    else
      apply_superoperator(lambda, kron(u.adjoint(), u.transpose()), op.q0, op.q1);
  }
  return out;
}

}  // namespace frugal::quantum
