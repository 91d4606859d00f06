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
/// would have started from); a row never updated reads as zero.

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../core/checkpoint.hpp"
#include "../core/error.hpp"
#include "../core/execution.hpp"
#include "../core/parallel.hpp"
#include "bags.hpp"
#include "detail/aggregate.hpp"
#include "detail/page_buffer.hpp"
#include "detail/slot_table.hpp"
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
  static constexpr index_t max_chunks_per_row = 31;
  static constexpr std::size_t max_pool_chunks = std::size_t{1} << 27;
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
    m_free_heads.assign(static_cast<std::size_t>(m_chunks_per_row) + 1, npos);
    m_hash_seed = detail::mix64(options.seed * 0xA0761D6478BD642FULL + 1);
    rehash(16);
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
  [[nodiscard]] std::size_t free_chunks() const noexcept { return m_free_count; }
  /// Chunks the pool can hold without growing.
  [[nodiscard]] std::size_t pool_capacity() const noexcept { return m_scores.size(); }
  /// Occupied slots (rows with chunks, and rows tracked as candidates with none).
  [[nodiscard]] std::size_t entries() const noexcept { return m_entries; }
  /// Slots of the virtual index (`rows()` in a direct index).
  [[nodiscard]] std::size_t slot_capacity() const noexcept { return m_slots.size(); }
  /// Whether the virtual index is direct (one slot per id) rather than hashed; see `index_layout`.
  [[nodiscard]] bool direct_index() const noexcept { return m_slots.direct(); }
  /// Live parameters: live chunks × chunk width.
  [[nodiscard]] std::size_t live_parameters() const noexcept {
    return m_live_chunks * static_cast<std::size_t>(m_options.chunk_width);
  }
  /// Chunks given to a row at its first update (the budget controller sets this).
  [[nodiscard]] index_t new_row_chunks() const noexcept { return m_options.new_row_chunks; }
  void set_new_row_chunks(index_t k) {
    check(k >= 0 && k <= m_chunks_per_row, "frugal::embedding::adaptive_table::set_new_row_chunks: ", k,
          " outside [0, ", m_chunks_per_row, "]");
    m_options.new_row_chunks = k;
  }

  /// Every byte held from the system: slot table, chunk values and scores.
  [[nodiscard]] std::size_t bytes_allocated() const noexcept {
    return m_slots.bytes() + m_values.bytes() + m_scores.bytes();
  }

  /// Bytes the table holds after compaction with `entries` occupied slots and `chunks` live chunks
  /// (what `compact()` and the slot-table sizing of `apply_targets` give).
  [[nodiscard]] std::size_t bytes_for(std::size_t entries, std::size_t chunks) const noexcept {
    const auto w = static_cast<std::size_t>(m_options.chunk_width);
    return index_bytes_for(entries) + detail::allocation_bytes(chunks * w * sizeof(float)) +
           detail::allocation_bytes(chunks * sizeof(float));
  }

  // ---- rows ----------------------------------------------------------------------------------
  /// Live chunks of id `id` (0 if absent).
  [[nodiscard]] index_t row_chunks(std::uint32_t id) const noexcept {
    const std::uint32_t s = find(id);
    return s == npos ? 0 : m_slots.get(s).chunks();
  }

  /// The `dim()` values id `id` reads as (zeros beyond its live chunks).
  [[nodiscard]] std::vector<float> row_values(std::uint32_t id) const {
    std::vector<float> out(static_cast<std::size_t>(m_dim), 0.0f);
    const std::uint32_t s = find(id);
    if (s == npos) return out;
    const auto w = static_cast<std::size_t>(m_options.chunk_width);
    const slot e = m_slots.get(s);
    std::copy_n(m_values.data() + static_cast<std::size_t>(e.first()) * w, e.chunks() * w, out.begin());
    return out;
  }

  /// Importance scores of id `id`'s live chunks.
  [[nodiscard]] std::vector<float> row_scores(std::uint32_t id) const {
    const std::uint32_t s = find(id);
    if (s == npos) return {};
    const slot e = m_slots.get(s);
    const float* p = m_scores.data() + e.first();
    return std::vector<float>(p, p + e.chunks());
  }

  /// Sets id `id` to `k` live chunks: trailing chunks are returned to the free lists, new ones start
  /// at zero (so what the row returns does not jump). `k = 0` removes the row entirely.
  void resize_row(std::uint32_t id, index_t k) {
    check(static_cast<index_t>(id) < m_rows, "frugal::embedding::adaptive_table::resize_row: id ", id, " >= rows ",
          m_rows);
    check(k >= 0 && k <= m_chunks_per_row, "frugal::embedding::adaptive_table::resize_row: ", k, " chunks outside [0, ",
          m_chunks_per_row, "]");
    std::uint32_t s = find(id);
    if (s == npos) {
      if (k == 0) return;
      s = insert(id);
    }
    set_chunks(s, static_cast<std::uint32_t>(k), false);
    if (k == 0) erase_slot(s);
    maybe_compact();
  }

  /// Materialises every row with all chunks (a full table in VHPI form).
  void materialize_all() {
    for (index_t id = 0; id < m_rows; ++id) {
      std::uint32_t s = find(static_cast<std::uint32_t>(id));
      if (s == npos) s = insert(static_cast<std::uint32_t>(id));
      set_chunks(s, static_cast<std::uint32_t>(m_chunks_per_row), true);
    }
  }

  // ---- lookup and update ---------------------------------------------------------------------
  /// Pooled lookup into `out` (bags.size() × dim()). With a direct index, one pass: each bag sums
  /// its rows, read at the block its id's slot holds (absent ids hold block 0), rows and the blocks
  /// further ahead prefetched; batches of short bags (under `short_bags` lookups each on average)
  /// gather their blocks in a first pass. With a hashed index, two passes: the ids are resolved to
  /// their blocks (slot lines prefetched ahead), then each bag sums its rows (row data prefetched
  /// ahead). The block lists live in a scratch buffer of the table: calls of `forward` on one
  /// table must not overlap (from several host threads); different tables are independent.
  void forward(const bag_batch& bags, std::span<float> out) const {
    validate("frugal::embedding::adaptive_table::forward", bags, m_rows, m_options.mode);
    check_extent("frugal::embedding::adaptive_table::forward", "output size", out.size(),
                 static_cast<std::size_t>(bags.size() * m_dim));
    const std::size_t n = bags.indices.size();
    const std::uint32_t* indices = bags.indices.data();
    const auto d = static_cast<std::size_t>(m_dim), w = static_cast<std::size_t>(m_options.chunk_width);
    const index_t* offsets = bags.offsets.data();
    const float* weights = bags.weights.empty() ? nullptr : bags.weights.data();
    const float* values = m_values.data();
    float* o = out.data();
    const bool mean = m_options.mode == pooling::mean;
    const auto total = static_cast<index_t>(n);
    // Each bag sums its rows; `block(i)` is lookup i's block, `ahead` pool_bag's prefetch hook.
    // Rows are prefetched `distance` lookups ahead. Long bags read each block just before its row,
    // so twice the row-size-dependent distance (each lookup waits on two dependent lines); short
    // ones have gathered their blocks first, so only the row is outstanding and 16 suffices.
    const bool long_bags = n >= short_bags * static_cast<std::size_t>(bags.size());
    const index_t distance = long_bags ? 2 * detail::row_prefetch_distance(d) : detail::prefetch_distance;
    auto pool = [&](auto block, auto ahead) {
      detail::dispatch_width(d, [&](auto width) {
        constexpr int D = decltype(width)::value;
        parallel_for("frugal::embedding::adaptive_table::forward", m_exec, bags.size(), [=](index_t b) {
          float* y = o + static_cast<std::size_t>(b) * d;
          auto row = [=](index_t i) { return values + static_cast<std::size_t>(block(i) >> 5) * w; };
          auto len = [=](index_t i) { return static_cast<std::size_t>(block(i) & 31u) * w; };
          detail::pool_bag<D, true>(y, d, offsets[b], offsets[b + 1], total, weights, mean, distance, row, len, ahead);
        });
      });
    };
    if (m_slots.direct() && long_bags) {
      const std::uint32_t* blocks = m_slots.direct_blocks();
      // pool_bag prefetches lookup j's row after calling ahead(j): prefetch the block after it.
      pool([=](index_t i) { return blocks[indices[i]]; },
           [=](index_t i) {
             if (i + distance < total) FRUGAL_PREFETCH(blocks + indices[i + distance]);
           });
      return;
    }
    m_resolved.resize(n);
    std::uint32_t* resolved = m_resolved.data();
    if (m_slots.direct()) {
      // Short bags: a bag's own work is too small to hide its block loads behind, so gather every
      // block first (independent loads, many in flight), then pool.
      const std::uint32_t* blocks = m_slots.direct_blocks();
      parallel_for("frugal::embedding::adaptive_table::gather", m_exec, total, [=](index_t i) {
        if (i + 2 * detail::prefetch_distance < total)
          FRUGAL_PREFETCH(blocks + indices[i + 2 * detail::prefetch_distance]);
        resolved[i] = blocks[indices[i]];
      });
    } else {
      const adaptive_table* self = this;
      // Resolve in groups: hash a group's ids once and prefetch their home slots, then probe, so
      // up to a group's worth of slot-table misses are in flight at once.
      constexpr std::size_t group = 64;
      const auto groups = static_cast<index_t>((n + group - 1) / group);
      parallel_for("frugal::embedding::adaptive_table::resolve", m_exec, groups, [=](index_t g) {
        const std::size_t lo = static_cast<std::size_t>(g) * group, hi = std::min(n, lo + group);
        std::size_t home[group];
        for (std::size_t k = lo; k < hi; ++k) {
          home[k - lo] = self->home(indices[k]);
          FRUGAL_PREFETCH(self->m_slots.slot_address(home[k - lo]));
        }
        for (std::size_t k = lo; k < hi; ++k) {
          const std::uint32_t s = self->probe(indices[k], home[k - lo]);
          resolved[k] = s == npos ? 0u : self->m_slots.block(s);
        }
      });
    }
    pool([=](index_t i) { return resolved[i]; }, detail::no_ahead{});
  }

  /// Applies dL/d(output) through the fused optimizer to the live chunks of every touched row,
  /// raises their importance scores and the score of each row's next chunk, and materialises rows
  /// seen for the first time (`new_row_chunks()` chunks, or a score-only candidate entry when 0).
  /// Every pass runs in parallel on the table's execution space except the insertion of rows seen
  /// for the first time; touched rows are distinct, so no two threads write one row, score or
  /// state, and the result is the same on any thread count.
  void backward(const bag_batch& bags, std::span<const float> grad_output) {
    validate("frugal::embedding::adaptive_table::backward", bags, m_rows, m_options.mode);
    check_extent("frugal::embedding::adaptive_table::backward", "gradient size", grad_output.size(),
                 static_cast<std::size_t>(bags.size() * m_dim));
    detail::aggregate_gradients(m_exec, bags, m_options.mode, grad_output, m_dim, m_grads);
    const std::size_t unique = m_grads.size();
    const auto n_unique = static_cast<index_t>(unique);
    // Pass 1: the slot and block of every touched row, gathered with their lines prefetched ahead
    // (in a direct index the slot is the id). Rows seen for the first time are inserted after the
    // slot table has grown once for all of them, so the slot indices stay valid. A row costs this
    // pass little more than its slot line's miss, so the lines are prefetched 64 rows ahead.
    const std::uint32_t* ids = m_grads.ids.data();
    constexpr std::size_t distance = 4 * detail::prefetch_distance;
    m_touched.resize(unique);
    m_touched_blocks.resize(unique);
    const adaptive_table* self = this;
    std::uint32_t* touched = m_touched.data();
    std::uint32_t* touched_blocks = m_touched_blocks.data();
    const index_t row_grain = grain_for(64, index_t{1} << 14);
    parallel_for_chunks("frugal::embedding::adaptive_table::find", m_exec, n_unique, row_grain,
                        [=](index_t k0, index_t k1) {
                          for (auto k = static_cast<std::size_t>(k0); k < static_cast<std::size_t>(k1); ++k) {
                            if (k + distance < unique)
                              FRUGAL_PREFETCH(self->m_slots.slot_address(self->home(ids[k + distance])));
                            touched[k] = self->find(ids[k]);
                            if (touched[k] != npos) touched_blocks[k] = self->m_slots.block(touched[k]);
                          }
                        });
    const auto missing = static_cast<std::size_t>(
        parallel_sum<index_t>("frugal::embedding::adaptive_table::missing", m_exec, n_unique,
                              [=](index_t k, index_t& count) { count += touched[k] == npos ? 1 : 0; }));
    if (missing > 0) {
      if (reserve(missing))
        for (std::size_t k = 0; k < unique; ++k)
          if (m_touched[k] != npos) m_touched[k] = find(ids[k]);
      for (std::size_t k = 0; k < unique; ++k)
        if (m_touched[k] == npos) {
          m_touched[k] = place(slot{ids[k] + 1, 0u}, slot_state{});
          set_chunks(m_touched[k], static_cast<std::uint32_t>(m_options.new_row_chunks), true);
          m_touched_blocks[k] = m_slots.block(m_touched[k]);  // block indices survive pool growth
        }
    }
    // Pass 2: the fused update, rows prefetched ahead. The row-wise Adagrad accumulator is the
    // only training state this pass reads; an SGD step touches the row's values only.
    const auto w = static_cast<std::size_t>(m_options.chunk_width);
    const auto per_row = static_cast<std::size_t>(m_chunks_per_row);
    const sparse_optimizer opt = m_options.optimizer;
    const bool adagrad = opt.kind != optimizer_kind::sgd;
    const std::uint32_t* blocks = m_touched_blocks.data();  // pass 1's copies: slot lines may be evicted by now
    const auto rows_ahead = static_cast<std::size_t>(detail::row_prefetch_distance(m_dim));
    float* values = m_values.data();
    const detail::row_gradients* grads = &m_grads;
    slot_table* slots = &m_slots;
    parallel_for_chunks(
        "frugal::embedding::adaptive_table::update", m_exec, n_unique, row_grain, [=](index_t k0, index_t k1) {
          for (auto k = static_cast<std::size_t>(k0); k < static_cast<std::size_t>(k1); ++k) {
            if (k + rows_ahead < unique) {
              const std::uint32_t ahead = blocks[k + rows_ahead];
              detail::prefetch_floats(values + static_cast<std::size_t>(ahead >> 5) * w, (ahead & 31u) * w);
              if (adagrad) FRUGAL_PREFETCH(slots->state_address(touched[k + rows_ahead]));
            }
            const slot e{0u, blocks[k]};
            float* r = values + static_cast<std::size_t>(e.first()) * w;
            if (adagrad) {
              const std::uint32_t s = touched[k];
              slot_state st = slots->state(s);
              detail::apply_update(opt, r, grads->row(k), e.chunks() * w, st.accumulator);
              slots->set_state(s, st);
            } else {
              float unused = 0;
              detail::apply_update(opt, r, grads->row(k), e.chunks() * w, unused);
            }
          }
        });
    // Pass 3: the importance scores: each live chunk's, a lone scattered line per row, and the
    // candidate score of a row's next chunk (in its training state). The norms of the chunk
    // gradients are taken here, a tile of rows at a time, not in pass 2: there they held up the
    // memory-bound update, here they overlap the score lines' misses, prefetched as far ahead as
    // pass 1's slot lines. Chunks of whole tiles run in parallel.
    constexpr std::size_t tile = 32;
    float* scores = m_scores.data();
    const auto whole = static_cast<std::uint32_t>(m_chunks_per_row);
    // Gradient rows beyond about an L2 cache's worth were evicted by pass 2: the next tile's are
    // prefetched a row per row of this one.
    const bool prefetch_gradients = unique * per_row * w * sizeof(float) > (std::size_t{1} << 20);
    const std::int32_t* counts = m_grads.counts.data();
    const Importance importance = m_importance;
    const index_t score_grain = (row_grain + index_t{tile} - 1) / index_t{tile} * index_t{tile};
    parallel_for_chunks(
        "frugal::embedding::adaptive_table::scores", m_exec, n_unique, score_grain, [=](index_t k0, index_t k1) {
          alignas(64) float norms[tile * max_chunks_per_row];
          std::vector<float> gathered;  // the tile's rows back to back, when the aggregation kept them apart
          if (!grads->in_place) gathered.resize(tile * per_row * w);
          for (auto k = static_cast<std::size_t>(k0); k < static_cast<std::size_t>(k1); ++k) {
            if (k % tile == 0) {
              const std::size_t count = std::min(tile, unique - k);
              detail::chunk_norms(grads->consecutive_rows(k, count, gathered.data()), count * per_row, w, norms);
            }
            if (prefetch_gradients && k + tile < unique) detail::prefetch_floats(grads->row(k + tile), per_row * w);
            if (k + distance < unique) {
              const std::uint32_t ahead = blocks[k + distance];
              FRUGAL_PREFETCH(scores + (ahead >> 5));
              if ((ahead & 31u) < whole) FRUGAL_PREFETCH(slots->state_address(touched[k + distance]));
            }
            const slot e{0u, blocks[k]};
            const std::int32_t count = counts[k];
            const float* n = norms + (k % tile) * per_row;
            for (std::size_t c = 0; c < e.chunks(); ++c) scores[e.first() + c] += importance(count, n[c]);
            if (e.chunks() < whole) {
              const std::uint32_t s = touched[k];
              slot_state st = slots->state(s);
              st.candidate += importance(count, n[e.chunks()]);
              slots->set_state(s, st);
            }
          }
        });
  }

  // ---- budget control ------------------------------------------------------------------------
  /// Calls `f(slot_index, id, live_chunks, chunk_scores, candidate_score)` for every entry.
  template <class F>
  void for_each_row(F&& f) const {
    for (std::uint32_t s = 0; s < m_slots.size(); ++s) {
      const slot e = m_slots.get(s);
      if (e.key == 0) continue;
      f(s, e.key - 1, static_cast<index_t>(e.chunks()), std::span<const float>(m_scores.data() + e.first(), e.chunks()),
        m_slots.state(s).candidate);
    }
  }

  /// Gives every entry the chunk count `target[slot]` (indexed as `for_each_row` reports slots),
  /// drops entries whose target is 0, rebuilds the slot table for the survivors, multiplies every
  /// score by `decay`, and compacts the pool when `compact_pool` is set or its free fraction passes
  /// the threshold.
  void apply_targets(std::span<const std::uint8_t> target, float decay, bool compact_pool = false) {
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
    // Rebuild the virtual index with the survivors only.
    rebuild(empty_index(slot_capacity_for(survivors)), [decay](const slot& e, slot_state& st) {
      st.candidate *= decay;
      return e.chunks() > 0;
    });
    for (std::size_t c = 0; c < m_used; ++c) m_scores[c] *= decay;
    if (compact_pool)
      compact();
    else
      maybe_compact();
  }

  /// Moves every live row into a new pool of exactly `live_chunks()` chunks, in slot order, and
  /// releases the old one. Values, scores and row contents are unchanged.
  void compact() {
    const auto w = static_cast<std::size_t>(m_options.chunk_width);
    detail::page_buffer<float> values(m_live_chunks * w);
    detail::page_buffer<float> scores(m_live_chunks);
    std::uint32_t fill = 0;
    for (std::size_t s = 0; s < m_slots.size(); ++s) {
      const slot e = m_slots.get(s);
      if (e.key == 0 || e.chunks() == 0) continue;
      const std::uint32_t k = e.chunks();
      std::copy_n(m_values.data() + static_cast<std::size_t>(e.first()) * w, k * w,
                  values.data() + static_cast<std::size_t>(fill) * w);
      std::copy_n(m_scores.data() + e.first(), k, scores.data() + fill);
      m_slots.set_block(s, fill << 5 | k);
      fill += k;
    }
    m_values.swap(values);
    m_scores.swap(scores);
    m_used = fill;
    std::fill(m_free_heads.begin(), m_free_heads.end(), npos);
    m_free_count = 0;
  }

  /// Checks the VHPI invariants and throws `error` describing the first violation: every live
  /// chunk is owned by exactly one row and is on no free list; the free lists hold exactly
  /// `free_chunks()` distinct chunks in blocks of their list's size, all below the high-water
  /// mark; owned + free = used; every key is findable, unique and below `rows()`.
  void check_invariants() const {
    constexpr const char* where = "frugal::embedding::adaptive_table::check_invariants";
    std::vector<std::uint8_t> state(m_scores.size(), 0);  // 0 unused, 1 owned, 2 free
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
      check<error>(find(e.key - 1) == s, where, ": id ", e.key - 1, " in slot ", s, " is not found by lookup");
      check<error>(e.chunks() <= static_cast<std::uint32_t>(m_chunks_per_row), where, ": id ", e.key - 1, " has ",
                   e.chunks(), " chunks, at most ", m_chunks_per_row);
      for (std::uint32_t c = e.first(); c < e.first() + e.chunks(); ++c) {
        check<error>(c < m_used, where, ": id ", e.key - 1, " owns chunk ", c, " beyond the used pool ", m_used);
        check<error>(state[c] == 0, where, ": chunk ", c, " is owned twice (second owner id ", e.key - 1, ")");
        state[c] = 1;
        ++live;
      }
    }
    check<error>(entries == m_entries, where, ": ", entries, " occupied slots, counter says ", m_entries);
    check<error>(live == m_live_chunks, where, ": ", live, " owned chunks, counter says ", m_live_chunks);
    std::size_t free = 0, blocks = 0;
    for (std::size_t size = 1; size < m_free_heads.size(); ++size)
      for (std::uint32_t c = m_free_heads[size]; c != npos; c = free_link(c)) {
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
    check<error>(
        m_used <= m_scores.size() && m_values.size() == m_scores.size() * static_cast<std::size_t>(chunk_width()),
        where, ": pool arrays disagree in size");
  }

  // ---- checkpoints ---------------------------------------------------------------------------
  /// Writes the exact state (slot table, pool, free lists, scores, optimizer state) under `prefix/`.
  void save(checkpoint_writer& out, std::string_view prefix) const;  // adaptive_table_io.hpp

  /// Restores what `save` wrote, index layout included (a checkpoint without an index record,
  /// from before direct indexes, is hashed). Throws `format_error` when the records disagree with
  /// this table's shape or with each other (the invariants are checked before anything is replaced).
  void load(const checkpoint_reader& in, std::string_view prefix);  // adaptive_table_io.hpp

 private:
  using slot_table = detail::slot_table;  // the virtual index

  /// A batch whose bags average fewer lookups than this is looked up in two passes even with a
  /// direct index (measured: one pass is faster from about 4 lookups per bag).
  static constexpr std::size_t short_bags = 4;

  /// Slots of a hashed index for `entries` entries.
  [[nodiscard]] std::size_t slot_capacity_for(std::size_t entries) const noexcept {
    const auto need = static_cast<std::size_t>(std::ceil(static_cast<double>(entries) / m_options.max_load)) + 1;
    return std::max<std::size_t>(16, std::bit_ceil(need));
  }

  /// Whether an index of hashed `capacity` would be laid out directly instead: always or never
  /// when the options say so, else when one slot per id takes no more bytes.
  [[nodiscard]] bool prefer_direct(std::size_t hashed_capacity) const noexcept {
    if (m_options.index != index_layout::automatic) return m_options.index == index_layout::direct;
    return slot_table::bytes_for(static_cast<std::size_t>(m_rows), true) <=
           slot_table::bytes_for(hashed_capacity, false);
  }

  /// An empty index: `hashed_capacity` slots, or one per id where `prefer_direct` says so.
  [[nodiscard]] slot_table empty_index(std::size_t hashed_capacity) const {
    const bool direct = prefer_direct(hashed_capacity);
    return slot_table(direct ? static_cast<std::size_t>(m_rows) : hashed_capacity, direct);
  }

  /// Bytes of the index `apply_targets` builds for `entries` entries.
  [[nodiscard]] std::size_t index_bytes_for(std::size_t entries) const noexcept {
    const std::size_t capacity = slot_capacity_for(entries);
    const bool direct = prefer_direct(capacity);
    return slot_table::bytes_for(direct ? static_cast<std::size_t>(m_rows) : capacity, direct);
  }

  /// The home slot of `id`: the id itself in a direct index; else Fibonacci (multiply-shift)
  /// hashing of the seeded id, the top bits of the product. One multiply; consecutive ids land
  /// evenly spread, and the table's seed moves every id.
  [[nodiscard]] std::size_t home(std::uint32_t id) const noexcept {
    if (m_slots.direct()) return id;
    const int bits = std::countr_zero(m_slots.size());
    return static_cast<std::size_t>(((id ^ m_hash_seed) * 0x9E3779B97F4A7C15ULL) >> (64 - bits));
  }

  /// The slot of `id` (or npos), probing linearly from `from` (= home(id)).
  [[nodiscard]] std::uint32_t probe(std::uint32_t id, std::size_t from) const noexcept {
    const std::uint32_t key = id + 1;
    if (m_slots.direct()) return m_slots.key(from) == key ? static_cast<std::uint32_t>(from) : npos;
    const std::size_t mask = m_slots.size() - 1;
    for (std::size_t s = from;; s = (s + 1) & mask) {
      const std::uint32_t k = m_slots.key(s);
      if (k == key) return static_cast<std::uint32_t>(s);
      if (k == 0) return npos;
    }
  }

  [[nodiscard]] std::uint32_t find(std::uint32_t id) const noexcept { return probe(id, home(id)); }

  /// Places `e` (whose key is absent) into the slot table; no growth check.
  std::uint32_t place(const slot& e, const slot_state& st) noexcept {
    std::size_t s = home(e.key - 1);
    if (!m_slots.direct()) {
      const std::size_t mask = m_slots.size() - 1;
      while (m_slots.key(s) != 0) s = (s + 1) & mask;
    }
    m_slots.put(s, e, st);
    ++m_entries;
    return static_cast<std::uint32_t>(s);
  }

  /// Grows a hashed index that would pass the load factor with `extra` more entries: doubling
  /// until it fits, or to the direct layout once that is no larger. Returns whether slots moved.
  bool reserve(std::size_t extra) {
    if (m_slots.direct()) return false;
    std::size_t capacity = m_slots.size();
    while (static_cast<double>(m_entries + extra) > m_options.max_load * static_cast<double>(capacity)) capacity *= 2;
    if (capacity == m_slots.size()) return false;
    rehash(capacity);
    return true;
  }

  std::uint32_t insert(std::uint32_t id) {
    reserve(1);
    return place(slot{id + 1, 0u}, slot_state{});
  }

  /// Moves every entry into `index` (empty) that `keep(entry, state)` accepts; `keep` may change
  /// the state it is given.
  template <class Keep>
  void rebuild(slot_table index, Keep keep) {
    index.swap(m_slots);
    m_entries = 0;
    for (std::size_t s = 0; s < index.size(); ++s) {
      const slot e = index.get(s);
      if (e.key == 0) continue;
      slot_state st = index.state(s);
      if (keep(e, st)) place(e, st);
    }
  }

  /// Rebuilds the index with `capacity` hashed slots, or directly over the ids (`empty_index`).
  void rehash(std::size_t capacity) {
    rebuild(empty_index(capacity), [](const slot&, slot_state&) { return true; });
  }

  /// Removes slot `s` (which owns no chunk); in a hashed index with backward-shift deletion,
  /// keeping probes intact.
  void erase_slot(std::uint32_t s) noexcept {
    --m_entries;
    if (m_slots.direct()) {
      m_slots.clear(s);
      return;
    }
    const std::size_t mask = m_slots.size() - 1;
    std::size_t hole = s;
    for (std::size_t j = (hole + 1) & mask; m_slots.key(j) != 0; j = (j + 1) & mask) {
      const std::size_t h = home(m_slots.key(j) - 1);
      // j may move into the hole unless its home h lies cyclically in (hole, j].
      const bool movable = hole <= j ? (h <= hole || h > j) : (h <= hole && h > j);
      if (movable) {
        m_slots.put(hole, m_slots.get(j), m_slots.state(j));
        hole = j;
      }
    }
    m_slots.clear(hole);
  }

  /// The next free block of a free list: stored in the block's first value.
  [[nodiscard]] std::uint32_t free_link(std::uint32_t c) const noexcept {
    return std::bit_cast<std::uint32_t>(
        m_values[static_cast<std::size_t>(c) * static_cast<std::size_t>(chunk_width())]);
  }

  /// A block of `k` contiguous chunks: from the free list of that size, else the pool's tail.
  std::uint32_t allocate_block(std::uint32_t k) {
    if (m_free_heads[k] != npos) {
      const std::uint32_t c = m_free_heads[k];
      m_free_heads[k] = free_link(c);
      m_free_count -= k;
      return c;
    }
    if (m_used + k > m_scores.size()) {
      const std::size_t capacity = std::max<std::size_t>({64, m_scores.size() + m_scores.size() / 2, m_used + k});
      check(capacity <= max_pool_chunks, "frugal::embedding::adaptive_table: the chunk pool would exceed 2^27 chunks");
      m_values.resize(capacity * static_cast<std::size_t>(m_options.chunk_width));
      m_scores.resize(capacity);
    }
    const auto c = static_cast<std::uint32_t>(m_used);
    m_used += k;
    return c;
  }

  void release_block(std::uint32_t c, std::uint32_t k) noexcept {
    if (k == 0) return;
    m_values[static_cast<std::size_t>(c) * static_cast<std::size_t>(chunk_width())] =
        std::bit_cast<float>(m_free_heads[k]);
    m_free_heads[k] = c;
    m_free_count += k;
  }

  /// Gives slot `s` exactly `k` live chunks. Shrinking keeps the first removed chunk's score as the
  /// row's candidate score (so a pruned chunk can earn its way back); growing moves the row to a
  /// block of the new size and resets it. New chunks hold a full table's initial values for a row
  /// materialising, zeros when a row regrows (its output is unchanged until they learn).
  void set_chunks(std::uint32_t s, std::uint32_t k, bool initial_values) {
    const auto w = static_cast<std::size_t>(m_options.chunk_width);
    const std::uint32_t have = m_slots.get(s).chunks(), first = m_slots.get(s).first();
    if (k == have) return;
    if (k < have) {
      m_slots.set_candidate(s, m_scores[first + k]);
      release_block(first + k, have - k);
      m_slots.set_block(s, k == 0 ? 0u : (first << 5 | k));
      m_live_chunks -= have - k;
      return;
    }
    const std::uint32_t fresh = allocate_block(k);
    if (have > 0) {
      std::copy_n(m_values.data() + static_cast<std::size_t>(first) * w, have * w,
                  m_values.data() + static_cast<std::size_t>(fresh) * w);
      std::copy_n(m_scores.data() + first, have, m_scores.data() + fresh);
      release_block(first, have);
    }
    const std::uint64_t id = m_slots.key(s) - 1;
    for (std::size_t t = have * w; t < k * w; ++t)
      m_values[static_cast<std::size_t>(fresh) * w + t] =
          initial_values ? detail::initial_value(m_options.seed, id, t, m_options.init_scale) : 0.0f;
    for (std::uint32_t c = have; c < k; ++c) m_scores[fresh + c] = 0.0f;
    m_slots.set_block(s, fresh << 5 | k);
    m_slots.set_candidate(s, 0.0f);
    m_live_chunks += k - have;
  }

  void maybe_compact() {
    if (m_free_count > 0 &&
        static_cast<double>(m_free_count) > m_options.compact_threshold * static_cast<double>(m_scores.size()))
      compact();
  }

  index_t m_rows, m_dim;
  index_t m_chunks_per_row = 1;
  adaptive_table_options m_options;
  Importance m_importance;
  Exec m_exec;
  slot_table m_slots;
  std::uint64_t m_hash_seed = 0;  ///< mixed from the options' seed
  detail::page_buffer<float> m_values;
  detail::page_buffer<float> m_scores;
  std::vector<std::uint32_t> m_free_heads;  ///< per block size, the first free block (its link in its first value)
  std::size_t m_used = 0;                   ///< high-water mark: chunks [m_used, capacity) were never handed out
  std::size_t m_free_count = 0;
  std::size_t m_live_chunks = 0;
  std::size_t m_entries = 0;
  detail::row_gradients m_grads;
  mutable std::vector<std::uint32_t> m_resolved;  ///< forward scratch: the block of each index
  std::vector<std::uint32_t> m_touched;           ///< backward scratch: the slot of each touched row
  std::vector<std::uint32_t> m_touched_blocks;    ///< and its block
};

}  // namespace frugal::embedding

// The checkpoint I/O members, defined out of the class; included here so that every user of the
// table has them.
#include "adaptive_table_io.hpp"
