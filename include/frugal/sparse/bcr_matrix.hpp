#pragma once
/// \file
/// `bcr_matrix`: a weight matrix with BCR (block-based column-row) sparsity, GRIM's pattern. The
/// matrix is tiled into block_rows x block_cols blocks; inside each block whole rows and whole
/// columns are pruned, so what survives is a small dense sub-block (kept rows x kept columns).
///
/// Storage is a list of *groups*, each a dense row-major sub-block with the absolute indices of
/// its rows and columns. Blocks of the same block column that keep the same column set are merged
/// into one group (GRIM's load-redundancy elimination: the input rows a group reads are loaded
/// once for all of its rows), so a group's rows may come from several block rows. The groups are
/// flattened into Kokkos Views in the manner of Kokkos Kernels' `CrsMatrix`: per group, offsets
/// into one array of row indices, one of column indices and one of values.
///
/// Products (`y = W x`, `dx = Wᵀ dy`, the gradient of the kept values) run on batches of
/// column-major activations (each column one sample, as frugal/nn passes them) through xsimd
/// micro-kernels; `bcr_reference` (`bcr_reference.hpp`) holds the plain serial versions the tests compare against.

#include <Kokkos_Core.hpp>

#include <algorithm>
#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "../core/checkpoint.hpp"
#include "../core/error.hpp"
#include "../core/execution.hpp"
#include "../core/parallel.hpp"
#include "../nn/tensor.hpp"
#include "bcr_group.hpp"
#include "bcr_kernels.hpp"
#include "bcr_pattern.hpp"
#include "detail/bcr_layout.hpp"

namespace frugal::sparse {

using nn::column_map;
using nn::const_column_map;
using nn::matrix;

/// A rows x cols matrix with BCR sparsity.
///
/// Parallelism: products run on the host execution space passed to them. Batched products split
/// the output into (band of output rows) x (tile of samples) tasks, each summing its groups in
/// group order, so every output value is computed the same way for any thread count; the
/// matrix-vector product runs groups in parallel into private slots scattered in a fixed order,
/// the gradient runs groups in parallel (each writes its own values).
///
/// Thread safety: the products use scratch buffers held by the object, so one object must not
/// run two products at the same time from several host threads (distinct objects are
/// independent).
/// \tparam S float or double
template <nn::Scalar S>
class bcr_matrix {
 public:
  using scalar_type = S;
  /// Host memory: the kernels are xsimd host kernels; the layout is Kokkos Kernels' CrsMatrix's.
  using memory_space = Kokkos::HostSpace;
  using offset_view = Kokkos::View<index_t*, memory_space>;
  using index_view = Kokkos::View<std::int32_t*, memory_space>;
  using value_view = Kokkos::View<S*, memory_space>;

  bcr_matrix() = default;

  /// Keeps the entries of `w` selected by `pattern` (from `bcr_sparsity::select`, ADMM's
  /// BCR projection, or built by hand).
  static bcr_matrix from_pattern(const matrix<S>& w, const bcr_pattern& pattern) {
    bcr_matrix m;
    m.m_rows = w.rows();
    m.m_cols = w.cols();
    m.m_block_rows = pattern.block_rows;
    m.m_block_cols = pattern.block_cols;
    const detail::group_lists groups = detail::merge_blocks(pattern, w.rows(), w.cols());
    m.set_groups(groups.rows, groups.cols);
    const auto [row, column_block] = detail::doubly_kept_row(m.groups(), m.m_rows, m.m_cols, m.m_block_cols);
    check(row < 0, "frugal::sparse::bcr_matrix::from_pattern: overlapping blocks keep row ", row,
          " twice in column block ", column_block);
    m.finish_layout();
    m.assign_from_dense(w);
    return m;
  }

  /// Prunes `w` with `sparsity` (magnitude-based BCR selection inside each block, the same
  /// projection ADMM uses) and keeps the selected entries.
  static bcr_matrix from_dense(const matrix<S>& w, const bcr_sparsity& sparsity) {
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
    return from_pattern(w, bcr_pattern::of_mask(mask, block_rows, block_cols));
  }

