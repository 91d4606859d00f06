#pragma once
/// \file
/// A normalised propagation matrix and its transpose, shared by every GNN layer over one graph.

#include <memory>
#include <utility>

#include "../core/error.hpp"
#include "../core/execution.hpp"
#include "../nn/tensor.hpp"
#include "csr_graph.hpp"
#include "spmm.hpp"

namespace frugal::graph {

/// The operator a GNN layer aggregates with, Â, and the transpose its backward pass needs. When
/// Â is symmetric (GCN's D^{-1/2}(A + I)D^{-1/2} of an undirected graph) the transpose is Â
/// itself and is not stored twice. Layers hold it through a `std::shared_ptr` so that a deep
/// model keeps one copy of the graph.
template <Scalar S>
class aggregation {
 public:
  using scalar_type = S;

  /// Â = `a` (already normalised as the layer needs).
  explicit aggregation(csr_graph<S> a) : m_forward(std::move(a)) {
    m_symmetric = m_forward.is_symmetric();
    if (!m_symmetric) m_transpose = m_forward.transposed();
  }

  /// The adjacency of `graph` with self loops added where asked, normalised by `how`.
  [[nodiscard]] static std::shared_ptr<const aggregation> of(const csr_graph<S>& graph, normalization how) {
    return std::make_shared<const aggregation>(graph.normalized(how));
  }

  [[nodiscard]] index_t num_nodes() const noexcept { return m_forward.num_nodes(); }
  [[nodiscard]] const csr_graph<S>& matrix() const noexcept { return m_forward; }
  [[nodiscard]] const csr_graph<S>& transpose() const noexcept { return m_symmetric ? m_forward : m_transpose; }
  [[nodiscard]] bool symmetric() const noexcept { return m_symmetric; }

  /// y = Â x for row-major (n, f) tensors; y is resized.
  template <HostExecutionSpace Exec>
  void apply(const Exec& exec, const nn::tensor<S>& x, nn::tensor<S>& y) const {
    product(exec, m_forward, x, y, "frugal::graph::aggregation::apply");
  }
  /// y = Âᵀ x.
  template <HostExecutionSpace Exec>
  void apply_transpose(const Exec& exec, const nn::tensor<S>& x, nn::tensor<S>& y) const {
    product(exec, transpose(), x, y, "frugal::graph::aggregation::apply_transpose");
  }

 private:
  template <HostExecutionSpace Exec>
  static void product(const Exec& exec, const csr_graph<S>& a, const nn::tensor<S>& x, nn::tensor<S>& y,
                      const char* where) {
    check(x.rank() == 2, where, ": input shape ", x.shape_string(), " must be (nodes, features)");
    check_extent(where, "input rows vs graph nodes", x.extent(0), a.num_nodes());
    y.resize({x.extent(0), x.extent(1)});
    spmm(exec, a, features_view<const S>(x.data(), x.extent(0), x.extent(1)),
         features_view<S>(y.data(), y.extent(0), y.extent(1)));
  }

  csr_graph<S> m_forward;
  csr_graph<S> m_transpose;
  bool m_symmetric = false;
};

}  // namespace frugal::graph
