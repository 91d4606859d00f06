#pragma once
/// \file
/// Sparse × dense products Y = A X for graph aggregation: A a `csr_graph`, X and Y row-major
/// (one row per node, features contiguous), as GNN activations are laid out.
///
/// Rows of Y are independent, so the host kernel hands whole rows to threads and each row sums
/// its neighbours in storage order: the result is bit-identical on any thread count. The inner
/// loop keeps a slice of the output row in SIMD registers while it streams the neighbours' rows,
/// so each output element is written once rather than once per neighbour.

#include <Kokkos_Core.hpp>
#include <xsimd/xsimd.hpp>

#include <algorithm>
#include <cstdint>
#include <string>

#include "../core/error.hpp"
#include "../core/execution.hpp"
#include "../core/parallel.hpp"
#include "csr_graph.hpp"

namespace frugal::graph {

/// A row-major n × f block of node features in memory space `M`, possibly a wrapper around
/// memory someone else owns (an `nn::tensor`, an Eigen matrix).
template <class S, class M = Kokkos::HostSpace>
using features_view = Kokkos::View<S**, Kokkos::LayoutRight, M, Kokkos::MemoryTraits<Kokkos::Unmanaged>>;

namespace detail {

/// Output rows [r0, r1) of A X, all features, row i written at y + (i − y_first_row)·ldy. For each run of U SIMD
/// batches of features the accumulators stay in registers while the row's neighbours stream past, so each output
/// element is written once; wide runs first (fewest passes over the neighbour list), then single batches, then a scalar
/// tail. Which path a feature takes depends on f alone, so the bits do too.
template <class S>
inline void spmm_rows(const index_t* row_map, const std::int32_t* entries, const S* values, const S* x, index_t ldx,
                      S* y, index_t ldy, index_t f, index_t r0, index_t r1, index_t y_first_row = 0) {
  using batch = xsimd::batch<S>;
  constexpr index_t B = static_cast<index_t>(batch::size);
  for (index_t i = r0; i < r1; ++i) {
    const index_t k0 = row_map[i], k1 = row_map[i + 1];
    S* yr = y + (i - y_first_row) * ldy;
    index_t j = 0;
    for (; j + 4 * B <= f; j += 4 * B) {
      batch a0(S(0)), a1(S(0)), a2(S(0)), a3(S(0));
      for (index_t k = k0; k < k1; ++k) {
        const batch v(values[k]);
        const S* xr = x + static_cast<index_t>(entries[k]) * ldx + j;
        a0 = xsimd::fma(v, batch::load_unaligned(xr), a0);
        a1 = xsimd::fma(v, batch::load_unaligned(xr + B), a1);
        a2 = xsimd::fma(v, batch::load_unaligned(xr + 2 * B), a2);
        a3 = xsimd::fma(v, batch::load_unaligned(xr + 3 * B), a3);
      }
      a0.store_unaligned(yr + j);
      a1.store_unaligned(yr + j + B);
      a2.store_unaligned(yr + j + 2 * B);
      a3.store_unaligned(yr + j + 3 * B);
    }
    for (; j + B <= f; j += B) {
      batch a0(S(0));
      for (index_t k = k0; k < k1; ++k)
        a0 = xsimd::fma(batch(values[k]), batch::load_unaligned(x + static_cast<index_t>(entries[k]) * ldx + j), a0);
      a0.store_unaligned(yr + j);
    }
    if (j < f) {
      S acc[B] = {};
      const index_t width = f - j;
      for (index_t k = k0; k < k1; ++k) {
        const S v = values[k];
        const S* xr = x + static_cast<index_t>(entries[k]) * ldx + j;
        for (index_t t = 0; t < width; ++t) acc[t] += v * xr[t];
      }
      for (index_t t = 0; t < width; ++t) yr[j + t] = acc[t];
    }
  }
}

template <class X, class Y>
inline void check_spmm_shapes(const char* where, index_t n, const X& x, const Y& y) {
  check_extent(where, "X rows vs nodes", static_cast<index_t>(x.extent(0)), n);
  check_extent(where, "Y rows vs nodes", static_cast<index_t>(y.extent(0)), n);
  check_extent(where, "Y columns vs X columns", static_cast<index_t>(y.extent(1)), static_cast<index_t>(x.extent(1)));
  check(x.data() != y.data() || x.extent(0) * x.extent(1) == 0, where,
        ": X and Y are the same memory; the product cannot run in place");
}

}  // namespace detail

/// Y = A X on `exec`. X and Y are n × f row-major Views that `exec` can access, and must not
/// overlap. Bit-identical for any thread count on host spaces (each row sums in storage order).
/// \throws shape_error when the extents disagree
template <ExecutionSpace Exec, Scalar S, class M, View X, View Y>
requires(X::rank == 2 && Y::rank == 2) inline void spmm(const Exec& exec, const csr_graph<S, M>& a, const X& x,
                                                        const Y& y) {
  static_assert(Kokkos::SpaceAccessibility<Exec, M>::accessible,
                "frugal::graph::spmm: the graph's memory space is not accessible from the execution space");
  static_assert(std::is_same_v<typename X::array_layout, Kokkos::LayoutRight> &&
                    std::is_same_v<typename Y::array_layout, Kokkos::LayoutRight>,
                "frugal::graph::spmm: X and Y must be row-major (LayoutRight)");
  detail::check_spmm_shapes("frugal::graph::spmm", a.num_nodes(), x, y);
  const index_t n = a.num_nodes(), f = static_cast<index_t>(x.extent(1));
  if (n == 0 || f == 0) return;
  const index_t* row_map = a.row_map().data();
  const std::int32_t* entries = a.entries().data();
  const S* values = a.values().data();
  const S* xd = x.data();
  S* yd = y.data();
  const index_t ldx = static_cast<index_t>(x.stride(0)), ldy = static_cast<index_t>(y.stride(0));
  if constexpr (HostExecutionSpace<Exec>) {
    const index_t per_row = std::max<index_t>(1, a.num_entries() / n) * f;
    parallel_for_chunks("frugal::graph::spmm", exec, n, grain_for(per_row), [=](index_t r0, index_t r1) {
      detail::spmm_rows(row_map, entries, values, xd, ldx, yd, ldy, f, r0, r1);
    });
  } else {
    // One thread per output element: consecutive threads read consecutive features of the same
    // neighbour row, which coalesces on a GPU.
    Kokkos::parallel_for(
        "frugal::graph::spmm", Kokkos::RangePolicy<Exec, Kokkos::IndexType<index_t>>(exec, 0, n * f),
        KOKKOS_LAMBDA(index_t e) {
          const index_t i = e / f, j = e % f;
          S acc = 0;
          for (index_t k = row_map[i]; k < row_map[i + 1]; ++k) acc += values[k] * xd[entries[k] * ldx + j];
          yd[i * ldy + j] = acc;
        });
  }
}

/// Y = A X on the execution space of Y's memory (the convenience overload, derived from the View).
template <Scalar S, class M, View X, View Y>
requires(X::rank == 2 && Y::rank == 2) inline void spmm(const csr_graph<S, M>& a, const X& x, const Y& y) {
  spmm(execution_space_of_t<Y>{}, a, x, y);
}

/// Y = A[first:last, :] X: the rows of one chunk of nodes, which GNNPipe aggregates at a time
/// (Y has last − first rows). Host spaces; the same kernel and bits as `spmm` for those rows.
template <HostExecutionSpace Exec, Scalar S, View X, View Y>
requires(X::rank == 2 && Y::rank == 2) inline void spmm_rows(const Exec& exec, const csr_graph<S, Kokkos::HostSpace>& a,
                                                             index_t first, index_t last, const X& x, const Y& y) {
  constexpr auto where = "frugal::graph::spmm_rows";
  check(0 <= first && first <= last && last <= a.num_nodes(), where, ": rows [", first, ", ", last, ") of ",
        a.num_nodes());
  check_extent(where, "X rows vs nodes", static_cast<index_t>(x.extent(0)), a.num_nodes());
  check_extent(where, "Y rows vs row range", static_cast<index_t>(y.extent(0)), last - first);
  check_extent(where, "Y columns vs X columns", static_cast<index_t>(y.extent(1)), static_cast<index_t>(x.extent(1)));
  const index_t f = static_cast<index_t>(x.extent(1));
  if (last == first || f == 0) return;
  const index_t* row_map = a.row_map().data();
  const std::int32_t* entries = a.entries().data();
  const S* values = a.values().data();
  const S* xd = x.data();
  S* yd = y.data();
  const index_t ldx = static_cast<index_t>(x.stride(0)), ldy = static_cast<index_t>(y.stride(0));
  const index_t per_row = std::max<index_t>(1, a.num_entries() / std::max<index_t>(1, a.num_nodes())) * f;
  parallel_for_chunks("frugal::graph::spmm_rows", exec, last - first, grain_for(per_row), [=](index_t r0, index_t r1) {
    detail::spmm_rows(row_map, entries, values, xd, ldx, yd, ldy, f, first + r0, first + r1, first);
  });
}

/// Y[j, :] += Σ_{i ∈ [first, last)} A[i, j] · D[i − first, :] for the rows j in
/// [row_first, row_last): the backward of `spmm_rows` (the gradient a chunk's rows send to the
/// nodes they read), for a range of those nodes — GNNPipe sends the gradient of historical
/// (later-chunk) rows to another buffer than the current ones'. Takes `at` = Aᵀ, so that each
/// output row is one thread's: deterministic on any thread count.
template <HostExecutionSpace Exec, Scalar S, View D, View Y>
requires(D::rank == 2 && Y::rank == 2) inline void spmm_transpose_accumulate(const Exec& exec,
                                                                             const csr_graph<S, Kokkos::HostSpace>& at,
                                                                             index_t first, index_t last, const D& d,
                                                                             const Y& y, index_t row_first,
                                                                             index_t row_last) {
  constexpr auto where = "frugal::graph::spmm_transpose_accumulate";
  check(0 <= first && first <= last && last <= at.num_nodes() && 0 <= row_first && row_first <= row_last &&
            row_last <= at.num_nodes(),
        where, ": columns [", first, ", ", last, ") and rows [", row_first, ", ", row_last, ") for ", at.num_nodes(),
        " nodes");
  check_extent(where, "D rows vs column range", static_cast<index_t>(d.extent(0)), last - first);
  check_extent(where, "Y rows vs nodes", static_cast<index_t>(y.extent(0)), at.num_nodes());
  check_extent(where, "Y columns vs D columns", static_cast<index_t>(y.extent(1)), static_cast<index_t>(d.extent(1)));
  const index_t f = static_cast<index_t>(d.extent(1));
  if (last == first || f == 0 || row_last == row_first) return;
  const index_t* row_map = at.row_map().data();
  const std::int32_t* entries = at.entries().data();
  const S* values = at.values().data();
  const S* dd = d.data();
  S* yd = y.data();
  const index_t ldd = static_cast<index_t>(d.stride(0)), ldy = static_cast<index_t>(y.stride(0));
  parallel_for_chunks("frugal::graph::spmm_transpose_accumulate", exec, row_last - row_first, grain_for(8 * f),
                      [=](index_t j0, index_t j1) {
                        for (index_t j = row_first + j0; j < row_first + j1; ++j) {
                          const std::int32_t* begin = entries + row_map[j];
                          const std::int32_t* end = entries + row_map[j + 1];
                          const std::int32_t* k = std::lower_bound(begin, end, static_cast<std::int32_t>(first));
                          S* yr = yd + j * ldy;
                          for (; k != end && *k < last; ++k) {
                            const S v = values[k - entries];
                            const S* dr = dd + (*k - first) * ldd;
                            for (index_t t = 0; t < f; ++t) yr[t] += v * dr[t];
                          }
                        }
                      });
}

/// The plain serial reference the parallel kernel is tested against: one loop nest, one
/// accumulator per output element, no slicing.
template <Scalar S, View X, View Y>
inline void spmm_serial(const csr_graph<S, Kokkos::HostSpace>& a, const X& x, const Y& y) {
  detail::check_spmm_shapes("frugal::graph::spmm_serial", a.num_nodes(), x, y);
  for (index_t i = 0; i < a.num_nodes(); ++i)
    for (index_t j = 0; j < static_cast<index_t>(x.extent(1)); ++j) {
      S acc = 0;
      for (index_t k = a.row_map()(i); k < a.row_map()(i + 1); ++k) acc += a.values()(k) * x(a.entries()(k), j);
      y(i, j) = acc;
    }
}

}  // namespace frugal::graph
