#pragma once
/// \file
/// Measurement and analysis: basis-state probabilities (computed where the register lives, then
/// copied to the host), marginals, readout confusion, seeded shot sampling, Pauli-string
/// expectation values, partial trace, purity and fidelities.

#include <Kokkos_Core.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "../core/parallel.hpp"
#include "../core/rng.hpp"
#include "concepts.hpp"
#include "gates.hpp"
#include "registers.hpp"

namespace frugal::quantum {

/// P(basis state i) for every i: |ψ_i|² or ρ_ii.
template <Register Reg>
[[nodiscard]] std::vector<double> probabilities(const Reg& reg) {
  using R = typename Reg::real_type;
  using Exec = typename Reg::execution_space;
  const index_t d = reg.dimension();
  Kokkos::View<R*, typename Reg::memory_space> p("frugal::quantum::probabilities", d);
  const auto data = reg.data();
  const bool dm = is_density_matrix_v<Reg>;
  Kokkos::parallel_for(
      "frugal::quantum::probabilities", Kokkos::RangePolicy<Exec, Kokkos::IndexType<index_t>>(reg.space(), 0, d),
      KOKKOS_LAMBDA(index_t i) {
        if (dm)
          p(i) = data(i * d + i).real();
        else
          p(i) = data(i).real() * data(i).real() + data(i).imag() * data(i).imag();
      });
  auto h = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace{}, p);
  std::vector<double> out(static_cast<std::size_t>(d));
  for (index_t i = 0; i < d; ++i) out[static_cast<std::size_t>(i)] = static_cast<double>(h(i));
  return out;
}

/// Marginal distribution of `qubits` (outcome index bit t = qubits[t]) from a full distribution
/// over `n` qubits.
[[nodiscard]] inline std::vector<double> marginal(const std::vector<double>& probs, int n,
                                                  const std::vector<int>& qubits) {
  check(probs.size() == (std::size_t{1} << n), "frugal::quantum::marginal: ", probs.size(), " probabilities for ", n,
        " qubits");
  for (std::size_t t = 0; t < qubits.size(); ++t) {
    check(qubits[t] >= 0 && qubits[t] < n, "frugal::quantum::marginal: qubit ", qubits[t], " out of range");
    for (std::size_t u = 0; u < t; ++u) check(qubits[u] != qubits[t], "frugal::quantum::marginal: qubit repeated");
  }
  std::vector<double> out(std::size_t{1} << qubits.size(), 0.0);
  for (std::size_t i = 0; i < probs.size(); ++i) {
    std::size_t k = 0;
    for (std::size_t t = 0; t < qubits.size(); ++t) k |= ((i >> qubits[t]) & 1) << t;
    out[k] += probs[i];
  }
  return out;
}

/// Asymmetric readout error of one qubit: P(read 1 | prepared 0) and P(read 0 | prepared 1)
/// (Qiskit's `prob_meas1_prep0`, `prob_meas0_prep1`).
struct readout_error {
  double p1_given_0 = 0;
  double p0_given_1 = 0;

  void validate() const {
    check_probability("frugal::quantum::readout_error", "P(1|0)", p1_given_0);
    check_probability("frugal::quantum::readout_error", "P(0|1)", p0_given_1);
  }
};

namespace detail {

/// Refuses a distribution that is not over the `qubits` qubits of a list of readout errors; where
/// the errors are a larger device's, the message points to `calibration::subset`.
inline void check_readout_errors_fit(std::string_view where, std::size_t probabilities, std::size_t qubits) {
  if (qubits < 64 && probabilities == (std::size_t{1} << qubits)) return;
  const bool larger_device = qubits >= 64 || probabilities < (std::size_t{1} << qubits);
  throw invalid_argument(frugal::detail::concat(
      where, ": ", probabilities, " probabilities for the readout errors of ", qubits, " qubits",
      larger_device ? " (a device's errors for a smaller circuit? select the circuit's qubits with calibration::subset)"
                    : ""));
}

}  // namespace detail

/// Applies per-qubit confusion matrices to a distribution over n = errors.size() qubits.
[[nodiscard]] inline std::vector<double> apply_readout_error(std::vector<double> probs,
                                                             const std::vector<readout_error>& errors) {
  const std::size_t n = errors.size();
  detail::check_readout_errors_fit("frugal::quantum::apply_readout_error", probs.size(), n);
  for (std::size_t q = 0; q < n; ++q) {
    errors[q].validate();
    const double e10 = errors[q].p1_given_0, e01 = errors[q].p0_given_1;
    for (std::size_t i = 0; i < probs.size(); ++i) {
      if ((i >> q) & 1) continue;
      const std::size_t j = i | (std::size_t{1} << q);
      const double p0 = probs[i], p1 = probs[j];
      probs[i] = (1 - e10) * p0 + e01 * p1;
      probs[j] = e10 * p0 + (1 - e01) * p1;
    }
  }
  return probs;
}

