#pragma once
/// \file
/// Gradient aggregation shared by every table's backward: the summed gradient of each distinct row
/// a batch touches, each row's contributions added in index order. Small batches take one serial
/// pass (rows in order of first occurrence). Large ones are partitioned by id hash into a number of
/// partitions that depends on the batch size alone (no two partitions share a row, so they run in
/// parallel with no atomics: FBGEMM's approach without the sort); rows then come partition after
/// partition, each partition's in order of first occurrence. Either way the rows, their order and
/// their sums are the same on any thread count.

#include <algorithm>
#include <cstdint>
#include <span>
#include <type_traits>
#include <vector>

#include "../../core/execution.hpp"
#include "../../core/parallel.hpp"
#include "../bags.hpp"

namespace frugal::embedding::detail {

/// Summed gradients per distinct row of one batch, in order of first occurrence.
struct row_gradients {
  std::vector<std::uint32_t> ids;
  std::vector<std::int32_t> counts;  ///< occurrences of the row in the batch
  std::vector<float> grads;          ///< the rows' gradients, `dim` floats each, at `row(k)`
  index_t dim = 0;
  /// Where row k's gradient lies in `grads` (in rows of `dim`), when not at k (the partitioned
  /// aggregation keeps each partition's rows together).
  std::vector<std::uint32_t> placed_at;
  bool in_place = true;  ///< row k at grads[k·dim] (the serial aggregation)

  // Scratch between calls.
  std::vector<std::uint64_t> table;         ///< hash slots (id << 32 | local row), partition after partition
  std::vector<std::uint32_t> bag_of;        ///< the bag of each index
  std::vector<std::uint32_t> order;         ///< indices grouped by partition, ascending within each
  std::vector<std::uint32_t> sorted_ids;    ///< the id of each entry of `order`
  std::vector<index_t> counts_by_chunk;     ///< chunk × partition counts, then their offsets
  std::vector<index_t> partition_at;        ///< per partition: start in `order` (and in its scratch)
  std::vector<index_t> slots_at;            ///< per partition: start of its hash slots
  std::vector<index_t> rows_in;             ///< per partition: its distinct rows, then where they start in `ids`
  std::vector<std::uint32_t> staged_ids;    ///< per partition, from partition_at[p]: its rows' ids
  std::vector<std::int32_t> staged_counts;  ///< likewise, their occurrence counts

