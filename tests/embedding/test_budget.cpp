// The byte budget between rounds: admission of new rows into the room a table already holds.
#include <doctest/doctest.h>

#include <frugal/core/rng.hpp>
#include <frugal/embedding.hpp>

#include <vector>

#include "test_support.hpp"

using namespace frugal;
using namespace frugal::embedding;

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
