#pragma once
/// \file
/// Devices: anything that returns measurement counts for a circuit and a shot count (`Device`),
/// and basis changes for Pauli measurements. The noise model lives in `noise_model.hpp` and noisy
/// simulation in `simulate.hpp`; this header includes both, as it did when it held them. `simulated_device` is the
/// stand-in for hardware: calibrated stochastic noise plus hidden coherent errors (systematic
/// over-rotation, residual ZZ coupling) that the calibrated noise model does not know about.

#include <algorithm>
#include <cmath>
#include <concepts>
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
#include "concepts.hpp"
#include "gradients.hpp"
#include "measurement.hpp"
#include "noise_model.hpp"
#include "operations.hpp"
#include "simulate.hpp"

namespace frugal::quantum {

/// Appends the change into a Pauli measurement basis: for each qubit t, basis[t] = 'Z' (nothing),
/// 'X' (H) or 'Y' (S† then H), so a computational-basis measurement afterwards measures that Pauli.
inline void append_basis_change(circuit& c, const std::string& basis) {
  check(static_cast<int>(basis.size()) == c.qubits(), "frugal::quantum::append_basis_change: basis '", basis, "' for ",
        c.qubits(), " qubits");
  for (int q = 0; q < c.qubits(); ++q) {
    const char b = basis[static_cast<std::size_t>(q)];
    check(b == 'X' || b == 'Y' || b == 'Z', "frugal::quantum::append_basis_change: '", b, "' is not X, Y or Z");
    if (b == 'Y') c.sdg(q);
    if (b != 'Z') c.h(q);
  }
}

/// Where a device's residual ZZ coupling acts.
enum class zz_coupling {
  /// Always on, as on a fixed-frequency transmon: the circuit is scheduled as soon as possible in
  /// moments (gates on disjoint qubits side by side, a moment as long as its longest gate; virtual
  /// gates take no time), and every coupled pair accrues RZZ(2π·ζ·t) for each moment's duration t,
  /// except while its own two-qubit gate runs (a calibrated two-qubit gate absorbs its pair's ZZ).
  always_on,
  /// Only on the pair of each two-qubit gate, for that gate's duration (the earlier stand-in).
  during_two_qubit_gates,
};

/// Coherent errors a real machine has and a calibrated noise model lacks.
struct coherent_errors {
  /// Per qubit: relative over-rotation ε of every driven one-qubit gate (RX/RY/U3 angles scaled by
  /// 1 + ε; fixed gates followed by RX(ε·π/2)), and of the target of two-qubit gates.
  std::vector<double> over_rotation;
  /// Residual ZZ: the calibration's ζ (GHz) of each coupled pair times `zz_scale`, acting as `zz`
  /// says; RZZ(2π·ζ·t·zz_scale) over t nanoseconds.
  double zz_scale = 1;
  zz_coupling zz = zz_coupling::always_on;
};

/// The stand-in device: calibrated stochastic noise (`noise_model`), hidden coherent errors, and
/// seeded shot sampling with readout confusion. `density` gives the exact pre-readout state, for
/// evaluating fidelities exactly. The registers have real type `R` and live on `Space`;
/// `simulated_device` is the double-precision one on the default host space.
template <Real R, ExecutionSpace Space>
class basic_simulated_device {
 public:
  using real_type = R;
  using execution_space = Space;
  using register_type = density_matrix<R, Space>;

  basic_simulated_device(const calibration& cal, coherent_errors hidden = {}, std::uint64_t seed = 1,
                         Space exec = Space{})
      : m_exec(std::move(exec)), m_noise(cal), m_hidden(std::move(hidden)), m_gen(seed) {
    if (m_hidden.over_rotation.empty()) m_hidden.over_rotation.assign(static_cast<std::size_t>(cal.num_qubits()), 0.0);
    const auto given = static_cast<int>(m_hidden.over_rotation.size());
    check(given == cal.num_qubits(), "frugal::quantum::simulated_device: ", given, " over-rotations for '", cal.name,
          "', a ", cal.num_qubits(), "-qubit device",
          given < cal.num_qubits() ? "; select the circuit's qubits with calibration::subset" : "");
    for (double e : m_hidden.over_rotation)
      check(std::isfinite(e) && std::abs(e) < 1, "frugal::quantum::simulated_device: over-rotation ", e,
            " outside (-1, 1)");
  }

  [[nodiscard]] int qubits() const noexcept { return m_noise.qubits(); }
  [[nodiscard]] const noise_model& calibrated_noise() const noexcept { return m_noise; }

  /// The exact state the device prepares (coherent + stochastic noise, before readout).
  [[nodiscard]] register_type density(const circuit& c, const std::vector<double>& theta) const {
    c.check_parameters(theta);
    detail::check_circuit_fits("frugal::quantum::simulated_device::density", c.qubits(), m_noise.device_calibration());
    register_type rho(c.qubits(), m_exec);
    apply_scheduled(rho, c.operations(), theta);
    return rho;
  }

