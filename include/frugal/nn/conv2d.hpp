#pragma once
/// \file
/// 2-D convolution by im2col + GEMM over a pluggable weight policy, on NHWC activations.

#include <cmath>
#include <string>
#include <utility>

#include "../core/execution.hpp"
#include "concepts.hpp"
#include "dense_weight.hpp"
#include "detail/transpose.hpp"

namespace frugal::nn {

/// Geometry of a square-kernel convolution or pooling window.
struct conv2d_options {
  index_t in_channels = 1;
  index_t out_channels = 1;
  index_t kernel = 3;  ///< kernel height and width
  index_t stride = 1;
  index_t padding = 0;  ///< zero padding on every side
};

namespace detail {

/// Output extent of a window sweep; throws when the window does not fit.
inline index_t window_output_extent(const char* where, index_t input, index_t kernel, index_t stride, index_t padding) {
  check(kernel > 0 && stride > 0 && padding >= 0, where, ": kernel = ", kernel, ", stride = ", stride,
        ", padding = ", padding, " (kernel and stride must be positive, padding non-negative)");
  check(input + 2 * padding >= kernel, where, ": input extent ", input, " with padding ", padding,
        " is smaller than the kernel ", kernel);
  return (input + 2 * padding - kernel) / stride + 1;
}

/// Patch matrix of NHWC input `x` (n, h, w, c): column j = (image, oy, ox) holds the k·k·c
/// window values in (ky, kx, channel) order, zeros where the window leaves the image.
/// Parallel over images on `exec`; every row segment inside the image is one contiguous copy.
template <class S, HostExecutionSpace Exec>
void im2col(const Exec& exec, const S* x, index_t n, index_t h, index_t w, index_t c, index_t k, index_t stride,
            index_t pad, index_t oh, index_t ow, S* cols) {
  const index_t K = k * k * c;
  parallel_for("frugal::nn::im2col", exec, n, [=](index_t img) {
    const S* xi = x + img * h * w * c;
    S* out = cols + img * oh * ow * K;
    for (index_t oy = 0; oy < oh; ++oy)
      for (index_t ox = 0; ox < ow; ++ox, out += K) {
        const index_t y0 = oy * stride - pad, x0 = ox * stride - pad;
        for (index_t ky = 0; ky < k; ++ky) {
          S* dst = out + ky * k * c;
          const index_t iy = y0 + ky;
          if (iy < 0 || iy >= h) {
            for (index_t t = 0; t < k * c; ++t) dst[t] = S(0);
            continue;
          }
          const S* row = xi + iy * w * c;
          if (x0 >= 0 && x0 + k <= w) {
            const S* src = row + x0 * c;
            for (index_t t = 0; t < k * c; ++t) dst[t] = src[t];
          } else {
            for (index_t kx = 0; kx < k; ++kx) {
              const index_t ix = x0 + kx;
              for (index_t ch = 0; ch < c; ++ch) dst[kx * c + ch] = (ix >= 0 && ix < w) ? row[ix * c + ch] : S(0);
            }
          }
        }
      }
  });
}

/// The patch matrix *patch-major*: rows[f·ld + m] = value of patch feature f = (ky, kx, channel)
/// at output position m = (image, oy, ox); columns M..ld−1 are zero. Parallel over features (each
/// row is written as one stream).
template <class S, HostExecutionSpace Exec>
void im2row(const Exec& exec, const S* x, index_t n, index_t h, index_t w, index_t c, index_t k, index_t stride,
            index_t pad, index_t oh, index_t ow, S* rows, index_t ld) {
  const index_t K = k * k * c, M = n * oh * ow;
  parallel_for("frugal::nn::im2row", exec, K, [=](index_t f) {
    const index_t ky = f / (k * c), kx = (f / c) % k, ch = f % c;
    S* dst = rows + f * ld;
    for (index_t img = 0; img < n; ++img)
      for (index_t oy = 0; oy < oh; ++oy) {
        S* d = dst + (img * oh + oy) * ow;
        const index_t iy = oy * stride - pad + ky;
        if (iy < 0 || iy >= h) {
          for (index_t ox = 0; ox < ow; ++ox) d[ox] = S(0);
          continue;
        }
        const S* src = x + ((img * h + iy) * w) * c + ch;
        for (index_t ox = 0; ox < ow; ++ox) {
          const index_t ix = ox * stride - pad + kx;
          d[ox] = (ix >= 0 && ix < w) ? src[ix * c] : S(0);
        }
      }
    for (index_t m = M; m < ld; ++m) dst[m] = S(0);
  });
}

/// Adjoint of im2col: scatters patch-matrix gradients back onto an NHWC gradient `dx`, which it
/// overwrites. Parallel over images (patches of different images never overlap).
template <class S, HostExecutionSpace Exec>
void col2im(const Exec& exec, const S* cols, index_t n, index_t h, index_t w, index_t c, index_t k, index_t stride,
            index_t pad, index_t oh, index_t ow, S* dx) {
  const index_t K = k * k * c;
  parallel_for("frugal::nn::col2im", exec, n, [=](index_t img) {
    S* di = dx + img * h * w * c;
    for (index_t t = 0; t < h * w * c; ++t) di[t] = S(0);
    const S* src = cols + img * oh * ow * K;
    for (index_t oy = 0; oy < oh; ++oy)
      for (index_t ox = 0; ox < ow; ++ox, src += K) {
        const index_t y0 = oy * stride - pad, x0 = ox * stride - pad;
        for (index_t ky = 0; ky < k; ++ky) {
          const index_t iy = y0 + ky;
          if (iy < 0 || iy >= h) continue;
          S* row = di + iy * w * c;
          const S* s = src + ky * k * c;
          for (index_t kx = 0; kx < k; ++kx) {
            const index_t ix = x0 + kx;
            if (ix < 0 || ix >= w) continue;
            for (index_t ch = 0; ch < c; ++ch) row[ix * c + ch] += s[kx * c + ch];
          }
        }
      }
  });
}

}  // namespace detail

/// 2-D convolution (cross-correlation, as in PyTorch) on NHWC input (n, h, w, in_channels),
/// output (n, oh, ow, out_channels). The weight is out_channels x (kernel·kernel·in_channels) in
/// (ky, kx, channel) column order, stored and multiplied by `Policy`.
/// Parameters: the policy's (`weight` for dense) and `bias` (1 x out_channels).
template <Scalar S, WeightPolicy Policy = dense_weight<S>, HostExecutionSpace Exec = default_host_space>
requires std::is_same_v<typename Policy::scalar_type, S>
class conv2d {
 public:
  using scalar_type = S;
  using policy_type = Policy;

