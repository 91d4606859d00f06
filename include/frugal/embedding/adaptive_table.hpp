#pragma once
/// \file
/// The FIITED adaptive embedding table in a virtually-hashed, physically-indexed (VHPI) layout.
///
/// Every row is a block of k contiguous fixed-width chunks in a shared chunk pool. An id is hashed
/// to a slot of an open-addressing table (the virtual index); the slot holds the physical index of
/// the row's first chunk and k (the physical index). When most ids of the table hold a slot, one
/// slot per id takes fewer bytes than a hash table sized to the entries; the index is then laid
/// out directly (slot = id: no hash, no probe, 4 bytes read per lookup), and back to hashed when
/// pruning leaves few entries (`index_layout`; `automatic` picks the smaller). A row with k live chunks has dimension
/// k·w: its chunks are always the leading ones and the missing trailing dimensions read as zero, so a lookup reads one
/// contiguous run of k·w floats, like a row of a full table.
///
/// Shrinking a row returns its trailing chunks to a free list (one list per block size); growing
/// moves the row to a block of the new size (from the free lists or the pool's unused tail); the
/// new chunks start at zero, so the row's output does not jump when it regrows. When the free fraction passes a
/// threshold the pool is compacted into a new, exactly sized mapping and the old one is unmapped, so the process's
/// resident memory really falls.
///
/// Per chunk the table keeps its values (w floats) and an importance score (4 bytes); per slot the
/// id and the block (first chunk and k packed in 4 bytes: all a lookup reads), and in the upper
/// half of the same mapping the row-wise Adagrad accumulator and the score of the row's next, not
/// yet live chunk (4 bytes each); a direct index keeps a presence bit per id instead of the id.
/// `bytes_allocated()` counts all of it. Limits: at most 31 chunks
/// per row and 2^27 chunks in the pool.
///
/// Rows materialise on their first update (`new_row_chunks` chunks, with the values a full table
/// would have started from); a row never updated reads as zero. Under
/// `admission_policy::within_allocation` a row enters only into room the table already holds (a
/// free slot of the index, a free block of the pool), so `backward` never grows the table.

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../core/checkpoint.hpp"
#include "../core/error.hpp"
#include "../core/execution.hpp"
#include "../core/parallel.hpp"
#include "admission.hpp"
#include "bags.hpp"
#include "detail/aggregate.hpp"
#include "detail/chunk_pool.hpp"
#include "detail/slot_index.hpp"
#include "detail/vhpi_kernels.hpp"
#include "importance.hpp"

namespace frugal::embedding {

/// How `adaptive_table` maps an id to its slot (the virtual index).
enum class index_layout {
  automatic,  ///< whichever of the two below holds fewer bytes for the current entries (the default)
  hashed,     ///< open addressing over a power-of-two table sized to the entries: 16 bytes per slot
  direct,     ///< one slot per id, no hash or probe: 12 bytes per id plus a presence bit
};

/// Options of `adaptive_table`.
struct adaptive_table_options {
  index_t chunk_width = 8;      ///< w: dimensions per chunk; must divide dim
  index_t new_row_chunks = -1;  ///< chunks a row gets at its first update; -1 = all (dim / w)
  pooling mode = pooling::sum;
  sparse_optimizer optimizer = {};
  float init_scale = 0.05f;  ///< as `dense_table_options::init_scale`; same values for the same seed
  std::uint64_t seed = 1;
  double max_load = 0.7;            ///< slot-table load factor that triggers growth
  double compact_threshold = 0.25;  ///< compact when free chunks exceed this fraction of the pool
  index_layout index = index_layout::automatic;
  admission_policy admission = admission_policy::open;  ///< the budget controller switches it after a round
};

/// FIITED / VHPI adaptive embedding table. See the file comment.
/// \tparam Importance how a step's accesses and gradients raise a chunk's score
/// \tparam Exec host execution space of the lookup
template <ImportancePolicy Importance = fiited_importance, HostExecutionSpace Exec = default_host_space>
class adaptive_table {
 public:
  using execution_space = Exec;
  using importance_type = Importance;
  /// Most chunks one row may hold, and most chunks in the pool.
  static constexpr index_t max_chunks_per_row = static_cast<index_t>(detail::max_row_chunks);
  static constexpr std::size_t max_pool_chunks = detail::chunk_pool::max_chunks;
  static constexpr std::uint32_t npos = 0xFFFFFFFFu;

