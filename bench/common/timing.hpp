#pragma once
// Timing helpers shared by frugal's benchmarks: medians of repeated runs (machines are noisy).
#include <algorithm>
#include <chrono>
#include <functional>
#include <vector>

namespace frugal::bench {

inline double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : 0.5 * (v[v.size() / 2 - 1] + v[v.size() / 2]);
}

/// Median seconds of f after one warm-up call: at least `min_reps` and at most `max_reps` runs,
/// stopping once the runs total `budget_seconds`.
inline double time_median(const std::function<void()>& f, int max_reps, int min_reps = 3, double budget_seconds = 0.6) {
  f();
  std::vector<double> t;
  double total = 0;
  for (int r = 0; r < max_reps && (r < min_reps || total < budget_seconds); ++r) {
    const auto start = std::chrono::steady_clock::now();
    f();
    t.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    total += t.back();
  }
  return median(t);
}

}  // namespace frugal::bench
