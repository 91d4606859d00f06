#pragma once
/// \file
/// Halo bookkeeping for graph parallelism. The nodes are split among P workers; worker p owns
/// the rows of its nodes and, to aggregate them, needs the features of every column its rows
/// read that another worker owns: its *halo*. Before each layer the workers exchange exactly
/// those rows. `halo_plan` lists, per worker, the owned nodes, the halo grouped by owner, the
/// send lists (which owned rows each other worker needs) and a local CSR over [owned; halo], so
/// the aggregation of a worker's rows is one plain `spmm` on its local feature block.

#include <algorithm>
#include <cstdint>
#include <utility>
#include <vector>

#include "../core/error.hpp"
#include "../core/execution.hpp"
#include "../core/scalar.hpp"
#include "csr_graph.hpp"
#include "partition.hpp"

namespace frugal::graph {

/// One worker's share of a graph-parallel layer.
///
/// Local ids: [0, num_owned) are `owned` in order, [num_owned, num_local) are `halo` in order.
/// The worker's feature block is the rows of `owned` followed by the rows of `halo`, as the
/// exchange delivers them: from worker q, the rows q's `send[p]` lists, in that order, into local
/// ids num_owned + [halo_offsets[q], halo_offsets[q+1]).
template <Scalar S>
struct worker_halo {
  /// Global ids of the nodes this worker owns, ascending.
  std::vector<std::int32_t> owned;
  /// Global ids of the non-owned columns the owned rows read, grouped by owning worker (ascending
  /// worker), ascending within a group.
  std::vector<std::int32_t> halo;
  /// P + 1 offsets into `halo`: the nodes owned by worker q are halo[halo_offsets[q],
  /// halo_offsets[q+1]) (empty for q = this worker).
  std::vector<index_t> halo_offsets;
  /// send[q]: global ids of this worker's owned nodes that worker q reads, ascending; equal to
  /// the halo group q holds for this worker (send[self] is empty).
  std::vector<std::vector<std::int32_t>> send;
  /// The owned rows with columns in local ids: a square num_local × num_local graph whose rows
  /// num_owned.. (the halo's) are empty, so `spmm(local, [owned; halo] features, y)` leaves the
  /// owned rows' aggregation in y's first num_owned rows. Values are the global graph's.
  csr_graph<S> local;

  [[nodiscard]] index_t num_owned() const noexcept { return static_cast<index_t>(owned.size()); }
  [[nodiscard]] index_t num_halo() const noexcept { return static_cast<index_t>(halo.size()); }
  [[nodiscard]] index_t num_local() const noexcept { return num_owned() + num_halo(); }

  /// Local ids (positions in `owned`) of send[q]: the rows of the owned block to gather for q.
  [[nodiscard]] std::vector<std::int32_t> send_positions(std::int32_t q) const {
    check(q >= 0 && static_cast<std::size_t>(q) < send.size(), "frugal::graph::worker_halo::send_positions: worker ", q,
          " outside [0, ", send.size(), ")");
    std::vector<std::int32_t> out;
    out.reserve(send[static_cast<std::size_t>(q)].size());
    for (std::int32_t node : send[static_cast<std::size_t>(q)])
      out.push_back(static_cast<std::int32_t>(std::lower_bound(owned.begin(), owned.end(), node) - owned.begin()));
    return out;
  }
};

/// The halo exchange of one aggregation operator among the workers of a partition.
template <Scalar S>
struct halo_plan {
  std::vector<worker_halo<S>> workers;

  [[nodiscard]] std::int32_t num_workers() const noexcept { return static_cast<std::int32_t>(workers.size()); }

  /// Σ_p |halo(p)|: rows received per layer, all workers together (METIS's communication volume).
  [[nodiscard]] index_t halo_nodes() const noexcept {
    index_t total = 0;
    for (const auto& w : workers) total += w.num_halo();
    return total;
  }

