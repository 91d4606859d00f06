// GNNPipe against full-graph training: layer-synchronous GNNPipe over 1, 2 and 4 in-process
// stages and 1-5 chunks gives the gradients and loss of the same deep GCN built from nn and graph
// layers and trained on the whole graph; historical (stale) reads with one chunk are exact too;
// with several chunks they train to the exact model's accuracy.
#include <doctest/doctest.h>

#include <frugal/graph.hpp>
#include <frugal/nn.hpp>
#include <frugal/pipeline/gnnpipe.hpp>
#include <frugal/pipeline/in_process.hpp>

#include <memory>
#include <vector>

#include "gcn_reference.hpp"
#include "test_support.hpp"

using namespace frugal;

namespace {

const auto& specs = test::four_layer_specs;

std::vector<pipeline::gnn_block<double, pipeline::in_process_space>> make_blocks() {
  return test::make_gnn_blocks(specs, 9);
}

nn::chain<double> make_reference(const std::shared_ptr<const graph::aggregation<double>>& a) {
  return test::make_gcn_reference(specs, a, 9);
}

struct run_result {
  double loss = 0;
  std::vector<nn::matrix<double>> values, grads;  // every parameter, layer order
};

run_result run_gnnpipe(const graph::node_dataset<double>& d, const std::shared_ptr<const graph::aggregation<double>>& a,
                       int stages, std::vector<index_t> offsets, bool historical, int warmup_epochs,
                       pipeline::late_gradients late = pipeline::late_gradients::dropped, int historical_epochs = 1,
                       double smoothing = 0, double learning_rate = 0.1, bool keep_state = false) {
  const auto per_rank = pipeline::run_in_process(stages, [&](pipeline::in_process_transport& t) {
    auto blocks = make_blocks();
    const std::size_t L = blocks.size();
    const std::size_t first = L * static_cast<std::size_t>(t.rank()) / static_cast<std::size_t>(stages);
    const std::size_t last = L * static_cast<std::size_t>(t.rank() + 1) / static_cast<std::size_t>(stages);
    std::vector<pipeline::gnn_block<double, pipeline::in_process_space>> mine(
        std::make_move_iterator(blocks.begin() + static_cast<std::ptrdiff_t>(first)),
        std::make_move_iterator(blocks.begin() + static_cast<std::ptrdiff_t>(last)));
    pipeline::gnnpipe_stage<double, pipeline::in_process_space, pipeline::in_process_transport> stage(
        std::move(mine), static_cast<index_t>(first), a, t,
        {.chunk_offsets = offsets, .late = late, .smoothing = smoothing, .keep_forward_state = keep_state});
    auto params = stage.parameters();
    std::optional<double> loss;
    const int epochs = warmup_epochs + (historical ? historical_epochs : 1);
    for (int e = 0; e < epochs; ++e) {
      params.zero_grad();
      loss = stage.train_epoch(&d.features, d.labels, d.train, e >= warmup_epochs ? historical : false);
      if (e + 1 < epochs) {
        nn::sgd<double, pipeline::in_process_space> opt({.learning_rate = learning_rate});
        opt.step(params);
      }
    }
    run_result r;
    if (loss) r.loss = *loss;
    for (const auto& e : params) {
      r.values.push_back(e.param->value);
      r.grads.push_back(e.param->grad);
    }
    return r;
  });
  run_result all;
  for (const auto& r : per_rank) {
    all.loss += r.loss;
    all.values.insert(all.values.end(), r.values.begin(), r.values.end());
    all.grads.insert(all.grads.end(), r.grads.begin(), r.grads.end());
  }
  return all;
}

void stage_type_check(pipeline::in_process_transport& t, const std::shared_ptr<const graph::aggregation<double>>& a,
                      double smoothing) {
  pipeline::gnnpipe_stage<double, pipeline::in_process_space, pipeline::in_process_transport> stage(
      make_blocks(), 0, a, t, {.chunk_offsets = {0, a->num_nodes()}, .smoothing = smoothing});
}

double relative_gap(const nn::matrix<double>& a, const nn::matrix<double>& b) {
  return (a - b).norm() / std::max({a.norm(), b.norm(), 1e-300});
}

}  // namespace

