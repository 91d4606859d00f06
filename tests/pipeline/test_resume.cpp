// Faults and resume: a GNNPipe run in which one rank dies mid-epoch stops every other rank with the
// cause, in seconds; resuming from the last epoch checkpoint (per-rank files and a manifest) then
// reproduces the uninterrupted run's weights bit for bit. Damaged or mismatched checkpoints are
// refused with the file named.
#include <doctest/doctest.h>

#include <frugal/graph.hpp>
#include <frugal/nn.hpp>
#include <frugal/pipeline/epoch_checkpoint.hpp>
#include <frugal/pipeline/gnnpipe.hpp>
#include <frugal/pipeline/in_process.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <vector>

#include "test_support.hpp"

using namespace frugal;
using namespace std::chrono_literals;

namespace {

using stage_t = pipeline::gnnpipe_stage<float, pipeline::in_process_space, pipeline::in_process_transport>;

struct fixture {
  graph::node_dataset<float> d = graph::make_sbm<float>({.nodes = 300, .classes = 3, .features = 6, .seed = 8});
  std::shared_ptr<const graph::aggregation<float>> a =
      graph::aggregation<float>::of(d.graph.with_self_loops(), graph::normalization::symmetric);
  std::vector<index_t> offsets = {0, 100, 200, 300};
};

/// Trains epochs [first, last] on 2 stages (synchronous for epoch 1, historical after), saving a
/// checkpoint after each epoch when `dir` is set and resuming from it when `resume`; rank `die_rank`
/// throws in the middle of epoch `die_epoch`. Returns every parameter's value, rank order.
std::vector<nn::matrix<float>> train(const fixture& f, int last, const std::filesystem::path& dir, bool resume,
                                     int die_rank = -1, int die_epoch = -1, double smoothing = 0) {
  const auto per_rank = pipeline::run_in_process(
      2,
      [&](pipeline::in_process_transport& t) {
        std::vector<pipeline::gnn_block<float, pipeline::in_process_space>> blocks;
        rng gen(3);
        const std::vector<std::pair<index_t, index_t>> widths = {{6, 8}, {8, 8}, {8, 8}, {8, 3}};
        for (std::size_t k = 0; k < widths.size(); ++k) {
          blocks.emplace_back(widths[k].first, widths[k].second,
                              pipeline::gnn_block_options{
                                  .layer_norm = k > 0, .relu = k + 1 < widths.size(), .residual = k == 1 || k == 2});
          blocks.back().reset_parameters(gen);
        }
        std::vector<pipeline::gnn_block<float, pipeline::in_process_space>> mine;
        for (std::size_t k = 2 * static_cast<std::size_t>(t.rank()); k < 2 * static_cast<std::size_t>(t.rank()) + 2;
             ++k)
          mine.push_back(std::move(blocks[k]));
        stage_t stage(std::move(mine), 2 * t.rank(), f.a, t, {.chunk_offsets = f.offsets, .smoothing = smoothing});
        auto params = stage.parameters();
        nn::adam<float, pipeline::in_process_space> opt({.learning_rate = 0.01f});
        std::int64_t done = 0;
        if (resume) done = pipeline::load_epoch_checkpoint(dir, t, params, opt, &stage).value_or(0);
        for (int e = static_cast<int>(done) + 1; e <= last; ++e) {
          params.zero_grad();
          if (t.rank() == die_rank && e == die_epoch)
            throw std::runtime_error("rank died in epoch " + std::to_string(e));
          stage.train_epoch(&f.d.features, f.d.labels, f.d.train, e > 1);
          opt.step(params);
          if (!dir.empty()) pipeline::save_epoch_checkpoint(dir, t, e, params, opt, &stage);
        }
        std::vector<nn::matrix<float>> values;
        for (const auto& e : params) values.push_back(e.param->value);
        return values;
      },
      20s);
  std::vector<nn::matrix<float>> all;
  for (const auto& r : per_rank) all.insert(all.end(), r.begin(), r.end());
  return all;
}

}  // namespace

TEST_CASE("a rank that dies stops the run; resume from the epoch checkpoint reproduces the uninterrupted run") {
  const fixture f;
  const auto dir = test::scratch_dir("pipeline-resume");
  const auto uninterrupted = train(f, 5, {}, false);

  const auto start = std::chrono::steady_clock::now();
  CHECK_THROWS_WITH_AS(train(f, 5, dir, false, 1, 4), "rank died in epoch 4", std::runtime_error);
  CHECK(std::chrono::steady_clock::now() - start < 10s);  // the other rank did not wait out its timeout
  CHECK(std::filesystem::exists(dir / "manifest.ck"));
  CHECK(std::filesystem::exists(dir / "rank-0.epoch-3.ck"));
  CHECK_FALSE(std::filesystem::exists(dir / "rank-0.epoch-2.ck"));  // superseded files are removed

  const auto resumed = train(f, 5, dir, true);
  REQUIRE(resumed.size() == uninterrupted.size());
  for (std::size_t i = 0; i < resumed.size(); ++i) CHECK(resumed[i] == uninterrupted[i]);
}

TEST_CASE("resume with smoothed historical rows is bit-identical too; a smoothing run needs smoothed rows") {
  const fixture f;
  const auto dir = test::scratch_dir("pipeline-resume-smooth");
  const auto uninterrupted = train(f, 5, {}, false, -1, -1, 0.5);
  const auto plain = train(f, 5, {}, false);
  bool differs = false;
  for (std::size_t i = 0; i < plain.size(); ++i) differs = differs || plain[i] != uninterrupted[i];
  CHECK(differs);  // the smoothing changed the run
  CHECK_THROWS_AS(train(f, 5, dir, false, 0, 4, 0.5), std::runtime_error);
  const auto resumed = train(f, 5, dir, true, -1, -1, 0.5);
  for (std::size_t i = 0; i < resumed.size(); ++i) CHECK(resumed[i] == uninterrupted[i]);
  // A checkpoint written without smoothing does not hold what a smoothing stage reads.
  const auto other = test::scratch_dir("pipeline-resume-unsmoothed");
  (void)train(f, 2, other, false);
  CHECK_THROWS_WITH_AS(train(f, 3, other, true, -1, -1, 0.5), doctest::Contains("smoothed"), format_error);
}

TEST_CASE("epoch checkpoints refuse another rank count, a missing rank file and a damaged one") {
  const fixture f;
  const auto dir = test::scratch_dir("pipeline-resume-bad");
  (void)train(f, 2, dir, false);
  // Three ranks cannot resume a two-rank run.
  CHECK_THROWS_WITH_AS(pipeline::run_in_process(3,
                                                [&](pipeline::in_process_transport& t) {
                                                  nn::parameter_registry<float> none;
                                                  nn::adam<float, pipeline::in_process_space> opt;
                                                  (void)pipeline::load_epoch_checkpoint(dir, t, none, opt);
                                                }),
                       doctest::Contains("was written by 2 ranks; this run has 3"), format_error);
  // A damaged rank file: the checkpoint reader names it.
  {
    std::fstream file(dir / "rank-1.epoch-2.ck", std::ios::in | std::ios::out | std::ios::binary);
    file.seekp(40);
    file.put('\x7f');
  }
  CHECK_THROWS_WITH_AS(train(f, 3, dir, true), doctest::Contains("rank-1.epoch-2.ck"), format_error);
  std::filesystem::remove(dir / "rank-1.epoch-2.ck");
  CHECK_THROWS_WITH_AS(train(f, 3, dir, true), doctest::Contains("is missing"), format_error);
}
