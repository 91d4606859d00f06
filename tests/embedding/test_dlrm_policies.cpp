// DLRM with compressed MLPs and another optimizer: the composition the library promises, checked
// against finite differences and by training on the planted teacher.
#include <doctest/doctest.h>

#include <frugal/core/rng.hpp>
#include <frugal/embedding.hpp>
#include <frugal/sparse/bcr_weight.hpp>
#include <frugal/sparse/circulant_weight.hpp>

#include <cmath>
#include <numeric>
#include <vector>

#include "dlrm_support.hpp"
#include "test_support.hpp"

using namespace frugal;
using namespace frugal::embedding;
using frugal::test::batch_loss;
using frugal::test::central_difference;
using frugal::test::small_clicks;

namespace {

std::vector<full_table<>> tables_for(const click_dataset& d, index_t dim, dense_table_options o = {}) {
  std::vector<full_table<>> t;
  for (index_t n : d.cardinalities) t.emplace_back(n, dim, o);
  return t;
}

sparse::bcr_factory<float> half_bcr() {
  return sparse::bcr_factory<float>(
      sparse::bcr_sparsity{.block_rows = 4, .block_cols = 4, .row_keep_fraction = 0.5, .col_keep_fraction = 0.5}, 7);
}

static_assert(EmbeddingTable<full_table<>> && EmbeddingTable<hashed_table<>> && EmbeddingTable<adaptive_table<>>);
static_assert(BudgetedTable<adaptive_table<>> && !BudgetedTable<full_table<>>);

}  // namespace

TEST_CASE("DLRM with block-circulant and BCR MLPs: MLP gradients match finite differences") {
  const auto data = small_clicks(3, 64);
  std::vector<std::uint32_t> rows(16);
  std::iota(rows.begin(), rows.end(), 0u);
  rng gen(5);
  // Circulant bottom (k = 4), BCR top: both sparse policies in one model.
  dlrm<full_table<>> model(data.dense_features, tables_for(data, 8, {.init_scale = 0.3f}),
                           dlrm_options{.bottom = {16}, .top = {16}}, sparse::circulant_factory<float>{.block_size = 4},
                           half_bcr(), gen);
  CHECK(model.bottom_mlp().layer<nn::linear<float, sparse::circulant_weight<float>>>(0).in_features() ==
        data.dense_features);
  const auto logits = model.forward(data, rows);
  std::vector<float> labels, dlogits(rows.size());
  for (auto r : rows) labels.push_back(data.labels[r]);
  for (std::size_t i = 0; i < rows.size(); ++i)
    dlogits[i] = (1.0f / (1.0f + std::exp(-logits[i])) - labels[i]) / static_cast<float>(rows.size());
  model.parameters().zero_grad();
  // backward also updates the tables; put them back so that the differences below see the
  // embeddings the gradients were taken at.
  std::vector<std::vector<float>> before;
  for (auto& t : model.tables()) {
    const auto all = t.row(0);
    before.emplace_back(all.data(), all.data() + t.rows() * t.dim());
  }
  model.backward(dlogits);
  for (std::size_t f = 0; f < model.tables().size(); ++f)
    std::copy(before[f].begin(), before[f].end(), model.tables()[f].row(0).data());
  const double eps = 2e-3;
  int checked = 0;
  for (const auto& e : model.parameters()) {
    auto& p = *e.param;
    for (index_t i = 0; i < p.value.size(); i += std::max<index_t>(1, p.value.size() / 6)) {
      const double fd = central_difference(p.value.data()[i], eps, [&] { return batch_loss(model, data, rows); });
      if (std::isnan(fd)) continue;  // a ReLU kink within ±eps
      CAPTURE(e.name);
      CHECK(p.grad.data()[i] == doctest::Approx(fd).epsilon(2e-2).scale(1e-3));
      ++checked;
    }
  }
  CHECK(checked > 20);
}