  /// One slot of the virtual index (`detail::slot`), and what only training touches (`detail::slot_state`).
  using slot = detail::slot;
  using slot_state = detail::slot_state;

  adaptive_table(index_t rows, index_t dim, adaptive_table_options options = {}, Importance importance = {},
                 Exec exec = Exec{})
      : m_rows(rows), m_dim(dim), m_options(options), m_importance(importance), m_exec(std::move(exec)) {
    constexpr const char* where = "frugal::embedding::adaptive_table";
    check(rows > 0 && rows <= (index_t{1} << 32) - 1, where, ": rows = ", rows, " must be in [1, 2^32 - 1]");
    check(dim > 0, where, ": dim = ", dim, " must be positive");
    check(options.chunk_width > 0 && dim % options.chunk_width == 0, where, ": chunk_width = ", options.chunk_width,
          " must be positive and divide dim = ", dim);
    m_chunks_per_row = dim / options.chunk_width;
    check(m_chunks_per_row <= max_chunks_per_row, where, ": ", m_chunks_per_row, " chunks per row, at most ",
          max_chunks_per_row, "; use a wider chunk");
    if (m_options.new_row_chunks < 0) m_options.new_row_chunks = m_chunks_per_row;
    check(m_options.new_row_chunks <= m_chunks_per_row, where, ": new_row_chunks = ", m_options.new_row_chunks,
          " exceeds dim / chunk_width = ", m_chunks_per_row);
    check(options.max_load > 0 && options.max_load < 1, where, ": max_load = ", options.max_load, " must be in (0, 1)");
    check(options.compact_threshold >= 0 && options.compact_threshold < 1, where,
          ": compact_threshold = ", options.compact_threshold, " must be in [0, 1)");
    check(options.init_scale >= 0, where, ": init_scale = ", options.init_scale, " must be >= 0");
    m_options.optimizer.validate(where);
    m_pool =
        detail::chunk_pool(static_cast<std::size_t>(options.chunk_width), static_cast<std::uint32_t>(m_chunks_per_row));
    m_slots = detail::slot_index(
        static_cast<std::size_t>(rows), detail::mix64(options.seed * 0xA0761D6478BD642FULL + 1), options.max_load,
        options.index == index_layout::automatic ? std::nullopt
                                                 : std::optional<bool>(options.index == index_layout::direct));
  }

  // ---- shape ---------------------------------------------------------------------------------
  [[nodiscard]] index_t rows() const noexcept { return m_rows; }
  [[nodiscard]] index_t dim() const noexcept { return m_dim; }
  [[nodiscard]] index_t chunk_width() const noexcept { return m_options.chunk_width; }
  [[nodiscard]] index_t chunks_per_row() const noexcept { return m_chunks_per_row; }
  [[nodiscard]] pooling mode() const noexcept { return m_options.mode; }
  [[nodiscard]] const adaptive_table_options& options() const noexcept { return m_options; }

  // ---- occupancy -----------------------------------------------------------------------------
  /// Chunks owned by rows.
  [[nodiscard]] std::size_t live_chunks() const noexcept { return m_live_chunks; }
  /// Chunks on the free lists.
  [[nodiscard]] std::size_t free_chunks() const noexcept { return m_pool.free_chunks(); }
  /// Chunks the pool can hold without growing.
  [[nodiscard]] std::size_t pool_capacity() const noexcept { return m_pool.capacity(); }
  /// Occupied slots (rows with chunks, and rows tracked as candidates with none).
  [[nodiscard]] std::size_t entries() const noexcept { return m_slots.entries(); }
  /// Slots of the virtual index (`rows()` in a direct index).
  [[nodiscard]] std::size_t slot_capacity() const noexcept { return m_slots.size(); }
  /// Whether the virtual index is direct (one slot per id) rather than hashed; see `index_layout`.
  [[nodiscard]] bool direct_index() const noexcept { return m_slots.direct(); }
  /// Live parameters: live chunks × chunk width.
  [[nodiscard]] std::size_t live_parameters() const noexcept {
    return m_live_chunks * static_cast<std::size_t>(m_options.chunk_width);
  }
  /// Rows `backward` can still admit without growing the index: the ids without a slot in a direct
  /// index, else the entries that keep the load at or under `max_load`.
  [[nodiscard]] std::size_t index_room() const noexcept { return m_slots.room(); }
  /// Rows seen for the first time that `backward` did not admit (`admission_policy::within_allocation`),
  /// counted once per batch that saw them, since construction.
  [[nodiscard]] std::uint64_t turned_away() const noexcept { return m_turned_away; }
  /// Whether `backward` may grow the table for new rows (the budget controller sets this).
  [[nodiscard]] admission_policy admission() const noexcept { return m_options.admission; }
  void set_admission(admission_policy policy) noexcept { m_options.admission = policy; }
  /// Chunks given to a row at its first update (the budget controller sets this).
  [[nodiscard]] index_t new_row_chunks() const noexcept { return m_options.new_row_chunks; }
  void set_new_row_chunks(index_t k) {
    check(k >= 0 && k <= m_chunks_per_row, "frugal::embedding::adaptive_table::set_new_row_chunks: ", k,
          " outside [0, ", m_chunks_per_row, "]");
    m_options.new_row_chunks = k;
  }

