#pragma once
/// \file
/// `bcr_matrix`: a weight matrix with BCR (block-based column-row) sparsity, GRIM's pattern. The
/// matrix is tiled into block_rows x block_cols blocks; inside each block whole rows and whole
/// columns are pruned, so what survives is a small dense sub-block (kept rows x kept columns).
///
/// Storage is a list of *groups*, each a dense row-major sub-block with the absolute indices of
/// its rows and columns. Blocks of the same block column that keep the same column set are merged
/// into one group (GRIM's load-redundancy elimination: the input rows a group reads are loaded
/// once for all of its rows), so a group's rows may come from several block rows.
///
/// Products (`y = W x`, `dx = Wᵀ dy`, the gradient of the kept values) run on batches of
/// column-major activations (each column one sample, as frugal/nn passes them) through xsimd
/// micro-kernels; `bcr_reference` holds the plain serial versions the tests compare against.

#include <algorithm>
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "../admm/bcr.hpp"
#include "../core/checkpoint.hpp"
#include "../core/error.hpp"
#include "../core/execution.hpp"
#include "../nn/tensor.hpp"
#include "bcr_kernels.hpp"

namespace frugal::sparse {

using nn::column_map;
using nn::const_column_map;
using nn::matrix;

/// One dense sub-block of a `bcr_matrix`: W(rows[i], cols[j]) = values[offset + i·cols.size() + j].
struct bcr_group {
  std::vector<std::int32_t> rows;  ///< absolute row indices (ascending)
  std::vector<std::int32_t> cols;  ///< absolute column indices (ascending)
  index_t offset = 0;              ///< first value of the group in `bcr_matrix::values()`

  [[nodiscard]] index_t size() const noexcept { return static_cast<index_t>(rows.size() * cols.size()); }
};

/// Micro-kernel choice for the batched products: a register tile of `row_tile` output rows by
/// `vector_tile` SIMD vectors of samples. `bcr_autotuner` picks it per shape by measurement.
struct bcr_kernel_config {
  int row_tile = 4;     ///< 1 … 8
  int vector_tile = 2;  ///< 1, 2 or 4

  friend bool operator==(const bcr_kernel_config&, const bcr_kernel_config&) = default;
};

/// A rows x cols matrix with BCR sparsity.
///
/// Thread safety: the products use scratch buffers held by the object, so one object must not
/// run two products at the same time (distinct objects are independent). Products themselves
/// run in parallel on the execution space passed to them.
/// \tparam S float or double
template <nn::Scalar S>
class bcr_matrix {
 public:
  using scalar_type = S;

  bcr_matrix() = default;

  /// Keeps the entries of `w` selected by `pattern` (from `admm::bcr_sparsity::select`, ADMM's
  /// BCR projection, or built by hand).
  static bcr_matrix from_pattern(const matrix<S>& w, const admm::bcr_pattern& pattern) {
    check_extent("frugal::sparse::bcr_matrix::from_pattern", "pattern rows", pattern.rows, w.rows());
    check_extent("frugal::sparse::bcr_matrix::from_pattern", "pattern cols", pattern.cols, w.cols());
    check(pattern.block_rows > 0 && pattern.block_cols > 0, "frugal::sparse::bcr_matrix::from_pattern: block shape ",
          pattern.block_rows, "x", pattern.block_cols, " must be positive");
    bcr_matrix m;
    m.m_rows = w.rows();
    m.m_cols = w.cols();
    m.m_block_rows = pattern.block_rows;
    m.m_block_cols = pattern.block_cols;
    // Merge blocks of the same block column with identical kept columns.
    std::map<std::pair<index_t, std::vector<index_t>>, std::size_t> by_key;
    std::vector<std::vector<index_t>> group_rows;
    std::vector<std::vector<index_t>> group_cols;
    for (const auto& b : pattern.blocks) {
      check(b.row0 >= 0 && b.col0 >= 0 && b.rows > 0 && b.cols > 0 && b.row0 + b.rows <= w.rows() &&
                b.col0 + b.cols <= w.cols() && b.row0 % pattern.block_rows == 0 && b.col0 % pattern.block_cols == 0 &&
                b.rows <= pattern.block_rows && b.cols <= pattern.block_cols,
            "frugal::sparse::bcr_matrix::from_pattern: block at (", b.row0, ", ", b.col0, ") of ", b.rows, "x", b.cols,
            " lies outside the ", w.rows(), "x", w.cols(), " matrix or off the ", pattern.block_rows, "x",
            pattern.block_cols, " block grid");
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
      auto& rows = group_rows[it->second];
      rows.insert(rows.end(), b.kept_rows.begin(), b.kept_rows.end());
    }
    for (std::size_t g = 0; g < group_rows.size(); ++g) {
      auto& rows = group_rows[g];
      std::sort(rows.begin(), rows.end());
      bcr_group grp;
      grp.rows.assign(rows.begin(), rows.end());
      grp.cols.assign(group_cols[g].begin(), group_cols[g].end());
      m.m_groups.push_back(std::move(grp));
    }
    const auto [row, column_block] = m.doubly_kept_row();
    check(row < 0, "frugal::sparse::bcr_matrix::from_pattern: overlapping blocks keep row ", row,
          " twice in column block ", column_block);
    m.finish_layout();
    for (const auto& g : m.m_groups)
      for (std::size_t i = 0; i < g.rows.size(); ++i)
        for (std::size_t j = 0; j < g.cols.size(); ++j)
          m.m_values[static_cast<std::size_t>(g.offset) + i * g.cols.size() + j] = w(g.rows[i], g.cols[j]);
    return m;
  }

