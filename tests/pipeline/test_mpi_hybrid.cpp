// The hybrid over MPI: 2 stages × size/2 partitions of a deep GCN, each rank a process; one
// layer-synchronous epoch gives every rank its layers' full-graph gradients (checked against the
// single-process model every rank builds), as the in-process grid does in test_hybrid.cpp; and a
// grid restarted from its epoch checkpoint continues exactly as the uninterrupted run.
#include <doctest/doctest.h>

#include <frugal/graph.hpp>
#include <frugal/nn.hpp>
#include <frugal/pipeline/epoch_checkpoint.hpp>
#include <frugal/pipeline/gnnpipe.hpp>
#include <frugal/pipeline/mpi_transport.hpp>

#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <iterator>
#include <string>
#include <vector>

#include "gcn_reference.hpp"

using namespace frugal;

namespace {

/// The job as 2 stages × size/2 partitions, rank = stage · P + partition: this rank's stage s,
/// partition p, its pipeline (`pipe`) and its stage's partitions (`across`).
struct grid {
  pipeline::mpi_transport world;
  int P = std::max(world.size() / 2, 1), s = world.rank() / P, p = world.rank() % P;
  pipeline::mpi_transport pipe = world.split(p, s), across = world.split(s, p);
};

/// Stage s's layers of the four-layer model: 2s and 2s + 1.
std::vector<pipeline::gnn_block<double, pipeline::in_process_space>> layers_of_stage(int s) {
  auto blocks = test::make_gnn_blocks(test::four_layer_specs, 9);
  return {std::make_move_iterator(blocks.begin() + 2 * s), std::make_move_iterator(blocks.begin() + 2 * s + 2)};
}

}  // namespace

TEST_CASE("hybrid over MPI: a 2-stage × size/2-partition grid computes full-graph gradients") {
  grid g;
  REQUIRE(g.world.size() % 2 == 0);
  auto& [world, P, s, p, pipe, across] = g;

  const auto& specs = test::four_layer_specs;
  const auto d = graph::make_sbm<double>({.nodes = 61, .classes = 3, .average_degree = 4, .features = 5, .seed = 3});
  const auto a = graph::aggregation<double>::of(d.graph.with_self_loops(), graph::normalization::symmetric);
  const auto reference = test::run_reference_epoch(specs, a, d, 9);

  const auto plan = graph::plan_halos(a->matrix(), graph::partition_blocks(61, P));
  const auto& halo = plan.workers[static_cast<std::size_t>(p)];
  pipeline::gnnpipe_stage<double, pipeline::in_process_space, pipeline::mpi_transport> stage(
      layers_of_stage(s), 2 * s, halo, pipe, across, {.chunk_offsets = {0, halo.num_owned() / 2, halo.num_owned()}});
  auto params = stage.parameters();
  params.zero_grad();
  const auto got = stage.train_epoch(&d.features, d.labels, d.train, false);
  if (s == 1) {
    REQUIRE(got.has_value());
    CHECK(*got == doctest::Approx(reference.loss).epsilon(1e-12));
  }
  // Stage s holds layers 2s and 2s + 1; the reference lists its parameters in layer order, with
  // other names: match them by position.
  std::vector<const nn::matrix<double>*> expected;
  for (std::size_t layer = 2 * static_cast<std::size_t>(s); layer < 2 * static_cast<std::size_t>(s) + 2; ++layer)
    for (const auto& g : reference.grads_by_layer[layer]) expected.push_back(&g);
  REQUIRE(expected.size() == params.size());
  for (std::size_t i = 0; i < params.size(); ++i) {
    const auto& g = params[i].param->grad;
    INFO(params[i].name);
    CHECK((g - *expected[i]).norm() <= 1e-12 * std::max(g.norm(), 1e-300));
  }
  if (P > 1) CHECK(across.counters().messages_sent > 0);  // the halo crossed the partitions
  pipeline::barrier(world);
}

TEST_CASE("resume over MPI: a hybrid grid restarted from its epoch checkpoint continues bit for bit") {
  grid g;
  REQUIRE(g.world.size() % 2 == 0);
  auto& [world, P, s, p, pipe, across] = g;
  // One scratch folder for the job, named after rank 0's process.
  std::int64_t id = world.rank() == 0 ? static_cast<std::int64_t>(::getpid()) : 0;
  pipeline::allreduce_sum(world, std::span<std::int64_t>(&id, 1));
  const auto dir = std::filesystem::temp_directory_path() / ("frugal-test-mpi-resume-" + std::to_string(id));
  if (world.rank() == 0) {
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
  }
  pipeline::barrier(world);

  const auto d = graph::make_sbm<double>({.nodes = 200, .classes = 3, .features = 5, .seed = 5});
  const auto a = graph::aggregation<double>::of(d.graph.with_self_loops(), graph::normalization::symmetric);
  const auto plan = graph::plan_halos(a->matrix(), graph::partition_blocks(200, P));
  const auto& halo = plan.workers[static_cast<std::size_t>(p)];
  // Epoch 1 synchronous, then historical with deferred late gradients and smoothing: every piece
  // of state a stage carries between epochs.
  auto train = [&](int last, bool save, bool resume) {
    pipeline::gnnpipe_stage<double, pipeline::in_process_space, pipeline::mpi_transport> stage(
        layers_of_stage(s), 2 * s, halo, pipe, across,
        {.chunk_offsets = {0, halo.num_owned() / 3, halo.num_owned()},
         .late = pipeline::late_gradients::deferred,
         .smoothing = 0.5});
    auto params = stage.parameters();
    nn::adam<double, pipeline::in_process_space> opt({.learning_rate = 0.01});
    std::int64_t done = 0;
    if (resume) done = pipeline::load_epoch_checkpoint(dir, world, params, opt, &stage).value_or(-1);
    CHECK(done == (resume ? 2 : 0));
    for (int e = static_cast<int>(done) + 1; e <= last; ++e) {
      params.zero_grad();
      stage.train_epoch(&d.features, d.labels, d.train, e > 1);
      opt.step(params);
      if (save) pipeline::save_epoch_checkpoint(dir, world, e, params, opt, &stage);
    }
    std::vector<nn::matrix<double>> values;
    for (const auto& e : params) values.push_back(e.param->value);
    return values;
  };
  const auto uninterrupted = train(4, false, false);
  (void)train(2, true, false);
  const auto resumed = train(4, false, true);
  REQUIRE(resumed.size() == uninterrupted.size());
  for (std::size_t i = 0; i < resumed.size(); ++i) CHECK(resumed[i] == uninterrupted[i]);
  pipeline::barrier(world);
  if (world.rank() == 0) std::filesystem::remove_all(dir);
}
