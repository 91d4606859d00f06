#pragma once
/// \file
/// BCR (block-based column-row) sparsity, as GRIM defines it: the matrix is tiled into blocks and,
/// inside each block, whole rows and whole columns are pruned, so the kept weights of a block form
/// a dense sub-block (kept rows × kept columns). The pattern is what `bcr_matrix`'s kernels
/// execute; `bcr_sparsity` chooses it, blocks in parallel on a host execution space. sparse owns
/// the pattern so that it never includes admm; `frugal/admm/bcr.hpp` names these types in
/// `frugal::admm` as ADMM's BCR projection.

#include <Eigen/Core>

#include <algorithm>
#include <cstdint>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "../core/error.hpp"
#include "../core/parallel.hpp"
#include "../core/top_k.hpp"
#include "../nn/tensor.hpp"

namespace frugal::sparse {

using nn::matrix;

/// One block of a BCR pattern: its position and extent in the matrix and the rows and columns it
/// keeps (absolute indices, ascending).
struct bcr_block {
  index_t row0 = 0, col0 = 0, rows = 0, cols = 0;
  std::vector<index_t> kept_rows, kept_cols;
};

/// A complete BCR pattern of a rows x cols matrix.
struct bcr_pattern {
  index_t rows = 0, cols = 0, block_rows = 0, block_cols = 0;
  std::vector<bcr_block> blocks;  ///< row-major over the block grid; edge blocks may be smaller

  /// The 0/1 mask of kept entries, written block by block in parallel on `exec`.
  template <nn::Scalar S, HostExecutionSpace Exec>
  [[nodiscard]] matrix<S> mask(const Exec& exec) const {
    matrix<S> m = matrix<S>::Zero(rows, cols);
    const bcr_block* b = blocks.data();
    parallel_for_chunks("frugal::sparse::bcr_pattern::mask", exec, static_cast<index_t>(blocks.size()),
                        grain_for(block_rows * block_cols), [&](index_t first, index_t last) {
                          for (index_t i = first; i < last; ++i)
                            for (index_t r : b[i].kept_rows)
                              for (index_t c : b[i].kept_cols) m(r, c) = S(1);
                        });
    return m;
  }
  /// The 0/1 mask of kept entries, on `default_host_space`.
  template <nn::Scalar S>
  [[nodiscard]] matrix<S> mask() const {
    return mask<S>(default_host_space{});
  }

  /// Number of kept entries.
  [[nodiscard]] index_t kept() const noexcept {
    index_t n = 0;
    for (const auto& b : blocks) n += static_cast<index_t>(b.kept_rows.size() * b.kept_cols.size());
    return n;
  }

  /// The block grid of a rows x cols matrix (row-major, ragged at the edges) with nothing kept
  /// yet: the skeleton every way of choosing a pattern fills in.
  [[nodiscard]] static bcr_pattern tiling(index_t rows, index_t cols, index_t block_rows, index_t block_cols) {
    check(block_rows > 0 && block_cols > 0, "frugal::sparse::bcr_pattern::tiling: block shape ", block_rows, "x",
          block_cols, " must be positive");
    bcr_pattern p{rows, cols, block_rows, block_cols, {}};
    for (index_t r0 = 0; r0 < rows; r0 += block_rows)
      for (index_t c0 = 0; c0 < cols; c0 += block_cols)
        p.blocks.push_back({r0, c0, std::min(block_rows, rows - r0), std::min(block_cols, cols - c0), {}, {}});
    return p;
  }

  /// The pattern of the non-zeros of `mask`, which must have BCR structure for blocks of
  /// block_rows x block_cols: inside every block the non-zeros are exactly (rows with a non-zero)
  /// x (columns with a non-zero). Anything else is refused with the offending block.
  template <nn::Scalar S>
  [[nodiscard]] static bcr_pattern of_mask(const matrix<S>& mask, index_t block_rows, index_t block_cols) {
    bcr_pattern p = bcr_pattern::tiling(mask.rows(), mask.cols(), block_rows, block_cols);
    for (auto& b : p.blocks) {
      for (index_t i = b.row0; i < b.row0 + b.rows; ++i)
        if ((mask.row(i).segment(b.col0, b.cols).array() != S(0)).any()) b.kept_rows.push_back(i);
      for (index_t j = b.col0; j < b.col0 + b.cols; ++j)
        if ((mask.col(j).segment(b.row0, b.rows).array() != S(0)).any()) b.kept_cols.push_back(j);
      const index_t kept = (mask.block(b.row0, b.col0, b.rows, b.cols).array() != S(0)).count();
      check(kept == static_cast<index_t>(b.kept_rows.size() * b.kept_cols.size()),
            "frugal::sparse::bcr_pattern::of_mask: the mask is not BCR-structured for ", block_rows, "x", block_cols,
            " blocks: block at (", b.row0, ", ", b.col0, ") keeps ", kept, " entries, not the ", b.kept_rows.size(),
            " x ", b.kept_cols.size(), " product of its kept rows and columns");
    }
    return p;
  }
};

/// BCR sparsity: blocks of block_rows x block_cols (ragged at the edges); inside each block keep
/// round(row_keep_fraction · block height) rows and round(col_keep_fraction · block width)
/// columns (at least one of each).
///
/// Projection: for a block with energies E = W∘W, choose rows R and columns C maximising
/// Σ_{i∈R, j∈C} E_ij. Given C the best R is the top-|R| rows by Σ_{j∈C} E_ij, so enumerating all
/// column subsets gives the **exact** projection; that is done whenever C(width, |C|) ≤
/// `exact_limit`. Larger blocks use alternating maximisation (best rows given columns, best
/// columns given rows, until no gain) from two starts (top columns, top rows by energy), which
/// is a local optimum — the problem is a maximum-weight biclique selection, NP-hard in general.
struct bcr_sparsity {
  index_t block_rows = 8;
  index_t block_cols = 8;
  double row_keep_fraction = 0.5;
  double col_keep_fraction = 0.5;
  std::uint64_t exact_limit = 5000;

