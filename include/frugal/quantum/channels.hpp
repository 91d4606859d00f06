#pragma once
/// \file
/// Quantum channels on one or two qubits, held as superoperators (and, where they have a natural
/// one, their Kraus sets). Every constructor checks its parameters; `kraus` checks Σ K†K = I.
/// Superoperators act on the row-major vectorization of the block: S = Σ_k K_k ⊗ K̄_k.

#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "gates.hpp"
#include "types.hpp"

namespace frugal::quantum {

/// A completely positive, trace-preserving map on 1 or 2 qubits.
class channel {
 public:
  /// From a Kraus set: every operator 2^k × 2^k (k = 1 or 2) and Σ K†K = I within `tolerance`.
  static channel kraus(std::vector<cmatrix> ops, double tolerance = 1e-8) {
    const char* where = "frugal::quantum::channel::kraus";
    check(!ops.empty(), where, ": empty Kraus set");
    const index_t d = ops.front().rows();
    check(d == 2 || d == 4, where, ": Kraus operators must be 2x2 or 4x4, got ", d, "x", ops.front().cols());
    cmatrix sum = cmatrix::Zero(d, d);
    for (const auto& k : ops) {
      check(k.rows() == d && k.cols() == d, where, ": Kraus operators of different shapes (", k.rows(), "x", k.cols(),
            " vs ", d, "x", d, ")");
      check(k.allFinite(), where, ": non-finite Kraus operator");
      sum += k.adjoint() * k;
    }
    const double e = (sum - cmatrix::Identity(d, d)).cwiseAbs().maxCoeff();
    check(e <= tolerance, where, ": not trace preserving: max |sum K^dagger K - I| = ", e, " (tolerance ", tolerance,
          ")");
    channel c;
    c.m_qubits = d == 2 ? 1 : 2;
    c.m_superop = cmatrix::Zero(d * d, d * d);
    for (const auto& k : ops) c.m_superop += kron(k, k.conjugate());
    c.m_kraus = std::move(ops);
    return c;
  }

  /// The unitary channel ρ ↦ UρU†.
  static channel unitary(const cmatrix& u) {
    check_unitary("frugal::quantum::channel::unitary", u, u.rows());
    return kraus({u});
  }

  /// Identity on `qubits` qubits.
  static channel identity(int qubits = 1) {
    return kraus({cmatrix::Identity(index_t(1) << qubits, index_t(1) << qubits)});
  }

  /// Directly from a superoperator whose complete positivity the caller vouches for (used for
  /// thermal relaxation); trace preservation is checked: Σ_r S(r·d + r, ·) = vec(I).
  static channel from_superoperator(cmatrix s, double tolerance = 1e-8) {
    const char* where = "frugal::quantum::channel::from_superoperator";
    check(s.rows() == s.cols() && (s.rows() == 4 || s.rows() == 16), where, ": expected 4x4 or 16x16, got ", s.rows(),
          "x", s.cols());
    const index_t d = s.rows() == 4 ? 2 : 4;
    for (index_t col = 0; col < s.cols(); ++col) {
      std::complex<double> tr = 0;
      for (index_t r = 0; r < d; ++r) tr += s(r * d + r, col);
      const std::complex<double> want = (col / d == col % d) ? 1.0 : 0.0;
      check(std::abs(tr - want) <= tolerance, where, ": not trace preserving");
    }
    channel c;
    c.m_qubits = d == 2 ? 1 : 2;
    c.m_superop = std::move(s);
    return c;
  }

  [[nodiscard]] int qubits() const noexcept { return m_qubits; }
  [[nodiscard]] const cmatrix& superoperator() const noexcept { return m_superop; }
  /// The Kraus set the channel was built from (empty for `from_superoperator`).
  [[nodiscard]] const std::vector<cmatrix>& kraus_operators() const noexcept { return m_kraus; }

  /// `then` after `*this`: ρ ↦ then(this(ρ)).
  [[nodiscard]] channel followed_by(const channel& then) const {
    check(then.m_qubits == m_qubits, "frugal::quantum::channel::followed_by: ", m_qubits, "-qubit channel followed by ",
          then.m_qubits, "-qubit channel");
    channel c;
    c.m_qubits = m_qubits;
    c.m_superop = then.m_superop * m_superop;
    for (const auto& b : then.m_kraus)
      for (const auto& a : m_kraus) c.m_kraus.push_back(b * a);
    if (m_kraus.empty() || then.m_kraus.empty()) c.m_kraus.clear();
    return c;
  }

  /// Applies the channel to a 2^k × 2^k matrix on the host (reference and small-case use).
  [[nodiscard]] cmatrix apply(const cmatrix& rho) const {
    const index_t d = index_t(1) << m_qubits;
    check(rho.rows() == d && rho.cols() == d, "frugal::quantum::channel::apply: expected ", d, "x", d);
    cvector v(d * d);
    for (index_t r = 0; r < d; ++r)
      for (index_t c = 0; c < d; ++c) v[r * d + c] = rho(r, c);
    const cvector w = m_superop * v;
    cmatrix out(d, d);
    for (index_t r = 0; r < d; ++r)
      for (index_t c = 0; c < d; ++c) out(r, c) = w[r * d + c];
    return out;
  }

