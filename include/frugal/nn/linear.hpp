#pragma once
/// \file
/// Fully connected layer y = x Wᵀ + b over a pluggable weight policy.

#include <cmath>
#include <string>
#include <utility>

#include "../core/execution.hpp"
#include "concepts.hpp"
#include "dense_weight.hpp"

namespace frugal::nn {

/// Fully connected layer. Input (n, in_features), output (n, out_features).
/// \tparam S float or double
/// \tparam Policy how the weight is stored and multiplied (`dense_weight` by default)
/// Parameters: the policy's (`weight` for dense) and `bias` (1 x out_features).
template <Scalar S, WeightPolicy Policy = dense_weight<S>>
requires std::is_same_v<typename Policy::scalar_type, S>
class linear {
 public:
  using scalar_type = S;
  using policy_type = Policy;

  /// A layer with a policy built as `Policy(out_features, in_features)`.
  linear(index_t in_features, index_t out_features) requires std::is_constructible_v<Policy, index_t, index_t>
      : linear(Policy(out_features, in_features)) {}

  /// A layer around an existing policy (a sparse or circulant weight with its own options).
  explicit linear(Policy policy) : m_policy(std::move(policy)) { m_bias.resize(1, m_policy.out_features()); }

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
    m_policy.forward(const_column_map<S>(x.data(), in_features(), n), y);
    y.colwise() += m_bias.value.row(0).transpose();
    return m_output;
  }

  const tensor<S>& backward(const tensor<S>& dy, bool need_input_grad = true) {
    check(m_input != nullptr, "frugal::nn::linear::backward: called before forward");
    const index_t n = m_input->extent(0);
    check_extent("frugal::nn::linear::backward", "output gradient size", dy.size(), n * out_features());
    const_column_map<S> dyc(dy.data(), out_features(), n);
    m_bias.grad.row(0).transpose() += dyc.rowwise().sum();
    if (need_input_grad) {
      m_input_grad.resize_like(*m_input);
      column_map<S> dx(m_input_grad.data(), in_features(), n);
      m_policy.backward(const_column_map<S>(m_input->data(), in_features(), n), dyc, &dx);
    } else {
      m_input_grad.resize({0});
      m_policy.backward(const_column_map<S>(m_input->data(), in_features(), n), dyc, nullptr);
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

 private:
  Policy m_policy;
  parameter<S> m_bias;
  const tensor<S>* m_input = nullptr;
  tensor<S> m_output;
  tensor<S> m_input_grad;
};

}  // namespace frugal::nn
