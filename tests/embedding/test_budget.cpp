// The byte budget between rounds: admission of new rows into the room a round leaves, the bound
// checked after every step of training-like id streams, the explicit budget modes and their
// refusals, and the trainer wired to a controller.
#include <doctest/doctest.h>

#include <frugal/core/rng.hpp>
#include <frugal/embedding.hpp>

#include <algorithm>
#include <cmath>
#include <memory>
#include <set>
#include <vector>

#include "dlrm_support.hpp"
#include "test_support.hpp"

using namespace frugal;
using namespace frugal::embedding;

namespace {

constexpr index_t dim = 16, width = 4;

std::size_t full_bytes(const std::vector<index_t>& rows) {
  std::size_t total = 0;
  for (index_t n : rows) total += full_table<>::bytes_for(n, dim, optimizer_kind::rowwise_adagrad);
  return total;
}

/// One step's ids for a table of `rows` rows: heavy-tailed ranks (log-uniform, so a few ids are
/// hot) whose hot set slides by `drift` ids per step, so ids never seen before arrive at every step.
std::vector<std::uint32_t> sliding_ids(rng& gen, index_t rows, index_t count, index_t step, index_t drift) {
  std::vector<std::uint32_t> ids(static_cast<std::size_t>(count));
  for (auto& id : ids) {
    const auto rank = static_cast<index_t>(std::pow(static_cast<double>(rows), gen.uniform())) - 1;
    id = static_cast<std::uint32_t>((rank + step * drift) % rows);
  }
  return ids;
}

/// One training-like step on `table`: a batch of one-id bags with random gradients.
void train_step(adaptive_table<>& table, std::span<const std::uint32_t> ids, rng& gen) {
  std::vector<index_t> offsets(ids.size() + 1);
  for (std::size_t i = 0; i <= ids.size(); ++i) offsets[i] = static_cast<index_t>(i);
  std::vector<float> grad(ids.size() * static_cast<std::size_t>(dim));
  for (auto& g : grad) g = static_cast<float>(gen.normal());
  table.backward(bag_batch{.offsets = offsets, .indices = ids}, grad);
}

/// The budget in force after step `step` of a schedule, computed from the options alone: the
/// reference before the warm-up ends, then the fraction of the latest scheduled round.
std::size_t expected_bound(const budget_options& o, std::size_t reference, index_t step) {
  if (step < o.warmup) return reference;
  const index_t last = o.warmup + (step - o.warmup) / o.interval * o.interval;
  double fraction = o.target_fraction;
  if (o.ramp > 0 && last < o.warmup + o.ramp)
    fraction = 1.0 + (o.target_fraction - 1.0) * static_cast<double>(last - o.warmup) / static_cast<double>(o.ramp);
  return static_cast<std::size_t>(fraction * static_cast<double>(reference));
}

}  // namespace

