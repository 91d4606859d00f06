#pragma once
/// \file
/// Retraining after hard quantization. `frozen_code_optimizer`: the codes stay fixed and only each
/// layer's scale (and the unconstrained parameters, e.g. biases) keep training — ADMM-NN's final
/// retrain of scales. `straight_through_optimizer`: quantization-aware training with the
/// straight-through estimator — float shadow weights take the gradient computed at their
/// quantized values and are re-quantized (codes may change) after every step.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <utility>

#include "../nn/adam_update.hpp"
#include "../nn/concepts.hpp"
#include "quantization.hpp"

namespace frugal::admm {

namespace detail {

/// Adam on one layer's log-scale: `nn::adam_update` in the paper's form with the literal
/// coefficients (0.1, 0.001, ε = 1e-12) the scale training was written with, as in quantum's
/// circuit training.
struct adam_scalar {
  double m = 0, v = 0;
  /// One Adam step on log s for gradient g of d/d(log s); returns the factor to multiply s by.
  double factor(double g, double lr, std::int64_t t) {
    double log_step = 0;  // the update of log s, starting from 0 so that exp gives the factor
    nn::adam_update<double>(std::span<double>(&log_step, 1), std::span<const double>(&g, 1), std::span<double>(&m, 1),
                            std::span<double>(&v, 1), t, nn::adam_update_options<double>::kingma_ba_fixed(lr));
    return std::exp(log_step);
  }
};

}  // namespace detail

/// Optimizer wrapper for training with frozen codes. For each quantized parameter with scalable
/// levels, the levels are ℓ·s for a per-layer factor s; dL/ds = Σ_i g_i·w_i is applied with Adam
/// (learning rate `scale_learning_rate`, on log s so s stays positive), the weights are rebuilt
/// from the codes, and their gradient is withheld from `Inner`, which trains everything else.
/// The level tables in `quantized` are updated in place, so saving them stays consistent.
template <nn::Optimizer Inner>
class frozen_code_optimizer {
 public:
  using scalar_type = typename Inner::scalar_type;
  using S = scalar_type;

  frozen_code_optimizer(Inner inner, std::map<std::string, quantized_matrix<S>, std::less<>>& quantized,
                        double scale_learning_rate = 1e-3)
      : m_inner(std::move(inner)), m_quantized(&quantized), m_lr(scale_learning_rate) {}

  void step(const nn::parameter_registry<S>& registry) {
    ++m_t;
    for (auto& [name, q] : *m_quantized) {
      auto& p = registry.at(name);
      if (q.scalable) {
        // d/d(log s) of L(s·W) at s = 1 is Σ g·w.
        const double g = (p.grad.array() * p.value.array()).template cast<double>().sum();
        const double factor = m_state[name].factor(g, m_lr, m_t);
        for (auto& l : q.levels) l = static_cast<S>(l * factor);
      }
      p.grad.setZero();
    }
    m_inner.step(registry);
    for (auto& [name, q] : *m_quantized) registry.at(name).value = q.reconstruct();
  }

 private:
  Inner m_inner;
  std::map<std::string, quantized_matrix<S>, std::less<>>* m_quantized;
  double m_lr;
  std::int64_t m_t = 0;
  std::map<std::string, detail::adam_scalar, std::less<>> m_state;
};

struct straight_through_options {
  /// Adam learning rate of each layer's scale (on log s, as in `frozen_code_optimizer`); 0 keeps
  /// the level tables fixed. Ignored for level tables that are not `scalable`.
  double scale_learning_rate = 1e-3;
};

/// Quantization-aware retraining with the straight-through estimator (Bengio et al. 2013; the
/// usual QAT of PyTorch and TensorFlow): every quantized parameter keeps a float shadow copy W;
/// the model always holds Q(W) (each kept entry the nearest level of its layer's table), the
/// gradient computed at Q(W) is applied to W by `Inner` as if Q were the identity, and W is then
/// re-quantized, so codes move when a shadow weight crosses a decision boundary. Shadow weights
/// are clamped to half a level step beyond the outermost levels, so entries pinned at the top
/// level do not drift away. Masks are respected as by every optimizer (pruned entries stay exactly
/// zero and carry no code). Optionally each layer's scale trains as well. `quantized` is updated
/// in place (codes and levels), so saving it after training stays consistent with the model.
template <nn::Optimizer Inner>
class straight_through_optimizer {
 public:
  using scalar_type = typename Inner::scalar_type;
  using S = scalar_type;
  using code_map = std::map<std::string, quantized_matrix<S>, std::less<>>;

  /// \param shadow starting float weights by name (typically the weights just before the hard
  /// quantization); every entry of `quantized` needs one of the same shape.
  straight_through_optimizer(Inner inner, code_map& quantized, std::map<std::string, matrix<S>, std::less<>> shadow,
                             straight_through_options options = {})
      : m_inner(std::move(inner)), m_quantized(&quantized), m_shadow(std::move(shadow)), m_options(options) {
    for (const auto& [name, q] : quantized) {
      const auto it = m_shadow.find(name);
      if (it == m_shadow.end())
        throw invalid_argument("frugal::admm::straight_through_optimizer: no shadow weights for '" + name + "'");
      check_extent("frugal::admm::straight_through_optimizer", "shadow rows", it->second.rows(), q.rows);
      check_extent("frugal::admm::straight_through_optimizer", "shadow cols", it->second.cols(), q.cols);
      if (q.levels.empty())
        throw invalid_argument("frugal::admm::straight_through_optimizer: empty level table for '" + name + "'");
    }
  }

  void step(const nn::parameter_registry<S>& registry) {
    ++m_t;
    for (auto& [name, q] : *m_quantized) {
      auto& p = registry.at(name);
      if (m_options.scale_learning_rate > 0 && q.scalable) {
        const double g = (p.grad.array() * p.value.array()).template cast<double>().sum();
        const double factor = m_state[name].factor(g, m_options.scale_learning_rate, m_t);
        for (auto& l : q.levels) l = static_cast<S>(l * factor);
      }
      std::swap(p.value, m_shadow.at(name));  // the inner optimizer updates the shadow weights
    }
    m_inner.step(registry);
    for (auto& [name, q] : *m_quantized) {
      auto& p = registry.at(name);
      auto& w = m_shadow.at(name);
      std::swap(p.value, w);
      const auto [lo, hi] = std::minmax_element(q.levels.begin(), q.levels.end());
      const S margin = q.levels.size() > 1 ? (*hi - *lo) / S(2 * (q.levels.size() - 1)) : S(0);
      w = w.cwiseMax(*lo - margin).cwiseMin(*hi + margin);
      const bool scalable = q.scalable;
      q = detail::encode_nearest(w, p.mask ? &*p.mask : nullptr, std::move(q.levels));
      q.scalable = scalable;
      p.value = q.reconstruct();
    }
  }

  /// The current float shadow weights by name.
  [[nodiscard]] const std::map<std::string, matrix<S>, std::less<>>& shadow() const noexcept { return m_shadow; }

 private:
  Inner m_inner;
  code_map* m_quantized;
  std::map<std::string, matrix<S>, std::less<>> m_shadow;
  straight_through_options m_options;
  std::int64_t m_t = 0;
  std::map<std::string, detail::adam_scalar, std::less<>> m_state;
};

}  // namespace frugal::admm
