#pragma once
/// \file
/// Partitions of a graph's nodes into parts with few cut edges. This header has the partition
/// type, a Cuthill–McKee (breadth-first) order cut into equal runs, and plain id ranges as the
/// baseline; METIS's multilevel partitioner is `partition_metis` in `metis.hpp`. GNNPipe's chunks
/// and graph parallelism's workers are both partitions; `chunks.hpp` and `halo.hpp` turn one into
/// their bookkeeping.

#include <algorithm>
#include <cstdint>
#include <limits>
#include <utility>
#include <vector>

#include "../core/error.hpp"
#include "../core/execution.hpp"
#include "../core/scalar.hpp"
#include "csr_graph.hpp"

namespace frugal::graph {

/// An assignment of each of n nodes to one of `parts` parts (a part may be empty).
struct partition {
  std::int32_t parts = 0;
  /// Node i is in part `part_of[i]`, in [0, parts).
  std::vector<std::int32_t> part_of;

  [[nodiscard]] index_t num_nodes() const noexcept { return static_cast<index_t>(part_of.size()); }

  /// Nodes in each part.
  /// \throws invalid_argument when the partition is not valid (see `validate`)
  [[nodiscard]] std::vector<index_t> sizes() const {
    validate("frugal::graph::partition::sizes", num_nodes());
    std::vector<index_t> count(static_cast<std::size_t>(parts), 0);
    for (std::int32_t p : part_of) ++count[static_cast<std::size_t>(p)];
    return count;
  }

  /// The nodes of part p, ascending. O(n).
  [[nodiscard]] std::vector<std::int32_t> nodes(std::int32_t p) const {
    check(p >= 0 && p < parts, "frugal::graph::partition::nodes: part ", p, " outside [0, ", parts, ")");
    std::vector<std::int32_t> out;
    for (std::size_t i = 0; i < part_of.size(); ++i)
      if (part_of[i] == p) out.push_back(static_cast<std::int32_t>(i));
    return out;
  }

  /// The nodes of every part, each list ascending. O(n).
  [[nodiscard]] std::vector<std::vector<std::int32_t>> all_nodes() const {
    validate("frugal::graph::partition::all_nodes", num_nodes());
    std::vector<std::vector<std::int32_t>> out(static_cast<std::size_t>(parts));
    for (std::size_t i = 0; i < part_of.size(); ++i)
      out[static_cast<std::size_t>(part_of[i])].push_back(static_cast<std::int32_t>(i));
    return out;
  }

  /// Largest part over the mean part, max_p |V_p| / (n / parts): 1 is perfect balance.
  [[nodiscard]] double balance() const {
    if (part_of.empty()) return 1.0;
    const auto s = sizes();
    return static_cast<double>(*std::max_element(s.begin(), s.end())) * parts / static_cast<double>(part_of.size());
  }

  /// Stored entries a_ij of `g` whose row i and column j lie in different parts. An undirected
  /// edge is stored twice and so counts twice (METIS reports each cut edge once: half this).
  /// \throws shape_error when `g` has another node count, invalid_argument when the partition is
  ///         not valid
  template <Scalar S>
  [[nodiscard]] index_t edge_cut(const csr_graph<S>& g) const {
    validate("frugal::graph::partition::edge_cut", g.num_nodes());
    index_t cut = 0;
    for (index_t i = 0; i < g.num_nodes(); ++i)
      for (index_t k = g.row_map()(i); k < g.row_map()(i + 1); ++k)
        cut += part_of[static_cast<std::size_t>(i)] != part_of[static_cast<std::size_t>(g.entries()(k))];
    return cut;
  }

  /// Throws unless this is a partition of `num_nodes` nodes: parts ≥ 1, one entry per node, each
  /// in [0, parts). `where` names the caller in the message.
  void validate(const char* where, index_t num_nodes) const {
    check(parts >= 1, where, ": partition has ", parts, " parts, need at least 1");
    check_extent(where, "partition nodes vs graph nodes", this->num_nodes(), num_nodes);
    for (std::size_t i = 0; i < part_of.size(); ++i)
      check(part_of[i] >= 0 && part_of[i] < parts, where, ": node ", i, " is in part ", part_of[i], ", outside [0, ",
            parts, ")");
  }
};

namespace detail {

/// The undirected pattern of a graph without self loops, in CSR form: j is a neighbour of i
/// when a_ij or a_ji is stored and i ≠ j; each row ascending and without repeats. Values are
/// dropped. This is what METIS requires and what a breadth-first order walks.
struct symmetric_pattern {
  std::vector<index_t> offsets;  ///< n + 1
  std::vector<std::int32_t> neighbours;

