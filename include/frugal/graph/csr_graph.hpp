#pragma once
/// \file
/// A graph's adjacency matrix in compressed sparse row form, stored in Kokkos Views.
///
/// The three arrays have the layout of Kokkos Kernels' `KokkosSparse::CrsMatrix` (row map of
/// `num_nodes + 1` offsets, column indices sorted within each row, one value per entry), so a
/// graph moves to Kokkos Kernels, cuSPARSE or Eigen's `SparseMatrix` without reordering. Row i
/// lists the nodes i aggregates from: with `y = A x`, node i's new feature is Σ_j a_ij x_j.

#include <Kokkos_Core.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "../core/error.hpp"
#include "../core/execution.hpp"
#include "../core/scalar.hpp"

namespace frugal::graph {

/// How `csr_graph::from_edges` turns an edge list into an adjacency matrix.
struct build_options {
  /// Adds j → i for every i → j (an undirected graph, as GCN and GraphSAGE assume).
  bool symmetrize = true;
  /// Adds i → i for every node (Kipf and Welling's Â = A + I, so a node keeps its own feature).
  bool self_loops = false;
};

/// How `csr_graph::normalized` rescales the edge values.
enum class normalization {
  /// D^{-1/2} A D^{-1/2} with D the row sums (GCN's propagation matrix for a symmetric A).
  symmetric,
  /// D^{-1} A: each row averages its neighbours (GraphSAGE's mean aggregator).
  mean,
};

/// An n × n sparse adjacency matrix in CSR form.
/// \tparam S float or double: the edge values
/// \tparam MemorySpace where the three Views live; graphs are built on the host and copied with
///         `to<OtherSpace>()`
template <Scalar S, class MemorySpace = Kokkos::HostSpace>
class csr_graph {
 public:
  using scalar_type = S;
  using memory_space = MemorySpace;
  /// Node ids are 32-bit (half the index traffic of 64-bit ids); offsets are 64-bit.
  using ordinal_type = std::int32_t;
  using row_map_type = Kokkos::View<index_t*, MemorySpace>;
  using entries_type = Kokkos::View<ordinal_type*, MemorySpace>;
  using values_type = Kokkos::View<S*, MemorySpace>;

  csr_graph() = default;

  /// Adopts CSR arrays, checking that they describe a valid n × n matrix (offsets start at 0 and
  /// never decrease, columns in [0, n), strictly increasing within a row). Host memory only: the
  /// check reads the arrays.
  csr_graph(index_t num_nodes, row_map_type row_map, entries_type entries, values_type values)
      : m_num_nodes(num_nodes),
        m_row_map(std::move(row_map)),
        m_entries(std::move(entries)),
        m_values(std::move(values)) {
    static_assert(Kokkos::SpaceAccessibility<Kokkos::HostSpace, MemorySpace>::accessible,
                  "frugal::graph::csr_graph: build on the host, then copy with to<MemorySpace>()");
    validate();
  }

