#pragma once
/// \file
/// Batch normalisation over the samples of a batch (Ioffe and Szegedy 2015) for (n, features)
/// inputs, with running statistics for evaluation.

#include <algorithm>
#include <cmath>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../core/checkpoint.hpp"
#include "../core/error.hpp"
#include "../core/execution.hpp"
#include "../core/parallel.hpp"
#include "concepts.hpp"
#include "parameter.hpp"

namespace frugal::nn {

/// Options of `batch_norm1d`.
template <Scalar S>
struct batch_norm_options {
  S epsilon = S(1e-5);  ///< added to the variance
  S momentum = S(0.1);  ///< running = (1 − momentum) · running + momentum · batch statistic
  bool affine = true;   ///< learn the per-feature scale and shift
};

/// PyTorch's `BatchNorm1d(features)` on (n, features) inputs. In training mode (the default)
/// each feature is normalised by the batch's mean and biased variance, and the running mean and
/// unbiased variance are updated; in evaluation mode (`set_training(false)`) the running
/// statistics normalise and nothing is updated. Features run in parallel on `Exec`, each summed
/// over the samples in order by one thread, so the results are the same bits on any thread count.
/// Parameters (with `affine`): `weight` γ and `bias` β, 1 × features (1 and 0). The running
/// statistics are state, not parameters: `save_state` / `load_state` carry them in checkpoints.
template <Scalar S, HostExecutionSpace Exec = default_host_space>
class batch_norm1d {
 public:
  using scalar_type = S;
  using execution_space = Exec;

  explicit batch_norm1d(index_t features, batch_norm_options<S> options = {}, Exec exec = Exec{})
      : m_features(features), m_options(options), m_exec(std::move(exec)) {
    check(features > 0, "frugal::nn::batch_norm1d: features = ", features, " must be positive");
    check(options.epsilon > S(0), "frugal::nn::batch_norm1d: epsilon = ", options.epsilon, " must be positive");
    check(options.momentum >= S(0) && options.momentum <= S(1),
          "frugal::nn::batch_norm1d: momentum = ", options.momentum, " must be in [0, 1]");
    m_gamma.resize(1, features);
    m_beta.resize(1, features);
    m_gamma.value.setOnes();
    m_running_mean.assign(static_cast<std::size_t>(features), S(0));
    m_running_var.assign(static_cast<std::size_t>(features), S(1));
  }

  [[nodiscard]] index_t features() const noexcept { return m_features; }
  /// Training mode uses and updates batch statistics; evaluation mode uses the running ones.
  void set_training(bool training) noexcept { m_training = training; }
  [[nodiscard]] bool training() const noexcept { return m_training; }
  [[nodiscard]] const std::vector<S>& running_mean() const noexcept { return m_running_mean; }
  [[nodiscard]] const std::vector<S>& running_var() const noexcept { return m_running_var; }

  const tensor<S>& forward(const tensor<S>& x) {
    check(x.rank() == 2, "frugal::nn::batch_norm1d::forward: input has shape ", x.shape_string(),
          ", expected (n, features)");
    check_extent("frugal::nn::batch_norm1d::forward", "features", x.extent(1), m_features);
    const index_t n = x.extent(0), f = m_features;
    check(!m_training || n > 1,
          "frugal::nn::batch_norm1d::forward: training needs more than one sample per batch, got ", n);
    m_ready = true;
    m_xhat.resize_like(x);
    m_output.resize_like(x);
    m_rstd.resize(static_cast<std::size_t>(f));
    const S* in = x.data();
    S* xhat = m_xhat.data();
    S* out = m_output.data();
    S* rstd = m_rstd.data();
    S* rm = m_running_mean.data();
    S* rv = m_running_var.data();
    const S* g = m_gamma.value.data();
    const S* b = m_beta.value.data();
    const S eps = m_options.epsilon, mom = m_options.momentum;
    const bool affine = m_options.affine, training = m_training;
    parallel_for_chunks("frugal::nn::batch_norm1d::forward", m_exec, f, grain_for(4 * n), [=](index_t j0, index_t j1) {
      for (index_t j = j0; j < j1; ++j) {
        S mean = rm[j], var = rv[j];
        if (training) {
          mean = 0;
          for (index_t i = 0; i < n; ++i) mean += in[i * f + j];
          mean /= static_cast<S>(n);
          var = 0;
          for (index_t i = 0; i < n; ++i) var += (in[i * f + j] - mean) * (in[i * f + j] - mean);
          var /= static_cast<S>(n);
          rm[j] = (S(1) - mom) * rm[j] + mom * mean;
          rv[j] = (S(1) - mom) * rv[j] + mom * var * static_cast<S>(n) / static_cast<S>(n - 1);
        }
        const S s = S(1) / std::sqrt(var + eps);
        rstd[j] = s;
        for (index_t i = 0; i < n; ++i) {
          const S h = (in[i * f + j] - mean) * s;
          xhat[i * f + j] = h;
          out[i * f + j] = affine ? h * g[j] + b[j] : h;
        }
      }
    });
    m_forward_training = training;
    return m_output;
  }