  /// Prunes `w` with `sparsity` (magnitude-based BCR selection inside each block, the same
  /// projection ADMM uses) and keeps the selected entries.
  static bcr_matrix from_dense(const matrix<S>& w, const admm::bcr_sparsity& sparsity) {
    return from_pattern(w, sparsity.select(w));
  }

  /// Keeps the non-zeros of `mask`, which must have BCR structure for blocks of
  /// block_rows x block_cols: inside every block the kept entries are exactly (rows with a kept
  /// entry) x (columns with a kept entry). Anything else is refused with the offending block.
  static bcr_matrix from_mask(const matrix<S>& w, const matrix<S>& mask, index_t block_rows, index_t block_cols) {
    check_extent("frugal::sparse::bcr_matrix::from_mask", "mask rows", mask.rows(), w.rows());
    check_extent("frugal::sparse::bcr_matrix::from_mask", "mask cols", mask.cols(), w.cols());
    check(block_rows > 0 && block_cols > 0, "frugal::sparse::bcr_matrix::from_mask: block shape ", block_rows, "x",
          block_cols, " must be positive");
    admm::bcr_pattern p = admm::bcr_pattern::tiling(w.rows(), w.cols(), block_rows, block_cols);
    for (auto& b : p.blocks) {
      for (index_t i = b.row0; i < b.row0 + b.rows; ++i)
        if ((mask.row(i).segment(b.col0, b.cols).array() != S(0)).any()) b.kept_rows.push_back(i);
      for (index_t j = b.col0; j < b.col0 + b.cols; ++j)
        if ((mask.col(j).segment(b.row0, b.rows).array() != S(0)).any()) b.kept_cols.push_back(j);
      const index_t kept = (mask.block(b.row0, b.col0, b.rows, b.cols).array() != S(0)).count();
      check(kept == static_cast<index_t>(b.kept_rows.size() * b.kept_cols.size()),
            "frugal::sparse::bcr_matrix::from_mask: the mask is not BCR-structured for ", block_rows, "x", block_cols,
            " blocks: block at (", b.row0, ", ", b.col0, ") keeps ", kept, " entries, not the ", b.kept_rows.size(),
            " x ", b.kept_cols.size(), " product of its kept rows and columns");
    }
    return from_pattern(w, p);
  }

  [[nodiscard]] index_t rows() const noexcept { return m_rows; }
  [[nodiscard]] index_t cols() const noexcept { return m_cols; }
  [[nodiscard]] index_t block_rows() const noexcept { return m_block_rows; }
  [[nodiscard]] index_t block_cols() const noexcept { return m_block_cols; }
  [[nodiscard]] index_t nonzeros() const noexcept { return static_cast<index_t>(m_values.size()); }
  /// The columns some block keeps, ascending: the only input rows `multiply` reads (a caller that
  /// builds the input, like `conv2d`'s patches, may skip the others).
  [[nodiscard]] std::span<const std::int32_t> used_columns() const noexcept { return m_used_cols; }
  [[nodiscard]] double density() const noexcept {
    return m_rows > 0 && m_cols > 0 ? static_cast<double>(nonzeros()) / static_cast<double>(m_rows * m_cols) : 0.0;
  }
  [[nodiscard]] const std::vector<bcr_group>& groups() const noexcept { return m_groups; }