  /// The adjacency matrix of an edge list: edge e goes from `src[e]` to `dst[e]`, so row `dst[e]`
  /// gains column `src[e]` (node dst aggregates from node src). Repeated edges count once; every
  /// value is 1.
  /// \throws invalid_argument if the lists differ in length, an id is outside [0, num_nodes), or
  ///         num_nodes does not fit 32-bit node ids
  [[nodiscard]] static csr_graph from_edges(
      index_t num_nodes, std::span<const std::int64_t> src, std::span<const std::int64_t> dst,
      build_options options = {}) requires std::is_same_v<MemorySpace, Kokkos::HostSpace> {
    constexpr auto where = "frugal::graph::csr_graph::from_edges";
    check(num_nodes > 0 && num_nodes <= std::numeric_limits<ordinal_type>::max(), where, ": num_nodes is ", num_nodes,
          ", must be in [1, ", std::numeric_limits<ordinal_type>::max(), "]");
    check(src.size() == dst.size(), where, ": ", src.size(), " sources but ", dst.size(), " destinations");
    for (std::size_t e = 0; e < src.size(); ++e)
      check(src[e] >= 0 && src[e] < num_nodes && dst[e] >= 0 && dst[e] < num_nodes, where, ": edge ", e, " is ", src[e],
            " -> ", dst[e], ", outside [0, ", num_nodes, ")");

    // Counting sort by row, then sort and deduplicate each row: O(E log d), deterministic.
    const auto n = static_cast<std::size_t>(num_nodes);
    std::vector<index_t> count(n + 1, 0);
    auto for_each_entry = [&](auto&& emit) {
      for (std::size_t e = 0; e < src.size(); ++e) {
        emit(dst[e], src[e]);
        if (options.symmetrize && src[e] != dst[e]) emit(src[e], dst[e]);
      }
      if (options.self_loops)
        for (index_t i = 0; i < num_nodes; ++i) emit(i, i);
    };
    for_each_entry([&](std::int64_t row, std::int64_t) { ++count[static_cast<std::size_t>(row) + 1]; });
    for (std::size_t i = 0; i < n; ++i) count[i + 1] += count[i];
    std::vector<ordinal_type> cols(static_cast<std::size_t>(count[n]));
    std::vector<index_t> next(count.begin(), count.end() - 1);
    for_each_entry([&](std::int64_t row, std::int64_t col) {
      cols[static_cast<std::size_t>(next[static_cast<std::size_t>(row)]++)] = static_cast<ordinal_type>(col);
    });

    row_map_type row_map(Kokkos::view_alloc(Kokkos::WithoutInitializing, "frugal::graph::row_map"), n + 1);
    std::vector<ordinal_type> kept;
    kept.reserve(cols.size());
    row_map(0) = 0;
    for (std::size_t i = 0; i < n; ++i) {
      auto first = cols.begin() + count[i], last = cols.begin() + count[i + 1];
      std::sort(first, last);
      kept.insert(kept.end(), first, std::unique(first, last));
      row_map(i + 1) = static_cast<index_t>(kept.size());
    }
    entries_type entries(Kokkos::view_alloc(Kokkos::WithoutInitializing, "frugal::graph::entries"), kept.size());
    std::copy(kept.begin(), kept.end(), entries.data());
    values_type values(Kokkos::view_alloc(Kokkos::WithoutInitializing, "frugal::graph::values"), kept.size());
    std::fill_n(values.data(), kept.size(), S(1));
    csr_graph g;
    g.m_num_nodes = num_nodes;
    g.m_row_map = row_map;
    g.m_entries = entries;
    g.m_values = values;
    return g;
  }

  [[nodiscard]] index_t num_nodes() const noexcept { return m_num_nodes; }
  /// Stored entries (an undirected edge counts twice, a self loop once).
  [[nodiscard]] index_t num_entries() const noexcept { return static_cast<index_t>(m_entries.extent(0)); }
  [[nodiscard]] const row_map_type& row_map() const noexcept { return m_row_map; }
  [[nodiscard]] const entries_type& entries() const noexcept { return m_entries; }
  [[nodiscard]] const values_type& values() const noexcept { return m_values; }

  /// Entries in row i (host memory only).
  [[nodiscard]] index_t degree(index_t i) const { return m_row_map(i + 1) - m_row_map(i); }

  /// A copy whose values are rescaled by `how`; rows that sum to zero (isolated nodes) stay zero.
  [[nodiscard]] csr_graph normalized(normalization how) const {
    host_only("normalized");
    std::vector<double> row_sum(static_cast<std::size_t>(m_num_nodes), 0.0);
    for (index_t i = 0; i < m_num_nodes; ++i)
      for (index_t k = m_row_map(i); k < m_row_map(i + 1); ++k) row_sum[static_cast<std::size_t>(i)] += m_values(k);
    auto inverse = [](double d, double power) { return d > 0 ? std::pow(d, -power) : 0.0; };
    values_type values(Kokkos::view_alloc(Kokkos::WithoutInitializing, "frugal::graph::values"), m_values.extent(0));
    for (index_t i = 0; i < m_num_nodes; ++i) {
      const double di = row_sum[static_cast<std::size_t>(i)];
      for (index_t k = m_row_map(i); k < m_row_map(i + 1); ++k) {
        const double dj = row_sum[static_cast<std::size_t>(m_entries(k))];
        const double scale = how == normalization::mean ? inverse(di, 1.0) : inverse(di, 0.5) * inverse(dj, 0.5);
        values(k) = static_cast<S>(static_cast<double>(m_values(k)) * scale);
      }
    }
    csr_graph g = *this;
    g.m_values = values;
    return g;
  }