  /// The pattern of `w`: every block's kept rows and columns, blocks selected in parallel on
  /// `exec` (each block whole by one thread, so the pattern is identical on any number of threads).
  template <HostExecutionSpace Exec, nn::Scalar S>
  [[nodiscard]] bcr_pattern select(const Exec& exec, const matrix<S>& w) const {
    check(block_rows > 0 && block_cols > 0, "frugal::sparse::bcr_sparsity: block shape ", block_rows, "x", block_cols,
          " must be positive");
    check(row_keep_fraction > 0 && row_keep_fraction <= 1 && col_keep_fraction > 0 && col_keep_fraction <= 1,
          "frugal::sparse::bcr_sparsity: keep fractions ", row_keep_fraction, " and ", col_keep_fraction,
          " must be in (0, 1]");
    bcr_pattern p = bcr_pattern::tiling(w.rows(), w.cols(), block_rows, block_cols);
    bcr_block* blocks = p.blocks.data();
    parallel_for_chunks("frugal::sparse::bcr_sparsity::select", exec, static_cast<index_t>(p.blocks.size()),
                        grain_for(block_work()), [&](index_t first, index_t last) {
                          for (index_t i = first; i < last; ++i) select_into(w, blocks[i]);
                        });
    return p;
  }
  template <nn::Scalar S>
  [[nodiscard]] bcr_pattern select(const matrix<S>& w) const {
    return select(default_host_space{}, w);
  }

  template <HostExecutionSpace Exec, nn::Scalar S>
  [[nodiscard]] matrix<S> support(const Exec& exec, const matrix<S>& w) const {
    return select(exec, w).template mask<S>(exec);
  }
  template <nn::Scalar S>
  [[nodiscard]] matrix<S> support(const matrix<S>& w) const {
    return support(default_host_space{}, w);
  }

  /// W with every entry outside its BCR pattern set to +0: the Euclidean projection ADMM uses
  /// (`frugal::admm::SparsityProjection`). Entry-wise over chunks of the row-major storage whose
  /// bounds depend on the size only, so the result does not depend on the thread count.
  template <HostExecutionSpace Exec, nn::Scalar S>
  [[nodiscard]] matrix<S> project(const Exec& exec, const matrix<S>& w) const {
    const matrix<S> mask = support(exec, w);
    matrix<S> z(w.rows(), w.cols());
    using entries = Eigen::Map<Eigen::Array<S, Eigen::Dynamic, 1>>;
    using const_entries = Eigen::Map<const Eigen::Array<S, Eigen::Dynamic, 1>>;
    parallel_for_chunks(
        "frugal::sparse::bcr_sparsity::project", exec, w.size(), grain_for(1), [&](index_t b, index_t e) {
          entries(z.data() + b, e - b) =
              (const_entries(mask.data() + b, e - b) != S(0)).select(const_entries(w.data() + b, e - b), S(0));
        });
    return z;
  }
  template <nn::Scalar S>
  [[nodiscard]] matrix<S> project(const matrix<S>& w) const {
    return project(default_host_space{}, w);
  }

  [[nodiscard]] std::string describe() const {
    std::ostringstream out;
    out << "BCR " << block_rows << "x" << block_cols << ", keep rows " << row_keep_fraction << ", cols "
        << col_keep_fraction;
    return out.str();
  }