  const tensor<S>& backward(const tensor<S>& dy, bool need_input_grad = true) {
    check(m_ready, "frugal::nn::batch_norm1d::backward: called before forward");
    check_extent("frugal::nn::batch_norm1d::backward", "gradient size", dy.size(), m_xhat.size());
    const index_t n = m_xhat.extent(0), f = m_features;
    if (need_input_grad)
      m_input_grad.resize_like(m_xhat);
    else
      m_input_grad.resize({0});
    const S* d = dy.data();
    const S* h = m_xhat.data();
    const S* rstd = m_rstd.data();
    const S* g = m_gamma.value.data();
    S* dg = m_gamma.grad.data();
    S* db = m_beta.grad.data();
    S* dx = need_input_grad ? m_input_grad.data() : nullptr;
    const bool affine = m_options.affine, batch_stats = m_forward_training;
    parallel_for_chunks("frugal::nn::batch_norm1d::backward", m_exec, f, grain_for(4 * n), [=](index_t j0, index_t j1) {
      for (index_t j = j0; j < j1; ++j) {
        S sum_dy = 0, sum_dy_h = 0;
        for (index_t i = 0; i < n; ++i) {
          sum_dy += d[i * f + j];
          sum_dy_h += d[i * f + j] * h[i * f + j];
        }
        if (affine) {
          dg[j] += sum_dy_h;
          db[j] += sum_dy;
        }
        if (dx == nullptr) continue;
        const S scale = (affine ? g[j] : S(1)) * rstd[j];
        if (!batch_stats) {
          for (index_t i = 0; i < n; ++i) dx[i * f + j] = scale * d[i * f + j];
          continue;
        }
        const S a = sum_dy / static_cast<S>(n), c = sum_dy_h / static_cast<S>(n);
        for (index_t i = 0; i < n; ++i) dx[i * f + j] = scale * (d[i * f + j] - a - h[i * f + j] * c);
      }
    });
    return m_input_grad;
  }

  void register_parameters(parameter_registry<S>& registry, const std::string& prefix) {
    if (!m_options.affine) return;
    registry.add(join_name(prefix, "weight"), m_gamma);
    registry.add(join_name(prefix, "bias"), m_beta);
  }

  /// γ = 1, β = 0, running mean 0 and variance 1 (draws nothing from `gen`).
  void reset_parameters(rng&) {
    m_gamma.value.setOnes();
    m_beta.value.setZero();
    std::fill(m_running_mean.begin(), m_running_mean.end(), S(0));
    std::fill(m_running_var.begin(), m_running_var.end(), S(1));
  }

  /// Writes the running statistics under `prefix`.
  void save_state(checkpoint_writer& out, std::string_view prefix) const {
    const std::string p(prefix);
    out.put<S>(p + "/running_mean", std::span<const S>(m_running_mean));
    out.put<S>(p + "/running_var", std::span<const S>(m_running_var));
  }
  /// Reads what `save_state` wrote; `format_error` when missing or of another width (the layer
  /// is unchanged then).
  void load_state(const checkpoint_reader& in, std::string_view prefix) {
    const std::string p(prefix);
    auto mean = in.get<S>(p + "/running_mean");
    auto var = in.get<S>(p + "/running_var");
    if (mean.size() != m_running_mean.size() || var.size() != m_running_var.size())
      throw format_error(frugal::detail::concat("frugal::nn::batch_norm1d::load_state: '", p, "' in '", in.file(),
                                                "' holds ", mean.size(), " features, the layer has ", m_features),
                         in.file(), 0);
    m_running_mean = std::move(mean);
    m_running_var = std::move(var);
  }

  [[nodiscard]] parameter<S>& weight() noexcept { return m_gamma; }
  [[nodiscard]] parameter<S>& bias() noexcept { return m_beta; }

 private:
  index_t m_features;
  batch_norm_options<S> m_options;
  Exec m_exec;
  parameter<S> m_gamma, m_beta;
  std::vector<S> m_running_mean, m_running_var, m_rstd;
  bool m_training = true, m_forward_training = true, m_ready = false;
  tensor<S> m_xhat, m_output, m_input_grad;
};

}  // namespace frugal::nn
