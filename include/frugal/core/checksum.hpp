#pragma once
/// \file
/// CRC-32 (IEEE 802.3, the polynomial zlib and PNG use) for checkpoint integrity.

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

namespace frugal {

namespace detail {
inline constexpr std::array<std::uint32_t, 256> crc32_table = [] {
  std::array<std::uint32_t, 256> table{};
  for (std::uint32_t i = 0; i < 256; ++i) {
    std::uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1U) ? (0xEDB88320U ^ (c >> 1)) : (c >> 1);
    table[i] = c;
  }
  return table;
}();
}  // namespace detail

/// Continues a CRC-32 over `bytes`; start with `crc = 0`. Detects every burst error up to 32 bits
/// and every odd number of flipped bits. `crc32(0, "123456789")` is `0xCBF43926`.
[[nodiscard]] constexpr std::uint32_t crc32(std::uint32_t crc, std::span<const std::byte> bytes) noexcept {
  crc = ~crc;
  for (std::byte b : bytes) crc = detail::crc32_table[(crc ^ static_cast<std::uint32_t>(b)) & 0xFFU] ^ (crc >> 8);
  return ~crc;
}

}  // namespace frugal
