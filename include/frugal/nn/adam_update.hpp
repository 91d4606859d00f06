#pragma once
/// \file
/// One Adam update (Kingma and Ba) over spans: the single implementation behind `nn::adam`,
/// quantum's circuit-parameter training (RobustState) and admm's per-layer scale training
/// (`frozen_code_optimizer`, `straight_through_optimizer`). Each caller keeps its own moments and
/// step count and passes them in; this header only holds the arithmetic, so a seeded run gives
/// the same bits whichever of them drives it.

#include <Eigen/Core>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "../core/config.hpp"
#include "../core/scalar.hpp"

namespace frugal::nn {

/// Where an Adam update applies its bias corrections c₁ = 1 − β₁ᵗ and c₂ = 1 − β₂ᵗ. The two are
/// the same in exact arithmetic and round differently; each reproduces the results of the code
/// that used it before the three Adams were merged.
enum class adam_form {
  /// PyTorch's: w ← w − (η/c₁)·m / (√v·(1/√c₂) + ε), v ← β₂v + (1−β₂)·(g·g); Eigen arrays, so
  /// the update vectorises (`nn::adam`).
  pytorch,
  /// The paper's: m̂ = m/c₁, v̂ = v/c₂, w ← w − η·m̂ / (√v̂ + ε), v ← β₂v + ((1−β₂)·g)·g; one
  /// entry at a time (quantum's and admm's small parameter vectors).
  kingma_ba,
};

/// Coefficients of `adam_update`; defaults are PyTorch's.
template <Scalar S>
struct adam_update_options {
  S learning_rate = S(1e-3);
  S beta1 = S(0.9);
  S beta2 = S(0.999);
  S epsilon = S(1e-8);
  /// Weight of the new gradient in the first moment; 1 − β₁ when empty. Given explicitly where a
  /// caller's results were fixed with a literal (0.1 is not 1 − 0.9 in floating point).
  std::optional<S> gradient_weight1;
  /// Weight of the squared gradient in the second moment; 1 − β₂ when empty (0.001 is not
  /// 1 − 0.999 in floating point either).
  std::optional<S> gradient_weight2;
  adam_form form = adam_form::pytorch;

  /// The paper's form with the coefficients quantum's RobustState training and admm's scale
  /// training were fixed with (β = 0.9, 0.999 with literal weights 0.1 and 0.001, ε = 1e-12).
  [[nodiscard]] static adam_update_options kingma_ba_fixed(S learning_rate) {
    return {.learning_rate = learning_rate,
            .beta1 = S(0.9),
            .beta2 = S(0.999),
            .epsilon = S(1e-12),
            .gradient_weight1 = S(0.1),
            .gradient_weight2 = S(0.001),
            .form = adam_form::kingma_ba};
  }
};

/// Step `step` (1 for the first) of Adam on `value` with gradient `grad`, updating the first and
/// second moments `m` and `v` in place:
///   m ← β₁m + w₁g;  v ← β₂v + w₂g²;  value ← value − η·(m/c₁)/(√(v/c₂) + ε),
/// c₁ = 1 − β₁ᵗ, c₂ = 1 − β₂ᵗ, w₁ and w₂ as in `adam_update_options`, rounded as `options.form`
/// says. Entry by entry, so any partition of the spans gives the same bits.
/// \param value, grad, m, v spans of one length
/// \param step the step count t ≥ 1, counted by the caller
/// Complexity O(n); one call per span, no allocation.
template <Scalar S>
void adam_update(std::span<S> value, std::span<const S> grad, std::span<S> m, std::span<S> v, std::int64_t step,
                 const adam_update_options<S>& options) {
  FRUGAL_ASSERT(grad.size() == value.size() && m.size() == value.size() && v.size() == value.size(),
                "frugal::nn::adam_update: spans of different lengths");
  const S b1 = options.beta1, b2 = options.beta2, eps = options.epsilon, lr = options.learning_rate;
  const S w1 = options.gradient_weight1.value_or(S(1) - b1);
  const S w2 = options.gradient_weight2.value_or(S(1) - b2);
  const S c1 = S(1) - std::pow(b1, static_cast<S>(step));
  const S c2 = S(1) - std::pow(b2, static_cast<S>(step));
  if (options.form == adam_form::pytorch) {
    using array = Eigen::Array<S, Eigen::Dynamic, 1>;
    const auto n = static_cast<Eigen::Index>(value.size());
    Eigen::Map<array> w(value.data(), n), mm(m.data(), n), vv(v.data(), n);
    const Eigen::Map<const array> g(grad.data(), n);
    const S step_size = lr / c1;
    const S inv_sqrt_c2 = S(1) / std::sqrt(c2);
    mm = b1 * mm + w1 * g;
    vv = b2 * vv + w2 * g.square();
    w -= step_size * mm / (vv.sqrt() * inv_sqrt_c2 + eps);
    return;
  }
  for (std::size_t i = 0; i < value.size(); ++i) {
    m[i] = b1 * m[i] + w1 * grad[i];
    v[i] = b2 * v[i] + w2 * grad[i] * grad[i];
    value[i] -= lr * (m[i] / c1) / (std::sqrt(v[i] / c2) + eps);
  }
}

}  // namespace frugal::nn
