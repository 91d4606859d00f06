#pragma once
/// \file
/// The virtual index of `adaptive_table` (VHPI) as a map from id to slot: seeded multiply-shift
/// hashing with linear probing and backward-shift deletion over a power-of-two `slot_table`, or
/// the direct layout (slot = id) when that holds no more bytes, growing and switching layout as
/// entries come and go.

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <utility>

#include "slot_table.hpp"

namespace frugal::embedding::detail {

/// The slot table plus the hashing that places ids in it. The table's accessors are reachable;
/// what would break the placement (`put`, `clear`, `swap`) only through `place`, `erase` and `rebuild`.
class slot_index : private slot_table {
 public:
  static constexpr std::uint32_t npos = 0xFFFFFFFFu;

  slot_index() = default;
  /// An index over ids [0, rows) hashed with `seed`, growing past `max_load`; `direct` forces a
  /// layout, or (nullopt) the smaller of the two is chosen whenever the index is rebuilt.
  slot_index(std::size_t rows, std::uint64_t seed, double max_load, std::optional<bool> direct)
      : m_rows(rows), m_seed(seed), m_max_load(max_load), m_force_direct(direct) {
    rehash(16);
  }

  using slot_table::block;
  using slot_table::bytes;
  using slot_table::direct;
  using slot_table::direct_blocks;
  using slot_table::get;
  using slot_table::key;
  using slot_table::set_block;
  using slot_table::set_candidate;
  using slot_table::set_state;
  using slot_table::size;
  using slot_table::slot_address;
  using slot_table::state;
  using slot_table::state_address;

  /// Occupied slots.
  [[nodiscard]] std::size_t entries() const noexcept { return m_entries; }

  /// The home slot of `id`: the id itself in a direct index; else Fibonacci (multiply-shift)
  /// hashing of the seeded id, the top bits of the product. One multiply; consecutive ids land
  /// evenly spread, and the seed moves every id.
  [[nodiscard]] std::size_t home(std::uint32_t id) const noexcept {
    if (direct()) return id;
    const int bits = std::countr_zero(size());
    return static_cast<std::size_t>(((id ^ m_seed) * 0x9E3779B97F4A7C15ULL) >> (64 - bits));
  }

  /// The slot of `id` (or npos), probing linearly from `from` (= home(id)).
  [[nodiscard]] std::uint32_t probe(std::uint32_t id, std::size_t from) const noexcept {
    const std::uint32_t wanted = id + 1;
    if (direct()) return key(from) == wanted ? static_cast<std::uint32_t>(from) : npos;
    const std::size_t mask = size() - 1;
    for (std::size_t s = from;; s = (s + 1) & mask) {
      const std::uint32_t k = key(s);
      if (k == wanted) return static_cast<std::uint32_t>(s);
      if (k == 0) return npos;
    }
  }

  [[nodiscard]] std::uint32_t find(std::uint32_t id) const noexcept { return probe(id, home(id)); }

  /// Places `e` (whose key is absent) and returns its slot; no growth check (see `reserve`).
  std::uint32_t place(const slot& e, const slot_state& st) noexcept {
    std::size_t s = home(e.key - 1);
    if (!direct()) {
      const std::size_t mask = size() - 1;
      while (key(s) != 0) s = (s + 1) & mask;
    }
    put(s, e, st);
    ++m_entries;
    return static_cast<std::uint32_t>(s);
  }

  /// Inserts absent `id` with no chunk and a zero state, growing first if need be.
  std::uint32_t insert(std::uint32_t id) {
    reserve(1);
    return place(slot{id + 1, 0u}, slot_state{});
  }

  /// Entries the index takes before it must grow: the ids without a slot in a direct index, else
  /// as many as keep the load at or under `max_load`.
  [[nodiscard]] std::size_t room() const noexcept {
    if (direct()) return m_rows - m_entries;
    const auto limit = static_cast<std::size_t>(m_max_load * static_cast<double>(size()));
    return limit > m_entries ? limit - m_entries : 0;
  }

