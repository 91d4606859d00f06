// frugal::graph partitions and the bookkeeping built on them: METIS, Cuthill–McKee runs and id
// blocks on an SBM graph and a 2D grid (validity, balance, cut against the id-block baseline,
// seeds), chunk plans and halo plans against brute-force counts over every entry, the renumbered
// graph against the original (Y = A X commutes with the permutation), and the exactness check
// graph parallelism rests on: each worker's local spmm over [owned; halo] gives the global rows.
#include <doctest/doctest.h>

#include <frugal/graph.hpp>
#include <frugal/graph/metis.hpp>

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <set>
#include <vector>

#include "test_support.hpp"

using namespace frugal;

namespace {

// A rows x cols grid, 4-neighbour, undirected. With `gen`, node ids are shuffled, so that id
// ranges say nothing about where a node is.
graph::csr_graph<double> grid_graph(index_t rows, index_t cols, rng* gen = nullptr) {
  const index_t n = rows * cols;
  std::vector<std::int64_t> id(static_cast<std::size_t>(n));
  std::iota(id.begin(), id.end(), 0);
  if (gen) std::shuffle(id.begin(), id.end(), *gen);
  std::vector<std::int64_t> src, dst;
  for (index_t r = 0; r < rows; ++r)
    for (index_t c = 0; c < cols; ++c) {
      const auto at = [&](index_t rr, index_t cc) { return id[static_cast<std::size_t>(rr * cols + cc)]; };
      if (c + 1 < cols) src.push_back(at(r, c)), dst.push_back(at(r, c + 1));
      if (r + 1 < rows) src.push_back(at(r, c)), dst.push_back(at(r + 1, c));
    }
  return graph::csr_graph<double>::from_edges(n, src, dst);
}

// Random directed edges with repeats and self loops, random values: an operator like a
// normalised directed graph plus self loops, but with nothing regular about it.
graph::csr_graph<double> random_operator(index_t n, index_t m, rng& gen) {
  std::vector<std::int64_t> src, dst;
  for (index_t k = 0; k < m; ++k) {
    src.push_back(static_cast<std::int64_t>(gen.uniform_int(static_cast<std::uint64_t>(n))));
    dst.push_back(static_cast<std::int64_t>(gen.uniform_int(static_cast<std::uint64_t>(n))));
  }
  auto g = graph::csr_graph<double>::from_edges(n, src, dst, {.symmetrize = false, .self_loops = true});
  for (index_t k = 0; k < g.num_entries(); ++k) g.values()(k) = gen.uniform(-1, 1);
  return g;
}

graph::partition random_partition(index_t n, int parts, rng& gen) {
  graph::partition p{.parts = parts, .part_of = std::vector<std::int32_t>(static_cast<std::size_t>(n))};
  for (auto& part : p.part_of) part = static_cast<std::int32_t>(gen.uniform_int(static_cast<std::uint64_t>(parts)));
  return p;
}

// Every node in exactly one part (the part_of vector says so by construction; check the per-part
// lists agree with it and cover [0, n) once).
void check_covers(const graph::partition& p, index_t n) {
  REQUIRE(p.num_nodes() == n);
  std::vector<int> seen(static_cast<std::size_t>(n), 0);
  const auto lists = p.all_nodes();
  REQUIRE(lists.size() == static_cast<std::size_t>(p.parts));
  const auto sizes = p.sizes();
  for (std::int32_t q = 0; q < p.parts; ++q) {
    const auto& nodes = lists[static_cast<std::size_t>(q)];
    CHECK(nodes == p.nodes(q));
    CHECK(static_cast<index_t>(nodes.size()) == sizes[static_cast<std::size_t>(q)]);
    CHECK(std::is_sorted(nodes.begin(), nodes.end()));
    for (std::int32_t i : nodes) {
      ++seen[static_cast<std::size_t>(i)];
      CHECK(p.part_of[static_cast<std::size_t>(i)] == q);
    }
  }
  CHECK(std::all_of(seen.begin(), seen.end(), [](int s) { return s == 1; }));
}

index_t brute_cut(const graph::csr_graph<double>& g, const graph::partition& p) {
  index_t cut = 0;
  for (index_t i = 0; i < g.num_nodes(); ++i)
    for (index_t k = g.row_map()(i); k < g.row_map()(i + 1); ++k)
      if (p.part_of[static_cast<std::size_t>(i)] != p.part_of[static_cast<std::size_t>(g.entries()(k))]) ++cut;
  return cut;
}

// y = A x with x and y n x f row-major std::vectors.
std::vector<double> aggregate(const graph::csr_graph<double>& a, const std::vector<double>& x, index_t f) {
  std::vector<double> y(static_cast<std::size_t>(a.num_nodes() * f));
  graph::spmm(a, graph::features_view<const double>(x.data(), a.num_nodes(), f),
              graph::features_view<double>(y.data(), a.num_nodes(), f));
  return y;
}

std::vector<double> random_features(index_t n, index_t f, rng& gen) {
  std::vector<double> x(static_cast<std::size_t>(n * f));
  for (double& v : x) v = gen.uniform(-1, 1);
  return x;
}

}  // namespace

