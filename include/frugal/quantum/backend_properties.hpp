#pragma once
/// \file
/// A reader for Qiskit's BackendProperties JSON (`backend.properties().to_dict()`), the calibration
/// files IBM publishes for its devices. Apart from `calibration.hpp`, and not included by
/// `<frugal/quantum.hpp>` or `<frugal/frugal.hpp>`, because the JSON library it parses with adds
/// to the compile time of every translation unit that includes it (docs/quantum.md, "Compile
/// time"): include `<frugal/quantum/backend_properties.hpp>` where a calibration file is read.

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
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

/// Converts a time with unit "s", "ms", "us", "µs" or "ns" to nanoseconds; `where` starts the
/// message ("<function>: <file>: qubit 3 T1"), `file` names the file.
inline double to_ns(double v, const std::string& unit, const std::string& where, const std::string& file) {
  if (unit == "ns") return v;
  if (unit == "us" || unit == "µs") return v * 1e3;
  if (unit == "ms") return v * 1e6;
  if (unit == "s") return v * 1e9;
  throw format_error(where + ": unknown time unit '" + unit + "'", file, 0);
}

/// Converts a frequency with unit "GHz", "MHz", "kHz" or "Hz" to GHz (see `to_ns`).
inline double to_ghz(double v, const std::string& unit, const std::string& where, const std::string& file) {
  if (unit == "GHz") return v;
  if (unit == "MHz") return v * 1e-3;
  if (unit == "kHz") return v * 1e-6;
  if (unit == "Hz") return v * 1e-9;
  throw format_error(where + ": unknown frequency unit '" + unit + "'", file, 0);
}

/// The reader behind `parse_backend_properties` and `read_backend_properties`; `function` is the
/// public one the caller called, so that every message names it and `source`.
[[nodiscard]] inline calibration parse_backend_properties(std::string_view text, const std::string& source,
                                                          const std::string& function) {
  using nlohmann::json;
  const std::string prefix = function + ": " + source + ": ";
  json doc;
  try {
    doc = json::parse(text.begin(), text.end());
  } catch (const json::parse_error& e) {
    throw format_error(prefix + "malformed JSON at byte " + std::to_string(e.byte) + ": " + e.what(), source, e.byte);
  }
  auto fail = [&](const std::string& what) -> void { throw format_error(prefix + what, source, 0); };
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
        const std::string where = prefix + "qubit " + std::to_string(q) + " " + name;
        if (name == "T1")
          c.t1_ns = to_ns(v, unit, where, source), have_t1 = true;
        else if (name == "T2")
          c.t2_ns = to_ns(v, unit, where, source), have_t2 = true;
        else if (name == "frequency")
          c.frequency_ghz = to_ghz(v, unit, where, source);
        else if (name == "anharmonicity")
          c.anharmonicity_ghz = to_ghz(v, unit, where, source);
        else if (name == "prob_meas1_prep0")
          c.p1_given_0 = v, have_p10 = true;
        else if (name == "prob_meas0_prep1")
          c.p0_given_1 = v, have_p01 = true;
        else if (name == "readout_error")
          readout_error = v;
        else if (name == "readout_length")
          c.readout_length_ns = to_ns(v, unit, where, source);
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
            gc.length_ns = to_ns(p.at("value").get<double>(), p.value("unit", std::string("ns")),
                                 prefix + "gate " + gc.gate + " length", source);
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
          try {
            std::size_t used_a = 0, used_b = 0;
            a = std::stoi(digits.substr(0, us), &used_a);
            b = std::stoi(digits.substr(us + 1), &used_b);
            if (used_a != us || used_b != digits.size() - us - 1) fail("malformed coupling name '" + name + "'");
          } catch (const std::logic_error&) {  // std::stoi: no digits, or out of int's range
            fail("malformed coupling name '" + name + "'");
          }
        } else {
          const bool all_digits = !digits.empty() && std::all_of(digits.begin(), digits.end(), [](char ch) {
            return std::isdigit(static_cast<unsigned char>(ch)) != 0;
          });
          if (!all_digits) fail("malformed coupling name '" + name + "'");
          if (digits.size() != 2) continue;  // "zz_1214": 1-214, 12-14 or 121-4, not read
          a = digits[0] - '0';
          b = digits[1] - '0';
        }
        check(a >= 0 && b >= 0 && a < cal.num_qubits() && b < cal.num_qubits() && a != b, prefix, "coupling '", name,
              "' names qubits outside the ", cal.num_qubits(), "-qubit device");
        cal.zz_ghz[{std::min(a, b), std::max(a, b)}] =
            to_ghz(e.at("value").get<double>(), e.value("unit", std::string("GHz")), prefix + name, source);
      }
  } catch (const nlohmann::json::exception& e) {
    throw format_error(prefix + "unexpected structure: " + e.what(), source, 0);
  }
  try {
    cal.validate();
  } catch (const invalid_argument& e) {
    throw invalid_argument(prefix + e.what());
  }
  return cal;
}

}  // namespace detail

/// Parses Qiskit BackendProperties JSON (`backend.properties().to_dict()`): `qubits` (per qubit a
/// list of {name, unit, value}: T1, T2, frequency, anharmonicity, prob_meas1_prep0,
/// prob_meas0_prep1 or readout_error, readout_length), `gates` ({gate, qubits, parameters:
/// gate_error, gate_length}) and optional `general` (residual ZZ as zz_ij with single-digit
/// indices or zz_i_j; other entries, and multi-digit names without a separator, are not read).
/// Malformed JSON, missing T1/T2, unknown units and wrong types throw `format_error`, unphysical
/// values `invalid_argument`; every message starts "frugal::quantum::parse_backend_properties:
/// <source>:" (syntax errors then give the byte offset, also in `format_error::offset`).
/// \param text the JSON document
/// \param source what the messages call it (a file name, or "<json>")
[[nodiscard]] inline calibration parse_backend_properties(std::string_view text, const std::string& source = "<json>") {
  return detail::parse_backend_properties(text, source, "frugal::quantum::parse_backend_properties");
}

/// Reads a Qiskit BackendProperties JSON file (see `parse_backend_properties`); messages start
/// "frugal::quantum::read_backend_properties: <file>:". Throws `io_error` when the file cannot be
/// opened.
[[nodiscard]] inline calibration read_backend_properties(const std::filesystem::path& file) {
  const char* function = "frugal::quantum::read_backend_properties";
  std::ifstream in(file, std::ios::binary);
  if (!in) throw io_error(std::string(function) + ": cannot open " + file.string());
  std::ostringstream s;
  s << in.rdbuf();
  return detail::parse_backend_properties(s.str(), file.string(), function);
}

}  // namespace frugal::quantum
