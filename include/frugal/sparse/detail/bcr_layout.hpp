#pragma once
/// \file
/// How a `bcr_matrix` lays out its groups: a pattern's blocks merged into groups (blocks of one
/// block column that keep the same columns share one group: GRIM's load-redundancy elimination),
/// and the band plans that split its batched products into tasks with private outputs.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <map>
#include <utility>
#include <vector>

#include "../../core/error.hpp"
#include "../bcr_pattern.hpp"

namespace frugal::sparse::detail {

/// Per group, its absolute rows and columns, ascending.
struct group_lists {
  std::vector<std::vector<std::int32_t>> rows, cols;
};

/// The groups of the entries `pattern` keeps in a rows x cols matrix, in order of each group's
/// first block. Refuses (with the block) blocks off the grid or outside the matrix and kept
/// indices outside their block; overlapping blocks are the caller's check, once flattened.
inline group_lists merge_blocks(const bcr_pattern& pattern, index_t rows, index_t cols) {
  check_extent("frugal::sparse::bcr_matrix::from_pattern", "pattern rows", pattern.rows, rows);
  check_extent("frugal::sparse::bcr_matrix::from_pattern", "pattern cols", pattern.cols, cols);
  check(pattern.block_rows > 0 && pattern.block_cols > 0, "frugal::sparse::bcr_matrix::from_pattern: block shape ",
        pattern.block_rows, "x", pattern.block_cols, " must be positive");
  std::map<std::pair<index_t, std::vector<index_t>>, std::size_t> by_key;
  std::vector<std::vector<index_t>> group_rows;
  std::vector<std::vector<index_t>> group_cols;
  for (const auto& b : pattern.blocks) {
    check(b.row0 >= 0 && b.col0 >= 0 && b.rows > 0 && b.cols > 0 && b.row0 + b.rows <= rows &&
              b.col0 + b.cols <= cols && b.row0 % pattern.block_rows == 0 && b.col0 % pattern.block_cols == 0 &&
              b.rows <= pattern.block_rows && b.cols <= pattern.block_cols,
          "frugal::sparse::bcr_matrix::from_pattern: block at (", b.row0, ", ", b.col0, ") of ", b.rows, "x", b.cols,
          " lies outside the ", rows, "x", cols, " matrix or off the ", pattern.block_rows, "x", pattern.block_cols,
          " block grid");
    for (index_t r : b.kept_rows)
      check(r >= b.row0 && r < b.row0 + b.rows, "frugal::sparse::bcr_matrix::from_pattern: kept row ", r,
            " outside its block at row ", b.row0);
    for (index_t c : b.kept_cols)
      check(c >= b.col0 && c < b.col0 + b.cols, "frugal::sparse::bcr_matrix::from_pattern: kept column ", c,
            " outside its block at column ", b.col0);
    if (b.kept_rows.empty() || b.kept_cols.empty()) continue;  // an empty block stores nothing
    auto key = std::make_pair(b.col0, b.kept_cols);
    auto [it, fresh] = by_key.emplace(std::move(key), group_rows.size());
    if (fresh) {
      group_rows.emplace_back();
      group_cols.push_back(b.kept_cols);
    }
    auto& kept = group_rows[it->second];
    kept.insert(kept.end(), b.kept_rows.begin(), b.kept_rows.end());
  }
  group_lists out;
  out.rows.resize(group_rows.size());
  out.cols.resize(group_rows.size());
  for (std::size_t g = 0; g < group_rows.size(); ++g) {
    auto& kept = group_rows[g];
    std::sort(kept.begin(), kept.end());
    out.rows[g].assign(kept.begin(), kept.end());
    out.cols[g].assign(group_cols[g].begin(), group_cols[g].end());
  }
  return out;
}

/// The first (row, column block) that two groups — or one group twice — keep, or (−1, −1): every
/// row of a block column must belong to one block at most. `groups` is a range of `bcr_group`
/// of a rows x cols matrix with blocks `block_cols` wide.
template <class Groups>
[[nodiscard]] std::pair<index_t, index_t> doubly_kept_row(const Groups& groups, index_t rows, index_t cols,
                                                          index_t block_cols) {
  const index_t col_blocks = (cols + block_cols - 1) / block_cols;
  std::vector<std::uint8_t> seen(static_cast<std::size_t>(rows * col_blocks), 0);
  for (const auto g : groups) {
    const index_t cb = g.cols.front() / block_cols;
    for (auto r : g.rows) {
      auto& s = seen[static_cast<std::size_t>(r * col_blocks + cb)];
      if (s) return {r, cb};
      s = 1;
    }
  }
  return {-1, -1};
}

/// Bands of output rows (of output columns, transposed) the batched products of a rows x cols
/// matrix with block_rows x block_cols blocks split into, by the shape alone: enough (band x
/// sample tile) tasks to keep several threads busy when the batch has `tiles` tiles, bands whole
/// blocks.
[[nodiscard]] inline index_t output_bands(index_t rows, index_t cols, index_t block_rows, index_t block_cols,
                                          index_t tiles, bool transposed) noexcept {
  constexpr index_t target_tasks = 16;
  const index_t blocks = transposed ? (cols + block_cols - 1) / block_cols : (rows + block_rows - 1) / block_rows;
  return std::clamp<index_t>((target_tasks + tiles - 1) / tiles, 1, std::max<index_t>(blocks, 1));
}

/// One group's share of an output band: its rows [lo, hi) (all of them, transposed).
struct band_entry {
  index_t group, lo, hi;
};

/// The groups each output band touches, in group order: entries[offsets[b] .. offsets[b+1]).
struct band_plan {
  index_t bands = -1, per_band = 0;
  std::vector<index_t> offsets;
  std::vector<band_entry> entries;

  /// Makes this the plan for `bands` bands of `per_band` outputs over `groups` (a range of
  /// `bcr_group`), unless it already is.
  template <class Groups>
  void rebuild(const Groups& groups, index_t band_count, index_t outputs_per_band, bool transposed) {
    if (bands == band_count && per_band == outputs_per_band) return;
    bands = band_count;
    per_band = outputs_per_band;
    std::vector<std::vector<band_entry>> per(static_cast<std::size_t>(bands));
    for (std::size_t k = 0; k < groups.size(); ++k) {
      const auto g = groups[k];
      const auto nr = static_cast<index_t>(g.rows.size());
      const auto group = static_cast<index_t>(k);
      if (transposed) {
        // A group's columns lie in one column block, so in one band.
        per[static_cast<std::size_t>(g.cols[0] / per_band)].push_back({group, 0, nr});
        continue;
      }
      // The group's rows ascend: split them at band boundaries.
      index_t lo = 0;
      while (lo < nr) {
        const index_t band = g.rows[static_cast<std::size_t>(lo)] / per_band;
        index_t hi = lo;
        while (hi < nr && g.rows[static_cast<std::size_t>(hi)] / per_band == band) ++hi;
        per[static_cast<std::size_t>(band)].push_back({group, lo, hi});
        lo = hi;
      }
    }
    offsets.assign(1, 0);
    entries.clear();
    for (const auto& list : per) {
      entries.insert(entries.end(), list.begin(), list.end());
      offsets.push_back(static_cast<index_t>(entries.size()));
    }
  }
};

}  // namespace frugal::sparse::detail
