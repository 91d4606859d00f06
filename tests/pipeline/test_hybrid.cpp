// The hybrid of GNNPipe and graph parallelism on a (stage × partition) grid of in-process ranks,
// connected by `in_process_transport::split`: layer-synchronous, every grid gives full-graph
// training's loss and gradients; with historical reads it trains. And `split` itself: groups,
// numbering by key, isolation of the groups' messages, shared abort.
#include <doctest/doctest.h>

#include <frugal/graph.hpp>
#include <frugal/nn.hpp>
#include <frugal/pipeline/gnnpipe.hpp>
#include <frugal/pipeline/in_process.hpp>

#include <algorithm>
#include <chrono>
#include <memory>
#include <stdexcept>
#include <vector>

#include "gcn_reference.hpp"
#include "test_support.hpp"

using namespace frugal;

namespace {

using transport = pipeline::in_process_transport;
using stage_type = pipeline::gnnpipe_stage<double, pipeline::in_process_space, transport>;

const auto& specs = test::four_layer_specs;

struct grid_result {
  double loss = 0;
  // per rank: the stage's parameters by name, values and gradients
  std::vector<std::vector<std::pair<std::string, nn::matrix<double>>>> grads;
  double correct = 0, tested = 0;  // test nodes over the last stages, after training
};

/// Trains `epochs` epochs (SGD between them) on a grid of `stages` × `part.parts` ranks, rank =
/// stage · parts + partition; each partition's owned rows are cut into `chunks` chunks.
grid_result run_grid(const graph::node_dataset<double>& d, const std::shared_ptr<const graph::aggregation<double>>& a,
                     int stages, const graph::partition& part, int chunks, bool historical, int epochs,
                     pipeline::late_gradients late = pipeline::late_gradients::dropped, bool adam = false,
                     double learning_rate = 0.1) {
  const auto plan = graph::plan_halos(a->matrix(), part);
  const int P = part.parts;
  struct rank_out {
    double loss = 0;
    std::vector<std::pair<std::string, nn::matrix<double>>> grads;
    double correct = 0, tested = 0;
  };
  const auto per_rank = pipeline::run_in_process(stages * P, [&](transport& world) {
    const int s = world.rank() / P, p = world.rank() % P;
    transport along = world.split(p, s);   // this partition's pipeline
    transport across = world.split(s, p);  // this stage's partitions
    CHECK(along.rank() == s);
    CHECK(across.rank() == p);
    auto blocks = test::make_gnn_blocks(specs, 9);
    const std::size_t L = blocks.size();
    const std::size_t first = L * static_cast<std::size_t>(s) / static_cast<std::size_t>(stages);
    const std::size_t last = L * static_cast<std::size_t>(s + 1) / static_cast<std::size_t>(stages);
    std::vector<pipeline::gnn_block<double, pipeline::in_process_space>> mine(
        std::make_move_iterator(blocks.begin() + static_cast<std::ptrdiff_t>(first)),
        std::make_move_iterator(blocks.begin() + static_cast<std::ptrdiff_t>(last)));
    const auto& halo = plan.workers[static_cast<std::size_t>(p)];
    std::vector<index_t> offsets;
    for (int c = 0; c <= chunks; ++c) offsets.push_back(halo.num_owned() * c / chunks);
    stage_type stage(std::move(mine), static_cast<index_t>(first), halo, along, across,
                     {.chunk_offsets = offsets, .late = late});
    CHECK(stage.partition() == p);
    CHECK(stage.partitions() == P);
    auto params = stage.parameters();
    nn::adam<double, pipeline::in_process_space> opt({.learning_rate = 0.02});
    nn::sgd<double, pipeline::in_process_space> sgd({.learning_rate = learning_rate});
    rank_out out;
    for (int e = 0; e < epochs; ++e) {
      params.zero_grad();
      const auto loss = stage.train_epoch(&d.features, d.labels, d.train, historical && e > 0);
      if (loss) out.loss = *loss;
      if (e + 1 < epochs || adam) {
        if (adam)
          opt.step(params);
        else
          sgd.step(params);
      }
    }
    for (const auto& e : params) out.grads.emplace_back(e.name, e.param->grad);
    if (adam) {
      const nn::tensor<double>* logits = stage.infer(&d.features);
      if (logits) {
        // The partition's rows in `stage.nodes()` order: count correct test nodes among them.
        const auto nodes = stage.nodes();
        std::vector<char> is_test(d.labels.size(), 0);
        for (index_t i : d.test) is_test[static_cast<std::size_t>(i)] = 1;
        for (std::size_t r = 0; r < nodes.size(); ++r) {
          const auto g = static_cast<std::size_t>(nodes[r]);
          if (!is_test[g]) continue;
          const double* z = logits->data() + static_cast<index_t>(r) * logits->extent(1);
          out.correct += (std::max_element(z, z + logits->extent(1)) - z) == d.labels[g];
          ++out.tested;
        }
      }
    }
    return out;
  });
  grid_result r;
  for (const auto& o : per_rank) {
    r.loss = std::max(r.loss, o.loss);
    r.grads.push_back(o.grads);
    r.correct += o.correct;
    r.tested += o.tested;
  }
  return r;
}

double relative_gap(const nn::matrix<double>& a, const nn::matrix<double>& b) {
  return (a - b).norm() / std::max({a.norm(), b.norm(), 1e-300});
}

graph::partition round_robin(index_t n, int parts) {
  graph::partition p{parts, {}};
  for (index_t i = 0; i < n; ++i) p.part_of.push_back(static_cast<std::int32_t>((i * 7 + i / 5) % parts));
  return p;
}

}  // namespace

