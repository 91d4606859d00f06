#pragma once
/// \file
/// Reader for the IDX format of MNIST and Fashion-MNIST, gzip-compressed or plain.
///
/// An IDX file is: two zero bytes, a type code (0x08 u8, 0x09 i8, 0x0B i16, 0x0C i32, 0x0D f32,
/// 0x0E f64), the number of dimensions, each dimension as a big-endian u32, then the elements in
/// row-major order, big-endian. Errors name the file and the byte offset in the decompressed
/// stream.

#include <zlib.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <limits>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include "../core/error.hpp"
#include "../core/execution.hpp"

namespace frugal::io {

/// Element type codes of the IDX format.
enum class idx_type : std::uint8_t { u8 = 0x08, i8 = 0x09, i16 = 0x0B, i32 = 0x0C, f32 = 0x0D, f64 = 0x0E };

/// A decoded IDX array: its extents and its elements converted to `T`, row-major.
template <class T>
struct idx_array {
  idx_type stored_type = idx_type::u8;  ///< element type in the file
  std::vector<index_t> dims;            ///< extents, outermost first
  std::vector<T> values;                ///< product(dims) elements
};

namespace detail {

inline std::size_t idx_element_size(idx_type t) {
  switch (t) {
    case idx_type::u8:
    case idx_type::i8:
      return 1;
    case idx_type::i16:
      return 2;
    case idx_type::i32:
    case idx_type::f32:
      return 4;
    case idx_type::f64:
      return 8;
  }
  return 0;
}

template <class U>
U load_big_endian(const std::byte* p) {
  std::array<std::byte, sizeof(U)> raw;
  std::memcpy(raw.data(), p, sizeof(U));
  if constexpr (std::endian::native == std::endian::little) std::reverse(raw.begin(), raw.end());
  U value;
  std::memcpy(&value, raw.data(), sizeof(U));
  return value;
}

template <class T, class U>
void convert_idx(const std::byte* p, std::size_t n, std::vector<T>& out) {
  out.resize(n);
  if constexpr (sizeof(U) == 1) {
    for (std::size_t i = 0; i < n; ++i) {
      U v;
      std::memcpy(&v, p + i, 1);
      out[i] = static_cast<T>(v);
    }
  } else {
    for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<T>(load_big_endian<U>(p + i * sizeof(U)));
  }
}

}  // namespace detail

/// Decodes an IDX image held in memory. `name` is used in error messages.
/// Throws `frugal::format_error` on bad magic, an unknown type code, zero dimensions, truncated
/// data or trailing bytes, with the byte offset where the problem lies.
template <class T>
[[nodiscard]] idx_array<T> parse_idx(std::span<const std::byte> bytes, const std::string& name) {
  static_assert(std::is_arithmetic_v<T>, "frugal::io::parse_idx: T must be an arithmetic type");
  auto fail = [&](std::uint64_t offset, const std::string& what) -> void {
    throw format_error(frugal::detail::concat("frugal::io::read_idx: '", name, "' at byte ", offset, ": ", what), name,
                       offset);
  };
  if (bytes.size() < 4)
    fail(bytes.size(), frugal::detail::concat("truncated: ", bytes.size(), " bytes, the header needs 4"));
  if (bytes[0] != std::byte{0} || bytes[1] != std::byte{0})
    fail(0, frugal::detail::concat("bad magic: expected two zero bytes, found 0x", std::hex,
                                   static_cast<unsigned>(bytes[0]), " 0x", static_cast<unsigned>(bytes[1])));
  const auto code = static_cast<std::uint8_t>(bytes[2]);
  const auto type = static_cast<idx_type>(code);
  const std::size_t width = detail::idx_element_size(type);
  if (width == 0) fail(2, frugal::detail::concat("unknown element type code 0x", std::hex, unsigned{code}));
  const auto rank = static_cast<std::size_t>(bytes[3]);
  if (rank == 0) fail(3, "zero dimensions");
  const std::size_t header = 4 + 4 * rank;
  if (bytes.size() < header)
    fail(bytes.size(), frugal::detail::concat("truncated header: ", rank, " dimensions need ", header,
                                              " bytes, file has ", bytes.size()));
  idx_array<T> out;
  out.stored_type = type;
  std::uint64_t count = 1;
  for (std::size_t d = 0; d < rank; ++d) {
    const auto extent = detail::load_big_endian<std::uint32_t>(bytes.data() + 4 + 4 * d);
    if (extent != 0 && count > std::numeric_limits<std::uint64_t>::max() / width / extent)
      fail(4 + 4 * d, "dimensions overflow a 64-bit size");
    count *= extent;
    out.dims.push_back(static_cast<index_t>(extent));
  }
  const std::uint64_t need = count * width;
  const std::uint64_t have = bytes.size() - header;
  if (have < need)
    fail(bytes.size(), frugal::detail::concat("truncated data: dimensions need ", need, " bytes after the ", header,
                                              "-byte header, file has ", have));
  if (have > need) fail(header + need, frugal::detail::concat(have - need, " unexpected bytes after the data"));
  const std::byte* p = bytes.data() + header;
  switch (type) {
    case idx_type::u8:
      detail::convert_idx<T, std::uint8_t>(p, count, out.values);
      break;
    case idx_type::i8:
      detail::convert_idx<T, std::int8_t>(p, count, out.values);
      break;
    case idx_type::i16:
      detail::convert_idx<T, std::int16_t>(p, count, out.values);
      break;
    case idx_type::i32:
      detail::convert_idx<T, std::int32_t>(p, count, out.values);
      break;
    case idx_type::f32:
      detail::convert_idx<T, float>(p, count, out.values);
      break;
    case idx_type::f64:
      detail::convert_idx<T, double>(p, count, out.values);
      break;
  }
  return out;
}

/// Reads a whole file, decompressing it if it is gzip (zlib reads plain files unchanged).
/// Throws `io_error` if it cannot be opened, `format_error` if the gzip stream is corrupt.
[[nodiscard]] inline std::vector<std::byte> read_maybe_gzip(const std::filesystem::path& path) {
  const std::string name = path.string();
  if (!std::filesystem::is_regular_file(path))
    throw io_error(frugal::detail::concat("frugal::io::read_idx: cannot open '", name, "': no such file"));
  gzFile f = gzopen(name.c_str(), "rb");
  if (!f) throw io_error(frugal::detail::concat("frugal::io::read_idx: cannot open '", name, "'"));
  std::vector<std::byte> out;
  std::array<std::byte, 1 << 16> chunk;
  for (;;) {
    const int n = gzread(f, chunk.data(), static_cast<unsigned>(chunk.size()));
    if (n < 0) {
      int code = 0;
      const std::string message = gzerror(f, &code);
      gzclose(f);
      throw format_error(frugal::detail::concat("frugal::io::read_idx: '", name, "' at byte ", out.size(),
                                                " of the decompressed stream: ", message),
                         name, out.size());
    }
    if (n == 0) break;
    out.insert(out.end(), chunk.begin(), chunk.begin() + n);
  }
  // gzread returns 0 both at a clean end and when a gzip member is cut short; gzerror tells.
  int code = 0;
  const std::string message = gzerror(f, &code);
  gzclose(f);
  if (code != Z_OK && code != Z_STREAM_END)
    throw format_error(frugal::detail::concat("frugal::io::read_idx: '", name, "' at byte ", out.size(),
                                              " of the decompressed stream: ", message),
                       name, out.size());
  return out;
}

/// Reads an IDX file, gzip-compressed or plain, converting elements to `T`.
template <class T>
[[nodiscard]] idx_array<T> read_idx(const std::filesystem::path& path) {
  const auto bytes = read_maybe_gzip(path);
  return parse_idx<T>(bytes, path.string());
}

}  // namespace frugal::io
