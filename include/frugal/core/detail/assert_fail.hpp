#pragma once

#include <stdexcept>
#include <string>

namespace frugal {
/// Thrown when an internal invariant checked by FRUGAL_ASSERT fails: a bug in frugal, not in the
/// caller's input. Deliberately not a `frugal::error`, so `catch (const frugal::error&)` in user
/// code does not swallow it.
class assertion_failure : public std::logic_error {
 public:
  using std::logic_error::logic_error;
};
}  // namespace frugal

namespace frugal::detail {

/// Reports a failed FRUGAL_ASSERT. Throws rather than aborting: headers never exit the process.
[[noreturn]] inline void assert_fail(const char* condition, const char* message, const char* file, int line) {
  throw ::frugal::assertion_failure(std::string("frugal assertion failed: ") + condition + " (" + message + ") at " +
                                    file + ":" + std::to_string(line));
}

}  // namespace frugal::detail