TEST_CASE("partition_blocks and partition_contiguous: equal runs, every node once, deterministic; bad counts refused") {
  const auto blocks = graph::partition_blocks(10, 3);
  CHECK(blocks.part_of == std::vector<std::int32_t>{0, 0, 0, 0, 1, 1, 1, 2, 2, 2});
  CHECK(blocks.sizes() == std::vector<index_t>{4, 3, 3});
  CHECK(blocks.balance() == doctest::Approx(4.0 / (10.0 / 3)));
  check_covers(graph::partition_blocks(7, 7), 7);

  // A path with shuffled ids: the pseudo-peripheral search finds an end, so the order walks the
  // path and every run is a segment (cut: one edge, two entries, per boundary).
  rng gen(3);
  const auto path = grid_graph(1, 50, &gen);
  const auto order = graph::cuthill_mckee_order(path);
  std::vector<std::int32_t> sorted = order;
  std::sort(sorted.begin(), sorted.end());
  std::vector<std::int32_t> iota(50);
  std::iota(iota.begin(), iota.end(), 0);
  CHECK(sorted == iota);
  CHECK(path.degree(order.front()) == 1);
  CHECK(path.degree(order.back()) == 1);
  for (std::size_t t = 0; t + 1 < order.size(); ++t) {
    const auto* first = path.entries().data() + path.row_map()(order[t]);
    const auto* last = path.entries().data() + path.row_map()(order[t] + 1);
    CHECK(std::find(first, last, order[t + 1]) != last);  // consecutive in the order = neighbours
  }
  const auto runs = graph::partition_contiguous(path, 5);
  check_covers(runs, 50);
  CHECK(runs.balance() == 1.0);
  CHECK(runs.edge_cut(path) == 2 * 4);

  // Several components, isolated nodes among them: still a permutation, still equal runs.
  const std::vector<std::int64_t> src{0, 1, 5, 6, 8}, dst{1, 2, 6, 7, 9};
  const auto pieces = graph::csr_graph<double>::from_edges(11, src, dst);
  const auto split = graph::partition_contiguous(pieces, 3);
  check_covers(split, 11);
  CHECK(split.sizes() == std::vector<index_t>{4, 4, 3});
  CHECK(split.part_of == graph::partition_contiguous(pieces, 3).part_of);  // deterministic

  // Shuffled grid: Cuthill–McKee runs cut far less than id blocks (which are random here).
  const auto grid = grid_graph(40, 40, &gen);
  const auto contiguous = graph::partition_contiguous(grid, 4);
  const auto by_id = graph::partition_blocks(grid.num_nodes(), 4);
  check_covers(contiguous, grid.num_nodes());
  CHECK(contiguous.edge_cut(grid) == brute_cut(grid, contiguous));
  CHECK(by_id.edge_cut(grid) == brute_cut(grid, by_id));
  INFO("contiguous cut " << contiguous.edge_cut(grid) << ", id blocks " << by_id.edge_cut(grid));
  CHECK(2 * contiguous.edge_cut(grid) <= by_id.edge_cut(grid));

  CHECK_THROWS_WITH_AS(graph::partition_blocks(5, 0), doctest::Contains("parts = 0"), invalid_argument);
  CHECK_THROWS_WITH_AS(graph::partition_contiguous(pieces, 12), doctest::Contains("parts = 12, need 1 to the node"),
                       invalid_argument);
  graph::partition bad{.parts = 2, .part_of = {0, 2, 1}};
  CHECK_THROWS_WITH_AS(bad.validate("here", 3), doctest::Contains("node 1 is in part 2"), invalid_argument);
  CHECK_THROWS_AS(bad.validate("here", 4), shape_error);
  CHECK_THROWS_AS((void)split.edge_cut(grid), shape_error);
}