  [[nodiscard]] index_t rows() const noexcept { return m_rows; }
  [[nodiscard]] index_t cols() const noexcept { return m_cols; }
  [[nodiscard]] index_t block_rows() const noexcept { return m_block_rows; }
  [[nodiscard]] index_t block_cols() const noexcept { return m_block_cols; }
  [[nodiscard]] index_t nonzeros() const noexcept { return static_cast<index_t>(m_values.extent(0)); }
  /// The columns some block keeps, ascending: the only input rows `multiply` reads (a caller that
  /// builds the input, like `conv2d`'s patches, may skip the others).
  [[nodiscard]] std::span<const std::int32_t> used_columns() const noexcept { return m_used_cols; }
  [[nodiscard]] double density() const noexcept {
    return m_rows > 0 && m_cols > 0 ? static_cast<double>(nonzeros()) / static_cast<double>(m_rows * m_cols) : 0.0;
  }
  /// The groups, as views into the flattened storage.
  [[nodiscard]] bcr_group_list<bcr_matrix> groups() const noexcept { return bcr_group_list<bcr_matrix>(*this); }
  /// Number of groups.
  [[nodiscard]] index_t group_count() const noexcept {
    return m_row_map.extent(0) > 0 ? static_cast<index_t>(m_row_map.extent(0)) - 1 : 0;
  }
  /// Group `k`, viewed.
  [[nodiscard]] bcr_group group(index_t k) const noexcept {
    const index_t r0 = m_row_map(k), r1 = m_row_map(k + 1), c0 = m_col_map(k), c1 = m_col_map(k + 1);
    return {{m_row_ids.data() + r0, static_cast<std::size_t>(r1 - r0)},
            {m_col_ids.data() + c0, static_cast<std::size_t>(c1 - c0)},
            m_value_map(k)};
  }
  /// The flattened storage: group k's rows are row_ids[row_map[k] .. row_map[k+1]), its columns
  /// col_ids[col_map[k] .. col_map[k+1]), its values start at value_map[k].
  [[nodiscard]] const offset_view& row_map() const noexcept { return m_row_map; }
  [[nodiscard]] const offset_view& col_map() const noexcept { return m_col_map; }
  [[nodiscard]] const offset_view& value_map() const noexcept { return m_value_map; }
  [[nodiscard]] const index_view& row_ids() const noexcept { return m_row_ids; }
  [[nodiscard]] const index_view& col_ids() const noexcept { return m_col_ids; }
  [[nodiscard]] const value_view& value_view_of() const noexcept { return m_values; }

  /// The kept values, group after group, each group row-major. Writable: training updates them.
  [[nodiscard]] std::span<S> values() noexcept { return {m_values.data(), m_values.extent(0)}; }
  [[nodiscard]] std::span<const S> values() const noexcept { return {m_values.data(), m_values.extent(0)}; }

  /// Bytes held: values, row and column indices, group offsets.
  [[nodiscard]] std::size_t storage_bytes() const noexcept {
    return m_values.extent(0) * sizeof(S) + (m_row_ids.extent(0) + m_col_ids.extent(0)) * sizeof(std::int32_t) +
           static_cast<std::size_t>(group_count()) * sizeof(index_t);
  }

  /// The dense matrix (zeros where pruned).
  [[nodiscard]] matrix<S> to_dense() const {
    matrix<S> w = matrix<S>::Zero(m_rows, m_cols);
    for (const auto g : groups())
      for (std::size_t i = 0; i < g.rows.size(); ++i)
        for (std::size_t j = 0; j < g.cols.size(); ++j)
          w(g.rows[i], g.cols[j]) = m_values(g.offset + static_cast<index_t>(i * g.cols.size() + j));
    return w;
  }

  /// The 0/1 mask of kept entries.
  [[nodiscard]] matrix<S> mask() const {
    matrix<S> m = matrix<S>::Zero(m_rows, m_cols);
    for (const auto g : groups())
      for (auto r : g.rows)
        for (auto c : g.cols) m(r, c) = S(1);
    return m;
  }

