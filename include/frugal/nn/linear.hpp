#pragma once
/// \file
/// Fully connected layer y = x Wᵀ + b over a pluggable weight policy.

#include <cmath>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "../core/execution.hpp"
#include "concepts.hpp"
#include "dense_weight.hpp"
#include "detail/bias.hpp"

namespace frugal::nn {

/// Fully connected layer. Input (n, in_features), output (n, out_features).
/// \tparam S float or double
/// \tparam Policy how the weight is stored and multiplied (`dense_weight` by default)
/// \tparam Exec the host execution space its products and bias kernels run on
/// Parameters: the policy's (`weight` for dense) and `bias` (1 x out_features).
template <Scalar S, class Policy = dense_weight<S>, HostExecutionSpace Exec = default_host_space>
requires WeightPolicyFor<Policy, Exec> && std::is_same_v<typename Policy::scalar_type, S>
class linear {
 public:
  using scalar_type = S;
  using policy_type = Policy;
  using execution_space = Exec;

  /// A layer with a policy built as `Policy(out_features, in_features)`.
  linear(index_t in_features, index_t out_features,
         Exec exec = Exec{}) requires std::is_constructible_v<Policy, index_t, index_t>
      : linear(Policy(out_features, in_features), std::move(exec)) {}

  /// A layer whose policy `make_policy(out_features, in_features)` builds (`WeightFactory`), so
  /// generic code makes a layer of any policy from its widths.
  template <class F>
  requires(!std::is_convertible_v<F, Exec>) && std::is_invocable_r_v<Policy, F&, index_t, index_t> linear(
                                                   index_t in_features, index_t out_features, F&& make_policy,
                                                   Exec exec = Exec{})
      : linear(built(make_policy, out_features, in_features), std::move(exec)) {}

  /// A layer around an existing policy (a sparse or circulant weight with its own options).
  explicit linear(Policy policy, Exec exec = Exec{}) : m_policy(std::move(policy)), m_exec(std::move(exec)) {
    m_bias.resize(1, m_policy.out_features());
  }

  [[nodiscard]] index_t in_features() const noexcept { return m_policy.in_features(); }
  [[nodiscard]] index_t out_features() const noexcept { return m_policy.out_features(); }

  const tensor<S>& forward(const tensor<S>& x) {
    check(x.rank() == 2, "frugal::nn::linear::forward: input rank is ", x.rank(), " (shape ", x.shape_string(),
          "), expected 2; insert a flatten layer");
    check_extent("frugal::nn::linear::forward", "input features", x.extent(1), in_features());
    const index_t n = x.extent(0);
    m_input = &x;
    m_output.resize({n, out_features()});
    column_map<S> y(m_output.data(), out_features(), n);
    m_policy.forward(m_exec, const_column_map<S>(x.data(), in_features(), n), y);
    detail::add_bias(m_exec, y.data(), out_features(), n, m_bias.value.data());
    return m_output;
  }

  /// What `backward` reads of one `forward` call: with one per call in flight (a pipeline's
  /// chunks), several forwards can precede their backwards. The input must outlive the state.
  struct forward_state {
    const tensor<S>* input = nullptr;
    [[nodiscard]] std::size_t bytes() const noexcept { return 0; }
  };

  /// `forward(x)`, its record in `s`, not in the layer. The result is the layer's buffer, which
  /// the next forward overwrites.
  const tensor<S>& forward(const tensor<S>& x, forward_state& s) {
    const tensor<S>& y = forward(x);
    s.input = std::exchange(m_input, nullptr);
    return y;
  }

  /// `backward(dy)` of the forward recorded in `s`.
  const tensor<S>& backward(const tensor<S>& dy, const forward_state& s, bool need_input_grad = true) {
    check(s.input != nullptr, "frugal::nn::linear::backward: the forward state is empty");
    const tensor<S>* saved = std::exchange(m_input, s.input);
    const tensor<S>& dx = backward(dy, need_input_grad);
    m_input = saved;
    return dx;
  }

  const tensor<S>& backward(const tensor<S>& dy, bool need_input_grad = true) {
    check(m_input != nullptr, "frugal::nn::linear::backward: called before forward");
    const index_t n = m_input->extent(0);
    check_extent("frugal::nn::linear::backward", "output gradient size", dy.size(), n * out_features());
    const_column_map<S> dyc(dy.data(), out_features(), n);
    detail::accumulate_bias_gradient(m_exec, dy.data(), out_features(), n, m_bias.grad.data(), m_bias_partials);
    if (need_input_grad) {
      m_input_grad.resize_like(*m_input);
      column_map<S> dx(m_input_grad.data(), in_features(), n);
      m_policy.backward(m_exec, const_column_map<S>(m_input->data(), in_features(), n), dyc, &dx);
    } else {
      m_input_grad.resize({0});
      m_policy.backward(m_exec, const_column_map<S>(m_input->data(), in_features(), n), dyc, nullptr);
    }
    return m_input_grad;
  }

  void register_parameters(parameter_registry<S>& registry, const std::string& prefix) {
    m_policy.register_parameters(registry, prefix);
    registry.add(join_name(prefix, "bias"), m_bias);
  }

  /// PyTorch's default: weight and bias uniform in ±1/sqrt(in_features).
  void reset_parameters(rng& gen) {
    const S bound = S(1) / std::sqrt(static_cast<S>(in_features()));
    m_policy.reset_parameters(gen, bound);
    for (index_t i = 0; i < m_bias.value.size(); ++i)
      m_bias.value.data()[i] = static_cast<S>(gen.uniform(-bound, bound));
  }

  [[nodiscard]] Policy& policy() noexcept { return m_policy; }
  [[nodiscard]] const Policy& policy() const noexcept { return m_policy; }
  [[nodiscard]] parameter<S>& bias() noexcept { return m_bias; }
  [[nodiscard]] const Exec& space() const noexcept { return m_exec; }

 private:
  template <class F>
  static Policy built(F& make_policy, index_t out_features, index_t in_features) {
    Policy p = make_policy(out_features, in_features);
    check(p.out_features() == out_features && p.in_features() == in_features,
          "frugal::nn::linear: the weight factory built a ", p.out_features(), "x", p.in_features(),
          " policy, asked for ", out_features, "x", in_features);
    return p;
  }

  Policy m_policy;
  Exec m_exec;
  parameter<S> m_bias;
  std::vector<S> m_bias_partials;
  const tensor<S>* m_input = nullptr;
  tensor<S> m_output;
  tensor<S> m_input_grad;
};

}  // namespace frugal::nn
