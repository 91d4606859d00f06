#pragma once
/// \file
/// The kernels of `adaptive_table` (VHPI) over its virtual index (`slot_index`) and chunk pool:
/// the pooled lookup, and the three parallel passes of the backward step (find the touched rows,
/// the fused optimizer update, the importance scores). The table owns the state and the order of
/// the steps; these functions hold the prefetching and the parallel loops.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "../../core/execution.hpp"
#include "../../core/parallel.hpp"
#include "../bags.hpp"
#include "aggregate.hpp"
#include "slot_index.hpp"

namespace frugal::embedding::detail {

/// A batch whose bags average fewer lookups than this is looked up in two passes even with a
/// direct index (one pass is faster from about 4 lookups per bag).
inline constexpr std::size_t short_bags = 4;

/// Pooled lookup of `bags` into `out` (bags.size() × d) from rows of chunks `w` floats wide at
/// `values`. With a direct index, one pass: each bag sums its rows, read at the block its id's
/// slot holds (absent ids hold block 0), rows and the blocks further ahead prefetched; batches of
/// short bags (under `short_bags` lookups each on average) gather their blocks in a first pass.
/// With a hashed index, two passes: the ids are resolved to their blocks (slot lines prefetched
/// ahead), then each bag sums its rows (row data prefetched ahead). Two-pass lookups keep the
/// blocks in `resolved`.
template <class Exec>
void vhpi_lookup(const Exec& exec, const bag_batch& bags, pooling mode, std::size_t d, std::size_t w,
                 const slot_index& index, const float* values, std::vector<std::uint32_t>& resolved,
                 std::span<float> out) {
  const std::size_t n = bags.indices.size();
  const std::uint32_t* indices = bags.indices.data();
  const index_t* offsets = bags.offsets.data();
  const float* weights = bags.weights.empty() ? nullptr : bags.weights.data();
  float* o = out.data();
  const bool mean = mode == pooling::mean;
  const auto total = static_cast<index_t>(n);
  // Each bag sums its rows; `block(i)` is lookup i's block, `ahead` pool_bag's prefetch hook.
  // Rows are prefetched `distance` lookups ahead. Long bags read each block just before its row,
  // so twice the row-size-dependent distance (each lookup waits on two dependent lines); short
  // ones have gathered their blocks first, so only the row is outstanding and 16 suffices.
  const bool long_bags = n >= short_bags * static_cast<std::size_t>(bags.size());
  const index_t distance = long_bags ? 2 * row_prefetch_distance(d) : prefetch_distance;
  auto pool = [&](auto block, auto ahead) {
    dispatch_width(d, [&](auto width) {
      constexpr int D = decltype(width)::value;
      parallel_for("frugal::embedding::adaptive_table::forward", exec, bags.size(), [=](index_t b) {
        float* y = o + static_cast<std::size_t>(b) * d;
        auto row = [=](index_t i) { return values + static_cast<std::size_t>(block(i) >> 5) * w; };
        auto len = [=](index_t i) { return static_cast<std::size_t>(block(i) & 31u) * w; };
        pool_bag<D, true>(y, d, offsets[b], offsets[b + 1], total, weights, mean, distance, row, len, ahead);
      });
    });
  };
  if (index.direct() && long_bags) {
    const std::uint32_t* blocks = index.direct_blocks();
    // pool_bag prefetches lookup j's row after calling ahead(j): prefetch the block after it.
    pool([=](index_t i) { return blocks[indices[i]]; },
         [=](index_t i) {
           if (i + distance < total) FRUGAL_PREFETCH(blocks + indices[i + distance]);
         });
    return;
  }
  resolved.resize(n);
  std::uint32_t* to = resolved.data();
  if (index.direct()) {
    // Short bags: a bag's own work is too small to hide its block loads behind, so gather every
    // block first (independent loads, many in flight), then pool.
    const std::uint32_t* blocks = index.direct_blocks();
    parallel_for("frugal::embedding::adaptive_table::gather", exec, total, [=](index_t i) {
      if (i + 2 * prefetch_distance < total) FRUGAL_PREFETCH(blocks + indices[i + 2 * prefetch_distance]);
      to[i] = blocks[indices[i]];
    });
  } else {
    const slot_index* slots = &index;
    // Resolve in groups: hash a group's ids once and prefetch their home slots, then probe, so
    // up to a group's worth of slot-table misses are in flight at once.
    constexpr std::size_t group = 64;
    const auto groups = static_cast<index_t>((n + group - 1) / group);
    parallel_for("frugal::embedding::adaptive_table::resolve", exec, groups, [=](index_t g) {
      const std::size_t lo = static_cast<std::size_t>(g) * group, hi = std::min(n, lo + group);
      std::size_t home[group];
      for (std::size_t k = lo; k < hi; ++k) {
        home[k - lo] = slots->home(indices[k]);
        FRUGAL_PREFETCH(slots->slot_address(home[k - lo]));
      }
      for (std::size_t k = lo; k < hi; ++k) {
        const std::uint32_t s = slots->probe(indices[k], home[k - lo]);
        to[k] = s == slot_index::npos ? 0u : slots->block(s);
      }
    });
  }
  pool([=](index_t i) { return to[i]; }, no_ahead{});
}

/// Items ahead at which the backward passes prefetch a touched row's slot, block or score line: a
/// row costs them little more than that line's miss, so 64 rows.
inline constexpr std::size_t touched_distance = 4 * prefetch_distance;

/// Backward pass 1: the slot of each of the `unique` rows `ids` into `touched` (`npos` where
/// absent) and, where present, its block into `blocks`, slot lines prefetched ahead (in a direct
/// index the slot is the id). Returns how many are absent.
template <class Exec>
std::size_t vhpi_find_rows(const Exec& exec, const slot_index& index, const std::uint32_t* ids, std::size_t unique,
                           index_t grain, std::uint32_t* touched, std::uint32_t* blocks) {
  const slot_index* slots = &index;
  const auto n = static_cast<index_t>(unique);
  parallel_for_chunks("frugal::embedding::adaptive_table::find", exec, n, grain, [=](index_t k0, index_t k1) {
    for (auto k = static_cast<std::size_t>(k0); k < static_cast<std::size_t>(k1); ++k) {
      if (k + touched_distance < unique) FRUGAL_PREFETCH(slots->slot_address(slots->home(ids[k + touched_distance])));
      touched[k] = slots->find(ids[k]);
      if (touched[k] != slot_index::npos) blocks[k] = slots->block(touched[k]);
    }
  });
  return static_cast<std::size_t>(
      parallel_sum<index_t>("frugal::embedding::adaptive_table::missing", exec, n,
                            [=](index_t k, index_t& count) { count += touched[k] == slot_index::npos ? 1 : 0; }));
}

/// Backward pass 2: the fused update of every touched row (slot `touched[k]`, block `blocks[k]`,
/// gradient `grads.row(k)`), rows prefetched ahead; rows the table turned away (slot `npos`) are
/// skipped. The row-wise Adagrad accumulator is the only training state this pass reads; an SGD
/// step touches the row's values only. `blocks` are pass 1's copies: slot lines may be evicted by
/// now.
template <class Exec>
void vhpi_update_rows(const Exec& exec, const sparse_optimizer& opt, const row_gradients& grads,
                      const std::uint32_t* touched, const std::uint32_t* blocks, std::size_t d, std::size_t w,
                      index_t grain, float* values, slot_index& index) {
  const std::size_t unique = grads.size();
  const bool adagrad = opt.kind != optimizer_kind::sgd;
  const auto rows_ahead = static_cast<std::size_t>(row_prefetch_distance(d));
  const row_gradients* g = &grads;
  slot_index* slots = &index;
  parallel_for_chunks("frugal::embedding::adaptive_table::update", exec, static_cast<index_t>(unique), grain,
                      [=](index_t k0, index_t k1) {
                        for (auto k = static_cast<std::size_t>(k0); k < static_cast<std::size_t>(k1); ++k) {
                          if (k + rows_ahead < unique) {
                            const std::uint32_t ahead = blocks[k + rows_ahead];
                            prefetch_floats(values + static_cast<std::size_t>(ahead >> 5) * w, (ahead & 31u) * w);
                            if (adagrad && touched[k + rows_ahead] != slot_index::npos)
                              FRUGAL_PREFETCH(slots->state_address(touched[k + rows_ahead]));
                          }
                          if (touched[k] == slot_index::npos) continue;
                          const slot e{0u, blocks[k]};
                          float* r = values + static_cast<std::size_t>(e.first()) * w;
                          if (adagrad) {
                            const std::uint32_t s = touched[k];
                            slot_state st = slots->state(s);
                            apply_update(opt, r, g->row(k), e.chunks() * w, st.accumulator);
                            slots->set_state(s, st);
                          } else {
                            float unused = 0;
                            apply_update(opt, r, g->row(k), e.chunks() * w, unused);
                          }
                        }
                      });
}

/// Backward pass 3: the importance scores: each live chunk's, a lone scattered line per row, and
/// the candidate score of a row's next chunk (in its training state), for rows of `per_row`
/// chunks at most; rows the table turned away (slot `npos`) are skipped. The norms of the chunk
/// gradients are taken here, a tile of rows at a time, not in pass 2: there they held up the
/// memory-bound update, here they overlap the score lines' misses, prefetched as far ahead as pass
/// 1's slot lines. Chunks of whole tiles run in parallel.
template <class Exec, class Importance>
void vhpi_raise_scores(const Exec& exec, const Importance& importance, const row_gradients& grads,
                       const std::uint32_t* touched, const std::uint32_t* blocks, std::size_t per_row, std::size_t w,
                       index_t grain, float* scores, slot_index& index) {
  constexpr std::size_t tile = 32;
  const std::size_t unique = grads.size();
  const auto whole = static_cast<std::uint32_t>(per_row);
  // Gradient rows beyond about an L2 cache's worth were evicted by pass 2: the next tile's are
  // prefetched a row per row of this one.
  const bool prefetch_gradients = unique * per_row * w * sizeof(float) > (std::size_t{1} << 20);
  const std::int32_t* counts = grads.counts.data();
  const row_gradients* g = &grads;
  slot_index* slots = &index;
  const Importance score = importance;
  const index_t score_grain = (grain + index_t{tile} - 1) / index_t{tile} * index_t{tile};
  parallel_for_chunks(
      "frugal::embedding::adaptive_table::scores", exec, static_cast<index_t>(unique), score_grain,
      [=](index_t k0, index_t k1) {
        alignas(64) float norms[tile * max_row_chunks];
        std::vector<float> gathered;  // the tile's rows back to back, when the aggregation kept them apart
        if (!g->in_place) gathered.resize(tile * per_row * w);
        for (auto k = static_cast<std::size_t>(k0); k < static_cast<std::size_t>(k1); ++k) {
          if (k % tile == 0) {
            const std::size_t count = std::min(tile, unique - k);
            chunk_norms(g->consecutive_rows(k, count, gathered.data()), count * per_row, w, norms);
          }
          if (prefetch_gradients && k + tile < unique) prefetch_floats(g->row(k + tile), per_row * w);
          if (k + touched_distance < unique) {
            const std::uint32_t ahead = blocks[k + touched_distance];
            FRUGAL_PREFETCH(scores + (ahead >> 5));
            if ((ahead & 31u) < whole && touched[k + touched_distance] != slot_index::npos)
              FRUGAL_PREFETCH(slots->state_address(touched[k + touched_distance]));
          }
          if (touched[k] == slot_index::npos) continue;
          const slot e{0u, blocks[k]};
          const std::int32_t count = counts[k];
          const float* n = norms + (k % tile) * per_row;
          for (std::size_t c = 0; c < e.chunks(); ++c) scores[e.first() + c] += score(count, n[c]);
          if (e.chunks() < whole) {
            const std::uint32_t s = touched[k];
            slot_state st = slots->state(s);
            st.candidate += score(count, n[e.chunks()]);
            slots->set_state(s, st);
          }
        }
      });
}

}  // namespace frugal::embedding::detail
