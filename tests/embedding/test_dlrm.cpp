#include <doctest/doctest.h>

#include <frugal/core/rng.hpp>
#include <frugal/embedding.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <memory>
#include <numeric>
#include <vector>

#include "dlrm_support.hpp"
#include "test_support.hpp"

using namespace frugal;
using namespace frugal::embedding;

using frugal::test::batch_loss;
using frugal::test::central_difference;
using frugal::test::small_clicks;

TEST_CASE("DLRM gradients match finite differences (MLP weights and embedding rows)") {
  const auto data = small_clicks(3, 64);
  std::vector<std::uint32_t> rows(16);
  std::iota(rows.begin(), rows.end(), 0u);
  // SGD with learning rate 1 on the tables: the change of a row after backward is −dL/d(row).
  const dense_table_options o{.optimizer = {.kind = optimizer_kind::sgd, .learning_rate = 1.0f}, .init_scale = 0.3f};
  std::vector<full_table<>> tables;
  for (index_t n : data.cardinalities) tables.emplace_back(n, 8, o);
  rng gen(5);
  dlrm<full_table<>> model(data.dense_features, std::move(tables), dlrm_options{.bottom = {16}, .top = {16}}, gen);
  const auto logits = model.forward(data, rows);
  std::vector<float> labels;
  for (auto r : rows) labels.push_back(data.labels[r]);
  // dL/dlogit of the mean log loss.
  std::vector<float> dlogits(rows.size());
  for (std::size_t i = 0; i < rows.size(); ++i)
    dlogits[i] = (1.0f / (1.0f + std::exp(-logits[i])) - labels[i]) / static_cast<float>(rows.size());
  model.parameters().zero_grad();
  // Snapshot the tables, run backward, read off the embedding gradients, restore.
  std::vector<std::vector<float>> before;
  for (auto& t : model.tables()) {
    const auto all = t.row(0);
    before.emplace_back(all.data(), all.data() + t.rows() * t.dim());
  }
  model.backward(dlogits);
  std::vector<std::vector<float>> grads;
  for (std::size_t f = 0; f < model.tables().size(); ++f) {
    auto& t = model.tables()[f];
    float* p = t.row(0).data();
    std::vector<float> g(before[f].size());
    for (std::size_t i = 0; i < g.size(); ++i) {
      g[i] = before[f][i] - p[i];
      p[i] = before[f][i];
    }
    grads.push_back(std::move(g));
  }
  const double eps = 2e-3;
  int checked = 0;
  // Embedding rows used by the batch.
  for (std::size_t f = 0; f < model.tables().size(); ++f)
    for (int k = 0; k < 3; ++k) {
      const std::uint32_t id = data.sparse[static_cast<std::size_t>(k) * data.cardinalities.size() + f];
      for (index_t j = 0; j < 8; j += 3) {
        float& w = model.tables()[f].row(id)[static_cast<std::size_t>(j)];
        const double fd = central_difference(w, eps, [&] { return batch_loss(model, data, rows); });
        if (std::isnan(fd)) continue;
        CHECK(grads[f][id * 8 + static_cast<std::size_t>(j)] == doctest::Approx(fd).epsilon(2e-2).scale(1e-3));
        ++checked;
      }
    }
  // MLP weights.
  for (const auto& e : model.parameters()) {
    auto& p = *e.param;
    for (index_t i = 0; i < p.value.size(); i += std::max<index_t>(1, p.value.size() / 5)) {
      const double fd = central_difference(p.value.data()[i], eps, [&] { return batch_loss(model, data, rows); });
      if (std::isnan(fd)) continue;
      CAPTURE(e.name);
      CHECK(p.grad.data()[i] == doctest::Approx(fd).epsilon(2e-2).scale(1e-3));
      ++checked;
    }
  }
  CHECK(checked > 40);
}

TEST_CASE("DLRM learns the planted teacher better than chance, with every storage") {
  const auto train = small_clicks(7, 20000);
  const auto test = small_clicks(7, 5000, 20000);
  auto run = [&](auto tables) {
    using T = typename decltype(tables)::value_type;
    rng gen(1);
    dlrm<T> model(train.dense_features, std::move(tables), dlrm_options{.bottom = {16}, .top = {16}}, gen);
    click_trainer<T> trainer(model, train, click_train_options{.batch = 128, .learning_rate = 3e-3f});
    trainer.run(trainer.steps_per_epoch() * 2);
    return evaluate(model, test);
  };
  std::vector<full_table<>> full;
  std::vector<hashed_table<>> hashed;
  std::vector<adaptive_table<>> adaptive;
  for (index_t n : train.cardinalities) {
    full.emplace_back(n, 8);
    hashed.emplace_back(n, std::max<index_t>(2, n / 4), 8);
    adaptive.emplace_back(n, 8, adaptive_table_options{.chunk_width = 4});
  }
  const auto a = run(std::move(full));
  const auto b = run(std::move(hashed));
  const auto c = run(std::move(adaptive));
  MESSAGE("AUC full ", a.auc, ", hashed ", b.auc, ", adaptive ", c.auc);
  CHECK(a.auc > 0.6);
  CHECK(b.auc > 0.6);
  CHECK(c.auc > 0.6);
  CHECK(c.auc == doctest::Approx(a.auc).epsilon(0.02));  // adaptive with every chunk live ≈ full
}

