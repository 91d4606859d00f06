#pragma once
// Terminal progress bar for frugal's progress events, shared by the examples. Draws only when
// stderr is a terminal; thread-safe so parallel jobs can share one bar.
#include <unistd.h>
#include <frugal/core/progress.hpp>

#include <cstdio>
#include <mutex>
#include <string>

namespace frugal::examples {

class progress_bar {
 public:
  explicit progress_bar(bool enabled = true) : m_enabled(enabled && ::isatty(STDERR_FILENO)) {}

  /// Renders `e` prefixed by `label` (e.g. the job name).
  void draw(const std::string& label, const frugal::progress_event& e) {
    if (!m_enabled || e.total <= 0) return;
    if (e.done != e.total && e.done % 20 != 0) return;  // redraw sparingly
    std::lock_guard lock(m_mutex);
    const int width = 24, filled = static_cast<int>(width * e.done / e.total);
    std::string bar(static_cast<std::size_t>(filled), '#');
    bar.resize(width, '.');
    std::fprintf(stderr, "\r\033[K%s%s%.*s [%s] %3d%%", label.c_str(), label.empty() ? "" : " ",
                 static_cast<int>(e.phase.size()), e.phase.data(), bar.c_str(),
                 static_cast<int>(100 * e.done / e.total));
    for (const auto& m : e.metrics)
      std::fprintf(stderr, "  %.*s %.4g", static_cast<int>(m.name.size()), m.name.data(), m.value);
    if (e.done == e.total) std::fputs("\r\033[K", stderr);
    std::fflush(stderr);
  }

  /// A callback that draws under `label`.
  frugal::progress_callback callback(std::string label = {}) {
    if (!m_enabled) return {};
    return [this, label = std::move(label)](const frugal::progress_event& e) { draw(label, e); };
  }

  /// Clears the line before ordinary output.
  void clear() {
    if (!m_enabled) return;
    std::lock_guard lock(m_mutex);
    std::fputs("\r\033[K", stderr);
  }

 private:
  bool m_enabled;
  std::mutex m_mutex;
};

}  // namespace frugal::examples
