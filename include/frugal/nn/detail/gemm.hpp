#pragma once
/// \file
/// Dense products on a host execution space: Eigen's single-threaded GEMM kernel on chunks whose
/// boundaries depend on the shapes alone, the chunks run in parallel on the space. Eigen's own
/// OpenMP threading is never entered (its high-level product spawns threads of its own when
/// compiled with OpenMP and called outside a parallel region, which would put hidden threads under
/// a Kokkos::Serial run); every element is summed in the same order for any thread count.

#include <Eigen/Core>

#include <algorithm>
#include <vector>

#include "../../core/execution.hpp"
#include "../../core/parallel.hpp"

namespace frugal::nn::detail {

/// A dense operand: element (i, j) at data[i·row_stride + j·col_stride] with one of the strides 1.
template <class S>
struct dense_operand {
  const S* data;
  index_t stride;  ///< leading dimension
  bool row_major;  ///< element (i, j) at data[i·stride + j] (else data[i + j·stride])

  /// The operand starting at (i, j).
  [[nodiscard]] dense_operand at(index_t i, index_t j) const noexcept {
    return {row_major ? data + i * stride + j : data + i + j * stride, stride, row_major};
  }
  /// The transpose, as an operand over the same memory.
  [[nodiscard]] dense_operand transposed() const noexcept { return {data, stride, !row_major}; }
};

/// C += A·B on one thread, C column-major m × n with leading dimension ldc, A m × k, B k × n.
template <class S>
void gemm_accumulate_serial(index_t m, index_t n, index_t k, dense_operand<S> a, dense_operand<S> b, S* c,
                            index_t ldc) {
  if (m <= 0 || n <= 0 || k <= 0) return;
  using Eigen::ColMajor;
  using Eigen::Dynamic;
  using Eigen::RowMajor;
  Eigen::internal::gemm_blocking_space<ColMajor, S, S, Dynamic, Dynamic, Dynamic, 1, false> blocking(m, n, k, 1, true);
  auto run = [&](auto a_order, auto b_order) {
    Eigen::internal::general_matrix_matrix_product<Eigen::Index, S, decltype(a_order)::value, false, S,
                                                   decltype(b_order)::value, false, ColMajor, 1>::run(m, n, k, a.data,
                                                                                                      a.stride, b.data,
                                                                                                      b.stride, c, 1,
                                                                                                      ldc, S(1),
                                                                                                      blocking,
                                                                                                      nullptr);
  };
  using row = std::integral_constant<int, RowMajor>;
  using col = std::integral_constant<int, ColMajor>;
  if (a.row_major)
    b.row_major ? run(row{}, row{}) : run(row{}, col{});
  else
    b.row_major ? run(col{}, row{}) : run(col{}, col{});
}

/// Columns of C per chunk of a product whose one column costs `m·k` multiply-adds: at least 16
/// (Eigen's kernels work on several columns at once) and enough work to pay for a dispatch.
[[nodiscard]] constexpr index_t gemm_column_grain(index_t m, index_t k) noexcept {
  return std::max<index_t>(16, grain_for(m * k, index_t{1} << 17));
}

/// C = A·B (or C += A·B with `accumulate`), C column-major m × n (ldc), split over columns of C
/// into shape-determined chunks run in parallel on `exec`.
template <class S, HostExecutionSpace Exec>
void gemm(const Exec& exec, index_t m, index_t n, index_t k, dense_operand<S> a, dense_operand<S> b, S* c, index_t ldc,
          bool accumulate = false) {
  if (m <= 0 || n <= 0) return;
  parallel_for_chunks("frugal::nn::gemm", exec, n, gemm_column_grain(m, k), [=](index_t j0, index_t j1) {
    S* cj = c + j0 * ldc;
    if (!accumulate)
      for (index_t j = 0; j < j1 - j0; ++j) std::fill_n(cj + j * ldc, m, S(0));
    gemm_accumulate_serial(m, j1 - j0, k, a, b.at(0, j0), cj, ldc);
  });
}

/// G += A·B where the inner dimension k (the batch, for a weight gradient dW += dy·xᵀ) is long and
/// G (m × n, row-major, ldg) is small: when G is large enough to split, chunks of G's rows run in
/// parallel, each with the whole k; otherwise k is split into shape-determined chunks whose
/// partial products are added into G in chunk order. Either way the result does not depend on
/// the thread count.
template <class S, HostExecutionSpace Exec>
void gemm_reduce(const Exec& exec, index_t m, index_t n, index_t k, dense_operand<S> a, dense_operand<S> b, S* g,
                 index_t ldg, std::vector<S>& scratch) {
  if (m <= 0 || n <= 0 || k <= 0) return;
  // G row-major = Gᵀ column-major: Gᵀ (n × m) += Bᵀ·Aᵀ.
  const auto bt = b.transposed(), at = a.transposed();
  constexpr index_t min_rows = 16;
  if (m >= 2 * min_rows) {
    const index_t grain = std::max(min_rows, grain_for(n * k, index_t{1} << 18));
    parallel_for_chunks("frugal::nn::gemm_reduce_rows", exec, m, grain, [=](index_t r0, index_t r1) {
      gemm_accumulate_serial(n, r1 - r0, k, bt, at.at(0, r0), g + r0 * ldg, ldg);
    });
    return;
  }
  const index_t grain = std::max<index_t>(64, grain_for(m * n, index_t{1} << 18));
  const chunking parts{k, grain};
  const index_t count = parts.count();
  if (count <= 1) {
    gemm_accumulate_serial(n, m, k, bt, at, g, ldg);
    return;
  }
  const index_t block = m * n;
  scratch.assign(static_cast<std::size_t>(count * block), S(0));
  S* partial = scratch.data();
  parallel_for("frugal::nn::gemm_reduce_partials", exec, count, [=](index_t c) {
    const index_t k0 = parts.begin(c);
    gemm_accumulate_serial(n, m, parts.end(c) - k0, bt.at(0, k0), at.at(k0, 0), partial + c * block, n);
  });
  // Partials are n × m column-major (= m × n row-major, stride n); add them in chunk order.
  parallel_for_chunks("frugal::nn::gemm_reduce_sum", exec, m, std::max<index_t>(1, grain_for(n * count)),
                      [=](index_t r0, index_t r1) {
                        for (index_t r = r0; r < r1; ++r)
                          for (index_t c = 0; c < count; ++c) {
                            const S* p = partial + c * block + r * n;
                            S* row = g + r * ldg;
                            for (index_t j = 0; j < n; ++j) row[j] += p[j];
                          }
                      });
}

}  // namespace frugal::nn::detail