  /// The kept values, group after group, each group row-major. Writable: training updates them.
  [[nodiscard]] std::span<S> values() noexcept { return m_values; }
  [[nodiscard]] std::span<const S> values() const noexcept { return m_values; }

  /// Bytes held: values, row and column indices, group offsets.
  [[nodiscard]] std::size_t storage_bytes() const noexcept {
    std::size_t b = m_values.size() * sizeof(S);
    for (const auto& g : m_groups) b += (g.rows.size() + g.cols.size()) * sizeof(std::int32_t) + sizeof(index_t);
    return b;
  }

  /// The dense matrix (zeros where pruned).
  [[nodiscard]] matrix<S> to_dense() const {
    matrix<S> w = matrix<S>::Zero(m_rows, m_cols);
    for (const auto& g : m_groups)
      for (std::size_t i = 0; i < g.rows.size(); ++i)
        for (std::size_t j = 0; j < g.cols.size(); ++j)
          w(g.rows[i], g.cols[j]) = m_values[static_cast<std::size_t>(g.offset) + i * g.cols.size() + j];
    return w;
  }

  /// The 0/1 mask of kept entries.
  [[nodiscard]] matrix<S> mask() const {
    matrix<S> m = matrix<S>::Zero(m_rows, m_cols);
    for (const auto& g : m_groups)
      for (auto r : g.rows)
        for (auto c : g.cols) m(r, c) = S(1);
    return m;
  }

  /// Overwrites the kept values from a dense matrix of the same shape (entries outside the
  /// pattern are ignored).
  void assign_from_dense(const matrix<S>& w) {
    check_extent("frugal::sparse::bcr_matrix::assign_from_dense", "rows", w.rows(), m_rows);
    check_extent("frugal::sparse::bcr_matrix::assign_from_dense", "cols", w.cols(), m_cols);
    for (const auto& g : m_groups)
      for (std::size_t i = 0; i < g.rows.size(); ++i)
        for (std::size_t j = 0; j < g.cols.size(); ++j)
          m_values[static_cast<std::size_t>(g.offset) + i * g.cols.size() + j] = w(g.rows[i], g.cols[j]);
  }

  [[nodiscard]] const bcr_kernel_config& kernel() const noexcept { return m_kernel; }
  void set_kernel(const bcr_kernel_config& k) {
    check(k.row_tile >= 1 && k.row_tile <= 8 && (k.vector_tile == 1 || k.vector_tile == 2 || k.vector_tile == 4),
          "frugal::sparse::bcr_matrix::set_kernel: row_tile ", k.row_tile, " must be in [1, 8] and vector_tile ",
          k.vector_tile, " one of 1, 2, 4");
    m_kernel = k;
  }

  /// y = W x for a batch: x is cols x n, y is rows x n (column-major, one sample per column).
  template <HostExecutionSpace Exec = default_host_space>
  void multiply(const_column_map<S> x, column_map<S> y, const Exec& exec = Exec{}) const {
    check_extent("frugal::sparse::bcr_matrix::multiply", "x rows", x.rows(), m_cols);
    check_extent("frugal::sparse::bcr_matrix::multiply", "y rows", y.rows(), m_rows);
    check_extent("frugal::sparse::bcr_matrix::multiply", "batch", y.cols(), x.cols());
    product(exec, x.data(), x.cols(), y.data(), false);
  }

  /// dx = Wᵀ dy for a batch: dy is rows x n, dx is cols x n.
  template <HostExecutionSpace Exec = default_host_space>
  void multiply_transposed(const_column_map<S> dy, column_map<S> dx, const Exec& exec = Exec{}) const {
    check_extent("frugal::sparse::bcr_matrix::multiply_transposed", "dy rows", dy.rows(), m_rows);
    check_extent("frugal::sparse::bcr_matrix::multiply_transposed", "dx rows", dx.rows(), m_cols);
    check_extent("frugal::sparse::bcr_matrix::multiply_transposed", "batch", dx.cols(), dy.cols());
    product(exec, dy.data(), dy.cols(), dx.data(), true);
  }

