#pragma once
/// \file
/// Signed fixed-point formats and the integer operations every frugal hardware kernel is built
/// from. The C++ models and the generated Verilog use exactly these operations, so a model's
/// output is the hardware's output bit for bit.
///
/// - A value of format (W, F) is a W-bit two's-complement integer code c standing for c·2^−F.
/// - `shift_round(v, s)` divides by 2^s rounding to nearest, ties toward +∞: (v + 2^(s−1)) >> s
///   with an arithmetic shift (one adder and wiring in hardware).
/// - `saturate(v, W)` clamps to [−2^(W−1), 2^(W−1) − 1]; nothing wraps around.
/// - Converting a real number rounds to nearest (ties away from zero) and saturates.

#include <cmath>
#include <cstdint>
#include <limits>
#include <span>

#include "../core/error.hpp"
#include "../core/execution.hpp"

namespace frugal::fpga {

/// A signed fixed-point format: `total_bits` W (sign included) and `fraction_bits` F; code c
/// stands for c·2^−F, so the range is [−2^(W−1−F), 2^(W−1−F) − 2^−F] in steps of 2^−F.
/// W is limited to [2, 24] so that every product and accumulation of the models fits a 64-bit
/// integer exactly; F to [0, W + 16].
struct fixed_format {
  int total_bits = 16;
  int fraction_bits = 10;

  /// Throws `invalid_argument` naming `who` when the widths are out of range.
  void validate(const char* who) const {
    check(total_bits >= 2 && total_bits <= 24, who, ": total_bits = ", total_bits, " must be in [2, 24]");
    check(fraction_bits >= 0 && fraction_bits <= total_bits + 16, who, ": fraction_bits = ", fraction_bits,
          " must be in [0, total_bits + 16]");
  }
  /// The smallest code, −2^(W−1).
  [[nodiscard]] constexpr std::int64_t min_code() const noexcept { return -(std::int64_t{1} << (total_bits - 1)); }
  /// The largest code, 2^(W−1) − 1.
  [[nodiscard]] constexpr std::int64_t max_code() const noexcept { return (std::int64_t{1} << (total_bits - 1)) - 1; }
  /// One step, 2^−F.
  [[nodiscard]] double step() const noexcept { return std::ldexp(1.0, -fraction_bits); }
  /// The real number a code stands for.
  [[nodiscard]] double to_real(std::int64_t code) const noexcept {
    return std::ldexp(static_cast<double>(code), -fraction_bits);
  }
  /// The nearest code to `x` (ties away from zero), saturated; `*saturated` (when given) is
  /// incremented when x lay outside the range. NaN is an `invalid_argument`.
  [[nodiscard]] std::int64_t to_code(double x, std::int64_t* saturated = nullptr) const {
    check(!std::isnan(x), "frugal::fpga::fixed_format::to_code: x is NaN");
    const double scaled = std::round(std::ldexp(x, fraction_bits));
    const auto lo = static_cast<double>(min_code()), hi = static_cast<double>(max_code());
    if (scaled < lo || scaled > hi) {
      if (saturated) ++*saturated;
      return scaled < lo ? min_code() : max_code();
    }
    return static_cast<std::int64_t>(scaled);
  }
  friend bool operator==(const fixed_format&, const fixed_format&) = default;
};

/// v clamped to the range of a `bits`-bit signed integer.
[[nodiscard]] constexpr std::int64_t saturate(std::int64_t v, int bits) noexcept {
  const std::int64_t hi = (std::int64_t{1} << (bits - 1)) - 1, lo = -hi - 1;
  return v < lo ? lo : (v > hi ? hi : v);
}

/// v / 2^s rounded to nearest, ties toward +∞ (s ≥ 0; s = 0 returns v).
[[nodiscard]] constexpr std::int64_t shift_round(std::int64_t v, int s) noexcept {
  return s == 0 ? v : (v + (std::int64_t{1} << (s - 1))) >> s;
}

/// −v saturated to `bits` bits (only −2^(bits−1) saturates, to 2^(bits−1) − 1).
[[nodiscard]] constexpr std::int64_t negate_saturate(std::int64_t v, int bits) noexcept { return saturate(-v, bits); }

/// ⌈log2 n⌉ for n ≥ 1, at least 1: the width of a counter over [0, n) (a one-value counter still
/// takes a bit in Verilog).
[[nodiscard]] constexpr int counter_bits(std::int64_t n) noexcept {
  int b = 1;
  while ((std::int64_t{1} << b) < n) ++b;
  return b;
}

namespace detail {

/// The checks every model's `forward` makes: x holds `cols` codes of `format`, y room for `rows`.
inline void check_forward(const char* who, std::span<const std::int64_t> x, index_t cols,
                          std::span<const std::int64_t> y, index_t rows, const fixed_format& format) {
  check_extent(who, "x", static_cast<index_t>(x.size()), cols);
  check_extent(who, "y", static_cast<index_t>(y.size()), rows);
  for (const auto c : x)
    check(c >= format.min_code() && c <= format.max_code(), who, ": input code ", c, " outside ", format.total_bits,
          " bits");
}

}  // namespace detail

}  // namespace frugal::fpga
