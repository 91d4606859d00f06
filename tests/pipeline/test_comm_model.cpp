// The communication model against hand-computed schedules (pipeline fill and drain, link queues,
// the shared-core bound) and against the bytes a real GNNPipe run counted.
#include <doctest/doctest.h>

#include <frugal/graph.hpp>
#include <frugal/pipeline/comm_model.hpp>
#include <frugal/pipeline/gnnpipe.hpp>
#include <frugal/pipeline/in_process.hpp>

#include <vector>

#include "test_support.hpp"

using namespace frugal;
using pipeline::link_model;

TEST_CASE("predict_gnnpipe: fill and drain, layer-synchronous phases, link queues, shared cores") {
  const auto grid = [](std::size_t s, std::size_t c, double v) {
    return std::vector<std::vector<double>>(s, std::vector<double>(c, v));
  };
  const link_model free_link{1e300, 0};
  // S = 3 stages, C = 4 chunks, t_f = 1, t_b = 2, free messages: (C + S − 1)(t_f + t_b).
  pipeline::gnnpipe_workload w{grid(3, 4, 1), grid(3, 4, 2), grid(2, 4, 0), 0};
  CHECK(pipeline::predict_gnnpipe(w, free_link, true).seconds == doctest::Approx(6 * 3.0));
  // Layer-synchronous: every stage in turn, C chunks each way: S·C·(t_f + t_b).
  CHECK(pipeline::predict_gnnpipe(w, free_link, false).seconds == doctest::Approx(3 * 4 * 3.0));
  CHECK(pipeline::predict_gnnpipe(w, free_link, true).compute_seconds == doctest::Approx(3 * 4 * 3.0));
  // Two stages, one chunk of 1000 bytes over a 1000 B/s link with 0.5 s latency: each crossing
  // costs 1.5 s.
  pipeline::gnnpipe_workload one{grid(2, 1, 1), grid(2, 1, 2), grid(1, 1, 1000), 0};
  const auto p = pipeline::predict_gnnpipe(one, {1000, 0.5}, true);
  CHECK(p.seconds == doctest::Approx(1 + 1.5 + 1 + 2 + 1.5 + 2));
  CHECK(p.bytes == 2000);
  CHECK(p.messages == 2);
  // Two chunks on one link queue: the second message waits for the first.
  pipeline::gnnpipe_workload queued{{{0.1, 0.1}, {1, 1}}, {{0, 0}, {0, 0}}, {{1000, 1000}}, 0};
  // Stage 0 ends at 0.1 and 0.2; messages arrive at 1.1 and 2.1; stage 1 runs 1.1–2.1, 2.1–3.1;
  // then its two gradients (1 s each, queued) reach stage 0 at 4.1 and 5.1.
  CHECK(pipeline::predict_gnnpipe(queued, {1000, 0}, true).seconds == doctest::Approx(5.1));
  // Four stages sharing two cores: at least half the compute.
  pipeline::gnnpipe_workload shared{grid(4, 1, 1), grid(4, 1, 1), grid(3, 1, 0), 2};
  CHECK(pipeline::predict_gnnpipe(shared, free_link, true).seconds == doctest::Approx(8.0));
  // Eight chunks: at least the compute over two cores, and at least the unshared pipeline.
  shared.forward = grid(4, 8, 1);
  shared.backward = grid(4, 8, 1);
  shared.boundary_bytes = grid(3, 8, 0);
  const double two_cores = pipeline::predict_gnnpipe(shared, free_link, true).seconds;
  CHECK(two_cores >= 64 / 2.0);
  shared.cores = 0;
  CHECK(two_cores >= pipeline::predict_gnnpipe(shared, free_link, true).seconds);
  CHECK(two_cores < 64.0);
  CHECK_THROWS_AS((void)pipeline::predict_gnnpipe({grid(2, 1, 1), grid(2, 1, 1), {}, 0}, free_link, true),
                  invalid_argument);
}

TEST_CASE("simulate_tasks: busy workers share the cores equally; dependencies wait for their delays") {
  // A (worker 0, 2 s) and B (worker 1, 1 s) start together; C (worker 2, 1 s) follows A after 1 s.
  const std::vector<pipeline::sim_task> tasks = {{0, 2, {}}, {1, 1, {}}, {2, 1, {{0, 1.0}}}};
  // One core: A and B at half speed until B ends at 2; A alone ends at 3; C runs 4 to 5.
  CHECK(pipeline::simulate_tasks(tasks, 3, 1) == doctest::Approx(5.0));
  CHECK(pipeline::simulate_tasks(tasks, 3, 2) == doctest::Approx(4.0));
  CHECK(pipeline::simulate_tasks(tasks, 3, 0) == doctest::Approx(4.0));
  // A worker runs its tasks in order.
  CHECK(pipeline::simulate_tasks({{0, 1, {}}, {0, 2, {}}}, 1, 0) == doctest::Approx(3.0));
  CHECK_THROWS_AS((void)pipeline::simulate_tasks({{0, 1, {{1, 0.0}}}, {0, 1, {}}}, 1, 0), invalid_argument);
}

