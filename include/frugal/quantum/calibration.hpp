#pragma once
/// \file
/// Device calibrations: per-qubit T1, T2, readout errors, per-gate errors and durations, the
/// coupling map and residual ZZ couplings; and a built-in calibration from published figures.
/// Times are in nanoseconds, frequencies in GHz. The reader for Qiskit's BackendProperties JSON
/// is in `backend_properties.hpp`, apart, so that code which never reads a file does not parse a
/// JSON library.

#include <algorithm>
#include <cmath>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../core/error.hpp"

namespace frugal::quantum {

struct qubit_calibration {
  double t1_ns = 0;
  double t2_ns = 0;
  double frequency_ghz = 0;      ///< 0 when not reported
  double anharmonicity_ghz = 0;  ///< 0 when not reported
  double p1_given_0 = 0;         ///< readout: P(read 1 | prepared 0)
  double p0_given_1 = 0;         ///< readout: P(read 0 | prepared 1)
  double readout_length_ns = 0;
};

struct gate_calibration {
  std::string gate;         ///< "sx", "x", "rz", "cx", "ecr", "id", …
  std::vector<int> qubits;  ///< in the gate's order (control first for cx)
  double error = 0;         ///< average gate error (1 − average gate fidelity)
  double length_ns = 0;
};

/// A device's calibration.
struct calibration {
  std::string name;
  std::vector<qubit_calibration> qubits;
  std::vector<gate_calibration> gates;
  std::map<std::pair<int, int>, double> zz_ghz;  ///< residual ZZ per coupled pair (a < b)

  [[nodiscard]] int num_qubits() const noexcept { return static_cast<int>(qubits.size()); }

  /// The calibration of `gate` on exactly `qs`, or nullptr.
  [[nodiscard]] const gate_calibration* find(std::string_view gate, const std::vector<int>& qs) const {
    for (const auto& g : gates)
      if (g.gate == gate && g.qubits == qs) return &g;
    return nullptr;
  }

  /// The two-qubit entangling gate ("cx" or "ecr") on the pair in either direction, or nullptr.
  [[nodiscard]] const gate_calibration* find_two_qubit(int a, int b) const {
    for (const char* name : {"cx", "ecr"}) {
      if (const auto* g = find(name, {a, b})) return g;
      if (const auto* g = find(name, {b, a})) return g;
    }
    return nullptr;
  }

  /// Undirected coupled pairs (a < b) that have a two-qubit gate.
  [[nodiscard]] std::vector<std::pair<int, int>> coupling_map() const {
    std::vector<std::pair<int, int>> out;
    for (const auto& g : gates)
      if (g.qubits.size() == 2 && (g.gate == "cx" || g.gate == "ecr")) {
        const auto p = std::pair<int, int>{std::min(g.qubits[0], g.qubits[1]), std::max(g.qubits[0], g.qubits[1])};
        if (std::find(out.begin(), out.end(), p) == out.end()) out.emplace_back(p);
      }
    std::sort(out.begin(), out.end());
    return out;
  }

  [[nodiscard]] bool coupled(int a, int b) const { return find_two_qubit(a, b) != nullptr; }

  /// Throws unless every value is physical: T1, T2 > 0, probabilities in [0, 1], lengths ≥ 0,
  /// gate qubits in range and distinct.
  void validate() const {
    const char* where = "frugal::quantum::calibration";
    check(!qubits.empty(), where, " '", name, "': no qubits");
    for (std::size_t q = 0; q < qubits.size(); ++q) {
      const auto& c = qubits[q];
      check(c.t1_ns > 0 && std::isfinite(c.t1_ns), where, " '", name, "': qubit ", q, " T1 = ", c.t1_ns,
            " ns is not positive");
      check(c.t2_ns > 0 && std::isfinite(c.t2_ns), where, " '", name, "': qubit ", q, " T2 = ", c.t2_ns,
            " ns is not positive");
      check(c.p1_given_0 >= 0 && c.p1_given_0 <= 1 && c.p0_given_1 >= 0 && c.p0_given_1 <= 1, where, " '", name,
            "': qubit ", q, " readout probabilities outside [0, 1]");
      check(c.readout_length_ns >= 0, where, " '", name, "': qubit ", q, " negative readout length");
    }
    for (const auto& g : gates) {
      check(!g.qubits.empty() && g.qubits.size() <= 2, where, " '", name, "': gate ", g.gate, " on ", g.qubits.size(),
            " qubits");
      for (std::size_t i = 0; i < g.qubits.size(); ++i) {
        check(g.qubits[i] >= 0 && g.qubits[i] < num_qubits(), where, " '", name, "': gate ", g.gate, " on qubit ",
              g.qubits[i], " of a ", num_qubits(), "-qubit device");
        for (std::size_t j = 0; j < i; ++j)
          check(g.qubits[i] != g.qubits[j], where, " '", name, "': gate ", g.gate, " repeats qubit ", g.qubits[i]);
      }
      check(g.error >= 0 && g.error <= 1, where, " '", name, "': gate ", g.gate, " error ", g.error, " outside [0, 1]");
      check(g.length_ns >= 0 && std::isfinite(g.length_ns), where, " '", name, "': gate ", g.gate, " negative length");
    }
  }
};

namespace calibrations {

/// A line of `n` transmons with published median figures of IBM's 27-qubit Falcon r5 devices
/// (2021–2022 public calibration data): T1 = 100 µs, T2 = 80 µs, √X error 3·10⁻⁴ over 35.6 ns,
/// CX error 1·10⁻² over 400 ns, readout P(1|0) = 1 %, P(0|1) = 3 % over 5 µs, residual ZZ
/// 50 kHz on each coupled pair. Qubit-to-qubit spread is ±20 % in T1/T2 and errors, fixed per
/// index so the device is reproducible.
[[nodiscard]] inline calibration falcon_line(int n) {
  check(n >= 1 && n <= 27, "frugal::quantum::calibrations::falcon_line: ", n, " qubits (1 to 27)");
  calibration c;
  c.name = "falcon_line_" + std::to_string(n);
  for (int q = 0; q < n; ++q) {
    const double s = 1 + 0.2 * std::sin(1.7 * q + 0.3);  // deterministic spread in [0.8, 1.2]
    c.qubits.push_back({100e3 * s, 80e3 * (2 - s), 5.0 + 0.05 * q, -0.34, 0.01 * s, 0.03 * (2 - s), 5000});
    for (const char* g : {"sx", "x"}) c.gates.push_back({g, {q}, 3e-4 * s, 35.56});
    c.gates.push_back({"rz", {q}, 0, 0});
    if (q + 1 < n) {
      c.gates.push_back({"cx", {q, q + 1}, 1e-2 * (2 - s), 400});
      c.gates.push_back({"cx", {q + 1, q}, 1e-2 * (2 - s), 400});
      c.zz_ghz[{q, q + 1}] = -5e-5;
    }
  }
  c.validate();
  return c;
}

}  // namespace calibrations

}  // namespace frugal::quantum
