#pragma once
/// \file
/// GNNPipe's chunk bookkeeping. The nodes are split into chunks 0..C−1 that flow through the
/// layer stages one after another, like micro-batches. When chunk c is at layer l, the rows of
/// its nodes read three kinds of column:
///
/// - the same chunk: computed in this step;
/// - an earlier chunk (< c): already through layer l this epoch, so fresh;
/// - a later chunk (> c): not yet through layer l this epoch, so GNNPipe reads its *historical*
///   embedding, the one from the previous epoch.
///
/// The share of entries that read historical values is GNNPipe's staleness measure; a partition
/// with few cut edges (METIS) keeps it low. `chunk_plan` counts all three per chunk and lists the
/// distinct nodes behind each (what a stage must fetch, or keep from the last epoch). To make
/// each chunk a contiguous node range, renumber with `contiguous_order` (permutation.hpp).

#include <algorithm>
#include <cstdint>
#include <vector>

#include "../core/error.hpp"
#include "../core/execution.hpp"
#include "../core/scalar.hpp"
#include "csr_graph.hpp"
#include "partition.hpp"

namespace frugal::graph {

/// The columns one chunk's rows read from one place (this chunk, earlier chunks or later ones).
struct neighbour_group {
  /// Distinct column nodes, ascending.
  std::vector<std::int32_t> nodes;
  /// Stored entries (row in the chunk, column here): a node read by k rows counts k times.
  index_t entries = 0;
};

/// One chunk of the pipeline order and what its rows read.
struct chunk_info {
  std::vector<std::int32_t> nodes;  ///< the chunk's nodes, ascending
  neighbour_group same;             ///< columns in this chunk (self loops included)
  neighbour_group earlier;          ///< columns in chunks 0..c−1: fresh values of this epoch
  neighbour_group later;            ///< columns in chunks c+1..C−1: historical values of the last epoch
};

/// What every chunk of an ordered partition reads, for one aggregation operator.
struct chunk_plan {
  std::vector<chunk_info> chunks;
  index_t num_entries = 0;  ///< stored entries of the operator

  [[nodiscard]] std::int32_t num_chunks() const noexcept { return static_cast<std::int32_t>(chunks.size()); }

  /// Σ_c later-chunk entries: the entries that read a historical value.
  [[nodiscard]] index_t historical_entries() const noexcept {
    index_t total = 0;
    for (const auto& c : chunks) total += c.later.entries;
    return total;
  }
  /// Σ_c earlier-chunk entries: cut entries that read a fresh value from another chunk.
  [[nodiscard]] index_t earlier_entries() const noexcept {
    index_t total = 0;
    for (const auto& c : chunks) total += c.earlier.entries;
    return total;
  }
  /// historical_entries / num_entries: GNNPipe's staleness measure, 0 for one chunk. For a
  /// symmetric operator it is half the cut entries' share, whatever the chunk order.
  [[nodiscard]] double historical_fraction() const noexcept {
    return num_entries ? static_cast<double>(historical_entries()) / static_cast<double>(num_entries) : 0.0;
  }
  /// Σ_c |later.nodes|: historical embeddings a layer must keep per epoch (a node read by
  /// several chunks counts once for each).
  [[nodiscard]] index_t historical_nodes() const noexcept {
    index_t total = 0;
    for (const auto& c : chunks) total += static_cast<index_t>(c.later.nodes.size());
    return total;
  }
};

/// The chunk plan of `g` (row i lists the nodes i reads from: pass the aggregation operator,
/// self loops and all) under `chunks`, whose part numbers are the pipeline order. O(E + n + Σ
/// distinct-neighbour sorts).
/// \throws invalid_argument / shape_error when `chunks` is not a partition of g's nodes
template <Scalar S>
[[nodiscard]] chunk_plan plan_chunks(const csr_graph<S>& g, const partition& chunks) {
  chunks.validate("frugal::graph::plan_chunks", g.num_nodes());
  chunk_plan plan;
  plan.num_entries = g.num_entries();
  plan.chunks.resize(static_cast<std::size_t>(chunks.parts));
  const auto& part_of = chunks.part_of;
  for (index_t i = 0; i < g.num_nodes(); ++i)
    plan.chunks[static_cast<std::size_t>(part_of[static_cast<std::size_t>(i)])].nodes.push_back(
        static_cast<std::int32_t>(i));
  // Stamps dedupe the columns of one chunk without clearing a mark array per chunk.
  std::vector<std::int32_t> seen(static_cast<std::size_t>(g.num_nodes()), -1);
  for (std::int32_t c = 0; c < chunks.parts; ++c) {
    chunk_info& info = plan.chunks[static_cast<std::size_t>(c)];
    for (std::int32_t i : info.nodes)
      for (index_t k = g.row_map()(i); k < g.row_map()(i + 1); ++k) {
        const std::int32_t j = g.entries()(k);
        const std::int32_t cj = part_of[static_cast<std::size_t>(j)];
        neighbour_group& group = cj == c ? info.same : cj < c ? info.earlier : info.later;
        ++group.entries;
        if (seen[static_cast<std::size_t>(j)] != c) {
          seen[static_cast<std::size_t>(j)] = c;
          group.nodes.push_back(j);
        }
      }
    for (auto* group : {&info.same, &info.earlier, &info.later}) std::sort(group->nodes.begin(), group->nodes.end());
  }
  return plan;
}

}  // namespace frugal::graph