  [[nodiscard]] std::size_t size() const noexcept { return ids.size(); }
  [[nodiscard]] std::size_t row_index(std::size_t k) const noexcept { return in_place ? k : placed_at[k]; }
  /// Rows k .. k + count − 1 back to back: in place when they are, else copied into `scratch`
  /// (room for count·dim floats).
  [[nodiscard]] const float* consecutive_rows(std::size_t k, std::size_t count, float* scratch) const noexcept {
    if (in_place) return row(k);
    const auto d = static_cast<std::size_t>(dim);
    for (std::size_t j = 0; j < count; ++j) std::copy_n(row(k + j), d, scratch + j * d);
    return scratch;
  }
  [[nodiscard]] float* row(std::size_t k) noexcept {
    return grads.data() + row_index(k) * static_cast<std::size_t>(dim);
  }
  [[nodiscard]] const float* row(std::size_t k) const noexcept {
    return grads.data() + row_index(k) * static_cast<std::size_t>(dim);
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
  out.in_place = true;
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

/// The partitioned aggregation on `exec`, with 2^part_bits partitions: indices are bucketed by the
/// top bits of their id's hash (ascending within a bucket); each partition finds its distinct ids
/// with a hash set of its own and sums their gradients in one pass, into rows laid out from the
/// partition's first bucket entry on (row k of the result at `placed_at[k]`); the rows are
/// numbered partition after partition. `visit(ids, counts, rows, count)` sees each partition's
/// rows as soon as they are summed, on the thread that summed them (while they are in its cache).
/// The default `visit` of the aggregations: nothing.
struct no_visit {
  void operator()(const std::uint32_t*, const std::int32_t*, const float*, std::size_t) const noexcept {}
};

template <HostExecutionSpace Exec, class Visit = no_visit>
void aggregate_partitioned(const Exec& exec, const bag_batch& bags, pooling mode, std::span<const float> grad_output,
                           row_gradients& out, int part_bits, const Visit& visit = {}) {
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
  out.sorted_ids.resize(n);
  std::uint32_t* order = out.order.data();
  std::uint32_t* sorted_ids = out.sorted_ids.data();
  parallel_for("frugal::embedding::aggregate::scatter", exec, nc, [=](index_t c) {
    index_t* cursor = cc + c * parts;
    for (index_t i = chunks.begin(c); i < chunks.end(c); ++i) {
      const std::uint32_t id = indices[i];
      const index_t at = cursor[part_of(id)]++;
      order[at] = static_cast<std::uint32_t>(i);
      sorted_ids[at] = id;
    }
  });

  // 2. Each partition: its hash slots (a power of two ≥ twice its entries, from slots_at[p]), its
  //    distinct ids and their summed gradients, staged from partition_at[p] on.
  out.slots_at.assign(static_cast<std::size_t>(parts + 1), 0);
  for (index_t p = 0; p < parts; ++p) {
    const index_t count =
        out.partition_at[static_cast<std::size_t>(p + 1)] - out.partition_at[static_cast<std::size_t>(p)];
    index_t slots = 16;
    while (slots < 2 * count) slots *= 2;
    out.slots_at[static_cast<std::size_t>(p + 1)] = out.slots_at[static_cast<std::size_t>(p)] + slots;
  }
  constexpr std::uint64_t empty = ~std::uint64_t{0};
  out.table.resize(static_cast<std::size_t>(out.slots_at[static_cast<std::size_t>(parts)]));  // cleared per partition
  out.staged_ids.resize(n);
  out.staged_counts.resize(n);
  out.rows_in.assign(static_cast<std::size_t>(parts + 1), 0);
  if (out.grads.size() < n * d) out.grads.resize(n * d);
  std::uint64_t* table = out.table.data();
  std::uint32_t* staged_ids = out.staged_ids.data();
  std::int32_t* staged_counts = out.staged_counts.data();
  index_t* rows_in = out.rows_in.data();
  float* grads = out.grads.data();
  const index_t* part_at = out.partition_at.data();
  const index_t* slots_at = out.slots_at.data();
  const std::uint32_t* bag_of = out.bag_of.data();
  const float* dy = grad_output.data();
  const bag_batch batch = bags;
  parallel_for("frugal::embedding::aggregate::partition", exec, parts, [=](index_t p) {
    std::uint64_t* slots = table + slots_at[p];
    const auto mask = static_cast<std::uint64_t>(slots_at[p + 1] - slots_at[p] - 1);
    std::fill_n(slots, mask + 1, empty);
    int shift = 64 - part_bits;
    for (std::uint64_t s = mask + 1; s > 1; s >>= 1) --shift;  // the hash bits below the partition's
    const index_t base = part_at[p];
    float* rows = grads + static_cast<std::size_t>(base) * d;
    std::uint32_t count = 0;
    for (index_t at = base; at < part_at[p + 1]; ++at) {
      if (at + prefetch_distance < part_at[p + 1])
        FRUGAL_PREFETCH(dy + static_cast<std::size_t>(bag_of[order[at + prefetch_distance]]) * d);
      const std::uint32_t id = sorted_ids[at], i = order[at], b = bag_of[i];
      std::uint64_t h = (id_hash(id) >> shift) & mask;
      std::uint64_t e;
      while ((e = slots[h]) != empty && static_cast<std::uint32_t>(e >> 32) != id) h = (h + 1) & mask;
      std::uint32_t r;
      if (e == empty) {
        r = count++;
        slots[h] = std::uint64_t{id} << 32 | r;
        staged_ids[base + r] = id;
        staged_counts[base + r] = 0;
        std::fill_n(rows + static_cast<std::size_t>(r) * d, d, 0.0f);
      } else {
        r = static_cast<std::uint32_t>(e);
      }
      ++staged_counts[base + r];
      add_scaled(rows + static_cast<std::size_t>(r) * d, dy + static_cast<std::size_t>(b) * d,
                 contribution_scale(batch, mode, b, i), d);
    }
    rows_in[p] = count;
    visit(staged_ids + base, staged_counts + base, rows, count);
  });

  // 3. Number the rows partition after partition; row k's gradient stays where it was summed.
  index_t unique = 0;
  for (index_t p = 0; p <= parts; ++p) {
    const index_t count = rows_in[p];
    rows_in[p] = unique;  // now where partition p's rows start among the results
    unique += p < parts ? count : 0;
  }
  out.ids.resize(static_cast<std::size_t>(unique));
  out.counts.resize(static_cast<std::size_t>(unique));
  out.placed_at.resize(static_cast<std::size_t>(unique));
  out.in_place = false;
  std::uint32_t* ids = out.ids.data();
  std::int32_t* counts = out.counts.data();
  std::uint32_t* placed_at = out.placed_at.data();
  parallel_for("frugal::embedding::aggregate::number", exec, parts, [=](index_t p) {
    for (index_t k = rows_in[p], r = 0; k < rows_in[p + 1]; ++k, ++r) {
      ids[k] = staged_ids[part_at[p] + r];
      counts[k] = staged_counts[part_at[p] + r];
      placed_at[k] = static_cast<std::uint32_t>(part_at[p] + r);
    }
  });
}

/// dL/d(row) for every distinct row of `bags`, given dL/d(output) (`batch × dim`, row-major), on
/// `exec`: each row's contributions added in index order; rows in order of first occurrence below
/// `parallel_aggregation_threshold` indices, else partition after partition (see the file's
/// comment). The same rows, order and bits on any thread count. O(indices × dim).
///
/// `visit(ids, counts, rows, count)`, when given, is called on disjoint runs of rows that together
/// cover the result (ids, occurrence counts and `count` gradient rows back to back), in parallel on
/// `exec`: a caller that updates each row independently does it there, while the rows are hot.
template <HostExecutionSpace Exec, class Visit = no_visit>
void aggregate_gradients(const Exec& exec, const bag_batch& bags, pooling mode, std::span<const float> grad_output,
                         index_t dim, row_gradients& out, const Visit& visit = {}) {
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
  if (n < parallel_aggregation_threshold) {
    aggregate_serial(bags, mode, grad_output, out);
    if constexpr (!std::is_same_v<Visit, no_visit>) {
      const std::uint32_t* ids = out.ids.data();
      const std::int32_t* counts = out.counts.data();
      const float* rows = out.grads.data();
      const auto d = static_cast<std::size_t>(dim);
      parallel_for_chunks("frugal::embedding::aggregate::visit", exec, static_cast<index_t>(out.size()),
                          grain_for(2 * dim), [=](index_t k0, index_t k1) {
                            visit(ids + k0, counts + k0, rows + static_cast<std::size_t>(k0) * d,
                                  static_cast<std::size_t>(k1 - k0));
                          });
    }
    return;
  }
  // About 4k indices per partition, at most 64 partitions: a function of the batch alone.
  int part_bits = 1;
  while (part_bits < 6 && (n >> (part_bits + 1)) >= (std::size_t{1} << 12)) ++part_bits;
  aggregate_partitioned(exec, bags, mode, grad_output, out, part_bits, visit);
}

/// `aggregate_gradients` on frugal's default host space.
inline void aggregate_gradients(const bag_batch& bags, pooling mode, std::span<const float> grad_output, index_t dim,
                                row_gradients& out) {
  aggregate_gradients(default_host_space{}, bags, mode, grad_output, dim, out);
}

}  // namespace frugal::embedding::detail
