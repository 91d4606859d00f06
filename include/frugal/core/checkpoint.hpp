#pragma once
/// \file
/// Checkpoint files: named, typed records behind a versioned header and a CRC-32 of the payload,
/// written to a temporary file and renamed into place so a crash never leaves a half-written
/// checkpoint under the real name.
///
/// Layout (little-endian):
/// | offset | size | field                                   |
/// |--------|------|-----------------------------------------|
/// | 0      | 8    | magic `FRUGALCK`                        |
/// | 8      | 4    | format version (`checkpoint_format_version`) |
/// | 12     | 4    | record count                            |
/// | 16     | 8    | payload size in bytes                   |
/// | 24     | 4    | CRC-32 of the payload                   |
/// | 28     | 4    | CRC-32 of bytes 0..27                   |
/// | 32     | ...  | records: u32 name length, name, u32 type tag, u64 element count, elements |

#include <algorithm>
#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#if __has_include(<unistd.h>)
#include <unistd.h>
#define FRUGAL_HAS_POSIX_FSYNC 1
#endif

#include "checksum.hpp"
#include "error.hpp"

namespace frugal {

static_assert(std::endian::native == std::endian::little,
              "frugal::checkpoint: big-endian hosts are not supported yet (the format is little-endian)");

/// Version written into new checkpoints; readers refuse any other.
inline constexpr std::uint32_t checkpoint_format_version = 1;

/// Element types a checkpoint record may hold.
enum class checkpoint_type : std::uint32_t { bytes = 0, u8 = 1, i32 = 2, i64 = 3, u64 = 4, f32 = 5, f64 = 6, u32 = 7 };

namespace detail {
inline constexpr char checkpoint_magic[8] = {'F', 'R', 'U', 'G', 'A', 'L', 'C', 'K'};
inline constexpr std::size_t checkpoint_header_size = 32;

template <class T>
constexpr checkpoint_type checkpoint_type_of() {
  if constexpr (std::is_same_v<T, std::uint8_t>)
    return checkpoint_type::u8;
  else if constexpr (std::is_same_v<T, std::int32_t>)
    return checkpoint_type::i32;
  else if constexpr (std::is_same_v<T, std::int64_t>)
    return checkpoint_type::i64;
  else if constexpr (std::is_same_v<T, std::uint64_t>)
    return checkpoint_type::u64;
  else if constexpr (std::is_same_v<T, std::uint32_t>)
    return checkpoint_type::u32;
  else if constexpr (std::is_same_v<T, float>)
    return checkpoint_type::f32;
  else if constexpr (std::is_same_v<T, double>)
    return checkpoint_type::f64;
  else if constexpr (std::is_same_v<T, std::byte> || std::is_same_v<T, char>)
    return checkpoint_type::bytes;
  else
    static_assert(sizeof(T) == 0, "frugal::checkpoint: unsupported element type");
}

inline const char* checkpoint_type_name(checkpoint_type t) {
  switch (t) {
    case checkpoint_type::bytes:
      return "bytes";
    case checkpoint_type::u8:
      return "u8";
    case checkpoint_type::i32:
      return "i32";
    case checkpoint_type::i64:
      return "i64";
    case checkpoint_type::u64:
      return "u64";
    case checkpoint_type::u32:
      return "u32";
    case checkpoint_type::f32:
      return "f32";
    case checkpoint_type::f64:
      return "f64";
  }
  return "unknown";
}

template <class T>
void append_pod(std::vector<std::byte>& out, const T& value) {
  const auto* p = reinterpret_cast<const std::byte*>(&value);
  out.insert(out.end(), p, p + sizeof(T));
}

template <class T>
T read_pod(const std::byte* p) {
  T value;
  std::memcpy(&value, p, sizeof(T));
  return value;
}
}  // namespace detail

/// Collects named records in memory, then writes them atomically with `write(path)`.
///
/// \code
/// frugal::checkpoint_writer ck;
/// ck.put<float>("layer0/weight", weights);
/// ck.put_string("meta/model", "lenet5");
/// ck.write("model.ck");
/// \endcode
class checkpoint_writer {
 public:
  /// Adds a record of `values` under `name`. Names are unique; a repeated name throws.
  template <class T>
  void put(std::string_view name, std::span<const T> values) {
    check(!name.empty(), "frugal::checkpoint_writer::put: record name is empty");
    check(m_names.emplace(name).second, "frugal::checkpoint_writer::put: duplicate record name '", name, "'");
    detail::append_pod(m_payload, static_cast<std::uint32_t>(name.size()));
    const auto* np = reinterpret_cast<const std::byte*>(name.data());
    m_payload.insert(m_payload.end(), np, np + name.size());
    detail::append_pod(m_payload, static_cast<std::uint32_t>(detail::checkpoint_type_of<T>()));
    detail::append_pod(m_payload, static_cast<std::uint64_t>(values.size()));
    const auto* vp = reinterpret_cast<const std::byte*>(values.data());
    m_payload.insert(m_payload.end(), vp, vp + values.size_bytes());
    ++m_count;
  }

