#pragma once
/// \file
/// Parameterised circuits: a list of gates whose angles are constants or entries of a parameter
/// vector, run on either register, with per-gate derivative matrices for gradients.

#include <array>
#include <cmath>
#include <numbers>
#include <string>
#include <vector>

#include "gates.hpp"
#include "operations.hpp"

namespace frugal::quantum {

/// Gate kinds a circuit can hold.
enum class gate_kind {
  x,
  y,
  z,
  h,
  s,
  sdg,
  t,
  tdg,
  sx,  // fixed one-qubit gates
  rx,
  ry,
  rz,
  phase,
  u3,  // parameterised one-qubit gates
  cx,
  cy,
  cz,
  swap,
  ecr,  // fixed two-qubit gates
  crx,
  cry,
  crz,
  rzz,
  rzx,
  cu3,  // parameterised two-qubit gates
  unitary1,
  unitary2  // arbitrary matrices
};

/// Name of a gate kind ("rx", "cx", …).
inline const char* gate_name(gate_kind k) {
  static constexpr const char* names[] = {"x",   "y",   "z",   "h",     "s",   "sdg", "t",   "tdg",      "sx",
                                          "rx",  "ry",  "rz",  "phase", "u3",  "cx",  "cy",  "cz",       "swap",
                                          "ecr", "crx", "cry", "crz",   "rzz", "rzx", "cu3", "unitary1", "unitary2"};
  return names[static_cast<int>(k)];
}

/// Number of qubits a gate kind acts on.
inline int gate_qubits(gate_kind k) {
  switch (k) {
    case gate_kind::cx:
    case gate_kind::cy:
    case gate_kind::cz:
    case gate_kind::swap:
    case gate_kind::ecr:
    case gate_kind::crx:
    case gate_kind::cry:
    case gate_kind::crz:
    case gate_kind::rzz:
    case gate_kind::rzx:
    case gate_kind::cu3:
    case gate_kind::unitary2:
      return 2;
    default:
      return 1;
  }
}

/// Number of angles a gate kind takes.
inline int gate_angles(gate_kind k) {
  switch (k) {
    case gate_kind::rx:
    case gate_kind::ry:
    case gate_kind::rz:
    case gate_kind::phase:
    case gate_kind::crx:
    case gate_kind::cry:
    case gate_kind::crz:
    case gate_kind::rzz:
    case gate_kind::rzx:
      return 1;
    case gate_kind::u3:
    case gate_kind::cu3:
      return 3;
    default:
      return 0;
  }
}

/// An angle: a constant, or scale·θ[index] + offset for an entry of the parameter vector.
struct angle {
  int index = -1;
  double scale = 1;
  double offset = 0;

