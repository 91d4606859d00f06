#pragma once
/// \file
/// Progress reporting. Library code never prints: long-running routines call a
/// `progress_callback` the caller supplies; examples render it as a progress bar on a terminal.

#include <cstdint>
#include <functional>
#include <span>
#include <string_view>

namespace frugal {

/// One named figure attached to a progress event (`{"loss", 0.31}`).
struct metric {
  std::string_view name;
  double value = 0.0;
};

/// What a long-running routine reports: which phase, how far along, and current figures.
/// The views are valid only during the callback.
struct progress_event {
  std::string_view phase;           ///< e.g. "train epoch 3", "admm iteration 2"
  std::int64_t done = 0;            ///< units completed in this phase
  std::int64_t total = 0;           ///< units in this phase, or 0 when unknown
  std::span<const metric> metrics;  ///< running figures, may be empty
};

/// Receives progress events. An empty callback means "report nothing".
using progress_callback = std::function<void(const progress_event&)>;

/// Calls `callback` if it is set.
inline void report(const progress_callback& callback, const progress_event& event) {
  if (callback) callback(event);
}

}  // namespace frugal