  /// Adds one scalar value.
  template <class T>
  requires std::is_arithmetic_v<T>
  void put_value(std::string_view name, T value) { put<T>(name, std::span<const T>(&value, 1)); }

  /// Adds a text record.
  void put_string(std::string_view name, std::string_view text) {
    put<char>(name, std::span<const char>(text.data(), text.size()));
  }

  /// Number of records added so far.
  [[nodiscard]] std::size_t size() const noexcept { return m_count; }

  /// The complete file image (header and payload) as `write` would store it.
  [[nodiscard]] std::vector<std::byte> serialize() const {
    std::vector<std::byte> out;
    out.reserve(detail::checkpoint_header_size + m_payload.size());
    const auto* magic = reinterpret_cast<const std::byte*>(detail::checkpoint_magic);
    out.insert(out.end(), magic, magic + 8);
    detail::append_pod(out, checkpoint_format_version);
    detail::append_pod(out, static_cast<std::uint32_t>(m_count));
    detail::append_pod(out, static_cast<std::uint64_t>(m_payload.size()));
    detail::append_pod(out, crc32(0, m_payload));
    detail::append_pod(out, crc32(0, std::span<const std::byte>(out.data(), 28)));
    out.insert(out.end(), m_payload.begin(), m_payload.end());
    return out;
  }

  /// Writes the checkpoint to `path` atomically: a temporary file in the same directory is
  /// written, flushed to disk and renamed over `path`. On failure `path` is untouched and the
  /// temporary file removed. Throws `frugal::io_error`.
  void write(const std::filesystem::path& path) const {
    const std::vector<std::byte> image = serialize();
    static std::atomic<unsigned> counter{0};
    std::filesystem::path tmp = path;
    tmp += ".tmp." + std::to_string(process_id()) + "." + std::to_string(counter.fetch_add(1));
    std::FILE* f = std::fopen(tmp.c_str(), "wb");
    if (!f) throw io_error(detail::concat("frugal::checkpoint_writer::write: cannot create '", tmp.string(), "'"));
    bool ok = std::fwrite(image.data(), 1, image.size(), f) == image.size();
    ok = (std::fflush(f) == 0) && ok;
#ifdef FRUGAL_HAS_POSIX_FSYNC
    ok = (::fsync(::fileno(f)) == 0) && ok;
#endif
    ok = (std::fclose(f) == 0) && ok;
    std::error_code ec;
    if (ok) std::filesystem::rename(tmp, path, ec);
    if (!ok || ec) {
      std::filesystem::remove(tmp, ec);
      throw io_error(detail::concat("frugal::checkpoint_writer::write: writing '", path.string(), "' failed"));
    }
  }

 private:
  static long process_id() {
#ifdef FRUGAL_HAS_POSIX_FSYNC
    return static_cast<long>(::getpid());
#else
    return 0;
#endif
  }

