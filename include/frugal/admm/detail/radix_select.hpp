#pragma once
/// \file
/// Parallel top-k selection by radix select on unsigned keys, exactly equal to the serial
/// definition "the k largest keys, ties broken by lower position" for any thread count.
///
/// The items are the concatenation of one or more segments (one matrix, or several for a global
/// budget); a position is (segment, index), ordered segment first. Each segment is cut into chunks
/// whose boundaries depend on the sizes only. The threshold key is found most significant digit
/// first: per-chunk histograms of the current digit among the items still matching the prefix,
/// summed over chunks, locate the digit holding the k-th largest key. Once the bucket is small,
/// its items (key, position) are compacted in position order and the remaining digits are
/// resolved on the compact list. Ties at the threshold are cut at the position of the last tie
/// kept, found from per-chunk tie counts. Every count is an integer, so the outcome is exact.

#include <algorithm>
#include <bit>
#include <concepts>
#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include "../../core/parallel.hpp"

namespace frugal::admm::detail {

/// The unsigned integer as wide as the floating-point type S.
template <std::floating_point S>
using key_type = std::conditional_t<sizeof(S) == 4, std::uint32_t, std::uint64_t>;

/// A key that orders like |x| for every x that is not NaN: the bits of x with the sign cleared
/// (IEEE 754 magnitudes order like their bit patterns; −0 and +0 share the key 0). NaN ranks
/// above every number.
template <std::floating_point S>
[[nodiscard]] constexpr key_type<S> magnitude_key(S x) noexcept {
  return std::bit_cast<key_type<S>>(x) & (~key_type<S>{0} >> 1);
}

/// One chunk of one segment: items [begin, end) of segment `segment`.
struct segment_chunk {
  index_t segment = 0, begin = 0, end = 0;
};

/// Cuts every segment into chunks of `grain` items (the last of each segment shorter), in
/// position order. Depends on the sizes and the grain only.
[[nodiscard]] inline std::vector<segment_chunk> chunk_segments(std::span<const index_t> sizes, index_t grain) {
  std::vector<segment_chunk> chunks;
  grain = std::max<index_t>(grain, 1);
  for (std::size_t s = 0; s < sizes.size(); ++s)
    for (index_t b = 0; b < sizes[s]; b += grain)
      chunks.push_back({static_cast<index_t>(s), b, std::min(sizes[s], b + grain)});
  return chunks;
}

/// Runs f(c) for c in [0, count) on `exec`; a single chunk runs inline (no dispatch).
template <HostExecutionSpace Exec, class F>
inline void for_each_chunk(const std::string& label, const Exec& exec, index_t count, const F& f) {
  if (count == 1)
    f(index_t{0});
  else
    parallel_for(label, exec, count, f);
}

/// The keys still in play, compacted in position order.
template <class Key>
struct key_candidates {
  std::vector<Key> keys;
  std::vector<index_t> positions;  ///< flat positions (segment offset + index)
};

/// Calls `mark(segment, index, kept)` once for every item, kept exactly for the k items of
/// largest `key_at(segment, index)` (an unsigned integer), ties broken by lower position.
/// \param sizes items per segment
/// \param grain items per chunk: a function of the shape only, so the result never depends on it
///        or on the thread count (tests pass small grains to exercise many chunks)
/// Complexity: O(n) work in about two passes over the items plus a few over the candidates;
/// O(chunks · 2^11) integer scratch.
template <HostExecutionSpace Exec, class KeyAt, class Mark>
void select_top_k(const Exec& exec, std::span<const index_t> sizes, index_t k, const KeyAt& key_at, const Mark& mark,
                  index_t grain = grain_for(1)) {
  using Key = std::remove_cvref_t<std::invoke_result_t<const KeyAt&, index_t, index_t>>;
  static_assert(std::is_unsigned_v<Key>, "frugal::admm::detail::select_top_k: keys must be unsigned integers");
  constexpr int key_bits = std::numeric_limits<Key>::digits;
  constexpr int digit_bits = 11;
  constexpr index_t bins = index_t{1} << digit_bits;

  const std::vector<segment_chunk> chunks = chunk_segments(sizes, grain);
  const auto chunk_count = static_cast<index_t>(chunks.size());
  std::vector<index_t> offset(sizes.size() + 1, 0);
  for (std::size_t s = 0; s < sizes.size(); ++s) offset[s + 1] = offset[s] + sizes[s];
  const index_t n = offset.back();
  k = std::clamp<index_t>(k, 0, n);

  const segment_chunk* chunk = chunks.data();
  if (k == 0 || k == n) {
    const bool all = k == n;
    for_each_chunk("frugal::admm::select_top_k trivial", exec, chunk_count, [&](index_t c) {
      for (index_t i = chunk[c].begin; i < chunk[c].end; ++i) mark(chunk[c].segment, i, all);
    });
    return;
  }

  // Most significant digit first. `rank` is the rank of the k-th largest key among the items
  // matching `prefix` on `prefix_mask` (1 = the largest of them).
  Key prefix = 0, prefix_mask = 0;
  index_t rank = k;
  int shift = key_bits;
  bool whole_bucket = false;  // every item matching the prefix is kept: no tie to cut
  std::vector<index_t> histogram;
  index_t last_digit = 0;

  // The digit histogram of one pass over a source of chunks; returns the chosen digit and updates
  // prefix, rank and whole_bucket.
  auto pass = [&](index_t count, const auto& chunk_keys) {
    const int width = std::min(digit_bits, shift);
    shift -= width;
    const Key digit_mask = static_cast<Key>((Key{1} << width) - 1);
    const index_t used = index_t{1} << width;
    histogram.assign(static_cast<std::size_t>(count * bins), 0);
    index_t* hist = histogram.data();
    const Key p = prefix, pm = prefix_mask;
    const int sh = shift;
    for_each_chunk("frugal::admm::select_top_k histogram", exec, count, [&](index_t c) {
      index_t* h = hist + c * bins;
      chunk_keys(c, [&](Key key) {
        if ((key & pm) == p) ++h[(key >> sh) & digit_mask];
      });
    });
    index_t digit = used - 1;
    for (;; --digit) {
      index_t total = 0;
      for (index_t c = 0; c < count; ++c) total += hist[c * bins + digit];
      if (rank <= total) {
        whole_bucket = rank == total;
        break;
      }
      rank -= total;
    }
    prefix = static_cast<Key>(prefix | static_cast<Key>(digit) << shift);
    prefix_mask = static_cast<Key>(prefix_mask | digit_mask << shift);
    last_digit = digit;
    return digit;
  };

  auto full_keys = [&](index_t c, const auto& visit) {
    for (index_t i = chunk[c].begin; i < chunk[c].end; ++i) visit(key_at(chunk[c].segment, i));
  };

  // Tie cut: the flat position of the last kept item whose key equals the threshold.
  index_t last_tie = -1;
  // Passes over every item until the bucket is small enough to compact.
  index_t bucket = n;
  while (shift > 0 && !whole_bucket) {
    const index_t digit = pass(chunk_count, full_keys);
    bucket = 0;
    for (index_t c = 0; c < chunk_count; ++c) bucket += histogram[static_cast<std::size_t>(c * bins + digit)];
    if (bucket <= n / 16 + 1) break;
  }

  if (!whole_bucket && shift == 0) {
    // Resolved on the full pass: the rank-th tie, found through per-chunk tie counts.
    index_t seen = 0, c = 0;
    for (;; ++c) {
      const index_t ties = histogram[static_cast<std::size_t>(c * bins + last_digit)];
      if (seen + ties >= rank) break;
      seen += ties;
    }
    for (index_t i = chunk[c].begin; i < chunk[c].end; ++i)
      if (key_at(chunk[c].segment, i) == prefix && ++seen == rank) {
        last_tie = offset[static_cast<std::size_t>(chunk[c].segment)] + i;
        break;
      }
  } else if (!whole_bucket) {
    // Compact the bucket's items in position order: chunk c writes after the bucket items of the
    // chunks before it (the digit counts of the last pass).
    std::vector<index_t> start(static_cast<std::size_t>(chunk_count) + 1, 0);
    for (index_t c = 0; c < chunk_count; ++c)
      start[static_cast<std::size_t>(c + 1)] =
          start[static_cast<std::size_t>(c)] + histogram[static_cast<std::size_t>(c * bins + last_digit)];
    key_candidates<Key> cand;
    cand.keys.resize(static_cast<std::size_t>(bucket));
    cand.positions.resize(static_cast<std::size_t>(bucket));
    Key* ck = cand.keys.data();
    index_t* cp = cand.positions.data();
    const index_t* st = start.data();
    const index_t* off = offset.data();
    const Key p = prefix, pm = prefix_mask;
    for_each_chunk("frugal::admm::select_top_k compact", exec, chunk_count, [&](index_t c) {
      index_t at = st[c];
      const index_t base = off[chunk[c].segment];
      for (index_t i = chunk[c].begin; i < chunk[c].end; ++i) {
        const Key key = key_at(chunk[c].segment, i);
        if ((key & pm) == p) {
          ck[at] = key;
          cp[at] = base + i;
          ++at;
        }
      }
    });
    const index_t cand_grain = std::max<index_t>(grain, 1);
    const index_t cand_chunks = (bucket + cand_grain - 1) / cand_grain;
    auto cand_keys = [&](index_t c, const auto& visit) {
      const index_t end = std::min(bucket, (c + 1) * cand_grain);
      for (index_t j = c * cand_grain; j < end; ++j) visit(ck[j]);
    };
    while (shift > 0 && !whole_bucket) pass(cand_chunks, cand_keys);
    if (!whole_bucket) {
      index_t seen = 0;
      for (index_t j = 0; j < bucket; ++j)
        if (ck[j] == prefix && ++seen == rank) {
          last_tie = cp[j];
          break;
        }
    }
  }

  // Mark: above the threshold is kept; at it, up to the last tie kept (or the whole bucket).
  const Key threshold = prefix;
  const bool keep_bucket = whole_bucket;
  const index_t* off = offset.data();
  for_each_chunk("frugal::admm::select_top_k mark", exec, chunk_count, [&](index_t c) {
    const index_t base = off[chunk[c].segment];
    for (index_t i = chunk[c].begin; i < chunk[c].end; ++i) {
      const Key key = key_at(chunk[c].segment, i);
      const bool kept = keep_bucket ? key >= threshold : key > threshold || (key == threshold && base + i <= last_tie);
      mark(chunk[c].segment, i, kept);
    }
  });
}

/// `select_top_k` over one segment of n items.
template <HostExecutionSpace Exec, class KeyAt, class Mark>
void select_top_k(const Exec& exec, index_t n, index_t k, const KeyAt& key_at, const Mark& mark,
                  index_t grain = grain_for(1)) {
  const index_t sizes[] = {n};
  select_top_k(
      exec, std::span<const index_t>(sizes), k, [&](index_t, index_t i) { return key_at(i); },
      [&](index_t, index_t i, bool kept) { mark(i, kept); }, grain);
}

}  // namespace frugal::admm::detail
