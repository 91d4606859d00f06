#pragma once
/// \file
/// 2-D max pooling on NHWC activations.

#include <algorithm>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "../core/execution.hpp"
#include "concepts.hpp"
#include "conv2d.hpp"

namespace frugal::nn {

/// Max pooling with a square window, no padding: (n, h, w, c) -> (n, oh, ow, c). The gradient
/// flows to the first maximum of each window (PyTorch's tie rule).
template <Scalar S, HostExecutionSpace Exec = default_host_space>
class max_pool2d {
 public:
  using scalar_type = S;

  /// \param kernel window height and width
  /// \param stride step; 0 means equal to the kernel
  explicit max_pool2d(index_t kernel, index_t stride = 0, Exec exec = Exec{})
      : m_kernel(kernel), m_stride(stride == 0 ? kernel : stride), m_exec(std::move(exec)) {
    check(kernel > 0 && m_stride > 0, "frugal::nn::max_pool2d: kernel = ", kernel, " and stride = ", stride,
          " must be positive");
  }

  const tensor<S>& forward(const tensor<S>& x) {
    pool<true>("frugal::nn::max_pool2d::forward", x);
    m_backward_ready = true;
    return m_output;
  }

  /// Inference (`InferenceLayer`): the same output without recording where each maximum came from.
  const tensor<S>& predict(const tensor<S>& x) {
    pool<false>("frugal::nn::max_pool2d::predict", x);
    m_backward_ready = false;
    return m_output;
  }

  const tensor<S>& backward(const tensor<S>& dy, bool need_input_grad = true) {
    check(m_backward_ready, "frugal::nn::max_pool2d::backward: needs a forward first (predict keeps no state for it)");
    check_extent("frugal::nn::max_pool2d::backward", "gradient size", dy.size(), m_output.size());
    if (!need_input_grad) {
      m_input_grad.resize({0});
      return m_input_grad;
    }
    m_input_grad.resize({m_n, m_h, m_w, m_c});
    S* dx = m_input_grad.data();
    const S* g = dy.data();
    const index_t* arg = m_argmax.data();
    const index_t per_image_in = m_h * m_w * m_c, per_image_out = m_output.size() / (m_n ? m_n : 1);
    // Parallel over images: windows may overlap (stride < kernel) only within one image.
    parallel_for("frugal::nn::max_pool2d::backward", m_exec, m_n, [=](index_t img) {
      for (index_t t = 0; t < per_image_in; ++t) dx[img * per_image_in + t] = S(0);
      for (index_t t = img * per_image_out; t < (img + 1) * per_image_out; ++t) dx[arg[t]] += g[t];
    });
    return m_input_grad;
  }

  void register_parameters(parameter_registry<S>&, const std::string&) {}
  void reset_parameters(rng&) {}

 private:
  /// Pools `x` into m_output; with `Track`, also records each maximum's input index.
  template <bool Track>
  void pool(const char* where, const tensor<S>& x) {
    check(x.rank() == 4, where, ": input shape ", x.shape_string(), " must be rank 4 (n, h, w, c) NHWC");
    m_n = x.extent(0);
    m_h = x.extent(1);
    m_w = x.extent(2);
    m_c = x.extent(3);
    const index_t oh = detail::window_output_extent(where, m_h, m_kernel, m_stride, 0);
    const index_t ow = detail::window_output_extent(where, m_w, m_kernel, m_stride, 0);
    m_output.resize({m_n, oh, ow, m_c});
    if constexpr (Track) m_argmax.resize(static_cast<std::size_t>(m_output.size()));
    const S* in = x.data();
    S* out = m_output.data();
    index_t* arg = m_argmax.data();
    const index_t h = m_h, w = m_w, c = m_c, k = m_kernel, s = m_stride;
    if constexpr (!Track) {
      if (w * c <= separable_row) {
        // Separable: the k input rows' elementwise maximum (contiguous, vectorised), then the
        // maximum over each window's k columns of that. Same result as the windowed loop, NaN
        // included (a window's maximum is NaN exactly when its first element is).
        parallel_for(where, m_exec, m_n * oh, [=](index_t row) {
          const index_t img = row / oh, oy = row % oh;
          const S* top = in + (img * h + oy * s) * w * c;
          S r[separable_row];
          for (index_t j = 0; j < w * c; ++j) r[j] = top[j];
          for (index_t ky = 1; ky < k; ++ky) {
            const S* v = top + ky * w * c;
            for (index_t j = 0; j < w * c; ++j) r[j] = v[j] > r[j] ? v[j] : r[j];
          }
          S* o = out + row * ow * c;
          for (index_t ox = 0; ox < ow; ++ox)
            for (index_t ch = 0; ch < c; ++ch) {
              const S* v = r + ox * s * c + ch;
              S best = v[0];
              for (index_t kx = 1; kx < k; ++kx) best = v[kx * c] > best ? v[kx * c] : best;
              o[ox * c + ch] = best;
            }
        });
        return;
      }
    }
    parallel_for(where, m_exec, m_n * oh, [=](index_t row) {
      const index_t img = row / oh, oy = row % oh;
      const S* xi = in + img * h * w * c;
      for (index_t ox = 0; ox < ow; ++ox) {
        S* o = out + (row * ow + ox) * c;
        const index_t first = ((oy * s) * w + ox * s) * c;
        const S* win = xi + first;
        // One channel at a time, its maximum and the offset of its first occurrence in registers
        // (later window elements replace it only when strictly greater: PyTorch's tie rule; a NaN
        // start stays).
        for (index_t ch = 0; ch < c; ++ch) {
          S best = win[ch];
          index_t at = 0;
          for (index_t ky = 0; ky < k; ++ky)
            for (index_t kx = 0; kx < k; ++kx) {
              const index_t offset = (ky * w + kx) * c;
              const S v = win[offset + ch];
              if constexpr (Track) {
                if (v > best) {
                  best = v;
                  at = offset;
                }
              } else {
                best = v > best ? v : best;
              }
            }
          o[ch] = best;
          if constexpr (Track) arg[(row * ow + ox) * c + ch] = img * h * w * c + first + at + ch;
        }
      }
    });
  }

  static constexpr index_t separable_row = 4096;  // longest input row (w·c) predict pools separably

  index_t m_kernel, m_stride;
  Exec m_exec;
  index_t m_n = 0, m_h = 0, m_w = 0, m_c = 0;
  bool m_backward_ready = false;  // m_argmax belongs to the last forward
  tensor<S> m_output, m_input_grad;
  std::vector<index_t> m_argmax;
};

}  // namespace frugal::nn
