#pragma once
/// \file
/// frugal's exception hierarchy. Every error raised at an API boundary derives from
/// `frugal::error`; its message names the function, the argument and the offending value.

#include <cstdint>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

namespace frugal {

/// Base class of every exception frugal throws for bad input or a failed operation.
class error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// An argument is outside its documented domain (a negative size, a probability above one...).
class invalid_argument : public error {
 public:
  using error::error;
};

/// Two shapes that must agree do not ("extents mismatch: 3 vs 4").
class shape_error : public invalid_argument {
 public:
  using invalid_argument::invalid_argument;
};

/// A file could not be opened, read, written or renamed.
class io_error : public error {
 public:
  using error::error;
};

/// A file was read but its content is not what the format requires: bad magic, truncated,
/// corrupted, of another version. The message names the file and the byte offset.
class format_error : public io_error {
 public:
  format_error(const std::string& message, std::string file, std::uint64_t offset)
      : io_error(message), m_file(std::move(file)), m_offset(offset) {}

  /// The file that was being read.
  [[nodiscard]] const std::string& file() const noexcept { return m_file; }
  /// Byte offset in the (decompressed) stream at which the problem was found.
  [[nodiscard]] std::uint64_t offset() const noexcept { return m_offset; }

 private:
  std::string m_file;
  std::uint64_t m_offset;
};

namespace detail {

/// Concatenates streamable pieces into one message: `concat("f: n = ", n)`.
template <class... Parts>
[[nodiscard]] std::string concat(const Parts&... parts) {
  std::ostringstream out;
  (out << ... << parts);
  return out.str();
}

}  // namespace detail

/// Throws `Error` built from the streamed `parts` when `condition` is false.
/// \tparam Error a `frugal::error` subclass
template <class Error = invalid_argument, class... Parts>
inline void check(bool condition, const Parts&... parts) {
  if (!condition) throw Error(detail::concat(parts...));
}

/// Throws `shape_error("<where>: <what> mismatch: got <given>, expected <expected>")` when they
/// differ; `given` is what the caller passed, `expected` what the object or the other argument
/// requires.
template <class A, class B>
inline void check_extent(std::string_view where, std::string_view what, const A& given, const B& expected) {
  if (!(given == expected))
    throw shape_error(detail::concat(where, ": ", what, " mismatch: got ", given, ", expected ", expected));
}

}  // namespace frugal
