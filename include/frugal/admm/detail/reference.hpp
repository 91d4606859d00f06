#pragma once
/// \file
/// Plain serial reference implementations of every admm projection kernel: the definitions the
/// parallel kernels on an execution space are tested against (bit for bit where docs/admm.md
/// says so). They are the single-threaded code the projections ran before the execution-space
/// seam, kept deliberately simple; nothing in the library calls them.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <span>
#include <utility>
#include <vector>

#include "../bcr.hpp"
#include "../quantization.hpp"
#include "top_k.hpp"

namespace frugal::admm::detail::reference {

/// irregular_sparsity: 1 at the round(keep · size) entries of largest |w| (ties to the lower
/// row-major index), 0 elsewhere.
template <class S>
[[nodiscard]] matrix<S> irregular_support(const matrix<S>& w, double keep_fraction) {
  std::vector<S> score(static_cast<std::size_t>(w.size()));
  for (index_t i = 0; i < w.size(); ++i) score[static_cast<std::size_t>(i)] = std::abs(w.data()[i]);
  matrix<S> mask = matrix<S>::Zero(w.rows(), w.cols());
  for (index_t i : top_k_indices(score, kept_count(keep_fraction, w.size()))) mask.data()[i] = S(1);
  return mask;
}

/// filter_sparsity: whole rows of largest squared L2 norm.
template <class S>
[[nodiscard]] matrix<S> filter_support(const matrix<S>& w, double keep_fraction) {
  std::vector<S> score(static_cast<std::size_t>(w.rows()));
  for (index_t r = 0; r < w.rows(); ++r) score[static_cast<std::size_t>(r)] = w.row(r).squaredNorm();
  matrix<S> mask = matrix<S>::Zero(w.rows(), w.cols());
  for (index_t r : top_k_indices(score, kept_count(keep_fraction, w.rows()))) mask.row(r).setOnes();
  return mask;
}

/// column_sparsity: whole columns of largest squared L2 norm.
template <class S>
[[nodiscard]] matrix<S> column_support(const matrix<S>& w, double keep_fraction) {
  std::vector<S> score(static_cast<std::size_t>(w.cols()));
  for (index_t c = 0; c < w.cols(); ++c) score[static_cast<std::size_t>(c)] = w.col(c).squaredNorm();
  matrix<S> mask = matrix<S>::Zero(w.rows(), w.cols());
  for (index_t c : top_k_indices(score, kept_count(keep_fraction, w.cols()))) mask.col(c).setOnes();
  return mask;
}

/// global_irregular_support: one top-k over the concatenation of the matrices (in order, each
/// row-major), split back into one mask per matrix.
template <class S>
[[nodiscard]] std::vector<matrix<S>> global_irregular_support(std::span<const matrix<S>* const> weights,
                                                              double keep_fraction) {
  std::vector<S> score;
  for (const auto* w : weights)
    for (index_t i = 0; i < w->size(); ++i) score.push_back(std::abs(w->data()[i]));
  std::vector<matrix<S>> masks;
  for (const auto* w : weights) masks.push_back(matrix<S>::Zero(w->rows(), w->cols()));
  for (index_t flat : top_k_indices(score, kept_count(keep_fraction, static_cast<index_t>(score.size())))) {
    std::size_t m = 0;
    while (flat >= masks[m].size()) flat -= masks[m++].size();
    masks[m].data()[flat] = S(1);
  }
  return masks;
}

/// bcr_sparsity::select: the blocks one after another, each by `select_block`.
template <class S>
[[nodiscard]] bcr_pattern bcr_select(const bcr_sparsity& p, const matrix<S>& w) {
  bcr_pattern out = bcr_pattern::tiling(w.rows(), w.cols(), p.block_rows, p.block_cols);
  for (auto& b : out.blocks) {
    const matrix<double> energy =
        w.block(b.row0, b.col0, b.rows, b.cols).template cast<double>().array().square().matrix();
    auto [rows, cols] =
        p.select_block(energy, kept_count(p.row_keep_fraction, b.rows), kept_count(p.col_keep_fraction, b.cols));
    for (auto& r : rows) r += b.row0;
    for (auto& c : cols) c += b.col0;
    b.kept_rows = std::move(rows);
    b.kept_cols = std::move(cols);
  }
  return out;
}

/// bcr_pattern::mask: 1 at kept rows × kept columns of every block.
template <class S>
[[nodiscard]] matrix<S> bcr_mask(const bcr_pattern& p) {
  matrix<S> m = matrix<S>::Zero(p.rows, p.cols);
  for (const auto& b : p.blocks)
    for (index_t r : b.kept_rows)
      for (index_t c : b.kept_cols) m(r, c) = S(1);
  return m;
}

/// block_circulant::project: each entry the mean of its circulant diagonal within its block.
template <class S>
[[nodiscard]] matrix<S> block_circulant_project(const matrix<S>& w, index_t k) {
  matrix<S> z(w.rows(), w.cols());
  std::vector<double> sum(static_cast<std::size_t>(k));
  std::vector<index_t> count(static_cast<std::size_t>(k));
  for (index_t r0 = 0; r0 < w.rows(); r0 += k)
    for (index_t c0 = 0; c0 < w.cols(); c0 += k) {
      const index_t h = std::min(k, w.rows() - r0), wd = std::min(k, w.cols() - c0);
      std::fill(sum.begin(), sum.end(), 0.0);
      std::fill(count.begin(), count.end(), 0);
      for (index_t i = 0; i < h; ++i)
        for (index_t j = 0; j < wd; ++j) {
          const auto d = static_cast<std::size_t>(((i - j) % k + k) % k);
          sum[d] += static_cast<double>(w(r0 + i, c0 + j));
          ++count[d];
        }
      for (index_t i = 0; i < h; ++i)
        for (index_t j = 0; j < wd; ++j) {
          const auto d = static_cast<std::size_t>(((i - j) % k + k) % k);
          z(r0 + i, c0 + j) = static_cast<S>(sum[d] / static_cast<double>(count[d]));
        }
    }
  return z;
}

/// The kept entries of w, in row-major order, as doubles.
template <class S>
[[nodiscard]] std::vector<double> kept_values(const matrix<S>& w, const matrix<S>* mask) {
  std::vector<double> x;
  for (index_t i = 0; i < w.size(); ++i)
    if (!mask || mask->data()[i] != S(0)) x.push_back(static_cast<double>(w.data()[i]));
  return x;
}

/// Codes every kept entry with the nearest level (ties to the lower index).
template <class S>
[[nodiscard]] quantized_matrix<S> encode_nearest(const matrix<S>& w, const matrix<S>* mask, std::vector<S> levels) {
  quantized_matrix<S> q;
  q.rows = w.rows();
  q.cols = w.cols();
  q.levels = std::move(levels);
  q.bits = bits_for(q.levels.size());
  q.codes.assign(static_cast<std::size_t>(w.size()), 0);
  if (mask) {
    q.keep.resize(static_cast<std::size_t>(w.size()));
    for (index_t i = 0; i < w.size(); ++i) q.keep[static_cast<std::size_t>(i)] = mask->data()[i] != S(0);
  }
  for (index_t i = 0; i < w.size(); ++i) {
    if (!q.kept(i)) continue;
    const S x = w.data()[i];
    std::size_t best = 0;
    S best_d = std::numeric_limits<S>::infinity();
    for (std::size_t l = 0; l < q.levels.size(); ++l) {
      const S d = std::abs(x - q.levels[l]);
      if (d < best_d) {
        best_d = d;
        best = l;
      }
    }
    q.codes[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(best);
  }
  return q;
}

/// uniform_quantization::quantize: alternating optimisation of the scale from every start, the
/// first best local optimum kept.
template <class S>
[[nodiscard]] quantized_matrix<S> uniform_quantize(const matrix<S>& w, const matrix<S>* mask, int bits,
                                                   bool zero_level) {
  using U = uniform_quantization;
  const int count = zero_level ? (1 << (bits - 1)) - 1 : 1 << (bits - 1);
  const double offset = zero_level ? 0.0 : 0.5, top = count - offset;
  const std::vector<double> x = kept_values(w, mask);
  double max_abs = 0;
  for (double v : x) max_abs = std::max(max_abs, std::abs(v));
  double alpha = max_abs / top;
  if (max_abs > 0) {
    std::vector<double> starts;
    if (x.size() <= 64) {
      std::vector<double> cuts;
      for (double v : x)
        for (int j = zero_level ? 0 : 1; j < count; ++j)
          if (v != 0) cuts.push_back(std::abs(v) / (j + (zero_level ? 0.5 : 0.0)));
      std::sort(cuts.begin(), cuts.end());
      std::vector<double> probes;
      if (!cuts.empty()) probes = {cuts.front() / 2, cuts.back() * 2};
      for (std::size_t i = 0; i + 1 < cuts.size(); ++i) probes.push_back(0.5 * (cuts[i] + cuts[i + 1]));
      for (double a : probes) {
        double xq = 0, qq = 0;
        for (double v : x) {
          const double q = U::code(v, a, top);
          xq += v * q;
          qq += q * q;
        }
        if (qq > 0 && xq > 0) starts.push_back(xq / qq);
      }
    } else {
      for (int t = 1; t <= 48; ++t) starts.push_back(max_abs / top * t / 48.0);
    }
    for (int l = 1; l <= count; ++l) starts.push_back(max_abs / (l - offset));
    double best = std::numeric_limits<double>::infinity();
    for (double a0 : starts) {
      double a = a0, err = U::error(x, a, top);
      for (int it = 0; it < 100; ++it) {
        double xq = 0, qq = 0;
        for (double v : x) {
          const double q = U::code(v, a, top);
          xq += v * q;
          qq += q * q;
        }
        if (qq == 0 || xq <= 0) break;
        const double next = xq / qq, next_err = U::error(x, next, top);
        if (!(next_err < err - 1e-15 * (1 + err))) break;
        a = next;
        err = next_err;
      }
      if (err < best) {
        best = err;
        alpha = a;
      }
    }
  }
  std::vector<S> levels;
  for (int l = count; l >= 1; --l) levels.push_back(static_cast<S>(-alpha * (l - offset)));
  if (zero_level) levels.push_back(S(0));
  for (int l = 1; l <= count; ++l) levels.push_back(static_cast<S>(alpha * (l - offset)));
  return encode_nearest(w, mask, std::move(levels));
}

/// ternary_quantization::quantize: sort |w| descending, keep the k maximising (Σ_top-k)²/k.
template <class S>
[[nodiscard]] quantized_matrix<S> ternary_quantize(const matrix<S>& w, const matrix<S>* mask) {
  std::vector<double> a = kept_values(w, mask);
  for (double& v : a) v = std::abs(v);
  std::sort(a.begin(), a.end(), std::greater<>());
  double sum = 0, best = 0, alpha = 0;
  for (std::size_t k = 1; k <= a.size(); ++k) {
    sum += a[k - 1];
    if (sum * sum / static_cast<double>(k) > best) {
      best = sum * sum / static_cast<double>(k);
      alpha = sum / static_cast<double>(k);
    }
  }
  return encode_nearest(w, mask, std::vector<S>{static_cast<S>(-alpha), S(0), static_cast<S>(alpha)});
}

/// binary_quantization::quantize: α = mean |w| summed in row-major order.
template <class S>
[[nodiscard]] quantized_matrix<S> binary_quantize(const matrix<S>& w, const matrix<S>* mask) {
  const std::vector<double> x = kept_values(w, mask);
  double alpha = 0;
  for (double v : x) alpha += std::abs(v);
  if (!x.empty()) alpha /= static_cast<double>(x.size());
  return encode_nearest(w, mask, std::vector<S>{static_cast<S>(-alpha), static_cast<S>(alpha)});
}

/// power_of_two_quantization::quantize: every exponent of the searched range, the first best kept.
template <class S>
[[nodiscard]] quantized_matrix<S> power_of_two_quantize(const matrix<S>& w, const matrix<S>* mask, int bits) {
  const int m = (1 << (bits - 1)) - 1;
  const std::vector<double> x = kept_values(w, mask);
  double max_abs = 0;
  for (double v : x) max_abs = std::max(max_abs, std::abs(v));
  int best_e = 0;
  if (max_abs > 0) {
    const int top = static_cast<int>(std::floor(std::log2(max_abs)));
    double best = std::numeric_limits<double>::infinity();
    for (int e = top - 2 * m - 4; e <= top + 1; ++e) {
      const auto lv = power_of_two_quantization::levels_for(e, m);
      double err = 0;
      for (double v : x) {
        double d = std::numeric_limits<double>::infinity();
        for (double l : lv) d = std::min(d, std::abs(v - l));
        err += d * d;
      }
      if (err < best) {
        best = err;
        best_e = e;
      }
    }
  }
  std::vector<S> levels;
  for (double l : power_of_two_quantization::levels_for(best_e, m)) levels.push_back(static_cast<S>(l));
  auto q = encode_nearest(w, mask, std::move(levels));
  q.scalable = false;
  return q;
}

}  // namespace frugal::admm::detail::reference