TEST_CASE("layer-synchronous GNNPipe computes full-graph training's loss and gradients on 1, 2, 4 stages") {
  const auto d = graph::make_sbm<double>({.nodes = 61, .classes = 3, .average_degree = 4, .features = 5, .seed = 3});
  const auto a = graph::aggregation<double>::of(d.graph.with_self_loops(), graph::normalization::symmetric);
  auto reference = make_reference(a);
  auto ref_params = reference.parameters();
  ref_params.zero_grad();
  graph::masked_cross_entropy<double> loss;
  const double ref_loss = loss.forward(reference.forward(d.features), d.labels, d.train);
  reference.backward(loss.backward(), false);

  const std::vector<std::vector<index_t>> chunkings = {{0, 61}, {0, 20, 41, 61}, {0, 7, 8, 30, 50, 61}};
  for (int stages : {1, 2, 4})
    for (const auto& offsets : chunkings)
      for (bool historical : {false, true}) {
        if (historical && offsets.size() > 2) continue;  // stale reads change the result; below
        INFO(stages << " stages, " << offsets.size() - 1 << " chunks, historical " << historical);
        const run_result r = run_gnnpipe(d, a, stages, offsets, historical, 0);
        CHECK(r.loss == doctest::Approx(ref_loss).epsilon(1e-12));
        REQUIRE(r.grads.size() == ref_params.size());
        std::size_t i = 0;
        for (const auto& e : ref_params) {
          INFO(e.name);
          CHECK(relative_gap(r.values[i], e.param->value) == 0.0);
          CHECK(relative_gap(r.grads[i], e.param->grad) < 1e-12);
          ++i;
        }
      }
}

TEST_CASE("GNNPipe with historical reads: later chunks' rows come from the previous epoch, and it trains") {
  const auto d = graph::make_sbm<double>({.nodes = 600, .classes = 3, .features = 5, .seed = 4});
  const auto a = graph::aggregation<double>::of(d.graph.with_self_loops(), graph::normalization::symmetric);
  const std::vector<index_t> offsets = {0, 150, 300, 450, 600};
  // After one synchronous epoch and an SGD step, a historical epoch differs from a synchronous one
  // (later chunks read the previous weights' rows) but only slightly.
  const run_result stale = run_gnnpipe(d, a, 2, offsets, true, 1);
  const run_result exact = run_gnnpipe(d, a, 2, offsets, false, 1);
  double worst = 0;
  for (std::size_t i = 0; i < exact.grads.size(); ++i)
    worst = std::max(worst, relative_gap(stale.grads[i], exact.grads[i]));
  CHECK(worst > 1e-6);
  CHECK(stale.loss == doctest::Approx(exact.loss).epsilon(0.05));
  // The second historical epoch adds the gradient the first one's stale reads sent to later
  // chunks, unless those are dropped.
  using pipeline::late_gradients;
  const run_result deferred = run_gnnpipe(d, a, 2, offsets, true, 1, late_gradients::deferred, 2);
  const run_result dropped = run_gnnpipe(d, a, 2, offsets, true, 1, late_gradients::dropped, 2);
  const run_result dropped_once = run_gnnpipe(d, a, 2, offsets, true, 1, late_gradients::dropped, 1);
  double gap = 0;
  for (std::size_t i = 0; i < deferred.grads.size(); ++i)
    gap = std::max(gap, relative_gap(deferred.grads[i], dropped.grads[i]));
  CHECK(gap > 1e-6);
  const run_result deferred_once = run_gnnpipe(d, a, 2, offsets, true, 1, late_gradients::deferred, 1);
  for (std::size_t i = 0; i < stale.grads.size(); ++i) {
    CHECK(relative_gap(stale.grads[i], dropped_once.grads[i]) == 0.0);
    CHECK(relative_gap(deferred_once.grads[i], dropped_once.grads[i]) == 0.0);  // nothing deferred yet
  }

  // 60 epochs with Adam: historical GNNPipe reaches the synchronous run's test accuracy, with
  // late gradients dropped (the default) or deferred.
  auto train = [&](bool historical, late_gradients late) {
    const auto accuracy = pipeline::run_in_process(2, [&](pipeline::in_process_transport& t) {
      auto blocks = make_blocks();
      std::vector<pipeline::gnn_block<double, pipeline::in_process_space>> mine;
      for (std::size_t k = 2 * static_cast<std::size_t>(t.rank()); k < 2 * static_cast<std::size_t>(t.rank()) + 2; ++k)
        mine.push_back(std::move(blocks[k]));
      pipeline::gnnpipe_stage<double, pipeline::in_process_space, pipeline::in_process_transport> stage(
          std::move(mine), 2 * t.rank(), a, t, {.chunk_offsets = offsets, .late = late});
      auto params = stage.parameters();
      nn::adam<double, pipeline::in_process_space> opt({.learning_rate = 0.02});
      for (int e = 0; e < 60; ++e) {
        params.zero_grad();
        stage.train_epoch(&d.features, d.labels, d.train, historical && e > 0);
        opt.step(params);
      }
      const nn::tensor<double>* logits = stage.infer(&d.features);
      return logits ? graph::masked_accuracy(*logits, d.labels, d.test) : -1.0;
    });
    return std::max(accuracy[0], accuracy[1]);
  };
  const double sync_accuracy = train(false, late_gradients::dropped);
  const double dropped_accuracy = train(true, late_gradients::dropped);
  const double deferred_accuracy = train(true, late_gradients::deferred);
  INFO("synchronous " << sync_accuracy << ", historical " << dropped_accuracy << " (late gradients dropped), "
                      << deferred_accuracy << " (deferred)");
  CHECK(sync_accuracy > 0.8);
  CHECK(dropped_accuracy > sync_accuracy - 0.05);
  CHECK(deferred_accuracy > sync_accuracy - 0.1);
}