  /// Overwrites the kept values from a dense matrix of the same shape (entries outside the
  /// pattern are ignored).
  void assign_from_dense(const matrix<S>& w) {
    check_extent("frugal::sparse::bcr_matrix::assign_from_dense", "rows", w.rows(), m_rows);
    check_extent("frugal::sparse::bcr_matrix::assign_from_dense", "cols", w.cols(), m_cols);
    for (const auto g : groups())
      for (std::size_t i = 0; i < g.rows.size(); ++i)
        for (std::size_t j = 0; j < g.cols.size(); ++j)
          m_values(g.offset + static_cast<index_t>(i * g.cols.size() + j)) = w(g.rows[i], g.cols[j]);
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
    if (n == 0 || group_count() == 0) return;
    const index_t ld = detail::padded_stride<S>(n);
    m_xt.resize(static_cast<std::size_t>(m_cols * ld));
    detail::transpose_into(exec, x.data(), m_cols, n, m_xt.data(), ld);
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
    if (dy.cols() == 0 || group_count() == 0) return;
    gradient_rows(exec, xt, ld, dy, grad);
  }

  /// Writes the matrix under `prefix` (shape, blocks, groups, values): reloads without the
  /// dense matrix.
  void save(checkpoint_writer& out, const std::string& prefix) const;  // bcr_matrix_io.hpp

  /// Reads a matrix written by `save`; any inconsistency is a `format_error` naming the file.
  static bcr_matrix load(const checkpoint_reader& in, const std::string& prefix);  // bcr_matrix_io.hpp

 private:
  [[nodiscard]] detail::group_arrays<S> arrays() const noexcept {
    return {m_row_map.data(), m_col_map.data(), m_value_map.data(), m_row_ids.data(),
            m_col_ids.data(), m_values.data(),  group_count()};
  }

  /// A host View of n elements left uninitialised: no execution space runs for it, so a matrix
  /// can be built inside another parallel dispatch (an example's job), where Kokkos refuses to
  /// initialise a View on the parallel space.
  template <class V>
  static V uninitialized(const char* label, std::size_t n) {
    return V(Kokkos::view_alloc(Kokkos::WithoutInitializing, std::string(label)), n);
  }

  /// Flattens per-group row and column lists into the row, column and value maps.
  void set_groups(const std::vector<std::vector<std::int32_t>>& rows,
                  const std::vector<std::vector<std::int32_t>>& cols) {
    const std::size_t count = rows.size();
    m_row_map = uninitialized<offset_view>("frugal::sparse::bcr_matrix::row_map", count + 1);
    m_col_map = uninitialized<offset_view>("frugal::sparse::bcr_matrix::col_map", count + 1);
    m_value_map = uninitialized<offset_view>("frugal::sparse::bcr_matrix::value_map", count + 1);
    m_row_map(0) = m_col_map(0) = m_value_map(0) = 0;
    for (std::size_t k = 0; k < count; ++k) {
      m_row_map(k + 1) = m_row_map(k) + static_cast<index_t>(rows[k].size());
      m_col_map(k + 1) = m_col_map(k) + static_cast<index_t>(cols[k].size());
      m_value_map(k + 1) = m_value_map(k) + static_cast<index_t>(rows[k].size() * cols[k].size());
    }
    m_row_ids =
        uninitialized<index_view>("frugal::sparse::bcr_matrix::row_ids", static_cast<std::size_t>(m_row_map(count)));
    m_col_ids =
        uninitialized<index_view>("frugal::sparse::bcr_matrix::col_ids", static_cast<std::size_t>(m_col_map(count)));
    for (std::size_t k = 0; k < count; ++k) {
      std::copy(rows[k].begin(), rows[k].end(), m_row_ids.data() + m_row_map(k));
      std::copy(cols[k].begin(), cols[k].end(), m_col_ids.data() + m_col_map(k));
    }
  }

