#pragma once
/// \file
/// Quantum registers held in Kokkos Views: `state_vector` (2^n amplitudes) and `density_matrix`
/// (2^n × 2^n, row-major), in single or double precision, on any execution space's memory.
/// Host-side accessors copy to Eigen (double) for analysis and tests.

#include <Kokkos_Core.hpp>

#include <cmath>
#include <string>

#include "types.hpp"

namespace frugal::quantum {

namespace detail {

/// Zeroes a register's View and sets entry 0 to 1 (|0…0⟩, or |0…0⟩⟨0…0| for ρ).
template <class Exec, class ViewT>
void set_first_basis_state(const Exec& exec, const ViewT& v) {
  using value = typename ViewT::non_const_value_type;
  Kokkos::deep_copy(exec, v, value(0, 0));
  auto one = Kokkos::subview(v, std::make_pair(index_t(0), index_t(1)));
  Kokkos::deep_copy(exec, one, value(1, 0));
  exec.fence();
}

}  // namespace detail

/// A pure state of n qubits: 2^n complex amplitudes, basis index bit q = qubit q.
/// \tparam R float or double
/// \tparam Space the execution space whose memory holds the amplitudes and that runs its kernels
template <Real R = double, ExecutionSpace Space = default_host_space>
class state_vector {
 public:
  using real_type = R;
  using execution_space = Space;
  using memory_space = typename Space::memory_space;
  using view_type = Kokkos::View<complex<R>*, memory_space>;

  /// |0…0⟩ on `qubits` qubits (1 ≤ qubits ≤ 30).
  explicit state_vector(int qubits, Space exec = Space{}) : m_exec(std::move(exec)), m_qubits(qubits) {
    check(qubits >= 1 && qubits <= max_state_vector_qubits, "frugal::quantum::state_vector: ", qubits,
          " qubits (supported: 1 to ", max_state_vector_qubits, ")");
    m_data = view_type("frugal::quantum::state_vector", index_t(1) << qubits);
    reset();
  }

  [[nodiscard]] int qubits() const noexcept { return m_qubits; }
  [[nodiscard]] index_t dimension() const noexcept { return index_t(1) << m_qubits; }
  [[nodiscard]] const view_type& data() const noexcept { return m_data; }
  [[nodiscard]] const Space& space() const noexcept { return m_exec; }

  /// Back to |0…0⟩.
  void reset() { detail::set_first_basis_state(m_exec, m_data); }

  /// The amplitudes on the host, in double.
  [[nodiscard]] cvector to_host() const {
    auto h = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace{}, m_data);
    cvector out(dimension());
    for (index_t i = 0; i < dimension(); ++i)
      out[i] = {static_cast<double>(h(i).real()), static_cast<double>(h(i).imag())};
    return out;
  }

  /// A deep copy (copying the object itself shares the View, as Kokkos Views do).
  [[nodiscard]] state_vector clone() const {
    state_vector out(m_qubits, m_exec);
    Kokkos::deep_copy(m_exec, out.m_data, m_data);
    m_exec.fence();
    return out;
  }

  /// Sets the amplitudes; `psi` must have 2^n entries and unit norm (within `tolerance`).
  void assign(const cvector& psi, double tolerance = 1e-8) {
    check_extent("frugal::quantum::state_vector::assign", "dimension", psi.size(), dimension());
    check(psi.allFinite(), "frugal::quantum::state_vector::assign: non-finite amplitudes");
    const double norm = psi.norm();
    check(std::abs(norm - 1) <= tolerance, "frugal::quantum::state_vector::assign: norm ", norm, " is not 1");
    auto h = Kokkos::create_mirror_view(m_data);
    for (index_t i = 0; i < dimension(); ++i)
      h(i) = complex<R>(static_cast<R>(psi[i].real()), static_cast<R>(psi[i].imag()));
    Kokkos::deep_copy(m_exec, m_data, h);
    m_exec.fence();
  }

 private:
  Space m_exec;
  int m_qubits;
  view_type m_data;
};

