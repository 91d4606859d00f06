#pragma once
/// \file
/// The softmax cross-entropy of one row of logits, which GNNPipe's last stage and each
/// graph-parallel worker apply to the training nodes they hold.

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "../../core/execution.hpp"

namespace frugal::pipeline::detail {

/// Writes scale · (softmax(z) − onehot(y)) into g and returns scale · (−log softmax(z)[y]), in
/// double with the log-sum-exp shift.
template <class S>
double softmax_cross_entropy_row(const S* z, index_t classes, std::int32_t y, double scale, S* g) {
  double shift = z[0];
  for (index_t j = 1; j < classes; ++j) shift = std::max(shift, static_cast<double>(z[j]));
  double sum = 0;
  for (index_t j = 0; j < classes; ++j) sum += std::exp(static_cast<double>(z[j]) - shift);
  for (index_t j = 0; j < classes; ++j)
    g[j] = static_cast<S>(scale * (std::exp(static_cast<double>(z[j]) - shift) / sum - (j == y ? 1.0 : 0.0)));
  return scale * (std::log(sum) - (static_cast<double>(z[y]) - shift));
}

}  // namespace frugal::pipeline::detail
