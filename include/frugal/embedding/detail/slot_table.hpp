#pragma once
/// \file
/// The virtual index of `adaptive_table` (VHPI): its slot and per-slot training state, and the
/// page-backed table of them in the hashed and the direct layout.

#include <bit>
#include <cstddef>
#include <cstdint>
#include <utility>

#include "page_buffer.hpp"

namespace frugal::embedding::detail {

/// Most chunks one row may hold: a slot's block keeps the count in 5 bits.
inline constexpr std::size_t max_row_chunks = 31;

/// One slot of the virtual index: all a lookup reads, 8 bytes, so a cache line holds 8 slots.
struct slot {
  std::uint32_t key = 0;    ///< id + 1; 0 = empty
  std::uint32_t block = 0;  ///< first chunk << 5 | live chunks (0 = no chunk)

  [[nodiscard]] std::uint32_t chunks() const noexcept { return block & 31u; }
  [[nodiscard]] std::uint32_t first() const noexcept { return block >> 5; }
};
static_assert(sizeof(slot) == 8);
/// What only training touches, kept apart from the slots (same index) so lookups read dense lines.
struct slot_state {
  float accumulator = 0;  ///< row-wise Adagrad state
  float candidate = 0;    ///< score of the row's next (not yet live) chunk
};
static_assert(sizeof(slot_state) == sizeof(slot));

/// The virtual index in one page-backed mapping of 32-bit words. Hashed: `size()` slots (key,
/// block), then their `slot_state`s: 16 bytes per slot. Direct: slot s is id s; the blocks (4
/// bytes per id), then the states (8), then one presence bit per id. Absent ids have block 0 and
/// a zero state in both layouts, so a direct lookup reads the block without looking at the bit.
class slot_table {
 public:
  slot_table() = default;
  slot_table(std::size_t n, bool direct) : m_data(words(n, direct)), m_size(n), m_direct(direct) {}
  [[nodiscard]] std::size_t size() const noexcept { return m_size; }
  [[nodiscard]] bool direct() const noexcept { return m_direct; }
  /// Bytes of an index of `n` slots (hashed) or over `n` ids (direct), as `bytes()` reports them.
  [[nodiscard]] static std::size_t bytes_for(std::size_t n, bool direct) noexcept {
    return allocation_bytes(words(n, direct) * sizeof(std::uint32_t));
  }

  [[nodiscard]] std::uint32_t key(std::size_t s) const noexcept {
    if (m_direct) return (m_data[bit_word(s)] >> (s % 32) & 1u) ? static_cast<std::uint32_t>(s) + 1 : 0u;
    return m_data[2 * s];
  }
  [[nodiscard]] std::uint32_t block(std::size_t s) const noexcept { return m_data[m_direct ? s : 2 * s + 1]; }
  void set_block(std::size_t s, std::uint32_t block) noexcept { m_data[m_direct ? s : 2 * s + 1] = block; }
  [[nodiscard]] slot get(std::size_t s) const noexcept { return slot{key(s), block(s)}; }
  /// Occupies slot `s` with `e` (in the direct layout `s` must be `e.key - 1`).
  void put(std::size_t s, const slot& e, const slot_state& st) noexcept {
    if (m_direct)
      m_data[bit_word(s)] |= 1u << (s % 32);
    else
      m_data[2 * s] = e.key;
    set_block(s, e.block);
    set_state(s, st);
  }
  void clear(std::size_t s) noexcept {
    if (m_direct)
      m_data[bit_word(s)] &= ~(1u << (s % 32));
    else
      m_data[2 * s] = 0;
    set_block(s, 0);
    set_state(s, slot_state{});
  }
  [[nodiscard]] slot_state state(std::size_t s) const noexcept {
    const std::size_t at = state_word(s);
    return slot_state{std::bit_cast<float>(m_data[at]), std::bit_cast<float>(m_data[at + 1])};
  }
  void set_state(std::size_t s, const slot_state& st) noexcept {
    const std::size_t at = state_word(s);
    m_data[at] = std::bit_cast<std::uint32_t>(st.accumulator);
    m_data[at + 1] = std::bit_cast<std::uint32_t>(st.candidate);
  }
  void set_candidate(std::size_t s, float candidate) noexcept {
    m_data[state_word(s) + 1] = std::bit_cast<std::uint32_t>(candidate);
  }
  /// Where a lookup of slot `s` reads (for prefetching).
  [[nodiscard]] const void* slot_address(std::size_t s) const noexcept {
    return m_data.data() + (m_direct ? s : 2 * s);
  }
  [[nodiscard]] const void* state_address(std::size_t s) const noexcept { return m_data.data() + state_word(s); }
  /// The blocks of a direct index, indexed by id.
  [[nodiscard]] const std::uint32_t* direct_blocks() const noexcept { return m_data.data(); }
  [[nodiscard]] std::size_t bytes() const noexcept { return m_data.bytes(); }
  void swap(slot_table& other) noexcept {
    m_data.swap(other.m_data);
    std::swap(m_size, other.m_size);
    std::swap(m_direct, other.m_direct);
  }

 private:
  [[nodiscard]] static constexpr std::size_t words(std::size_t n, bool direct) noexcept {
    return direct ? 3 * n + (n + 31) / 32 : 4 * n;
  }
  [[nodiscard]] std::size_t state_word(std::size_t s) const noexcept { return (m_direct ? 1 : 2) * m_size + 2 * s; }
  /// The word holding id `s`'s presence bit (direct layout).
  [[nodiscard]] std::size_t bit_word(std::size_t s) const noexcept { return 3 * m_size + s / 32; }
  page_buffer<std::uint32_t> m_data;
  std::size_t m_size = 0;
  bool m_direct = false;
};

}  // namespace frugal::embedding::detail
