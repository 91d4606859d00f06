#pragma once
// Small statistics shared by the examples.
#include <algorithm>
#include <vector>

namespace frugal::examples {

/// Median of v (0 for an empty v).
inline double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : 0.5 * (v[v.size() / 2 - 1] + v[v.size() / 2]);
}

}  // namespace frugal::examples