/// Draws `shots` outcomes from `probs` (validated: entries in [0, 1] up to rounding, sum 1 within
/// 1e-6) and returns the counts per outcome. Deterministic for a given generator state.
[[nodiscard]] inline std::vector<std::int64_t> sample_counts(const std::vector<double>& probs, std::int64_t shots,
                                                             frugal::rng& gen) {
  const char* where = "frugal::quantum::sample_counts";
  check(shots >= 0, where, ": negative shot count ", shots);
  check(!probs.empty(), where, ": empty distribution");
  std::vector<double> cdf(probs.size());
  double total = 0;
  for (std::size_t i = 0; i < probs.size(); ++i) {
    check(probs[i] >= -1e-9 && probs[i] <= 1 + 1e-9, where, ": probability ", probs[i], " of outcome ", i,
          " is outside [0, 1]");
    total += std::max(0.0, probs[i]);
    cdf[i] = total;
  }
  check(std::abs(total - 1) <= 1e-6, where, ": probabilities sum to ", total, ", not 1");
  std::vector<std::int64_t> counts(probs.size(), 0);
  for (std::int64_t s = 0; s < shots; ++s) {
    const double u = gen.uniform() * total;
    const auto it = std::upper_bound(cdf.begin(), cdf.end(), u);
    ++counts[std::min<std::size_t>(static_cast<std::size_t>(it - cdf.begin()), probs.size() - 1)];
  }
  return counts;
}

/// A Pauli string over n qubits: character t applies to qubit t ("XIZ": X on 0, Z on 2).
struct pauli_string {
  std::string ops;
  double coefficient = 1;
};

namespace detail {

/// Parity of the set bits of x.
FRUGAL_INLINE_FUNCTION bool parity(index_t x) {
  auto u = static_cast<std::uint64_t>(x);
  u ^= u >> 32;
  u ^= u >> 16;
  u ^= u >> 8;
  u ^= u >> 4;
  u ^= u >> 2;
  u ^= u >> 1;
  return (u & 1) != 0;
}

/// The bit masks of a Pauli string: X or Y positions (flipped bits), Z or Y positions (signs),
/// and the number of Y's. Checks the string first.
struct pauli_mask {
  index_t x = 0, z = 0;
  int ny = 0;
};
inline pauli_mask pauli_masks(const pauli_string& p, int n);

inline void check_pauli(const pauli_string& p, int n) {
  check(static_cast<int>(p.ops.size()) == n, "frugal::quantum: Pauli string '", p.ops, "' has ", p.ops.size(),
        " letters for ", n, " qubits");
  for (char c : p.ops)
    check(c == 'I' || c == 'X' || c == 'Y' || c == 'Z', "frugal::quantum: Pauli string '", p.ops,
          "' has a letter other than I, X, Y, Z");
}

inline pauli_mask pauli_masks(const pauli_string& p, int n) {
  check_pauli(p, n);
  pauli_mask m;
  for (int q = 0; q < n; ++q) {
    const char c = p.ops[static_cast<std::size_t>(q)];
    if (c == 'X' || c == 'Y') m.x |= index_t(1) << q;
    if (c == 'Z' || c == 'Y') m.z |= index_t(1) << q;
    if (c == 'Y') ++m.ny;
  }
  return m;
}

}  // namespace detail

/// ⟨P⟩ = Tr(Pρ) or ⟨ψ|P|ψ⟩ (times the coefficient), computed where the register lives: P maps
/// basis state c to phase(c)·|c ⊕ x⟩ with x the X/Y positions, so one pass suffices.
template <Register Reg>
[[nodiscard]] double expectation(const Reg& reg, const pauli_string& p) {
  using R = typename Reg::real_type;
  const int n = reg.qubits();
  const auto masks = detail::pauli_masks(p, n);
  const index_t xmask = masks.x, zmask = masks.z;
  const int ny = masks.ny;
  // ⟨c|P|c ⊕ x⟩ = (−i)^ny · (−1)^{popcount(c & zmask)}: Y(c, 1 − c) = −i·(−1)^c.
  const int phase = ny % 4;  // (−i)^ny = 1, −i, −1, i
  const index_t d = reg.dimension();
  const auto data = reg.data();
  const bool dm = is_density_matrix_v<Reg>;
  const double total = reproducible_sum<double>(
      "frugal::quantum::expectation", reg.space(), d, KOKKOS_LAMBDA(index_t c, double& acc) {
        const index_t r = c ^ xmask;
        // term = ⟨c|P|r⟩ · ρ(r, c)  or  conj(ψ_c) · ⟨c|P|r⟩ · ψ_r
        complex<R> z;
        if (dm) {
          z = data(r * d + c);
        } else {
          z = Kokkos::conj(data(c)) * data(r);
        }
        const bool odd = detail::parity(c & zmask);
        double re = static_cast<double>(z.real()), im = static_cast<double>(z.imag());
        if (odd) re = -re, im = -im;
        // multiply by (−i)^phase and keep the real part
        switch (phase) {
          case 0:
            acc += re;
            break;
          case 1:
            acc += im;  // −i·(re + i·im) = im − i·re
            break;
          case 2:
            acc -= re;
            break;
          default:
            acc -= im;  // i·(re + i·im) = −im + i·re
            break;
        }
      });
  return p.coefficient * total;
}

