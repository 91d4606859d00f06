#pragma once
/// \file
/// The kernels under every register operation: apply a 2^K × 2^K matrix to K chosen bits of a
/// vector of 2^m complex entries, in one pass over memory. A state-vector gate is K = 1 or 2 on
/// its qubits; a one-qubit superoperator on a density matrix is K = 2 on bits (q, n + q) (column
/// bit, row bit), a two-qubit one K = 4; a two-qubit unitary on ρ uses `apply_conjugation` (U B U†
/// per 4 × 4 block: half the work of its 16 × 16 superoperator); monomial matrices (permutations
/// with phases) take one multiply per entry. Every kernel takes the execution space as type and
/// instance; on host spaces, when the lowest target bit leaves room for a SIMD batch of
/// consecutive groups, the arithmetic runs on xsimd complex batches. `reference_apply_bits` is the
/// plain serial version the tests compare against.

#include <Kokkos_Core.hpp>
#include <xsimd/xsimd.hpp>

#include <algorithm>
#include <array>
#include <complex>
#include <cstdint>
#include <string>
#include <type_traits>

#include "types.hpp"

namespace frugal::quantum {

namespace detail {

/// Inserts a zero bit at position `bit` of x (bits at and above it move up by one).
FRUGAL_INLINE_FUNCTION index_t insert_zero(index_t x, int bit) {
  const index_t low = x & ((index_t(1) << bit) - 1);
  return ((x >> bit) << (bit + 1)) | low;
}

/// Bit positions of one kernel call, sorted copy for the base-index computation and the offset of
/// each of the 2^K sub-indices (sub-index bit t ↔ bits[t]).
template <int K>
struct bit_layout {
  int sorted[K];
  index_t offset[1 << K];

