#pragma once
/// \file
/// The text machinery of the graph file readers: reading a file whole, walking its lines,
/// splitting fields, parsing numbers, numbering node ids and wording errors. Private to
/// `frugal/io/graph_files.hpp`.

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "../../core/error.hpp"
#include "../../core/execution.hpp"

namespace frugal::io::detail {

/// Largest integer label a labels file may hold: label k makes k + 1 classes, so a stray large
/// number would otherwise allocate millions of class names. Public benchmarks stay far below it.
inline constexpr std::int64_t graph_max_integer_label = (std::int64_t{1} << 20) - 1;

/// A whole file in memory and the name errors call it by. Parsers keep `std::string_view`s into
/// `bytes`, so a `graph_text` outlives every structure built from it.
struct graph_text {
  std::string name;
  std::string bytes;
};

/// Reads `path` whole; one read and no per-token stream keeps million-line edge lists fast.
/// Throws `io_error` naming `function` and the path when it cannot be opened or read.
[[nodiscard]] inline graph_text graph_read_file(const std::filesystem::path& path, std::string_view function) {
  graph_text text{path.string(), {}};
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    throw io_error(
        frugal::detail::concat("frugal::io::", function, ": cannot open '", text.name, "': it is a directory"));
  errno = 0;
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(text.name.c_str(), "rb"), &std::fclose);
  if (!file)
    throw io_error(frugal::detail::concat("frugal::io::", function, ": cannot open '", text.name,
                                          "': ", errno ? std::generic_category().message(errno) : "fopen failed"));
  const auto size_hint = std::filesystem::file_size(path, ec);
  if (!ec) text.bytes.reserve(static_cast<std::size_t>(size_hint));
  char chunk[1 << 16];
  for (;;) {
    const std::size_t n = std::fread(chunk, 1, sizeof chunk, file.get());
    text.bytes.append(chunk, n);
    if (n < sizeof chunk) break;
  }
  if (std::ferror(file.get()))
    throw io_error(frugal::detail::concat("frugal::io::", function, ": reading '", text.name, "' failed after ",
                                          text.bytes.size(), " bytes"));
  return text;
}

/// One line of a file: its text without the `\n` and a `\r` before it, its 1-based number and
/// the byte offset of its first character.
struct graph_line {
  std::string_view text;
  std::int64_t number = 0;
  std::uint64_t offset = 0;
};

/// Walks the lines of a file held in memory. The end of the file after a final `\n` is not a line.
class graph_lines {
 public:
  explicit graph_lines(std::string_view bytes) noexcept : m_bytes(bytes) {}

  /// The next line, or false at the end of the file.
  bool next(graph_line& line) noexcept {
    if (m_pos >= m_bytes.size()) return false;
    const std::size_t start = m_pos;
    const void* newline = std::memchr(m_bytes.data() + start, '\n', m_bytes.size() - start);
    const std::size_t end =
        newline ? static_cast<std::size_t>(static_cast<const char*>(newline) - m_bytes.data()) : m_bytes.size();
    m_pos = newline ? end + 1 : end;
    std::string_view text = m_bytes.substr(start, end - start);
    if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
    line = {text, ++m_number, start};
    return true;
  }

  /// Where an error about the end of the file points: the line after the last one.
  [[nodiscard]] graph_line end_of_file() const noexcept {
    const bool open_line = !m_bytes.empty() && m_bytes.back() != '\n';
    return {{}, m_number + (open_line ? 0 : 1), m_bytes.size()};
  }

 private:
  std::string_view m_bytes;
  std::size_t m_pos = 0;
  std::int64_t m_number = 0;
};

/// Number of lines in `bytes`, an upper bound on the records it holds, for reserving.
[[nodiscard]] inline std::size_t graph_count_lines(std::string_view bytes) noexcept {
  return static_cast<std::size_t>(std::count(bytes.begin(), bytes.end(), '\n')) + 1;
}

/// Splits `text` at runs of spaces and tabs into `fields` (cleared first). With `comments`, a field
/// that starts with `#` ends the line, so both whole-line and trailing comments are skipped.
inline void graph_split(std::string_view text, bool comments, std::vector<std::string_view>& fields) {
  fields.clear();
  const auto blank = [](char c) { return c == ' ' || c == '\t'; };
  std::size_t i = 0;
  const std::size_t n = text.size();
  for (;;) {
    while (i < n && blank(text[i])) ++i;
    if (i == n || (comments && text[i] == '#')) return;
    std::size_t j = i;
    while (j < n && !blank(text[j])) ++j;
    fields.push_back(text.substr(i, j - i));
    i = j;
  }
}

/// Parses a whole field as a finite float ("1", "0.25", "-3e-2", "+1"); false for anything else,
/// including values outside float's range, `nan` and `inf`.
[[nodiscard]] inline bool graph_parse_float(std::string_view field, float& value) noexcept {
  const char* first = field.data();
  const char* last = first + field.size();
  if (first != last && *first == '+') {  // from_chars takes no '+'; a writer with "%+f" gives one
    ++first;
    if (first != last && *first == '-') return false;
  }
  if (first == last) return false;
  const auto [end, ec] = std::from_chars(first, last, value);
  return ec == std::errc{} && end == last && std::isfinite(value);
}

/// True when `field` is an optional '-' followed by one or more decimal digits.
[[nodiscard]] inline bool graph_is_integer(std::string_view field) noexcept {
  if (!field.empty() && field.front() == '-') field.remove_prefix(1);
  return !field.empty() && std::all_of(field.begin(), field.end(), [](char c) { return c >= '0' && c <= '9'; });
}