TEST_CASE("a run resumed from a checkpoint continues identically to one that never stopped") {
  const auto train = small_clicks(11, 6000);
  const auto test = small_clicks(11, 2000, 6000);
  using table = adaptive_table<>;
  const std::size_t reference = [&] {
    std::size_t total = 0;
    for (index_t n : train.cardinalities) total += full_table<>::bytes_for(n, 8, optimizer_kind::rowwise_adagrad);
    return total;
  }();
  struct run_state {
    std::unique_ptr<dlrm<table>> model;
    std::unique_ptr<budget_controller<table>> controller;
    std::unique_ptr<click_trainer<table>> trainer;
  };
  auto make = [&] {
    run_state s;
    std::vector<table> tables;
    for (index_t n : train.cardinalities) tables.emplace_back(n, 8, adaptive_table_options{.chunk_width = 2});
    rng gen(3);
    s.model = std::make_unique<dlrm<table>>(train.dense_features, std::move(tables),
                                            dlrm_options{.bottom = {8}, .top = {8}}, gen);
    std::vector<table*> ptrs;
    for (auto& t : s.model->tables()) ptrs.push_back(&t);
    s.controller = std::make_unique<budget_controller<table>>(
        ptrs, reference, budget_options{.target_fraction = 0.3, .interval = 10, .warmup = 20, .ramp = 40});
    auto* controller = s.controller.get();
    s.trainer = std::make_unique<click_trainer<table>>(*s.model, train, click_train_options{.batch = 64, .seed = 9},
                                                       [controller](index_t step) { controller->on_step(step); });
    return s;
  };
  const index_t steps = 150;  // more than one epoch (93 steps), pruning rounds on both sides of the cut
  auto straight = make();
  straight.trainer->run(steps);

  const auto dir = test::scratch_dir("embedding-resume");
  auto first = make();
  first.trainer->run(60);
  first.trainer->save(dir / "run.ck");
  auto resumed = make();
  resumed.trainer->load(dir / "run.ck");
  CHECK(resumed.trainer->step() == 60);
  resumed.trainer->run(steps - 60);

  for (std::size_t f = 0; f < straight.model->tables().size(); ++f) {
    const auto& a = straight.model->tables()[f];
    const auto& b = resumed.model->tables()[f];
    CHECK(a.bytes_allocated() == b.bytes_allocated());
    CHECK(a.live_chunks() == b.live_chunks());
    b.check_invariants();
    for (std::uint32_t id = 0; id < a.rows(); ++id) {
      REQUIRE(a.row_values(id) == b.row_values(id));
      REQUIRE(a.row_scores(id) == b.row_scores(id));
    }
  }
  const auto ma = evaluate(*straight.model, test), mb = evaluate(*resumed.model, test);
  CHECK(ma.auc == mb.auc);
  CHECK(ma.logloss == mb.logloss);
  CHECK(straight.controller->last_round().bytes_after <= straight.controller->last_round().budget_bytes);

  // A truncated or corrupted checkpoint is refused with a clear error and changes nothing.
  const auto size = std::filesystem::file_size(dir / "run.ck");
  std::filesystem::copy_file(dir / "run.ck", dir / "truncated.ck");
  std::filesystem::resize_file(dir / "truncated.ck", size / 2);
  auto victim = make();
  CHECK_THROWS_AS(victim.trainer->load(dir / "truncated.ck"), format_error);
  std::filesystem::copy_file(dir / "run.ck", dir / "corrupt.ck");
  {
    std::fstream f(dir / "corrupt.ck", std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(size / 2));
    char c = 0;
    f.read(&c, 1);
    f.seekp(static_cast<std::streamoff>(size / 2));
    c = static_cast<char>(c ^ 0x5A);
    f.write(&c, 1);
  }
  CHECK_THROWS_WITH_AS(victim.trainer->load(dir / "corrupt.ck"), doctest::Contains("checksum"), format_error);
  CHECK(victim.trainer->step() == 0);
  CHECK_THROWS_AS(victim.trainer->load(dir / "missing.ck"), io_error);
}
