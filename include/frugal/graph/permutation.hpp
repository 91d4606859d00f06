#pragma once
/// \file
/// Renumbering nodes so that each part of a partition is a contiguous id range: GNNPipe's chunk c
/// becomes rows [offsets[c], offsets[c+1]) of the graph, the features and the labels, so a stage
/// works on a slice instead of a gather. The graph, per-node arrays, node-id lists and whole
/// datasets are renumbered by the same `node_permutation`.

#include <algorithm>
#include <cstdint>
#include <vector>

#include "../core/error.hpp"
#include "../core/execution.hpp"
#include "../core/scalar.hpp"
#include "../nn/tensor.hpp"
#include "csr_graph.hpp"
#include "node_dataset.hpp"
#include "partition.hpp"

namespace frugal::graph {

/// A bijection of node ids, old → new, with the part ranges it makes contiguous.
struct node_permutation {
  std::vector<std::int32_t> new_id;  ///< new_id[old]
  std::vector<std::int32_t> old_id;  ///< old_id[new]: the inverse
  /// parts + 1 offsets: part p's nodes have the new ids [offsets[p], offsets[p+1]).
  std::vector<index_t> offsets;

  [[nodiscard]] index_t num_nodes() const noexcept { return static_cast<index_t>(new_id.size()); }
  [[nodiscard]] std::int32_t parts() const noexcept {
    return offsets.empty() ? 0 : static_cast<std::int32_t>(offsets.size() - 1);
  }
};

/// The permutation that lists part 0's nodes first, then part 1's, and so on, each part's nodes
/// in ascending old id (new id = position in that list). Stable: within a part the relative
/// order is kept. O(n).
/// \throws invalid_argument when `p` is not a valid partition
[[nodiscard]] inline node_permutation contiguous_order(const partition& p) {
  p.validate("frugal::graph::contiguous_order", p.num_nodes());
  const auto n = static_cast<std::size_t>(p.num_nodes());
  node_permutation perm;
  perm.offsets.assign(static_cast<std::size_t>(p.parts) + 1, 0);
  for (std::int32_t part : p.part_of) ++perm.offsets[static_cast<std::size_t>(part) + 1];
  for (std::size_t q = 0; q < static_cast<std::size_t>(p.parts); ++q) perm.offsets[q + 1] += perm.offsets[q];
  std::vector<index_t> next(perm.offsets.begin(), perm.offsets.end() - 1);
  perm.new_id.resize(n);
  perm.old_id.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    const auto at = static_cast<std::int32_t>(next[static_cast<std::size_t>(p.part_of[i])]++);
    perm.new_id[i] = at;
    perm.old_id[static_cast<std::size_t>(at)] = static_cast<std::int32_t>(i);
  }
  return perm;
}

namespace detail {

/// Throws unless `perm` is a bijection of [0, n) with `old_id` the inverse of `new_id`.
inline void check_permutation(const char* where, const node_permutation& perm, index_t n) {
  check_extent(where, "permutation nodes vs nodes", perm.num_nodes(), n);
  check_extent(where, "inverse permutation length", static_cast<index_t>(perm.old_id.size()), n);
  for (std::size_t r = 0; r < perm.old_id.size(); ++r) {
    const std::int32_t old = perm.old_id[r];
    check(old >= 0 && old < n && perm.new_id[static_cast<std::size_t>(old)] == static_cast<std::int32_t>(r), where,
          ": not a permutation: old_id[", r, "] = ", old, ", outside [0, ", n, ") or with new_id[", old, "] ≠ ", r);
  }
}

}  // namespace detail