  /// A layer with a policy built as `Policy(out_channels, kernel·kernel·in_channels)`.
  explicit conv2d(const conv2d_options& options,
                  Exec exec = Exec{}) requires std::is_constructible_v<Policy, index_t, index_t>
      : conv2d(options, Policy(options.out_channels, options.kernel* options.kernel* options.in_channels),
               std::move(exec)) {}

  /// A layer around an existing policy whose shape must be out_channels x kernel²·in_channels.
  conv2d(const conv2d_options& options, Policy policy, Exec exec = Exec{})
      : m_options(options), m_policy(std::move(policy)), m_exec(std::move(exec)) {
    check(options.in_channels > 0 && options.out_channels > 0,
          "frugal::nn::conv2d: in_channels = ", options.in_channels, " and out_channels = ", options.out_channels,
          " must be positive");
    check(options.kernel > 0 && options.stride > 0 && options.padding >= 0,
          "frugal::nn::conv2d: kernel = ", options.kernel, ", stride = ", options.stride,
          ", padding = ", options.padding);
    check_extent("frugal::nn::conv2d", "policy out_features vs out_channels", m_policy.out_features(),
                 options.out_channels);
    check_extent("frugal::nn::conv2d", "policy in_features vs kernel^2 * in_channels", m_policy.in_features(),
                 options.kernel * options.kernel * options.in_channels);
    m_bias.resize(1, options.out_channels);
  }

  [[nodiscard]] const conv2d_options& options() const noexcept { return m_options; }