  /// Grows a hashed index that would pass the load factor with `extra` more entries: doubling
  /// until it fits, or to the direct layout once that is no larger. Returns whether slots moved.
  bool reserve(std::size_t extra) {
    if (direct()) return false;
    std::size_t capacity = size();
    while (static_cast<double>(m_entries + extra) > m_max_load * static_cast<double>(capacity)) capacity *= 2;
    if (capacity == size()) return false;
    rehash(capacity);
    return true;
  }

  /// Removes slot `s` (which owns no chunk); in a hashed index with backward-shift deletion,
  /// keeping probes intact.
  void erase(std::uint32_t s) noexcept {
    --m_entries;
    if (direct()) {
      clear(s);
      return;
    }
    const std::size_t mask = size() - 1;
    std::size_t hole = s;
    for (std::size_t j = (hole + 1) & mask; key(j) != 0; j = (j + 1) & mask) {
      const std::size_t h = home(key(j) - 1);
      // j may move into the hole unless its home h lies cyclically in (hole, j].
      const bool movable = hole <= j ? (h <= hole || h > j) : (h <= hole && h > j);
      if (movable) {
        put(hole, get(j), state(j));
        hole = j;
      }
    }
    clear(hole);
  }

  /// Rebuilds the index sized for `entries` entries with every entry that `keep(entry, state)`
  /// accepts; `keep` may change the state it is given.
  template <class Keep>
  void rebuild_for(std::size_t entries, Keep keep) {
    rebuild(empty_index(capacity_for(entries)), keep);
  }

  /// Bytes of the index `rebuild_for(entries, ...)` builds.
  [[nodiscard]] std::size_t bytes_for(std::size_t entries) const noexcept {
    const std::size_t capacity = capacity_for(entries);
    const bool d = prefer_direct(capacity);
    return slot_table::bytes_for(d ? m_rows : capacity, d);
  }

  /// Replaces the table by `table`, holding `entries` entries, as read from a checkpoint; whether
  /// they are placed right is for the caller's invariant check to tell.
  void restore(slot_table&& table, std::size_t entries) noexcept {
    table.swap(*this);
    m_entries = entries;
  }

 private:
  /// Slots of a hashed index for `entries` entries.
  [[nodiscard]] std::size_t capacity_for(std::size_t entries) const noexcept {
    const auto need = static_cast<std::size_t>(std::ceil(static_cast<double>(entries) / m_max_load)) + 1;
    return std::max<std::size_t>(16, std::bit_ceil(need));
  }

  /// Whether an index of hashed `capacity` would be laid out directly instead: always or never
  /// when forced, else when one slot per id takes no more bytes.
  [[nodiscard]] bool prefer_direct(std::size_t hashed_capacity) const noexcept {
    if (m_force_direct) return *m_force_direct;
    return slot_table::bytes_for(m_rows, true) <= slot_table::bytes_for(hashed_capacity, false);
  }

  /// An empty table: `hashed_capacity` slots, or one per id where `prefer_direct` says so.
  [[nodiscard]] slot_table empty_index(std::size_t hashed_capacity) const {
    const bool d = prefer_direct(hashed_capacity);
    return slot_table(d ? m_rows : hashed_capacity, d);
  }

  template <class Keep>
  void rebuild(slot_table index, Keep keep) {
    index.swap(*this);
    m_entries = 0;
    for (std::size_t s = 0; s < index.size(); ++s) {
      const slot e = index.get(s);
      if (e.key == 0) continue;
      slot_state st = index.state(s);
      if (keep(e, st)) place(e, st);
    }
  }

  void rehash(std::size_t capacity) {
    rebuild(empty_index(capacity), [](const slot&, slot_state&) { return true; });
  }

  std::size_t m_rows = 0;
  std::uint64_t m_seed = 0;
  double m_max_load = 0.7;
  std::optional<bool> m_force_direct;
  std::size_t m_entries = 0;
};

}  // namespace frugal::embedding::detail