TEST_CASE("a 10 % byte budget holds after every step while new ids keep arriving") {
  // Three tables (8,000 to 40,000 rows) share one controller; each step every table sees 256 ids
  // of a heavy-tailed stream whose hot set slides, so rows never seen before arrive all the time.
  // Before this change a table grew between rounds (10 % at a round, 25 % some 50 steps later).
  const std::vector<index_t> rows = {20'000, 8'000, 40'000};
  const std::size_t reference = full_bytes(rows);
  for (const auto granularity : {prune_granularity::chunk, prune_granularity::row}) {
    CAPTURE(static_cast<int>(granularity));
    std::vector<adaptive_table<>> tables;
    for (index_t n : rows) tables.emplace_back(n, dim, adaptive_table_options{.chunk_width = width});
    const budget_options options{
        .granularity = granularity, .target_fraction = 0.10, .interval = 50, .warmup = 50, .ramp = 100};
    budget_controller<adaptive_table<>> controller(tables, reference, options);
    rng gen(23);
    std::vector<std::set<std::uint32_t>> seen_before_first_round(tables.size());
    double worst = 0;
    std::size_t early_rounds = 0;
    for (index_t step = 0; step < 400; ++step) {
      for (std::size_t t = 0; t < tables.size(); ++t) {
        const auto ids = sliding_ids(gen, rows[t], 256, step, 7);
        if (step < options.warmup) seen_before_first_round[t].insert(ids.begin(), ids.end());
        train_step(tables[t], ids, gen);
      }
      if (controller.on_step(step) && controller.last_round().early) ++early_rounds;
      const std::size_t bound = expected_bound(options, reference, step);
      CHECK(controller.budget_at(step) == bound);
      std::size_t held = 0;
      for (const auto& t : tables) held += t.bytes_allocated();
      worst = std::max(worst, static_cast<double>(held) / static_cast<double>(bound));
      REQUIRE_MESSAGE(held <= bound, "step ", step, ": the tables hold ", held, " bytes, the budget is ", bound);
    }
    MESSAGE("granularity ", static_cast<int>(granularity), ": at most ", worst,
            " of the budget in force; final round room ", controller.last_round().new_row_room, " rows, ",
            controller.last_round().turned_away, " turned away");
    CHECK(early_rounds == 0);  // these tables never pass the reference in the warm-up
    CHECK(controller.last_round().bytes_after <= controller.last_round().budget_bytes);
    CHECK(controller.last_round().new_row_room > 0);
    CHECK(controller.last_round().turned_away > 0);  // the stream brings more new ids than the room holds
    // FIITED's path for new rows still works: rows first seen after the first round earned chunks.
    std::size_t late_rows = 0;
    for (std::size_t t = 0; t < tables.size(); ++t) {
      tables[t].check_invariants();
      CHECK(tables[t].admission() == admission_policy::within_allocation);
      tables[t].for_each_row([&](std::uint32_t, std::uint32_t id, index_t live, std::span<const float>, float) {
        if (live > 0 && seen_before_first_round[t].count(id) == 0) ++late_rows;
      });
    }
    CHECK(late_rows > 100);
  }
}

TEST_CASE("before the first round the controller runs a round early when the tables pass the reference") {
  // Small tables filled completely in the warm-up hold more than the full tables would (scores,
  // index, pool growth): the step that crosses the reference ends with an early round at 100 %.
  const std::vector<index_t> rows = {3'000, 1'000};
  const std::size_t reference = full_bytes(rows);
  std::vector<adaptive_table<>> tables;
  for (index_t n : rows) tables.emplace_back(n, dim, adaptive_table_options{.chunk_width = width});
  const budget_options options{.target_fraction = 0.5, .interval = 100, .warmup = 200, .ramp = 100};
  budget_controller<adaptive_table<>> controller(tables, reference, options);
  rng gen(4);
  index_t early_step = -1;
  for (index_t step = 0; step < 250; ++step) {
    for (std::size_t t = 0; t < tables.size(); ++t) {
      std::vector<std::uint32_t> ids(256);
      for (auto& id : ids) id = static_cast<std::uint32_t>(gen.uniform_int(static_cast<std::uint64_t>(rows[t])));
      train_step(tables[t], ids, gen);
    }
    if (controller.on_step(step) && controller.last_round().early && early_step < 0) {
      early_step = step;
      CHECK(controller.last_round().fraction == 1.0);
      CHECK(controller.last_round().bytes_before > reference);
    }
    std::size_t held = 0;
    for (const auto& t : tables) held += t.bytes_allocated();
    REQUIRE_MESSAGE(held <= controller.budget_at(step), "step ", step);
  }
  REQUIRE(early_step >= 0);
  CHECK(early_step < options.warmup);
  MESSAGE("early round after step ", early_step);
}

TEST_CASE("admission within the allocation: new rows fill the index's room, the rest are turned away") {
  adaptive_table<> table(1'000'000, 8, adaptive_table_options{.chunk_width = 4, .index = index_layout::hashed});
  rng gen(2);
  auto step = [&](std::uint32_t first, std::uint32_t count) {
    std::vector<std::uint32_t> ids(count);
    for (std::uint32_t i = 0; i < count; ++i) ids[i] = first + i;
    std::vector<index_t> offsets(count + 1);
    for (std::uint32_t i = 0; i <= count; ++i) offsets[i] = i;
    std::vector<float> grad(count * 8u, 0.5f);
    table.backward(bag_batch{.offsets = offsets, .indices = ids}, grad);
  };
  step(0, 100);  // open admission: 100 rows with both chunks
  REQUIRE(table.entries() == 100);
  table.set_new_row_chunks(0);
  table.set_admission(admission_policy::within_allocation);
  const std::size_t bytes = table.bytes_allocated();
  const std::size_t room = table.index_room();
  REQUIRE(room > 0);
  REQUIRE(room < 300);
  step(1000, 300);  // more new ids than the room: the first `room` of them enter as candidates
  CHECK(table.entries() == 100 + room);
  CHECK(table.index_room() == 0);
  CHECK(table.turned_away() == 300 - room);
  CHECK(table.bytes_allocated() == bytes);
  CHECK(table.row_chunks(1000) == 0);
  // A turned-away id reads zero and has no slot; an admitted candidate has a score.
  const std::uint32_t away = 1000 + static_cast<std::uint32_t>(room);
  CHECK(table.row_values(away) == std::vector<float>(8, 0.0f));
  std::size_t candidates = 0;
  table.for_each_row([&](std::uint32_t, std::uint32_t id, index_t live, std::span<const float>, float candidate) {
    if (id >= 1000) {
      CHECK(live == 0);
      CHECK(id < away);
      CHECK(candidate > 0);
      ++candidates;
    }
  });
  CHECK(candidates == room);
  // Known rows still train while new ones are turned away.
  const auto before = table.row_values(5);
  step(0, 10);
  CHECK(table.row_values(5) != before);
  CHECK(table.turned_away() == 300 - room);
  table.check_invariants();
  // The policy and the count survive a checkpoint.
  const auto dir = test::scratch_dir("embedding-admission");
  {
    checkpoint_writer out;
    table.save(out, "t");
    out.write(dir / "t.ck");
  }
  adaptive_table<> loaded(1'000'000, 8, adaptive_table_options{.chunk_width = 4, .index = index_layout::hashed});
  loaded.load(checkpoint_reader(dir / "t.ck"), "t");
  CHECK(loaded.admission() == admission_policy::within_allocation);
  CHECK(loaded.turned_away() == table.turned_away());
  CHECK(loaded.index_room() == table.index_room());
  // Open admission grows the index as before.
  table.set_admission(admission_policy::open);
  step(7000, 300);
  CHECK(table.turned_away() == 300 - room);
  CHECK(table.bytes_allocated() > bytes);
}

TEST_CASE("admission within the allocation: new rows that need chunks enter only into free blocks of the pool") {
  // A direct index has a slot for every id; the pool is what limits rows that enter with chunks.
  adaptive_table<> table(1000, 8, adaptive_table_options{.chunk_width = 4, .index = index_layout::direct});
  auto step = [&](std::uint32_t id) {
    const std::vector<index_t> offsets{0, 1};
    const std::vector<std::uint32_t> ids{id};
    const std::vector<float> grad(8, 0.5f);
    table.backward(bag_batch{.offsets = offsets, .indices = ids}, grad);
  };
  for (std::uint32_t id = 0; id < 100; ++id) step(id);
  table.compact();  // the pool holds exactly the 200 live chunks
  table.set_admission(admission_policy::within_allocation);
  const std::size_t bytes = table.bytes_allocated();
  REQUIRE(table.index_room() == 900);
  step(500);
  CHECK(table.row_chunks(500) == 0);
  CHECK(table.entries() == 100);
  CHECK(table.turned_away() == 1);
  table.resize_row(7, 0);  // frees a block of two chunks
  step(500);
  CHECK(table.row_chunks(500) == 2);
  CHECK(table.row_values(500) != std::vector<float>(8, 0.0f));
  CHECK(table.turned_away() == 1);
  CHECK(table.bytes_allocated() == bytes);
  table.check_invariants();
}

TEST_CASE("threshold mode keeps the chunks whose score passes the threshold and sets no byte budget") {
  const index_t rows = 400;
  adaptive_table<> table(rows, dim, adaptive_table_options{.chunk_width = width});
  // Row id's chunk c gets score (id % 10) / (c + 1): one coordinate of each chunk carries it.
  for (std::uint32_t id = 0; id < rows; ++id) {
    const std::vector<index_t> offsets{0, 1};
    const std::vector<std::uint32_t> idx{id};
    std::vector<float> g(static_cast<std::size_t>(dim), 0.0f);
    for (index_t c = 0; c < dim / width; ++c)
      g[static_cast<std::size_t>(c * width)] = static_cast<float>(id % 10) / static_cast<float>(c + 1);
    table.backward(bag_batch{.offsets = offsets, .indices = idx}, g);
  }
  const std::size_t reference = full_bytes({rows});
  budget_controller<adaptive_table<>> controller(
      {&table}, reference, budget_options{.mode = budget_mode::threshold, .threshold = 3.0f, .decay = 1.0f});
  controller.round(0, 1.0);
  for (std::uint32_t id = 0; id < rows; ++id) {
    index_t expected = 0;
    while (expected < dim / width && static_cast<float>(id % 10) / static_cast<float>(expected + 1) >= 3.0f) ++expected;
    REQUIRE_MESSAGE(table.row_chunks(id) == expected, "id ", id);
  }
  table.check_invariants();
  // No byte budget: new rows still enter freely between rounds.
  CHECK(table.admission() == admission_policy::open);
  CHECK(controller.last_round().budget_bytes == 0);
}

TEST_CASE("budget options: the mode is explicit and contradictory options are refused with their values") {
  adaptive_table<> table(1000, dim, adaptive_table_options{.chunk_width = width});
  const std::size_t reference = full_bytes({1000});
  using controller = budget_controller<adaptive_table<>>;
  // The old implicit switch: a non-positive target_fraction with a threshold no longer means threshold mode.
  CHECK_THROWS_WITH_AS(controller({&table}, reference, budget_options{.target_fraction = -0.5, .threshold = 2.0f}),
                       doctest::Contains("target_fraction = -0.5 outside (0, 1] in budget_mode::bytes"),
                       invalid_argument);
  CHECK_THROWS_WITH_AS(controller({&table}, reference, budget_options{.target_fraction = 0, .threshold = 2.0f}),
                       doctest::Contains("set mode = budget_mode::threshold"), invalid_argument);
  CHECK_THROWS_WITH_AS(controller({&table}, reference, budget_options{.target_fraction = 0.2, .threshold = 2.5f}),
                       doctest::Contains("threshold = 2.5 is used only in budget_mode::threshold"), invalid_argument);
  CHECK_THROWS_WITH_AS(controller({&table}, reference, budget_options{.target_fraction = 1.5}),
                       doctest::Contains("target_fraction = 1.5 outside (0, 1]"), invalid_argument);
  CHECK_THROWS_WITH_AS(
      controller({&table}, reference, budget_options{.mode = budget_mode::threshold, .threshold = 0.0f}),
      doctest::Contains("threshold = 0 must be positive and finite in budget_mode::threshold"), invalid_argument);
  CHECK_THROWS_WITH_AS(
      controller({&table}, reference, budget_options{.mode = budget_mode::threshold, .threshold = -1.0f}),
      doctest::Contains("threshold = -1 must be positive"), invalid_argument);
  CHECK_THROWS_WITH_AS(controller({&table}, reference, budget_options{.new_row_room = -0.1}),
                       doctest::Contains("new_row_room = -0.1 must be finite and >= 0"), invalid_argument);
  CHECK_THROWS_WITH_AS(controller({&table}, reference, budget_options{.interval = 0}),
                       doctest::Contains("interval = 0 must be positive"), invalid_argument);
  CHECK_THROWS_WITH_AS(controller({&table}, reference, budget_options{.decay = 1.5f}),
                       doctest::Contains("decay = 1.5 outside [0, 1]"), invalid_argument);
  // A budget no selection can meet: below one empty index per table.
  CHECK_THROWS_WITH_AS(controller({&table}, 10'000, budget_options{.target_fraction = 0.1}),
                       doctest::Contains("is 1000 bytes, below the 4096 bytes"), invalid_argument);
  // Defaults work; threshold mode ignores target_fraction; a direct round refuses a bad fraction.
  controller bytes({&table}, reference, budget_options{});
  CHECK(bytes.options().mode == budget_mode::bytes);
  controller threshold({&table}, reference,
                       budget_options{.mode = budget_mode::threshold, .target_fraction = -1, .threshold = 1.0f});
  CHECK_THROWS_WITH_AS(bytes.round(0, 0.0), doctest::Contains("fraction = 0 outside (0, 1]"), invalid_argument);
}

TEST_CASE("click_trainer with a budget controller keeps DLRM's tables within the budget at every step") {
  const auto train = test::small_clicks(5, 4000);
  using table = adaptive_table<>;
  std::vector<table> tables;
  for (index_t n : train.cardinalities) tables.emplace_back(n, 8, adaptive_table_options{.chunk_width = 2});
  rng gen(3);
  dlrm<table> model(train.dense_features, std::move(tables), dlrm_options{.bottom = {8}, .top = {8}}, gen);
  std::size_t reference = 0;
  for (index_t n : train.cardinalities) reference += full_table<>::bytes_for(n, 8, optimizer_kind::rowwise_adagrad);
  budget_controller<table> budget(model.tables(), reference,
                                  budget_options{.target_fraction = 0.3, .interval = 10, .warmup = 10, .ramp = 20});
  index_t checked = 0;
  click_trainer<table> trainer(model, train, click_train_options{.batch = 32}, budget, [&](index_t step) {
    REQUIRE(budget.total_bytes() <= budget.budget_at(step));
    ++checked;
  });
  trainer.run(trainer.steps_per_epoch());
  CHECK(checked == trainer.steps_per_epoch());
  CHECK(budget.last_round().step >= 0);
  CHECK(budget.total_bytes() <= budget.budget_at(trainer.step() - 1));
  // A controller over other tables is refused.
  std::vector<table> others;
  for (index_t n : train.cardinalities) others.emplace_back(n, 8, adaptive_table_options{.chunk_width = 2});
  budget_controller<table> wrong(others, reference, budget_options{.target_fraction = 0.3});
  CHECK_THROWS_WITH_AS(click_trainer<table>(model, train, click_train_options{.batch = 32}, wrong),
                       doctest::Contains("the budget controller's table 0 is not the model's table 0"),
                       invalid_argument);
  budget_controller<table> partial(std::span<table>(model.tables()).first(2), reference,
                                   budget_options{.target_fraction = 0.3});
  CHECK_THROWS_WITH_AS(click_trainer<table>(model, train, click_train_options{.batch = 32}, partial),
                       doctest::Contains("drives 2 tables, the model has 4"), invalid_argument);
}
