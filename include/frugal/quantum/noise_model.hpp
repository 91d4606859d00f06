#pragma once
/// \file
/// Noise models built from calibrations (`noise_model`, Qiskit Aer's basic device model), and the
/// fidelities of a channel against the identity.

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
#include "../core/rng.hpp"
#include "calibration.hpp"
#include "channels.hpp"
#include "circuit.hpp"
#include "measurement.hpp"
#include "operations.hpp"

namespace frugal::quantum {

/// Process fidelity Tr(S)/d² of a channel against the identity.
[[nodiscard]] inline double process_fidelity(const channel& e) {
  const double d = static_cast<double>(index_t(1) << e.qubits());
  return e.superoperator().trace().real() / (d * d);
}

/// Average gate fidelity (d·F_pro + 1)/(d + 1) of a channel against the identity.
[[nodiscard]] inline double average_gate_fidelity(const channel& e) {
  const double d = static_cast<double>(index_t(1) << e.qubits());
  return (d * process_fidelity(e) + 1) / (d + 1);
}

/// True for gates a transmon implements as frame changes (no duration, no error): Z, S, S†, T,
/// T†, RZ, Phase.
[[nodiscard]] inline bool is_virtual_gate(gate_kind k) {
  switch (k) {
    case gate_kind::z:
    case gate_kind::s:
    case gate_kind::sdg:
    case gate_kind::t:
    case gate_kind::tdg:
    case gate_kind::rz:
    case gate_kind::phase:
      return true;
    default:
      return false;
  }
}

/// Device noise built from a calibration, Qiskit Aer's "basic device model": after each gate,
/// thermal relaxation of its qubits for the gate's duration (T2 clamped to 2·T1 as Qiskit does,
/// since calibrated T2 sometimes exceeds it), then a depolarizing channel whose strength makes the
/// total average gate error equal the calibrated one (none when relaxation alone exceeds it); at
/// measurement, per-qubit asymmetric readout confusion. Virtual gates are noiseless; every other
/// one-qubit gate takes the qubit's "sx" calibration, every two-qubit gate the pair's "cx"/"ecr"
/// one (either direction); a two-qubit gate on an uncoupled pair is refused. Idle qubits are not
/// decohered.
class noise_model {
 public:
  struct gate_noise {
    double length_ns = 0;
    double error = 0;
  };

  explicit noise_model(calibration cal) : m_cal(std::move(cal)) {
    m_cal.validate();
    // Channels are built once: per qubit for one-qubit gates, per coupled pair for two-qubit ones.
    for (int q = 0; q < m_cal.num_qubits(); ++q) {
      const auto* g = m_cal.find("sx", {q});
      if (!g) continue;
      prepared p{{g->length_ns, g->error}, relaxation(q, g->length_ns), {}, {}};
      const double lambda = depolarizing_parameter(g->error, process_fidelity(p.r0), 1);
      if (lambda > 0) p.depolarizing = channels::depolarizing(lambda);
      m_one.emplace(q, std::move(p));
    }
    for (const auto& [a, b] : m_cal.coupling_map())
      for (const auto& [x, y] : {std::pair{a, b}, std::pair{b, a}}) {
        const auto* g = m_cal.find_two_qubit(x, y);
        prepared p{{g->length_ns, g->error}, relaxation(x, g->length_ns), relaxation(y, g->length_ns), {}};
        const double lambda = depolarizing_parameter(g->error, process_fidelity(p.r0) * process_fidelity(*p.r1), 2);
        if (lambda > 0) p.depolarizing = channels::depolarizing(lambda, 2);
        m_two.emplace(std::pair{x, y}, std::move(p));
      }
  }

  [[nodiscard]] const calibration& device_calibration() const noexcept { return m_cal; }
  [[nodiscard]] int qubits() const noexcept { return m_cal.num_qubits(); }

