#pragma once
/// \file
/// A reader for Qiskit's BackendProperties JSON (`backend.properties().to_dict()`), the calibration
/// files IBM publishes for its devices. Apart from `calibration.hpp`, and not included by
/// `<frugal/quantum.hpp>` or `<frugal/frugal.hpp>`, because the JSON library it parses with adds
/// to the compile time of every translation unit that includes it (docs/quantum.md, "Compile
/// time"): include `<frugal/quantum/backend_properties.hpp>` where a calibration file is read.

#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../core/error.hpp"
#include "calibration.hpp"

namespace frugal::quantum {

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

}  // namespace frugal::quantum
