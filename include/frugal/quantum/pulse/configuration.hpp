#pragma once
/// \file
/// A reader for the Hamiltonian description in a Qiskit backend configuration
/// (`backend.configuration().to_dict()`: `hamiltonian.h_str`, `hamiltonian.vars`,
/// `hamiltonian.qub`, `u_channel_lo`, `dt`), producing a pulse-level `device_model`; and the
/// step that adds T1/T2 from the BackendProperties reader. Not included by
/// `<frugal/quantum/pulse.hpp>`: the JSON library adds compile time to every file that includes
/// it (see backend_properties.hpp).
///
/// Supported `h_str` terms (after `_SUM[i,lo,hi,template]` expansion), as IBM's configurations
/// write them: a coefficient (numbers and `vars` joined by `*` and `/`, optionally negated) times
///   - diagonal operators of one transmon (`I`, `Z`, `O`, `(I-Z)`, products of them): the
///     transmon's frequency and anharmonicity, read from the polynomial in N they make (Z = I − 2N);
///   - `Sp{i}*Sm{j}` with its Hermitian partner `Sm{i}*Sp{j}`: an exchange coupling;
///   - `X{i}||D{k}` or `X{i}||U{k}`: a drive or control channel acting on transmon i. A drive
///     channel's carrier is the transmon's frequency; a U channel's is `u_channel_lo[k]`, which
///     must name one qubit with scale (1, 0).
/// Anything else is rejected with an error naming the term, rather than silently dropped.

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "../../core/error.hpp"
#include "../calibration.hpp"
#include "device.hpp"

