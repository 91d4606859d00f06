#pragma once
/// \file
/// Out-of-place matrix transpose with SIMD register tiles, shared by `nn::conv2d` (patch-major
/// patches) and `frugal/sparse` (batch transposes of the BCR kernels); it lives in core so that
/// neither module reaches into the other's `detail/`. Host memory only.

#include <Eigen/Core>

#include <type_traits>

#include "execution.hpp"
#include "parallel.hpp"

namespace frugal {

/// b = aᵀ: a is a_rows x a_cols row-major with row stride lda, b is a_cols x a_rows row-major with
/// row stride ldb. Square tiles of one SIMD packet are transposed in registers (Eigen's packet
/// primitives); the ragged edges are copied element by element.
template <class S>
void transpose(const S* a, index_t a_rows, index_t a_cols, index_t lda, S* b, index_t ldb) {
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wignored-attributes"
#endif
  // 512-bit packets use their 256-bit halves: as fast here, and GCC 12 warns spuriously inside
  // its own AVX-512 unpack intrinsics that Eigen's 16 x 16 transpose inlines.
  using full_packet = typename Eigen::internal::packet_traits<S>::type;
  using P = std::conditional_t<sizeof(full_packet) == 64, typename Eigen::internal::unpacket_traits<full_packet>::half,
                               full_packet>;
  constexpr index_t N = Eigen::internal::unpacket_traits<P>::size;
  // Tiles walk along the rows of b, so its rows are written as streams.
  index_t j0 = 0;
  if constexpr (N > 1) {
    for (; j0 + N <= a_cols; j0 += N) {
      index_t i0 = 0;
      for (; i0 + N <= a_rows; i0 += N) {
        Eigen::internal::PacketBlock<P, N> tile;
        for (index_t i = 0; i < N; ++i) tile.packet[i] = Eigen::internal::ploadu<P>(a + (i0 + i) * lda + j0);
        Eigen::internal::ptranspose(tile);
        for (index_t j = 0; j < N; ++j) Eigen::internal::pstoreu(b + (j0 + j) * ldb + i0, tile.packet[j]);
      }
      for (index_t j = j0; j < j0 + N; ++j)
        for (index_t i = i0; i < a_rows; ++i) b[j * ldb + i] = a[i * lda + j];
    }
  }
  // Remaining w < N columns of a: tiles padded through a small buffer, then the last rows.
  const index_t w = a_cols - j0;
  if (w == 0) return;
  index_t i0 = 0;
  if constexpr (N > 1) {
    alignas(64) S buffer[N * N] = {};
    for (; i0 + N <= a_rows; i0 += N) {
      for (index_t i = 0; i < N; ++i)
        for (index_t j = 0; j < w; ++j) buffer[i * N + j] = a[(i0 + i) * lda + j0 + j];
      Eigen::internal::PacketBlock<P, N> tile;
      for (index_t i = 0; i < N; ++i) tile.packet[i] = Eigen::internal::ploadu<P>(buffer + i * N);
      Eigen::internal::ptranspose(tile);
      for (index_t j = 0; j < w; ++j) Eigen::internal::pstoreu(b + (j0 + j) * ldb + i0, tile.packet[j]);
    }
  }
  for (index_t j = j0; j < a_cols; ++j)
    for (index_t i = i0; i < a_rows; ++i) b[j * ldb + i] = a[i * lda + j];
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif
}

/// `transpose` on `exec`: chunks of a's rows (multiples of 16, sized by the shape alone) in parallel.
template <class S, HostExecutionSpace Exec>
void transpose(const Exec& exec, const S* a, index_t a_rows, index_t a_cols, index_t lda, S* b, index_t ldb) {
  const index_t grain = (grain_for(a_cols) + 15) / 16 * 16;
  parallel_for_chunks("frugal::transpose", exec, a_rows, grain,
                      [=](index_t i0, index_t i1) { transpose(a + i0 * lda, i1 - i0, a_cols, lda, b + i0, ldb); });
}

}  // namespace frugal
