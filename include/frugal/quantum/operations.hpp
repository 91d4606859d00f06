#pragma once
/// \file
/// Gates and channels applied to registers. On a density matrix every operation is one pass over
/// memory: a one-qubit unitary or channel is its 4 × 4 superoperator on the (column, row) bits of
/// the qubit; a two-qubit unitary conjugates each 4 × 4 block (U B U†); a two-qubit channel is its
/// 16 × 16 superoperator. Each function has an overload taking the execution-space instance
/// explicitly; the others run on the register's own instance.

#include <array>

#include "channels.hpp"
#include "concepts.hpp"
#include "kernels.hpp"
#include "registers.hpp"

namespace frugal::quantum {

namespace detail {

/// M·v on `bits`, through the monomial kernel when M has one non-zero per row.
template <int K, ExecutionSpace Exec, class ViewT, Real R>
void apply_matrix(const Exec& exec, const ViewT& v, int m, const cmatrix& mat, const std::array<int, K>& bits) {
  constexpr int D = 1 << K;
  monomial_matrix<R, D> mono{};
  if (monomial_matrix<R, D>::from(mat, mono))
    apply_bits<K>(exec, v, m, mono, bits);
  else
    apply_bits<K>(exec, v, m, small_matrix<R, D>::from(mat), bits);
}

}  // namespace detail

// ---- state vectors ---------------------------------------------------------------------------

/// ψ ← Uψ for a 2 × 2 unitary on qubit q.
template <ExecutionSpace Exec, Real R, class S>
void apply_unitary(const Exec& exec, state_vector<R, S>& psi, const cmatrix& u, int q) {
  check_qubits("frugal::quantum::apply_unitary", {q}, psi.qubits());
  check_unitary("frugal::quantum::apply_unitary", u, 2);
  detail::apply_matrix<1, Exec, typename state_vector<R, S>::view_type, R>(exec, psi.data(), psi.qubits(), u, {q});
}

/// ψ ← Uψ for a 4 × 4 unitary on (q0, q1) (index b(q0) + 2·b(q1)).
template <ExecutionSpace Exec, Real R, class S>
void apply_unitary(const Exec& exec, state_vector<R, S>& psi, const cmatrix& u, int q0, int q1) {
  check_qubits("frugal::quantum::apply_unitary", {q0, q1}, psi.qubits());
  check_unitary("frugal::quantum::apply_unitary", u, 4);
  detail::apply_matrix<2, Exec, typename state_vector<R, S>::view_type, R>(exec, psi.data(), psi.qubits(), u, {q0, q1});
}

// ---- density matrices ------------------------------------------------------------------------

/// ρ ← S(ρ) for a 4 × 4 superoperator on qubit q (no CPTP check: see `apply_channel`).
template <ExecutionSpace Exec, Real R, class S>
void apply_superoperator(const Exec& exec, density_matrix<R, S>& rho, const cmatrix& s, int q) {
  check_qubits("frugal::quantum::apply_superoperator", {q}, rho.qubits());
  const int n = rho.qubits();
  detail::apply_matrix<2, Exec, typename density_matrix<R, S>::view_type, R>(exec, rho.data(), 2 * n, s, {q, n + q});
}

/// ρ ← S(ρ) for a 16 × 16 superoperator on (q0, q1).
template <ExecutionSpace Exec, Real R, class S>
void apply_superoperator(const Exec& exec, density_matrix<R, S>& rho, const cmatrix& s, int q0, int q1) {
  check_qubits("frugal::quantum::apply_superoperator", {q0, q1}, rho.qubits());
  const int n = rho.qubits();
  detail::apply_matrix<4, Exec, typename density_matrix<R, S>::view_type, R>(exec, rho.data(), 2 * n, s,
                                                                             {q0, q1, n + q0, n + q1});
}

/// ρ ← UρU† for a 2 × 2 unitary on qubit q.
template <ExecutionSpace Exec, Real R, class S>
void apply_unitary(const Exec& exec, density_matrix<R, S>& rho, const cmatrix& u, int q) {
  check_qubits("frugal::quantum::apply_unitary", {q}, rho.qubits());
  check_unitary("frugal::quantum::apply_unitary", u, 2);
  apply_superoperator(exec, rho, kron(u, u.conjugate()), q);
}

/// ρ ← UρU† for a 4 × 4 unitary on (q0, q1).
template <ExecutionSpace Exec, Real R, class S>
void apply_unitary(const Exec& exec, density_matrix<R, S>& rho, const cmatrix& u, int q0, int q1) {
  check_qubits("frugal::quantum::apply_unitary", {q0, q1}, rho.qubits());
  check_unitary("frugal::quantum::apply_unitary", u, 4);
  const int n = rho.qubits();
  // U monomial ⇔ U ⊗ Ū monomial: then one multiply per entry, else U·B·U† per 4 × 4 block.
  monomial_matrix<R, 16> mono{};
  if (monomial_matrix<R, 16>::from(kron(u, u.conjugate()), mono))
    apply_bits<4>(exec, rho.data(), 2 * n, mono, {q0, q1, n + q0, n + q1});
  else
    apply_conjugation(exec, rho.data(), n, small_matrix<R, 4>::from(u), q0, q1);
}

/// ρ ← E(ρ) for a one-qubit channel on q.
template <ExecutionSpace Exec, Real R, class S>
void apply_channel(const Exec& exec, density_matrix<R, S>& rho, const channel& e, int q) {
  check(e.qubits() == 1, "frugal::quantum::apply_channel: a ", e.qubits(), "-qubit channel on one qubit");
  apply_superoperator(exec, rho, e.superoperator(), q);
}

/// ρ ← E(ρ) for a two-qubit channel on (q0, q1).
template <ExecutionSpace Exec, Real R, class S>
void apply_channel(const Exec& exec, density_matrix<R, S>& rho, const channel& e, int q0, int q1) {
  check(e.qubits() == 2, "frugal::quantum::apply_channel: a ", e.qubits(), "-qubit channel on two qubits");
  apply_superoperator(exec, rho, e.superoperator(), q0, q1);
}

// ---- overloads on the register's own execution-space instance ---------------------------------

template <Register Reg, class... Qubits>
void apply_unitary(Reg& reg, const cmatrix& u, Qubits... q) {
  apply_unitary(reg.space(), reg, u, q...);
}
template <Real R, class S, class... Qubits>
void apply_superoperator(density_matrix<R, S>& rho, const cmatrix& s, Qubits... q) {
  apply_superoperator(rho.space(), rho, s, q...);
}
template <Real R, class S, class... Qubits>
void apply_channel(density_matrix<R, S>& rho, const channel& e, Qubits... q) {
  apply_channel(rho.space(), rho, e, q...);
}

}  // namespace frugal::quantum