  /// The index of sub-index 0 of group g: g with zero bits inserted at the target positions.
  FRUGAL_FUNCTION index_t base(index_t g) const {
    for (int t = 0; t < K; ++t) g = insert_zero(g, sorted[t]);
    return g;
  }
};

template <int K>
bit_layout<K> make_layout(const std::array<int, K>& bits) {
  bit_layout<K> l{};
  std::array<int, K> s = bits;
  std::sort(s.begin(), s.end());
  for (int t = 0; t < K; ++t) l.sorted[t] = s[static_cast<std::size_t>(t)];
  for (int j = 0; j < (1 << K); ++j) {
    index_t off = 0;
    for (int t = 0; t < K; ++t)
      if ((j >> t) & 1) off |= index_t(1) << bits[static_cast<std::size_t>(t)];
    l.offset[j] = off;
  }
  return l;
}

/// Host SIMD path shared by the kernels: when 2^(lowest target bit) ≥ the xsimd batch width L,
/// groups cL … cL + L − 1 sit at L consecutive addresses, so `body(p, base)` can treat each
/// sub-index as one complex batch at p + base + offset. Runs body for every chunk on `exec` and
/// returns true, or returns false (running nothing) when the layout does not allow it.
template <class R, int K, class Exec, class ViewT, class Body>
bool for_each_simd_chunk(const char* label, const Exec& exec, const ViewT& v, const bit_layout<K>& layout,
                         index_t groups, const Body& body) {
  constexpr index_t L = static_cast<index_t>(xsimd::batch<std::complex<R>>::size);
  if ((index_t(1) << layout.sorted[0]) < L || groups < L) return false;
  auto* p = reinterpret_cast<std::complex<R>*>(v.data());
  Kokkos::parallel_for(label, Kokkos::RangePolicy<Exec, Kokkos::IndexType<index_t>>(exec, 0, groups / L),
                       [=](index_t chunk) { body(p, layout.base(chunk * L)); });
  return true;
}

/// xsimd generator of the lane permutation ℓ ↦ ℓ xor 2^B.
template <class U, int B>
struct flip_lane_bit {
  static constexpr U get(std::size_t index, std::size_t) { return static_cast<U>(index ^ (std::size_t{1} << B)); }
};

/// The batch with lanes ℓ and ℓ xor 2^B exchanged (B below log2 of the batch width).
template <int B, class R, class A>
xsimd::batch<std::complex<R>, A> flip_lanes(const xsimd::batch<std::complex<R>, A>& x) {
  using U = std::conditional_t<sizeof(R) == 8, std::uint64_t, std::uint32_t>;
  constexpr auto mask = xsimd::make_batch_constant<xsimd::batch<U, A>, flip_lane_bit<U, B>>();
  return {xsimd::swizzle(x.real(), mask), xsimd::swizzle(x.imag(), mask)};
}

/// Host SIMD path of a dense K ≤ 2 matrix whose lowest target bit b lies inside one batch (2^b <
/// L, the batch width; the other target bit, for K = 2, at least log2 L). Then L consecutive
/// entries hold both values of bit b, so a batch is combined with itself with lanes flipped at bit
/// b (one swizzle) under per-lane coefficients picked by each lane's bit b: the same complex
/// multiply-adds per entry as the batched path, instead of the scalar loop. Returns false (running
/// nothing) when the layout does not fit.
template <class R, int K, int B, class Exec, class ViewT>
bool apply_bits_low_bit_simd(const Exec& exec, const ViewT& v, int m, const std::complex<R>* mat,
                             const std::array<int, K>& bits) {
  using batch = xsimd::batch<std::complex<R>>;
  constexpr int L = static_cast<int>(batch::size);
  constexpr int D = 1 << K, H = D / 2;                           // H: batches per chunk (values of the other bit)
  const int t0 = (K == 1 || bits[0] < bits[K - 1]) ? 0 : K - 1;  // sub-index bit of b
  const int t1 = K - 1 - t0;                                     // of the other bit (K = 2)
  const int other = K == 2 ? bits[static_cast<std::size_t>(t1)] : 0;
  if (K == 2 && (index_t(1) << other) < L) return false;
  if ((index_t(1) << m) < index_t(L) * H) return false;
  // coef[(o·H + r)·2 + f][ℓ]: output batch o, input batch r, f = 0 for the batch, 1 for its flip.
  struct coefficients {
    std::complex<R> c[H * H * 2][L];
  } cf{};
  for (int o = 0; o < H; ++o)
    for (int r = 0; r < H; ++r)
      for (int l = 0; l < L; ++l) {
        const int s = (l >> B) & 1;
        const int i = (s << t0) | (o << t1), j = (s << t0) | (r << t1), jf = ((1 - s) << t0) | (r << t1);
        cf.c[(o * H + r) * 2][l] = mat[i * D + j];
        cf.c[(o * H + r) * 2 + 1][l] = mat[i * D + jf];
      }
  auto* p = reinterpret_cast<std::complex<R>*>(v.data());
  const index_t chunks = (index_t(1) << m) / (index_t(L) * H);
  const index_t stride = index_t(1) << other;
  Kokkos::parallel_for("frugal::quantum::apply_bits_low_bit_simd",
                       Kokkos::RangePolicy<Exec, Kokkos::IndexType<index_t>>(exec, 0, chunks), [=](index_t g) {
                         const index_t start = K == 2 ? insert_zero(g * L, other) : g * L;
                         batch x[H], f[H];
                         for (int r = 0; r < H; ++r) {
                           x[r] = batch::load_unaligned(p + start + r * stride);
                           f[r] = flip_lanes<B>(x[r]);
                         }
                         for (int o = 0; o < H; ++o) {
                           batch acc = batch::load_unaligned(cf.c[o * H * 2]) * x[0] +
                                       batch::load_unaligned(cf.c[o * H * 2 + 1]) * f[0];
                           for (int r = 1; r < H; ++r)
                             acc = acc + batch::load_unaligned(cf.c[(o * H + r) * 2]) * x[r] +
                                   batch::load_unaligned(cf.c[(o * H + r) * 2 + 1]) * f[r];
                           acc.store_unaligned(p + start + o * stride);
                         }
                       });
  return true;
}

/// `apply_bits_low_bit_simd` for the lowest target bit `low`, dispatched to its compile-time form.
template <class R, int K, int B = 0, class Exec, class ViewT>
bool apply_bits_low_bit(const Exec& exec, const ViewT& v, int m, const std::complex<R>* mat,
                        const std::array<int, K>& bits, int low) {
  constexpr int L = static_cast<int>(xsimd::batch<std::complex<R>>::size);
  if constexpr ((1 << B) >= L) {
    return false;
  } else {
    if (low == B) return apply_bits_low_bit_simd<R, K, B>(exec, v, m, mat, bits);
    return apply_bits_low_bit<R, K, B + 1>(exec, v, m, mat, bits, low);
  }
}

}  // namespace detail

/// v ← M·v on the bits `bits` of the 2^m-entry vector `v` (a rank-1 View): for every assignment of
/// the other m − K bits, the 2^K entries indexed by sub-index j = Σ_t b(bits[t])·2^t are multiplied
/// by M. Bits must be distinct and below m (callers check).
template <int K, ExecutionSpace Exec, class ViewT, Real R>
void apply_bits(const Exec& exec, const ViewT& v, int m, const small_matrix<R, (1 << K)>& mat,
                const std::array<int, K>& bits) {
  constexpr int D = 1 << K;
  const auto layout = detail::make_layout<K>(bits);
  const index_t groups = index_t(1) << (m - K);
  if constexpr (HostExecutionSpace<Exec> && K <= 2) {
    // Host path: when 2^(lowest target bit) ≥ the SIMD width, the groups of one chunk sit at
    // consecutive addresses, so each sub-index is one xsimd complex batch (split re/im inside).
    using batch = xsimd::batch<std::complex<R>>;
    std::complex<R> mm[D * D];
    for (int i = 0; i < D * D; ++i) mm[i] = {mat.a[i].real(), mat.a[i].imag()};
    const bool done = detail::for_each_simd_chunk<R>("frugal::quantum::apply_bits_simd", exec, v, layout, groups,
                                                     [=](std::complex<R>* p, index_t base) {
                                                       batch x[D];
                                                       for (int j = 0; j < D; ++j)
                                                         x[j] = batch::load_unaligned(p + base + layout.offset[j]);
                                                       for (int i = 0; i < D; ++i) {
                                                         batch acc = batch(mm[i * D]) * x[0];
                                                         for (int j = 1; j < D; ++j)
                                                           acc = acc + batch(mm[i * D + j]) * x[j];
                                                         acc.store_unaligned(p + base + layout.offset[i]);
                                                       }
                                                     });
    if (done) return;
    // The lowest target bit inside one batch: batches of consecutive entries, lanes flipped.
    if (detail::apply_bits_low_bit<R, K>(exec, v, m, mm, bits, layout.sorted[0])) return;
  }
  Kokkos::parallel_for(
      "frugal::quantum::apply_bits", Kokkos::RangePolicy<Exec, Kokkos::IndexType<index_t>>(exec, 0, groups),
      KOKKOS_LAMBDA(index_t g) {
        const index_t base = layout.base(g);
        complex<R> x[D];
        for (int j = 0; j < D; ++j) x[j] = v(base + layout.offset[j]);
        for (int i = 0; i < D; ++i) {
          complex<R> acc(0, 0);
          for (int j = 0; j < D; ++j) acc += mat(i, j) * x[j];
          v(base + layout.offset[i]) = acc;
        }
      });
}

/// A monomial matrix (one non-zero per row: permutations times phases — X, Y, Z, S, T, RZ, CX,
/// CZ, SWAP, ECR, RZZ, CRZ and their superoperators): row i is value[i] at column column[i].
template <class R, int D>
struct monomial_matrix {
  int column[D];
  complex<R> value[D];

