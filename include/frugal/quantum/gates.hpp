#pragma once
/// \file
/// Gate matrices (host, double) in Qiskit's conventions: a two-qubit gate on (q0, q1) indexes its
/// matrix by b(q0) + 2·b(q1); controlled gates take q0 as the control and q1 as the target.

#include <cmath>
#include <complex>
#include <numbers>

#include "types.hpp"

namespace frugal::quantum::gates {

namespace detail {
inline constexpr std::complex<double> i1{0, 1};
inline cmatrix m2(std::complex<double> a, std::complex<double> b, std::complex<double> c, std::complex<double> d) {
  cmatrix m(2, 2);
  m << a, b, c, d;
  return m;
}
}  // namespace detail

inline cmatrix identity() { return cmatrix::Identity(2, 2); }
inline cmatrix x() { return detail::m2(0, 1, 1, 0); }
inline cmatrix y() { return detail::m2(0, -detail::i1, detail::i1, 0); }
inline cmatrix z() { return detail::m2(1, 0, 0, -1); }
inline cmatrix h() { return detail::m2(1, 1, 1, -1) / std::sqrt(2.0); }
inline cmatrix s() { return detail::m2(1, 0, 0, detail::i1); }
inline cmatrix sdg() { return detail::m2(1, 0, 0, -detail::i1); }
inline cmatrix t() { return detail::m2(1, 0, 0, std::polar(1.0, std::numbers::pi / 4)); }
inline cmatrix tdg() { return detail::m2(1, 0, 0, std::polar(1.0, -std::numbers::pi / 4)); }
/// √X = ½[[1+i, 1−i], [1−i, 1+i]].
inline cmatrix sx() {
  const std::complex<double> a{0.5, 0.5}, b{0.5, -0.5};
  return detail::m2(a, b, b, a);
}
/// RX(θ) = exp(−iθX/2).
inline cmatrix rx(double theta) {
  const double c = std::cos(theta / 2), s = std::sin(theta / 2);
  return detail::m2(c, -detail::i1 * s, -detail::i1 * s, c);
}
/// RY(θ) = exp(−iθY/2).
inline cmatrix ry(double theta) {
  const double c = std::cos(theta / 2), s = std::sin(theta / 2);
  return detail::m2(c, -s, s, c);
}
/// RZ(θ) = exp(−iθZ/2).
inline cmatrix rz(double theta) { return detail::m2(std::polar(1.0, -theta / 2), 0, 0, std::polar(1.0, theta / 2)); }
/// Phase(λ) = diag(1, e^{iλ}).
inline cmatrix phase(double lambda) { return detail::m2(1, 0, 0, std::polar(1.0, lambda)); }
/// U3(θ, φ, λ) = [[cos θ/2, −e^{iλ} sin θ/2], [e^{iφ} sin θ/2, e^{i(φ+λ)} cos θ/2]].
inline cmatrix u3(double theta, double phi, double lambda) {
  const double c = std::cos(theta / 2), s = std::sin(theta / 2);
  return detail::m2(c, -std::polar(s, lambda), std::polar(s, phi), std::polar(c, phi + lambda));
}

/// The 4 × 4 matrix of a one-qubit `u` on q1 controlled by q0.
inline cmatrix controlled(const cmatrix& u) {
  check(u.rows() == 2 && u.cols() == 2, "frugal::quantum::gates::controlled: expected a 2x2 matrix");
  cmatrix m = cmatrix::Identity(4, 4);
  m(1, 1) = u(0, 0);
  m(1, 3) = u(0, 1);
  m(3, 1) = u(1, 0);
  m(3, 3) = u(1, 1);
  return m;
}
/// `a` on q0 and `b` on q1: the 4 × 4 matrix b ⊗ a in this index order.
inline cmatrix on_both(const cmatrix& a, const cmatrix& b) { return kron(b, a); }

inline cmatrix cx() { return controlled(x()); }
inline cmatrix cy() { return controlled(y()); }
inline cmatrix cz() { return controlled(z()); }
inline cmatrix crx(double theta) { return controlled(rx(theta)); }
inline cmatrix cry(double theta) { return controlled(ry(theta)); }
inline cmatrix crz(double theta) { return controlled(rz(theta)); }
inline cmatrix cu3(double theta, double phi, double lambda) { return controlled(u3(theta, phi, lambda)); }
inline cmatrix swap() {
  cmatrix m = cmatrix::Zero(4, 4);
  m(0, 0) = m(1, 2) = m(2, 1) = m(3, 3) = 1;
  return m;
}
/// RZZ(θ) = exp(−iθ Z⊗Z / 2).
inline cmatrix rzz(double theta) {
  cmatrix m = cmatrix::Zero(4, 4);
  m(0, 0) = m(3, 3) = std::polar(1.0, -theta / 2);
  m(1, 1) = m(2, 2) = std::polar(1.0, theta / 2);
  return m;
}
/// RZX(θ) = exp(−iθ X(q1)·Z(q0) / 2) — Qiskit's RZXGate on (q0, q1).
inline cmatrix rzx(double theta) {
  const cmatrix gen = on_both(z(), x());
  const double c = std::cos(theta / 2), s = std::sin(theta / 2);
  return c * cmatrix::Identity(4, 4) - detail::i1 * s * gen;
}
/// Echoed cross-resonance (IBM's native two-qubit gate), Qiskit's ECRGate on (q0, q1): the
/// circuit RZX(π/4), X on q0, RZX(−π/4), i.e. the matrix RZX(−π/4) · X₀ · RZX(π/4).
inline cmatrix ecr() { return rzx(-std::numbers::pi / 4) * on_both(x(), identity()) * rzx(std::numbers::pi / 4); }

/// The Pauli matrix for 'I', 'X', 'Y' or 'Z'.
inline cmatrix pauli(char p) {
  switch (p) {
    case 'I':
      return identity();
    case 'X':
      return x();
    case 'Y':
      return y();
    case 'Z':
      return z();
    default:
      throw invalid_argument(std::string("frugal::quantum::gates::pauli: '") + p + "' is not one of I, X, Y, Z");
  }
}

}  // namespace frugal::quantum::gates