TEST_CASE("predict_graph_parallel: slowest worker per layer, halo both ways, one all-reduce") {
  pipeline::graph_parallel_workload w;
  w.forward = {{1, 2}, {3, 1}};
  w.backward = {{2, 2}, {1, 4}};
  w.halo_bytes = {{100, 100}, {300, 0}};
  w.halo_messages = {{1, 1}, {1, 0}};
  w.parameter_bytes = 50;
  const link_model link{100, 0.5};
  // Layer 0: 3 + 2 + 2·max(0.5 + 1, 0.5 + 3); layer 1: 2 + 4 + 2·max(1.5, 0); all-reduce 2·(0.5 + 0.5).
  const auto p = pipeline::predict_graph_parallel(w, link);
  CHECK(p.seconds == doctest::Approx((3 + 2 + 7) + (2 + 4 + 3) + 2.0));
  CHECK(p.bytes == doctest::Approx(2 * 500 + 2 * 50));
  CHECK(p.messages == 2 * 3 + 2);
  // One shared core (see simulate_tasks): forward layer 0 ends at 4, layer 1 starts at
  // max(2 + 1.5, 4 + 0) = 4 and ends at 7; backward layer 1 starts at 8.5 and ends at 14.5, layer
  // 0 at max(12.5 + 1.5, 14.5 + 3.5) = 18 and ends at 21; plus the first halo (3.5) and the
  // all-reduce (2).
  w.cores = 1;
  CHECK(pipeline::predict_graph_parallel(w, link).seconds == doctest::Approx(26.5));
}

TEST_CASE("the model's bytes and messages are what a GNNPipe run sends") {
  const auto d = graph::make_sbm<double>({.nodes = 90, .classes = 3, .average_degree = 5, .features = 4, .seed = 2});
  const auto a = graph::aggregation<double>::of(d.graph.with_self_loops(), graph::normalization::symmetric);
  const std::vector<index_t> offsets = {0, 40, 70, 90};
  const auto counters = pipeline::run_in_process(3, [&](pipeline::in_process_transport& t) {
    std::vector<pipeline::gnn_block<double, pipeline::in_process_space>> blocks;
    const index_t in = t.rank() == 0 ? 4 : 7, out = t.rank() == 2 ? 3 : 7;
    blocks.emplace_back(in, out, pipeline::gnn_block_options{.residual = false});
    rng gen(1);
    blocks.back().reset_parameters(gen);
    pipeline::gnnpipe_stage<double, pipeline::in_process_space, pipeline::in_process_transport> stage(
        std::move(blocks), t.rank(), a, t, {.chunk_offsets = offsets});
    stage.train_epoch(&d.features, d.labels, d.train, true);
    CHECK(stage.timing().forward.size() == 1);
    CHECK(stage.timing().forward[0].size() == 3);
    return t.counters();
  });
  pipeline::gnnpipe_workload w;
  w.forward = w.backward = std::vector<std::vector<double>>(3, std::vector<double>(3, 0.0));
  for (int b = 0; b < 2; ++b) {
    w.boundary_bytes.emplace_back();
    for (std::size_t c = 0; c < 3; ++c)
      w.boundary_bytes.back().push_back(static_cast<double>((offsets[c + 1] - offsets[c]) * 7 * sizeof(double)));
  }
  const auto p = pipeline::predict_gnnpipe(w, link_model::gbit(10), true);
  double sent = 0;
  std::int64_t messages = 0;
  for (const auto& c : counters) {
    sent += static_cast<double>(c.bytes_sent);
    messages += c.messages_sent;
  }
  CHECK(sent == p.bytes);
  CHECK(messages == p.messages);
}

