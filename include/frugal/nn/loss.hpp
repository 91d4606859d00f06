#pragma once
/// \file
/// Losses: softmax cross-entropy for classification, binary cross-entropy on logits.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <span>
#include <vector>

#include "../core/error.hpp"
#include "../core/execution.hpp"
#include "../core/parallel.hpp"
#include "tensor.hpp"

namespace frugal::nn {

/// Mean softmax cross-entropy over a batch of logits (n, classes) and integer labels:
/// L = -(1/n) Σ_i log softmax(z_i)[y_i], computed with the log-sum-exp shift for stability.
/// Gradient: dL/dz_i = (softmax(z_i) - onehot(y_i)) / n. Rows run in parallel on `Exec`; the
/// per-row losses are added in row order (the same bits on any thread count).
template <Scalar S, HostExecutionSpace Exec = default_host_space>
class softmax_cross_entropy {
 public:
  using scalar_type = S;
  using execution_space = Exec;

  explicit softmax_cross_entropy(Exec exec = Exec{}) : m_exec(std::move(exec)) {}

  /// Returns the mean loss and keeps the probabilities for `backward`.
  S forward(const tensor<S>& logits, std::span<const std::int32_t> labels) {
    check(logits.rank() == 2, "frugal::nn::softmax_cross_entropy::forward: logits shape ", logits.shape_string(),
          " must be (n, classes)");
    const index_t n = logits.extent(0), c = logits.extent(1);
    check_extent("frugal::nn::softmax_cross_entropy::forward", "labels vs batch", static_cast<index_t>(labels.size()),
                 n);
    for (index_t i = 0; i < n; ++i) {
      const std::int32_t y = labels[static_cast<std::size_t>(i)];
      check(y >= 0 && y < c, "frugal::nn::softmax_cross_entropy::forward: label ", i, " is ", y, ", outside [0, ", c,
            ")");
    }
    m_labels.assign(labels.begin(), labels.end());
    m_grad.resize({n, c});
    m_row_loss.resize(static_cast<std::size_t>(n));
    const S* zd = logits.data();
    S* pd = m_grad.data();
    double* row_loss = m_row_loss.data();
    const std::int32_t* y = m_labels.data();
    parallel_for_chunks("frugal::nn::softmax_cross_entropy::forward", m_exec, n, grain_for(8 * c),
                        [=](index_t i0, index_t i1) {
                          Eigen::Map<const matrix<S>> z(zd, n, c);
                          Eigen::Map<matrix<S>> p(pd, n, c);
                          for (index_t i = i0; i < i1; ++i) {
                            const S shift = z.row(i).maxCoeff();
                            p.row(i) = (z.row(i).array() - shift).exp();
                            const S sum = p.row(i).sum();
                            row_loss[i] = static_cast<double>(std::log(sum) - (z(i, y[i]) - shift));
                            p.row(i) /= sum;
                          }
                        });
    double total = 0;
    for (index_t i = 0; i < n; ++i) total += row_loss[i];
    return static_cast<S>(total / static_cast<double>(n ? n : 1));
  }

  /// dL/dlogits for the last forward.
  const tensor<S>& backward() {
    const index_t n = m_grad.extent(0), c = m_grad.extent(1);
    S* g = m_grad.data();
    const std::int32_t* y = m_labels.data();
    const S scale = static_cast<S>(n ? n : 1);
    parallel_for_chunks("frugal::nn::softmax_cross_entropy::backward", m_exec, n, grain_for(c),
                        [=](index_t i0, index_t i1) {
                          for (index_t i = i0; i < i1; ++i) {
                            S* row = g + i * c;
                            row[y[i]] -= S(1);
                            for (index_t j = 0; j < c; ++j) row[j] /= scale;
                          }
                        });
    return m_grad;
  }

 private:
  Exec m_exec;
  tensor<S> m_grad;
  std::vector<std::int32_t> m_labels;
  std::vector<double> m_row_loss;
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
/// for any x. Gradient: (σ(x) - t) / n. Targets lie in [0, 1]. Elementwise in parallel on `Exec`;
/// the per-sample losses are added in order (the same bits on any thread count).
template <Scalar S, HostExecutionSpace Exec = default_host_space>
class bce_with_logits {
 public:
  using scalar_type = S;
  using execution_space = Exec;

  explicit bce_with_logits(Exec exec = Exec{}) : m_exec(std::move(exec)) {}

  S forward(const tensor<S>& logits, std::span<const S> targets) {
    check_extent("frugal::nn::bce_with_logits::forward", "targets vs logits", static_cast<index_t>(targets.size()),
                 logits.size());
    const index_t n = logits.size();
    for (index_t i = 0; i < n; ++i) {
      const S t = targets[static_cast<std::size_t>(i)];
      check(t >= S(0) && t <= S(1), "frugal::nn::bce_with_logits::forward: target ", i, " is ", t, ", outside [0, 1]");
    }
    m_grad.resize_like(logits);
    m_loss.resize(static_cast<std::size_t>(n));
    const S* xs = logits.data();
    const S* ts = targets.data();
    S* g = m_grad.data();
    double* loss = m_loss.data();
    parallel_for_chunks("frugal::nn::bce_with_logits::forward", m_exec, n, grain_for(32), [=](index_t i0, index_t i1) {
      for (index_t i = i0; i < i1; ++i) {
        const S x = xs[i], t = ts[i];
        loss[i] = static_cast<double>(std::max(x, S(0)) - x * t + std::log1p(std::exp(-std::abs(x))));
        const S sigma = x >= 0 ? S(1) / (S(1) + std::exp(-x)) : std::exp(x) / (S(1) + std::exp(x));
        g[i] = (sigma - t) / static_cast<S>(n);
      }
    });
    double total = 0;
    for (index_t i = 0; i < n; ++i) total += loss[i];
    return static_cast<S>(total / static_cast<double>(n ? n : 1));
  }

  const tensor<S>& backward() const { return m_grad; }

 private:
  Exec m_exec;
  tensor<S> m_grad;
  std::vector<double> m_loss;
};

}  // namespace frugal::nn
