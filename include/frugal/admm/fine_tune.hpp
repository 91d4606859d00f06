#pragma once
/// \file
/// Retraining after hard quantization: the codes stay fixed and only each layer's scale (and the
/// unconstrained parameters, e.g. biases) keep training — ADMM-NN's final retrain of scales.

#include <cmath>
#include <cstdint>
#include <map>
#include <string>

#include "../nn/concepts.hpp"
#include "quantization.hpp"

namespace frugal::admm {

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
        auto& st = m_state[name];
        st.m = 0.9 * st.m + 0.1 * g;
        st.v = 0.999 * st.v + 0.001 * g * g;
        const double mhat = st.m / (1 - std::pow(0.9, m_t)), vhat = st.v / (1 - std::pow(0.999, m_t));
        const double factor = std::exp(-m_lr * mhat / (std::sqrt(vhat) + 1e-12));
        for (auto& l : q.levels) l = static_cast<S>(l * factor);
      }
      p.grad.setZero();
    }
    m_inner.step(registry);
    for (auto& [name, q] : *m_quantized) registry.at(name).value = q.reconstruct();
  }

 private:
  struct adam_scalar {
    double m = 0, v = 0;
  };
  Inner m_inner;
  std::map<std::string, quantized_matrix<S>, std::less<>>* m_quantized;
  double m_lr;
  std::int64_t m_t = 0;
  std::map<std::string, adam_scalar, std::less<>> m_state;
};

}  // namespace frugal::admm