  angle() = default;
  angle(double constant) : offset(constant) {}  // NOLINT: a number is a constant angle
  [[nodiscard]] static angle parameter(int i, double scale = 1, double offset = 0) {
    check(i >= 0, "frugal::quantum::angle::parameter: index ", i, " is negative");
    angle a;
    a.index = i;
    a.scale = scale;
    a.offset = offset;
    return a;
  }
  [[nodiscard]] bool is_parameter() const noexcept { return index >= 0; }
  [[nodiscard]] double value(const std::vector<double>& theta) const {
    return is_parameter() ? scale * theta[static_cast<std::size_t>(index)] + offset : offset;
  }
};

/// One gate of a circuit.
struct operation {
  gate_kind kind;
  int q0 = 0, q1 = -1;
  std::array<angle, 3> angles{};
  cmatrix matrix;  ///< for unitary1 / unitary2
};

/// The matrix of a gate with the given angle values.
inline cmatrix gate_matrix(gate_kind k, const std::array<double, 3>& a, const cmatrix& custom = {}) {
  using namespace gates;
  switch (k) {
    case gate_kind::x:
      return x();
    case gate_kind::y:
      return y();
    case gate_kind::z:
      return z();
    case gate_kind::h:
      return h();
    case gate_kind::s:
      return s();
    case gate_kind::sdg:
      return sdg();
    case gate_kind::t:
      return t();
    case gate_kind::tdg:
      return tdg();
    case gate_kind::sx:
      return sx();
    case gate_kind::rx:
      return rx(a[0]);
    case gate_kind::ry:
      return ry(a[0]);
    case gate_kind::rz:
      return rz(a[0]);
    case gate_kind::phase:
      return phase(a[0]);
    case gate_kind::u3:
      return u3(a[0], a[1], a[2]);
    case gate_kind::cx:
      return cx();
    case gate_kind::cy:
      return cy();
    case gate_kind::cz:
      return cz();
    case gate_kind::swap:
      return swap();
    case gate_kind::ecr:
      return ecr();
    case gate_kind::crx:
      return crx(a[0]);
    case gate_kind::cry:
      return cry(a[0]);
    case gate_kind::crz:
      return crz(a[0]);
    case gate_kind::rzz:
      return rzz(a[0]);
    case gate_kind::rzx:
      return rzx(a[0]);
    case gate_kind::cu3:
      return cu3(a[0], a[1], a[2]);
    case gate_kind::unitary1:
    case gate_kind::unitary2:
      return custom;
  }
  return custom;
}

/// ∂U/∂a_j of a parameterised gate. Every angle enters either through cos(a/2), sin(a/2) (then
/// ∂U/∂a = U(a + π)/2, with the control-0 block zeroed for controlled gates) or as a phase
/// e^{ia} (phase gate and the φ, λ of U3).
inline cmatrix gate_derivative(gate_kind k, std::array<double, 3> a, int j) {
  const std::complex<double> i1{0, 1};
  check(j >= 0 && j < gate_angles(k), "frugal::quantum::gate_derivative: gate ", gate_name(k), " has no angle ", j);
  auto half_turn = [&] {
    auto b = a;
    b[static_cast<std::size_t>(j)] += std::numbers::pi;
    return cmatrix(0.5 * gate_matrix(k, b));
  };
  auto zero_control_block = [](cmatrix m) {
    m(0, 0) = m(2, 2) = 0;  // control q0 = 0 rows/cols: indices 0 and 2
    return m;
  };
  switch (k) {
    case gate_kind::rx:
    case gate_kind::ry:
    case gate_kind::rz:
    case gate_kind::rzz:
    case gate_kind::rzx:
      return half_turn();
    case gate_kind::crx:
    case gate_kind::cry:
    case gate_kind::crz:
      return zero_control_block(half_turn());
    case gate_kind::phase: {
      cmatrix d = cmatrix::Zero(2, 2);
      d(1, 1) = i1 * std::polar(1.0, a[0]);
      return d;
    }
    case gate_kind::u3:
    case gate_kind::cu3: {
      const cmatrix u1 = gates::u3(a[0], a[1], a[2]);
      cmatrix d1;
      if (j == 0) {
        d1 = 0.5 * gates::u3(a[0] + std::numbers::pi, a[1], a[2]);
      } else if (j == 1) {  // φ multiplies row 1 by e^{iφ}
        d1 = cmatrix::Zero(2, 2);
        d1.row(1) = i1 * u1.row(1);
      } else {  // λ multiplies column 1 by e^{iλ}
        d1 = cmatrix::Zero(2, 2);
        d1.col(1) = i1 * u1.col(1);
      }
      return k == gate_kind::u3 ? d1 : zero_control_block(gates::controlled(d1));
    }
    default:
      throw invalid_argument(std::string("frugal::quantum::gate_derivative: gate ") + gate_name(k) + " has no angles");
  }
}

/// A circuit on a fixed number of qubits. Builders check qubits (range, repetition) and matrices
/// (unitarity) as gates are added; `run` checks the parameter vector's length.
class circuit {
 public:
  explicit circuit(int qubits) : m_qubits(qubits) {
    check(qubits >= 1 && qubits <= max_state_vector_qubits, "frugal::quantum::circuit: ", qubits, " qubits");
  }

  [[nodiscard]] int qubits() const noexcept { return m_qubits; }
  /// 1 + the largest parameter index used (0 when there is none).
  [[nodiscard]] int parameters() const noexcept { return m_parameters; }
  [[nodiscard]] const std::vector<operation>& operations() const noexcept { return m_ops; }
  [[nodiscard]] std::size_t size() const noexcept { return m_ops.size(); }

  /// Adds a gate; `angles` must match the kind's angle count.
  circuit& add(gate_kind k, int q0, int q1 = -1, std::vector<angle> angles = {}) {
    const char* where = "frugal::quantum::circuit::add";
    check(k != gate_kind::unitary1 && k != gate_kind::unitary2, where, ": use circuit::unitary for matrices");
    check(static_cast<int>(angles.size()) == gate_angles(k), where, ": gate ", gate_name(k), " takes ", gate_angles(k),
          " angle(s), got ", angles.size());
    operation op{k, q0, q1, {}, {}};
    for (std::size_t i = 0; i < angles.size(); ++i) op.angles[i] = angles[i];
    push(std::move(op));
    return *this;
  }

  /// Adds an arbitrary one-qubit (q1 = −1) or two-qubit unitary.
  circuit& unitary(const cmatrix& u, int q0, int q1 = -1) {
    check_unitary("frugal::quantum::circuit::unitary", u, q1 < 0 ? 2 : 4);
    push(operation{q1 < 0 ? gate_kind::unitary1 : gate_kind::unitary2, q0, q1, {}, u});
    return *this;
  }

