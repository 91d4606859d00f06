#pragma once
/// \file
/// Node classification over a subset of nodes: the loss and accuracy of full-graph training,
/// where the model sees every node but only the training nodes' labels count.

#include <algorithm>
#include <array>
#include <cstdint>
#include <span>
#include <vector>

#include "../core/error.hpp"
#include "../core/execution.hpp"
#include "../nn/loss.hpp"
#include "../nn/tensor.hpp"

namespace frugal::graph {

namespace detail {
inline void check_nodes(const char* where, std::span<const index_t> nodes, index_t n) {
  check(!nodes.empty(), where, ": the node set is empty");
  for (std::size_t k = 0; k < nodes.size(); ++k)
    check(nodes[k] >= 0 && nodes[k] < n, where, ": node ", k, " of the set is ", nodes[k], ", outside [0, ", n, ")");
}
}  // namespace detail

/// Mean softmax cross-entropy over the rows `nodes` of (n, classes) logits, with `labels` holding
/// one label per node of the graph. `backward` returns an (n, classes) gradient that is zero on
/// every other row, so the model's backward runs over the whole graph unchanged.
template <Scalar S, HostExecutionSpace Exec = default_host_space>
class masked_cross_entropy {
 public:
  using scalar_type = S;

  explicit masked_cross_entropy(Exec exec = Exec{}) : m_loss(exec) {}

  S forward(const nn::tensor<S>& logits, std::span<const std::int32_t> labels, std::span<const index_t> nodes) {
    constexpr auto where = "frugal::graph::masked_cross_entropy::forward";
    check(logits.rank() == 2, where, ": logits shape ", logits.shape_string(), " must be (nodes, classes)");
    const index_t n = logits.extent(0), c = logits.extent(1);
    check_extent(where, "labels vs nodes", static_cast<index_t>(labels.size()), n);
    detail::check_nodes(where, nodes, n);
    m_nodes.assign(nodes.begin(), nodes.end());
    m_rows.resize({static_cast<index_t>(nodes.size()), c});
    m_labels.resize(nodes.size());
    for (std::size_t k = 0; k < nodes.size(); ++k) {
      std::copy_n(logits.data() + nodes[k] * c, c, m_rows.data() + static_cast<index_t>(k) * c);
      m_labels[k] = labels[static_cast<std::size_t>(nodes[k])];
    }
    m_shape = {n, c};
    return m_loss.forward(m_rows, m_labels);
  }

  const nn::tensor<S>& backward() {
    const nn::tensor<S>& g = m_loss.backward();
    const index_t c = m_shape[1];
    m_grad.resize({m_shape[0], c});
    m_grad.set_zero();
    // A node listed twice counts twice, as it would in a batch.
    for (std::size_t k = 0; k < m_nodes.size(); ++k)
      for (index_t j = 0; j < c; ++j) m_grad.data()[m_nodes[k] * c + j] += g.data()[static_cast<index_t>(k) * c + j];
    return m_grad;
  }

 private:
  nn::softmax_cross_entropy<S, Exec> m_loss;
  nn::tensor<S> m_rows, m_grad;
  std::vector<std::int32_t> m_labels;
  std::vector<index_t> m_nodes;
  std::array<index_t, 2> m_shape{};
};

/// Fraction of `nodes` whose arg-max logit equals their label.
template <Scalar S>
[[nodiscard]] double masked_accuracy(const nn::tensor<S>& logits, std::span<const std::int32_t> labels,
                                     std::span<const index_t> nodes) {
  constexpr auto where = "frugal::graph::masked_accuracy";
  check(logits.rank() == 2, where, ": logits shape ", logits.shape_string(), " must be (nodes, classes)");
  const index_t n = logits.extent(0), c = logits.extent(1);
  check_extent(where, "labels vs nodes", static_cast<index_t>(labels.size()), n);
  detail::check_nodes(where, nodes, n);
  index_t correct = 0;
  for (index_t i : nodes) {
    const S* row = logits.data() + i * c;
    correct += (std::max_element(row, row + c) - row) == labels[static_cast<std::size_t>(i)];
  }
  return static_cast<double>(correct) / static_cast<double>(nodes.size());
}

}  // namespace frugal::graph
