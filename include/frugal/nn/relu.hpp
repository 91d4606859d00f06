#pragma once
/// \file
/// Rectified linear unit.

#include <cstddef>
#include <string>
#include <utility>

#include "../core/execution.hpp"
#include "concepts.hpp"

namespace frugal::nn {

/// y = max(x, 0) elementwise, any shape. Kernels run on `Exec` (a host space).
template <Scalar S, HostExecutionSpace Exec = default_host_space>
class relu {
 public:
  using scalar_type = S;

  explicit relu(Exec exec = Exec{}) : m_exec(std::move(exec)) {}

  const tensor<S>& forward(const tensor<S>& x) {
    m_output.resize_like(x);
    const S* in = x.data();
    S* out = m_output.data();
    parallel_for("frugal::nn::relu::forward", m_exec, x.size(),
                 [=](index_t i) { out[i] = in[i] > S(0) ? in[i] : S(0); });
    return m_output;
  }

  /// What `backward` reads of one `forward` call (its output): with one per call in flight,
  /// several forwards can precede their backwards.
  struct forward_state {
    tensor<S> output;
    [[nodiscard]] std::size_t bytes() const noexcept { return static_cast<std::size_t>(output.size()) * sizeof(S); }
  };

  /// `forward(x)` with its record in `s`; the result lives in `s`.
  const tensor<S>& forward(const tensor<S>& x, forward_state& s) {
    std::swap(m_output, s.output);  // reuse the state's buffer
    forward(x);
    std::swap(m_output, s.output);
    return s.output;
  }

  /// `backward(dy)` of the forward recorded in `s`.
  const tensor<S>& backward(const tensor<S>& dy, forward_state& s, bool need_input_grad = true) {
    std::swap(m_output, s.output);
    try {
      backward(dy, need_input_grad);
    } catch (...) {
      std::swap(m_output, s.output);
      throw;
    }
    std::swap(m_output, s.output);
    return m_input_grad;
  }

  const tensor<S>& backward(const tensor<S>& dy, bool need_input_grad = true) {
    check_extent("frugal::nn::relu::backward", "gradient size", dy.size(), m_output.size());
    if (!need_input_grad) {
      m_input_grad.resize({0});
      return m_input_grad;
    }
    m_input_grad.resize_like(m_output);
    const S* y = m_output.data();
    const S* g = dy.data();
    S* dx = m_input_grad.data();
    parallel_for("frugal::nn::relu::backward", m_exec, dy.size(),
                 [=](index_t i) { dx[i] = y[i] > S(0) ? g[i] : S(0); });
    return m_input_grad;
  }

  void register_parameters(parameter_registry<S>&, const std::string&) {}
  void reset_parameters(rng&) {}

 private:
  Exec m_exec;
  tensor<S> m_output;
  tensor<S> m_input_grad;
};

}  // namespace frugal::nn