  // Conveniences.
  circuit& x(int q) { return add(gate_kind::x, q); }
  circuit& y(int q) { return add(gate_kind::y, q); }
  circuit& z(int q) { return add(gate_kind::z, q); }
  circuit& h(int q) { return add(gate_kind::h, q); }
  circuit& s(int q) { return add(gate_kind::s, q); }
  circuit& sdg(int q) { return add(gate_kind::sdg, q); }
  circuit& t(int q) { return add(gate_kind::t, q); }
  circuit& sx(int q) { return add(gate_kind::sx, q); }
  circuit& rx(int q, angle a) { return add(gate_kind::rx, q, -1, {a}); }
  circuit& ry(int q, angle a) { return add(gate_kind::ry, q, -1, {a}); }
  circuit& rz(int q, angle a) { return add(gate_kind::rz, q, -1, {a}); }
  circuit& u3(int q, angle t, angle p, angle l) { return add(gate_kind::u3, q, -1, {t, p, l}); }
  circuit& cx(int c, int t) { return add(gate_kind::cx, c, t); }
  circuit& cz(int a, int b) { return add(gate_kind::cz, a, b); }
  circuit& swap(int a, int b) { return add(gate_kind::swap, a, b); }
  circuit& ecr(int a, int b) { return add(gate_kind::ecr, a, b); }
  circuit& crx(int c, int t, angle a) { return add(gate_kind::crx, c, t, {a}); }
  circuit& cry(int c, int t, angle a) { return add(gate_kind::cry, c, t, {a}); }
  circuit& crz(int c, int t, angle a) { return add(gate_kind::crz, c, t, {a}); }
  circuit& rzz(int a, int b, angle t) { return add(gate_kind::rzz, a, b, {t}); }
  circuit& cu3(int c, int t, angle th, angle p, angle l) { return add(gate_kind::cu3, c, t, {th, p, l}); }

  /// Appends every gate of `other` (same qubit count).
  circuit& append(const circuit& other) {
    check(other.m_qubits == m_qubits, "frugal::quantum::circuit::append: ", other.m_qubits, "-qubit circuit onto ",
          m_qubits, " qubits");
    for (const auto& op : other.m_ops) push(op);
    return *this;
  }

  /// A copy whose operation `op` has its angle `j` shifted by `s` (for parameter-shift rules).
  [[nodiscard]] circuit with_angle_shift(std::size_t op, int j, double s) const {
    check(op < m_ops.size() && j >= 0 && j < gate_angles(m_ops[op].kind),
          "frugal::quantum::circuit::with_angle_shift: no angle ", j, " on operation ", op);
    circuit copy = *this;
    copy.m_ops[op].angles[static_cast<std::size_t>(j)].offset += s;
    return copy;
  }

  /// The angle values of `op` under `theta`.
  [[nodiscard]] static std::array<double, 3> angle_values(const operation& op, const std::vector<double>& theta) {
    return {op.angles[0].value(theta), op.angles[1].value(theta), op.angles[2].value(theta)};
  }

  /// The matrix of `op` under `theta`.
  [[nodiscard]] static cmatrix matrix(const operation& op, const std::vector<double>& theta) {
    return gate_matrix(op.kind, angle_values(op, theta), op.matrix);
  }

  void check_parameters(const std::vector<double>& theta) const {
    check(static_cast<int>(theta.size()) >= m_parameters, "frugal::quantum::circuit: ", theta.size(),
          " parameter values for a circuit using ", m_parameters);
    for (double t : theta) check(std::isfinite(t), "frugal::quantum::circuit: non-finite parameter value");
  }

 private:
  void push(operation op) {
    const int k = gate_qubits(op.kind);
    if (k == 1) {
      check(op.q1 < 0, "frugal::quantum::circuit: one-qubit gate ", gate_name(op.kind), " given two qubits");
      check_qubits("frugal::quantum::circuit", {op.q0}, m_qubits);
    } else {
      check_qubits("frugal::quantum::circuit", {op.q0, op.q1}, m_qubits);
    }
    for (const auto& a : op.angles) {
      check(std::isfinite(a.scale) && std::isfinite(a.offset), "frugal::quantum::circuit: non-finite angle");
      if (a.is_parameter()) m_parameters = std::max(m_parameters, a.index + 1);
    }
    m_ops.push_back(std::move(op));
  }

  int m_qubits;
  int m_parameters = 0;
  std::vector<operation> m_ops;
};

/// Applies one operation to a register (no noise).
template <Register Reg>
void apply_operation(Reg& reg, const operation& op, const std::vector<double>& theta) {
  const cmatrix u = circuit::matrix(op, theta);
  if (gate_qubits(op.kind) == 1)
    apply_unitary(reg, u, op.q0);
  else
    apply_unitary(reg, u, op.q0, op.q1);
}

/// Runs `c` on `reg` as it stands (call reg.reset() first for |0…0⟩), noiselessly.
template <Register Reg>
void run(const circuit& c, const std::vector<double>& theta, Reg& reg) {
  check(reg.qubits() == c.qubits(), "frugal::quantum::run: ", c.qubits(), "-qubit circuit on a ", reg.qubits(),
        "-qubit register");
  c.check_parameters(theta);
  for (const auto& op : c.operations()) apply_operation(reg, op, theta);
}

}  // namespace frugal::quantum