/// Σ_k ⟨P_k⟩ for a Hamiltonian given as Pauli terms.
template <Register Reg>
[[nodiscard]] double expectation(const Reg& reg, const std::vector<pauli_string>& terms) {
  double e = 0;
  for (const auto& t : terms) e += expectation(reg, t);
  return e;
}

/// The dense matrix of a Pauli string (host; for tests and small cases).
[[nodiscard]] inline cmatrix pauli_matrix(const pauli_string& p) {
  check(!p.ops.empty(), "frugal::quantum::pauli_matrix: empty string");
  detail::check_pauli(p, static_cast<int>(p.ops.size()));
  cmatrix m = gates::pauli(p.ops[0]);
  for (std::size_t q = 1; q < p.ops.size(); ++q) m = kron(gates::pauli(p.ops[q]), m);
  return p.coefficient * m;
}

/// Partial trace keeping `keep` (in that order: kept qubit t becomes qubit t of the result) of an
/// n-qubit density matrix on the host.
[[nodiscard]] inline cmatrix partial_trace(const cmatrix& rho, int n, const std::vector<int>& keep) {
  check(rho.rows() == (index_t(1) << n) && rho.cols() == rho.rows(), "frugal::quantum::partial_trace: ", rho.rows(),
        "x", rho.cols(), " matrix for ", n, " qubits");
  std::vector<int> traced;
  for (int q = 0; q < n; ++q)
    if (std::find(keep.begin(), keep.end(), q) == keep.end()) traced.push_back(q);
  for (std::size_t t = 0; t < keep.size(); ++t) {
    check(keep[t] >= 0 && keep[t] < n, "frugal::quantum::partial_trace: qubit ", keep[t], " out of range");
    for (std::size_t u = 0; u < t; ++u) check(keep[u] != keep[t], "frugal::quantum::partial_trace: qubit repeated");
  }
  const index_t dk = index_t(1) << keep.size(), dt = index_t(1) << traced.size();
  auto compose = [&](index_t kept, index_t tr) {
    index_t i = 0;
    for (std::size_t t = 0; t < keep.size(); ++t) i |= ((kept >> t) & 1) << keep[t];
    for (std::size_t t = 0; t < traced.size(); ++t) i |= ((tr >> t) & 1) << traced[t];
    return i;
  };
  cmatrix out = cmatrix::Zero(dk, dk);
  for (index_t a = 0; a < dk; ++a)
    for (index_t b = 0; b < dk; ++b)
      for (index_t e = 0; e < dt; ++e) out(a, b) += rho(compose(a, e), compose(b, e));
  return out;
}

/// Tr(ρ²).
[[nodiscard]] inline double purity(const cmatrix& rho) { return (rho * rho).trace().real(); }

// Both fidelities are templates of nothing: a translation unit then compiles their Eigen code (the
// Hermitian eigensolver above all, a large part of parsing <frugal/quantum.hpp>) only where it calls
// them. Both, so that overload resolution between them stays what it is between plain functions.

/// ⟨ψ|ρ|ψ⟩.
template <class = void>
[[nodiscard]] double fidelity(const cmatrix& rho, const cvector& psi) {
  check(rho.rows() == psi.size(), "frugal::quantum::fidelity: dimension mismatch ", rho.rows(), " vs ", psi.size());
  return (psi.adjoint() * rho * psi)(0, 0).real();
}

/// Uhlmann fidelity (Tr √(√ρ σ √ρ))² between two density matrices. Computed on the support of ρ
/// (eigenvalues above 1e-12 of the largest), so rank-deficient (e.g. pure) states lose no accuracy
/// to square roots of rounding noise.
template <class = void>
[[nodiscard]] double fidelity(const cmatrix& rho, const cmatrix& sigma) {
  check(rho.rows() == sigma.rows() && rho.cols() == sigma.cols() && rho.rows() == rho.cols(),
        "frugal::quantum::fidelity: dimension mismatch");
  Eigen::SelfAdjointEigenSolver<cmatrix> es(rho);
  const Eigen::VectorXd& l = es.eigenvalues();
  const double cut = 1e-12 * std::max(l.maxCoeff(), 0.0);
  std::vector<index_t> support;
  for (index_t i = 0; i < l.size(); ++i)
    if (l[i] > cut) support.push_back(i);
  cmatrix v(rho.rows(), static_cast<index_t>(support.size()));
  for (std::size_t k = 0; k < support.size(); ++k)
    v.col(static_cast<index_t>(k)) = es.eigenvectors().col(support[k]) * std::sqrt(l[support[k]]);
  const cmatrix m = v.adjoint() * sigma * v;  // same non-zero spectrum as √ρ σ √ρ
  Eigen::SelfAdjointEigenSolver<cmatrix> es2(0.5 * (m + m.adjoint()), Eigen::EigenvaluesOnly);
  const double s = es2.eigenvalues().cwiseMax(0.0).cwiseSqrt().sum();
  return s * s;
}

}  // namespace frugal::quantum
