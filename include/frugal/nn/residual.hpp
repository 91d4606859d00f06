#pragma once
/// \file
/// A residual connection around any layer: y = x + f(x).

#include <string>
#include <utility>

#include "../core/error.hpp"
#include "../core/execution.hpp"
#include "../core/parallel.hpp"
#include "concepts.hpp"

namespace frugal::nn {

/// y = x + f(x) for a layer (or `chain`) `f` whose output has the input's shape (He et al. 2016).
/// Its parameters are f's, under "<prefix>.body".
template <Layer Body, HostExecutionSpace Exec = default_host_space>
class residual {
 public:
  using scalar_type = typename Body::scalar_type;
  using execution_space = Exec;

  explicit residual(Body body, Exec exec = Exec{}) : m_body(std::move(body)), m_exec(std::move(exec)) {}

  const tensor<scalar_type>& forward(const tensor<scalar_type>& x) {
    const tensor<scalar_type>& fx = m_body.forward(x);
    check(fx.size() == x.size() && fx.rank() == x.rank(), "frugal::nn::residual::forward: the body maps shape ",
          x.shape_string(), " to ", fx.shape_string(), "; a residual connection needs the same shape");
    m_output.resize_like(x);
    const scalar_type* a = x.data();
    const scalar_type* b = fx.data();
    scalar_type* y = m_output.data();
    parallel_for("frugal::nn::residual::forward", m_exec, x.size(), [=](index_t i) { y[i] = a[i] + b[i]; });
    return m_output;
  }

  /// dx = dy + f's input gradient; f's parameter gradients accumulate.
  const tensor<scalar_type>& backward(const tensor<scalar_type>& dy, bool need_input_grad = true) {
    check_extent("frugal::nn::residual::backward", "gradient size", dy.size(), m_output.size());
    const tensor<scalar_type>& dbody = m_body.backward(dy, need_input_grad);
    if (!need_input_grad) {
      m_input_grad.resize({0});
      return m_input_grad;
    }
    m_input_grad.resize_like(dy);
    const scalar_type* a = dy.data();
    const scalar_type* b = dbody.data();
    scalar_type* dx = m_input_grad.data();
    parallel_for("frugal::nn::residual::backward", m_exec, dy.size(), [=](index_t i) { dx[i] = a[i] + b[i]; });
    return m_input_grad;
  }

  void register_parameters(parameter_registry<scalar_type>& registry, const std::string& prefix) {
    m_body.register_parameters(registry, join_name(prefix, "body"));
  }
  void reset_parameters(rng& gen) { m_body.reset_parameters(gen); }

  [[nodiscard]] Body& body() noexcept { return m_body; }

 private:
  Body m_body;
  Exec m_exec;
  tensor<scalar_type> m_output, m_input_grad;
};

}  // namespace frugal::nn