TEST_CASE("predict_hybrid: one partition is GNNPipe; halo phases and the gradient sum by hand; shared cores") {
  const auto grid3 = [](std::size_t a, std::size_t b, std::size_t c, double v) {
    return std::vector<std::vector<std::vector<double>>>(
        a, std::vector<std::vector<double>>(b, std::vector<double>(c, v)));
  };
  const link_model free_link{1e300, 0};
  // One partition, 3 stages of one layer, 4 chunks, t_f = 1, t_b = 2: GNNPipe's (C + S − 1)(t_f + t_b)
  // and S·C·(t_f + t_b).
  pipeline::hybrid_workload one{grid3(1, 3, 4, 1), grid3(1, 3, 4, 2), {0, 1, 2, 3}, grid3(1, 2, 4, 0),
                                {{0, 0, 0}},       {{0, 0, 0}},       {0, 0, 0},    0};
  CHECK(pipeline::predict_hybrid(one, free_link, true).seconds == doctest::Approx(6 * 3.0));
  CHECK(pipeline::predict_hybrid(one, free_link, false).seconds == doctest::Approx(3 * 4 * 3.0));

  // Two partitions, one stage of two layers, one chunk; t_f = 1, t_b = 2 per layer. A 1000 B/s
  // link without latency: each layer's halo (1000 bytes, 1 message) takes 1 s, the gradient sum
  // of 500 bytes 2·(P − 1)·0.5 s.
  pipeline::hybrid_workload two{grid3(2, 2, 1, 1),
                                grid3(2, 2, 1, 2),
                                {0, 2},
                                grid3(2, 0, 1, 0),
                                {{1000, 1000}, {1000, 1000}},
                                {{1, 1}, {1, 1}},
                                {500},
                                0};
  const link_model slow{1000, 0};
  // Synchronous: halo 0, layer 0, halo 1, layer 1; back: layer 1, its halo, layer 0; the sum.
  const auto sync = pipeline::predict_hybrid(two, slow, false);
  CHECK(sync.seconds == doctest::Approx(1 + 1 + 1 + 1 + 2 + 1 + 2 + 1));
  CHECK(sync.bytes == 2 * 2 * 2 * 1000 + 2 * 500);
  CHECK(sync.messages == 2 * 2 * 2 + 2);
  // Historical: both layers forward, the halos of both (2 s), both layers back, the sum; the halo
  // moves once per epoch.
  const auto stale = pipeline::predict_hybrid(two, slow, true);
  CHECK(stale.seconds == doctest::Approx(2 + 2 + 4 + 1));
  CHECK(stale.bytes == 2 * 2 * 1000 + 2 * 500);
  CHECK(stale.compute_seconds == doctest::Approx(2 * 2 * 3.0));

  // 2 × 2 workers on one core: no faster than the total compute.
  pipeline::hybrid_workload four{grid3(2, 2, 3, 1), grid3(2, 2, 3, 2), {0, 1, 2}, grid3(2, 1, 3, 0),
                                 {{0, 0}, {0, 0}},  {{0, 0}, {0, 0}},  {0, 0},    1};
  for (bool historical : {false, true})
    CHECK(pipeline::predict_hybrid(four, free_link, historical).seconds >= doctest::Approx(2 * 2 * 3 * 3.0));
  four.cores = 0;
  CHECK(pipeline::predict_hybrid(four, free_link, true).seconds == doctest::Approx((3 + 2 - 1) * 3.0));

  // Malformed workloads are errors, not nonsense.
  auto bad = two;
  bad.parameter_bytes.push_back(1);
  CHECK_THROWS_AS((void)pipeline::predict_hybrid(bad, slow, false), invalid_argument);
  bad = two;
  bad.forward[1].pop_back();
  CHECK_THROWS_AS((void)pipeline::predict_hybrid(bad, slow, true), invalid_argument);
}

TEST_CASE("a link whose copies run on the workers' cores: transfers compete with compute where cores are shared") {
  // Graph parallelism, 2 workers on 1 core, one layer (1 s forward, 1 s backward each), a 1 s
  // halo each way. As delays, the halos overlap nothing but each other: 1 (first halo) + 2 + 1 +
  // 2 = 6 s. As copies on the core, every second is work on the one core: 1 + (4 + 2) / 1 = 7 s.
  pipeline::graph_parallel_workload w{{{1}, {1}}, {{1}, {1}}, {{1000}, {1000}}, {{1}, {1}}, 0, 1};
  link_model link{1000, 0};
  CHECK(pipeline::predict_graph_parallel(w, link).seconds == doctest::Approx(6));
  link.copies_on_cores = true;
  CHECK(pipeline::predict_graph_parallel(w, link).seconds == doctest::Approx(7));
  // GNNPipe, 2 stages of 2 chunks on 1 core: all the work and the 4 transfers of 1 s each.
  const auto grid = [](std::size_t s, std::size_t c, double v) {
    return std::vector<std::vector<double>>(s, std::vector<double>(c, v));
  };
  pipeline::gnnpipe_workload g{grid(2, 2, 1), grid(2, 2, 1), grid(1, 2, 1000), 1};
  CHECK(pipeline::predict_gnnpipe(g, link, true).seconds == doctest::Approx(8 + 4));
  link.copies_on_cores = false;
  CHECK(pipeline::predict_gnnpipe(g, link, true).seconds < 8 + 4);
  // The hybrid's synchronous halo, 2 partitions of one stage on 1 core: as graph parallelism.
  pipeline::hybrid_workload h{{{{1}}, {{1}}}, {{{1}}, {{1}}}, {0, 1}, {{}, {}}, {{1000}, {1000}}, {{1}, {1}}, {0}, 1};
  link.copies_on_cores = true;
  CHECK(pipeline::predict_hybrid(h, link, false).seconds ==
        doctest::Approx(1 + 4));  // one layer: no halo between phases
}
