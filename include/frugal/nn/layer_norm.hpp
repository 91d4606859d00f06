#pragma once
/// \file
/// Layer normalisation (Ba et al. 2016): each sample's features normalised to zero mean and unit
/// variance, then scaled and shifted by learned per-feature weights.

#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "../core/error.hpp"
#include "../core/execution.hpp"
#include "../core/parallel.hpp"
#include "concepts.hpp"
#include "detail/bias.hpp"
#include "parameter.hpp"

namespace frugal::nn {

/// Options of `layer_norm`.
template <Scalar S>
struct layer_norm_options {
  S epsilon = S(1e-5);  ///< added to the variance
  bool affine = true;   ///< learn the per-feature scale and shift
};

/// y = (x − mean) / sqrt(var + ε) · γ + β over the last extent (`features`) of any input whose
/// last extent is `features`, each sample (row) on its own, like PyTorch's
/// `LayerNorm(features)`. Rows run in parallel on `Exec`; γ and β gradients are summed over rows
/// in shape-determined chunks (the same bits on any thread count).
/// Parameters (with `affine`): `weight` γ and `bias` β, 1 × features, initialised to 1 and 0.
template <Scalar S, HostExecutionSpace Exec = default_host_space>
class layer_norm {
 public:
  using scalar_type = S;
  using execution_space = Exec;

  explicit layer_norm(index_t features, layer_norm_options<S> options = {}, Exec exec = Exec{})
      : m_features(features), m_options(options), m_exec(std::move(exec)) {
    check(features > 0, "frugal::nn::layer_norm: features = ", features, " must be positive");
    check(options.epsilon > S(0), "frugal::nn::layer_norm: epsilon = ", options.epsilon, " must be positive");
    m_gamma.resize(1, features);
    m_beta.resize(1, features);
    m_gamma.value.setOnes();
  }

  [[nodiscard]] index_t features() const noexcept { return m_features; }

  const tensor<S>& forward(const tensor<S>& x) {
    check(x.rank() >= 1, "frugal::nn::layer_norm::forward: input has rank 0");
    check_extent("frugal::nn::layer_norm::forward", "last extent", x.extent(x.rank() - 1), m_features);
    const index_t f = m_features, rows = x.size() / f;
    m_ready = true;
    m_xhat.resize_like(x);
    m_output.resize_like(x);
    m_rstd.resize(static_cast<std::size_t>(rows));
    const S* in = x.data();
    S* xhat = m_xhat.data();
    S* out = m_output.data();
    S* rstd = m_rstd.data();
    const S* g = m_gamma.value.data();
    const S* b = m_beta.value.data();
    const S eps = m_options.epsilon;
    const bool affine = m_options.affine;
    parallel_for_chunks("frugal::nn::layer_norm::forward", m_exec, rows, grain_for(4 * f), [=](index_t r0, index_t r1) {
      for (index_t r = r0; r < r1; ++r) {
        const S* xr = in + r * f;
        S mean = 0;
        for (index_t j = 0; j < f; ++j) mean += xr[j];
        mean /= static_cast<S>(f);
        S var = 0;
        for (index_t j = 0; j < f; ++j) var += (xr[j] - mean) * (xr[j] - mean);
        var /= static_cast<S>(f);
        const S s = S(1) / std::sqrt(var + eps);
        rstd[r] = s;
        for (index_t j = 0; j < f; ++j) {
          const S h = (xr[j] - mean) * s;
          xhat[r * f + j] = h;
          out[r * f + j] = affine ? h * g[j] + b[j] : h;
        }
      }
    });
    return m_output;
  }

  /// What `backward` reads of one `forward` call (the normalised input and each row's 1/σ): with
  /// one per call in flight, several forwards can precede their backwards.
  struct forward_state {
    tensor<S> xhat;
    std::vector<S> rstd;
    bool ready = false;
    [[nodiscard]] std::size_t bytes() const noexcept {
      return (static_cast<std::size_t>(xhat.size()) + rstd.size()) * sizeof(S);
    }
  };