  /// Kept (rows, cols) of one block given its entry energies; local indices, ascending.
  [[nodiscard]] std::pair<std::vector<index_t>, std::vector<index_t>> select_block(const matrix<double>& energy,
                                                                                   index_t keep_rows,
                                                                                   index_t keep_cols) const {
    const index_t h = energy.rows(), wd = energy.cols();
    auto rows_given = [&](const std::vector<index_t>& cols) {
      std::vector<double> score(static_cast<std::size_t>(h), 0.0);
      for (index_t i = 0; i < h; ++i)
        for (index_t c : cols) score[static_cast<std::size_t>(i)] += energy(i, c);
      return top_k_indices(score, keep_rows);
    };
    auto cols_given = [&](const std::vector<index_t>& rows) {
      std::vector<double> score(static_cast<std::size_t>(wd), 0.0);
      for (index_t j = 0; j < wd; ++j)
        for (index_t r : rows) score[static_cast<std::size_t>(j)] += energy(r, j);
      return top_k_indices(score, keep_cols);
    };
    auto value = [&](const std::vector<index_t>& rows, const std::vector<index_t>& cols) {
      double s = 0;
      for (index_t r : rows)
        for (index_t c : cols) s += energy(r, c);
      return s;
    };
    std::vector<index_t> best_rows, best_cols;
    double best = -1;
    if (binomial(wd, keep_cols) <= exact_limit) {
      std::vector<index_t> cols(static_cast<std::size_t>(keep_cols));
      for (index_t j = 0; j < keep_cols; ++j) cols[static_cast<std::size_t>(j)] = j;
      for (;;) {
        auto rows = rows_given(cols);
        const double v = value(rows, cols);
        if (v > best) {
          best = v;
          best_rows = std::move(rows);
          best_cols = cols;
        }
        // Next combination in lexicographic order.
        index_t i = keep_cols - 1;
        while (i >= 0 && cols[static_cast<std::size_t>(i)] == wd - keep_cols + i) --i;
        if (i < 0) break;
        ++cols[static_cast<std::size_t>(i)];
        for (index_t j = i + 1; j < keep_cols; ++j)
          cols[static_cast<std::size_t>(j)] = cols[static_cast<std::size_t>(j - 1)] + 1;
      }
      return {best_rows, best_cols};
    }
    std::vector<double> col_energy(static_cast<std::size_t>(wd)), row_energy(static_cast<std::size_t>(h));
    for (index_t j = 0; j < wd; ++j) col_energy[static_cast<std::size_t>(j)] = energy.col(j).sum();
    for (index_t i = 0; i < h; ++i) row_energy[static_cast<std::size_t>(i)] = energy.row(i).sum();
    for (int start = 0; start < 2; ++start) {
      std::vector<index_t> cols, rows;
      if (start == 0) {
        cols = top_k_indices(col_energy, keep_cols);
        rows = rows_given(cols);
      } else {
        rows = top_k_indices(row_energy, keep_rows);
        cols = cols_given(rows);
        rows = rows_given(cols);
      }
      double v = value(rows, cols);
      for (int it = 0; it < 50; ++it) {
        auto new_cols = cols_given(rows);
        auto new_rows = rows_given(new_cols);
        const double nv = value(new_rows, new_cols);
        if (nv <= v) break;
        v = nv;
        rows = std::move(new_rows);
        cols = std::move(new_cols);
      }
      if (v > best) {
        best = v;
        best_rows = rows;
        best_cols = cols;
      }
    }
    return {best_rows, best_cols};
  }

 private:
  /// Fills one block's kept rows and columns (absolute indices).
  template <class S>
  void select_into(const matrix<S>& w, bcr_block& b) const {
    const matrix<double> energy =
        w.block(b.row0, b.col0, b.rows, b.cols).template cast<double>().array().square().matrix();
    auto [rows, cols] =
        select_block(energy, kept_count(row_keep_fraction, b.rows), kept_count(col_keep_fraction, b.cols));
    for (auto& r : rows) r += b.row0;
    for (auto& c : cols) c += b.col0;
    b.kept_rows = std::move(rows);
    b.kept_cols = std::move(cols);
  }

  /// Rough operation count of one full block's selection, for sizing chunks of blocks: the
  /// enumeration's column sets times a row selection each, or a few alternating sweeps.
  [[nodiscard]] index_t block_work() const {
    const index_t kc = kept_count(col_keep_fraction, block_cols);
    const std::uint64_t sets = binomial(block_cols, kc);
    const index_t entries = block_rows * block_cols;
    return sets <= exact_limit ? static_cast<index_t>(sets) * block_rows * (kc + 4) : 16 * entries;
  }

  static std::uint64_t binomial(index_t n, index_t k) {
    k = std::min(k, n - k);
    std::uint64_t r = 1;
    for (index_t i = 1; i <= k; ++i) {
      r = r * static_cast<std::uint64_t>(n - k + i) / static_cast<std::uint64_t>(i);
      if (r > (1ULL << 40)) return r;  // far beyond any enumeration limit
    }
    return r;
  }
};

}  // namespace frugal::sparse
