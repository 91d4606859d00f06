#pragma once
/// \file
/// A node-classification dataset drawn from a stochastic block model with class-correlated
/// features: the embedded default graph of the GNN examples and tests, sized by its options.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "../core/error.hpp"
#include "../core/execution.hpp"
#include "../core/rng.hpp"
#include "../nn/tensor.hpp"
#include "csr_graph.hpp"
#include "node_dataset.hpp"

namespace frugal::graph {

/// Options of `make_sbm`. The defaults make a graph where features alone classify poorly and
/// neighbourhoods classify well, so a GNN's use of the graph shows in its accuracy.
struct sbm_options {
  index_t nodes = 4000;
  std::int32_t classes = 8;
  /// Mean number of neighbours per node (before repeated draws merge).
  double average_degree = 10;
  /// Fraction of edges drawn inside a class (1/classes would be no community structure).
  double homophily = 0.8;
  index_t features = 64;
  /// Scale of the class centroid in each feature vector, against unit Gaussian noise.
  double signal = 0.15;
  /// Fractions of the nodes in the training and validation sets; the rest is the test set.
  double train_fraction = 0.1;
  double validation_fraction = 0.1;
  std::uint64_t seed = 1;
};

/// Draws a dataset: node i gets a uniform class; each of nodes·degree/2 undirected edges joins a
/// uniform node to a uniform node of the same class with probability `homophily`, else of another
/// class; features are signal·μ_class + N(0, I) with μ_class ~ N(0, I). Same seed, same dataset.
/// \throws invalid_argument on options out of range (each message names the option and its value)
template <Scalar S>
[[nodiscard]] node_dataset<S> make_sbm(const sbm_options& o) {
  constexpr auto where = "frugal::graph::make_sbm";
  check(o.nodes >= 2, where, ": nodes = ", o.nodes, ", need at least 2");
  check(o.classes >= 2 && o.classes <= o.nodes, where, ": classes = ", o.classes, ", need 2 to nodes (", o.nodes, ")");
  check(o.average_degree > 0 && o.average_degree < static_cast<double>(o.nodes), where,
        ": average_degree = ", o.average_degree, ", need (0, nodes)");
  check(o.homophily >= 0 && o.homophily <= 1, where, ": homophily = ", o.homophily, ", need [0, 1]");
  check(o.features >= 1, where, ": features = ", o.features, ", need at least 1");
  check(o.signal >= 0, where, ": signal = ", o.signal, ", need ≥ 0");

  rng gen(o.seed);
  node_dataset<S> d;
  d.num_classes = o.classes;
  const auto n = static_cast<std::size_t>(o.nodes);
  d.labels.resize(n);
  std::vector<std::vector<index_t>> members(static_cast<std::size_t>(o.classes));
  for (std::size_t i = 0; i < n; ++i) {
    d.labels[i] = static_cast<std::int32_t>(gen.uniform_int(static_cast<std::uint64_t>(o.classes)));
    members[static_cast<std::size_t>(d.labels[i])].push_back(static_cast<index_t>(i));
  }

  const auto edges = static_cast<std::size_t>(std::llround(static_cast<double>(o.nodes) * o.average_degree / 2));
  std::vector<std::int64_t> src, dst;
  src.reserve(edges);
  dst.reserve(edges);
  while (src.size() < edges) {
    const auto u = static_cast<index_t>(gen.uniform_int(n));
    const auto& own = members[static_cast<std::size_t>(d.labels[static_cast<std::size_t>(u)])];
    index_t v;
    if (gen.uniform() < o.homophily || own.size() == n) {
      v = own[gen.uniform_int(own.size())];
    } else {
      do v = static_cast<index_t>(gen.uniform_int(n));
      while (d.labels[static_cast<std::size_t>(v)] == d.labels[static_cast<std::size_t>(u)]);
    }
    if (u == v) continue;
    src.push_back(u);
    dst.push_back(v);
  }
  d.graph = csr_graph<S>::from_edges(o.nodes, src, dst, {.symmetrize = true, .self_loops = false});

  std::vector<double> centroids(static_cast<std::size_t>(o.classes * o.features));
  for (double& c : centroids) c = gen.normal();
  d.features.resize({o.nodes, o.features});
  for (index_t i = 0; i < o.nodes; ++i) {
    const double* mu = centroids.data() + d.labels[static_cast<std::size_t>(i)] * o.features;
    for (index_t j = 0; j < o.features; ++j)
      d.features.data()[i * o.features + j] = static_cast<S>(o.signal * mu[j] + gen.normal());
  }

  split_nodes(d, o.train_fraction, o.validation_fraction, gen);
  return d;
}

}  // namespace frugal::graph