TEST_CASE("partition_metis: SBM and grid partitions are valid, balanced, cut far less than id blocks, reproducible") {
  const auto sbm = graph::make_sbm<double>({.nodes = 4000, .features = 4});
  rng gen(5);
  const auto grid = grid_graph(60, 60, &gen);
  if constexpr (!graph::metis_available) {
    CHECK_THROWS_WITH_AS(graph::partition_metis(grid, 4), doctest::Contains("graph::partition_contiguous"), error);
    MESSAGE("frugal built without METIS: partition_metis throws as documented; METIS cases skipped");
    return;
  }
  for (const auto* g : {&sbm.graph, &grid}) {
    const auto by_id = graph::partition_blocks(g->num_nodes(), 4);
    for (int parts : {2, 4, 16}) {
      const auto p = graph::partition_metis(*g, parts);
      check_covers(p, g->num_nodes());
      CHECK(p.balance() <= 1.1);
      if (parts == 4) {
        INFO("METIS cut " << p.edge_cut(*g) << ", id blocks " << by_id.edge_cut(*g) << " of " << g->num_entries());
        CHECK(2 * p.edge_cut(*g) <= by_id.edge_cut(*g));
        CHECK(p.edge_cut(*g) == brute_cut(*g, p));
      }
      CHECK(graph::partition_metis(*g, parts).part_of == p.part_of);  // same seed, same partition
    }
  }
  // On the grid METIS's 4 parts cut about 4 · 60 entries; Cuthill–McKee runs (strips along a
  // diagonal front) cut more but stay far below id blocks.
  const auto metis = graph::partition_metis(grid, 4), runs = graph::partition_contiguous(grid, 4);
  CHECK(metis.edge_cut(grid) <= runs.edge_cut(grid));
  CHECK(metis.edge_cut(grid) < 8 * 60);

  // Other seeds, methods and objectives: still valid partitions within the tolerance.
  for (const graph::partition_options o :
       {graph::partition_options{.seed = 7}, graph::partition_options{.method = graph::metis_method::kway},
        graph::partition_options{.method = graph::metis_method::recursive},
        graph::partition_options{.max_imbalance = 1.01},
        graph::partition_options{.objective = graph::metis_objective::communication_volume}}) {
    const auto p = graph::partition_metis(sbm.graph, 8, o);
    check_covers(p, sbm.graph.num_nodes());
    CHECK(p.balance() <= 1.1);
  }
  CHECK(graph::partition_metis(grid, 1).part_of == std::vector<std::int32_t>(3600, 0));

  // A directed graph with self loops is partitioned by its undirected pattern; so is one
  // without edges.
  rng draw(9);
  const auto directed = random_operator(300, 900, draw);
  check_covers(graph::partition_metis(directed, 3), 300);
  const auto empty = graph::csr_graph<double>::from_edges(20, std::vector<std::int64_t>{}, std::vector<std::int64_t>{});
  const auto scattered = graph::partition_metis(empty, 4);
  check_covers(scattered, 20);

  CHECK_THROWS_WITH_AS(graph::partition_metis(grid, 0), doctest::Contains("parts = 0"), invalid_argument);
  CHECK_THROWS_WITH_AS(graph::partition_metis(grid, 4, {.max_imbalance = 0.9}),
                       doctest::Contains("max_imbalance = 0.9"), invalid_argument);
  CHECK_THROWS_WITH_AS(graph::partition_metis(grid, 4,
                                              {.method = graph::metis_method::recursive,
                                               .objective = graph::metis_objective::communication_volume}),
                       doctest::Contains("metis_method::kway"), invalid_argument);
}

