#pragma once
/// \file
/// Deterministic parallel building blocks over the execution-space seam.
///
/// frugal splits work into *chunks whose boundaries depend on the problem's shape only, never on
/// the number of threads*; the execution space hands whole chunks to its threads. A kernel whose
/// chunks write disjoint outputs, or whose chunk results are combined in chunk order, therefore
/// gives bit-identical results on 1 thread, N threads, or another back end with the same
/// arithmetic. `parallel_for_chunks` is the loop, `deterministic_sum` the reduction that keeps
/// this property (Kokkos' own `parallel_reduce` combines partial sums in a thread-dependent order,
/// see `parallel_sum`).

#include <Kokkos_Core.hpp>

#include <algorithm>
#include <string>
#include <vector>

#include "execution.hpp"

namespace frugal {

/// A partition of [0, n) into `count()` chunks of `grain` items (the last one shorter).
struct chunking {
  index_t n = 0;
  index_t grain = 1;

  /// Number of chunks: ⌈n / grain⌉.
  [[nodiscard]] constexpr index_t count() const noexcept { return n > 0 ? (n + grain - 1) / grain : 0; }
  /// First item of chunk `c`.
  [[nodiscard]] constexpr index_t begin(index_t c) const noexcept { return c * grain; }
  /// One past the last item of chunk `c`.
  [[nodiscard]] constexpr index_t end(index_t c) const noexcept { return std::min(n, (c + 1) * grain); }
};

/// Items per chunk so that each chunk holds at least `min_work` units of work when one item costs
/// `work_per_item`: small problems make one chunk (no dispatch overhead for nothing), large ones
/// many. A function of the shape alone, so results never depend on the thread count.
[[nodiscard]] constexpr index_t grain_for(index_t work_per_item, index_t min_work = index_t{1} << 15) noexcept {
  return work_per_item <= 0 ? min_work : std::max<index_t>(1, (min_work + work_per_item - 1) / work_per_item);
}

/// Runs `f(begin, end)` for every chunk of `[0, n)` of `grain` items, chunks in parallel on `exec`.
/// \tparam Exec the execution space; `f` must be callable there
template <ExecutionSpace Exec, class F>
inline void parallel_for_chunks(const std::string& label, const Exec& exec, index_t n, index_t grain, const F& f) {
  const chunking parts{n, std::max<index_t>(grain, 1)};
  const index_t count = parts.count();
  if (count == 0) return;
  if (count == 1) {
    // One chunk: no dispatch, but still on the caller's space semantics (host spaces only: a
    // device space must launch even a single chunk).
    if constexpr (HostExecutionSpace<Exec>) {
      f(index_t{0}, n);
      return;
    }
  }
  parallel_for(
      label, exec, count, KOKKOS_LAMBDA(index_t c) { f(parts.begin(c), parts.end(c)); });
}

/// Σ over chunks of `f(begin, end)` (each a `T`), chunks evaluated in parallel on a host space and
/// added in chunk order: bit-identical for any thread count. Complexity: one `T` per chunk.
template <class T, HostExecutionSpace Exec, class F>
[[nodiscard]] inline T deterministic_sum(const std::string& label, const Exec& exec, index_t n, index_t grain,
                                         const F& f) {
  const chunking parts{n, std::max<index_t>(grain, 1)};
  const index_t count = parts.count();
  if (count == 0) return T{};
  if (count == 1) return f(index_t{0}, n);
  std::vector<T> partial(static_cast<std::size_t>(count));
  T* out = partial.data();
  parallel_for(label, exec, count, [=](index_t c) { out[c] = f(parts.begin(c), parts.end(c)); });
  T total = partial[0];
  for (index_t c = 1; c < count; ++c) total += partial[static_cast<std::size_t>(c)];
  return total;
}

/// Σ_{i<n} of what `f(i, acc)` adds to `acc` (a `T`), on any space. On host spaces the items are
/// summed in chunks of a size fixed by `n` alone, chunk sums added in chunk order, so the result is
/// bit-identical for any thread count; on other spaces (a GPU) it is Kokkos' `parallel_reduce`,
/// whose combining order depends on the launch. Safe inside another parallel region.
template <class T, ExecutionSpace Exec, class F>
[[nodiscard]] inline T reproducible_sum(const std::string& label, const Exec& exec, index_t n, const F& f) {
  if constexpr (HostExecutionSpace<Exec>) {
    return deterministic_sum<T>(label, exec, n, grain_for(1, index_t{1} << 14), [&](index_t begin, index_t end) {
      T acc{};
      for (index_t i = begin; i < end; ++i) f(i, acc);
      return acc;
    });
  } else {
    return parallel_sum<T>(label, exec, n, f);
  }
}

/// The number of threads `exec` runs kernels on (1 for Serial): for sizing per-thread scratch.
template <ExecutionSpace Exec>
[[nodiscard]] inline int concurrency(const Exec& exec) {
  return static_cast<int>(exec.concurrency());
}

}  // namespace frugal
