#pragma once
/// \file
/// A parallel merge sort of values on a host execution space: runs sorted in parallel, then
/// merged pairwise round by round, each merge cut into pieces at co-ranks (merge path) so that
/// every round keeps all threads busy. Sorting values has one answer, so the result equals
/// `std::sort` with the same order whatever the number of runs or threads; that is why, unlike
/// the other admm kernels, this one may size its runs by the thread count.

#include <algorithm>
#include <string>
#include <vector>

#include "../../core/parallel.hpp"

namespace frugal::admm::detail {

/// The number of elements of `a` among the first k outputs of `std::merge(a, b, before)`
/// (which takes from b only when its element goes strictly before a's). O(log min(k, |a|)).
template <class T, class Before>
[[nodiscard]] index_t merge_corank(index_t k, const T* a, index_t na, const T* b, index_t nb, const Before& before) {
  index_t lo = std::max<index_t>(0, k - nb), hi = std::min(k, na);
  while (lo < hi) {
    const index_t i = lo + (hi - lo) / 2, j = k - i;
    // b[j − 1] among the first k needs it strictly before a[i]; otherwise take more of a.
    if (j > 0 && !before(b[j - 1], a[i]))
      lo = i + 1;
    else
      hi = i;
  }
  return lo;
}

/// Sorts `values` by `before` (a strict weak order under which equivalent values are equal, such
/// as `std::greater<>` on numbers without NaN or −0) on `exec`.
/// \param runs number of initially sorted runs; 0 picks the thread count. Any value gives the
///        same result (tests pass several).
/// Complexity: O(n log n) work, O(n) extra memory.
template <HostExecutionSpace Exec, class T, class Before>
void parallel_sort(const Exec& exec, std::vector<T>& values, const Before& before, index_t runs = 0) {
  const auto n = static_cast<index_t>(values.size());
  const index_t threads = std::max(1, concurrency(exec));
  // By default one run per thread, none below a few thousand values (those sort faster than
  // they merge).
  runs = runs > 0 ? std::min(runs, std::max<index_t>(n, 1))
                  : std::clamp<index_t>(threads, 1, std::max<index_t>(1, n / 2048));
  if (runs == 1) {
    std::sort(values.begin(), values.end(), before);
    return;
  }
  const index_t length = (n + runs - 1) / runs;
  T* v = values.data();
  parallel_for("frugal::admm::parallel_sort runs", exec, runs, [&](index_t r) {
    const index_t b = std::min(n, r * length), e = std::min(n, b + length);
    std::sort(v + b, v + e, before);
  });
  std::vector<T> buffer(values.size());
  T* from = values.data();
  T* to = buffer.data();
  for (index_t width = length; width < n; width *= 2) {
    const index_t pairs = (n + 2 * width - 1) / (2 * width);
    const index_t pieces = std::max<index_t>(1, threads / pairs);
    parallel_for("frugal::admm::parallel_sort merge", exec, pairs * pieces, [&](index_t task) {
      const index_t pair = task / pieces, piece = task % pieces;
      const index_t b = pair * 2 * width, m = std::min(n, b + width), e = std::min(n, b + 2 * width);
      const T* a = from + b;
      const T* c = from + m;
      const index_t na = m - b, nc = e - m, total = na + nc;
      const index_t k0 = total * piece / pieces, k1 = total * (piece + 1) / pieces;
      const index_t i0 = merge_corank(k0, a, na, c, nc, before), i1 = merge_corank(k1, a, na, c, nc, before);
      std::merge(a + i0, a + i1, c + (k0 - i0), c + (k1 - i1), to + b + k0, before);
    });
    std::swap(from, to);
  }
  if (from != values.data()) std::copy(from, from + n, values.data());
}

}  // namespace frugal::admm::detail
