// Partitions of GNN graphs into chunks or workers: METIS (when frugal found it; its default and,
// up to 8 parts where the default bisects recursively, its k-way partitioner) beside the
// Cuthill–McKee runs fallback and plain id blocks (the baseline), all measured in the same run.
// For each: the cut (stored entries whose ends lie in different parts, of Â = A + I), the
// balance, the share of entries GNNPipe reads from a later chunk (historical embeddings, chunks
// in part order), the halo rows graph parallelism exchanges per layer and their bytes at 64 float
// features, and the time the partitioner took (median, single-threaded).
//
//   bench_partition                         SBM 4000 and 100k nodes (degree 10), a shuffled 200 x 200 grid
//   bench_partition --nodes 50000 --parts 4 8 --reps 5

#include <frugal/graph.hpp>
#include <frugal/graph/metis.hpp>

#include <Kokkos_Core.hpp>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <numeric>
#include <string>
#include <vector>

#include "../common/timing.hpp"

using namespace frugal;

namespace {

graph::csr_graph<float> shuffled_grid(index_t side, std::uint64_t seed) {
  std::vector<std::int64_t> id(static_cast<std::size_t>(side * side));
  std::iota(id.begin(), id.end(), 0);
  rng gen(seed);
  std::shuffle(id.begin(), id.end(), gen);
  std::vector<std::int64_t> src, dst;
  for (index_t r = 0; r < side; ++r)
    for (index_t c = 0; c < side; ++c) {
      const auto at = [&](index_t rr, index_t cc) { return id[static_cast<std::size_t>(rr * side + cc)]; };
      if (c + 1 < side) src.push_back(at(r, c)), dst.push_back(at(r, c + 1));
      if (r + 1 < side) src.push_back(at(r, c)), dst.push_back(at(r + 1, c));
    }
  return graph::csr_graph<float>::from_edges(side * side, src, dst);
}

void report(const char* name, const graph::csr_graph<float>& a, const std::vector<int>& parts_list, int reps) {
  struct method {
    const char* name;
    std::function<graph::partition(int)> run;
  };
  std::vector<method> methods;
  if constexpr (graph::metis_available) {
    methods.push_back({"METIS", [&](int parts) { return graph::partition_metis(a, parts); }});
    // The default takes recursive bisection up to 8 parts; k-way beside it shows what that buys.
    methods.push_back({"METIS k-way", [&](int parts) {
                         return graph::partition_metis(a, parts, {.method = graph::metis_method::kway});
                       }});
  }
  methods.push_back({"Cuthill–McKee runs", [&](int parts) { return graph::partition_contiguous(a, parts); }});
  methods.push_back({"id blocks", [&](int parts) { return graph::partition_blocks(a.num_nodes(), parts); }});
  for (int parts : parts_list)
    for (const auto& m : methods) {
      if (parts > 8 && !std::strcmp(m.name, "METIS k-way")) continue;  // the default is k-way there
      graph::partition p;
      const double seconds = bench::time_median([&] { p = m.run(parts); }, reps, std::min(reps, 3), 2.0);
      const index_t cut = p.edge_cut(a);
      const auto chunks = graph::plan_chunks(a, p);
      const auto halos = graph::plan_halos(a, p);
      std::printf("| %s | %lld | %lld | %d | %s | %lld | %.1f %% | %.3f | %.1f %% | %lld | %.2f | %.1f |\n", name,
                  static_cast<long long>(a.num_nodes()), static_cast<long long>(a.num_entries()), parts, m.name,
                  static_cast<long long>(cut), 100.0 * static_cast<double>(cut) / static_cast<double>(a.num_entries()),
                  p.balance(), 100.0 * chunks.historical_fraction(), static_cast<long long>(halos.halo_nodes()),
                  static_cast<double>(halos.halo_bytes_per_layer(64, sizeof(float))) / (1 << 20), 1e3 * seconds);
      std::fflush(stdout);
    }
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<index_t> nodes{4000, 100000};
  std::vector<int> parts{4, 8, 16};
  index_t grid_side = 200;
  int reps = 5;
  for (int i = 1; i < argc; ++i) {
    const auto list = [&](auto& out) {
      out.clear();
      while (i + 1 < argc && argv[i + 1][0] != '-') out.push_back(std::atoi(argv[++i]));
    };
    if (!std::strcmp(argv[i], "--nodes")) {
      std::vector<int> n;
      list(n);
      nodes.assign(n.begin(), n.end());
    }
    if (!std::strcmp(argv[i], "--parts")) list(parts);
    if (!std::strcmp(argv[i], "--grid") && i + 1 < argc) grid_side = std::atoll(argv[++i]);
    if (!std::strcmp(argv[i], "--reps") && i + 1 < argc) reps = std::max(1, std::atoi(argv[++i]));
  }
  Kokkos::ScopeGuard kokkos(argc, argv);
  std::printf(
      "METIS: %s. Cut: entries of Â = A + I across parts; historical: share of entries GNNPipe reads from "
      "a later chunk; halo: rows received per layer, all workers, MiB at 64 float features.\n\n",
      graph::metis_available ? "yes" : "no (frugal built without it)");
  std::printf(
      "| graph | nodes | entries | parts | method | cut | cut %% | balance | historical | halo rows | halo MiB "
      "| time ms |\n|---|---|---|---|---|---|---|---|---|---|---|---|\n");
  for (index_t n : nodes) {
    const auto d = graph::make_sbm<float>({.nodes = n, .features = 1});
    report("SBM", d.graph.with_self_loops(), parts, reps);
  }
  report("grid (shuffled ids)", shuffled_grid(grid_side, 1).with_self_loops(), parts, reps);
  return 0;
}
