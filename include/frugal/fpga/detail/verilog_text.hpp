#pragma once
/// \file
/// Small text helpers of the Verilog generators.

#include <cctype>
#include <cstdint>
#include <sstream>
#include <string>
#include <string_view>

#include "../../core/error.hpp"

namespace frugal::fpga::detail {

/// An unsigned sized literal, e.g. lit(5, 3) = "5'd3".
inline std::string lit(int width, std::int64_t value) { return std::to_string(width) + "'d" + std::to_string(value); }

/// A function `name` saturating a `from`-bit two's-complement value to `to` bits: when the bits
/// from `to` − 1 upward are not all copies of the sign, the result is the extreme of that sign.
inline void emit_saturate(std::ostream& os, std::string_view name, int from, int to) {
  os << "  function automatic [" << to - 1 << ":0] " << name << "(input [" << from - 1 << ":0] v);\n"
     << "    if (v[" << from - 1 << ":" << to - 1 << "] == {" << from - to + 1 << "{v[" << from - 1 << "]}}) " << name
     << " = v[" << to - 1 << ":0];\n"
     << "    else " << name << " = {v[" << from - 1 << "], {" << to - 1 << "{~v[" << from - 1 << "]}}};\n"
     << "  endfunction\n";
}

/// `v` (a `from`-bit expression naming a plain signal) sign-extended to `to` bits.
inline std::string sign_extend(const std::string& v, int from, int to) {
  if (to == from) return v;
  return "{{" + std::to_string(to - from) + "{" + v + "[" + std::to_string(from - 1) + "]}}, " + v + "}";
}

/// Throws unless `name` is a plain Verilog identifier.
inline void check_module_name(std::string_view who, std::string_view name) {
  bool ok = !name.empty() && (std::isalpha(static_cast<unsigned char>(name[0])) || name[0] == '_');
  for (const char c : name) ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '_');
  check(ok, who, ": module name '", name, "' is not a Verilog identifier");
}

}  // namespace frugal::fpga::detail
