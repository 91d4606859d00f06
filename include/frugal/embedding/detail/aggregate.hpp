#pragma once
/// \file
/// Gradient aggregation shared by every table's backward: the summed gradient of each distinct row
/// a batch touches. Serial for small batches; for large ones the ids are partitioned by hash (no
/// two partitions share a row, so partitions run in parallel with no atomics, FBGEMM's approach
/// without the sort), and the result is exactly the serial one: the same rows in the same order
/// (first occurrence), each summed in index order, on any thread count.

#include <algorithm>
#include <cstdint>
#include <span>
#include <vector>

#include "../../core/execution.hpp"
#include "../../core/parallel.hpp"
#include "../bags.hpp"

namespace frugal::embedding::detail {

/// Summed gradients per distinct row of one batch, in order of first occurrence.
struct row_gradients {
  std::vector<std::uint32_t> ids;
  std::vector<std::int32_t> counts;  ///< occurrences of the row in the batch
  std::vector<float> grads;          ///< ids.size() × dim, row-major (may hold spare rows beyond)
  index_t dim = 0;

  // Scratch between calls.
  std::vector<std::uint64_t> table;     ///< hash slots (id << 32 | local row), partition after partition
  std::vector<std::uint32_t> bag_of;    ///< the bag of each index
  std::vector<std::uint32_t> order;     ///< indices grouped by partition, ascending within each
  std::vector<std::uint32_t> local;     ///< each index's row number within its partition
  std::vector<std::uint32_t> rank;      ///< for a first occurrence, its row in `ids`; else unused
  std::vector<std::uint32_t> firsts;    ///< per partition, the first index of each of its rows
  std::vector<std::uint32_t> to_global; ///< per partition, local row → row in `ids`
  std::vector<index_t> counts_by_chunk; ///< chunk × partition counts, then their offsets
  std::vector<index_t> partition_at;    ///< per partition: start in `order` (and in its scratch)
  std::vector<index_t> slots_at;        ///< per partition: start of its hash slots
  std::vector<index_t> rows_in;         ///< per partition: its distinct rows
  std::vector<index_t> firsts_by_chunk; ///< first occurrences per chunk of indices, then offsets

