#pragma once
/// \file
/// The line parser of the Criteo reader: the categorical hash, the fast modulus, the integer and
/// hex field parsers and the malformed-line reasons. Private to `frugal/io/criteo.hpp`.

#include <zlib.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "../../core/error.hpp"
#include "../../core/execution.hpp"
#include "../click_data.hpp"
#include "../criteo_options.hpp"

namespace frugal::io {

namespace detail {

/// The categorical hash: Stafford's "Mix13" finaliser (splitmix64's) of
/// `v ^ (field + 1)·φ ^ seed·c`, φ = 2^64/golden ratio, c another odd constant. A bijection of
/// `v` for a fixed field and seed, so distinct values of a field collide only through the modulo.
[[nodiscard]] constexpr std::uint64_t criteo_hash(std::uint32_t value, index_t field, std::uint64_t seed) noexcept {
  std::uint64_t z = std::uint64_t{value} ^ (static_cast<std::uint64_t>(field + 1) * 0x9E3779B97F4A7C15ULL) ^
                    (seed * 0xD6E8FEB86659FD93ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

/// Longest line the reader buffers; a longer one (no valid line is within three orders of
/// magnitude of this) is skipped as a wrong field count without being held in memory.
inline constexpr std::size_t criteo_max_line_bytes = std::size_t(1) << 20;

/// Why a line is malformed; `none` for a good line.
enum class criteo_fault : std::uint8_t { none, field_count, label, integer, categorical };

/// Outcome of parsing a line: the fault, and where it is (the field index 0…39 or the field count).
struct criteo_parse_result {
  criteo_fault fault = criteo_fault::none;
  int field = 0;              ///< offending field (0 label, 1…13 I, 14…39 C), or the number of fields found
  bool out_of_range = false;  ///< an integer that does not fit int64
};

/// Value of each hex digit, -1 for other characters.
inline constexpr std::array<std::int8_t, 256> criteo_hex_table = [] {
  std::array<std::int8_t, 256> t{};
  for (auto& x : t) x = -1;
  for (int c = 0; c < 10; ++c) t[static_cast<std::size_t>('0' + c)] = static_cast<std::int8_t>(c);
  for (int c = 0; c < 6; ++c) {
    t[static_cast<std::size_t>('a' + c)] = static_cast<std::int8_t>(10 + c);
    t[static_cast<std::size_t>('A' + c)] = static_cast<std::int8_t>(10 + c);
  }
  return t;
}();

/// `float(log1p(x))` for small x, precomputed: most Criteo integers are below a thousand.
inline const std::array<float, 1024>& criteo_log1p_table() {
  static const std::array<float, 1024> table = [] {
    std::array<float, 1024> t{};
    for (std::size_t x = 0; x < t.size(); ++x) t[x] = static_cast<float>(std::log1p(static_cast<double>(x)));
    return t;
  }();
  return table;
}

/// The dense transform: 0 for x < 0, `float(log1p(x))` otherwise.
[[nodiscard]] inline float criteo_dense_value(std::int64_t x) {
  if (x <= 0) return 0.0f;
  const auto& table = criteo_log1p_table();
  if (x < static_cast<std::int64_t>(table.size())) return table[static_cast<std::size_t>(x)];
  return static_cast<float>(std::log1p(static_cast<double>(x)));
}

/// Number of TAB-separated fields in `line`.
[[nodiscard]] inline int criteo_count_fields(std::string_view line) noexcept {
  return 1 + static_cast<int>(std::count(line.begin(), line.end(), '\t'));
}

#if defined(__SIZEOF_INT128__)
__extension__ typedef unsigned __int128 criteo_u128;  // __extension__: no -Wpedantic warning
#endif

/// `x % d` for a fixed divisor d ≥ 1 without a division instruction: Lemire, Kaser and Kurz's
/// direct remainder ("Faster Remainder by Direct Computation", 2019) with a 128-bit reciprocal,
/// exact for every 64-bit x and d. Falls back to `%` where the compiler has no 128-bit integers.
class criteo_modulus {
 public:
  criteo_modulus() = default;
  explicit criteo_modulus(std::uint64_t d) noexcept : m_d(d) {
#if defined(__SIZEOF_INT128__)
    m_m = ~static_cast<criteo_u128>(0) / d + 1;  // wraps to 0 for d = 1, which still gives x % 1 = 0
#endif
  }
  [[nodiscard]] std::uint64_t operator()(std::uint64_t x) const noexcept {
#if defined(__SIZEOF_INT128__)
    const criteo_u128 low = m_m * x;  // the fractional part of x / d, 128 bits
    const criteo_u128 bottom = (static_cast<criteo_u128>(static_cast<std::uint64_t>(low)) * m_d) >> 64;
    const criteo_u128 top = static_cast<criteo_u128>(static_cast<std::uint64_t>(low >> 64)) * m_d;
    return static_cast<std::uint64_t>((bottom + top) >> 64);
#else
    return x % m_d;
#endif
  }

 private:
  std::uint64_t m_d = 1;
#if defined(__SIZEOF_INT128__)
  criteo_u128 m_m = 0;
#endif
};

/// What the parser needs to turn a categorical value into an id: the seed and, per field, the
/// modulus `buckets[f] − 1`.
struct criteo_hasher {
  std::uint64_t seed = 0;
  std::array<criteo_modulus, criteo_sparse_features> modulus{};

  /// `buckets` must hold 26 sizes in [2, 2^32] (not checked here).
  criteo_hasher(const index_t* buckets, std::uint64_t seed_) : seed(seed_) {
    for (std::size_t f = 0; f < modulus.size(); ++f)
      modulus[f] = criteo_modulus(static_cast<std::uint64_t>(buckets[f]) - 1);
  }

  /// The id of value `v` in field `f`: `1 + criteo_hash(v, f, seed) % (buckets[f] − 1)`.
  [[nodiscard]] std::uint32_t operator()(std::uint32_t v, int f) const noexcept {
    return static_cast<std::uint32_t>(1 + modulus[static_cast<std::size_t>(f)](criteo_hash(v, f, seed)));
  }
};

/// Parses `line` (no terminator) into `dense13`, `ids26` and `label`. On a fault the outputs are
/// partially written. A wrong field count takes precedence over a bad field; among bad fields the
/// first one is reported.
[[nodiscard]] inline criteo_parse_result parse_criteo_fields(std::string_view line, float* dense13,
                                                             std::uint32_t* ids26, float& label,
                                                             const criteo_hasher& hasher) noexcept {
  const char* p = line.data();
  const char* const end = p + line.size();
  criteo_parse_result bad;  // first bad field seen, reported unless the field count is wrong
  auto fail = [&](criteo_fault fault, int field, bool range = false) {
    if (bad.fault == criteo_fault::none) bad = {fault, field, range};
  };
  // The end of the field that contains q: the next TAB or the end of the line.
  auto field_end = [end](const char* q) {
    while (q != end && *q != '\t') ++q;
    return q;
  };

  // Label.
  const char* e = field_end(p);
  if (e - p == 1 && (*p == '0' || *p == '1'))
    label = static_cast<float>(*p - '0');
  else
    fail(criteo_fault::label, 0);
  int fields = 1;

  // I1…I13. Fast path: an optional '-' and up to 18 digits (which cannot overflow) followed by
  // the field's end; anything else goes through std::from_chars, which also rejects it if need be.
  for (int j = 0; j < criteo_dense_features; ++j) {
    if (e == end) return {criteo_fault::field_count, fields};
    p = e + 1;
    ++fields;
    const char* q = p;
    const bool negative = q != end && *q == '-';
    q += negative;
    std::uint64_t magnitude = 0;
    const char* const digits_end = q + std::min<std::ptrdiff_t>(end - q, 18);
    while (q != digits_end && static_cast<unsigned char>(*q - '0') < 10)
      magnitude = magnitude * 10 + static_cast<unsigned char>(*q++ - '0');
    if (q == p) {  // empty, or not starting like a number
      e = field_end(q);
      dense13[j] = 0.0f;
      if (e != p) fail(criteo_fault::integer, 1 + j);
      continue;
    }
    if ((q == end || *q == '\t') && q != p + negative) {
      e = q;
      dense13[j] = negative ? 0.0f : criteo_dense_value(static_cast<std::int64_t>(magnitude));
      continue;
    }
    e = field_end(q);
    std::int64_t x = 0;
    const auto [r, ec] = std::from_chars(p, e, x);
    if (ec != std::errc{} || r != e) {
      fail(criteo_fault::integer, 1 + j, ec == std::errc::result_out_of_range);
      dense13[j] = 0.0f;
      continue;
    }
    dense13[j] = criteo_dense_value(x);
  }

  // C1…C26: empty, or 8 hex digits then the field's end.
  for (int f = 0; f < criteo_sparse_features; ++f) {
    if (e == end) return {criteo_fault::field_count, fields};
    p = e + 1;
    ++fields;
    if (p == end || *p == '\t') {
      e = p;
      ids26[f] = 0;
      continue;
    }
    if (end - p >= 8) {
      std::uint32_t v = 0;
      int invalid = 0;
      for (int k = 0; k < 8; ++k) {
        const int d = criteo_hex_table[static_cast<unsigned char>(p[k])];
        invalid |= d;  // negative iff some d is -1
        v = (v << 4) | static_cast<std::uint32_t>(d & 0xF);
      }
      if (invalid >= 0 && (p + 8 == end || p[8] == '\t')) {
        e = p + 8;
        ids26[f] = hasher(v, f);
        continue;
      }
    }
    e = field_end(p);
    fail(criteo_fault::categorical, 1 + criteo_dense_features + f);
    ids26[f] = 0;
  }
  if (e != end) return {criteo_fault::field_count, criteo_count_fields(line)};
  return bad;
}

/// `"I3"`, `"C26"`, `"label"`: the name of field `k` (0…39).
[[nodiscard]] inline std::string criteo_field_name(int k) {
  if (k == 0) return "label";
  if (k <= criteo_dense_features) return "I" + std::to_string(k);
  return "C" + std::to_string(k - criteo_dense_features);
}

/// Field `k` of `line`, quoted, non-printable bytes escaped, cut after 40 bytes.
[[nodiscard]] inline std::string criteo_quote_field(std::string_view line, int k) {
  std::size_t start = 0;
  for (int i = 0; i < k && start != std::string_view::npos; ++i) {
    start = line.find('\t', start);
    if (start != std::string_view::npos) ++start;
  }
  if (start == std::string_view::npos) return "''";
  std::string_view field = line.substr(start);
  field = field.substr(0, std::min(field.find('\t'), field.size()));
  std::string out = "'";
  const std::size_t shown = std::min<std::size_t>(field.size(), 40);
  for (std::size_t i = 0; i < shown; ++i) {
    const auto c = static_cast<unsigned char>(field[i]);
    if (c >= 0x20 && c < 0x7F && c != '\'' && c != '\\') {
      out += static_cast<char>(c);
    } else {
      constexpr char hex[] = "0123456789abcdef";
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 0xF];
    }
  }
  out += "'";
  if (shown < field.size()) out += frugal::detail::concat("... (", field.size(), " bytes)");
  return out;
}

/// Human-readable reason for a fault of `line`.
[[nodiscard]] inline std::string criteo_reason(std::string_view line, const criteo_parse_result& r) {
  switch (r.fault) {
    case criteo_fault::none:
      return {};
    case criteo_fault::field_count:
      if (line.empty()) return "wrong field count: empty line";
      return frugal::detail::concat("wrong field count: ", r.field, " TAB-separated fields, expected 40");
    case criteo_fault::label:
      return "bad label " + criteo_quote_field(line, 0) + ": expected 0 or 1";
    case criteo_fault::integer:
      return "bad integer in " + criteo_field_name(r.field) + ": " + criteo_quote_field(line, r.field) +
             (r.out_of_range ? " does not fit a 64-bit integer" : " is not a decimal integer");
    case criteo_fault::categorical:
      return "bad categorical in " + criteo_field_name(r.field) + ": " + criteo_quote_field(line, r.field) +
             " is not 8 hexadecimal digits";
  }
  return {};
}

/// Throws `invalid_argument` unless the options are usable; returns the 26 table sizes.
[[nodiscard]] inline std::vector<index_t> criteo_buckets(const criteo_options& options) {
  constexpr index_t max_buckets = index_t(1) << 32;
  std::vector<index_t> buckets = options.hash_buckets;
  if (buckets.empty()) {
    check(options.default_buckets >= 2 && options.default_buckets <= max_buckets,
          "frugal::io::criteo_options: default_buckets = ", options.default_buckets,
          " must be in [2, 2^32] (id 0 is reserved for a missing value, ids are 32-bit)");
    buckets.assign(static_cast<std::size_t>(criteo_sparse_features), options.default_buckets);
  }
  check(buckets.size() == static_cast<std::size_t>(criteo_sparse_features),
        "frugal::io::criteo_options: hash_buckets has ", buckets.size(), " sizes, expected ", criteo_sparse_features,
        " (or none)");
  for (std::size_t f = 0; f < buckets.size(); ++f)
    check(buckets[f] >= 2 && buckets[f] <= max_buckets, "frugal::io::criteo_options: hash_buckets[", f,
          "] = ", buckets[f], " must be in [2, 2^32] (id 0 is reserved for a missing value, ids are 32-bit)");
  check(options.max_examples >= 0, "frugal::io::criteo_options: max_examples = ", options.max_examples, " is negative");
  check(options.block_bytes >= 1, "frugal::io::criteo_options: block_bytes must be at least 1");
  return buckets;
}

/// Parses one line (without its `\n`; a trailing `\r` is *not* stripped here) into 13 dense
/// values, 26 ids and the label. Returns an empty string for a good line, otherwise the reason
/// (starting with "wrong field count", "bad label", "bad integer" or "bad categorical"), leaving
/// the outputs partially written. Throws `invalid_argument` if `buckets` is not 26 sizes in
/// [2, 2^32]. Exposed for tests and fuzzing; the reader calls the unchecked `parse_criteo_fields`.
[[nodiscard]] inline std::string parse_criteo_line(std::string_view line, float* dense13, std::uint32_t* ids26,
                                                   float& label, const criteo_options& options,
                                                   const std::vector<index_t>& buckets) {
  check(buckets.size() == static_cast<std::size_t>(criteo_sparse_features),
        "frugal::io::detail::parse_criteo_line: ", buckets.size(), " bucket sizes, expected ", criteo_sparse_features);
  for (std::size_t f = 0; f < buckets.size(); ++f)
    check(buckets[f] >= 2 && buckets[f] <= (index_t(1) << 32), "frugal::io::detail::parse_criteo_line: buckets[", f,
          "] = ", buckets[f], " must be in [2, 2^32]");
  const auto r = parse_criteo_fields(line, dense13, ids26, label, criteo_hasher(buckets.data(), options.seed));
  return criteo_reason(line, r);
}

}  // namespace detail

}  // namespace frugal::io