/// B = P A Pᵀ: b_{π(i) π(j)} = a_ij with π = `perm.new_id`, so (B x')_{π(i)} = (A x)_i when
/// x'_{π(j)} = x_j. Values are carried over; columns stay sorted within each row. O(E log d).
/// \throws shape_error when the permutation has another node count
template <Scalar S>
[[nodiscard]] csr_graph<S> permuted(const csr_graph<S>& g, const node_permutation& perm) {
  detail::check_permutation("frugal::graph::permuted", perm, g.num_nodes());
  using graph_type = csr_graph<S>;
  const auto n = static_cast<std::size_t>(g.num_nodes());
  typename graph_type::row_map_type row_map(Kokkos::view_alloc(Kokkos::WithoutInitializing, "frugal::graph::row_map"),
                                            n + 1);
  typename graph_type::entries_type entries(Kokkos::view_alloc(Kokkos::WithoutInitializing, "frugal::graph::entries"),
                                            g.num_entries());
  typename graph_type::values_type values(Kokkos::view_alloc(Kokkos::WithoutInitializing, "frugal::graph::values"),
                                          g.num_entries());
  row_map(0) = 0;
  for (std::size_t r = 0; r < n; ++r) row_map(r + 1) = row_map(r) + g.degree(perm.old_id[r]);
  std::vector<std::pair<std::int32_t, S>> row;
  for (std::size_t r = 0; r < n; ++r) {
    const index_t old = perm.old_id[r];
    row.clear();
    for (index_t k = g.row_map()(old); k < g.row_map()(old + 1); ++k)
      row.emplace_back(perm.new_id[static_cast<std::size_t>(g.entries()(k))], g.values()(k));
    std::sort(row.begin(), row.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    for (std::size_t t = 0; t < row.size(); ++t) {
      entries(row_map(r) + static_cast<index_t>(t)) = row[t].first;
      values(row_map(r) + static_cast<index_t>(t)) = row[t].second;
    }
  }
  return graph_type(g.num_nodes(), row_map, entries, values);
}

/// Per-node values (labels, masks, degrees) in the new numbering: out[π(i)] = v[i].
/// \throws shape_error when `v` has another length than the permutation
template <class T>
[[nodiscard]] std::vector<T> permuted_rows(const std::vector<T>& v, const node_permutation& perm) {
  detail::check_permutation("frugal::graph::permuted_rows", perm, static_cast<index_t>(v.size()));
  std::vector<T> out(v.size());
  for (std::size_t i = 0; i < v.size(); ++i) out[static_cast<std::size_t>(perm.new_id[i])] = v[i];
  return out;
}

/// A tensor whose first extent is the node count (features, embeddings, gradients), rows moved
/// to the new numbering: row π(i) of the result is row i of `x`. Other extents are kept.
/// \throws shape_error when extent(0) differs from the permutation's node count
template <Scalar S>
[[nodiscard]] nn::tensor<S> permuted_rows(const nn::tensor<S>& x, const node_permutation& perm) {
  check(x.rank() >= 1, "frugal::graph::permuted_rows: a tensor of rank 0 has no rows");
  detail::check_permutation("frugal::graph::permuted_rows", perm, x.extent(0));
  nn::tensor<S> out;
  out.resize(x.extents());
  const index_t width = x.extent(0) ? x.size() / x.extent(0) : 0;
  for (index_t i = 0; i < x.extent(0); ++i)
    std::copy_n(x.data() + i * width, width, out.data() + perm.new_id[static_cast<std::size_t>(i)] * width);
  return out;
}

/// A list of node ids (a training set, a frontier) in the new numbering, ascending.
/// \throws invalid_argument when an id is outside [0, n)
[[nodiscard]] inline std::vector<index_t> renumbered(const std::vector<index_t>& ids, const node_permutation& perm) {
  std::vector<index_t> out;
  out.reserve(ids.size());
  for (index_t id : ids) {
    check(id >= 0 && id < perm.num_nodes(), "frugal::graph::renumbered: node id ", id, " outside [0, ",
          perm.num_nodes(), ")");
    out.push_back(perm.new_id[static_cast<std::size_t>(id)]);
  }
  std::sort(out.begin(), out.end());
  return out;
}

/// The partition in the new numbering: node π(i) in part p.part_of[i]. For the permutation
/// `contiguous_order(p)` this is the id ranges `perm.offsets`.
[[nodiscard]] inline partition permuted(const partition& p, const node_permutation& perm) {
  return partition{.parts = p.parts, .part_of = permuted_rows(p.part_of, perm)};
}

/// A whole dataset renumbered: graph, feature rows, labels and the train/validation/test sets.
template <Scalar S>
[[nodiscard]] node_dataset<S> permuted(const node_dataset<S>& d, const node_permutation& perm) {
  node_dataset<S> out;
  out.graph = permuted(d.graph, perm);
  out.features = permuted_rows(d.features, perm);
  out.labels = permuted_rows(d.labels, perm);
  out.num_classes = d.num_classes;
  out.train = renumbered(d.train, perm);
  out.validation = renumbered(d.validation, perm);
  out.test = renumbered(d.test, perm);
  return out;
}

}  // namespace frugal::graph
