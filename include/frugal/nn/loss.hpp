#pragma once
/// \file
/// Losses: softmax cross-entropy for classification, binary cross-entropy on logits.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <span>
#include <vector>

#include "../core/error.hpp"
#include "tensor.hpp"

namespace frugal::nn {

/// Mean softmax cross-entropy over a batch of logits (n, classes) and integer labels:
/// L = -(1/n) Σ_i log softmax(z_i)[y_i], computed with the log-sum-exp shift for stability.
/// Gradient: dL/dz_i = (softmax(z_i) - onehot(y_i)) / n.
template <Scalar S>
class softmax_cross_entropy {
 public:
  using scalar_type = S;

  /// Returns the mean loss and keeps the probabilities for `backward`.
  S forward(const tensor<S>& logits, std::span<const std::int32_t> labels) {
    check(logits.rank() == 2, "frugal::nn::softmax_cross_entropy::forward: logits shape ", logits.shape_string(),
          " must be (n, classes)");
    const index_t n = logits.extent(0), c = logits.extent(1);
    check_extent("frugal::nn::softmax_cross_entropy::forward", "labels vs batch", static_cast<index_t>(labels.size()),
                 n);
    m_labels.assign(labels.begin(), labels.end());
    m_grad.resize({n, c});
    auto z = logits.rows_view();
    auto p = m_grad.rows_view();
    double total = 0;
    for (index_t i = 0; i < n; ++i) {
      const std::int32_t y = labels[static_cast<std::size_t>(i)];
      check(y >= 0 && y < c, "frugal::nn::softmax_cross_entropy::forward: label ", i, " is ", y, ", outside [0, ", c,
            ")");
      const S shift = z.row(i).maxCoeff();
      p.row(i) = (z.row(i).array() - shift).exp();
      const S sum = p.row(i).sum();
      total += static_cast<double>(std::log(sum) - (z(i, y) - shift));
      p.row(i) /= sum;
    }
    return static_cast<S>(total / static_cast<double>(n ? n : 1));
  }

  /// dL/dlogits for the last forward.
  const tensor<S>& backward() {
    const index_t n = m_grad.extent(0);
    auto g = m_grad.rows_view();
    for (index_t i = 0; i < n; ++i) g(i, m_labels[static_cast<std::size_t>(i)]) -= S(1);
    g /= static_cast<S>(n ? n : 1);
    return m_grad;
  }

 private:
  tensor<S> m_grad;
  std::vector<std::int32_t> m_labels;
};

/// Number of rows of `logits` whose arg-max equals the label.
template <Scalar S>
[[nodiscard]] index_t count_correct(const tensor<S>& logits, std::span<const std::int32_t> labels) {
  check_extent("frugal::nn::count_correct", "labels vs batch", static_cast<index_t>(labels.size()), logits.extent(0));
  auto z = logits.rows_view();
  index_t correct = 0;
  for (index_t i = 0; i < z.rows(); ++i) {
    Eigen::Index best = 0;
    z.row(i).maxCoeff(&best);
    correct += best == labels[static_cast<std::size_t>(i)];
  }
  return correct;
}

/// Mean binary cross-entropy on logits: L = (1/n) Σ max(x,0) - x·t + log(1 + e^{-|x|}), stable
/// for any x. Gradient: (σ(x) - t) / n. Targets lie in [0, 1].
template <Scalar S>
class bce_with_logits {
 public:
  using scalar_type = S;

  S forward(const tensor<S>& logits, std::span<const S> targets) {
    check_extent("frugal::nn::bce_with_logits::forward", "targets vs logits", static_cast<index_t>(targets.size()),
                 logits.size());
    const index_t n = logits.size();
    m_grad.resize_like(logits);
    double total = 0;
    for (index_t i = 0; i < n; ++i) {
      const S x = logits[i], t = targets[static_cast<std::size_t>(i)];
      check(t >= S(0) && t <= S(1), "frugal::nn::bce_with_logits::forward: target ", i, " is ", t, ", outside [0, 1]");
      total += static_cast<double>(std::max(x, S(0)) - x * t + std::log1p(std::exp(-std::abs(x))));
      const S sigma = x >= 0 ? S(1) / (S(1) + std::exp(-x)) : std::exp(x) / (S(1) + std::exp(x));
      m_grad[i] = (sigma - t) / static_cast<S>(n);
    }
    return static_cast<S>(total / static_cast<double>(n ? n : 1));
  }

  const tensor<S>& backward() const { return m_grad; }

 private:
  tensor<S> m_grad;
};

}  // namespace frugal::nn