  /// grad += (dy xᵀ) restricted to the kept entries, in the layout of `values()`: the gradient of
  /// the kept values for a loss whose gradient with respect to y = W x is dy.
  template <HostExecutionSpace Exec = default_host_space>
  void accumulate_gradient(const_column_map<S> x, const_column_map<S> dy, std::span<S> grad,
                           const Exec& exec = Exec{}) const {
    check_extent("frugal::sparse::bcr_matrix::accumulate_gradient", "x rows", x.rows(), m_cols);
    check_extent("frugal::sparse::bcr_matrix::accumulate_gradient", "dy rows", dy.rows(), m_rows);
    check_extent("frugal::sparse::bcr_matrix::accumulate_gradient", "batch", dy.cols(), x.cols());
    check_extent("frugal::sparse::bcr_matrix::accumulate_gradient", "gradient size", static_cast<index_t>(grad.size()),
                 nonzeros());
    const index_t n = x.cols();
    if (n == 0 || m_groups.empty()) return;
    const index_t ld = detail::padded_stride<S>(n);
    m_xt.resize(static_cast<std::size_t>(m_cols * ld));
    detail::transpose_into(x.data(), m_cols, n, m_xt.data(), ld);
    gradient_rows(exec, m_xt.data(), ld, dy, grad);
  }

  /// The row stride `multiply_rows` and `accumulate_gradient_rows` need for a batch of n: at
  /// least n rounded up to every kernel's sample tile, padded off multiples of 4 KiB.
  [[nodiscard]] static index_t input_stride(index_t n) noexcept {
    const index_t tile = 4 * detail::simd_lanes<S>();
    return detail::padded_stride<S>((n + tile - 1) / tile * tile);
  }

  /// y = W x with x given *patch-major*: x(c, s) at xt[c·ld + s], ld ≥ input_stride(n) and the
  /// entries between n and ld finite (zeros) — what `nn::conv2d` builds directly for policies that
  /// accept it, saving the transpose of the batch.
  template <HostExecutionSpace Exec = default_host_space>
  void multiply_rows(const S* xt, index_t ld, column_map<S> y, const Exec& exec = Exec{}) const {
    check_extent("frugal::sparse::bcr_matrix::multiply_rows", "y rows", y.rows(), m_rows);
    check(ld >= input_stride(y.cols()) || y.cols() == 0, "frugal::sparse::bcr_matrix::multiply_rows: stride ", ld,
          " is below input_stride(", y.cols(), ") = ", input_stride(y.cols()));
    product_rows(exec, xt, ld, y.cols(), y.data(), false);
  }

  /// `accumulate_gradient` with x given patch-major (see `multiply_rows`); n = dy.cols().
  template <HostExecutionSpace Exec = default_host_space>
  void accumulate_gradient_rows(const S* xt, index_t ld, const_column_map<S> dy, std::span<S> grad,
                                const Exec& exec = Exec{}) const {
    check_extent("frugal::sparse::bcr_matrix::accumulate_gradient_rows", "dy rows", dy.rows(), m_rows);
    check_extent("frugal::sparse::bcr_matrix::accumulate_gradient_rows", "gradient size",
                 static_cast<index_t>(grad.size()), nonzeros());
    check(ld >= dy.cols(), "frugal::sparse::bcr_matrix::accumulate_gradient_rows: stride ", ld, " below the batch ",
          dy.cols());
    if (dy.cols() == 0 || m_groups.empty()) return;
    gradient_rows(exec, xt, ld, dy, grad);
  }

  /// Writes the matrix under `prefix` (shape, blocks, groups, values): reloads without the
  /// dense matrix.
  void save(checkpoint_writer& out, const std::string& prefix) const {
    const std::int64_t shape[4] = {m_rows, m_cols, m_block_rows, m_block_cols};
    out.put<std::int64_t>(prefix + "#shape", shape);
    std::vector<std::int32_t> counts, indices;
    for (const auto& g : m_groups) {
      counts.push_back(static_cast<std::int32_t>(g.rows.size()));
      counts.push_back(static_cast<std::int32_t>(g.cols.size()));
      indices.insert(indices.end(), g.rows.begin(), g.rows.end());
      indices.insert(indices.end(), g.cols.begin(), g.cols.end());
    }
    out.put<std::int32_t>(prefix + "#counts", counts);
    out.put<std::int32_t>(prefix + "#indices", indices);
    out.put<S>(prefix + "#values", m_values);
  }