  /// The slots of the matrix-vector product (one per group, room for its rows or its columns),
  /// the used columns, and zero values.
  void finish_layout() {
    index_t slot = 0;
    m_slot_offsets.clear();
    for (const auto g : groups()) {
      m_slot_offsets.push_back(slot);
      slot += static_cast<index_t>(std::max(g.rows.size(), g.cols.size()));
    }
    m_slot_total = static_cast<std::size_t>(slot);
    std::vector<char> used(static_cast<std::size_t>(m_cols), 0);
    for (const auto g : groups())
      for (auto c : g.cols) used[static_cast<std::size_t>(c)] = 1;
    m_used_cols.clear();
    for (index_t c = 0; c < m_cols; ++c)
      if (used[static_cast<std::size_t>(c)]) m_used_cols.push_back(static_cast<std::int32_t>(c));
    const index_t count = group_count();
    m_values = uninitialized<value_view>("frugal::sparse::bcr_matrix::values",
                                         static_cast<std::size_t>(count > 0 ? m_value_map(count) : 0));
    std::fill_n(m_values.data(), m_values.extent(0), S(0));
  }

  /// out = W in (transposed: out = Wᵀ in) for a batch of n column-major samples.
  template <HostExecutionSpace Exec>
  void product(const Exec& exec, const S* in, index_t n, S* out, bool transposed) const {
    const index_t n_in = transposed ? m_rows : m_cols, n_out = transposed ? m_cols : m_rows;
    if (n == 0) return;
    if (n == 1) {
      m_yt.resize(m_slot_total);
      detail::groups_gemv(exec, arrays(), m_slot_offsets.data(), m_yt.data(), in, n_out, out, transposed);
      return;
    }
    // Batched: the input transposed so every input row is a contiguous run of samples, then the
    // register-tiled kernels. Every task reads all of the transposed input, so each thread makes
    // its own copy when it takes its first task (Kokkos' UniqueToken numbers the threads): reading
    // rows another core has just written costs more than transposing them again.
    const index_t ld = input_stride(n);
    Kokkos::Experimental::UniqueToken<Exec> token(exec);
    const auto copies = static_cast<std::size_t>(std::max(1, token.size()));
    const auto copy_size = static_cast<std::size_t>(n_in * ld);
    m_xt.resize(copies * copy_size);
    m_copy_ready.assign(copies, 0);
    S* xt = m_xt.data();
    char* ready = m_copy_ready.data();
    product_tasks(
        exec, n, transposed,
        [=](index_t) {
          const int id = token.acquire();
          S* mine = xt + static_cast<std::size_t>(id) * copy_size;
          if (!ready[id]) {
            detail::transpose_into(Kokkos::Serial{}, in, n_in, n, mine, ld);
            for (index_t r = 0; r < n_in; ++r) std::fill(mine + r * ld + n, mine + (r + 1) * ld, S(0));
            ready[id] = 1;
          }
          token.release(id);
          return static_cast<const S*>(mine);
        },
        ld, out);
  }

  /// out = W in (transposed: Wᵀ in) with the input patch-major (row stride ld ≥ input_stride(n)).
  template <HostExecutionSpace Exec>
  void product_rows(const Exec& exec, const S* xt, index_t ld, index_t n, S* out, bool transposed) const {
    product_tasks(
        exec, n, transposed, [=](index_t) { return xt; }, ld, out);
  }