  const tensor<S>& forward(const tensor<S>& x) {
    check(x.rank() == 4, "frugal::nn::conv2d::forward: input shape ", x.shape_string(),
          " must be rank 4 (n, h, w, c) NHWC");
    check_extent("frugal::nn::conv2d::forward", "input channels", x.extent(3), m_options.in_channels);
    m_n = x.extent(0);
    m_h = x.extent(1);
    m_w = x.extent(2);
    const auto& o = m_options;
    m_oh = detail::window_output_extent("frugal::nn::conv2d::forward", m_h, o.kernel, o.stride, o.padding);
    m_ow = detail::window_output_extent("frugal::nn::conv2d::forward", m_w, o.kernel, o.stride, o.padding);
    const index_t K = patch_size(), M = m_n * m_oh * m_ow;
    m_output.resize({m_n, m_oh, m_ow, o.out_channels});
    column_map<S> y(m_output.data(), o.out_channels, M);
    if constexpr (PatchMajorPolicy<Policy>) {
      m_ld = m_policy.input_stride(M);
      m_cols.resize({K * m_ld});
      if (o.in_channels == 1) {
        // One channel: each patch row is a strided copy of image rows, built directly.
        detail::im2row(m_exec, x.data(), m_n, m_h, m_w, o.in_channels, o.kernel, o.stride, o.padding, m_oh, m_ow,
                       m_cols.data(), m_ld);
      } else {
        // Several channels: im2col copies contiguous (kx, channel) runs, and one register-tiled
        // transpose is faster than gathering every channel with a stride (measured 2-3x).
        m_scratch.resize({K * M});
        detail::im2col(m_exec, x.data(), m_n, m_h, m_w, o.in_channels, o.kernel, o.stride, o.padding, m_oh, m_ow,
                       m_scratch.data());
        detail::transpose(m_scratch.data(), M, K, K, m_cols.data(), m_ld);
        for (index_t f = 0; f < K; ++f)
          for (index_t m = M; m < m_ld; ++m) m_cols.data()[f * m_ld + m] = S(0);
      }
      m_policy.forward_rows(m_cols.data(), m_ld, y);
    } else {
      m_cols.resize({K * M});
      detail::im2col(m_exec, x.data(), m_n, m_h, m_w, o.in_channels, o.kernel, o.stride, o.padding, m_oh, m_ow,
                     m_cols.data());
      m_policy.forward(const_column_map<S>(m_cols.data(), K, M), y);
    }
    y.colwise() += m_bias.value.row(0).transpose();
    return m_output;
  }

  const tensor<S>& backward(const tensor<S>& dy, bool need_input_grad = true) {
    check(m_n >= 0 && m_cols.size() > 0, "frugal::nn::conv2d::backward: called before forward");
    const auto& o = m_options;
    const index_t K = patch_size(), M = m_n * m_oh * m_ow;
    check_extent("frugal::nn::conv2d::backward", "output gradient size", dy.size(), M * o.out_channels);
    const_column_map<S> dyc(dy.data(), o.out_channels, M);
    m_bias.grad.row(0).transpose() += dyc.rowwise().sum();
    auto policy_backward = [&](column_map<S>* dcols) {
      if constexpr (PatchMajorPolicy<Policy>)
        m_policy.backward_rows(m_cols.data(), m_ld, dyc, dcols);
      else
        m_policy.backward(const_column_map<S>(m_cols.data(), K, M), dyc, dcols);
    };
    if (!need_input_grad) {
      policy_backward(nullptr);
      m_input_grad.resize({0});
      return m_input_grad;
    }
    m_col_grad.resize({K * M});
    column_map<S> dcols(m_col_grad.data(), K, M);
    policy_backward(&dcols);
    m_input_grad.resize({m_n, m_h, m_w, o.in_channels});
    detail::col2im(m_exec, m_col_grad.data(), m_n, m_h, m_w, o.in_channels, o.kernel, o.stride, o.padding, m_oh, m_ow,
                   m_input_grad.data());
    return m_input_grad;
  }

  void register_parameters(parameter_registry<S>& registry, const std::string& prefix) {
    m_policy.register_parameters(registry, prefix);
    registry.add(join_name(prefix, "bias"), m_bias);
  }

  /// PyTorch's default: weight and bias uniform in ±1/sqrt(kernel²·in_channels).
  void reset_parameters(rng& gen) {
    const S bound = S(1) / std::sqrt(static_cast<S>(patch_size()));
    m_policy.reset_parameters(gen, bound);
    for (index_t i = 0; i < m_bias.value.size(); ++i)
      m_bias.value.data()[i] = static_cast<S>(gen.uniform(-bound, bound));
  }

  [[nodiscard]] Policy& policy() noexcept { return m_policy; }
  [[nodiscard]] const Policy& policy() const noexcept { return m_policy; }
  [[nodiscard]] parameter<S>& bias() noexcept { return m_bias; }

 private:
  [[nodiscard]] index_t patch_size() const noexcept {
    return m_options.kernel * m_options.kernel * m_options.in_channels;
  }

  conv2d_options m_options;
  Policy m_policy;
  Exec m_exec;
  parameter<S> m_bias;
  index_t m_n = -1, m_h = 0, m_w = 0, m_oh = 0, m_ow = 0;
  index_t m_ld = 0;  // row stride of the patch-major patch matrix (PatchMajorPolicy only)
  tensor<S> m_cols, m_col_grad, m_output, m_input_grad;
  tensor<S> m_scratch;  // column-major patches before their transpose (PatchMajorPolicy only)
};

}  // namespace frugal::nn
