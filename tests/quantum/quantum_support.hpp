#pragma once
// Independent references for the quantum tests: full-space operators built from Kronecker
// products and basis permutations, never from the kernels' bit-insertion code.
#include <doctest/doctest.h>

#include <frugal/quantum.hpp>

#include <numeric>
#include <vector>

namespace frugal::test {

using quantum::cmatrix;
using quantum::cvector;

inline cmatrix identity(index_t d) { return cmatrix::Identity(d, d); }

/// The permutation matrix that moves qubit perm[t] of the input to qubit t of the output
/// (perm is a permutation of 0..n-1): (P·e_i) = e_j with bit t of j = bit perm[t] of i.
inline cmatrix permutation(int n, const std::vector<int>& perm) {
  const index_t d = index_t(1) << n;
  cmatrix p = cmatrix::Zero(d, d);
  for (index_t i = 0; i < d; ++i) {
    index_t j = 0;
    for (int t = 0; t < n; ++t) j |= ((i >> perm[static_cast<std::size_t>(t)]) & 1) << t;
    p(j, i) = 1;
  }
  return p;
}

/// The n-qubit operator of a k-qubit `u` on `qubits`: permute those qubits to 0..k-1, apply
/// I ⊗ … ⊗ I ⊗ u there (Kronecker product), permute back.
inline cmatrix embed(const cmatrix& u, const std::vector<int>& qubits, int n) {
  const int k = static_cast<int>(qubits.size());
  std::vector<int> perm(qubits);
  for (int q = 0; q < n; ++q)
    if (std::find(qubits.begin(), qubits.end(), q) == qubits.end()) perm.push_back(q);
  const cmatrix p = permutation(n, perm);
  const cmatrix local = quantum::kron(identity(index_t(1) << (n - k)), u);
  return p.transpose() * local * p;
}

inline cvector random_state(int n, frugal::rng& gen) {
  cvector v(index_t(1) << n);
  for (index_t i = 0; i < v.size(); ++i) v[i] = {gen.normal(), gen.normal()};
  return v / v.norm();
}

inline cmatrix random_unitary(index_t d, frugal::rng& gen) {
  cmatrix a(d, d);
  for (index_t i = 0; i < d; ++i)
    for (index_t j = 0; j < d; ++j) a(i, j) = {gen.normal(), gen.normal()};
  Eigen::HouseholderQR<cmatrix> qr(a);
  return qr.householderQ();
}

/// Σ of `terms` random Pauli strings on n qubits with coefficients uniform in [−1, 1] (a dense
/// Hermitian observable for the gradient tests).
inline cmatrix random_pauli_observable(int n, int terms, frugal::rng& gen) {
  const index_t d = index_t(1) << n;
  cmatrix o = cmatrix::Zero(d, d);
  for (int k = 0; k < terms; ++k) {
    quantum::pauli_string p{"", gen.uniform(-1, 1)};
    for (int t = 0; t < n; ++t) p.ops += "IXYZ"[gen.uniform_int(4)];
    o += quantum::pauli_matrix(p);
  }
  return o;
}

/// A random full-rank mixed state.
inline cmatrix random_density(int n, frugal::rng& gen) {
  const index_t d = index_t(1) << n;
  cmatrix a(d, d);
  for (index_t i = 0; i < d; ++i)
    for (index_t j = 0; j < d; ++j) a(i, j) = {gen.normal(), gen.normal()};
  cmatrix rho = a * a.adjoint();
  return rho / rho.trace().real();
}

/// Trace 1, Hermitian and positive semidefinite within `tol`.
inline void require_physical(const cmatrix& rho, double tol) {
  REQUIRE(std::abs(rho.trace().real() - 1) <= tol);
  REQUIRE(std::abs(rho.trace().imag()) <= tol);
  REQUIRE((rho - rho.adjoint()).cwiseAbs().maxCoeff() <= tol);
  const double lmin = Eigen::SelfAdjointEigenSolver<cmatrix>(rho, Eigen::EigenvaluesOnly).eigenvalues().minCoeff();
  REQUIRE(lmin >= -tol);
}

}  // namespace frugal::test
