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
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <unordered_map>
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

/// Numbers node ids in order of first appearance. Keys are views into the files' bytes, which
/// outlive the map, so an id is stored once, as a `std::string` only in the result.
class graph_node_ids {
 public:
  void reserve(std::size_t n) {
    m_index.reserve(n);
    m_names.reserve(n);
  }

  /// The number of `id`, or -1 if it has none.
  [[nodiscard]] index_t find(std::string_view id) const {
    const auto it = m_index.find(id);
    return it == m_index.end() ? index_t{-1} : it->second;
  }

  /// The number of `id`, giving it the next one if it has none; `second` tells whether it is new.
  std::pair<index_t, bool> insert(std::string_view id) {
    const auto [it, inserted] = m_index.try_emplace(id, static_cast<index_t>(m_names.size()));
    if (inserted) m_names.push_back(id);
    return {it->second, inserted};
  }

  [[nodiscard]] index_t size() const noexcept { return static_cast<index_t>(m_names.size()); }

  /// The id of node `i`, which must be numbered.
  [[nodiscard]] std::string_view name(index_t i) const { return m_names[static_cast<std::size_t>(i)]; }

  /// The ids as strings, node i's at position i.
  [[nodiscard]] std::vector<std::string> names() const {
    return std::vector<std::string>(m_names.begin(), m_names.end());
  }

 private:
  std::unordered_map<std::string_view, index_t> m_index;
  std::vector<std::string_view> m_names;
};

}  // namespace frugal::io::detail
