#pragma once
/// \file
/// The bias of `linear` and `conv2d` on column-major batches (one sample or output position per
/// column), on a host execution space: added to every column, and its gradient summed over the
/// columns in shape-determined chunks added in chunk order (the same bits on any thread count).

#include <algorithm>
#include <vector>

#include "../../core/execution.hpp"
#include "../../core/parallel.hpp"

namespace frugal::nn::detail {

/// y(:, j) += b for every column j of the c × m column-major `y`.
template <class S, HostExecutionSpace Exec>
void add_bias(const Exec& exec, S* y, index_t c, index_t m, const S* b) {
  parallel_for_chunks("frugal::nn::add_bias", exec, m, grain_for(c), [=](index_t j0, index_t j1) {
    for (index_t j = j0; j < j1; ++j) {
      S* col = y + j * c;
      for (index_t r = 0; r < c; ++r) col[r] += b[r];
    }
  });
}

/// grad(r) += Σ_j dy(r, j) over the m columns of the c × m column-major `dy`. `scratch` holds the
/// per-chunk partial sums between calls.
template <class S, HostExecutionSpace Exec>
void accumulate_bias_gradient(const Exec& exec, const S* dy, index_t c, index_t m, S* grad, std::vector<S>& scratch) {
  if (m <= 0 || c <= 0) return;
  const chunking parts{m, std::max<index_t>(64, grain_for(c))};
  const index_t count = parts.count();
  scratch.assign(static_cast<std::size_t>(count * c), S(0));
  S* partial = scratch.data();
  parallel_for("frugal::nn::bias_gradient", exec, count, [=](index_t k) {
    S* p = partial + k * c;
    for (index_t j = parts.begin(k); j < parts.end(k); ++j) {
      const S* col = dy + j * c;
      for (index_t r = 0; r < c; ++r) p[r] += col[r];
    }
  });
  for (index_t k = 0; k < count; ++k)
    for (index_t r = 0; r < c; ++r) grad[r] += partial[k * c + r];
}

}  // namespace frugal::nn::detail