/// `field` in single quotes for a message: at most 40 bytes of it, control bytes as `\xNN`, so a
/// corrupt file cannot flood or garble the message.
[[nodiscard]] inline std::string graph_quote(std::string_view field) {
  constexpr std::size_t shown = 40;
  constexpr char hex[] = "0123456789abcdef";
  std::string out = "'";
  for (const char c : field.substr(0, shown)) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7F) {
      out += "\\x";
      out += hex[u >> 4];
      out += hex[u & 0xF];
    } else {
      out += c;
    }
  }
  out += field.size() > shown ? "'..." : "'";
  return out;
}

/// Throws the `format_error` of a bad line: "frugal::io::<function>: '<file>' line N (byte B): <what>".
[[noreturn]] inline void graph_fail(std::string_view function, const std::string& file, const graph_line& line,
                                    const std::string& what) {
  throw format_error(frugal::detail::concat("frugal::io::", function, ": '", file, "' line ", line.number, " (byte ",
                                            line.offset, "): ", what),
                     file, line.offset);
}

/// Numbers node ids in order of first appearance.
///
/// An open-addressing table with linear probing: with millions of ids, lookups are bound by cache
/// misses, and a node-based map costs three per lookup (bucket, node, key bytes). Ids of at most 8
/// bytes (the numeric ids of SNAP and OGB files, Cora's paper ids) are kept inside the slot and
/// cost one; longer ids keep a 64-bit hash there and are confirmed against the file's bytes. The
/// ids are views into the files, which outlive the table.
class graph_node_ids {
 public:
  /// Makes room for `n` ids without rehashing.
  void reserve(std::size_t n) {
    m_names.reserve(n);
    std::size_t capacity = 16;
    while (capacity * max_load_num < n * max_load_den) capacity *= 2;
    if (capacity > m_slots.size()) rehash(capacity);
  }

  /// The number of `id`, or -1 if it has none.
  [[nodiscard]] index_t find(std::string_view id) const {
    if (m_slots.empty()) return -1;
    const slot key = key_of(id);
    for (std::size_t i = home(key);; i = (i + 1) & m_mask) {
      const slot& s = m_slots[i];
      if (s.meta == 0) return -1;
      if (matches(s, key, id)) return node_of(s);
    }
  }

  /// The number of `id`, giving it the next one if it has none; `second` tells whether it is new.
  std::pair<index_t, bool> insert(std::string_view id) {
    if ((m_names.size() + 1) * max_load_den > m_slots.size() * max_load_num)
      rehash(std::max<std::size_t>(16, 2 * m_slots.size()));
    const slot key = key_of(id);
    std::size_t i = home(key);
    for (; m_slots[i].meta != 0; i = (i + 1) & m_mask)
      if (matches(m_slots[i], key, id)) return {node_of(m_slots[i]), false};
    const auto node = static_cast<index_t>(m_names.size());
    m_slots[i] = {key.key, key.meta | static_cast<std::uint64_t>(node)};
    m_names.push_back(id);
    return {node, true};
  }

  [[nodiscard]] index_t size() const noexcept { return static_cast<index_t>(m_names.size()); }

  /// The id of node `i`, which must be numbered.
  [[nodiscard]] std::string_view name(index_t i) const { return m_names[static_cast<std::size_t>(i)]; }

  /// The ids as strings, node i's at position i.
  [[nodiscard]] std::vector<std::string> names() const {
    return std::vector<std::string>(m_names.begin(), m_names.end());
  }

 private:
  /// `meta` is 0 for an empty slot, else the kind of key in the top byte (1 + the length of an
  /// id held in `key`, or `hashed_kind`) over the node number.
  struct slot {
    std::uint64_t key = 0;
    std::uint64_t meta = 0;
  };
  static constexpr int kind_shift = 56;
  static constexpr std::uint64_t hashed_kind = 10;
  static constexpr std::uint64_t node_mask = (std::uint64_t{1} << kind_shift) - 1;
  static constexpr std::size_t max_load_num = 7, max_load_den = 10;

  /// The slot `id` would occupy, its node number left 0.
  [[nodiscard]] static slot key_of(std::string_view id) noexcept {
    slot key;
    if (id.size() <= 8) {
      std::memcpy(&key.key, id.data(), id.size());
      key.meta = static_cast<std::uint64_t>(1 + id.size()) << kind_shift;
    } else {
      key.key = std::hash<std::string_view>{}(id);
      key.meta = hashed_kind << kind_shift;
    }
    return key;
  }

  [[nodiscard]] bool matches(const slot& s, const slot& key, std::string_view id) const {
    if (s.key != key.key || (s.meta & ~node_mask) != key.meta) return false;
    return key.meta != (hashed_kind << kind_shift) || m_names[static_cast<std::size_t>(s.meta & node_mask)] == id;
  }

  [[nodiscard]] static index_t node_of(const slot& s) noexcept { return static_cast<index_t>(s.meta & node_mask); }

  /// Start of the probe sequence: splitmix64's finaliser, so that short numeric ids, whose bytes
  /// differ little, spread over the table.
  [[nodiscard]] std::size_t home(const slot& key) const noexcept {
    std::uint64_t z = key.key ^ key.meta;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return static_cast<std::size_t>(z ^ (z >> 31)) & m_mask;
  }

  void rehash(std::size_t capacity) {
    std::vector<slot> old = std::exchange(m_slots, std::vector<slot>(capacity));
    m_mask = capacity - 1;
    for (const slot& s : old) {
      if (s.meta == 0) continue;
      std::size_t i = home({s.key, s.meta & ~node_mask});
      while (m_slots[i].meta != 0) i = (i + 1) & m_mask;
      m_slots[i] = s;
    }
  }

  std::vector<slot> m_slots;  // a power of two of them, at most 70 % full
  std::size_t m_mask = 0;
  std::vector<std::string_view> m_names;
};

}  // namespace frugal::io::detail
