// Quickstart, embedding: a DLRM click model whose FIITED adaptive tables are held to 10 % of the
// bytes full tables would take. A budget controller ranks every chunk of every row by importance
// and keeps the best that fit; between its rounds new ids enter only into room the tables already
// hold, so the budget holds after every training step, not only at the rounds.
#include <frugal/embedding.hpp>

#include <Kokkos_Core.hpp>

#include <algorithm>
#include <cstdio>
#include <utility>
#include <vector>

namespace e = frugal::embedding;
using frugal::index_t;

int main(int argc, char** argv) {
  Kokkos::ScopeGuard kokkos(argc, argv);

  // A synthetic click log: 13 dense features and 3 categorical fields with Zipf-distributed ids.
  e::synthetic_options data;
  data.cardinalities = {1'000, 20'000, 100'000};
  const e::synthetic_clicks log(data);
  const e::click_dataset train = log.generate(0, 40'000), test = log.generate(40'000, 10'000);

  // One adaptive table per field, rows of up to 4 chunks of 4 dimensions. The budget refers to
  // the bytes of full tables of the same shape (values and row-wise Adagrad state).
  const index_t dim = 16;
  std::vector<e::adaptive_table<>> tables;
  std::size_t full_bytes = 0;
  for (index_t rows : train.cardinalities) {
    tables.emplace_back(rows, dim, e::adaptive_table_options{.chunk_width = 4});
    full_bytes += e::full_table<>::bytes_for(rows, dim, e::optimizer_kind::rowwise_adagrad);
  }
  frugal::rng gen(1);
  e::dlrm<e::adaptive_table<>> model(train.dense_features, std::move(tables), {.bottom = {32}, .top = {32}}, gen);

  // Full rows for 40 steps, then a round every 20 steps while the budget falls to 10 % over 100.
  e::budget_controller<e::adaptive_table<>> budget(
      model.tables(), full_bytes, {.target_fraction = 0.10, .interval = 20, .warmup = 40, .ramp = 100});

  // The trainer runs budget.on_step(step) after every step; the hook then records how close to
  // the budget in force the tables came.
  double closest = 0;
  e::click_trainer<e::adaptive_table<>> trainer(model, train, {.batch = 128}, budget, [&](index_t step) {
    closest =
        std::max(closest, static_cast<double>(budget.total_bytes()) / static_cast<double>(budget.budget_at(step)));
  });
  trainer.run(trainer.steps_per_epoch());

  const e::budget_round& last = budget.last_round();
  const e::click_metrics m = e::evaluate(model, test);
  std::printf("full tables %zu bytes; adaptive tables %zu bytes = %.1f %% (budget %zu bytes)\n", full_bytes,
              budget.total_bytes(), 100.0 * static_cast<double>(budget.total_bytes()) / static_cast<double>(full_bytes),
              last.budget_bytes);
  std::printf(
      "%zu live chunks in %zu rows; %llu new ids turned away for want of room; at most %.2f %% of the budget "
      "after any step\n",
      last.live_chunks, last.live_rows, static_cast<unsigned long long>(last.turned_away), 100.0 * closest);
  std::printf("test AUC %.4f, log loss %.4f\n", m.auc, m.logloss);
  return budget.total_bytes() <= last.budget_bytes ? 0 : 1;
}