  /// A copy with a_ii set to 1 wherever row i had no diagonal entry (Â = A + I for a graph
  /// built without self loops, such as `make_sbm`'s); existing diagonal values are kept.
  [[nodiscard]] csr_graph with_self_loops() const {
    host_only("with_self_loops");
    const auto n = static_cast<std::size_t>(m_num_nodes);
    row_map_type row_map(Kokkos::view_alloc(Kokkos::WithoutInitializing, "frugal::graph::row_map"), n + 1);
    std::vector<ordinal_type> cols;
    std::vector<S> vals;
    cols.reserve(static_cast<std::size_t>(num_entries()) + n);
    vals.reserve(cols.capacity());
    row_map(0) = 0;
    for (index_t i = 0; i < m_num_nodes; ++i) {
      bool placed = false;
      for (index_t k = m_row_map(i); k < m_row_map(i + 1); ++k) {
        if (!placed && m_entries(k) >= i) {
          if (m_entries(k) != i) {
            cols.push_back(static_cast<ordinal_type>(i));
            vals.push_back(S(1));
          }
          placed = true;
        }
        cols.push_back(m_entries(k));
        vals.push_back(m_values(k));
      }
      if (!placed) {
        cols.push_back(static_cast<ordinal_type>(i));
        vals.push_back(S(1));
      }
      row_map(static_cast<std::size_t>(i) + 1) = static_cast<index_t>(cols.size());
    }
    entries_type entries(Kokkos::view_alloc(Kokkos::WithoutInitializing, "frugal::graph::entries"), cols.size());
    values_type values(Kokkos::view_alloc(Kokkos::WithoutInitializing, "frugal::graph::values"), vals.size());
    std::copy(cols.begin(), cols.end(), entries.data());
    std::copy(vals.begin(), vals.end(), values.data());
    return adopt(m_num_nodes, row_map, entries, values);
  }

  /// Aᵀ, the matrix of the backward pass (a node's gradient flows back to the nodes it read
  /// from). Columns stay sorted within each row.
  [[nodiscard]] csr_graph transposed() const {
    host_only("transposed");
    const auto n = static_cast<std::size_t>(m_num_nodes);
    // Filled by hand rather than by an initialising allocation, which would dispatch a kernel on the
    // memory space's default execution space (not allowed from a thread Kokkos does not own).
    row_map_type row_map(Kokkos::view_alloc(Kokkos::WithoutInitializing, "frugal::graph::row_map"), n + 1);
    std::fill_n(row_map.data(), n + 1, index_t{0});
    for (index_t k = 0; k < num_entries(); ++k) ++row_map(static_cast<std::size_t>(m_entries(k)) + 1);
    for (std::size_t i = 0; i < n; ++i) row_map(i + 1) += row_map(i);
    entries_type entries(Kokkos::view_alloc(Kokkos::WithoutInitializing, "frugal::graph::entries"), num_entries());
    values_type values(Kokkos::view_alloc(Kokkos::WithoutInitializing, "frugal::graph::values"), num_entries());
    std::vector<index_t> next(row_map.data(), row_map.data() + n);
    for (index_t i = 0; i < m_num_nodes; ++i)
      for (index_t k = m_row_map(i); k < m_row_map(i + 1); ++k) {
        const index_t at = next[static_cast<std::size_t>(m_entries(k))]++;
        entries(at) = static_cast<ordinal_type>(i);
        values(at) = m_values(k);
      }
    csr_graph g;
    g.m_num_nodes = m_num_nodes;
    g.m_row_map = row_map;
    g.m_entries = entries;
    g.m_values = values;
    return g;
  }