  /// Reads a matrix written by `save`; any inconsistency is a `format_error` naming the file.
  static bcr_matrix load(const checkpoint_reader& in, const std::string& prefix) {
    const std::string where = "frugal::sparse::bcr_matrix::load: '" + prefix + "'";
    auto fail_unless = [&](bool ok, const auto&... parts) {
      if (!ok) throw format_error(frugal::detail::concat(where, ": ", parts...), in.file(), 0);
    };
    const auto shape = in.get<std::int64_t>(prefix + "#shape");
    fail_unless(shape.size() == 4, "shape record has ", shape.size(), " entries, expected 4");
    fail_unless(shape[0] > 0 && shape[1] > 0 && shape[2] > 0 && shape[3] > 0 && shape[0] < (1LL << 31) &&
                    shape[1] < (1LL << 31),
                "invalid shape ", shape[0], "x", shape[1], " with blocks ", shape[2], "x", shape[3]);
    const auto counts = in.get<std::int32_t>(prefix + "#counts");
    const auto indices = in.get<std::int32_t>(prefix + "#indices");
    auto values = in.get<S>(prefix + "#values");
    fail_unless(counts.size() % 2 == 0, "odd number of group counts");
    bcr_matrix m;
    m.m_rows = shape[0];
    m.m_cols = shape[1];
    m.m_block_rows = shape[2];
    m.m_block_cols = shape[3];
    std::size_t at = 0;
    for (std::size_t k = 0; k < counts.size(); k += 2) {
      const std::int64_t nr = counts[k], nc = counts[k + 1];
      fail_unless(nr > 0 && nc > 0, "group ", k / 2, " has ", nr, " rows and ", nc, " columns");
      fail_unless(static_cast<std::int64_t>(indices.size() - at) >= nr + nc, "index record too short for group ",
                  k / 2);
      bcr_group g;
      g.rows.assign(indices.begin() + static_cast<std::ptrdiff_t>(at),
                    indices.begin() + static_cast<std::ptrdiff_t>(at + static_cast<std::size_t>(nr)));
      at += static_cast<std::size_t>(nr);
      g.cols.assign(indices.begin() + static_cast<std::ptrdiff_t>(at),
                    indices.begin() + static_cast<std::ptrdiff_t>(at + static_cast<std::size_t>(nc)));
      at += static_cast<std::size_t>(nc);
      for (std::size_t i = 0; i < g.rows.size(); ++i)
        fail_unless(g.rows[i] >= 0 && g.rows[i] < m.m_rows && (i == 0 || g.rows[i] > g.rows[i - 1]), "group ", k / 2,
                    ": row index ", g.rows[i], " out of range or not ascending");
      for (std::size_t j = 0; j < g.cols.size(); ++j)
        fail_unless(g.cols[j] >= 0 && g.cols[j] < m.m_cols && (j == 0 || g.cols[j] > g.cols[j - 1]), "group ", k / 2,
                    ": column index ", g.cols[j], " out of range or not ascending");
      fail_unless(g.cols.front() / m.m_block_cols == g.cols.back() / m.m_block_cols, "group ", k / 2,
                  " spans several column blocks");
      m.m_groups.push_back(std::move(g));
    }
    fail_unless(at == indices.size(), "index record has ", indices.size() - at, " trailing entries");
    const auto [row, column_block] = m.doubly_kept_row();
    fail_unless(row < 0, "row ", row, " appears in two groups of column block ", column_block);
    m.finish_layout();
    fail_unless(values.size() == m.m_values.size(), values.size(), " values for ", m.m_values.size(), " kept entries");
    m.m_values = std::move(values);
    return m;
  }

 private:
  /// The first (row, column block) that two groups — or one group twice — keep, or (−1, −1):
  /// every row of a block column belongs to one block at most.
  [[nodiscard]] std::pair<index_t, index_t> doubly_kept_row() const {
    const index_t col_blocks = (m_cols + m_block_cols - 1) / m_block_cols;
    std::vector<std::uint8_t> seen(static_cast<std::size_t>(m_rows * col_blocks), 0);
    for (const auto& g : m_groups) {
      const index_t cb = g.cols.front() / m_block_cols;
      for (auto r : g.rows) {
        auto& s = seen[static_cast<std::size_t>(r * col_blocks + cb)];
        if (s) return {r, cb};
        s = 1;
      }
    }
    return {-1, -1};
  }