  /// Every byte held from the system: slot table, chunk values and scores.
  [[nodiscard]] std::size_t bytes_allocated() const noexcept { return m_slots.bytes() + m_pool.bytes(); }

  /// Bytes the table holds after compaction with an index sized for `entries` entries and `chunks`
  /// live chunks (what `compact()` and the slot-table sizing of `apply_targets` give: pass the
  /// surviving rows plus `spare_entries`).
  [[nodiscard]] std::size_t bytes_for(std::size_t entries, std::size_t chunks) const noexcept {
    const auto w = static_cast<std::size_t>(m_options.chunk_width);
    return m_slots.bytes_for(entries) + detail::chunk_pool::bytes_for(chunks, w);
  }

  // ---- rows ----------------------------------------------------------------------------------
  /// Live chunks of id `id` (0 if absent).
  [[nodiscard]] index_t row_chunks(std::uint32_t id) const noexcept {
    const std::uint32_t s = m_slots.find(id);
    return s == npos ? 0 : m_slots.get(s).chunks();
  }

  /// The `dim()` values id `id` reads as (zeros beyond its live chunks).
  [[nodiscard]] std::vector<float> row_values(std::uint32_t id) const {
    std::vector<float> out(static_cast<std::size_t>(m_dim), 0.0f);
    const std::uint32_t s = m_slots.find(id);
    if (s == npos) return out;
    const auto w = static_cast<std::size_t>(m_options.chunk_width);
    const slot e = m_slots.get(s);
    std::copy_n(m_pool.values() + static_cast<std::size_t>(e.first()) * w, e.chunks() * w, out.begin());
    return out;
  }

  /// Importance scores of id `id`'s live chunks.
  [[nodiscard]] std::vector<float> row_scores(std::uint32_t id) const {
    const std::uint32_t s = m_slots.find(id);
    if (s == npos) return {};
    const slot e = m_slots.get(s);
    const float* p = m_pool.scores() + e.first();
    return std::vector<float>(p, p + e.chunks());
  }

  /// Sets id `id` to `k` live chunks: trailing chunks are returned to the free lists, new ones start
  /// at zero (so what the row returns does not jump). `k = 0` removes the row entirely.
  void resize_row(std::uint32_t id, index_t k) {
    check(static_cast<index_t>(id) < m_rows, "frugal::embedding::adaptive_table::resize_row: id ", id, " >= rows ",
          m_rows);
    check(k >= 0 && k <= m_chunks_per_row, "frugal::embedding::adaptive_table::resize_row: ", k, " chunks outside [0, ",
          m_chunks_per_row, "]");
    std::uint32_t s = m_slots.find(id);
    if (s == npos) {
      if (k == 0) return;
      s = m_slots.insert(id);
    }
    set_chunks(s, static_cast<std::uint32_t>(k), false);
    if (k == 0) m_slots.erase(s);
    maybe_compact();
  }

  /// Materialises every row with all chunks (a full table in VHPI form).
  void materialize_all() {
    for (index_t id = 0; id < m_rows; ++id) {
      std::uint32_t s = m_slots.find(static_cast<std::uint32_t>(id));
      if (s == npos) s = m_slots.insert(static_cast<std::uint32_t>(id));
      set_chunks(s, static_cast<std::uint32_t>(m_chunks_per_row), true);
    }
  }

