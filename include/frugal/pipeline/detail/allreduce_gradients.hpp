#pragma once
/// \file
/// The once-per-epoch gradient sum of data-parallel ranks (graph parallelism, the hybrid's
/// partitions), shared so that both add in the same order.

#include <span>
#include <vector>

#include "../../core/execution.hpp"
#include "../../nn/parameter.hpp"
#include "../transport.hpp"

namespace frugal::pipeline::detail {

/// Sums every gradient of `params` and `extra` (the loss) over the ranks of `t`, in one message
/// each way, in doubles (rank-ordered, so every rank holds the same bits); returns extra's sum.
template <Transport T, Scalar S>
double allreduce_gradients(T& t, const nn::parameter_registry<S>& params, double extra) {
  std::vector<double> packed;
  for (const auto& e : params)
    packed.insert(packed.end(), e.param->grad.data(), e.param->grad.data() + e.param->grad.size());
  packed.push_back(extra);
  allreduce_sum(t, std::span<double>(packed));
  std::size_t at = 0;
  for (const auto& e : params)
    for (index_t i = 0; i < e.param->grad.size(); ++i) e.param->grad.data()[i] = static_cast<S>(packed[at++]);
  return packed.back();
}

}  // namespace frugal::pipeline::detail
