#pragma once
/// \file
/// GraphSAGE with the mean aggregator (Hamilton, Ying and Leskovec 2017), full-graph form:
/// Y = X W_selfᵀ + (M X) W_neighᵀ + b, with M the row-normalised adjacency (no self loops).

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "../core/error.hpp"
#include "../core/execution.hpp"
#include "../core/parallel.hpp"
#include "../nn/concepts.hpp"
#include "../nn/dense_weight.hpp"
#include "../nn/linear.hpp"
#include "aggregation.hpp"

namespace frugal::graph {

/// A GraphSAGE-mean layer. Keeping a node's own feature on a separate weight (rather than in
/// the average) is what lets deep SAGE models tell a node from its neighbourhood. Parameters:
/// `self.weight`, `self.bias`, `neighbour.weight` (names follow the policy's).
template <Scalar S, class Policy = nn::dense_weight<S>, HostExecutionSpace Exec = default_host_space>
requires nn::WeightPolicyFor<Policy, Exec> && std::is_constructible_v<Policy, index_t, index_t>
class sage_mean {
 public:
  using scalar_type = S;
  using execution_space = Exec;

  /// A layer over `m` (build it with `aggregation<S>::of(graph, normalization::mean)` from a graph
  /// without self loops).
  sage_mean(std::shared_ptr<const aggregation<S>> m, index_t in_features, index_t out_features, Exec exec = Exec{})
      : m_graph(std::move(m)),
        m_self(in_features, out_features, exec),
        m_neighbour(out_features, in_features),
        m_exec(std::move(exec)) {
    check(m_graph != nullptr, "frugal::graph::sage_mean: the aggregation is null");
  }

  const nn::tensor<S>& forward(const nn::tensor<S>& x) {
    m_graph->apply(m_exec, x, m_mean);
    const nn::tensor<S>& own = m_self.forward(x);
    const index_t n = x.extent(0), out = out_features();
    m_output.resize({n, out});
    m_neighbour.forward(m_exec, nn::const_column_map<S>(m_mean.data(), in_features(), n),
                        nn::column_map<S>(m_output.data(), out, n));
    add_into(m_output, own);
    return m_output;
  }

  /// dX = dY W_self + Mᵀ (dY W_neigh); the three parameter gradients accumulate.
  const nn::tensor<S>& backward(const nn::tensor<S>& dy, bool need_input_grad = true) {
    check(m_mean.size() > 0, "frugal::graph::sage_mean::backward: called before forward");
    const index_t n = m_mean.extent(0);
    check_extent("frugal::graph::sage_mean::backward", "output gradient size", dy.size(), n * out_features());
    const nn::tensor<S>& dx_self = m_self.backward(dy, need_input_grad);
    const nn::const_column_map<S> dyc(dy.data(), out_features(), n);
    const nn::const_column_map<S> mean(m_mean.data(), in_features(), n);
    if (!need_input_grad) {
      m_neighbour.backward(m_exec, mean, dyc, nullptr);
      m_input_grad.resize({0});
      return m_input_grad;
    }
    m_mean_grad.resize({n, in_features()});
    nn::column_map<S> dmean(m_mean_grad.data(), in_features(), n);
    m_neighbour.backward(m_exec, mean, dyc, &dmean);
    m_graph->apply_transpose(m_exec, m_mean_grad, m_input_grad);
    add_into(m_input_grad, dx_self);
    return m_input_grad;
  }

  void register_parameters(nn::parameter_registry<S>& registry, const std::string& prefix) {
    m_self.register_parameters(registry, nn::join_name(prefix, "self"));
    m_neighbour.register_parameters(registry, nn::join_name(prefix, "neighbour"));
  }

  /// PyTorch's rule for both weights: uniform in ±1/sqrt(in_features).
  void reset_parameters(rng& gen) {
    m_self.reset_parameters(gen);
    m_neighbour.reset_parameters(gen, S(1) / std::sqrt(static_cast<S>(in_features())));
  }

  [[nodiscard]] index_t in_features() const noexcept { return m_self.in_features(); }
  [[nodiscard]] index_t out_features() const noexcept { return m_self.out_features(); }

 private:
  void add_into(nn::tensor<S>& y, const nn::tensor<S>& a) const {
    S* yd = y.data();
    const S* ad = a.data();
    parallel_for("frugal::graph::sage_mean::add", m_exec, y.size(), [=](index_t i) { yd[i] += ad[i]; });
  }

  std::shared_ptr<const aggregation<S>> m_graph;
  nn::linear<S, Policy, Exec> m_self;
  Policy m_neighbour;
  Exec m_exec;
  nn::tensor<S> m_mean, m_output, m_mean_grad, m_input_grad;
};

}  // namespace frugal::graph