  // ---- lookup and update ---------------------------------------------------------------------
  /// Pooled lookup into `out` (bags.size() × dim()). With a direct index, one pass: each bag sums
  /// its rows, read at the block its id's slot holds (absent ids hold block 0); batches of short
  /// bags gather their blocks in a first pass. With a hashed index, two passes: the ids are
  /// resolved to their blocks, then each bag sums its rows (`detail::vhpi_lookup`). The block
  /// lists live in a scratch buffer of the table: calls of `forward` on one table must not overlap
  /// (from several host threads); different tables are independent.
  void forward(const bag_batch& bags, std::span<float> out) const {
    validate("frugal::embedding::adaptive_table::forward", bags, m_rows, m_options.mode);
    check_extent("frugal::embedding::adaptive_table::forward", "output size", out.size(),
                 static_cast<std::size_t>(bags.size() * m_dim));
    detail::vhpi_lookup(m_exec, bags, m_options.mode, static_cast<std::size_t>(m_dim),
                        static_cast<std::size_t>(m_options.chunk_width), m_slots, m_pool.values(), m_resolved, out);
  }

  /// Applies dL/d(output) through the fused optimizer to the live chunks of every touched row,
  /// raises their importance scores and the score of each row's next chunk, and materialises rows
  /// seen for the first time (`new_row_chunks()` chunks, or a score-only candidate entry when 0).
  /// Under `admission_policy::within_allocation` new rows are admitted in order of first
  /// occurrence while the index and pool have room, the rest are turned away (`turned_away()`),
  /// and `bytes_allocated()` is unchanged.
  /// Every pass runs in parallel on the table's execution space except the insertion of rows seen
  /// for the first time; touched rows are distinct, so no two threads write one row, score or
  /// state, and the result is the same on any thread count.
  void backward(const bag_batch& bags, std::span<const float> grad_output) {
    validate("frugal::embedding::adaptive_table::backward", bags, m_rows, m_options.mode);
    check_extent("frugal::embedding::adaptive_table::backward", "gradient size", grad_output.size(),
                 static_cast<std::size_t>(bags.size() * m_dim));
    detail::aggregate_gradients(m_exec, bags, m_options.mode, grad_output, m_dim, m_grads);
    const std::size_t unique = m_grads.size();
    const std::uint32_t* ids = m_grads.ids.data();
    m_touched.resize(unique);
    m_touched_blocks.resize(unique);
    const index_t row_grain = grain_for(64, index_t{1} << 14);
    // Pass 1: the slot and block of every touched row. Rows seen for the first time are inserted
    // after the slot table has grown once for all of them, so the slot indices stay valid.
    const std::size_t missing =
        detail::vhpi_find_rows(m_exec, m_slots, ids, unique, row_grain, m_touched.data(), m_touched_blocks.data());
    if (missing > 0) {
      const bool hold = m_options.admission == admission_policy::within_allocation;
      if (!hold && m_slots.reserve(missing))
        for (std::size_t k = 0; k < unique; ++k)
          if (m_touched[k] != npos) m_touched[k] = m_slots.find(ids[k]);
      const auto k_new = static_cast<std::uint32_t>(m_options.new_row_chunks);
      for (std::size_t k = 0; k < unique; ++k) {
        if (m_touched[k] != npos) continue;
        if (hold && (m_slots.room() == 0 || !m_pool.fits(k_new))) {
          m_touched_blocks[k] = 0;  // the passes below skip it: no slot, no chunk
          ++m_turned_away;
          continue;
        }
        m_touched[k] = m_slots.place(slot{ids[k] + 1, 0u}, slot_state{});
        set_chunks(m_touched[k], k_new, true);
        m_touched_blocks[k] = m_slots.block(m_touched[k]);  // block indices survive pool growth
      }
    }
    const auto w = static_cast<std::size_t>(m_options.chunk_width);
    // Pass 2: the fused update; pass 3: the importance scores.
    detail::vhpi_update_rows(m_exec, m_options.optimizer, m_grads, m_touched.data(), m_touched_blocks.data(),
                             static_cast<std::size_t>(m_dim), w, row_grain, m_pool.values(), m_slots);
    detail::vhpi_raise_scores(m_exec, m_importance, m_grads, m_touched.data(), m_touched_blocks.data(),
                              static_cast<std::size_t>(m_chunks_per_row), w, row_grain, m_pool.scores(), m_slots);
  }

