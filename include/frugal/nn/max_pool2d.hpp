#pragma once
/// \file
/// 2-D max pooling on NHWC activations.

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
    check(x.rank() == 4, "frugal::nn::max_pool2d::forward: input shape ", x.shape_string(),
          " must be rank 4 (n, h, w, c) NHWC");
    m_n = x.extent(0);
    m_h = x.extent(1);
    m_w = x.extent(2);
    m_c = x.extent(3);
    const index_t oh = detail::window_output_extent("frugal::nn::max_pool2d::forward", m_h, m_kernel, m_stride, 0);
    const index_t ow = detail::window_output_extent("frugal::nn::max_pool2d::forward", m_w, m_kernel, m_stride, 0);
    m_output.resize({m_n, oh, ow, m_c});
    m_argmax.resize(static_cast<std::size_t>(m_output.size()));
    const S* in = x.data();
    S* out = m_output.data();
    index_t* arg = m_argmax.data();
    const index_t h = m_h, w = m_w, c = m_c, k = m_kernel, s = m_stride;
    parallel_for("frugal::nn::max_pool2d::forward", m_exec, m_n * oh, [=](index_t row) {
      const index_t img = row / oh, oy = row % oh;
      const S* xi = in + img * h * w * c;
      for (index_t ox = 0; ox < ow; ++ox) {
        S* o = out + (row * ow + ox) * c;
        index_t* a = arg + (row * ow + ox) * c;
        // The window's first element starts the maximum; later ones replace it only when strictly
        // greater (first maximum wins; a NaN start stays). Branch-free so the channel loop
        // vectorises.
        const index_t base = img * h * w * c, first = ((oy * s) * w + ox * s) * c;
        for (index_t ch = 0; ch < c; ++ch) {
          o[ch] = xi[first + ch];
          a[ch] = base + first + ch;
        }
        for (index_t ky = 0; ky < k; ++ky)
          for (index_t kx = 0; kx < k; ++kx) {
            if (ky == 0 && kx == 0) continue;
            const index_t offset = ((oy * s + ky) * w + (ox * s + kx)) * c;
            for (index_t ch = 0; ch < c; ++ch) {
              const S v = xi[offset + ch];
              const bool take = v > o[ch];
              o[ch] = take ? v : o[ch];
              a[ch] = take ? base + offset + ch : a[ch];
            }
          }
      }
    });
    return m_output;
  }

  const tensor<S>& backward(const tensor<S>& dy, bool need_input_grad = true) {
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
  index_t m_kernel, m_stride;
  Exec m_exec;
  index_t m_n = 0, m_h = 0, m_w = 0, m_c = 0;
  tensor<S> m_output, m_input_grad;
  std::vector<index_t> m_argmax;
};

}  // namespace frugal::nn
