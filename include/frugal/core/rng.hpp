#pragma once
/// \file
/// A seeded, reproducible random number generator. Unlike `std::normal_distribution`, whose
/// output differs between standard libraries, every draw here is specified bit for bit, so a seed
/// gives the same run on every platform and on device.

#include <cmath>
#include <cstdint>

#include "config.hpp"

namespace frugal {

/// xoshiro256** (Blackman and Vigna) seeded through splitmix64. Period 2^256 - 1; 32 bytes of
/// state, trivially copyable, device-callable. Independent streams come from `split(k)`.
///
/// Thread-safety: an instance is not shared between threads; give each its own `split()`.
class rng {
 public:
  /// Seeds the generator; equal seeds give equal sequences everywhere.
  FRUGAL_FUNCTION explicit rng(std::uint64_t seed = 0x5eedULL) noexcept {
    std::uint64_t s = seed;
    for (auto& word : m_state) word = splitmix64(s);
  }

  /// Next 64 uniformly distributed bits.
  FRUGAL_FUNCTION std::uint64_t next() noexcept {
    const std::uint64_t result = rotl(m_state[1] * 5, 7) * 9;
    const std::uint64_t t = m_state[1] << 17;
    m_state[2] ^= m_state[0];
    m_state[3] ^= m_state[1];
    m_state[1] ^= m_state[2];
    m_state[0] ^= m_state[3];
    m_state[2] ^= t;
    m_state[3] = rotl(m_state[3], 45);
    return result;
  }

  /// Uniform double in [0, 1), 53 random bits.
  FRUGAL_FUNCTION double uniform() noexcept { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

  /// Uniform double in [lo, hi).
  FRUGAL_FUNCTION double uniform(double lo, double hi) noexcept { return lo + (hi - lo) * uniform(); }

  /// Uniform integer in [0, n), unbiased (Lemire's multiply-and-reject). `n` must be positive.
  FRUGAL_FUNCTION std::uint64_t uniform_int(std::uint64_t n) noexcept {
    // 128-bit multiply via two 64-bit halves keeps this portable to device compilers.
    std::uint64_t x = next();
    std::uint64_t hi = 0, lo = 0;
    mul128(x, n, hi, lo);
    if (lo < n) {
      const std::uint64_t threshold = (0 - n) % n;
      while (lo < threshold) {
        x = next();
        mul128(x, n, hi, lo);
      }
    }
    return hi;
  }

  /// Standard normal draw (Box-Muller, no cached second value so the state stays 32 bytes).
  FRUGAL_FUNCTION double normal() noexcept {
    double u1 = uniform();
    while (u1 <= 0.0) u1 = uniform();
    const double u2 = uniform();
    constexpr double two_pi = 6.283185307179586476925286766559;
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(two_pi * u2);
  }

  /// Normal draw with the given mean and standard deviation.
  FRUGAL_FUNCTION double normal(double mean, double stddev) noexcept { return mean + stddev * normal(); }

  /// A generator for stream `k`, statistically independent of this one and of other streams.
  /// Does not advance this generator.
  [[nodiscard]] FRUGAL_FUNCTION rng split(std::uint64_t k) const noexcept {
    std::uint64_t s = m_state[0] ^ (m_state[3] + 0x9E3779B97F4A7C15ULL * (k + 1));
    return rng(splitmix64(s));
  }

  /// The full state, for checkpoints.
  [[nodiscard]] FRUGAL_FUNCTION const std::uint64_t* state() const noexcept { return m_state; }
  /// Restores a state taken with `state()`.
  FRUGAL_FUNCTION void set_state(const std::uint64_t* words) noexcept {
    for (int i = 0; i < 4; ++i) m_state[i] = words[i];
  }

  /// Lets an rng drive `std::shuffle` and other standard algorithms.
  using result_type = std::uint64_t;
  FRUGAL_FUNCTION static constexpr result_type min() noexcept { return 0; }
  FRUGAL_FUNCTION static constexpr result_type max() noexcept { return ~result_type{0}; }
  FRUGAL_FUNCTION result_type operator()() noexcept { return next(); }

 private:
  FRUGAL_FUNCTION static std::uint64_t rotl(std::uint64_t x, int k) noexcept { return (x << k) | (x >> (64 - k)); }

  FRUGAL_FUNCTION static std::uint64_t splitmix64(std::uint64_t& s) noexcept {
    std::uint64_t z = (s += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }

  FRUGAL_FUNCTION static void mul128(std::uint64_t a, std::uint64_t b, std::uint64_t& hi, std::uint64_t& lo) noexcept {
    const std::uint64_t a_lo = a & 0xFFFFFFFFULL, a_hi = a >> 32;
    const std::uint64_t b_lo = b & 0xFFFFFFFFULL, b_hi = b >> 32;
    const std::uint64_t p0 = a_lo * b_lo, p1 = a_lo * b_hi, p2 = a_hi * b_lo, p3 = a_hi * b_hi;
    const std::uint64_t mid = (p0 >> 32) + (p1 & 0xFFFFFFFFULL) + (p2 & 0xFFFFFFFFULL);
    lo = (mid << 32) | (p0 & 0xFFFFFFFFULL);
    hi = p3 + (p1 >> 32) + (p2 >> 32) + (mid >> 32);
  }

  std::uint64_t m_state[4];
};

}  // namespace frugal
