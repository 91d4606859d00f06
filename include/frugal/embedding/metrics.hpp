#pragma once
/// \file
/// Exact click-through metrics: ROC AUC (Mann-Whitney U with tied scores sharing their average
/// rank, as scikit-learn computes it) and log loss on logits (numerically stable).

#include <algorithm>
#include <cmath>
#include <numeric>
#include <span>
#include <vector>

#include "../core/error.hpp"

namespace frugal::embedding {

/// Area under the ROC curve of `scores` (any monotone score, e.g. logits) against 0/1 `labels`.
/// Throws `invalid_argument` when the sizes differ, a label is not 0 or 1, a score is NaN, or
/// only one class is present (AUC is undefined then).
[[nodiscard]] inline double roc_auc(std::span<const float> scores, std::span<const float> labels) {
  check_extent("frugal::embedding::roc_auc", "scores vs labels", scores.size(), labels.size());
  const std::size_t n = scores.size();
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), std::size_t{0});
  for (std::size_t i = 0; i < n; ++i) {
    check(labels[i] == 0.0f || labels[i] == 1.0f, "frugal::embedding::roc_auc: label ", i, " is ", labels[i],
          ", must be 0 or 1");
    check(!std::isnan(scores[i]), "frugal::embedding::roc_auc: score ", i, " is NaN");
  }
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return scores[a] < scores[b]; });
  double rank_sum = 0;  // sum of the (1-based, tie-averaged) ranks of the positives
  std::size_t positives = 0;
  for (std::size_t i = 0; i < n;) {
    std::size_t j = i;
    while (j < n && scores[order[j]] == scores[order[i]]) ++j;
    const double average_rank = 0.5 * static_cast<double>(i + 1 + j);
    for (std::size_t k = i; k < j; ++k)
      if (labels[order[k]] == 1.0f) {
        rank_sum += average_rank;
        ++positives;
      }
    i = j;
  }
  const std::size_t negatives = n - positives;
  check(positives > 0 && negatives > 0, "frugal::embedding::roc_auc: need both classes (", positives, " positives, ",
        negatives, " negatives)");
  const double p = static_cast<double>(positives);
  return (rank_sum - p * (p + 1) / 2) / (p * static_cast<double>(negatives));
}

/// Mean binary cross-entropy of `logits` against 0/1 `labels`:
/// (1/n) Σ max(x, 0) − x·t + log(1 + e^{−|x|}).
[[nodiscard]] inline double log_loss(std::span<const float> logits, std::span<const float> labels) {
  check_extent("frugal::embedding::log_loss", "logits vs labels", logits.size(), labels.size());
  check(!logits.empty(), "frugal::embedding::log_loss: no examples");
  double total = 0;
  for (std::size_t i = 0; i < logits.size(); ++i) {
    const double x = logits[i], t = labels[i];
    total += std::max(x, 0.0) - x * t + std::log1p(std::exp(-std::abs(x)));
  }
  return total / static_cast<double>(logits.size());
}

}  // namespace frugal::embedding
