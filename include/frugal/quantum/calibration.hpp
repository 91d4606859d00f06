#pragma once
/// \file
/// Device calibrations: per-qubit T1, T2, readout errors, per-gate errors and durations, the
/// coupling map and residual ZZ couplings; the calibration of a few chosen qubits (`subset`); and
/// a built-in calibration from published figures. Times are in nanoseconds, frequencies in GHz.
/// The reader for Qiskit's BackendProperties JSON is in `backend_properties.hpp`, apart, so that
/// code which never reads a file does not parse a JSON library.

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

  /// The calibration of a few of this device's qubits, for a circuit on just those: device qubit
  /// `chosen[i]` becomes qubit i. Each keeps its per-qubit record; every gate whose qubits are all
  /// chosen is kept, renumbered, in its original order (a two-qubit gate keeps its direction); the
  /// ZZ couplings among the chosen qubits are kept under their renumbered pair (a < b). The name
  /// says which qubits: "<name>[12,10,7]".
  /// \param chosen distinct device qubits, in the order the circuit numbers them
  /// \returns a calibration of `chosen.size()` qubits
  /// Throws `invalid_argument` for an empty list, a qubit outside the device or a repeated one.
  /// Complexity: O(qubits + gates + couplings).
  [[nodiscard]] calibration subset(std::vector<int> chosen) const {
    const char* where = "frugal::quantum::calibration::subset";
    const int n = num_qubits();
    check(!chosen.empty(), where, ": no qubits chosen from '", name, "', a ", n, "-qubit device");
    std::vector<int> renumbered(static_cast<std::size_t>(n), -1);  // device qubit -> its index in `chosen`, or -1
    for (std::size_t i = 0; i < chosen.size(); ++i) {
      const int q = chosen[i];
      check(q >= 0 && q < n, where, ": qubit ", q, " is not on '", name, "', a ", n, "-qubit device (qubits 0 to ",
            n - 1, ")");
      int& slot = renumbered[static_cast<std::size_t>(q)];
      check(slot < 0, where, ": qubit ", q, " is chosen twice (positions ", slot, " and ", i, ") from '", name, "', a ",
            n, "-qubit device");
      slot = static_cast<int>(i);
    }
    // Qubits outside the device (in a calibration not yet validated) count as not chosen.
    const auto index_of = [&](int q) { return q >= 0 && q < n ? renumbered[static_cast<std::size_t>(q)] : -1; };
    calibration out;
    out.name = name + "[";
    for (std::size_t i = 0; i < chosen.size(); ++i) {
      out.name += (i ? "," : "") + std::to_string(chosen[i]);
      out.qubits.push_back(qubits[static_cast<std::size_t>(chosen[i])]);
    }
    out.name += "]";
    for (const auto& g : gates) {
      gate_calibration kept = g;
      bool all_chosen = true;
      for (int& q : kept.qubits) {
        q = index_of(q);
        all_chosen = all_chosen && q >= 0;
      }
      if (all_chosen) out.gates.push_back(std::move(kept));
    }
    for (const auto& [pair, zeta] : zz_ghz) {
      const int a = index_of(pair.first), b = index_of(pair.second);
      if (a >= 0 && b >= 0) out.zz_ghz[{std::min(a, b), std::max(a, b)}] = zeta;
    }
    return out;
  }
};

namespace detail {

/// Refuses a circuit of `circuit_qubits` on a device of another size; where the device is larger,
/// the message points to `calibration::subset`. `where` names the refusing function.
inline void check_circuit_fits(std::string_view where, int circuit_qubits, const calibration& device) {
  const int n = device.num_qubits();
  if (circuit_qubits == n) return;
  throw invalid_argument(frugal::detail::concat(
      where, ": a ", circuit_qubits, "-qubit circuit on '", device.name, "', a ", n, "-qubit device",
      circuit_qubits < n ? "; select the circuit's qubits with calibration::subset" : " (too few qubits)"));
}

}  // namespace detail

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
