#pragma once
/// \file
/// Flattens every sample to a vector.

#include <string>
#include <vector>

#include "concepts.hpp"

namespace frugal::nn {

/// (n, d1, d2, ...) -> (n, d1·d2·...). With NHWC activations the flattened order is (h, w, c).
template <Scalar S>
class flatten {
 public:
  using scalar_type = S;

  const tensor<S>& forward(const tensor<S>& x) {
    m_input_shape.assign(x.extents().begin(), x.extents().end());
    const index_t n = x.extent(0);
    m_output.resize({n, n ? x.size() / n : 0});
    m_output.flat() = x.flat();
    return m_output;
  }

  const tensor<S>& backward(const tensor<S>& dy, bool need_input_grad = true) {
    check_extent("frugal::nn::flatten::backward", "gradient size", dy.size(), m_output.size());
    if (!need_input_grad) {
      m_input_grad.resize({0});
      return m_input_grad;
    }
    m_input_grad.resize(m_input_shape);
    m_input_grad.flat() = dy.flat();
    return m_input_grad;
  }

  void register_parameters(parameter_registry<S>&, const std::string&) {}
  void reset_parameters(rng&) {}

 private:
  std::vector<index_t> m_input_shape;
  tensor<S> m_output;
  tensor<S> m_input_grad;
};

}  // namespace frugal::nn
