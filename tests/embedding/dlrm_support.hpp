#pragma once
// Helpers shared by the DLRM tests: a small synthetic click log, the batch loss, and central
// differences that skip ReLU kinks.
#include <frugal/embedding.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <span>
#include <vector>

namespace frugal::test {

using embedding::click_dataset;
using embedding::dlrm;
using embedding::log_loss;
using embedding::synthetic_clicks;
using embedding::synthetic_options;

inline click_dataset small_clicks(std::uint64_t seed, index_t n, index_t first = 0) {
  synthetic_options o;
  o.cardinalities = {7, 50, 300, 2000};
  o.seed = seed;
  return synthetic_clicks(o).generate(first, n);
}

template <class Table>
double batch_loss(dlrm<Table>& model, const click_dataset& data, std::span<const std::uint32_t> rows) {
  const auto logits = model.forward(data, rows);
  std::vector<float> labels;
  for (auto r : rows) labels.push_back(data.labels[r]);
  return log_loss(std::vector<float>(logits.begin(), logits.end()), labels);
}

/// Central difference of `loss` in `w`, or NaN where a ReLU kink lies within ±eps (the one-sided
/// differences disagree), where no finite difference is meaningful.
template <class Loss>
double central_difference(float& w, double eps, Loss loss) {
  const float saved = w;
  const double center = loss();
  w = saved + static_cast<float>(eps);
  const double up = loss();
  w = saved - static_cast<float>(eps);
  const double down = loss();
  w = saved;
  const double right = (up - center) / eps, left = (center - down) / eps;
  if (std::abs(right - left) > 0.05 * std::max(std::abs(right), std::abs(left)) + 1e-4) return std::nan("");
  return (up - down) / (2 * eps);
}

}  // namespace frugal::test
