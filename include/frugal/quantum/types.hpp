#pragma once
/// \file
/// Basic types of frugal/quantum: complex scalars for kernels (`Kokkos::complex`, usable on every
/// back end), Eigen complex matrices for host-side algebra (always double), small fixed-size
/// matrices that kernels capture by value, and the argument checks every entry point shares.
///
/// Conventions (Qiskit's): qubit q is bit q of a basis-state index (little-endian); a matrix on the
/// qubit list (q0, q1, …) indexes its rows and columns by b(q0) + 2·b(q1) + 4·b(q2) + …. A
/// density matrix of n qubits is stored row-major, entry (r, c) at r·2^n + c. A superoperator on k
/// qubits acts on the row-major vectorization of the 2^k × 2^k block: vec(KρK†) = (K ⊗ K̄)·vec(ρ).

#include <Eigen/Dense>
#include <Kokkos_Complex.hpp>

#include <algorithm>
#include <complex>
#include <concepts>
#include <initializer_list>
#include <string>
#include <vector>

#include "../core/config.hpp"
#include "../core/error.hpp"
#include "../core/execution.hpp"
#include "../core/scalar.hpp"

namespace frugal::quantum {

/// Floating-point types a register may hold: the same notion as core's `frugal::Scalar` (float or
/// double), under the name the quantum headers use for it.
template <class R>
concept Real = Scalar<R>;

/// The complex scalar of registers and kernels.
template <class R>
using complex = Kokkos::complex<R>;

using cvector = Eigen::VectorXcd;  ///< host-side complex vector (double)
using cmatrix = Eigen::MatrixXcd;  ///< host-side complex matrix (double)

/// A 2^k × 2^k complex matrix held by value (row-major), so kernels can capture it on any device.
template <class R, int D>
struct small_matrix {
  complex<R> a[D * D];

  FRUGAL_FUNCTION const complex<R>& operator()(int r, int c) const { return a[r * D + c]; }

  /// Converts (and rounds to R) a host matrix; it must be D × D.
  static small_matrix from(const cmatrix& m) {
    check(m.rows() == D && m.cols() == D, "frugal::quantum: expected a ", D, "x", D, " matrix, got ", m.rows(), "x",
          m.cols());
    small_matrix s{};
    for (int r = 0; r < D; ++r)
      for (int c = 0; c < D; ++c)
        s.a[r * D + c] = complex<R>(static_cast<R>(m(r, c).real()), static_cast<R>(m(r, c).imag()));
    return s;
  }
};

/// Largest register sizes: 2^30 amplitudes and 4^15 density-matrix entries (16 GiB in double).
inline constexpr int max_state_vector_qubits = 30;
inline constexpr int max_density_matrix_qubits = 15;

/// Throws unless every qubit is in [0, n) and no qubit appears twice.
inline void check_qubits(const char* where, std::initializer_list<int> qubits, int n) {
  for (auto it = qubits.begin(); it != qubits.end(); ++it) {
    check(*it >= 0 && *it < n, where, ": qubit ", *it, " out of range for a ", n, "-qubit register");
    for (auto jt = qubits.begin(); jt != it; ++jt) check(*jt != *it, where, ": qubit ", *it, " repeated");
  }
}

/// ‖U†U − I‖_max.
inline double unitarity_error(const cmatrix& u) {
  return (u.adjoint() * u - cmatrix::Identity(u.rows(), u.cols())).cwiseAbs().maxCoeff();
}

/// Throws unless `u` is a square unitary of dimension `dim` within `tolerance`.
inline void check_unitary(const char* where, const cmatrix& u, index_t dim, double tolerance = 1e-8) {
  check(u.rows() == dim && u.cols() == dim, where, ": expected a ", dim, "x", dim, " matrix, got ", u.rows(), "x",
        u.cols());
  check(u.allFinite(), where, ": matrix has non-finite entries");
  const double e = unitarity_error(u);
  check(e <= tolerance, where, ": matrix is not unitary (max |U†U - I| = ", e, ", tolerance ", tolerance, ")");
}

/// Throws unless p is a probability.
inline void check_probability(const char* where, const char* what, double p) {
  check(p >= 0 && p <= 1, where, ": ", what, " = ", p, " is not a probability in [0, 1]");
}

/// Kronecker product a ⊗ b (a's index is the more significant one).
inline cmatrix kron(const cmatrix& a, const cmatrix& b) {
  cmatrix k(a.rows() * b.rows(), a.cols() * b.cols());
  for (index_t i = 0; i < a.rows(); ++i)
    for (index_t j = 0; j < a.cols(); ++j) k.block(i * b.rows(), j * b.cols(), b.rows(), b.cols()) = a(i, j) * b;
  return k;
}

}  // namespace frugal::quantum