  /// Bytes one layer's forward exchange moves: Σ_p |halo(p)| · feature_width · bytes_per_value.
  /// The backward pass sends as many gradient rows the other way (for a directed operator too:
  /// the halo rows of Âᵀ dY go back to their owners).
  [[nodiscard]] std::size_t halo_bytes_per_layer(index_t feature_width, std::size_t bytes_per_value) const {
    check(feature_width >= 0, "frugal::graph::halo_plan::halo_bytes_per_layer: feature_width = ", feature_width,
          ", need ≥ 0");
    return static_cast<std::size_t>(halo_nodes()) * static_cast<std::size_t>(feature_width) * bytes_per_value;
  }
};

/// The halo plan of `g` (row i lists the nodes i reads from: pass the aggregation operator) among
/// the `workers.parts` workers of `workers`. O(E log d + n).
/// \throws invalid_argument / shape_error when `workers` is not a partition of g's nodes
template <Scalar S>
[[nodiscard]] halo_plan<S> plan_halos(const csr_graph<S>& g, const partition& workers) {
  workers.validate("frugal::graph::plan_halos", g.num_nodes());
  const auto parts = static_cast<std::size_t>(workers.parts);
  const auto& part_of = workers.part_of;
  halo_plan<S> plan;
  plan.workers.resize(parts);
  for (index_t i = 0; i < g.num_nodes(); ++i)
    plan.workers[static_cast<std::size_t>(part_of[static_cast<std::size_t>(i)])].owned.push_back(
        static_cast<std::int32_t>(i));

  // local_id[j] for the worker being built: stamped by worker so the array is never cleared.
  const auto n = static_cast<std::size_t>(g.num_nodes());
  std::vector<std::int32_t> stamp(n, -1);
  std::vector<std::int32_t> local_id(n, 0);
  for (std::size_t p = 0; p < parts; ++p) {
    worker_halo<S>& w = plan.workers[p];
    const auto self = static_cast<std::int32_t>(p);
    for (std::size_t t = 0; t < w.owned.size(); ++t) {
      stamp[static_cast<std::size_t>(w.owned[t])] = self;
      local_id[static_cast<std::size_t>(w.owned[t])] = static_cast<std::int32_t>(t);
    }
    // Halo: distinct non-owned columns, then grouped by owner, ascending within a group.
    for (std::int32_t i : w.owned)
      for (index_t k = g.row_map()(i); k < g.row_map()(i + 1); ++k) {
        const std::int32_t j = g.entries()(k);
        if (stamp[static_cast<std::size_t>(j)] == self) continue;
        stamp[static_cast<std::size_t>(j)] = self;
        w.halo.push_back(j);
      }
    std::sort(w.halo.begin(), w.halo.end(), [&](std::int32_t a, std::int32_t b) {
      return std::pair(part_of[static_cast<std::size_t>(a)], a) < std::pair(part_of[static_cast<std::size_t>(b)], b);
    });
    w.halo_offsets.assign(parts + 1, 0);
    for (std::int32_t j : w.halo) ++w.halo_offsets[static_cast<std::size_t>(part_of[static_cast<std::size_t>(j)]) + 1];
    for (std::size_t q = 0; q < parts; ++q) w.halo_offsets[q + 1] += w.halo_offsets[q];
    for (std::size_t t = 0; t < w.halo.size(); ++t)
      local_id[static_cast<std::size_t>(w.halo[t])] = static_cast<std::int32_t>(w.owned.size() + t);

    // Local CSR: owned rows renumbered and re-sorted; halo rows empty.
    using graph_type = csr_graph<S>;
    const auto local_n = w.owned.size() + w.halo.size();
    typename graph_type::row_map_type row_map("frugal::graph::row_map", local_n + 1);
    index_t local_entries = 0;
    for (std::size_t t = 0; t < w.owned.size(); ++t) {
      local_entries += g.degree(w.owned[t]);
      row_map(t + 1) = local_entries;
    }
    for (std::size_t t = w.owned.size(); t < local_n; ++t) row_map(t + 1) = local_entries;
    typename graph_type::entries_type entries(Kokkos::view_alloc(Kokkos::WithoutInitializing, "frugal::graph::entries"),
                                              local_entries);
    typename graph_type::values_type values(Kokkos::view_alloc(Kokkos::WithoutInitializing, "frugal::graph::values"),
                                            local_entries);
    std::vector<std::pair<std::int32_t, S>> row;
    for (std::size_t t = 0; t < w.owned.size(); ++t) {
      const std::int32_t i = w.owned[t];
      row.clear();
      for (index_t k = g.row_map()(i); k < g.row_map()(i + 1); ++k)
        row.emplace_back(local_id[static_cast<std::size_t>(g.entries()(k))], g.values()(k));
      std::sort(row.begin(), row.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
      for (std::size_t e = 0; e < row.size(); ++e) {
        entries(row_map(t) + static_cast<index_t>(e)) = row[e].first;
        values(row_map(t) + static_cast<index_t>(e)) = row[e].second;
      }
    }
    w.local = graph_type(static_cast<index_t>(local_n), row_map, entries, values);
  }

  // Send lists: worker q's halo group from p is exactly what p sends q.
  for (std::size_t p = 0; p < parts; ++p) plan.workers[p].send.resize(parts);
  for (std::size_t q = 0; q < parts; ++q) {
    const worker_halo<S>& w = plan.workers[q];
    for (std::size_t p = 0; p < parts; ++p)
      plan.workers[p].send[q].assign(w.halo.begin() + w.halo_offsets[p], w.halo.begin() + w.halo_offsets[p + 1]);
  }
  return plan;
}

}  // namespace frugal::graph