  /// `forward(x)` with its record in `s`, not in the layer. The result is the layer's buffer,
  /// which the next forward overwrites.
  const tensor<S>& forward(const tensor<S>& x, forward_state& s) {
    swap_state(s);  // reuse the state's buffers
    forward(x);
    swap_state(s);
    return m_output;
  }

  /// `backward(dy)` of the forward recorded in `s`.
  const tensor<S>& backward(const tensor<S>& dy, forward_state& s, bool need_input_grad = true) {
    check(s.ready, "frugal::nn::layer_norm::backward: the forward state is empty");
    swap_state(s);
    try {
      backward(dy, need_input_grad);
    } catch (...) {
      swap_state(s);
      throw;
    }
    swap_state(s);
    return m_input_grad;
  }

  const tensor<S>& backward(const tensor<S>& dy, bool need_input_grad = true) {
    check(m_ready, "frugal::nn::layer_norm::backward: called before forward");
    check_extent("frugal::nn::layer_norm::backward", "gradient size", dy.size(), m_xhat.size());
    const index_t f = m_features, rows = m_xhat.size() / f;
    if (m_options.affine) {
      m_product.resize_like(dy);
      const S* d = dy.data();
      const S* h = m_xhat.data();
      S* p = m_product.data();
      parallel_for("frugal::nn::layer_norm::scale_gradient", m_exec, dy.size(), [=](index_t i) { p[i] = d[i] * h[i]; });
      detail::accumulate_bias_gradient(m_exec, m_product.data(), f, rows, m_gamma.grad.data(), m_partials);
      detail::accumulate_bias_gradient(m_exec, dy.data(), f, rows, m_beta.grad.data(), m_partials);
    }
    if (!need_input_grad) {
      m_input_grad.resize({0});
      return m_input_grad;
    }
    m_input_grad.resize_like(m_xhat);
    const S* d = dy.data();
    const S* h = m_xhat.data();
    const S* rstd = m_rstd.data();
    const S* g = m_gamma.value.data();
    S* dx = m_input_grad.data();
    const bool affine = m_options.affine;
    parallel_for_chunks("frugal::nn::layer_norm::backward", m_exec, rows, grain_for(4 * f),
                        [=](index_t r0, index_t r1) {
                          for (index_t r = r0; r < r1; ++r) {
                            S a = 0, c = 0;
                            for (index_t j = 0; j < f; ++j) {
                              const S gj = affine ? d[r * f + j] * g[j] : d[r * f + j];
                              a += gj;
                              c += gj * h[r * f + j];
                            }
                            a /= static_cast<S>(f);
                            c /= static_cast<S>(f);
                            for (index_t j = 0; j < f; ++j) {
                              const S gj = affine ? d[r * f + j] * g[j] : d[r * f + j];
                              dx[r * f + j] = rstd[r] * (gj - a - h[r * f + j] * c);
                            }
                          }
                        });
    return m_input_grad;
  }

  void register_parameters(parameter_registry<S>& registry, const std::string& prefix) {
    if (!m_options.affine) return;
    registry.add(join_name(prefix, "weight"), m_gamma);
    registry.add(join_name(prefix, "bias"), m_beta);
  }

  /// γ = 1, β = 0 (PyTorch's initialisation; draws nothing from `gen`).
  void reset_parameters(rng&) {
    m_gamma.value.setOnes();
    m_beta.value.setZero();
  }

  [[nodiscard]] parameter<S>& weight() noexcept { return m_gamma; }
  [[nodiscard]] parameter<S>& bias() noexcept { return m_beta; }

 private:
  void swap_state(forward_state& s) {
    std::swap(m_xhat, s.xhat);
    std::swap(m_rstd, s.rstd);
    std::swap(m_ready, s.ready);
  }

  index_t m_features;
  layer_norm_options<S> m_options;
  Exec m_exec;
  parameter<S> m_gamma, m_beta;
  bool m_ready = false;
  std::vector<S> m_rstd, m_partials;
  tensor<S> m_xhat, m_output, m_product, m_input_grad;
};

}  // namespace frugal::nn