  /// The monomial form of `m`, if every row has exactly one entry of magnitude above `tolerance`.
  static bool from(const cmatrix& m, monomial_matrix& out, double tolerance = 0) {
    if (m.rows() != D || m.cols() != D) return false;
    for (int r = 0; r < D; ++r) {
      int found = -1;
      for (int c = 0; c < D; ++c)
        if (std::abs(m(r, c)) > tolerance) {
          if (found >= 0) return false;
          found = c;
        }
      if (found < 0) return false;
      out.column[r] = found;
      out.value[r] = complex<R>(static_cast<R>(m(r, found).real()), static_cast<R>(m(r, found).imag()));
    }
    return true;
  }
};

/// v ← M·v on `bits` for a monomial M: one complex multiply per entry, so it runs at memory speed.
template <int K, ExecutionSpace Exec, class ViewT, Real R>
void apply_bits(const Exec& exec, const ViewT& v, int m, const monomial_matrix<R, (1 << K)>& mat,
                const std::array<int, K>& bits) {
  constexpr int D = 1 << K;
  const auto layout = detail::make_layout<K>(bits);
  const index_t groups = index_t(1) << (m - K);
  if constexpr (HostExecutionSpace<Exec>) {
    using batch = xsimd::batch<std::complex<R>>;  // as in the dense kernel: one batch per sub-index
    std::complex<R> val[D];
    for (int i = 0; i < D; ++i) val[i] = {mat.value[i].real(), mat.value[i].imag()};
    const bool done = detail::for_each_simd_chunk<R>(
        "frugal::quantum::apply_bits_monomial_simd", exec, v, layout, groups, [=](std::complex<R>* p, index_t base) {
          batch x[D];
          for (int j = 0; j < D; ++j) x[j] = batch::load_unaligned(p + base + layout.offset[j]);
          for (int i = 0; i < D; ++i) (batch(val[i]) * x[mat.column[i]]).store_unaligned(p + base + layout.offset[i]);
        });
    if (done) return;
  }
  Kokkos::parallel_for(
      "frugal::quantum::apply_bits_monomial", Kokkos::RangePolicy<Exec, Kokkos::IndexType<index_t>>(exec, 0, groups),
      KOKKOS_LAMBDA(index_t g) {
        const index_t base = layout.base(g);
        complex<R> x[D];
        for (int j = 0; j < D; ++j) x[j] = v(base + layout.offset[j]);
        for (int i = 0; i < D; ++i) v(base + layout.offset[i]) = mat.value[i] * x[mat.column[i]];
      });
}

/// ρ ← U ρ U† for a two-qubit U on a density matrix of n qubits (flat View of 4^n entries), one
/// pass: each 4 × 4 block of entries (rows and columns differing only in q0, q1) is conjugated.
template <ExecutionSpace Exec, class ViewT, Real R>
void apply_conjugation(const Exec& exec, const ViewT& rho, int n, const small_matrix<R, 4>& u, int q0, int q1) {
  // Sub-index bits 0, 1: the column's q0, q1; bits 2, 3: the row's q0, q1.
  const auto layout = detail::make_layout<4>({q0, q1, n + q0, n + q1});
  const index_t groups = index_t(1) << (2 * n - 4);
  if constexpr (HostExecutionSpace<Exec>) {
    using batch = xsimd::batch<std::complex<R>>;  // as in apply_bits: one batch per sub-index
    std::complex<R> uu[16], uc[16];
    for (int i = 0; i < 16; ++i) {
      uu[i] = {u.a[i].real(), u.a[i].imag()};
      uc[i] = std::conj(uu[i]);
    }
    const bool done = detail::for_each_simd_chunk<R>(
        "frugal::quantum::apply_conjugation_simd", exec, rho, layout, groups, [=](std::complex<R>* p, index_t base) {
          batch b[16], t[16];
          for (int j = 0; j < 16; ++j) b[j] = batch::load_unaligned(p + base + layout.offset[j]);
          for (int r = 0; r < 4; ++r)  // T = U·B
            for (int c = 0; c < 4; ++c) {
              batch acc = batch(uu[r * 4]) * b[c];
              for (int k = 1; k < 4; ++k) acc = acc + batch(uu[r * 4 + k]) * b[k * 4 + c];
              t[r * 4 + c] = acc;
            }
          for (int r = 0; r < 4; ++r)  // B' = T·U†: B'(r, c) = Σ_k T(r, k)·conj(U(c, k))
            for (int c = 0; c < 4; ++c) {
              batch acc = t[r * 4] * batch(uc[c * 4]);
              for (int k = 1; k < 4; ++k) acc = acc + t[r * 4 + k] * batch(uc[c * 4 + k]);
              acc.store_unaligned(p + base + layout.offset[r * 4 + c]);
            }
        });
    if (done) return;
  }
  Kokkos::parallel_for(
      "frugal::quantum::apply_conjugation", Kokkos::RangePolicy<Exec, Kokkos::IndexType<index_t>>(exec, 0, groups),
      KOKKOS_LAMBDA(index_t g) {
        const index_t base = layout.base(g);
        complex<R> b[16], t[16];
        for (int j = 0; j < 16; ++j) b[j] = rho(base + layout.offset[j]);
        // t = U·B (B(r, c) = b[r·4 + c]), then B' = t·U†.
        for (int r = 0; r < 4; ++r)
          for (int c = 0; c < 4; ++c) {
            complex<R> acc(0, 0);
            for (int k = 0; k < 4; ++k) acc += u(r, k) * b[k * 4 + c];
            t[r * 4 + c] = acc;
          }
        for (int r = 0; r < 4; ++r)
          for (int c = 0; c < 4; ++c) {
            complex<R> acc(0, 0);
            for (int k = 0; k < 4; ++k) acc += t[r * 4 + k] * Kokkos::conj(u(c, k));
            rho(base + layout.offset[r * 4 + c]) = acc;
          }
      });
}

/// Serial reference of `apply_bits` on a host vector (double), written the obvious way: for every
/// index i, out[i] = Σ_j M(sub(i), j)·v[i with its sub-index replaced by j].
inline void reference_apply_bits(cvector& v, const cmatrix& mat, const std::vector<int>& bits) {
  const index_t n = v.size();
  const int k = static_cast<int>(bits.size());
  cvector out = cvector::Zero(n);
  for (index_t i = 0; i < n; ++i) {
    int sub = 0;
    index_t rest = i;
    for (int t = 0; t < k; ++t) {
      if ((i >> bits[static_cast<std::size_t>(t)]) & 1) sub |= 1 << t;
      rest &= ~(index_t(1) << bits[static_cast<std::size_t>(t)]);
    }
    for (int j = 0; j < (1 << k); ++j) {
      index_t src = rest;
      for (int t = 0; t < k; ++t)
        if ((j >> t) & 1) src |= index_t(1) << bits[static_cast<std::size_t>(t)];
      out[i] += mat(sub, j) * v[src];
    }
  }
  v = out;
}

}  // namespace frugal::quantum
