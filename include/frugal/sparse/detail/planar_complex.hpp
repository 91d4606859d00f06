#pragma once
/// \file
/// The planar-complex layout of `block_circulant_matrix`'s spectra and the SIMD multiply-
/// accumulate loops over it: real and imaginary parts in separate arrays, so that xsimd batches
/// hold one part of consecutive frequency bins.

#include <Eigen/Core>
#include <xsimd/xsimd.hpp>

#include <complex>
#include <cstddef>

#include "../../core/execution.hpp"
#include "../fft.hpp"

namespace frugal::sparse {

namespace detail {

/// Frequency-domain data of a set of length-k blocks in a "planar" layout the MAC loops
/// vectorise over. Bins 1 … k/2−1 of block b lie in `re`/`im` at [b·h + 1, b·h + h), h = k/2;
/// slot b·h is unused (kept at zero). Bins 0 and k/2 (both real for real input) lie in `dc` and
/// `nyquist`, blocks × samples column-major, so their products are small real GEMMs.
template <class S>
struct planar_spectra {
  fft_buffer<S> re, im;
  Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic> dc, nyquist;

  void resize(index_t blocks, index_t h, index_t samples) {
    re.resize(blocks * h * samples);
    im.resize(blocks * h * samples);
    dc.resize(blocks, samples);
    nyquist.resize(blocks, samples);
  }
  void set_zero() {
    re.set_zero();
    im.set_zero();
    dc.setZero();
    nyquist.setZero();
  }
};

/// Interleaved FFTW spectra (k/2+1 complex per block) to the planar layout.
template <class S>
void to_planar(const std::complex<S>* spectra, index_t blocks, index_t h, S* re, S* im, S* dc, S* nyquist) {
  for (index_t b = 0; b < blocks; ++b) {
    const std::complex<S>* z = spectra + b * (h + 1);
    S* r = re + b * h;
    S* i = im + b * h;
    dc[b] = z[0].real();
    nyquist[b] = z[h].real();
    r[0] = S(0);
    i[0] = S(0);
    for (index_t f = 1; f < h; ++f) {
      r[f] = z[f].real();
      i[f] = z[f].imag();
    }
  }
}

/// The planar layout back to interleaved FFTW spectra.
template <class S>
void from_planar(const S* re, const S* im, const S* dc, const S* nyquist, index_t blocks, index_t h,
                 std::complex<S>* spectra) {
  for (index_t b = 0; b < blocks; ++b) {
    std::complex<S>* z = spectra + b * (h + 1);
    const S* r = re + b * h;
    const S* i = im + b * h;
    z[0] = {dc[b], S(0)};
    z[h] = {nyquist[b], S(0)};
    for (index_t f = 1; f < h; ++f) z[f] = {r[f], i[f]};
  }
}

/// out[f] = Σ_{j<q} a_j[f]·b_j[f], f < h: complex, planar, block j at [j·h, (j+1)·h).
/// Slot 0 of `out` is meaningless (bins 0 and k/2 travel separately).
template <class S>
void planar_dot(const S* ar, const S* ai, const S* br, const S* bi, index_t q, index_t h, S* out_re, S* out_im) {
  using batch = xsimd::batch<S>;
  constexpr index_t lanes = static_cast<index_t>(batch::size);
  if (h >= lanes) {
    // One register pair per group of `lanes` frequencies, two chains for latency.
    for (index_t f = 0; f < h; f += lanes) {
      batch r0(S(0)), i0(S(0)), r1(S(0)), i1(S(0));
      index_t j = 0;
      for (; j + 1 < q; j += 2) {
        const index_t o0 = j * h + f, o1 = o0 + h;
        const batch a0r = batch::load_unaligned(ar + o0), a0i = batch::load_unaligned(ai + o0);
        const batch b0r = batch::load_unaligned(br + o0), b0i = batch::load_unaligned(bi + o0);
        const batch a1r = batch::load_unaligned(ar + o1), a1i = batch::load_unaligned(ai + o1);
        const batch b1r = batch::load_unaligned(br + o1), b1i = batch::load_unaligned(bi + o1);
        r0 = xsimd::fnma(a0i, b0i, xsimd::fma(a0r, b0r, r0));
        i0 = xsimd::fma(a0i, b0r, xsimd::fma(a0r, b0i, i0));
        r1 = xsimd::fnma(a1i, b1i, xsimd::fma(a1r, b1r, r1));
        i1 = xsimd::fma(a1i, b1r, xsimd::fma(a1r, b1i, i1));
      }
      if (j < q) {
        const index_t o = j * h + f;
        const batch a_r = batch::load_unaligned(ar + o), a_i = batch::load_unaligned(ai + o);
        const batch b_r = batch::load_unaligned(br + o), b_i = batch::load_unaligned(bi + o);
        r0 = xsimd::fnma(a_i, b_i, xsimd::fma(a_r, b_r, r0));
        i0 = xsimd::fma(a_i, b_r, xsimd::fma(a_r, b_i, i0));
      }
      (r0 + r1).store_unaligned(out_re + f);
      (i0 + i1).store_unaligned(out_im + f);
    }
    return;
  }
  // h < lanes: run over the flat q·h array; lane t holds frequency t mod h, folded at the end.
  const index_t length = q * h;
  batch r(S(0)), i(S(0));
  index_t c = 0;
  for (; c + lanes <= length; c += lanes) {
    const batch a_r = batch::load_unaligned(ar + c), a_i = batch::load_unaligned(ai + c);
    const batch b_r = batch::load_unaligned(br + c), b_i = batch::load_unaligned(bi + c);
    r = xsimd::fnma(a_i, b_i, xsimd::fma(a_r, b_r, r));
    i = xsimd::fma(a_i, b_r, xsimd::fma(a_r, b_i, i));
  }
  alignas(64) S lane_re[lanes];
  alignas(64) S lane_im[lanes];
  r.store_unaligned(lane_re);
  i.store_unaligned(lane_im);
  for (index_t f = 0; f < h; ++f) out_re[f] = out_im[f] = S(0);
  for (index_t t = 0; t < lanes; ++t) {
    out_re[t & (h - 1)] += lane_re[t];
    out_im[t & (h - 1)] += lane_im[t];
  }
  for (; c < length; ++c) {
    const index_t f = c & (h - 1);
    out_re[f] += ar[c] * br[c] - ai[c] * bi[c];
    out_im[f] += ar[c] * bi[c] + ai[c] * br[c];
  }
}

/// acc[c] += conj(a[c])·b[c mod h] for c < length (a multiple of h): complex, planar.
template <class S>
void planar_accumulate_conj(const S* ar, const S* ai, const S* br, const S* bi, index_t length, index_t h, S* acc_re,
                            S* acc_im) {
  using batch = xsimd::batch<S>;
  constexpr index_t lanes = static_cast<index_t>(batch::size);
  const auto update = [&](index_t c, const batch& b_r, const batch& b_i) {
    const batch a_r = batch::load_unaligned(ar + c), a_i = batch::load_unaligned(ai + c);
    const batch r = batch::load_unaligned(acc_re + c), i = batch::load_unaligned(acc_im + c);
    xsimd::fma(a_i, b_i, xsimd::fma(a_r, b_r, r)).store_unaligned(acc_re + c);
    xsimd::fnma(a_i, b_r, xsimd::fma(a_r, b_i, i)).store_unaligned(acc_im + c);
  };
  index_t c = 0;
  if (h >= lanes) {
    for (; c < length; c += lanes) {
      const index_t f = c & (h - 1);
      update(c, batch::load_unaligned(br + f), batch::load_unaligned(bi + f));
    }
    return;
  }
  alignas(64) S tile_re[lanes];
  alignas(64) S tile_im[lanes];
  for (index_t t = 0; t < lanes; ++t) {
    tile_re[t] = br[t & (h - 1)];
    tile_im[t] = bi[t & (h - 1)];
  }
  const batch b_r = batch::load_unaligned(tile_re), b_i = batch::load_unaligned(tile_im);
  for (; c + lanes <= length; c += lanes) update(c, b_r, b_i);
  for (; c < length; ++c) {
    const index_t f = c & (h - 1);
    acc_re[c] += ar[c] * br[f] + ai[c] * bi[f];
    acc_im[c] += ar[c] * bi[f] - ai[c] * br[f];
  }
}

}  // namespace detail

}  // namespace frugal::sparse