/// A mixed state of n qubits: the 2^n × 2^n density matrix ρ, stored row-major in one View of
/// 4^n entries (entry (r, c) at r·2^n + c).
template <Real R = double, ExecutionSpace Space = default_host_space>
class density_matrix {
 public:
  using real_type = R;
  using execution_space = Space;
  using memory_space = typename Space::memory_space;
  using view_type = Kokkos::View<complex<R>*, memory_space>;

  /// |0…0⟩⟨0…0| on `qubits` qubits (1 ≤ qubits ≤ 15).
  explicit density_matrix(int qubits, Space exec = Space{}) : m_exec(std::move(exec)), m_qubits(qubits) {
    check(qubits >= 1 && qubits <= max_density_matrix_qubits, "frugal::quantum::density_matrix: ", qubits,
          " qubits (supported: 1 to ", max_density_matrix_qubits, ")");
    m_data = view_type("frugal::quantum::density_matrix", index_t(1) << (2 * qubits));
    reset();
  }

  [[nodiscard]] int qubits() const noexcept { return m_qubits; }
  /// 2^n, the number of rows (and columns).
  [[nodiscard]] index_t dimension() const noexcept { return index_t(1) << m_qubits; }
  [[nodiscard]] const view_type& data() const noexcept { return m_data; }
  [[nodiscard]] const Space& space() const noexcept { return m_exec; }

  /// Back to |0…0⟩⟨0…0|.
  void reset() { detail::set_first_basis_state(m_exec, m_data); }

  /// ρ on the host, in double.
  [[nodiscard]] cmatrix to_host() const {
    auto h = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace{}, m_data);
    const index_t d = dimension();
    cmatrix out(d, d);
    for (index_t r = 0; r < d; ++r)
      for (index_t c = 0; c < d; ++c) {
        const auto z = h(r * d + c);
        out(r, c) = {static_cast<double>(z.real()), static_cast<double>(z.imag())};
      }
    return out;
  }

  /// A deep copy (copying the object itself shares the View, as Kokkos Views do).
  [[nodiscard]] density_matrix clone() const {
    density_matrix out(m_qubits, m_exec);
    Kokkos::deep_copy(m_exec, out.m_data, m_data);
    m_exec.fence();
    return out;
  }

  /// Sets ρ; it must be 2^n × 2^n, Hermitian and of unit trace within `tolerance`, and positive
  /// semidefinite (smallest eigenvalue ≥ −tolerance).
  void assign(const cmatrix& rho, double tolerance = 1e-8) {
    const char* where = "frugal::quantum::density_matrix::assign";
    check_extent(where, "rows", rho.rows(), dimension());
    check_extent(where, "cols", rho.cols(), dimension());
    check(rho.allFinite(), where, ": non-finite entries");
    const double herm = (rho - rho.adjoint()).cwiseAbs().maxCoeff();
    check(herm <= tolerance, where, ": matrix is not Hermitian (max |rho - rho^dagger| = ", herm, ")");
    const double tr = rho.trace().real();
    check(std::abs(tr - 1) <= tolerance, where, ": trace ", tr, " is not 1");
    const double lmin = Eigen::SelfAdjointEigenSolver<cmatrix>(rho, Eigen::EigenvaluesOnly).eigenvalues().minCoeff();
    check(lmin >= -tolerance, where, ": matrix is not positive semidefinite (smallest eigenvalue ", lmin, ")");
    auto h = Kokkos::create_mirror_view(m_data);
    const index_t d = dimension();
    for (index_t r = 0; r < d; ++r)
      for (index_t c = 0; c < d; ++c)
        h(r * d + c) = complex<R>(static_cast<R>(rho(r, c).real()), static_cast<R>(rho(r, c).imag()));
    Kokkos::deep_copy(m_exec, m_data, h);
    m_exec.fence();
  }

  /// ρ = |ψ⟩⟨ψ|.
  void assign_pure(const cvector& psi, double tolerance = 1e-8) {
    check_extent("frugal::quantum::density_matrix::assign_pure", "dimension", psi.size(), dimension());
    check(std::abs(psi.norm() - 1) <= tolerance, "frugal::quantum::density_matrix::assign_pure: norm ", psi.norm(),
          " is not 1");
    assign(psi * psi.adjoint(), 1e-6);
  }

 private:
  Space m_exec;
  int m_qubits;
  view_type m_data;
};

}  // namespace frugal::quantum
