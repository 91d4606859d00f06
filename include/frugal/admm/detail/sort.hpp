#pragma once
/// \file
/// A parallel merge sort of values on a host execution space: chunks sorted in parallel, then
/// merged pairwise, round by round. Sorting plain values has one answer, so the result equals
/// `std::sort` with the same order whatever the chunking or thread count.

#include <algorithm>
#include <string>
#include <vector>

#include "../../core/parallel.hpp"

namespace frugal::admm::detail {

/// Sorts `values` by `before` (a strict weak order under which equivalent values are equal, such
/// as `std::greater<>` on numbers without NaN) on `exec`.
/// \param grain values per initially sorted chunk; any grain gives the same result
/// Complexity: O(n log n) work; the last merge round runs on one thread, O(n).
template <HostExecutionSpace Exec, class T, class Before>
void parallel_sort(const Exec& exec, std::vector<T>& values, const Before& before,
                   index_t grain = grain_for(16)) {
  const auto n = static_cast<index_t>(values.size());
  const chunking parts{n, std::max<index_t>(grain, 1)};
  if (parts.count() <= 1) {
    std::sort(values.begin(), values.end(), before);
    return;
  }
  T* v = values.data();
  parallel_for_chunks("frugal::admm::parallel_sort chunks", exec, n, parts.grain,
                      [&](index_t b, index_t e) { std::sort(v + b, v + e, before); });
  std::vector<T> buffer(values.size());
  T* from = values.data();
  T* to = buffer.data();
  for (index_t width = parts.grain; width < n; width *= 2) {
    const index_t pairs = (n + 2 * width - 1) / (2 * width);
    parallel_for("frugal::admm::parallel_sort merge", exec, pairs, [&](index_t p) {
      const index_t b = p * 2 * width, m = std::min(n, b + width), e = std::min(n, b + 2 * width);
      std::merge(from + b, from + m, from + m, from + e, to + b, before);
    });
    std::swap(from, to);
  }
  if (from != values.data()) std::copy(from, from + n, values.data());
}

}  // namespace frugal::admm::detail