TEST_CASE("plan_chunks: same, earlier and later counts and node lists match a brute-force count over every entry") {
  rng gen(21);
  const auto g = random_operator(200, 700, gen);
  auto chunks = random_partition(200, 5, gen);
  for (auto& part : chunks.part_of)
    if (part == 3) part = 2;  // chunk 3 is empty
  const auto plan = graph::plan_chunks(g, chunks);
  REQUIRE(plan.num_chunks() == 5);
  CHECK(plan.num_entries == g.num_entries());
  index_t total = 0, later_total = 0, earlier_total = 0, later_nodes = 0;
  for (std::int32_t c = 0; c < 5; ++c) {
    std::vector<std::int32_t> nodes;
    std::set<std::int32_t> same, earlier, later;
    index_t same_n = 0, earlier_n = 0, later_n = 0;
    for (index_t i = 0; i < g.num_nodes(); ++i) {
      if (chunks.part_of[static_cast<std::size_t>(i)] != c) continue;
      nodes.push_back(static_cast<std::int32_t>(i));
      for (index_t k = g.row_map()(i); k < g.row_map()(i + 1); ++k) {
        const std::int32_t j = g.entries()(k), cj = chunks.part_of[static_cast<std::size_t>(j)];
        if (cj == c) ++same_n, same.insert(j);
        if (cj < c) ++earlier_n, earlier.insert(j);
        if (cj > c) ++later_n, later.insert(j);
      }
    }
    const auto& info = plan.chunks[static_cast<std::size_t>(c)];
    CHECK(info.nodes == nodes);
    CHECK(info.same.entries == same_n);
    CHECK(info.earlier.entries == earlier_n);
    CHECK(info.later.entries == later_n);
    CHECK(info.same.nodes == std::vector<std::int32_t>(same.begin(), same.end()));
    CHECK(info.earlier.nodes == std::vector<std::int32_t>(earlier.begin(), earlier.end()));
    CHECK(info.later.nodes == std::vector<std::int32_t>(later.begin(), later.end()));
    total += same_n + earlier_n + later_n;
    later_total += later_n;
    earlier_total += earlier_n;
    later_nodes += static_cast<index_t>(later.size());
  }
  CHECK(plan.chunks[3].nodes.empty());
  CHECK(total == g.num_entries());
  CHECK(plan.historical_entries() == later_total);
  CHECK(plan.earlier_entries() == earlier_total);
  CHECK(plan.historical_nodes() == later_nodes);
  CHECK(plan.historical_fraction() == doctest::Approx(static_cast<double>(later_total) / g.num_entries()));

  // A symmetric operator: half the cut entries read historical values, whatever the order; one
  // chunk reads none.
  const auto sbm = graph::make_sbm<double>({.nodes = 600, .features = 2}).graph.with_self_loops();
  const auto p = graph::partition_contiguous(sbm, 6);
  CHECK(2 * graph::plan_chunks(sbm, p).historical_entries() == p.edge_cut(sbm));
  CHECK(graph::plan_chunks(sbm, graph::partition_blocks(600, 1)).historical_fraction() == 0.0);
  CHECK_THROWS_AS(graph::plan_chunks(sbm, chunks), shape_error);
}

