#pragma once
/// \file
/// Device calibrations: per-qubit T1, T2, readout errors, per-gate errors and durations, the
/// coupling map and residual ZZ couplings; a reader for Qiskit's BackendProperties JSON; and a
/// built-in calibration from published figures. Times are in nanoseconds, frequencies in GHz.

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
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

namespace detail {

/// Converts a time with unit "s", "ms", "us", "µs" or "ns" to nanoseconds.
inline double to_ns(double v, const std::string& unit, const std::string& where) {
  if (unit == "ns") return v;
  if (unit == "us" || unit == "µs") return v * 1e3;
  if (unit == "ms") return v * 1e6;
  if (unit == "s") return v * 1e9;
  throw format_error(where + ": unknown time unit '" + unit + "'", where, 0);
}

inline double to_ghz(double v, const std::string& unit, const std::string& where) {
  if (unit == "GHz") return v;
  if (unit == "MHz") return v * 1e-3;
  if (unit == "kHz") return v * 1e-6;
  if (unit == "Hz") return v * 1e-9;
  throw format_error(where + ": unknown frequency unit '" + unit + "'", where, 0);
}

}  // namespace detail

/// Parses Qiskit BackendProperties JSON (`backend.properties().to_dict()`): `qubits` (per qubit a
/// list of {name, unit, value}: T1, T2, frequency, anharmonicity, prob_meas1_prep0,
/// prob_meas0_prep1 or readout_error, readout_length), `gates` ({gate, qubits, parameters:
/// gate_error, gate_length}) and optional `general` (zz_ij couplings). Malformed JSON, missing
/// T1/T2, unknown units, wrong types and unphysical values throw `format_error` /
/// `invalid_argument` naming `source` (and, for syntax errors, the byte offset).
[[nodiscard]] inline calibration parse_backend_properties(std::string_view text, const std::string& source = "<json>") {
  using nlohmann::json;
  json doc;
  try {
    doc = json::parse(text.begin(), text.end());
  } catch (const json::parse_error& e) {
    throw format_error(source + ": malformed JSON: " + e.what(), source, e.byte);
  }
  auto fail = [&](const std::string& what) -> void { throw format_error(source + ": " + what, source, 0); };
  calibration cal;
  try {
    if (!doc.is_object()) fail("top level is not an object");
    cal.name = doc.value("backend_name", std::string("unnamed"));
    if (!doc.contains("qubits") || !doc["qubits"].is_array()) fail("no 'qubits' array");
    for (std::size_t q = 0; q < doc["qubits"].size(); ++q) {
      const auto& entries = doc["qubits"][q];
      if (!entries.is_array()) fail("qubit " + std::to_string(q) + " is not a list of properties");
      qubit_calibration c;
      bool have_t1 = false, have_t2 = false, have_p10 = false, have_p01 = false;
      double readout_error = -1;
      for (const auto& e : entries) {
        const std::string name = e.at("name").get<std::string>();
        const double v = e.at("value").get<double>();
        const std::string unit = e.value("unit", std::string());
        const std::string where = source + ": qubit " + std::to_string(q) + " " + name;
        if (name == "T1")
          c.t1_ns = detail::to_ns(v, unit, where), have_t1 = true;
        else if (name == "T2")
          c.t2_ns = detail::to_ns(v, unit, where), have_t2 = true;
        else if (name == "frequency")
          c.frequency_ghz = detail::to_ghz(v, unit, where);
        else if (name == "anharmonicity")
          c.anharmonicity_ghz = detail::to_ghz(v, unit, where);
        else if (name == "prob_meas1_prep0")
          c.p1_given_0 = v, have_p10 = true;
        else if (name == "prob_meas0_prep1")
          c.p0_given_1 = v, have_p01 = true;
        else if (name == "readout_error")
          readout_error = v;
        else if (name == "readout_length")
          c.readout_length_ns = detail::to_ns(v, unit, where);
      }
      if (!have_t1 || !have_t2) fail("qubit " + std::to_string(q) + " lacks T1 or T2");
      if (!have_p10 && readout_error >= 0) c.p1_given_0 = readout_error;  // symmetric fallback
      if (!have_p01 && readout_error >= 0) c.p0_given_1 = readout_error;
      cal.qubits.push_back(c);
    }
    if (doc.contains("gates")) {
      if (!doc["gates"].is_array()) fail("'gates' is not an array");
      for (const auto& g : doc["gates"]) {
        gate_calibration gc;
        gc.gate = g.at("gate").get<std::string>();
        gc.qubits = g.at("qubits").get<std::vector<int>>();
        for (const auto& p : g.value("parameters", json::array())) {
          const std::string name = p.at("name").get<std::string>();
          if (name == "gate_error") gc.error = p.at("value").get<double>();
          if (name == "gate_length")
            gc.length_ns = detail::to_ns(p.at("value").get<double>(), p.value("unit", std::string("ns")),
                                         source + ": gate " + gc.gate + " length");
        }
        cal.gates.push_back(std::move(gc));
      }
    }
    if (doc.contains("general") && doc["general"].is_array())
      for (const auto& e : doc["general"]) {
        const std::string name = e.value("name", std::string());
        if (name.rfind("zz_", 0) != 0) continue;
        const std::string digits = name.substr(3);
        // zz_ij with single-digit indices, or zz_i_j.
        int a = -1, b = -1;
        const auto us = digits.find('_');
        if (us != std::string::npos) {
          a = std::stoi(digits.substr(0, us));
          b = std::stoi(digits.substr(us + 1));
        } else if (digits.size() == 2) {
          a = digits[0] - '0';
          b = digits[1] - '0';
        } else {
          continue;  // ambiguous multi-digit name without a separator
        }
        const double v =
            detail::to_ghz(e.at("value").get<double>(), e.value("unit", std::string("GHz")), source + ": " + name);
        cal.zz_ghz[{std::min(a, b), std::max(a, b)}] = v;
      }
  } catch (const nlohmann::json::exception& e) {
    throw format_error(source + ": unexpected structure: " + e.what(), source, 0);
  } catch (const std::invalid_argument&) {
    throw format_error(source + ": malformed coupling name", source, 0);
  } catch (const std::out_of_range&) {
    throw format_error(source + ": malformed coupling name", source, 0);
  }
  for (const auto& [pair, v] : cal.zz_ghz)
    check(pair.first >= 0 && pair.second < cal.num_qubits() && pair.first != pair.second,
          "frugal::quantum::parse_backend_properties: ", source, ": coupling zz_", pair.first, pair.second,
          " names qubits outside the device");
  cal.validate();
  return cal;
}

/// Reads a Qiskit BackendProperties JSON file (see `parse_backend_properties`).
[[nodiscard]] inline calibration read_backend_properties(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw io_error("frugal::quantum::read_backend_properties: cannot open " + file.string());
  std::ostringstream s;
  s << in.rdbuf();
  return parse_backend_properties(s.str(), file.string());
}

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