  /// Runs `c` once per measurement basis (a string of 'X', 'Y', 'Z' per qubit: the basis change
  /// H or S†·H, noisy like any gate, runs as the measurement's own moments after the circuit) and
  /// returns the counts of each, simulating the shared prefix only once. Equivalent to `run` on
  /// each extended circuit except that there, with always-on ZZ, a qubit's basis change may be
  /// scheduled before the rest of the circuit ends.
  [[nodiscard]] std::vector<std::vector<std::int64_t>> run_in_bases(const circuit& c, const std::vector<double>& theta,
                                                                    const std::vector<std::string>& bases,
                                                                    std::int64_t shots) {
    check(shots > 0, "frugal::quantum::simulated_device::run_in_bases: shots = ", shots, " must be positive");
    const auto prefix = density(c, theta);
    std::vector<std::vector<std::int64_t>> out;
    for (const auto& b : bases) {
      circuit change(c.qubits());
      append_basis_change(change, b);
      auto rho = prefix.clone();
      apply_scheduled(rho, change.operations(), {});
      auto p = apply_readout_error(quantum::probabilities(rho), m_noise.readout_errors());
      for (auto& x : p) x = std::clamp(x, 0.0, 1.0);
      out.push_back(sample_counts(p, shots, m_gen));
    }
    return out;
  }

  /// Outcome probabilities including readout error.
  [[nodiscard]] std::vector<double> probabilities(const circuit& c, const std::vector<double>& theta) const {
    return apply_readout_error(quantum::probabilities(density(c, theta)), m_noise.readout_errors());
  }

  /// Counts of `shots` measurements.
  [[nodiscard]] std::vector<std::int64_t> run(const circuit& c, const std::vector<double>& theta, std::int64_t shots) {
    check(shots > 0, "frugal::quantum::simulated_device::run: shots = ", shots, " must be positive");
    auto p = probabilities(c, theta);
    for (auto& x : p) x = std::clamp(x, 0.0, 1.0);  // rounding below 0 or above 1
    return sample_counts(p, shots, m_gen);
  }

 private:
  /// The gates of `ops` in ASAP moments, each moment followed by its residual ZZ (see
  /// `zz_coupling`); one after another when the device has no ZZ.
  void apply_scheduled(register_type& rho, std::span<const operation> ops, const std::vector<double>& theta) const {
    const auto& zz = m_noise.device_calibration().zz_ghz;
    if (m_hidden.zz_scale == 0 || zz.empty()) {
      for (const auto& op : ops) apply_op(rho, op, theta);
      return;
    }
    const double pi = std::numbers::pi;
    std::vector<std::size_t> depth(static_cast<std::size_t>(qubits()), 0);
    std::vector<std::vector<const operation*>> moments;
    for (const auto& op : ops) {
      std::size_t m = depth[static_cast<std::size_t>(op.q0)];
      if (gate_qubits(op.kind) == 2) m = std::max(m, depth[static_cast<std::size_t>(op.q1)]);
      if (m == moments.size()) moments.emplace_back();
      moments[m].push_back(&op);
      depth[static_cast<std::size_t>(op.q0)] = m + 1;
      if (gate_qubits(op.kind) == 2) depth[static_cast<std::size_t>(op.q1)] = m + 1;
    }
    std::vector<std::pair<std::pair<int, int>, double>> own;  // this moment's two-qubit gates: pair, length
    for (const auto& moment : moments) {
      double length = 0;
      own.clear();
      for (const operation* op : moment) {
        apply_op(rho, *op, theta);
        const double t = m_noise.gate(*op).length_ns;
        length = std::max(length, t);
        if (gate_qubits(op->kind) == 2) own.push_back({{std::min(op->q0, op->q1), std::max(op->q0, op->q1)}, t});
      }
      for (const auto& [pair, zeta] : zz) {
        double inside = 0;  // the pair's own two-qubit gate in this moment
        for (const auto& [p, t] : own)
          if (p == pair) inside = t;
        const double ns = m_hidden.zz == zz_coupling::always_on ? length - inside : inside;
        if (ns > 0) apply_unitary(rho, gates::rzz(2 * pi * zeta * ns * m_hidden.zz_scale), pair.first, pair.second);
      }
    }
  }

  /// One gate as the device really performs it: hidden over-rotation added.
  void apply_op(register_type& rho, const operation& op, const std::vector<double>& theta) const {
    const double pi = std::numbers::pi;
    auto a = circuit::angle_values(op, theta);
    const double e0 = m_hidden.over_rotation[static_cast<std::size_t>(op.q0)];
    const bool driven_rotation = op.kind == gate_kind::rx || op.kind == gate_kind::ry || op.kind == gate_kind::u3;
    if (driven_rotation) a[0] *= 1 + e0;
    m_noise.apply(rho, op, gate_matrix(op.kind, a, op.matrix));
    if (gate_qubits(op.kind) == 1) {
      if (!is_virtual_gate(op.kind) && !driven_rotation && e0 != 0) apply_unitary(rho, gates::rx(e0 * pi / 2), op.q0);
      return;
    }
    const double e1 = m_hidden.over_rotation[static_cast<std::size_t>(op.q1)];
    if (e1 != 0) apply_unitary(rho, gates::rx(e1 * pi / 2), op.q1);
  }

  Space m_exec;
  noise_model m_noise;
  coherent_errors m_hidden;
  frugal::rng m_gen;
};

/// The stand-in device in double precision on the default host space.
using simulated_device = basic_simulated_device<double, default_host_space>;

static_assert(Device<simulated_device>);

}  // namespace frugal::quantum