  std::vector<std::byte> m_payload;
  std::size_t m_count = 0;
  std::set<std::string, std::less<>> m_names;
};

/// Reads and validates a checkpoint file completely at construction: magic, version, header
/// checksum, payload size and payload checksum, and the framing of every record. Any problem
/// throws `frugal::format_error` naming the file and the byte offset.
class checkpoint_reader {
 public:
  /// Reads `path`. Throws `io_error` if it cannot be opened, `format_error` if it is not a valid
  /// checkpoint of this version.
  explicit checkpoint_reader(const std::filesystem::path& path) : m_file(path.string()) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw io_error(detail::concat("frugal::checkpoint_reader: cannot open '", m_file, "'"));
    in.seekg(0, std::ios::end);
    const auto size = static_cast<std::size_t>(in.tellg());
    in.seekg(0);
    m_image.resize(size);
    in.read(reinterpret_cast<char*>(m_image.data()), static_cast<std::streamsize>(size));
    if (!in) throw io_error(detail::concat("frugal::checkpoint_reader: reading '", m_file, "' failed"));
    parse();
  }

  /// Parses an in-memory image (as from `checkpoint_writer::serialize`); `name` is used in errors.
  checkpoint_reader(std::vector<std::byte> image, std::string name)
      : m_file(std::move(name)), m_image(std::move(image)) {
    parse();
  }

  /// Format version of the file (always `checkpoint_format_version` once constructed).
  [[nodiscard]] std::uint32_t version() const noexcept { return checkpoint_format_version; }

  /// Whether a record called `name` exists.
  [[nodiscard]] bool contains(std::string_view name) const { return find(name) != nullptr; }

  /// Names of all records, in file order.
  [[nodiscard]] std::vector<std::string> names() const {
    std::vector<std::string> out;
    for (const auto& r : m_records) out.push_back(r.name);
    return out;
  }

  /// Copies the record `name` out as `T`s. Throws `format_error` if it is missing or holds
  /// another element type.
  template <class T>
  [[nodiscard]] std::vector<T> get(std::string_view name) const {
    const record& r = require(name);
    check_type<T>(r);
    std::vector<T> out(r.count);
    if (r.count) std::memcpy(out.data(), m_image.data() + r.data_offset, r.count * sizeof(T));
    return out;
  }

  /// Copies record `name` into `out`, whose size must equal the record's element count.
  template <class T>
  void get_into(std::string_view name, std::span<T> out) const {
    const record& r = require(name);
    check_type<T>(r);
    if (r.count != out.size())
      throw format_error(detail::concat("frugal::checkpoint_reader: record '", name, "' in '", m_file, "' holds ",
                                        r.count, " elements, expected ", out.size()),
                         m_file, r.data_offset);
    if (r.count) std::memcpy(out.data(), m_image.data() + r.data_offset, r.count * sizeof(T));
  }

  /// One scalar value.
  template <class T>
  [[nodiscard]] T get_value(std::string_view name) const {
    T v{};
    get_into<T>(name, std::span<T>(&v, 1));
    return v;
  }

  /// A text record.
  [[nodiscard]] std::string get_string(std::string_view name) const {
    auto chars = get<char>(name);
    return std::string(chars.begin(), chars.end());
  }

  /// The file this reader was built from.
  [[nodiscard]] const std::string& file() const noexcept { return m_file; }

 private:
  struct record {
    std::string name;
    checkpoint_type type;
    std::uint64_t count;
    std::uint64_t data_offset;
  };

  [[noreturn]] void fail(std::uint64_t offset, const std::string& what) const {
    throw format_error(detail::concat("frugal::checkpoint_reader: '", m_file, "' at byte ", offset, ": ", what), m_file,
                       offset);
  }