  [[nodiscard]] std::size_t size() const noexcept { return ids.size(); }
  [[nodiscard]] float* row(std::size_t k) noexcept { return grads.data() + k * static_cast<std::size_t>(dim); }
  [[nodiscard]] const float* row(std::size_t k) const noexcept {
    return grads.data() + k * static_cast<std::size_t>(dim);
  }
};

/// Indices at and above which `aggregate_gradients` partitions (below, one pass is faster than
/// the partitioning it saves).
inline constexpr std::size_t parallel_aggregation_threshold = std::size_t{1} << 14;

/// The hash both the serial and the partitioned aggregation use: Fibonacci hashing of the id.
[[nodiscard]] constexpr std::uint64_t id_hash(std::uint32_t id) noexcept { return id * 0x9E3779B97F4A7C15ULL; }

/// g ← g + scale · src over `d` floats.
inline void add_scaled(float* __restrict g, const float* __restrict src, float scale, std::size_t d) noexcept {
  for (std::size_t j = 0; j < d; ++j) g[j] += scale * src[j];
}

/// The weight of index i's contribution: its per-sample weight, divided by its bag's size under
/// mean pooling.
[[nodiscard]] inline float contribution_scale(const bag_batch& bags, pooling mode, std::uint32_t bag,
                                              std::size_t i) noexcept {
  float scale = bags.weights.empty() ? 1.0f : bags.weights[i];
  if (mode == pooling::mean) scale /= static_cast<float>(bags.offsets[bag + 1] - bags.offsets[bag]);
  return scale;
}

/// The one-pass serial aggregation: a hash set of the ids (one 8-byte slot per entry, the slot of
/// the id 16 indices ahead prefetched) and the gradient rows grown geometrically and zeroed as ids
/// first appear.
inline void aggregate_serial(const bag_batch& bags, pooling mode, std::span<const float> grad_output,
                             row_gradients& out) {
  const std::size_t n = bags.indices.size();
  const auto d = static_cast<std::size_t>(out.dim);
  int bits = 4;
  while ((std::size_t{1} << bits) < 2 * n) ++bits;
  const std::size_t mask = (std::size_t{1} << bits) - 1;
  constexpr std::uint64_t empty = ~std::uint64_t{0};  // no id is 2^32 - 1 with row 2^32 - 1
  out.table.assign(mask + 1, empty);
  out.ids.clear();
  out.counts.clear();
  auto home = [bits](std::uint32_t id) { return static_cast<std::size_t>(id_hash(id) >> (64 - bits)); };
  std::uint64_t* table = out.table.data();
  const std::uint32_t* indices = bags.indices.data();
  constexpr auto ahead = static_cast<std::size_t>(prefetch_distance);
  for (std::size_t i = 0; i < n; ++i) {
    if (i + ahead < n) FRUGAL_PREFETCH(table + home(indices[i + ahead]));
    const std::uint32_t id = indices[i];
    std::size_t h = home(id);
    std::uint64_t e;
    while ((e = table[h]) != empty && static_cast<std::uint32_t>(e >> 32) != id) h = (h + 1) & mask;
    std::size_t k;
    if (e == empty) {
      k = out.ids.size();
      table[h] = std::uint64_t{id} << 32 | k;
      out.ids.push_back(id);
      out.counts.push_back(0);
      if (out.grads.size() < (k + 1) * d) out.grads.resize(std::max(2 * out.grads.size(), (k + 1) * d));
      std::fill_n(out.grads.data() + k * d, d, 0.0f);
    } else {
      k = static_cast<std::uint32_t>(e);
    }
    ++out.counts[k];
    const std::uint32_t b = out.bag_of[i];
    add_scaled(out.grads.data() + k * d, grad_output.data() + static_cast<std::size_t>(b) * d,
               contribution_scale(bags, mode, b, i), d);
  }
}

/// The partitioned aggregation on `exec`, with `parts` partitions (a power of two ≥ 2): ids are
/// bucketed by the top bits of their hash (indices stay ascending inside a bucket), each bucket
/// finds its distinct ids with a hash set of its own, a prefix sum over the first occurrences
/// gives every row its place in first-occurrence order, and each bucket sums its rows' gradients
/// in index order.
template <HostExecutionSpace Exec>
void aggregate_partitioned(const Exec& exec, const bag_batch& bags, pooling mode, std::span<const float> grad_output,
                           row_gradients& out, int part_bits) {
  const std::size_t n = bags.indices.size();
  const auto d = static_cast<std::size_t>(out.dim);
  const index_t parts = index_t{1} << part_bits;
  const std::uint32_t* indices = bags.indices.data();
  const auto part_of = [part_bits](std::uint32_t id) { return static_cast<index_t>(id_hash(id) >> (64 - part_bits)); };

  // 1. Bucket the indices by partition: counts per (chunk, partition), offsets, then a scatter
  //    that keeps indices ascending within each partition.
  const chunking chunks{static_cast<index_t>(n), index_t{1} << 13};
  const index_t nc = chunks.count();
  out.counts_by_chunk.assign(static_cast<std::size_t>(nc * parts), 0);
  index_t* cc = out.counts_by_chunk.data();
  parallel_for("frugal::embedding::aggregate::count", exec, nc, [=](index_t c) {
    index_t* row = cc + c * parts;
    for (index_t i = chunks.begin(c); i < chunks.end(c); ++i) ++row[part_of(indices[i])];
  });
  out.partition_at.assign(static_cast<std::size_t>(parts + 1), 0);
  {
    index_t at = 0;
    for (index_t p = 0; p < parts; ++p) {
      out.partition_at[static_cast<std::size_t>(p)] = at;
      for (index_t c = 0; c < nc; ++c) {
        const index_t count = cc[c * parts + p];
        cc[c * parts + p] = at;  // becomes this chunk's cursor into the partition
        at += count;
      }
    }
    out.partition_at[static_cast<std::size_t>(parts)] = at;
  }
  out.order.resize(n);
  std::uint32_t* order = out.order.data();
  parallel_for("frugal::embedding::aggregate::scatter", exec, nc, [=](index_t c) {
    index_t* cursor = cc + c * parts;
    for (index_t i = chunks.begin(c); i < chunks.end(c); ++i)
      order[cursor[part_of(indices[i])]++] = static_cast<std::uint32_t>(i);
  });

  // 2. Distinct ids per partition: each partition's hash slots start at slots_at[p] (a power of
  //    two ≥ twice its indices); local[i] = the index's row within its partition; firsts holds
  //    each partition's rows' first indices from partition_at[p] on.
  out.slots_at.assign(static_cast<std::size_t>(parts + 1), 0);
  for (index_t p = 0; p < parts; ++p) {
    const index_t count = out.partition_at[static_cast<std::size_t>(p + 1)] - out.partition_at[static_cast<std::size_t>(p)];
    index_t slots = 16;
    while (slots < 2 * count) slots *= 2;
    out.slots_at[static_cast<std::size_t>(p + 1)] = out.slots_at[static_cast<std::size_t>(p)] + slots;
  }
  constexpr std::uint64_t empty = ~std::uint64_t{0};
  out.table.assign(static_cast<std::size_t>(out.slots_at[static_cast<std::size_t>(parts)]), empty);
  out.local.resize(n);
  out.firsts.resize(n);
  out.rows_in.assign(static_cast<std::size_t>(parts), 0);
  std::uint64_t* table = out.table.data();
  std::uint32_t* local = out.local.data();
  std::uint32_t* firsts = out.firsts.data();
  index_t* rows_in = out.rows_in.data();
  const index_t* part_at = out.partition_at.data();
  const index_t* slots_at = out.slots_at.data();
  parallel_for("frugal::embedding::aggregate::distinct", exec, parts, [=](index_t p) {
    std::uint64_t* slots = table + slots_at[p];
    const auto mask = static_cast<std::uint64_t>(slots_at[p + 1] - slots_at[p] - 1);
    int shift = 64 - part_bits;
    for (std::uint64_t s = mask + 1; s > 1; s >>= 1) --shift;  // the hash bits below the partition's
    std::uint32_t rows = 0;
    for (index_t at = part_at[p]; at < part_at[p + 1]; ++at) {
      const std::uint32_t i = order[at], id = indices[i];
      std::uint64_t h = (id_hash(id) >> shift) & mask;
      std::uint64_t e;
      while ((e = slots[h]) != empty && static_cast<std::uint32_t>(e >> 32) != id) h = (h + 1) & mask;
      if (e == empty) {
        slots[h] = std::uint64_t{id} << 32 | rows;
        firsts[part_at[p] + rows] = i;
        local[i] = rows++;
      } else {
        local[i] = static_cast<std::uint32_t>(e);
      }
    }
    rows_in[p] = rows;
  });

  // 3. First-occurrence order: mark the first indices, count them per chunk, prefix-sum, rank.
  out.rank.assign(n, 0);
  std::uint32_t* rank = out.rank.data();
  parallel_for("frugal::embedding::aggregate::mark", exec, parts, [=](index_t p) {
    for (index_t r = 0; r < rows_in[p]; ++r) rank[firsts[part_at[p] + r]] = 1;
  });
  out.firsts_by_chunk.assign(static_cast<std::size_t>(nc + 1), 0);
  index_t* fc = out.firsts_by_chunk.data();
  parallel_for("frugal::embedding::aggregate::count_firsts", exec, nc, [=](index_t c) {
    index_t count = 0;
    for (index_t i = chunks.begin(c); i < chunks.end(c); ++i) count += rank[i];
    fc[c + 1] = count;
  });
  for (index_t c = 0; c < nc; ++c) fc[c + 1] += fc[c];
  const auto unique = static_cast<std::size_t>(fc[nc]);
  parallel_for("frugal::embedding::aggregate::rank", exec, nc, [=](index_t c) {
    auto next = static_cast<std::uint32_t>(fc[c]);
    for (index_t i = chunks.begin(c); i < chunks.end(c); ++i)
      if (rank[i]) rank[i] = next++;
  });

  // 4. Rows in first-occurrence order, summed partition by partition (each row in index order).
  out.ids.resize(unique);
  out.counts.assign(unique, 0);
  if (out.grads.size() < unique * d) out.grads.resize(std::max(2 * out.grads.size(), unique * d));
  out.to_global.resize(n);
  std::uint32_t* ids = out.ids.data();
  std::int32_t* counts = out.counts.data();
  float* grads = out.grads.data();
  std::uint32_t* to_global = out.to_global.data();
  const std::uint32_t* bag_of = out.bag_of.data();
  const float* dy = grad_output.data();
  const bag_batch batch = bags;
  parallel_for("frugal::embedding::aggregate::sum", exec, parts, [=](index_t p) {
    std::uint32_t* global = to_global + part_at[p];
    for (index_t r = 0; r < rows_in[p]; ++r) {
      const std::uint32_t first = firsts[part_at[p] + r], k = rank[first];
      global[r] = k;
      ids[k] = indices[first];
      std::fill_n(grads + static_cast<std::size_t>(k) * d, d, 0.0f);
    }
    for (index_t at = part_at[p]; at < part_at[p + 1]; ++at) {
      const std::uint32_t i = order[at], k = global[local[i]], b = bag_of[i];
      ++counts[k];
      add_scaled(grads + static_cast<std::size_t>(k) * d, dy + static_cast<std::size_t>(b) * d,
                 contribution_scale(batch, mode, b, i), d);
    }
  });
}

/// dL/d(row) for every distinct row of `bags`, given dL/d(output) (`batch × dim`, row-major), on
/// `exec`. Deterministic and independent of the thread count: rows in order of first occurrence,
/// each row's contributions added in index order. O(indices × dim).
template <HostExecutionSpace Exec>
void aggregate_gradients(const Exec& exec, const bag_batch& bags, pooling mode, std::span<const float> grad_output,
                         index_t dim, row_gradients& out) {
  const std::size_t n = bags.indices.size();
  out.dim = dim;
  out.bag_of.resize(n);
  std::uint32_t* bag_of = out.bag_of.data();
  const index_t* offsets = bags.offsets.data();
  parallel_for_chunks("frugal::embedding::aggregate::bags", exec, bags.size(), grain_for(64),
                      [=](index_t b0, index_t b1) {
                        for (index_t b = b0; b < b1; ++b)
                          for (index_t i = offsets[b]; i < offsets[b + 1]; ++i)
                            bag_of[i] = static_cast<std::uint32_t>(b);
                      });
  if (n < parallel_aggregation_threshold) return aggregate_serial(bags, mode, grad_output, out);
  // About 4k indices per partition, at most 64 partitions: a function of the batch alone.
  int part_bits = 1;
  while (part_bits < 6 && (n >> (part_bits + 1)) >= (std::size_t{1} << 12)) ++part_bits;
  aggregate_partitioned(exec, bags, mode, grad_output, out, part_bits);
}

/// `aggregate_gradients` on frugal's default host space.
inline void aggregate_gradients(const bag_batch& bags, pooling mode, std::span<const float> grad_output, index_t dim,
                                row_gradients& out) {
  aggregate_gradients(default_host_space{}, bags, mode, grad_output, dim, out);
}

}  // namespace frugal::embedding::detail