  /// A deep copy in the same (host) space, made without copying a View of this graph: Kokkos
  /// counts View copies with atomics only when a threaded back end is enabled, so threads of one
  /// process (in-process ranks) that take copies of one graph at once must clone it instead.
  [[nodiscard]] csr_graph clone() const {
    host_only("clone");
    const auto n = static_cast<std::size_t>(m_num_nodes);
    row_map_type row_map(Kokkos::view_alloc(Kokkos::WithoutInitializing, "frugal::graph::row_map"), n + 1);
    entries_type entries(Kokkos::view_alloc(Kokkos::WithoutInitializing, "frugal::graph::entries"), num_entries());
    values_type values(Kokkos::view_alloc(Kokkos::WithoutInitializing, "frugal::graph::values"), num_entries());
    std::copy_n(m_row_map.data(), n + 1, row_map.data());
    std::copy_n(m_entries.data(), num_entries(), entries.data());
    std::copy_n(m_values.data(), num_entries(), values.data());
    return adopt(m_num_nodes, std::move(row_map), std::move(entries), std::move(values));
  }

  /// Whether A equals Aᵀ, values included (then the backward pass reuses A).
  [[nodiscard]] bool is_symmetric() const {
    const csr_graph t = transposed();
    for (index_t i = 0; i <= m_num_nodes; ++i)
      if (t.m_row_map(i) != m_row_map(i)) return false;
    for (index_t k = 0; k < num_entries(); ++k)
      if (t.m_entries(k) != m_entries(k) || t.m_values(k) != m_values(k)) return false;
    return true;
  }

  /// A deep copy in another memory space (a GPU's, for kernels that run there).
  template <class OtherSpace>
  [[nodiscard]] csr_graph<S, OtherSpace> to() const {
    auto copy = [](const auto& v) {
      auto out = Kokkos::create_mirror_view_and_copy(OtherSpace{}, v);
      return out;
    };
    return csr_graph<S, OtherSpace>::adopt(m_num_nodes, copy(m_row_map), copy(m_entries), copy(m_values));
  }

  /// Bytes of the three arrays.
  [[nodiscard]] std::size_t bytes() const noexcept {
    return m_row_map.span() * sizeof(index_t) + m_entries.span() * sizeof(ordinal_type) + m_values.span() * sizeof(S);
  }

  /// Adopts arrays already known to be valid (copies of a checked graph), in any memory space.
  [[nodiscard]] static csr_graph adopt(index_t num_nodes, row_map_type row_map, entries_type entries,
                                       values_type values) {
    csr_graph g;
    g.m_num_nodes = num_nodes;
    g.m_row_map = std::move(row_map);
    g.m_entries = std::move(entries);
    g.m_values = std::move(values);
    return g;
  }

 private:
  void host_only(const char* what) const {
    static_assert(Kokkos::SpaceAccessibility<Kokkos::HostSpace, MemorySpace>::accessible,
                  "frugal::graph::csr_graph: this operation runs on the host; build and normalise there, then copy");
    (void)what;
  }

  void validate() const {
    constexpr auto where = "frugal::graph::csr_graph";
    check(m_num_nodes >= 0 && m_num_nodes <= std::numeric_limits<ordinal_type>::max(), where, ": num_nodes is ",
          m_num_nodes);
    check_extent(where, "row map length", static_cast<index_t>(m_row_map.extent(0)), m_num_nodes + 1);
    check(m_row_map(0) == 0, where, ": row map starts at ", m_row_map(0), ", must start at 0");
    check_extent(where, "values vs entries", static_cast<index_t>(m_values.extent(0)),
                 static_cast<index_t>(m_entries.extent(0)));
    check(m_row_map(m_num_nodes) == num_entries(), where, ": row map ends at ", m_row_map(m_num_nodes),
          " but there are ", num_entries(), " entries");
    for (index_t i = 0; i < m_num_nodes; ++i) {
      check(m_row_map(i + 1) >= m_row_map(i), where, ": row map decreases at row ", i);
      for (index_t k = m_row_map(i); k < m_row_map(i + 1); ++k) {
        check(m_entries(k) >= 0 && m_entries(k) < m_num_nodes, where, ": row ", i, " has column ", m_entries(k),
              ", outside [0, ", m_num_nodes, ")");
        check(k == m_row_map(i) || m_entries(k) > m_entries(k - 1), where, ": row ", i,
              " has columns out of order or repeated at entry ", k);
      }
    }
  }

  index_t m_num_nodes = 0;
  row_map_type m_row_map;
  entries_type m_entries;
  values_type m_values;
};

}  // namespace frugal::graph