  /// Duration and calibrated error of a gate on this device.
  [[nodiscard]] gate_noise gate(const operation& op) const {
    if (is_virtual_gate(op.kind)) return {};
    return prepared_for(op).noise;
  }

  /// Thermal relaxation of qubit q over `ns` nanoseconds.
  [[nodiscard]] channel relaxation(int q, double ns) const {
    const auto& c = m_cal.qubits[static_cast<std::size_t>(q)];
    return channels::thermal_relaxation(c.t1_ns, std::min(c.t2_ns, 2 * c.t1_ns), ns);
  }

  /// The depolarizing parameter λ completing the relaxation of a k-qubit gate to its error.
  [[nodiscard]] static double depolarizing_parameter(double error, double relaxation_process_fidelity, int k) {
    const double d = static_cast<double>(index_t(1) << k);
    const double target_avg = 1 - std::min(error, d / (d + 1));
    const double target_pro = ((d + 1) * target_avg - 1) / d;
    // Depolarizing after relaxation: F_pro = (1 − λ)·F_relax + λ/d².
    const double lambda = (relaxation_process_fidelity - target_pro) / (relaxation_process_fidelity - 1 / (d * d));
    return std::clamp(lambda, 0.0, d * d / (d * d - 1));
  }

  /// A channel of a gate's noise and the qubits it acts on (q1 = −1 for one qubit).
  struct placed_channel {
    const channel* e;
    int q0, q1;
  };

  /// The channels applied after `op`, in order (none for virtual gates).
  [[nodiscard]] std::vector<placed_channel> noise_after(const operation& op) const {
    std::vector<placed_channel> out;
    if (is_virtual_gate(op.kind)) return out;
    const int k = gate_qubits(op.kind);
    const prepared& p = prepared_for(op);
    out.push_back({&p.r0, op.q0, -1});
    if (k == 2) out.push_back({&*p.r1, op.q1, -1});
    if (p.depolarizing) out.push_back({&*p.depolarizing, op.q0, k == 2 ? op.q1 : -1});
    return out;
  }

  /// Applies `op` (as matrix `u`, which may differ from the ideal one) and then its noise.
  template <Real R, class S>
  void apply(density_matrix<R, S>& rho, const operation& op, const cmatrix& u) const {
    if (gate_qubits(op.kind) == 1)
      apply_unitary(rho, u, op.q0);
    else
      apply_unitary(rho, u, op.q0, op.q1);
    for (const auto& c : noise_after(op)) {
      if (c.q1 < 0)
        apply_channel(rho, *c.e, c.q0);
      else
        apply_channel(rho, *c.e, c.q0, c.q1);
    }
  }

  /// Per-qubit readout confusion.
  [[nodiscard]] std::vector<readout_error> readout_errors() const {
    std::vector<readout_error> out;
    for (const auto& q : m_cal.qubits) out.push_back({q.p1_given_0, q.p0_given_1});
    return out;
  }

 private:
  struct prepared {
    gate_noise noise;
    channel r0;                           // relaxation of the first qubit
    std::optional<channel> r1;            // of the second (two-qubit gates)
    std::optional<channel> depolarizing;  // absent when relaxation alone reaches the error
  };

  const prepared& prepared_for(const operation& op) const {
    if (gate_qubits(op.kind) == 1) {
      const auto it = m_one.find(op.q0);
      check(it != m_one.end(), "frugal::quantum::noise_model: no 'sx' calibration for qubit ", op.q0, " on ",
            m_cal.name);
      return it->second;
    }
    const auto it = m_two.find({op.q0, op.q1});
    check(it != m_two.end(), "frugal::quantum::noise_model: qubits ", op.q0, " and ", op.q1, " are not coupled on ",
          m_cal.name);
    return it->second;
  }

  calibration m_cal;
  std::map<int, prepared> m_one;
  std::map<std::pair<int, int>, prepared> m_two;
};

}  // namespace frugal::quantum