TEST_CASE("in_process_transport::split: groups by color, ranks by key, messages stay in their group") {
  const auto seen = pipeline::run_in_process(6, [](transport& world) {
    const int r = world.rank();
    transport half = world.split(r % 2, -r);  // {0, 2, 4} and {1, 3, 5}, numbered in reverse
    CHECK(half.size() == 3);
    CHECK(half.rank() == 2 - r / 2);
    CHECK(world.counters().messages_sent == 0);  // agreeing on groups is not counted
    transport again = world.split(r % 2, -r);    // the same members, a different group
    // Each group's rank 0 sends its color to the others, on the same tag in both groups: the
    // messages must not cross.
    std::vector<int> got;
    for (transport* t : {&half, &again}) {
      const int value = 10 * (t == &again) + r % 2;
      if (t->rank() == 0) {
        for (int q = 1; q < t->size(); ++q) pipeline::send(*t, q, 7, std::span<const int>(&value, 1));
      } else {
        int v = -1;
        pipeline::recv(*t, 0, 7, std::span<int>(&v, 1));
        got.push_back(v);
      }
    }
    // A one-member group per rank.
    transport alone = world.split(r, 0);
    CHECK(alone.size() == 1);
    CHECK(alone.rank() == 0);
    return got;
  });
  for (int r = 0; r < 6; ++r) {
    if (r >= 4) continue;  // ranks 4 and 5 are their groups' rank 0
    REQUIRE(seen[static_cast<std::size_t>(r)].size() == 2);
    CHECK(seen[static_cast<std::size_t>(r)][0] == r % 2);
    CHECK(seen[static_cast<std::size_t>(r)][1] == 10 + r % 2);
  }
  CHECK_THROWS_AS(pipeline::run_in_process(2, [](transport& world) { (void)world.split(-1, 0); }), invalid_argument);
  // A failure anywhere stops the ranks waiting in a group, well before the timeout.
  const auto start = std::chrono::steady_clock::now();
  CHECK_THROWS_WITH_AS(pipeline::run_in_process(
                           3,
                           [](transport& world) {
                             transport g = world.split(world.rank() == 2 ? 1 : 0, 0);
                             if (world.rank() == 2) throw std::runtime_error("rank 2 breaks");
                             int v = 0;  // ranks 0 and 1 wait for each other forever
                             pipeline::recv(g, 1 - g.rank(), 0, std::span<int>(&v, 1));
                           },
                           std::chrono::seconds(60)),
                       doctest::Contains("rank 2 breaks"), std::runtime_error);
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(30));
}

