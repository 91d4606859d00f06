#pragma once
/// \file
/// Flattens every sample to a vector.

#include <algorithm>
#include <string>
#include <vector>

#include "../core/execution.hpp"
#include "../core/parallel.hpp"
#include "concepts.hpp"

namespace frugal::nn {

/// (n, d1, d2, ...) -> (n, d1·d2·...). With NHWC activations the flattened order is (h, w, c).
/// The copies run in parallel on `Exec`.
template <Scalar S, HostExecutionSpace Exec = default_host_space>
class flatten {
 public:
  using scalar_type = S;
  using execution_space = Exec;

  explicit flatten(Exec exec = Exec{}) : m_exec(std::move(exec)) {}

  const tensor<S>& forward(const tensor<S>& x) {
    m_input_shape.assign(x.extents().begin(), x.extents().end());
    const index_t n = x.extent(0);
    m_output.resize({n, n ? x.size() / n : 0});
    copy(x.data(), x.size(), m_output.data());
    return m_output;
  }

  const tensor<S>& backward(const tensor<S>& dy, bool need_input_grad = true) {
    check_extent("frugal::nn::flatten::backward", "gradient size", dy.size(), m_output.size());
    if (!need_input_grad) {
      m_input_grad.resize({0});
      return m_input_grad;
    }
    m_input_grad.resize(m_input_shape);
    copy(dy.data(), dy.size(), m_input_grad.data());
    return m_input_grad;
  }

  void register_parameters(parameter_registry<S>&, const std::string&) {}
  void reset_parameters(rng&) {}

 private:
  void copy(const S* from, index_t n, S* to) const {
    parallel_for_chunks("frugal::nn::flatten::copy", m_exec, n, grain_for(1, index_t{1} << 16),
                        [=](index_t b, index_t e) { std::copy(from + b, from + e, to + b); });
  }

  Exec m_exec;
  std::vector<index_t> m_input_shape;
  tensor<S> m_output;
  tensor<S> m_input_grad;
};

}  // namespace frugal::nn
