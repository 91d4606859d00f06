#pragma once
/// \file
/// xsimd micro-kernels behind `bcr_matrix`. Internal: the layout contracts are documented on each
/// function, the public entry points are `bcr_matrix`'s products.

#include <xsimd/xsimd.hpp>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "../core/execution.hpp"
#include "../core/transpose.hpp"

namespace frugal::sparse {

struct bcr_kernel_config;

namespace detail {

template <class S>
constexpr index_t simd_lanes() noexcept {
  return static_cast<index_t>(xsimd::batch<S>::size);
}

/// A row stride of at least `n` elements whose byte length is an odd number of 64-byte cache
/// lines, so consecutive rows of a transposed batch fall into different cache sets: with a stride
/// that is a multiple of 4 KiB they all map to the same few sets and evict each other
/// (docs/sparse.md).
template <class S>
constexpr index_t padded_stride(index_t n) noexcept {
  constexpr index_t line = 64 / static_cast<index_t>(sizeof(S));
  index_t ld = (n + line - 1) / line * line;
  if ((ld / line) % 2 == 0) ld += line;
  return ld;
}

/// dst (rows x ld, row-major) ← src (rows x n, column-major); columns n..ld-1 are left alone.
/// Chunks of samples in parallel on `exec`.
template <class S, class Exec>
void transpose_into(const Exec& exec, const S* src, index_t rows, index_t n, S* dst, index_t ld) {
  frugal::transpose(exec, src, n, rows, rows, dst, ld);
}

/// dst (rows x n, column-major) ← the first n columns of src (rows x ld, row-major). Chunks of
/// rows in parallel on `exec`.
template <class S, class Exec>
void transpose_from(const Exec& exec, const S* src, index_t rows, index_t n, index_t ld, S* dst) {
  frugal::transpose(exec, src, rows, n, ld, dst, rows);
}

/// Register tile: RT output rows x VT vectors of samples.
/// out_t[out_ids[r]][0 .. VT·lanes) += Σ_i w[r·so + i·si] · in_t[in_ids[i]][0 .. VT·lanes)
/// (rows of in_t / out_t are `ld` apart).
template <int RT, int VT, class S>
inline void tile_rows(const S* w, index_t so, index_t si, const std::int32_t* out_ids, const std::int32_t* in_ids,
                      index_t n_in, const S* in_t, S* out_t, index_t ld) {
  using B = xsimd::batch<S>;
  constexpr std::size_t L = B::size;
  B acc[RT][VT];
  for (int r = 0; r < RT; ++r)
    for (int v = 0; v < VT; ++v) acc[r][v] = B(S(0));
  for (index_t i = 0; i < n_in; ++i) {
    const S* row = in_t + static_cast<index_t>(in_ids[i]) * ld;
    B xv[VT];
    for (int v = 0; v < VT; ++v) xv[v] = B::load_unaligned(row + v * L);
    for (int r = 0; r < RT; ++r) {
      const B wv(w[r * so + i * si]);
      for (int v = 0; v < VT; ++v) acc[r][v] = xsimd::fma(wv, xv[v], acc[r][v]);
    }
  }
  for (int r = 0; r < RT; ++r) {
    S* row = out_t + static_cast<index_t>(out_ids[r]) * ld;
    for (int v = 0; v < VT; ++v) (B::load_unaligned(row + v * L) + acc[r][v]).store_unaligned(row + v * L);
  }
}

template <int RT, int VT, class S>
void tile_group(const S* w, index_t so, index_t si, const std::int32_t* out_ids, index_t n_out,
                const std::int32_t* in_ids, index_t n_in, const S* in_t, S* out_t, index_t ld) {
  index_t o = 0;
  for (; o + RT <= n_out; o += RT) tile_rows<RT, VT>(w + o * so, so, si, out_ids + o, in_ids, n_in, in_t, out_t, ld);
  for (; o < n_out; ++o) tile_rows<1, VT>(w + o * so, so, si, out_ids + o, in_ids, n_in, in_t, out_t, ld);
}

template <int VT, class S>
void tile_group_rt(int row_tile, const S* w, index_t so, index_t si, const std::int32_t* out_ids, index_t n_out,
                   const std::int32_t* in_ids, index_t n_in, const S* in_t, S* out_t, index_t ld) {
  switch (row_tile) {
    case 1:
      return tile_group<1, VT>(w, so, si, out_ids, n_out, in_ids, n_in, in_t, out_t, ld);
    case 2:
      return tile_group<2, VT>(w, so, si, out_ids, n_out, in_ids, n_in, in_t, out_t, ld);
    case 3:
      return tile_group<3, VT>(w, so, si, out_ids, n_out, in_ids, n_in, in_t, out_t, ld);
    case 4:
      return tile_group<4, VT>(w, so, si, out_ids, n_out, in_ids, n_in, in_t, out_t, ld);
    case 5:
      return tile_group<5, VT>(w, so, si, out_ids, n_out, in_ids, n_in, in_t, out_t, ld);
    case 6:
      return tile_group<6, VT>(w, so, si, out_ids, n_out, in_ids, n_in, in_t, out_t, ld);
    case 7:
      return tile_group<7, VT>(w, so, si, out_ids, n_out, in_ids, n_in, in_t, out_t, ld);
    default:
      return tile_group<8, VT>(w, so, si, out_ids, n_out, in_ids, n_in, in_t, out_t, ld);
  }
}

/// One group on one tile of simd_lanes·vector_tile samples. `w` is the group's row-major values;
/// (so, si) = (cols, 1) multiplies by the group, (1, cols) by its transpose.
template <class Config, class S>
void group_tile(const Config& cfg, const S* w, index_t so, index_t si, const std::int32_t* out_ids, index_t n_out,
                const std::int32_t* in_ids, index_t n_in, const S* in_t, S* out_t, index_t ld) {
  switch (cfg.vector_tile) {
    case 1:
      return tile_group_rt<1>(cfg.row_tile, w, so, si, out_ids, n_out, in_ids, n_in, in_t, out_t, ld);
    case 2:
      return tile_group_rt<2>(cfg.row_tile, w, so, si, out_ids, n_out, in_ids, n_in, in_t, out_t, ld);
    default:
      return tile_group_rt<4>(cfg.row_tile, w, so, si, out_ids, n_out, in_ids, n_in, in_t, out_t, ld);
  }
}

/// Σ_k a[k]·b[k] for k < n, vectorised.
template <class S>
inline S dot(const S* a, const S* b, index_t n) {
  using B = xsimd::batch<S>;
  constexpr index_t L = static_cast<index_t>(B::size);
  B acc0(S(0)), acc1(S(0));
  index_t k = 0;
  for (; k + 2 * L <= n; k += 2 * L) {
    acc0 = xsimd::fma(B::load_unaligned(a + k), B::load_unaligned(b + k), acc0);
    acc1 = xsimd::fma(B::load_unaligned(a + k + L), B::load_unaligned(b + k + L), acc1);
  }
  for (; k + L <= n; k += L) acc0 = xsimd::fma(B::load_unaligned(a + k), B::load_unaligned(b + k), acc0);
  S s = xsimd::hadd(acc0 + acc1);
  for (; k < n; ++k) s += a[k] * b[k];
  return s;
}

/// Matrix-vector for one group: out[i] = Σ_j w[i·nc + j] · x[cols[j]], i < nr. The group's
/// inputs are gathered once into a contiguous buffer, then every row is a vectorised dot.
template <class S>
void group_gemv(const S* w, index_t nr, index_t nc, const std::int32_t* cols, const S* x, S* out) {
  thread_local std::vector<S> gathered;
  gathered.resize(static_cast<std::size_t>(nc));
  for (index_t j = 0; j < nc; ++j) gathered[static_cast<std::size_t>(j)] = x[cols[j]];
  const S* g = gathered.data();
  using B = xsimd::batch<S>;
  constexpr index_t L = static_cast<index_t>(B::size);
  index_t i = 0;
  // Four rows at a time: each gathered input vector is loaded once for four rows, and the four
  // independent accumulators (and scalar tails) hide the FMA latency.
  for (; i + 4 <= nr; i += 4) {
    const S* w0 = w + i * nc;
    const S *w1 = w0 + nc, *w2 = w1 + nc, *w3 = w2 + nc;
    B a0(S(0)), a1(S(0)), a2(S(0)), a3(S(0));
    index_t j = 0;
    for (; j + L <= nc; j += L) {
      const B xv = B::load_unaligned(g + j);
      a0 = xsimd::fma(B::load_unaligned(w0 + j), xv, a0);
      a1 = xsimd::fma(B::load_unaligned(w1 + j), xv, a1);
      a2 = xsimd::fma(B::load_unaligned(w2 + j), xv, a2);
      a3 = xsimd::fma(B::load_unaligned(w3 + j), xv, a3);
    }
    S s0 = xsimd::hadd(a0), s1 = xsimd::hadd(a1), s2 = xsimd::hadd(a2), s3 = xsimd::hadd(a3);
    for (; j < nc; ++j) {
      const S xj = g[j];
      s0 += w0[j] * xj;
      s1 += w1[j] * xj;
      s2 += w2[j] * xj;
      s3 += w3[j] * xj;
    }
    out[i] = s0;
    out[i + 1] = s1;
    out[i + 2] = s2;
    out[i + 3] = s3;
  }
  for (; i < nr; ++i) out[i] = dot(w + i * nc, g, nc);
}

/// Transposed matrix-vector for one group: out[j] = Σ_i w[i·nc + j] · dy[rows[i]], j < nc.
template <class S>
void group_gemv_transposed(const S* w, index_t nr, index_t nc, const std::int32_t* rows, const S* dy, S* out) {
  using B = xsimd::batch<S>;
  constexpr index_t L = static_cast<index_t>(B::size);
  std::fill(out, out + nc, S(0));
  for (index_t i = 0; i < nr; ++i) {
    const S a = dy[rows[i]];
    const S* wr = w + i * nc;
    const B av(a);
    index_t j = 0;
    for (; j + L <= nc; j += L)
      xsimd::fma(av, B::load_unaligned(wr + j), B::load_unaligned(out + j)).store_unaligned(out + j);
    for (; j < nc; ++j) out[j] += a * wr[j];
  }
}

/// Gradient of one group: g[i·nc + j] += Σ_s dy_t[rows[i]][s] · x_t[cols[j]][s], s < n (rows
/// of the transposed batches are ldy and ldx apart).
template <class S>
void group_gradient(const std::int32_t* rows, index_t nr, const std::int32_t* cols, index_t nc, const S* dy_t,
                    index_t ldy, const S* x_t, index_t ldx, index_t n, S* g) {
  for (index_t i = 0; i < nr; ++i) {
    const S* a = dy_t + static_cast<index_t>(rows[i]) * ldy;
    for (index_t j = 0; j < nc; ++j) g[i * nc + j] += dot(a, x_t + static_cast<index_t>(cols[j]) * ldx, n);
  }
}

/// A `bcr_matrix`'s flattened groups as raw arrays (what its parallel kernels capture): group k's
/// rows are row_ids[row_map[k] .. row_map[k+1]), its columns col_ids[col_map[k] .. col_map[k+1]),
/// its values values[value_map[k] ..], row-major.
template <class S>
struct group_arrays {
  const index_t *row_map, *col_map, *value_map;
  const std::int32_t *row_ids, *col_ids;
  const S* values;
  index_t count;
};

/// out = W in (transposed: Wᵀ in) for one sample: each group gathers its inputs once and computes
/// its outputs into its private slot (`slots + slot_at[k]`, room for its rows or its columns),
/// groups in parallel; then `out` (n_out entries) is zeroed and the slots are added in group order.
template <class S, class Exec>
void groups_gemv(const Exec& exec, const group_arrays<S>& a, const index_t* slot_at, S* slots, const S* in,
                 index_t n_out, S* out, bool transposed) {
  parallel_for("frugal::sparse::bcr_spmv", exec, a.count, [=](index_t k) {
    const index_t nr = a.row_map[k + 1] - a.row_map[k], nc = a.col_map[k + 1] - a.col_map[k];
    if (!transposed)
      group_gemv(a.values + a.value_map[k], nr, nc, a.col_ids + a.col_map[k], in, slots + slot_at[k]);
    else
      group_gemv_transposed(a.values + a.value_map[k], nr, nc, a.row_ids + a.row_map[k], in, slots + slot_at[k]);
  });
  std::fill(out, out + n_out, S(0));
  for (index_t k = 0; k < a.count; ++k) {
    const std::int32_t* targets = transposed ? a.col_ids + a.col_map[k] : a.row_ids + a.row_map[k];
    const index_t n = transposed ? a.col_map[k + 1] - a.col_map[k] : a.row_map[k + 1] - a.row_map[k];
    const S* s = slots + slot_at[k];
    for (index_t i = 0; i < n; ++i) out[targets[i]] += s[i];
  }
}

}  // namespace detail
}  // namespace frugal::sparse