  /// The batched product's tasks: (band of outputs) x (tile of samples). Each reads the patch-major
  /// input that `input(task)` returns (row stride ld), zeroes its part of the transposed output,
  /// adds every group's contribution in group order, and tasks never share an output; the result
  /// is transposed back into the column-major `out`.
  template <HostExecutionSpace Exec, class Input>
  void product_tasks(const Exec& exec, index_t n, bool transposed, const Input& input, index_t ld, S* out) const {
    const index_t n_out = transposed ? m_cols : m_rows;
    if (n == 0) return;
    const index_t lanes = detail::simd_lanes<S>() * m_kernel.vector_tile;
    const index_t tiles = (n + lanes - 1) / lanes;
    const index_t bands = detail::output_bands(m_rows, m_cols, m_block_rows, m_block_cols, tiles, transposed);
    // Band b covers whole blocks: outputs [b·per_band, (b+1)·per_band) ∩ [0, n_out).
    const index_t block = transposed ? m_block_cols : m_block_rows;
    const index_t blocks = (n_out + block - 1) / block;
    const index_t per_band = (blocks + bands - 1) / bands * block;
    m_yt.resize(static_cast<std::size_t>(n_out * ld));
    S* yt = m_yt.data();
    detail::band_plan& plan = transposed ? m_transposed_plan : m_plan;
    plan.rebuild(groups(), bands, per_band, transposed);
    const index_t* band_at = plan.offsets.data();
    const detail::band_entry* entries = plan.entries.data();
    const detail::group_arrays<S> a = arrays();
    const bcr_kernel_config cfg = m_kernel;
    parallel_for("frugal::sparse::bcr_spmm", exec, tiles * bands, [=](index_t task) {
      const S* xt = input(task);
      const index_t tile = task / bands, band = task % bands;
      const index_t s0 = tile * lanes, o0 = band * per_band, o1 = std::min(n_out, o0 + per_band);
      for (index_t o = o0; o < o1; ++o) std::fill(yt + o * ld + s0, yt + o * ld + s0 + lanes, S(0));
      for (index_t e = band_at[band]; e < band_at[band + 1]; ++e) {
        const index_t k = entries[e].group, lo = entries[e].lo, hi = entries[e].hi;
        const std::int32_t* rows = a.row_ids + a.row_map[k];
        const std::int32_t* cols = a.col_ids + a.col_map[k];
        const index_t nc = a.col_map[k + 1] - a.col_map[k];
        const S* w = a.values + a.value_map[k];
        if (!transposed)
          detail::group_tile(cfg, w + lo * nc, nc, 1, rows + lo, hi - lo, cols, nc, xt + s0, yt + s0, ld);
        else
          detail::group_tile(cfg, w, 1, nc, cols, nc, rows + lo, hi - lo, xt + s0, yt + s0, ld);
      }
    });
    detail::transpose_from(exec, yt, n_out, n, ld, out);
  }

  /// The gradient of the kept values from a patch-major x and a column-major dy; groups in
  /// parallel (each writes its own values).
  template <HostExecutionSpace Exec>
  void gradient_rows(const Exec& exec, const S* xt, index_t ldx, const_column_map<S> dy, std::span<S> grad) const {
    const index_t n = dy.cols(), ldy = detail::padded_stride<S>(n);
    m_yt.resize(static_cast<std::size_t>(m_rows * ldy));
    detail::transpose_into(exec, dy.data(), m_rows, n, m_yt.data(), ldy);
    const S* yt = m_yt.data();
    S* g = grad.data();
    const detail::group_arrays<S> a = arrays();
    parallel_for("frugal::sparse::bcr_gradient", exec, a.count, [=](index_t k) {
      detail::group_gradient(a.row_ids + a.row_map[k], a.row_map[k + 1] - a.row_map[k], a.col_ids + a.col_map[k],
                             a.col_map[k + 1] - a.col_map[k], yt, ldy, xt, ldx, n, g + a.value_map[k]);
    });
  }

  index_t m_rows = 0, m_cols = 0, m_block_rows = 1, m_block_cols = 1;
  offset_view m_row_map, m_col_map, m_value_map;  // per group: offsets into the three arrays below
  index_view m_row_ids, m_col_ids;
  value_view m_values;
  bcr_kernel_config m_kernel{};
  std::vector<index_t> m_slot_offsets;  // per group, into the matrix-vector scratch
  std::size_t m_slot_total = 0;
  std::vector<std::int32_t> m_used_cols;                // ascending union of the groups' columns
  mutable std::vector<S> m_xt, m_yt;                    // scratch of the products
  mutable std::vector<char> m_copy_ready;               // per thread: its copy of the transposed input is made
  mutable detail::band_plan m_plan, m_transposed_plan;  // groups per output band of the batched products
};

}  // namespace frugal::sparse

// The checkpoint I/O members, defined out of the class; included here so that every user of the
// matrix has them.
#include "bcr_matrix_io.hpp"
// The serial reference products, still reachable from this header for code written before they
// had their own.
#include "bcr_reference.hpp"