  void parse() {
    const std::uint64_t size = m_image.size();
    if (size < detail::checkpoint_header_size)
      fail(size, detail::concat("truncated: ", size, " bytes, shorter than the ", detail::checkpoint_header_size,
                                "-byte header"));
    if (std::memcmp(m_image.data(), detail::checkpoint_magic, 8) != 0) fail(0, "bad magic, not a frugal checkpoint");
    const auto version = detail::read_pod<std::uint32_t>(m_image.data() + 8);
    const auto header_crc = detail::read_pod<std::uint32_t>(m_image.data() + 28);
    if (crc32(0, std::span<const std::byte>(m_image.data(), 28)) != header_crc)
      fail(28, "header checksum mismatch (corrupted header)");
    if (version != checkpoint_format_version)
      fail(8, detail::concat("format version ", version, " is not supported (this build reads version ",
                             checkpoint_format_version, ")"));
    const auto count = detail::read_pod<std::uint32_t>(m_image.data() + 12);
    const auto payload_size = detail::read_pod<std::uint64_t>(m_image.data() + 16);
    const auto payload_crc = detail::read_pod<std::uint32_t>(m_image.data() + 24);
    const std::uint64_t have = size - detail::checkpoint_header_size;
    if (have < payload_size)
      fail(size, detail::concat("truncated: header declares ", payload_size, " payload bytes, file holds ", have));
    if (have > payload_size)
      fail(detail::checkpoint_header_size + payload_size,
           detail::concat(have - payload_size, " unexpected bytes after the payload"));
    const std::span<const std::byte> payload(m_image.data() + detail::checkpoint_header_size, payload_size);
    if (crc32(0, payload) != payload_crc) fail(detail::checkpoint_header_size, "payload checksum mismatch (corrupted)");

    std::uint64_t pos = detail::checkpoint_header_size;
    auto need = [&](std::uint64_t n, const char* what) {
      if (size - pos < n) fail(pos, detail::concat("record framing overruns the payload while reading ", what));
    };
    for (std::uint32_t i = 0; i < count; ++i) {
      need(4, "a name length");
      const auto name_len = detail::read_pod<std::uint32_t>(m_image.data() + pos);
      pos += 4;
      need(name_len, "a name");
      std::string name(reinterpret_cast<const char*>(m_image.data() + pos), name_len);
      pos += name_len;
      need(12, "a record header");
      const auto tag = detail::read_pod<std::uint32_t>(m_image.data() + pos);
      const auto n = detail::read_pod<std::uint64_t>(m_image.data() + pos + 4);
      pos += 12;
      if (tag > static_cast<std::uint32_t>(checkpoint_type::u32))
        fail(pos - 12, detail::concat("unknown type tag ", tag));
      const auto type = static_cast<checkpoint_type>(tag);
      const std::uint64_t width = element_size(type);
      if (n > (size - pos) / width) fail(pos, detail::concat("record '", name, "' overruns the payload"));
      m_records.push_back(record{std::move(name), type, n, pos});
      pos += n * width;
    }
    if (pos != size) fail(pos, detail::concat(size - pos, " bytes after the last of ", count, " records"));
  }

  static std::uint64_t element_size(checkpoint_type t) {
    switch (t) {
      case checkpoint_type::bytes:
      case checkpoint_type::u8:
        return 1;
      case checkpoint_type::i32:
      case checkpoint_type::u32:
      case checkpoint_type::f32:
        return 4;
      default:
        return 8;
    }
  }

  const record* find(std::string_view name) const {
    for (const auto& r : m_records)
      if (r.name == name) return &r;
    return nullptr;
  }

  const record& require(std::string_view name) const {
    const record* r = find(name);
    if (!r)
      throw format_error(detail::concat("frugal::checkpoint_reader: '", m_file, "' has no record '", name, "'"), m_file,
                         0);
    return *r;
  }

  template <class T>
  void check_type(const record& r) const {
    constexpr auto want = detail::checkpoint_type_of<T>();
    if (r.type != want)
      throw format_error(
          detail::concat("frugal::checkpoint_reader: record '", r.name, "' in '", m_file, "' holds ",
                         detail::checkpoint_type_name(r.type), ", requested ", detail::checkpoint_type_name(want)),
          m_file, r.data_offset);
  }

  std::string m_file;
  std::vector<std::byte> m_image;
  std::vector<record> m_records;
};

}  // namespace frugal