namespace frugal::quantum::pulse {

namespace detail {

/// One parsed term: coefficient, operator factors (name, transmon), and the channel after `||`.
struct hamiltonian_term {
  double coefficient = 1;
  std::vector<std::pair<std::string, int>> ops;
  std::string channel;
};

/// Expands `_SUM[i,lo,hi,template]` by substituting `{i}`; other strings pass through.
inline std::vector<std::string> expand_sum(const std::string& s, const std::function<void(const std::string&)>& fail) {
  std::string t;
  for (char c : s)
    if (!std::isspace(static_cast<unsigned char>(c))) t += c;
  if (t.rfind("_SUM[", 0) != 0) return {t};
  if (t.back() != ']') fail("malformed _SUM (no closing ']') in h_str term '" + s + "'");
  const std::string body = t.substr(5, t.size() - 6);
  std::size_t p1 = body.find(','), p2 = p1 == std::string::npos ? p1 : body.find(',', p1 + 1),
              p3 = p2 == std::string::npos ? p2 : body.find(',', p2 + 1);
  if (p3 == std::string::npos) fail("malformed _SUM (expected _SUM[var,lo,hi,term]) in h_str term '" + s + "'");
  const std::string var = body.substr(0, p1);
  int lo = 0, hi = 0;
  try {
    std::size_t used = 0;
    lo = std::stoi(body.substr(p1 + 1, p2 - p1 - 1), &used);
    if (used != p2 - p1 - 1) throw std::invalid_argument("");
    hi = std::stoi(body.substr(p2 + 1, p3 - p2 - 1), &used);
    if (used != p3 - p2 - 1) throw std::invalid_argument("");
  } catch (const std::exception&) {
    fail("malformed _SUM bounds in h_str term '" + s + "'");
  }
  if (var.empty() || lo < 0 || hi < lo || hi - lo > 1000)
    fail("malformed _SUM (variable or bounds) in h_str term '" + s + "'");
  const std::string tmpl = body.substr(p3 + 1);
  const std::string key = "{" + var + "}";
  std::vector<std::string> out;
  for (int i = lo; i <= hi; ++i) {
    std::string e = tmpl;
    for (std::size_t at = e.find(key); at != std::string::npos; at = e.find(key, at))
      e.replace(at, key.size(), std::to_string(i));
    out.push_back(e);
  }
  return out;
}

/// Parses one expanded term against `vars`.
inline hamiltonian_term parse_term(const std::string& term, const std::map<std::string, double>& vars,
                                   const std::function<void(const std::string&)>& fail) {
  hamiltonian_term out;
  std::string body = term;
  if (const auto bar = term.find("||"); bar != std::string::npos) {
    body = term.substr(0, bar);
    out.channel = term.substr(bar + 2);
    if (out.channel.size() < 2 || (out.channel[0] != 'D' && out.channel[0] != 'U') ||
        !std::all_of(out.channel.begin() + 1, out.channel.end(),
                     [](char c) { return std::isdigit(static_cast<unsigned char>(c)); }))
      fail("unsupported channel '" + out.channel + "' in Hamiltonian term '" + term + "' (D<k> or U<k>)");
  }
  if (!body.empty() && body[0] == '-') {
    out.coefficient = -1;
    body = body.substr(1);
  }
  // Split at top-level '*'; each factor may carry '/number' divisions.
  std::vector<std::string> factors;
  int depth = 0;
  std::string cur;
  for (char c : body) {
    if (c == '(') ++depth;
    if (c == ')') --depth;
    if (depth < 0) fail("unbalanced parentheses in Hamiltonian term '" + term + "'");
    if (c == '*' && depth == 0) {
      factors.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  factors.push_back(cur);
  if (depth != 0) fail("unbalanced parentheses in Hamiltonian term '" + term + "'");
  auto op_index = [&](const std::string& tok, std::size_t prefix) -> int {
    const std::string digits = tok.substr(prefix);
    if (digits.empty() || digits.size() > 4 ||
        !std::all_of(digits.begin(), digits.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); }))
      return -1;
    return std::stoi(digits);
  };
  for (const std::string& f0 : factors) {
    if (f0.empty()) fail("empty factor in Hamiltonian term '" + term + "'");
    std::string f = f0;
    std::vector<std::string> divs;
    if (f[0] != '(') {
      std::stringstream ss(f);
      std::string part;
      std::getline(ss, f, '/');
      while (std::getline(ss, part, '/')) divs.push_back(part);
    }
    double value = 1;
    bool is_number = false;
    if (f.size() > 2 && f.front() == '(' && f.back() == ')') {
      // (I{i}-Z{i}) is the only compound IBM writes.
      const std::string in = f.substr(1, f.size() - 2);
      const auto minus = in.find('-');
      if (minus == std::string::npos || in[0] != 'I' || in[minus + 1] != 'Z')
        fail("unsupported Hamiltonian term '" + term + "': factor '" + f + "'");
      const int a = op_index(in.substr(0, minus), 1), b = op_index(in.substr(minus + 1), 1);
      if (a < 0 || a != b) fail("unsupported Hamiltonian term '" + term + "': factor '" + f + "'");
      out.ops.push_back({"I-Z", a});
    } else if (std::isdigit(static_cast<unsigned char>(f[0])) || f[0] == '.') {
      try {
        std::size_t used = 0;
        value = std::stod(f, &used);
        if (used != f.size()) throw std::invalid_argument("");
      } catch (const std::exception&) {
        fail("bad number '" + f + "' in Hamiltonian term '" + term + "'");
      }
      is_number = true;
    } else if (const auto v = vars.find(f); v != vars.end()) {
      value = v->second;
      is_number = true;
    } else {
      std::string name;
      std::size_t prefix = 0;
      for (const char* op : {"Sp", "Sm", "I", "Z", "O", "X"}) {
        const std::string o(op);
        if (f.rfind(o, 0) == 0 && op_index(f, o.size()) >= 0) {
          name = o;
          prefix = o.size();
          break;
        }
      }
      if (name.empty())
        fail("unknown variable or operator '" + f + "' in Hamiltonian term '" + term + "' (not in hamiltonian.vars)");
      out.ops.push_back({name, op_index(f, prefix)});
    }
    for (const auto& d : divs) {
      double den = 0;
      try {
        std::size_t used = 0;
        den = std::stod(d, &used);
        if (used != d.size()) throw std::invalid_argument("");
      } catch (const std::exception&) {
        const auto v = vars.find(d);
        if (v == vars.end()) fail("bad divisor '" + d + "' in Hamiltonian term '" + term + "'");
        den = v->second;
      }
      if (den == 0) fail("division by zero in Hamiltonian term '" + term + "'");
      if (!is_number) fail("unsupported Hamiltonian term '" + term + "': an operator divided by a number");
      value /= den;
    }
    if (is_number) out.coefficient *= value;
  }
  if (!std::isfinite(out.coefficient)) fail("non-finite coefficient in Hamiltonian term '" + term + "'");
  return out;
}

/// The reader behind `parse_backend_configuration`; `function` names the public entry point.
[[nodiscard]] inline device_model parse_backend_configuration(std::string_view text, const std::string& source,
                                                              std::vector<int> qubits, int levels,
                                                              const std::string& function) {
  using nlohmann::json;
  const std::string prefix = function + ": " + source + ": ";
  auto fail = [&](const std::string& what) { throw format_error(prefix + what, source, 0); };
  json doc;
  try {
    doc = json::parse(text.begin(), text.end());
  } catch (const json::parse_error& e) {
    throw format_error(prefix + "malformed JSON at byte " + std::to_string(e.byte) + ": " + e.what(), source, e.byte);
  }
  if (levels != 0 && (levels < 2 || levels > 4))
    throw invalid_argument(prefix + "levels must be 0 (from the file) or 2..4");
  try {
    if (!doc.is_object()) fail("the configuration is not a JSON object");
    if (!doc.contains("dt") || !doc["dt"].is_number()) fail("missing or non-numeric field 'dt'");
    const double dt = doc["dt"].get<double>();
    if (!(dt > 0 && dt < 1e3)) fail("field 'dt' = " + std::to_string(dt) + " is not a sample period in ns");
    if (!doc.contains("n_qubits") || !doc["n_qubits"].is_number_integer())
      fail("missing or non-integer field 'n_qubits'");
    const int n = doc["n_qubits"].get<int>();
    if (n < 1 || n > 1000) fail("field 'n_qubits' = " + std::to_string(n) + " is out of range");
    if (!doc.contains("hamiltonian") || !doc["hamiltonian"].is_object()) fail("missing field 'hamiltonian'");
    const json& h = doc["hamiltonian"];
    if (!h.contains("h_str") || !h["h_str"].is_array()) fail("missing or non-array field 'hamiltonian.h_str'");
    if (!h.contains("vars") || !h["vars"].is_object()) fail("missing or non-object field 'hamiltonian.vars'");
    if (!h.contains("qub") || !h["qub"].is_object()) fail("missing or non-object field 'hamiltonian.qub'");
    std::map<std::string, double> vars;
    for (const auto& [k, v] : h["vars"].items()) {
      if (!v.is_number()) fail("hamiltonian.vars." + k + " is not a number");
      vars[k] = v.get<double>();
    }
    std::vector<int> qub(static_cast<std::size_t>(n), 0);
    for (const auto& [k, v] : h["qub"].items()) {
      int q = -1;
      try {
        std::size_t used = 0;
        q = std::stoi(k, &used);
        if (used != k.size()) q = -1;
      } catch (const std::exception&) {
      }
      if (q < 0 || q >= n) fail("hamiltonian.qub names qubit '" + k + "', not in 0.." + std::to_string(n - 1));
      if (!v.is_number_integer() || v.get<int>() < 2) fail("hamiltonian.qub." + k + " must be a level count >= 2");
      qub[static_cast<std::size_t>(q)] = v.get<int>();
    }
    // Parse every term.
    std::vector<double> lin(static_cast<std::size_t>(n), 0.0), quad(static_cast<std::size_t>(n), 0.0);
    std::vector<bool> has_freq(static_cast<std::size_t>(n), false);
    std::map<std::pair<int, int>, double> exchange;
    struct raw_channel {
      std::string name;
      int transmon;
      double strength;
    };
    std::vector<raw_channel> raw;
    std::size_t idx = 0;
    for (const auto& entry : h["h_str"]) {
      if (!entry.is_string()) fail("hamiltonian.h_str[" + std::to_string(idx) + "] is not a string");
      for (const std::string& t : expand_sum(entry.get<std::string>(), fail)) {
        if (t.empty()) continue;
        const hamiltonian_term term = parse_term(t, vars, fail);
        for (const auto& [op, q] : term.ops)
          if (q < 0 || q >= n)
            fail("Hamiltonian term '" + t + "' acts on qubit " + std::to_string(q) + " of " + std::to_string(n));
        const auto& ops = term.ops;
        if (!term.channel.empty()) {
          if (ops.size() != 1 || ops[0].first != "X")
            fail("unsupported Hamiltonian term '" + t + "': a channel must drive a single X operator");
          std::string name = term.channel;
          name[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(name[0])));
          raw.push_back({name, ops[0].second, term.coefficient});
          continue;
        }
        if (ops.size() == 2 &&
            ((ops[0].first == "Sp" && ops[1].first == "Sm") || (ops[0].first == "Sm" && ops[1].first == "Sp")) &&
            ops[0].second != ops[1].second) {
          const int i = ops[0].first == "Sp" ? ops[0].second : ops[1].second;
          const int j = ops[0].first == "Sp" ? ops[1].second : ops[0].second;
          exchange[{i, j}] += term.coefficient;
          continue;
        }
        // Diagonal operators on one transmon: a polynomial in N (Z = I - 2N, O = N, I-Z = 2N).
        bool diagonal = !ops.empty();
        for (const auto& [op, q] : ops)
          diagonal = diagonal && (op == "I" || op == "Z" || op == "O" || op == "I-Z") && q == ops[0].second;
        if (!diagonal) fail("unsupported Hamiltonian term '" + t + "'");
        double p[3] = {1, 0, 0};  // coefficients of 1, N, N^2
        for (const auto& [op, q] : ops) {
          double f0 = 1, f1 = 0;  // factor = f0 + f1 N
          if (op == "Z") f0 = 1, f1 = -2;
          if (op == "O") f0 = 0, f1 = 1;
          if (op == "I-Z") f0 = 0, f1 = 2;
          const double n0 = p[0] * f0, n1 = p[0] * f1 + p[1] * f0, n2 = p[1] * f1 + p[2] * f0;
          if (p[2] * f1 != 0) fail("unsupported Hamiltonian term '" + t + "': cubic in the number operator");
          p[0] = n0, p[1] = n1, p[2] = n2;
        }
        const auto q = static_cast<std::size_t>(ops[0].second);
        lin[q] += term.coefficient * p[1];
        quad[q] += term.coefficient * p[2];
        if (p[1] != 0) has_freq[q] = true;
      }
      ++idx;
    }
    for (const auto& [ij, c] : exchange) {
      const auto back = exchange.find({ij.second, ij.first});
      if (back == exchange.end() || std::abs(back->second - c) > 1e-12 * std::max(1.0, std::abs(c)))
        fail("exchange term Sp" + std::to_string(ij.first) + "*Sm" + std::to_string(ij.second) +
             " has no equal Hermitian partner Sm" + std::to_string(ij.first) + "*Sp" + std::to_string(ij.second));
    }
    // Which device qubits, in which order.
    if (qubits.empty())
      for (int q = 0; q < n; ++q)
        if (qub[static_cast<std::size_t>(q)] > 0) qubits.push_back(q);
    std::vector<int> local(static_cast<std::size_t>(n), -1);
    for (std::size_t k = 0; k < qubits.size(); ++k) {
      const int q = qubits[k];
      if (q < 0 || q >= n) throw invalid_argument(prefix + "qubit " + std::to_string(q) + " does not exist");
      if (local[static_cast<std::size_t>(q)] >= 0)
        throw invalid_argument(prefix + "qubit " + std::to_string(q) + " chosen twice");
      if (qub[static_cast<std::size_t>(q)] == 0) fail("qubit " + std::to_string(q) + " is not in hamiltonian.qub");
      if (!has_freq[static_cast<std::size_t>(q)])
        fail("the Hamiltonian gives qubit " + std::to_string(q) + " no frequency term");
      local[static_cast<std::size_t>(q)] = static_cast<int>(k);
    }
    device_model m;
    m.dt = dt;
    for (const int q : qubits) {
      const auto u = static_cast<std::size_t>(q);
      transmon t;
      t.levels = levels > 0 ? levels : std::min(qub[u], 4);
      t.anharmonicity = 2 * quad[u];  // (δ/2) N(N−1) = (δ/2) N² − (δ/2) N
      t.frequency = lin[u] + quad[u];
      m.transmons.push_back(t);
    }
    for (const auto& [ij, c] : exchange)
      if (ij.first < ij.second && local[std::size_t(ij.first)] >= 0 && local[std::size_t(ij.second)] >= 0)
        m.couplings.push_back({local[std::size_t(ij.first)], local[std::size_t(ij.second)], c});
    const json* ulo = doc.contains("u_channel_lo") ? &doc["u_channel_lo"] : nullptr;
    for (const auto& r : raw) {
      if (local[static_cast<std::size_t>(r.transmon)] < 0) continue;
      const int k = std::stoi(r.name.substr(1));
      int frame_q = -1;
      if (r.name[0] == 'd') {
        frame_q = k;
        if (k != r.transmon)
          fail("drive channel " + r.name + " acts on qubit " + std::to_string(r.transmon) + ", not its own");
      } else {
        if (ulo == nullptr || !ulo->is_array()) fail("channel " + r.name + " needs 'u_channel_lo', which is missing");
        if (k >= static_cast<int>(ulo->size())) fail("u_channel_lo has no entry for " + r.name);
        const json& e = (*ulo)[static_cast<std::size_t>(k)];
        if (!e.is_array() || e.size() != 1 || !e[0].is_object() || !e[0].contains("q") ||
            !e[0]["q"].is_number_integer() || !e[0].contains("scale") || !e[0]["scale"].is_array() ||
            e[0]["scale"].size() != 2 || !e[0]["scale"][0].is_number() || !e[0]["scale"][1].is_number())
          fail("u_channel_lo[" + std::to_string(k) + "] is unsupported: expected one {q, scale: [re, im]} entry");
        if (e[0]["scale"][0].get<double>() != 1.0 || e[0]["scale"][1].get<double>() != 0.0)
          fail("u_channel_lo[" + std::to_string(k) + "] has a scale other than (1, 0), which is unsupported");
        frame_q = e[0]["q"].get<int>();
        if (frame_q < 0 || frame_q >= n)
          fail("u_channel_lo[" + std::to_string(k) + "] names qubit " + std::to_string(frame_q));
      }
      if (local[static_cast<std::size_t>(frame_q)] < 0) continue;  // its carrier follows a qubit left out
      const auto& ft = m.transmons[static_cast<std::size_t>(local[static_cast<std::size_t>(frame_q)])];
      m.channels.push_back({r.name, local[static_cast<std::size_t>(r.transmon)], r.strength, ft.frequency,
                            local[static_cast<std::size_t>(frame_q)]});
    }
    std::sort(m.channels.begin(), m.channels.end(), [](const channel& a, const channel& b) {
      if (a.name[0] != b.name[0]) return a.name[0] < b.name[0];
      return std::stoi(a.name.substr(1)) < std::stoi(b.name.substr(1));
    });
    try {
      m.validate();
    } catch (const invalid_argument& e) {
      fail(e.what());
    }
    return m;
  } catch (const json::exception& e) {
    throw format_error(prefix + "unexpected structure: " + e.what(), source, 0);
  }
}

}  // namespace detail