TEST_CASE("DLRM trains with a block-circulant top MLP and with BCR MLPs, at a fraction of the dense MLP bytes") {
  const auto train = small_clicks(7, 20000);
  const auto test = small_clicks(7, 5000, 20000);
  auto run = [&](auto bottom, auto top) {
    rng gen(1);
    dlrm<full_table<>> model(train.dense_features, tables_for(train, 8), dlrm_options{.bottom = {16}, .top = {32}},
                             bottom, top, gen);
    click_trainer<full_table<>> trainer(model, train, click_train_options{.batch = 128, .learning_rate = 3e-3f});
    trainer.run(trainer.steps_per_epoch() * 2);
    return std::pair{evaluate(model, test), model.mlp_parameter_bytes()};
  };
  const auto [dense, dense_bytes] = run(nn::dense_factory<float>{}, nn::dense_factory<float>{});
  const auto [circ, circ_bytes] = run(nn::dense_factory<float>{}, sparse::circulant_factory<float>{.block_size = 8});
  const auto [bcr, bcr_bytes] = run(half_bcr(), half_bcr());
  MESSAGE("AUC dense ", dense.auc, " (", dense_bytes, " B), circulant top ", circ.auc, " (", circ_bytes, " B), BCR ",
          bcr.auc, " (", bcr_bytes, " B)");
  CHECK(dense.auc > 0.6);
  CHECK(circ.auc > 0.6);
  CHECK(bcr.auc > 0.6);
  CHECK(circ_bytes < dense_bytes);
  CHECK(bcr_bytes < dense_bytes);
}

TEST_CASE("click_trainer with SGD: trains, and a resumed run continues bit for bit") {
  const auto train = small_clicks(11, 4000);
  const auto test = small_clicks(11, 2000, 4000);
  using trainer_t = click_trainer<full_table<>, nn::sgd<float>>;
  auto make = [&] {
    rng gen(3);
    auto model = std::make_unique<dlrm<full_table<>>>(train.dense_features, tables_for(train, 8),
                                                      dlrm_options{.bottom = {8}, .top = {8}}, gen);
    auto trainer =
        std::make_unique<trainer_t>(*model, train, click_train_options{.batch = 64, .seed = 4},
                                    nn::sgd<float>(nn::sgd_options<float>{.learning_rate = 0.05f, .momentum = 0.9f}));
    return std::pair{std::move(model), std::move(trainer)};
  };
  auto [m0, t0] = make();
  const auto before = evaluate(*m0, test);
  t0->run(100);
  const auto after = evaluate(*m0, test);
  MESSAGE("SGD: AUC ", before.auc, " -> ", after.auc);
  CHECK(after.logloss < before.logloss);

  const auto dir = test::scratch_dir("dlrm-sgd-resume");
  auto [m1, t1] = make();
  t1->run(40);
  t1->save(dir / "run.ck");
  auto [m2, t2] = make();
  t2->load(dir / "run.ck");
  t2->run(60);
  const auto resumed = evaluate(*m2, test);
  CHECK(resumed.auc == after.auc);
  CHECK(resumed.logloss == after.logloss);
  // An Adam trainer refuses the SGD checkpoint instead of reading moments that are not there.
  auto [m3, t3] = make();
  click_trainer<full_table<>> adam_trainer(*m3, train, click_train_options{.batch = 64, .seed = 4});
  CHECK_THROWS(adam_trainer.load(dir / "run.ck"));
}

TEST_CASE("DLRM over given chains: any layers, widths checked where they meet") {
  const auto data = small_clicks(3, 256);
  std::vector<std::uint32_t> rows(32);
  std::iota(rows.begin(), rows.end(), 0u);
  const index_t pairs = 5 * 4 / 2;  // 4 fields + the bottom vector
  {
    auto bottom = nn::make_mlp<float>({data.dense_features, 12, 8}, nn::dense_factory<float>{}, {.final_relu = true});
    auto top = nn::make_mlp<float>({8 + pairs, 16, 1});
    rng gen(2);
    bottom.reset_parameters(gen);
    top.reset_parameters(gen);
    dlrm<full_table<>> model(data.dense_features, tables_for(data, 8), std::move(bottom), std::move(top));
    CHECK(model.parameters().size() == 8);
    CHECK(model.forward(data, rows).size() == rows.size());
  }
  {
    // The bottom MLP ends at 6 values, the tables are 8 wide.
    auto bottom = nn::make_mlp<float>({data.dense_features, 6});
    auto top = nn::make_mlp<float>({8 + pairs, 1});
    dlrm<full_table<>> model(data.dense_features, tables_for(data, 8), std::move(bottom), std::move(top));
    CHECK_THROWS_WITH_AS(model.forward(data, rows), doctest::Contains("bottom MLP's output"), invalid_argument);
  }
  {
    auto bottom = nn::make_mlp<float>({data.dense_features, 8});
    auto top = nn::make_mlp<float>({8 + pairs, 2});  // two outputs per example
    dlrm<full_table<>> model(data.dense_features, tables_for(data, 8), std::move(bottom), std::move(top));
    CHECK_THROWS_WITH_AS(model.forward(data, rows), doctest::Contains("top MLP's output"), invalid_argument);
  }
}
