#pragma once
/// \file
/// The physical half of `adaptive_table` (VHPI): a pool of fixed-width chunks, each with its w
/// values and one importance score, in two page-backed mappings. A row owns a block of k
/// contiguous chunks; freed blocks go to a free list per block size, linked through each block's
/// first value (a freed block's values are dead, so the links cost no memory), and a block is
/// taken from its list before the never-used tail of the pool.

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "../../core/error.hpp"
#include "page_buffer.hpp"

namespace frugal::embedding::detail {

class chunk_pool {
 public:
  static constexpr std::uint32_t npos = 0xFFFFFFFFu;
  /// Most chunks the pool may hold: the slot's block field keeps the first chunk in 27 bits.
  static constexpr std::size_t max_chunks = std::size_t{1} << 27;

  chunk_pool() = default;
  /// An empty pool of chunks `width` floats wide, handing out blocks of 1 to `max_block` chunks,
  /// with room for `reserve` chunks before it grows.
  chunk_pool(std::size_t width, std::uint32_t max_block, std::size_t reserve = 0)
      : m_values(reserve * width), m_scores(reserve), m_free_heads(max_block + std::size_t{1}, npos), m_width(width) {}

  /// A pool restored from its records (`adaptive_table::load`); `check_free_lists` then tells whether they agree.
  chunk_pool(std::size_t width, std::span<const float> values, std::span<const float> scores, std::size_t used,
             std::size_t free_count, std::span<const std::uint32_t> free_heads)
      : m_values(values.size()),
        m_scores(scores.size()),
        m_free_heads(free_heads.begin(), free_heads.end()),
        m_width(width),
        m_used(used),
        m_free_count(free_count) {
    std::copy(values.begin(), values.end(), m_values.data());
    std::copy(scores.begin(), scores.end(), m_scores.data());
  }

  [[nodiscard]] std::size_t width() const noexcept { return m_width; }
  [[nodiscard]] std::uint32_t max_block() const noexcept { return static_cast<std::uint32_t>(m_free_heads.size() - 1); }
  /// Chunks the pool holds without growing.
  [[nodiscard]] std::size_t capacity() const noexcept { return m_scores.size(); }
  /// High-water mark: chunks [used(), capacity()) were never handed out.
  [[nodiscard]] std::size_t used() const noexcept { return m_used; }
  /// Chunks on the free lists.
  [[nodiscard]] std::size_t free_chunks() const noexcept { return m_free_count; }
  [[nodiscard]] std::size_t bytes() const noexcept { return m_values.bytes() + m_scores.bytes(); }
  /// Bytes of an exactly sized pool of `chunks` chunks `width` floats wide, as `bytes()` reports them.
  [[nodiscard]] static std::size_t bytes_for(std::size_t chunks, std::size_t width) noexcept {
    return allocation_bytes(chunks * width * sizeof(float)) + allocation_bytes(chunks * sizeof(float));
  }
  /// Per block size, the first free block (`npos` when the list is empty).
  [[nodiscard]] std::span<const std::uint32_t> free_heads() const noexcept { return m_free_heads; }

  /// Values of chunk c start at `values() + c · width()`; its score is `scores()[c]`.
  [[nodiscard]] float* values() noexcept { return m_values.data(); }
  [[nodiscard]] const float* values() const noexcept { return m_values.data(); }
  [[nodiscard]] float* scores() noexcept { return m_scores.data(); }
  [[nodiscard]] const float* scores() const noexcept { return m_scores.data(); }
  [[nodiscard]] std::span<const float> all_values() const noexcept { return {m_values.data(), m_values.size()}; }
  [[nodiscard]] std::span<const float> all_scores() const noexcept { return {m_scores.data(), m_scores.size()}; }

  /// Whether `allocate(k)` would find its block without growing the pool.
  [[nodiscard]] bool fits(std::uint32_t k) const noexcept {
    return k == 0 || m_free_heads[k] != npos || m_used + k <= m_scores.size();
  }