  /// Value offsets of the groups, and the slots of the matrix-vector product (one per group,
  /// room for its rows or its columns).
  void finish_layout() {
    index_t offset = 0, slot = 0;
    m_slot_offsets.clear();
    for (auto& g : m_groups) {
      g.offset = offset;
      offset += g.size();
      m_slot_offsets.push_back(slot);
      slot += static_cast<index_t>(std::max(g.rows.size(), g.cols.size()));
    }
    m_slot_total = static_cast<std::size_t>(slot);
    std::vector<char> used(static_cast<std::size_t>(m_cols), 0);
    for (const auto& g : m_groups)
      for (auto c : g.cols) used[static_cast<std::size_t>(c)] = 1;
    m_used_cols.clear();
    for (index_t c = 0; c < m_cols; ++c)
      if (used[static_cast<std::size_t>(c)]) m_used_cols.push_back(static_cast<std::int32_t>(c));
    m_values.assign(static_cast<std::size_t>(offset), S(0));
  }

  /// out = W in (transposed: out = Wᵀ in) for a batch of n column-major samples.
  template <class Exec>
  void product(const Exec& exec, const S* in, index_t n, S* out, bool transposed) const {
    const index_t n_in = transposed ? m_rows : m_cols, n_out = transposed ? m_cols : m_rows;
    if (n == 0) return;
    if (n == 1) {
      // Matrix-vector: each group gathers its inputs once, computes its outputs into a private
      // slot (groups run in parallel), then the slots are scattered in a fixed order.
      m_yt.resize(m_slot_total);
      S* slots = m_yt.data();
      const bcr_group* groups = m_groups.data();
      const index_t* slot_at = m_slot_offsets.data();
      const S* vals = m_values.data();
      parallel_for("frugal::sparse::bcr_spmv", exec, static_cast<index_t>(m_groups.size()), [=](index_t k) {
        const auto& g = groups[k];
        const auto nr = static_cast<index_t>(g.rows.size()), nc = static_cast<index_t>(g.cols.size());
        if (!transposed)
          detail::group_gemv(vals + g.offset, nr, nc, g.cols.data(), in, slots + slot_at[k]);
        else
          detail::group_gemv_transposed(vals + g.offset, nr, nc, g.rows.data(), in, slots + slot_at[k]);
      });
      std::fill(out, out + n_out, S(0));
      for (std::size_t k = 0; k < m_groups.size(); ++k) {
        const auto& targets = transposed ? m_groups[k].cols : m_groups[k].rows;
        const S* s = slots + m_slot_offsets[k];
        for (std::size_t i = 0; i < targets.size(); ++i) out[targets[i]] += s[i];
      }
      return;
    }
    // Batched: transpose the input so every input row is a contiguous run of samples, then the
    // register-tiled kernels (product_rows).
    const index_t ld = input_stride(n);
    m_xt.resize(static_cast<std::size_t>(n_in * ld));
    detail::transpose_into(in, n_in, n, m_xt.data(), ld);
    if (ld > n)  // the padding samples of the last tile read zeros
      for (index_t r = 0; r < n_in; ++r) std::fill(m_xt.data() + r * ld + n, m_xt.data() + (r + 1) * ld, S(0));
    product_rows(exec, m_xt.data(), ld, n, out, transposed);
  }