  // ---- budget control ------------------------------------------------------------------------
  /// Calls `f(slot_index, id, live_chunks, chunk_scores, candidate_score)` for every entry.
  template <class F>
  void for_each_row(F&& f) const {
    for (std::uint32_t s = 0; s < m_slots.size(); ++s) {
      const slot e = m_slots.get(s);
      if (e.key == 0) continue;
      f(s, e.key - 1, static_cast<index_t>(e.chunks()), std::span<const float>(m_pool.scores() + e.first(), e.chunks()),
        m_slots.state(s).candidate);
    }
  }

  /// Gives every entry the chunk count `target[slot]` (indexed as `for_each_row` reports slots),
  /// drops entries whose target is 0, rebuilds the slot table for the survivors with room for
  /// `spare_entries` more (rows `backward` may admit before the index must grow; `bytes_for(survivors
  /// + spare_entries, chunks)` is what it holds after compaction), multiplies every score by
  /// `decay`, and compacts the pool when `compact_pool` is set or its free fraction passes the
  /// threshold.
  void apply_targets(std::span<const std::uint8_t> target, float decay, bool compact_pool = false,
                     std::size_t spare_entries = 0) {
    check_extent("frugal::embedding::adaptive_table::apply_targets", "targets", target.size(), m_slots.size());
    check(decay >= 0 && decay <= 1, "frugal::embedding::adaptive_table::apply_targets: decay = ", decay,
          " outside [0, 1]");
    std::size_t survivors = 0;
    for (std::uint32_t s = 0; s < m_slots.size(); ++s) {
      if (m_slots.key(s) == 0) continue;
      check(target[s] <= m_chunks_per_row, "frugal::embedding::adaptive_table::apply_targets: target ", int(target[s]),
            " exceeds ", m_chunks_per_row, " chunks");
      set_chunks(s, target[s], false);
      if (target[s] > 0) ++survivors;
    }
    // Rebuild the virtual index with the survivors only, and room for `spare_entries` more.
    m_slots.rebuild_for(survivors + spare_entries, [decay](const slot& e, slot_state& st) {
      st.candidate *= decay;
      return e.chunks() > 0;
    });
    for (std::size_t c = 0; c < m_pool.used(); ++c) m_pool.scores()[c] *= decay;
    if (compact_pool)
      compact();
    else
      maybe_compact();
  }

  /// Moves every live row into a new pool of exactly `live_chunks()` chunks, in slot order, and
  /// releases the old one. Values, scores and row contents are unchanged.
  void compact() {
    detail::chunk_pool next(m_pool.width(), m_pool.max_block(), m_live_chunks);
    for (std::size_t s = 0; s < m_slots.size(); ++s) {
      const slot e = m_slots.get(s);
      if (e.key == 0 || e.chunks() == 0) continue;
      m_slots.set_block(s, next.append(m_pool, e.first(), e.chunks()) << 5 | e.chunks());
    }
    m_pool = std::move(next);
  }

  /// Checks the VHPI invariants and throws `error` describing the first violation: every live
  /// chunk is owned by exactly one row and is on no free list; the free lists hold exactly
  /// `free_chunks()` distinct chunks in blocks of their list's size, all below the high-water
  /// mark; owned + free = used; every key is findable, unique and below `rows()`.
  void check_invariants() const {
    constexpr const char* where = "frugal::embedding::adaptive_table::check_invariants";
    std::vector<std::uint8_t> state(m_pool.capacity(), 0);  // 0 unused, 1 owned, 2 free
    std::size_t live = 0, entries = 0;
    for (std::uint32_t s = 0; s < m_slots.size(); ++s) {
      const slot e = m_slots.get(s);
      if (e.key == 0) {
        check<error>(e.block == 0, where, ": empty slot ", s, " holds block ", e.block);
        continue;
      }
      ++entries;
      check<error>(static_cast<index_t>(e.key - 1) < m_rows, where, ": slot ", s, " holds id ", e.key - 1, " >= rows ",
                   m_rows);
      check<error>(m_slots.find(e.key - 1) == s, where, ": id ", e.key - 1, " in slot ", s, " is not found by lookup");
      check<error>(e.chunks() <= static_cast<std::uint32_t>(m_chunks_per_row), where, ": id ", e.key - 1, " has ",
                   e.chunks(), " chunks, at most ", m_chunks_per_row);
      for (std::uint32_t c = e.first(); c < e.first() + e.chunks(); ++c) {
        check<error>(c < m_pool.used(), where, ": id ", e.key - 1, " owns chunk ", c, " beyond the used pool ",
                     m_pool.used());
        check<error>(state[c] == 0, where, ": chunk ", c, " is owned twice (second owner id ", e.key - 1, ")");
        state[c] = 1;
        ++live;
      }
    }
    check<error>(entries == m_slots.entries(), where, ": ", entries, " occupied slots, counter says ",
                 m_slots.entries());
    check<error>(live == m_live_chunks, where, ": ", live, " owned chunks, counter says ", m_live_chunks);
    m_pool.check_free_lists(state, live, where);
  }