  /// A block of `k` (1 to `max_block()`) contiguous chunks, from the free list of that size, else
  /// the tail, growing the pool when the tail is short: by an eighth where the pages are remapped
  /// (`page_buffer_remaps`: growth copies nothing, and a filled pool holds at most 12.5 % unused
  /// chunks), else by half. Its contents are whatever they were.
  std::uint32_t allocate(std::uint32_t k) {
    if (m_free_heads[k] != npos) {
      const std::uint32_t c = m_free_heads[k];
      m_free_heads[k] = next_free(c);
      m_free_count -= k;
      return c;
    }
    if (m_used + k > m_scores.size()) {
      const std::size_t step = m_scores.size() / (page_buffer_remaps ? 8 : 2);
      const std::size_t capacity = std::max<std::size_t>({64, m_scores.size() + step, m_used + k});
      check(capacity <= max_chunks, "frugal::embedding::adaptive_table: the chunk pool would exceed 2^27 chunks");
      m_values.resize(capacity * m_width);
      m_scores.resize(capacity);
    }
    const auto c = static_cast<std::uint32_t>(m_used);
    m_used += k;
    return c;
  }

  /// Returns the block of `k` chunks at `c` to its free list (nothing when k = 0).
  void release(std::uint32_t c, std::uint32_t k) noexcept {
    if (k == 0) return;
    m_values[static_cast<std::size_t>(c) * m_width] = std::bit_cast<float>(m_free_heads[k]);
    m_free_heads[k] = c;
    m_free_count += k;
  }

  /// Copies the block of `k` chunks at `first` of `from` (values and scores) into a new block of
  /// this pool and returns where it went; compaction appends every live row to an exact-size pool.
  std::uint32_t append(const chunk_pool& from, std::uint32_t first, std::uint32_t k) {
    const std::uint32_t c = allocate(k);
    std::copy_n(from.values() + static_cast<std::size_t>(first) * m_width, k * m_width,
                values() + static_cast<std::size_t>(c) * m_width);
    std::copy_n(from.scores() + first, k, scores() + c);
    return c;
  }

  /// Checks the free half of the invariants after the caller marked each owned chunk in `state`
  /// (one entry per chunk of `capacity()`: 0 unused, 1 owned) and counted `live` of them: the free
  /// lists hold `free_chunks()` distinct chunks below `used()`, none owned, and owned + free = used.
  /// Throws `error` naming the first violation, prefixed by `where`.
  void check_free_lists(std::vector<std::uint8_t>& state, std::size_t live, const char* where) const {
    check<error>(m_used <= m_scores.size() && m_values.size() == m_scores.size() * m_width &&
                     state.size() == m_scores.size() && !m_free_heads.empty(),
                 where, ": pool arrays disagree in size");
    std::size_t free = 0, blocks = 0;
    for (std::size_t size = 1; size < m_free_heads.size(); ++size)
      for (std::uint32_t c = m_free_heads[size]; c != npos; c = next_free(c)) {
        check<error>(c + size <= m_used, where, ": free block ", c, "+", size, " beyond the used pool ", m_used);
        for (std::size_t t = c; t < c + size; ++t) {
          check<error>(state[t] == 0, where, ": chunk ", t,
                       state[t] == 1 ? " is both owned and free" : " is free twice");
          state[t] = 2;
        }
        free += size;
        check<error>(++blocks <= m_used, where, ": a free list loops");
      }
    check<error>(free == m_free_count, where, ": free lists hold ", free, " chunks, counter says ", m_free_count);
    check<error>(live + free == m_used, where, ": ", live, " owned + ", free, " free != ", m_used, " used chunks");
  }

 private:
  [[nodiscard]] std::uint32_t next_free(std::uint32_t c) const noexcept {
    return std::bit_cast<std::uint32_t>(m_values[static_cast<std::size_t>(c) * m_width]);
  }

  page_buffer<float> m_values;
  page_buffer<float> m_scores;
  std::vector<std::uint32_t> m_free_heads;
  std::size_t m_width = 1;
  std::size_t m_used = 0;
  std::size_t m_free_count = 0;
};

}  // namespace frugal::embedding::detail
