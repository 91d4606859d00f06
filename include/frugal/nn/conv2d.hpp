#pragma once
/// \file
/// 2-D convolution by im2col + GEMM over a pluggable weight policy, on NHWC activations.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "../core/execution.hpp"
#include "concepts.hpp"
#include "dense_weight.hpp"
#include "detail/bias.hpp"
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

/// The patch matrix *patch-major* from a channel-planar input (c, ·, h, w) — for one channel that
/// is NHWC itself — of which `x` points at the first of the n images wanted in channel 0, and
/// channel planes lie `plane_stride` apart: rows[f·ld + m] = value of patch feature f =
/// (ky, kx, channel) at output position m = (image, oy, ox); columns M..ld−1 are zero. Only the
/// `n_features` rows listed in `features` are built when it is non-null. Parallel over features;
/// each row is a run of contiguous (stride 1) or strided copies of image rows, the zero padding
/// worked out once per feature instead of per element.
template <class S, HostExecutionSpace Exec>
void im2row(const Exec& exec, const S* x, index_t n, index_t h, index_t w, index_t c, index_t plane_stride, index_t k,
            index_t stride, index_t pad, index_t oh, index_t ow, S* rows, index_t ld,
            const std::int32_t* features = nullptr, index_t n_features = 0) {
  const index_t M = n * oh * ow;
  const index_t count = features ? n_features : k * k * c;
  parallel_for("frugal::nn::im2row", exec, count, [=](index_t i) {
    const index_t f = features ? static_cast<index_t>(features[i]) : i;
    const index_t ky = f / (k * c), kx = (f / c) % k, ch = f % c;
    // Output columns ox whose input column ox·stride − pad + kx lies inside the image: [lo, hi).
    index_t lo = 0, hi = ow;
    while (lo < ow && lo * stride - pad + kx < 0) ++lo;
    while (hi > lo && (hi - 1) * stride - pad + kx >= w) --hi;
    const S* plane = x + ch * plane_stride;
    S* dst = rows + f * ld;
    for (index_t img = 0; img < n; ++img)
      for (index_t oy = 0; oy < oh; ++oy) {
        S* d = dst + (img * oh + oy) * ow;
        const index_t iy = oy * stride - pad + ky;
        if (iy < 0 || iy >= h) {
          for (index_t ox = 0; ox < ow; ++ox) d[ox] = S(0);
          continue;
        }
        const S* src = plane + (img * h + iy) * w + kx - pad;
        for (index_t ox = 0; ox < lo; ++ox) d[ox] = S(0);
        if (stride == 1)
          for (index_t ox = lo; ox < hi; ++ox) d[ox] = src[ox];
        else
          for (index_t ox = lo; ox < hi; ++ox) d[ox] = src[ox * stride];
        for (index_t ox = hi; ox < ow; ++ox) d[ox] = S(0);
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
template <Scalar S, class Policy = dense_weight<S>, HostExecutionSpace Exec = default_host_space>
requires WeightPolicyFor<Policy, Exec> && std::is_same_v<typename Policy::scalar_type, S>
class conv2d {
 public:
  using scalar_type = S;
  using policy_type = Policy;
  using execution_space = Exec;

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
    start("frugal::nn::conv2d::forward", x);
    const S* planar = planar_input(x);
    m_cols.resize({patch_area(m_n)});
    multiply_images(x, planar, 0, m_n, m_cols.data());
    m_backward_ready = true;
    return m_output;
  }

  /// Inference (`InferenceLayer`): the batch goes through im2col/im2row and the product in chunks
  /// of images whose patches fit in a core's cache (`chunk_bytes`), rather than one patch matrix
  /// of the whole batch streamed to and from memory (timings in docs/nn.md).
  const tensor<S>& predict(const tensor<S>& x) {
    start("frugal::nn::conv2d::predict", x);
    m_backward_ready = false;
    const S* planar = planar_input(x);
    const index_t image_bytes = patch_size() * m_oh * m_ow * static_cast<index_t>(sizeof(S));
    const index_t chunk =
        std::clamp<index_t>(chunk_bytes / std::max<index_t>(image_bytes, 1), 1, std::max<index_t>(m_n, 1));
    m_chunk.resize({patch_area(chunk)});  // one size for all chunks
    for (index_t i0 = 0; i0 < m_n; i0 += chunk)
      multiply_images(x, planar, i0, std::min(chunk, m_n - i0), m_chunk.data());
    return m_output;
  }

  /// Patch bytes per chunk of `predict`: about half of a typical L2 cache.
  static constexpr index_t chunk_bytes = index_t{512} << 10;

  const tensor<S>& backward(const tensor<S>& dy, bool need_input_grad = true) {
    check(m_backward_ready, "frugal::nn::conv2d::backward: needs a forward first (predict keeps no state for it)");
    const auto& o = m_options;
    const index_t K = patch_size(), M = m_n * m_oh * m_ow;
    check_extent("frugal::nn::conv2d::backward", "output gradient size", dy.size(), M * o.out_channels);
    const_column_map<S> dyc(dy.data(), o.out_channels, M);
    detail::accumulate_bias_gradient(m_exec, dy.data(), o.out_channels, M, m_bias.grad.data(), m_bias_partials);
    auto policy_backward = [&](column_map<S>* dcols) {
      if constexpr (PatchMajorPolicy<Policy, Exec>) {
        if (m_patch_major) return m_policy.backward_rows(m_exec, m_cols.data(), m_ld, dyc, dcols);
      }
      m_policy.backward(m_exec, const_column_map<S>(m_cols.data(), K, M), dyc, dcols);
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

  /// Shape checks and output geometry for an input batch; sizes the output and picks the path.
  void start(const char* where, const tensor<S>& x) {
    check(x.rank() == 4, where, ": input shape ", x.shape_string(), " must be rank 4 (n, h, w, c) NHWC");
    check_extent(where, "input channels", x.extent(3), m_options.in_channels);
    m_n = x.extent(0);
    m_h = x.extent(1);
    m_w = x.extent(2);
    const auto& o = m_options;
    m_oh = detail::window_output_extent(where, m_h, o.kernel, o.stride, o.padding);
    m_ow = detail::window_output_extent(where, m_w, o.kernel, o.stride, o.padding);
    m_output.resize({m_n, m_oh, m_ow, o.out_channels});
    m_patch_major = false;
    if constexpr (PatchMajorPolicy<Policy, Exec>) m_patch_major = m_policy.prefers_patch_major(o.in_channels);
  }

  /// The patch-major path's input, channel-planar (c, n, h, w): x itself for one channel, else a
  /// copy — a k²-times smaller transpose than the patch matrix's, after which every patch row is
  /// built from contiguous image rows. nullptr on the column-major path.
  const S* planar_input(const tensor<S>& x) {
    if (!m_patch_major) return nullptr;
    if (m_options.in_channels == 1) return x.data();
    const index_t pixels = m_n * m_h * m_w;
    m_scratch.resize({x.size()});
    frugal::transpose(m_exec, x.data(), pixels, m_options.in_channels, m_options.in_channels, m_scratch.data(), pixels);
    return m_scratch.data();
  }

  /// Size of the patch matrix of n images on the path the last `start` chose.
  [[nodiscard]] index_t patch_area(index_t n) const {
    const index_t M = n * m_oh * m_ow;
    if constexpr (PatchMajorPolicy<Policy, Exec>) {
      if (m_patch_major) return patch_size() * m_policy.input_stride(M);
    }
    return patch_size() * M;
  }

  /// Output columns of images [i0, i0 + n) = W · their patches (built into `cols`, which holds
  /// patch_area(n)) + bias.
  void multiply_images(const tensor<S>& x, const S* planar, index_t i0, index_t n, S* cols) {
    const auto& o = m_options;
    const index_t K = patch_size(), px = m_oh * m_ow, M = n * px;
    column_map<S> y(m_output.data() + i0 * px * o.out_channels, o.out_channels, M);
    if constexpr (PatchMajorPolicy<Policy, Exec>) {
      if (m_patch_major) {
        m_ld = m_policy.input_stride(M);
        const std::int32_t* features = nullptr;
        index_t n_features = 0;
        if constexpr (SelectiveInputPolicy<Policy, Exec>) {
          const auto used = m_policy.used_inputs();
          features = used.data();
          n_features = static_cast<index_t>(used.size());
        }
        detail::im2row(m_exec, planar + i0 * m_h * m_w, n, m_h, m_w, o.in_channels, m_n * m_h * m_w, o.kernel, o.stride,
                       o.padding, m_oh, m_ow, cols, m_ld, features, n_features);
        m_policy.forward_rows(m_exec, cols, m_ld, y);
        return detail::add_bias(m_exec, y.data(), y.rows(), y.cols(), m_bias.value.data());
      }
    }
    detail::im2col(m_exec, x.data() + i0 * m_h * m_w * o.in_channels, n, m_h, m_w, o.in_channels, o.kernel, o.stride,
                   o.padding, m_oh, m_ow, cols);
    m_policy.forward(m_exec, const_column_map<S>(cols, K, M), y);
    detail::add_bias(m_exec, y.data(), y.rows(), y.cols(), m_bias.value.data());
  }

  conv2d_options m_options;
  Policy m_policy;
  Exec m_exec;
  parameter<S> m_bias;
  index_t m_n = -1, m_h = 0, m_w = 0, m_oh = 0, m_ow = 0;
  bool m_patch_major = false;     // the last forward built patch-major patches (PatchMajorPolicy)
  bool m_backward_ready = false;  // m_cols holds the last forward's patches
  index_t m_ld = 0;               // their row stride
  tensor<S> m_cols, m_col_grad, m_output, m_input_grad;
  tensor<S> m_chunk;    // one chunk's patches in predict
  tensor<S> m_scratch;  // channel-planar input of the patch-major path
  std::vector<S> m_bias_partials;
};

}  // namespace frugal::nn
