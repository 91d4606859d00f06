#pragma once
/// \file
/// Graph convolution (Kipf and Welling 2017): Y = Â X Wᵀ + b over any weight policy.

#include <memory>
#include <string>
#include <utility>

#include "../core/error.hpp"
#include "../core/execution.hpp"
#include "../nn/concepts.hpp"
#include "../nn/dense_weight.hpp"
#include "../nn/linear.hpp"
#include "aggregation.hpp"

namespace frugal::graph {

/// A GCN layer: aggregate each node's neighbourhood with Â, then a linear map. Input
/// (nodes, in_features), output (nodes, out_features). Aggregating first keeps the bias outside
/// Â (the usual Â X W + b); its cost is an SpMM over in_features.
///
/// An `nn::Layer`, so it goes into `nn::chain`, `nn::residual` and the training loops like any
/// other layer. Parameters: the policy's (`weight` for dense) and `bias`.
/// \tparam Policy how W is stored (`nn::dense_weight`, a BCR or block-circulant policy)
template <Scalar S, class Policy = nn::dense_weight<S>, HostExecutionSpace Exec = default_host_space>
requires nn::WeightPolicyFor<Policy, Exec>
class gcn {
 public:
  using scalar_type = S;
  using execution_space = Exec;

  /// A layer over `a` (build it with `aggregation<S>::of(graph, normalization::symmetric)` from a
  /// graph with self loops for Kipf and Welling's Â).
  gcn(std::shared_ptr<const aggregation<S>> a, index_t in_features, index_t out_features,
      Exec exec = Exec{}) requires std::is_constructible_v<Policy, index_t, index_t>
      : m_graph(checked(std::move(a))), m_linear(in_features, out_features, exec), m_exec(std::move(exec)) {}

  /// A layer whose weight `make_policy(out, in)` builds (`nn::WeightFactory`).
  template <class F>
  requires std::is_invocable_r_v<Policy, F&, index_t, index_t> gcn(std::shared_ptr<const aggregation<S>> a,
                                                                   index_t in_features, index_t out_features,
                                                                   F&& make_policy, Exec exec = Exec{})
      : m_graph(checked(std::move(a))),
        m_linear(in_features, out_features, make_policy, exec),
        m_exec(std::move(exec)) {}

  const nn::tensor<S>& forward(const nn::tensor<S>& x) {
    m_graph->apply(m_exec, x, m_aggregated);
    return m_linear.forward(m_aggregated);
  }

  /// dX = Âᵀ (dY W); the weight and bias gradients accumulate.
  const nn::tensor<S>& backward(const nn::tensor<S>& dy, bool need_input_grad = true) {
    const nn::tensor<S>& da = m_linear.backward(dy, need_input_grad);
    if (!need_input_grad) {
      m_input_grad.resize({0});
      return m_input_grad;
    }
    m_graph->apply_transpose(m_exec, da, m_input_grad);
    return m_input_grad;
  }

  void register_parameters(nn::parameter_registry<S>& registry, const std::string& prefix) {
    m_linear.register_parameters(registry, prefix);
  }
  void reset_parameters(rng& gen) { m_linear.reset_parameters(gen); }

  [[nodiscard]] index_t in_features() const noexcept { return m_linear.in_features(); }
  [[nodiscard]] index_t out_features() const noexcept { return m_linear.out_features(); }
  [[nodiscard]] nn::linear<S, Policy, Exec>& linear() noexcept { return m_linear; }
  [[nodiscard]] const aggregation<S>& graph() const noexcept { return *m_graph; }

 private:
  static std::shared_ptr<const aggregation<S>> checked(std::shared_ptr<const aggregation<S>> a) {
    check(a != nullptr, "frugal::graph::gcn: the aggregation is null");
    return a;
  }

  std::shared_ptr<const aggregation<S>> m_graph;
  nn::linear<S, Policy, Exec> m_linear;
  Exec m_exec;
  nn::tensor<S> m_aggregated;
  nn::tensor<S> m_input_grad;
};

}  // namespace frugal::graph
