#pragma once
/// \file
/// A node-classification dataset (graph, features, labels, node splits), built from a file the
/// `io` readers parsed or drawn by `make_sbm`.

#include <algorithm>
#include <cstdint>
#include <numeric>
#include <vector>

#include "../core/error.hpp"
#include "../core/execution.hpp"
#include "../core/rng.hpp"
#include "../io/graph_files.hpp"
#include "../nn/tensor.hpp"
#include "csr_graph.hpp"

namespace frugal::graph {

/// A graph, one feature row and one label per node, and disjoint train/validation/test node sets
/// (each sorted ascending; only labelled nodes are in them).
template <Scalar S>
struct node_dataset {
  csr_graph<S> graph;                ///< adjacency with unit values, as the builder was asked to make it
  nn::tensor<S> features;            ///< (nodes, features)
  std::vector<std::int32_t> labels;  ///< −1 for a node without a label
  std::int32_t num_classes = 0;
  std::vector<index_t> train, validation, test;
};

/// Shuffles the labelled nodes of `d` with `gen` and deals them into train, validation and test
/// sets by the two fractions (at least one training node; the rest is the test set).
/// \throws invalid_argument when the fractions leave no test set or no node is labelled
template <Scalar S>
void split_nodes(node_dataset<S>& d, double train_fraction, double validation_fraction, rng& gen) {
  constexpr auto where = "frugal::graph::split_nodes";
  check(train_fraction > 0 && validation_fraction >= 0 && train_fraction + validation_fraction < 1, where,
        ": train_fraction = ", train_fraction, " and validation_fraction = ", validation_fraction,
        " must be positive / non-negative and leave a test set");
  std::vector<index_t> order;
  for (std::size_t i = 0; i < d.labels.size(); ++i)
    if (d.labels[i] >= 0) order.push_back(static_cast<index_t>(i));
  const std::size_t n = order.size();
  check(n >= 2, where, ": ", n, " labelled nodes; need at least 2");
  for (std::size_t i = n - 1; i > 0; --i) std::swap(order[i], order[gen.uniform_int(i + 1)]);
  const auto n_train = std::max<std::size_t>(1, static_cast<std::size_t>(train_fraction * static_cast<double>(n)));
  const auto n_val = static_cast<std::size_t>(validation_fraction * static_cast<double>(n));
  check(n_train + n_val < n, where, ": ", n, " labelled nodes leave no test set after ", n_train, " training and ",
        n_val, " validation nodes");
  d.train.assign(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(n_train));
  d.validation.assign(order.begin() + static_cast<std::ptrdiff_t>(n_train),
                      order.begin() + static_cast<std::ptrdiff_t>(n_train + n_val));
  d.test.assign(order.begin() + static_cast<std::ptrdiff_t>(n_train + n_val), order.end());
  for (auto* set : {&d.train, &d.validation, &d.test}) std::sort(set->begin(), set->end());
}

/// Options of `from_graph_data`.
struct dataset_options {
  build_options build{};  ///< symmetrised, no self loops by default (citation graphs are directed)
  double train_fraction = 0.1;
  double validation_fraction = 0.1;
  std::uint64_t seed = 1;  ///< for the split
};

/// The dataset of a graph file `io::read_linqs` or `io::read_edge_list` parsed.
/// \throws invalid_argument when the file has no features or no labels, or the split fails
template <Scalar S>
[[nodiscard]] node_dataset<S> from_graph_data(const io::graph_data& g, const dataset_options& o = {}) {
  constexpr auto where = "frugal::graph::from_graph_data";
  check(g.num_nodes > 0, where, ": the graph has no nodes");
  check(g.features.rows() == g.num_nodes && g.features.cols() > 0, where, ": the graph has ", g.features.cols(),
        " feature columns for ", g.features.rows(), " rows; node classification needs features for every node");
  check_extent(where, "labels vs nodes", static_cast<index_t>(g.labels.size()), g.num_nodes);
  node_dataset<S> d;
  d.graph = csr_graph<S>::from_edges(g.num_nodes, g.src, g.dst, o.build);
  d.features.resize({g.num_nodes, static_cast<index_t>(g.features.cols())});
  for (index_t i = 0; i < g.features.size(); ++i) d.features.data()[i] = static_cast<S>(g.features.data()[i]);
  d.labels = g.labels;
  d.num_classes = static_cast<std::int32_t>(g.class_names.size());
  for (std::int32_t y : d.labels)
    check(y < d.num_classes, where, ": label ", y, " but only ", d.num_classes, " class names");
  rng gen(o.seed);
  split_nodes(d, o.train_fraction, o.validation_fraction, gen);
  return d;
}

}  // namespace frugal::graph
