#pragma once
/// \file
/// `partition_metis`: METIS's multilevel graph partitioner behind frugal's `partition` type.
///
/// METIS is optional. frugal's CMake package defines `FRUGAL_HAVE_METIS` and links `-lmetis`
/// through the target `frugal::metis` when it finds METIS 5 (in frugal's build and in a
/// consumer's); a build without CMake defines the macro and links `-lmetis` itself. Without it
/// `partition_metis` still compiles and throws, naming `partition_contiguous`;
/// `graph::metis_available` says at compile time which case holds.
///
/// This header includes `<metis.h>`, whose global typedefs and macros (`idx_t`, `real_t`, `iabs`,
/// `rabs`, ...) come with it; so `<frugal/graph.hpp>` and `<frugal/frugal.hpp>` leave it out and
/// a program that partitions with METIS includes `<frugal/graph/metis.hpp>` itself.

#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "../core/error.hpp"
#include "../core/execution.hpp"
#include "../core/scalar.hpp"
#include "csr_graph.hpp"
#include "partition.hpp"

#if defined(FRUGAL_HAVE_METIS) && __has_include(<metis.h>)
#include <metis.h>
#define FRUGAL_GRAPH_WITH_METIS_ 1
#else
#define FRUGAL_GRAPH_WITH_METIS_ 0
#endif

namespace frugal::graph {

/// Whether `partition_metis` calls METIS (true) or throws (false).
inline constexpr bool metis_available = FRUGAL_GRAPH_WITH_METIS_ != 0;

/// Which of METIS's two partitioners `partition_metis` calls.
enum class metis_method {
  /// Recursive bisection for up to 8 parts, k-way above (the METIS manual's split). Up to 8
  /// parts bisection keeps the parts within 0.2 % of the mean where k-way uses its whole
  /// tolerance, for 0–12 % more cut (docs/graph.md); a pipeline stage waits for its largest
  /// chunk, so balance wins there. Communication volume always takes k-way.
  automatic,
  kway,       ///< METIS_PartGraphKway: multilevel k-way refinement
  recursive,  ///< METIS_PartGraphRecursive: multilevel recursive bisection
};

/// What METIS minimises.
enum class metis_objective {
  edge_cut,              ///< cut edges (the default; the only one recursive bisection has)
  communication_volume,  ///< Σ_p |halo of p| (k-way only): the rows a halo exchange sends
};

/// Options of `partition_metis`.
struct partition_options {
  /// METIS_OPTION_SEED: the same seed on the same graph gives the same partition.
  std::int32_t seed = 1;
  /// Largest part allowed over the mean, as METIS_OPTION_UFACTOR = round(1000·(x − 1)); METIS
  /// aims for it but may exceed it slightly on small or irregular graphs.
  double max_imbalance = 1.03;
  metis_method method = metis_method::automatic;
  metis_objective objective = metis_objective::edge_cut;
};

/// A METIS partition of `g` into `parts` parts. METIS wants an undirected graph without self
/// loops, so this hands it `g`'s undirected pattern (j ~ i when a_ij or a_ji is stored, i ≠ j,
/// unit weights): a directed graph is symmetrised rather than refused, since a cut edge costs
/// communication in either direction (the forward pass reads A's columns, the backward pass
/// Aᵀ's). Edge values are ignored. `parts == 1` returns the trivial partition without calling
/// METIS. METIS may leave a part empty on a graph with very few nodes per part.
/// \throws invalid_argument unless 1 ≤ parts ≤ num_nodes, or for options out of range
/// \throws error when frugal was built without METIS (the message names `partition_contiguous`),
///         or when METIS returns an error code (named in the message)
template <Scalar S>
[[nodiscard]] partition partition_metis(const csr_graph<S>& g, int parts, const partition_options& options = {}) {
  constexpr auto where = "frugal::graph::partition_metis";
  detail::check_parts(where, g.num_nodes(), parts);
  check(options.seed >= 0, where, ": seed = ", options.seed, ", need ≥ 0");
  check(options.max_imbalance >= 1.0 && options.max_imbalance <= 3.0, where,
        ": max_imbalance = ", options.max_imbalance, ", need [1, 3]");
  const bool recursive =
      options.method == metis_method::recursive ||
      (options.method == metis_method::automatic && parts <= 8 && options.objective == metis_objective::edge_cut);
  check(!(recursive && options.objective == metis_objective::communication_volume), where,
        ": recursive bisection minimises only the edge cut; use metis_method::kway for communication_volume");
#if FRUGAL_GRAPH_WITH_METIS_
  if (parts == 1)
    return partition{.parts = 1, .part_of = std::vector<std::int32_t>(static_cast<std::size_t>(g.num_nodes()), 0)};
  const detail::symmetric_pattern pattern = detail::make_symmetric_pattern(g);
  check(static_cast<index_t>(pattern.neighbours.size()) <= static_cast<index_t>(std::numeric_limits<idx_t>::max()),
        where, ": ", pattern.neighbours.size(), " adjacency entries do not fit METIS's ", sizeof(idx_t) * 8,
        "-bit idx_t");
  std::vector<idx_t> xadj(pattern.offsets.begin(), pattern.offsets.end());
  std::vector<idx_t> adjncy(pattern.neighbours.begin(), pattern.neighbours.end());
  idx_t nvtxs = static_cast<idx_t>(g.num_nodes()), ncon = 1, nparts = parts, objval = 0;
  std::vector<idx_t> part(static_cast<std::size_t>(g.num_nodes()), 0);
  idx_t opts[METIS_NOPTIONS];
  METIS_SetDefaultOptions(opts);
  opts[METIS_OPTION_SEED] = static_cast<idx_t>(options.seed);
  opts[METIS_OPTION_UFACTOR] = static_cast<idx_t>(std::lround((options.max_imbalance - 1.0) * 1000.0));
  opts[METIS_OPTION_NUMBERING] = 0;
  opts[METIS_OPTION_OBJTYPE] = options.objective == metis_objective::edge_cut ? METIS_OBJTYPE_CUT : METIS_OBJTYPE_VOL;
  auto* call = recursive ? &METIS_PartGraphRecursive : &METIS_PartGraphKway;
  const int status = call(&nvtxs, &ncon, xadj.data(), adjncy.data(), nullptr, nullptr, nullptr, &nparts, nullptr,
                          nullptr, opts, &objval, part.data());
  const char* name = recursive ? "METIS_PartGraphRecursive" : "METIS_PartGraphKway";
  check<error>(status != METIS_ERROR_INPUT, where, ": ", name, " returned METIS_ERROR_INPUT (", g.num_nodes(),
               " nodes, ", pattern.neighbours.size(), " adjacency entries, ", parts, " parts)");
  check<error>(status != METIS_ERROR_MEMORY, where, ": ", name, " returned METIS_ERROR_MEMORY (", g.num_nodes(),
               " nodes, ", pattern.neighbours.size(), " adjacency entries)");
  check<error>(status == METIS_OK, where, ": ", name, " failed with status ", status);
  partition p{.parts = parts, .part_of = std::vector<std::int32_t>(part.begin(), part.end())};
  p.validate(where, g.num_nodes());
  return p;
#else
  throw error(
      frugal::detail::concat(where, ": frugal was built without METIS (FRUGAL_HAVE_METIS undefined or <metis.h> ",
                             "not found); install METIS 5 and reconfigure, or use graph::partition_contiguous"));
#endif
}

}  // namespace frugal::graph

#undef FRUGAL_GRAPH_WITH_METIS_