 private:
  channel() = default;
  int m_qubits = 1;
  cmatrix m_superop;
  std::vector<cmatrix> m_kraus;
};

namespace channels {

namespace detail {
inline const char* where = "frugal::quantum::channels";
}

/// Depolarizing channel on 1 or 2 qubits: ρ ↦ (1 − p)ρ + p·I/d (Qiskit's `depolarizing_error`
/// parameter), 0 ≤ p ≤ d²/(d² − 1).
inline channel depolarizing(double p, int qubits = 1) {
  check(qubits == 1 || qubits == 2, detail::where, "::depolarizing: qubits = ", qubits, " must be 1 or 2");
  const double d2 = qubits == 1 ? 4.0 : 16.0, pmax = d2 / (d2 - 1);
  check(p >= 0 && p <= pmax, detail::where, "::depolarizing: p = ", p, " outside [0, ", pmax, "]");
  std::vector<cmatrix> ops;
  const char paulis[4] = {'I', 'X', 'Y', 'Z'};
  for (int a = 0; a < (qubits == 1 ? 1 : 4); ++a)
    for (int b = 0; b < 4; ++b) {
      const cmatrix pb = gates::pauli(paulis[b]);
      const cmatrix op = qubits == 1 ? pb : gates::on_both(pb, gates::pauli(paulis[a]));
      const bool id = b == 0 && a == 0;
      const double w = id ? 1 - p * (d2 - 1) / d2 : p / d2;
      ops.push_back(std::sqrt(std::max(0.0, w)) * op);
    }
  return channel::kraus(std::move(ops));
}

/// Generalized amplitude damping: decay probability γ towards the thermal state with excited
/// population `excited` (0: plain amplitude damping to |0⟩).
inline channel generalized_amplitude_damping(double gamma, double excited = 0) {
  check_probability("frugal::quantum::channels::generalized_amplitude_damping", "gamma", gamma);
  check_probability("frugal::quantum::channels::generalized_amplitude_damping", "excited population", excited);
  const double g0 = std::sqrt(1 - excited), g1 = std::sqrt(excited), a = std::sqrt(1 - gamma), b = std::sqrt(gamma);
  cmatrix k0 = cmatrix::Zero(2, 2), k1 = cmatrix::Zero(2, 2), k2 = cmatrix::Zero(2, 2), k3 = cmatrix::Zero(2, 2);
  k0(0, 0) = g0;
  k0(1, 1) = g0 * a;
  k1(0, 1) = g0 * b;
  k2(0, 0) = g1 * a;
  k2(1, 1) = g1;
  k3(1, 0) = g1 * b;
  return channel::kraus({k0, k1, k2, k3});
}

/// Amplitude damping to |0⟩ with probability γ.
inline channel amplitude_damping(double gamma) { return generalized_amplitude_damping(gamma, 0); }

/// Phase damping: off-diagonal elements scaled by √(1 − λ).
inline channel phase_damping(double lambda) {
  check_probability("frugal::quantum::channels::phase_damping", "lambda", lambda);
  cmatrix k0 = cmatrix::Zero(2, 2), k1 = cmatrix::Zero(2, 2);
  k0(0, 0) = 1;
  k0(1, 1) = std::sqrt(1 - lambda);
  k1(1, 1) = std::sqrt(lambda);
  return channel::kraus({k0, k1});
}

/// Pauli channel: X, Y, Z with probabilities px, py, pz (sum ≤ 1), identity otherwise.
inline channel pauli(double px, double py, double pz) {
  const char* w = "frugal::quantum::channels::pauli";
  check_probability(w, "px", px);
  check_probability(w, "py", py);
  check_probability(w, "pz", pz);
  check(px + py + pz <= 1 + 1e-12, w, ": px + py + pz = ", px + py + pz, " exceeds 1");
  return channel::kraus({std::sqrt(std::max(0.0, 1 - px - py - pz)) * gates::identity(), std::sqrt(px) * gates::x(),
                         std::sqrt(py) * gates::y(), std::sqrt(pz) * gates::z()});
}

/// Thermal relaxation for a gate of duration `t` on a qubit with relaxation time T1 and
/// dephasing time T2 (any consistent unit): populations relax towards the thermal state (excited
/// population `excited`) as e^{−t/T1}, coherences decay as e^{−t/T2}. Requires T2 ≤ 2·T1 (else
/// the map is not completely positive).
inline channel thermal_relaxation(double t1, double t2, double t, double excited = 0) {
  const char* w = "frugal::quantum::channels::thermal_relaxation";
  check(t1 > 0 && t2 > 0, w, ": T1 = ", t1, " and T2 = ", t2, " must be positive");
  check(t >= 0, w, ": duration ", t, " is negative");
  check(t2 <= 2 * t1 * (1 + 1e-12), w, ": T2 = ", t2, " > 2*T1 = ", 2 * t1, " is not physical");
  check_probability(w, "excited population", excited);
  const double a = std::exp(-t / t1), c = std::exp(-t / t2);
  cmatrix s = cmatrix::Zero(4, 4);  // vec index r·2 + c: 0 = ρ00, 1 = ρ01, 2 = ρ10, 3 = ρ11
  s(0, 0) = 1 - excited * (1 - a);
  s(0, 3) = (1 - excited) * (1 - a);
  s(3, 0) = excited * (1 - a);
  s(3, 3) = a + excited * (1 - a);
  s(1, 1) = s(2, 2) = c;
  return channel::from_superoperator(std::move(s));
}

}  // namespace channels

}  // namespace frugal::quantum