TEST_CASE("historical smoothing: stale reads see an average of the epochs' rows, fresh reads never") {
  const auto d = graph::make_sbm<double>({.nodes = 600, .classes = 3, .features = 5, .seed = 4});
  const auto a = graph::aggregation<double>::of(d.graph.with_self_loops(), graph::normalization::symmetric);
  using pipeline::late_gradients;
  const auto gap = [](const run_result& x, const run_result& y) {
    double worst = 0;
    for (std::size_t i = 0; i < x.grads.size(); ++i) worst = std::max(worst, relative_gap(x.grads[i], y.grads[i]));
    return worst;
  };
  // One chunk reads nothing stale: smoothing changes nothing.
  const std::vector<index_t> one = {0, 600};
  CHECK(gap(run_gnnpipe(d, a, 2, one, true, 1, late_gradients::dropped, 3, 0.5),
            run_gnnpipe(d, a, 2, one, true, 1, late_gradients::dropped, 3, 0.0)) == 0.0);
  // With the weights held every epoch computes the same rows, and their average (γ = 1/2, exact in
  // binary) is those rows: smoothing changes nothing either.
  const std::vector<index_t> four = {0, 150, 300, 450, 600};
  CHECK(gap(run_gnnpipe(d, a, 2, four, true, 1, late_gradients::dropped, 3, 0.5, 0.0),
            run_gnnpipe(d, a, 2, four, true, 1, late_gradients::dropped, 3, 0.0, 0.0)) == 0.0);
  // Training, the stale reads see older rows than the last epoch's.
  CHECK(gap(run_gnnpipe(d, a, 2, four, true, 1, late_gradients::dropped, 3, 0.5),
            run_gnnpipe(d, a, 2, four, true, 1, late_gradients::dropped, 3, 0.0)) > 1e-6);
  CHECK_THROWS_WITH_AS(
      pipeline::run_in_process(1, [&](pipeline::in_process_transport& t) { stage_type_check(t, a, 1.0); }),
      doctest::Contains("smoothing 1 outside [0, 1)"), invalid_argument);
}

TEST_CASE("keeping each chunk's forward state gives the bits of re-running its row-wise parts") {
  const auto d = graph::make_sbm<double>({.nodes = 600, .classes = 3, .features = 5, .seed = 4});
  const auto a = graph::aggregation<double>::of(d.graph.with_self_loops(), graph::normalization::symmetric);
  using pipeline::late_gradients;
  const std::vector<index_t> four = {0, 150, 300, 450, 600};
  for (bool historical : {false, true})
    for (int stages : {1, 2}) {
      INFO("historical " << historical << ", " << stages << " stages");
      const auto kept = run_gnnpipe(d, a, stages, four, historical, 1, late_gradients::deferred, 2, 0.0, 0.1, true);
      const auto rerun = run_gnnpipe(d, a, stages, four, historical, 1, late_gradients::deferred, 2, 0.0, 0.1, false);
      CHECK(kept.loss == rerun.loss);
      REQUIRE(kept.grads.size() == rerun.grads.size());
      for (std::size_t i = 0; i < kept.grads.size(); ++i) CHECK(kept.grads[i] == rerun.grads[i]);
    }
}