TEST_CASE("layer-synchronous hybrid: every stage × partition grid computes full-graph training's gradients") {
  const auto d = graph::make_sbm<double>({.nodes = 61, .classes = 3, .average_degree = 4, .features = 5, .seed = 3});
  const auto a = graph::aggregation<double>::of(d.graph.with_self_loops(), graph::normalization::symmetric);
  const auto reference = test::run_reference_epoch(specs, a, d, 9);

  struct grid {
    int stages, parts, chunks;
  };
  for (const grid g : {grid{1, 2, 1}, grid{2, 2, 2}, grid{2, 3, 3}, grid{4, 2, 1}, grid{1, 1, 2}}) {
    INFO(g.stages << " stages × " << g.parts << " partitions, " << g.chunks << " chunks each");
    const auto r = run_grid(d, a, g.stages, round_robin(61, g.parts), g.chunks, false, 1);
    CHECK(r.loss == doctest::Approx(reference.loss).epsilon(1e-12));
    // Every rank holds its layers' full-graph gradients. Parameters are named "<layer>.<part>"
    // in both models, with different parts: match them by layer and position in the layer.
    for (const auto& rank : r.grads) {
      REQUIRE(!rank.empty());
      std::vector<std::size_t> seen(specs.size(), 0);
      for (const auto& [name, grad] : rank) {
        INFO(name);
        const auto layer = static_cast<std::size_t>(std::stoi(name.substr(0, name.find('.'))));
        REQUIRE(seen[layer] < reference.grads_by_layer[layer].size());
        CHECK(relative_gap(grad, reference.grads_by_layer[layer][seen[layer]++]) < 1e-12);
      }
    }
  }
}

TEST_CASE("hybrid with historical reads: halo rows come from the previous epoch, and it trains") {
  const auto d = graph::make_sbm<double>({.nodes = 600, .classes = 3, .features = 5, .seed = 4});
  const auto a = graph::aggregation<double>::of(d.graph.with_self_loops(), graph::normalization::symmetric);
  const auto part = graph::partition_blocks(600, 2);
  // One chunk per partition, so only the halo is stale. With the weights held (learning rate 0)
  // the previous epoch's halo rows are this epoch's: the forward pass and the loss are exact,
  // while the gradient the halo reads send back is dropped.
  using pipeline::late_gradients;
  const auto held_exact = run_grid(d, a, 2, part, 1, false, 2, late_gradients::dropped, false, 0.0);
  const auto held_stale = run_grid(d, a, 2, part, 1, true, 2, late_gradients::dropped, false, 0.0);
  CHECK(held_stale.loss == doctest::Approx(held_exact.loss).epsilon(1e-12));
  double worst = 0;
  for (std::size_t r = 0; r < held_exact.grads.size(); ++r)
    for (std::size_t i = 0; i < held_exact.grads[r].size(); ++i)
      worst = std::max(worst, relative_gap(held_stale.grads[r][i].second, held_exact.grads[r][i].second));
  CHECK(worst > 1e-6);
  // After an SGD step the halo rows are a step old: the loss moves, slightly.
  const auto exact = run_grid(d, a, 2, part, 1, false, 2);
  const auto stale = run_grid(d, a, 2, part, 1, true, 2);
  CHECK(stale.loss != exact.loss);
  CHECK(stale.loss == doctest::Approx(exact.loss).epsilon(0.05));
  // Deferred late gradients change the next epoch's gradients.
  const auto deferred = run_grid(d, a, 2, part, 2, true, 3, late_gradients::deferred);
  const auto dropped = run_grid(d, a, 2, part, 2, true, 3, late_gradients::dropped);
  double gap = 0;
  for (std::size_t r = 0; r < deferred.grads.size(); ++r)
    for (std::size_t i = 0; i < deferred.grads[r].size(); ++i)
      gap = std::max(gap, relative_gap(deferred.grads[r][i].second, dropped.grads[r][i].second));
  CHECK(gap > 1e-6);

  // 60 epochs with Adam, 2 stages × 2 partitions, 2 chunks each: the historical hybrid reaches
  // the layer-synchronous hybrid's test accuracy.
  auto accuracy = [&](bool historical) {
    const auto r = run_grid(d, a, 2, part, 2, historical, 60, late_gradients::dropped, true);
    CHECK(r.tested == static_cast<double>(d.test.size()));
    return r.correct / r.tested;
  };
  const double sync_accuracy = accuracy(false);
  const double stale_accuracy = accuracy(true);
  INFO("synchronous " << sync_accuracy << ", historical " << stale_accuracy);
  CHECK(sync_accuracy > 0.8);
  CHECK(stale_accuracy > sync_accuracy - 0.05);
}