  /// out = W in (transposed: Wᵀ in) with the input patch-major (row stride ld ≥ input_stride(n)).
  /// Tiles of samples run in parallel (they write disjoint columns); the result is transposed
  /// back into the column-major `out`.
  template <class Exec>
  void product_rows(const Exec& exec, const S* xt, index_t ld, index_t n, S* out, bool transposed) const {
    const index_t n_out = transposed ? m_cols : m_rows;
    if (n == 0) return;
    const index_t lanes = detail::simd_lanes<S>() * m_kernel.vector_tile;
    m_yt.assign(static_cast<std::size_t>(n_out * ld), S(0));
    S* yt = m_yt.data();
    const bcr_group* groups = m_groups.data();
    const auto n_groups = static_cast<index_t>(m_groups.size());
    const S* vals = m_values.data();
    const bcr_kernel_config cfg = m_kernel;
    parallel_for("frugal::sparse::bcr_spmm", exec, (n + lanes - 1) / lanes, [=](index_t tile) {
      const index_t s0 = tile * lanes;
      for (index_t k = 0; k < n_groups; ++k) {
        const auto& g = groups[k];
        const auto nr = static_cast<index_t>(g.rows.size()), nc = static_cast<index_t>(g.cols.size());
        if (!transposed)
          detail::group_tile(cfg, vals + g.offset, nc, 1, g.rows.data(), nr, g.cols.data(), nc, xt + s0, yt + s0, ld);
        else
          detail::group_tile(cfg, vals + g.offset, 1, nc, g.cols.data(), nc, g.rows.data(), nr, xt + s0, yt + s0, ld);
      }
    });
    detail::transpose_from(yt, n_out, n, ld, out);
  }

  /// The gradient of the kept values from a patch-major x and a column-major dy.
  template <class Exec>
  void gradient_rows(const Exec& exec, const S* xt, index_t ldx, const_column_map<S> dy, std::span<S> grad) const {
    const index_t n = dy.cols(), ldy = detail::padded_stride<S>(n);
    m_yt.resize(static_cast<std::size_t>(m_rows * ldy));
    detail::transpose_into(dy.data(), m_rows, n, m_yt.data(), ldy);
    const S* yt = m_yt.data();
    const bcr_group* groups = m_groups.data();
    S* g = grad.data();
    parallel_for("frugal::sparse::bcr_gradient", exec, static_cast<index_t>(m_groups.size()), [=](index_t k) {
      const auto& grp = groups[k];
      detail::group_gradient(grp.rows.data(), static_cast<index_t>(grp.rows.size()), grp.cols.data(),
                             static_cast<index_t>(grp.cols.size()), yt, ldy, xt, ldx, n, g + grp.offset);
    });
  }

  index_t m_rows = 0, m_cols = 0, m_block_rows = 1, m_block_cols = 1;
  std::vector<bcr_group> m_groups;
  std::vector<S> m_values;
  bcr_kernel_config m_kernel{};
  std::vector<index_t> m_slot_offsets;  // per group, into the matrix-vector scratch
  std::size_t m_slot_total = 0;
  std::vector<std::int32_t> m_used_cols;  // ascending union of the groups' columns
  mutable std::vector<S> m_xt, m_yt;      // scratch of the products
};

/// Plain serial products straight from the group lists, for tests and as documentation of what
/// the kernels compute.
namespace bcr_reference {

template <nn::Scalar S>
void multiply(const bcr_matrix<S>& w, const_column_map<S> x, column_map<S> y) {
  y.setZero();
  const auto v = w.values();
  for (index_t s = 0; s < x.cols(); ++s)
    for (const auto& g : w.groups())
      for (std::size_t i = 0; i < g.rows.size(); ++i)
        for (std::size_t j = 0; j < g.cols.size(); ++j)
          y(g.rows[i], s) += v[static_cast<std::size_t>(g.offset) + i * g.cols.size() + j] * x(g.cols[j], s);
}

template <nn::Scalar S>
void multiply_transposed(const bcr_matrix<S>& w, const_column_map<S> dy, column_map<S> dx) {
  dx.setZero();
  const auto v = w.values();
  for (index_t s = 0; s < dy.cols(); ++s)
    for (const auto& g : w.groups())
      for (std::size_t i = 0; i < g.rows.size(); ++i)
        for (std::size_t j = 0; j < g.cols.size(); ++j)
          dx(g.cols[j], s) += v[static_cast<std::size_t>(g.offset) + i * g.cols.size() + j] * dy(g.rows[i], s);
}

template <nn::Scalar S>
void accumulate_gradient(const bcr_matrix<S>& w, const_column_map<S> x, const_column_map<S> dy, std::span<S> grad) {
  for (const auto& g : w.groups())
    for (std::size_t i = 0; i < g.rows.size(); ++i)
      for (std::size_t j = 0; j < g.cols.size(); ++j)
        for (index_t s = 0; s < x.cols(); ++s)
          grad[static_cast<std::size_t>(g.offset) + i * g.cols.size() + j] += dy(g.rows[i], s) * x(g.cols[j], s);
}

}  // namespace bcr_reference

}  // namespace frugal::sparse