TEST_CASE("contiguous_order and permuted: chunks become id ranges and Y = A X commutes with the renumbering") {
  auto data = graph::make_sbm<double>({.nodes = 500, .classes = 4, .features = 7, .seed = 3});
  const auto a = data.graph.with_self_loops().normalized(graph::normalization::symmetric);
  rng gen(4);
  const auto chunks = random_partition(500, 4, gen);  // scattered chunks: the renumbering has work to do
  const auto perm = graph::contiguous_order(chunks);
  REQUIRE(perm.parts() == 4);
  CHECK(perm.offsets.front() == 0);
  CHECK(perm.offsets.back() == 500);
  const auto ranges = graph::permuted(chunks, perm);
  for (std::int32_t c = 0; c < 4; ++c) {
    for (index_t r = perm.offsets[static_cast<std::size_t>(c)]; r < perm.offsets[static_cast<std::size_t>(c) + 1]; ++r)
      CHECK(ranges.part_of[static_cast<std::size_t>(r)] == c);
    // Within a chunk the old ids stay ascending.
    const auto first = perm.old_id.begin() + perm.offsets[static_cast<std::size_t>(c)];
    CHECK(std::is_sorted(first, perm.old_id.begin() + perm.offsets[static_cast<std::size_t>(c) + 1]));
    CHECK(std::vector<std::int32_t>(first, perm.old_id.begin() + perm.offsets[static_cast<std::size_t>(c) + 1]) ==
          chunks.nodes(c));
  }

  const auto b = graph::permuted(a, perm);
  CHECK(b.num_entries() == a.num_entries());
  CHECK(b.is_symmetric());
  for (index_t i = 0; i < 500; ++i)
    for (index_t k = a.row_map()(i); k < a.row_map()(i + 1); ++k) {
      const index_t r = perm.new_id[static_cast<std::size_t>(i)],
                    col = perm.new_id[static_cast<std::size_t>(a.entries()(k))];
      const auto* first = b.entries().data() + b.row_map()(r);
      const auto* last = b.entries().data() + b.row_map()(r + 1);
      const auto* at = std::lower_bound(first, last, static_cast<std::int32_t>(col));
      REQUIRE(at != last);
      CHECK(*at == col);
      CHECK(b.values()(at - b.entries().data()) == a.values()(k));
    }

  // (P A Pᵀ)(P X) = P (A X), to rounding (rows sum in another order).
  const index_t f = 7;
  const auto x = random_features(500, f, gen);
  const auto y = aggregate(a, x, f);
  nn::tensor<double> xt({500, f}), yt({500, f});
  std::copy(x.begin(), x.end(), xt.data());
  std::copy(y.begin(), y.end(), yt.data());
  const auto px = graph::permuted_rows(xt, perm), py = graph::permuted_rows(yt, perm);
  const auto y_permuted = aggregate(b, std::vector<double>(px.data(), px.data() + px.size()), f);
  for (index_t e = 0; e < 500 * f; ++e)
    CHECK(y_permuted[static_cast<std::size_t>(e)] == doctest::Approx(py[e]).epsilon(1e-12));
  // Chunk c's aggregation is a row range of the renumbered product; its rows equal the old ones.
  for (index_t r = perm.offsets[2]; r < perm.offsets[3]; ++r)
    for (index_t j = 0; j < f; ++j)
      CHECK(y_permuted[static_cast<std::size_t>(r * f + j)] ==
            doctest::Approx(y[static_cast<std::size_t>(perm.old_id[static_cast<std::size_t>(r)] * f + j)])
                .epsilon(1e-12));

  // Chunk statistics do not depend on the numbering.
  const auto before = graph::plan_chunks(a, chunks), after = graph::plan_chunks(b, ranges);
  for (std::int32_t c = 0; c < 4; ++c) {
    CHECK(before.chunks[static_cast<std::size_t>(c)].later.entries ==
          after.chunks[static_cast<std::size_t>(c)].later.entries);
    CHECK(before.chunks[static_cast<std::size_t>(c)].earlier.nodes.size() ==
          after.chunks[static_cast<std::size_t>(c)].earlier.nodes.size());
  }

  // The whole dataset: labels follow their nodes, node sets are renumbered and sorted.
  const auto moved = graph::permuted(data, perm);
  for (index_t i = 0; i < 500; ++i) {
    const auto r = static_cast<std::size_t>(perm.new_id[static_cast<std::size_t>(i)]);
    CHECK(moved.labels[r] == data.labels[static_cast<std::size_t>(i)]);
    CHECK(moved.features[static_cast<index_t>(r) * 7 + 3] == data.features[i * 7 + 3]);
  }
  CHECK(moved.train.size() == data.train.size());
  CHECK(std::is_sorted(moved.train.begin(), moved.train.end()));
  for (index_t i : data.train)
    CHECK(std::binary_search(moved.train.begin(), moved.train.end(), perm.new_id[static_cast<std::size_t>(i)]));
  CHECK(moved.graph.num_entries() == data.graph.num_entries());

  auto broken = perm;
  std::swap(broken.new_id[0], broken.new_id[1]);
  CHECK_THROWS_WITH_AS(graph::permuted(a, broken), doctest::Contains("not a permutation"), invalid_argument);
  CHECK_THROWS_AS(graph::permuted_rows(std::vector<int>(3), perm), shape_error);
  CHECK_THROWS_WITH_AS(graph::renumbered({500}, perm), doctest::Contains("node id 500"), invalid_argument);
}