/// Reads the device model from a backend configuration's JSON text. `qubits` picks device qubits
/// (renumbered 0.. in the given order; empty: all); couplings and channels to qubits left out are
/// dropped. `levels` overrides the file's level count (`hamiltonian.qub`) when non-zero.
/// Throws `format_error` naming `source` and the field or term on malformed or unsupported input,
/// `invalid_argument` on bad arguments.
[[nodiscard]] inline device_model parse_backend_configuration(std::string_view text,
                                                              const std::string& source = "<json>",
                                                              std::vector<int> qubits = {}, int levels = 0) {
  return detail::parse_backend_configuration(text, source, std::move(qubits), levels,
                                             "frugal::quantum::pulse::parse_backend_configuration");
}

/// `parse_backend_configuration` on a file; throws `io_error` when it cannot be read.
[[nodiscard]] inline device_model read_backend_configuration(const std::filesystem::path& file,
                                                             std::vector<int> qubits = {}, int levels = 0) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw io_error("frugal::quantum::pulse::read_backend_configuration: cannot open " + file.string());
  std::stringstream ss;
  ss << in.rdbuf();
  return detail::parse_backend_configuration(ss.str(), file.string(), std::move(qubits), levels,
                                             "frugal::quantum::pulse::read_backend_configuration");
}

