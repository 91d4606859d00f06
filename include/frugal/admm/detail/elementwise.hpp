#pragma once
/// \file
/// Entry-wise kernels over matrices on a host execution space. Chunks cover ranges of the
/// row-major storage whose bounds depend on the size only, and every entry is computed by the
/// same expression whichever chunk holds it, so results do not depend on the thread count.

#include <Eigen/Core>

#include <string>

#include "../../core/parallel.hpp"
#include "../../nn/tensor.hpp"

namespace frugal::admm::detail {

using nn::matrix;

/// Entries per chunk of an entry-wise kernel.
inline constexpr index_t entry_grain = grain_for(1);

/// Runs f(begin, end) over chunks of [0, n) entries on `exec`.
template <HostExecutionSpace Exec, class F>
inline void for_entries(const std::string& label, const Exec& exec, index_t n, const F& f) {
  parallel_for_chunks(label, exec, n, entry_grain, f);
}

/// Entries [begin, end) of a matrix's row-major storage as an Eigen array.
template <class S>
[[nodiscard]] inline Eigen::Map<Eigen::Array<S, Eigen::Dynamic, 1>> entries(matrix<S>& m, index_t begin, index_t end) {
  return {m.data() + begin, end - begin};
}
template <class S>
[[nodiscard]] inline Eigen::Map<const Eigen::Array<S, Eigen::Dynamic, 1>> entries(const matrix<S>& m, index_t begin,
                                                                                  index_t end) {
  return {m.data() + begin, end - begin};
}

/// W with every entry outside the 0/1 `mask` set to +0: the projection onto a support.
template <HostExecutionSpace Exec, class S>
[[nodiscard]] matrix<S> restrict_to(const Exec& exec, const matrix<S>& w, const matrix<S>& mask) {
  matrix<S> z(w.rows(), w.cols());
  for_entries("frugal::admm::restrict_to", exec, w.size(), [&](index_t b, index_t e) {
    entries(z, b, e) = (entries(mask, b, e) != S(0)).select(entries(w, b, e), S(0));
  });
  return z;
}

/// x ← x ∘ y entry by entry (masks combined with masks).
template <HostExecutionSpace Exec, class S>
void multiply_into(const Exec& exec, matrix<S>& x, const matrix<S>& y) {
  for_entries("frugal::admm::multiply_into", exec, x.size(),
              [&](index_t b, index_t e) { entries(x, b, e) *= entries(y, b, e); });
}

}  // namespace frugal::admm::detail