  [[nodiscard]] index_t num_nodes() const noexcept { return static_cast<index_t>(offsets.size()) - 1; }
  [[nodiscard]] index_t degree(index_t i) const {
    return offsets[static_cast<std::size_t>(i) + 1] - offsets[static_cast<std::size_t>(i)];
  }
};

template <Scalar S>
[[nodiscard]] symmetric_pattern make_symmetric_pattern(const csr_graph<S>& g) {
  const auto n = static_cast<std::size_t>(g.num_nodes());
  symmetric_pattern out;
  std::vector<index_t> count(n + 1, 0);
  auto for_each_pair = [&](auto&& emit) {
    for (index_t i = 0; i < g.num_nodes(); ++i)
      for (index_t k = g.row_map()(i); k < g.row_map()(i + 1); ++k) {
        const index_t j = g.entries()(k);
        if (j == i) continue;
        emit(i, j);
        emit(j, i);
      }
  };
  for_each_pair([&](index_t i, index_t) { ++count[static_cast<std::size_t>(i) + 1]; });
  for (std::size_t i = 0; i < n; ++i) count[i + 1] += count[i];
  std::vector<std::int32_t> cols(static_cast<std::size_t>(count[n]));
  std::vector<index_t> next(count.begin(), count.end() - 1);
  for_each_pair([&](index_t i, index_t j) {
    cols[static_cast<std::size_t>(next[static_cast<std::size_t>(i)]++)] = static_cast<std::int32_t>(j);
  });
  out.offsets.resize(n + 1);
  out.offsets[0] = 0;
  out.neighbours.reserve(cols.size() / 2 + 1);
  for (std::size_t i = 0; i < n; ++i) {
    auto first = cols.begin() + count[i], last = cols.begin() + count[i + 1];
    std::sort(first, last);
    out.neighbours.insert(out.neighbours.end(), first, std::unique(first, last));
    out.offsets[i + 1] = static_cast<index_t>(out.neighbours.size());
  }
  return out;
}

/// Part of position `pos` when n positions are cut into `parts` runs whose sizes differ by at
/// most one, the longer runs first: run p covers [p·q + min(p, r), (p+1)·q + min(p+1, r)) with
/// q = n / parts, r = n mod parts.
[[nodiscard]] inline std::int32_t run_of(index_t pos, index_t n, std::int32_t parts) {
  const index_t q = n / parts, r = n % parts;
  const index_t long_end = r * (q + 1);
  return static_cast<std::int32_t>(pos < long_end ? pos / (q + 1) : r + (pos - long_end) / q);
}

inline void check_parts(const char* where, index_t n, int parts) {
  check(n >= 1, where, ": the graph has no nodes");
  check(parts >= 1 && parts <= n, where, ": parts = ", parts, ", need 1 to the node count (", n, ")");
}

/// Breadth-first levels from `root` over the nodes not yet `placed`: fills `order` (the visit
/// order) and returns the eccentricity of `root` in that component. `stamp` marks visits with
/// `mark` so repeated searches need no clearing.
inline index_t bfs_levels(const symmetric_pattern& g, std::int32_t root, const std::vector<char>& placed,
                          std::vector<std::int32_t>& stamp, std::int32_t mark, std::vector<std::int32_t>& order,
                          std::vector<index_t>& level) {
  order.clear();
  order.push_back(root);
  stamp[static_cast<std::size_t>(root)] = mark;
  level[static_cast<std::size_t>(root)] = 0;
  index_t depth = 0;
  for (std::size_t head = 0; head < order.size(); ++head) {
    const std::int32_t u = order[head];
    const index_t lu = level[static_cast<std::size_t>(u)];
    depth = std::max(depth, lu);
    for (index_t k = g.offsets[static_cast<std::size_t>(u)]; k < g.offsets[static_cast<std::size_t>(u) + 1]; ++k) {
      const std::int32_t v = g.neighbours[static_cast<std::size_t>(k)];
      if (placed[static_cast<std::size_t>(v)] || stamp[static_cast<std::size_t>(v)] == mark) continue;
      stamp[static_cast<std::size_t>(v)] = mark;
      level[static_cast<std::size_t>(v)] = lu + 1;
      order.push_back(v);
    }
  }
  return depth;
}

}  // namespace detail

/// A Cuthill–McKee order of the nodes of `g`'s undirected pattern: component by component (in
/// the order of their smallest node id), a breadth-first search from a pseudo-peripheral node
/// (George and Liu's search: restart from a least-degree node of the last level while the
/// eccentricity grows) that visits each node's unvisited neighbours by increasing degree, ties by
/// id. Nodes close in the graph are close in the order, so runs of it are parts with few cut
/// edges on meshes and other graphs of small bandwidth. Deterministic. O(k·E) for k restarts
/// (a few in practice).
/// \returns `order[pos]` = the node at position pos (a permutation of [0, n))
template <Scalar S>
[[nodiscard]] std::vector<std::int32_t> cuthill_mckee_order(const csr_graph<S>& g) {
  const detail::symmetric_pattern pattern = detail::make_symmetric_pattern(g);
  const auto n = static_cast<std::size_t>(g.num_nodes());
  std::vector<char> placed(n, 0);
  std::vector<std::int32_t> stamp(n, 0), order, search;
  std::vector<index_t> level(n, 0);
  std::vector<std::int32_t> neighbours;
  order.reserve(n);
  std::int32_t mark = 0;
  for (std::size_t start = 0; start < n; ++start) {
    if (placed[start]) continue;
    // Pseudo-peripheral root of start's component.
    auto root = static_cast<std::int32_t>(start);
    index_t depth = detail::bfs_levels(pattern, root, placed, stamp, ++mark, search, level);
    for (;;) {
      std::int32_t candidate = -1;
      for (std::int32_t v : search)
        if (level[static_cast<std::size_t>(v)] == depth &&
            (candidate < 0 || pattern.degree(v) < pattern.degree(candidate) ||
             (pattern.degree(v) == pattern.degree(candidate) && v < candidate)))
          candidate = v;
      const index_t candidate_depth = detail::bfs_levels(pattern, candidate, placed, stamp, ++mark, search, level);
      if (candidate_depth <= depth) break;
      root = candidate;
      depth = candidate_depth;
    }
    // Cuthill–McKee from the root: neighbours by increasing degree, then id.
    const std::size_t first = order.size();
    order.push_back(root);
    placed[static_cast<std::size_t>(root)] = 1;
    for (std::size_t head = first; head < order.size(); ++head) {
      const std::int32_t u = order[head];
      neighbours.clear();
      for (index_t k = pattern.offsets[static_cast<std::size_t>(u)];
           k < pattern.offsets[static_cast<std::size_t>(u) + 1]; ++k) {
        const std::int32_t v = pattern.neighbours[static_cast<std::size_t>(k)];
        if (!placed[static_cast<std::size_t>(v)]) {
          placed[static_cast<std::size_t>(v)] = 1;
          neighbours.push_back(v);
        }
      }
      std::sort(neighbours.begin(), neighbours.end(), [&](std::int32_t a, std::int32_t b) {
        return std::pair(pattern.degree(a), a) < std::pair(pattern.degree(b), b);
      });
      order.insert(order.end(), neighbours.begin(), neighbours.end());
    }
  }
  return order;
}

/// Nodes [0, n) in `parts` contiguous id ranges whose sizes differ by at most one (the longer
/// first): the baseline that knows nothing of the graph, good only when ids already follow it.
/// \throws invalid_argument unless 1 ≤ parts ≤ n
[[nodiscard]] inline partition partition_blocks(index_t n, int parts) {
  detail::check_parts("frugal::graph::partition_blocks", n, parts);
  check(n <= std::numeric_limits<std::int32_t>::max(), "frugal::graph::partition_blocks: n = ", n,
        " does not fit 32-bit node ids");
  partition p{.parts = parts, .part_of = std::vector<std::int32_t>(static_cast<std::size_t>(n))};
  for (index_t i = 0; i < n; ++i) p.part_of[static_cast<std::size_t>(i)] = detail::run_of(i, n, parts);
  return p;
}

/// The fallback without METIS: `cuthill_mckee_order(g)` cut into `parts` runs whose sizes differ
/// by at most one. Perfectly balanced and deterministic. On meshes and other graphs of small
/// bandwidth the cut is within a small factor of METIS's (`partition_metis`, metis.hpp); on
/// random and community graphs it is much worse (docs/graph.md has figures). Uses the undirected
/// pattern of `g`, so it suits a directed graph too.
/// \throws invalid_argument unless 1 ≤ parts ≤ num_nodes
template <Scalar S>
[[nodiscard]] partition partition_contiguous(const csr_graph<S>& g, int parts) {
  detail::check_parts("frugal::graph::partition_contiguous", g.num_nodes(), parts);
  const std::vector<std::int32_t> order = cuthill_mckee_order(g);
  partition p{.parts = parts, .part_of = std::vector<std::int32_t>(order.size())};
  for (std::size_t pos = 0; pos < order.size(); ++pos)
    p.part_of[static_cast<std::size_t>(order[pos])] = detail::run_of(static_cast<index_t>(pos), g.num_nodes(), parts);
  return p;
}

}  // namespace frugal::graph