/// Sets each transmon's T1 and T2 from a calibration (`read_backend_properties`); `device_qubits`
/// are the device qubits the model's transmons came from, in order (as passed to the reader). A
/// reported T2 above 2 T1 (a fit's scatter; physically T2 ≤ 2 T1) is taken as 2 T1.
inline void set_decoherence(device_model& m, const calibration& cal, const std::vector<int>& device_qubits) {
  check(device_qubits.size() == m.transmons.size(), "frugal::quantum::pulse::set_decoherence: ", device_qubits.size(),
        " device qubits for ", m.transmons.size(), " transmons");
  for (std::size_t i = 0; i < device_qubits.size(); ++i) {
    const int q = device_qubits[i];
    check(q >= 0 && static_cast<std::size_t>(q) < cal.qubits.size(), "frugal::quantum::pulse::set_decoherence: qubit ",
          q, " is not in the calibration (", cal.qubits.size(), " qubits)");
    m.transmons[i].t1_ns = cal.qubits[static_cast<std::size_t>(q)].t1_ns;
    m.transmons[i].t2_ns = std::min(cal.qubits[static_cast<std::size_t>(q)].t2_ns, 2 * m.transmons[i].t1_ns);
  }
  m.validate();
}

}  // namespace frugal::quantum::pulse