TEST_CASE("plan_halos: halo and send lists match brute force; each worker's local spmm gives the global rows") {
  rng gen(31);
  const auto directed = random_operator(240, 900, gen);
  const auto sbm = graph::make_sbm<double>({.nodes = 800, .features = 2, .seed = 2})
                       .graph.with_self_loops()
                       .normalized(graph::normalization::symmetric);
  auto scattered = random_partition(240, 4, gen);
  for (auto& part : scattered.part_of)
    if (part == 1) part = 0;  // worker 1 owns nothing
  const std::vector<std::pair<const graph::csr_graph<double>*, graph::partition>> cases{
      {&directed, scattered},
      {&directed, graph::partition_contiguous(directed, 3)},
      {&sbm, graph::partition_contiguous(sbm, 4)},
      {&sbm, graph::partition_blocks(800, 5)}};
  for (const auto& [g, workers] : cases) {
    const auto plan = graph::plan_halos(*g, workers);
    const std::int32_t parts = workers.parts;
    REQUIRE(plan.num_workers() == parts);
    std::vector<index_t> halo_total(1, 0);
    const auto dense_parts = workers.all_nodes();
    for (std::int32_t p = 0; p < parts; ++p) {
      const auto& w = plan.workers[static_cast<std::size_t>(p)];
      CHECK(w.owned == dense_parts[static_cast<std::size_t>(p)]);
      // Brute force: the non-owned columns of the owned rows, by owner then id; and for every
      // other worker q, the owned nodes q's rows read.
      std::set<std::pair<std::int32_t, std::int32_t>> halo;
      std::vector<std::set<std::int32_t>> send(static_cast<std::size_t>(parts));
      for (index_t i = 0; i < g->num_nodes(); ++i)
        for (index_t k = g->row_map()(i); k < g->row_map()(i + 1); ++k) {
          const std::int32_t j = g->entries()(k);
          const std::int32_t pi = workers.part_of[static_cast<std::size_t>(i)];
          const std::int32_t pj = workers.part_of[static_cast<std::size_t>(j)];
          if (pi == p && pj != p) halo.insert({pj, j});
          if (pj == p && pi != p) send[static_cast<std::size_t>(pi)].insert(j);
        }
      std::vector<std::int32_t> expected_halo;
      std::vector<index_t> expected_offsets(static_cast<std::size_t>(parts) + 1, 0);
      for (const auto& [owner, j] : halo) {
        expected_halo.push_back(j);
        ++expected_offsets[static_cast<std::size_t>(owner) + 1];
      }
      std::partial_sum(expected_offsets.begin(), expected_offsets.end(), expected_offsets.begin());
      CHECK(w.halo == expected_halo);
      CHECK(w.halo_offsets == expected_offsets);
      REQUIRE(w.send.size() == static_cast<std::size_t>(parts));
      for (std::int32_t q = 0; q < parts; ++q) {
        const auto& list = w.send[static_cast<std::size_t>(q)];
        CHECK(list == std::vector<std::int32_t>(send[static_cast<std::size_t>(q)].begin(),
                                                send[static_cast<std::size_t>(q)].end()));
        // What p sends q lands in q's halo group for p, in the same order.
        const auto& receiver = plan.workers[static_cast<std::size_t>(q)];
        CHECK(list == std::vector<std::int32_t>(
                          receiver.halo.begin() + receiver.halo_offsets[static_cast<std::size_t>(p)],
                          receiver.halo.begin() + receiver.halo_offsets[static_cast<std::size_t>(p) + 1]));
        const auto positions = w.send_positions(q);
        for (std::size_t t = 0; t < positions.size(); ++t)
          CHECK(w.owned[static_cast<std::size_t>(positions[t])] == list[t]);
      }
      CHECK(w.local.num_nodes() == w.num_local());
      for (index_t r = w.num_owned(); r < w.num_local(); ++r) CHECK(w.local.degree(r) == 0);
      halo_total[0] += w.num_halo();
    }
    CHECK(plan.halo_nodes() == halo_total[0]);
    CHECK(plan.halo_bytes_per_layer(16, sizeof(float)) == static_cast<std::size_t>(halo_total[0]) * 16 * 4);

    // Exactness: forward, each worker's local product over [owned; halo] gives the global rows;
    // backward, Aᵀ dY assembled from the local transposes (halo rows returned to their owners).
    const index_t f = 5;
    const auto x = random_features(g->num_nodes(), f, gen), dy = random_features(g->num_nodes(), f, gen);
    const auto y = aggregate(*g, x, f), dx = aggregate(g->transposed(), dy, f);
    std::vector<double> dx_assembled(dx.size(), 0.0);
    for (const auto& w : plan.workers) {
      std::vector<double> x_local(static_cast<std::size_t>(w.num_local() * f)), dy_local(x_local.size(), 0.0);
      for (index_t t = 0; t < w.num_local(); ++t) {
        const index_t node = t < w.num_owned() ? w.owned[static_cast<std::size_t>(t)]
                                               : w.halo[static_cast<std::size_t>(t - w.num_owned())];
        for (index_t j = 0; j < f; ++j) {
          x_local[static_cast<std::size_t>(t * f + j)] = x[static_cast<std::size_t>(node * f + j)];
          if (t < w.num_owned())
            dy_local[static_cast<std::size_t>(t * f + j)] = dy[static_cast<std::size_t>(node * f + j)];
        }
      }
      const auto y_local = aggregate(w.local, x_local, f);
      const auto dx_local = aggregate(w.local.transposed(), dy_local, f);
      for (index_t t = 0; t < w.num_local(); ++t) {
        const index_t node = t < w.num_owned() ? w.owned[static_cast<std::size_t>(t)]
                                               : w.halo[static_cast<std::size_t>(t - w.num_owned())];
        for (index_t j = 0; j < f; ++j) {
          const auto local = static_cast<std::size_t>(t * f + j), global = static_cast<std::size_t>(node * f + j);
          if (t < w.num_owned()) CHECK(y_local[local] == doctest::Approx(y[global]).epsilon(1e-12));
          if (t >= w.num_owned()) CHECK(y_local[local] == 0.0);
          dx_assembled[global] += dx_local[local];
        }
      }
    }
    for (std::size_t e = 0; e < dx.size(); ++e) CHECK(dx_assembled[e] == doctest::Approx(dx[e]).epsilon(1e-12));
  }

  // Float graphs work the same way; a partition of another graph is refused.
  const auto small = graph::make_sbm<float>({.nodes = 300, .features = 2}).graph;
  const auto plan = graph::plan_halos(small, graph::partition_contiguous(small, 3));
  CHECK(plan.halo_bytes_per_layer(8, sizeof(float)) == static_cast<std::size_t>(plan.halo_nodes()) * 32);
  CHECK_THROWS_AS(graph::plan_halos(small, graph::partition_blocks(299, 3)), shape_error);
}