  // ---- checkpoints ---------------------------------------------------------------------------
  /// Writes the exact state (slot table, pool, free lists, scores, optimizer state, admission
  /// policy and count of rows turned away) under `prefix/`.
  void save(checkpoint_writer& out, std::string_view prefix) const;  // adaptive_table_io.hpp

  /// Restores what `save` wrote, index layout included (a checkpoint without an index record,
  /// from before direct indexes, is hashed; one without an admission record, from before issue
  /// 23, has open admission and no row turned away). Throws `format_error` when the records disagree with
  /// this table's shape or with each other (the invariants are checked before anything is replaced).
  void load(const checkpoint_reader& in, std::string_view prefix);  // adaptive_table_io.hpp

 private:
  /// Gives slot `s` exactly `k` live chunks. Shrinking keeps the first removed chunk's score as the
  /// row's candidate score (so a pruned chunk can earn its way back); growing moves the row to a
  /// block of the new size and resets it. New chunks hold a full table's initial values for a row
  /// materialising, zeros when a row regrows (its output is unchanged until they learn).
  void set_chunks(std::uint32_t s, std::uint32_t k, bool initial_values) {
    const auto w = static_cast<std::size_t>(m_options.chunk_width);
    const std::uint32_t have = m_slots.get(s).chunks(), first = m_slots.get(s).first();
    if (k == have) return;
    if (k < have) {
      m_slots.set_candidate(s, m_pool.scores()[first + k]);
      m_pool.release(first + k, have - k);
      m_slots.set_block(s, k == 0 ? 0u : (first << 5 | k));
      m_live_chunks -= have - k;
      return;
    }
    const std::uint32_t fresh = m_pool.allocate(k);
    if (have > 0) {
      std::copy_n(m_pool.values() + static_cast<std::size_t>(first) * w, have * w,
                  m_pool.values() + static_cast<std::size_t>(fresh) * w);
      std::copy_n(m_pool.scores() + first, have, m_pool.scores() + fresh);
      m_pool.release(first, have);
    }
    const std::uint64_t id = m_slots.key(s) - 1;
    for (std::size_t t = have * w; t < k * w; ++t)
      m_pool.values()[static_cast<std::size_t>(fresh) * w + t] =
          initial_values ? detail::initial_value(m_options.seed, id, t, m_options.init_scale) : 0.0f;
    for (std::uint32_t c = have; c < k; ++c) m_pool.scores()[fresh + c] = 0.0f;
    m_slots.set_block(s, fresh << 5 | k);
    m_slots.set_candidate(s, 0.0f);
    m_live_chunks += k - have;
  }

  void maybe_compact() {
    if (m_pool.free_chunks() > 0 && static_cast<double>(m_pool.free_chunks()) >
                                        m_options.compact_threshold * static_cast<double>(m_pool.capacity()))
      compact();
  }

  index_t m_rows, m_dim;
  index_t m_chunks_per_row = 1;
  adaptive_table_options m_options;
  Importance m_importance;
  Exec m_exec;
  detail::slot_index m_slots;  ///< the virtual index
  detail::chunk_pool m_pool;   ///< the physical index: chunk values, scores, free lists
  std::size_t m_live_chunks = 0;
  std::uint64_t m_turned_away = 0;
  detail::row_gradients m_grads;
  mutable std::vector<std::uint32_t> m_resolved;  ///< forward scratch: the block of each index
  std::vector<std::uint32_t> m_touched;           ///< backward scratch: the slot of each touched row
  std::vector<std::uint32_t> m_touched_blocks;    ///< and its block
};

}  // namespace frugal::embedding

// The checkpoint I/O members, defined out of the class; included here so that every user of the
// table has them.
#include "adaptive_table_io.hpp"
