#pragma once
/// \file
/// Quantization projections: uniform symmetric k-bit, ternary, binary and power-of-two levels.
/// Each fits its scale to the weights it is given (optionally only the entries a mask keeps) and
/// returns codes into a small level table, from which the projected matrix is reconstructed.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "../core/error.hpp"
#include "concepts.hpp"

namespace frugal::admm {

/// Weights stored as codes into a level table: entry (r, c) is `levels[codes[r·cols + c]]` where
/// `keep` is empty or 1, and exactly zero where `keep` is 0 (pruned entries carry no code).
template <nn::Scalar S>
struct quantized_matrix {
  index_t rows = 0, cols = 0;
  int bits = 0;                     ///< bits per code: ceil(log2(levels.size()))
  std::vector<S> levels;            ///< the level table
  std::vector<std::uint8_t> codes;  ///< rows·cols codes, row-major
  std::vector<std::uint8_t> keep;   ///< rows·cols flags, or empty when every entry is coded
  bool scalable = true;             ///< levels may be rescaled together (false for powers of two)

  [[nodiscard]] bool kept(index_t i) const noexcept { return keep.empty() || keep[static_cast<std::size_t>(i)] != 0; }

  /// The dequantized matrix.
  [[nodiscard]] matrix<S> reconstruct() const {
    matrix<S> w(rows, cols);
    for (index_t i = 0; i < rows * cols; ++i) w.data()[i] = kept(i) ? levels[codes[static_cast<std::size_t>(i)]] : S(0);
    return w;
  }
};

namespace detail {

template <class S>
std::vector<double> kept_values(const matrix<S>& w, const matrix<S>* mask) {
  if (mask) {
    check_extent("frugal::admm quantization", "mask rows", mask->rows(), w.rows());
    check_extent("frugal::admm quantization", "mask cols", mask->cols(), w.cols());
  }
  std::vector<double> x;
  for (index_t i = 0; i < w.size(); ++i)
    if (!mask || mask->data()[i] != S(0)) x.push_back(static_cast<double>(w.data()[i]));
  return x;
}

inline int bits_for(std::size_t levels) {
  int b = 0;
  while ((std::size_t{1} << b) < levels) ++b;
  return std::max(b, 1);
}

/// Codes every kept entry with the nearest level (ties to the lower index) and fills the record.
template <class S>
quantized_matrix<S> encode_nearest(const matrix<S>& w, const matrix<S>* mask, std::vector<S> levels) {
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

}  // namespace detail

/// Uniform symmetric k-bit quantization (k ≥ 2). With `zero_level` (the default, "mid-tread"):
/// levels α·{−m, …, m}, m = 2^(k−1) − 1 (2^k − 1 levels, zero included). Without ("mid-rise"):
/// levels α·{±1/2, ±3/2, …, ±(2^(k−1) − 1/2)} — all 2^k codes used and none of them zero, the
/// better grid for the kept weights of a pruned layer (the mask already stores the zeros, and a
/// kept weight rounded to zero is a weight lost). The scale α minimises ‖W − Q(W)‖² by
/// alternating optimisation (codes given α: nearest level; α given codes: ⟨w, q⟩ / ⟨q, q⟩)
/// started from many scales — for up to 64 values the best scale of every distinct code
/// assignment (exact: one per interval between the scales where a code changes), otherwise 48
/// scales spread over (0, max|w| / top level] — and always max|w| / level for every level. The
/// best local optimum found is returned; on small inputs it matches exhaustive search (tested).
struct uniform_quantization {
  int bits = 4;
  bool zero_level = true;

  template <nn::Scalar S>
  [[nodiscard]] quantized_matrix<S> quantize(const matrix<S>& w, const matrix<S>* mask = nullptr) const {
    check(bits >= 2 && bits <= 8, "frugal::admm::uniform_quantization: bits = ", bits, " must be in [2, 8]");
    // Positive level multipliers: 1..m (mid-tread) or 1/2..M−1/2 (mid-rise).
    const int count = zero_level ? (1 << (bits - 1)) - 1 : 1 << (bits - 1);
    const double offset = zero_level ? 0.0 : 0.5, top = count - offset;
    const std::vector<double> x = detail::kept_values(w, mask);
    double max_abs = 0;
    for (double v : x) max_abs = std::max(max_abs, std::abs(v));
    double alpha = max_abs / top;
    if (max_abs > 0) {
      std::vector<double> starts;
      if (x.size() <= 64) {
        // Exact for small inputs: the codes only change where some |w_i| / α crosses a decision
        // boundary (j + 1/2 between mid-tread levels, j between mid-rise ones), so one code
        // assignment per interval between those scales covers them all, the optimum's included,
        // and that assignment's best α is the optimum itself.
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
            const double q = code(v, a, top);
            xq += v * q;
            qq += q * q;
          }
          if (qq > 0 && xq > 0) starts.push_back(xq / qq);
        }
      } else {
        for (int t = 1; t <= 48; ++t) starts.push_back(max_abs / top * t / 48.0);
      }
      // max|w|/level hits the exact scale of any input already on a grid whose largest code is
      // that level, which makes the projection idempotent.
      for (int l = 1; l <= count; ++l) starts.push_back(max_abs / (l - offset));
      double best = std::numeric_limits<double>::infinity();
      for (double a0 : starts) {
        double a = a0, err = error(x, a, top);
        for (int it = 0; it < 100; ++it) {
          double xq = 0, qq = 0;
          for (double v : x) {
            const double q = code(v, a, top);
            xq += v * q;
            qq += q * q;
          }
          if (qq == 0 || xq <= 0) break;
          const double next = xq / qq, next_err = error(x, next, top);
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
    return detail::encode_nearest(w, mask, std::move(levels));
  }

  template <nn::Scalar S>
  [[nodiscard]] matrix<S> project(const matrix<S>& w) const {
    return quantize(w).reconstruct();
  }

  [[nodiscard]] std::string describe() const {
    std::ostringstream out;
    out << bits << "-bit uniform" << (zero_level ? "" : " mid-rise");
    return out.str();
  }

  /// The level multiplier nearest to v/a on the grid whose largest multiplier is `top` (an
  /// integer for mid-tread grids, a half-integer for mid-rise ones).
  static double code(double v, double a, double top) {
    const bool rise = top != std::floor(top);
    const double q = rise ? std::floor(v / a) + 0.5 : std::round(v / a);
    return std::clamp(q, -top, top);
  }
  static double error(const std::vector<double>& x, double a, double top) {
    double e = 0;
    for (double v : x) {
      const double d = v - a * code(v, a, top);
      e += d * d;
    }
    return e;
  }
};

/// Ternary quantization, levels {−α, 0, α}: exact. Keeping the k largest |w| at ±α costs
/// Σ w² − (Σ_top-k |w|)²/k at the best α = mean of those k, so the optimum is the k that
/// maximises (Σ_top-k |w|)²/k, found in O(n log n).
struct ternary_quantization {
  template <nn::Scalar S>
  [[nodiscard]] quantized_matrix<S> quantize(const matrix<S>& w, const matrix<S>* mask = nullptr) const {
    std::vector<double> a = detail::kept_values(w, mask);
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
    return detail::encode_nearest(w, mask, std::vector<S>{static_cast<S>(-alpha), S(0), static_cast<S>(alpha)});
  }

  template <nn::Scalar S>
  [[nodiscard]] matrix<S> project(const matrix<S>& w) const {
    return quantize(w).reconstruct();
  }

  [[nodiscard]] std::string describe() const { return "ternary"; }
};

/// Binary quantization, levels {−α, α}: exact, α = mean |w| and codes the signs.
struct binary_quantization {
  template <nn::Scalar S>
  [[nodiscard]] quantized_matrix<S> quantize(const matrix<S>& w, const matrix<S>* mask = nullptr) const {
    const std::vector<double> x = detail::kept_values(w, mask);
    double alpha = 0;
    for (double v : x) alpha += std::abs(v);
    if (!x.empty()) alpha /= static_cast<double>(x.size());
    return detail::encode_nearest(w, mask, std::vector<S>{static_cast<S>(-alpha), static_cast<S>(alpha)});
  }

  template <nn::Scalar S>
  [[nodiscard]] matrix<S> project(const matrix<S>& w) const {
    return quantize(w).reconstruct();
  }

  [[nodiscard]] std::string describe() const { return "binary"; }
};

/// Power-of-two quantization with k bits (k ≥ 2): levels {0, ±2^e, ±2^(e−1), …, ±2^(e−m+1)},
/// m = 2^(k−1) − 1, so multiplications become shifts. Given e, the nearest level is optimal per
/// entry; e is searched exhaustively over [E − 2m − 4, E + 1], E = floor(log2 max|w|). Exponents
/// above E + 1 can only do worse (every level they add exceeds 2·max|w|, where 0 is closer).
struct power_of_two_quantization {
  int bits = 4;

  template <nn::Scalar S>
  [[nodiscard]] quantized_matrix<S> quantize(const matrix<S>& w, const matrix<S>* mask = nullptr) const {
    check(bits >= 2 && bits <= 8, "frugal::admm::power_of_two_quantization: bits = ", bits, " must be in [2, 8]");
    const int m = (1 << (bits - 1)) - 1;
    const std::vector<double> x = detail::kept_values(w, mask);
    double max_abs = 0;
    for (double v : x) max_abs = std::max(max_abs, std::abs(v));
    int best_e = 0;
    if (max_abs > 0) {
      const int top = static_cast<int>(std::floor(std::log2(max_abs)));
      double best = std::numeric_limits<double>::infinity();
      for (int e = top - 2 * m - 4; e <= top + 1; ++e) {
        const auto lv = levels_for(e, m);
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
    for (double l : levels_for(best_e, m)) levels.push_back(static_cast<S>(l));
    auto q = detail::encode_nearest(w, mask, std::move(levels));
    q.scalable = false;
    return q;
  }

  template <nn::Scalar S>
  [[nodiscard]] matrix<S> project(const matrix<S>& w) const {
    return quantize(w).reconstruct();
  }

  [[nodiscard]] std::string describe() const {
    std::ostringstream out;
    out << bits << "-bit power-of-two";
    return out.str();
  }

  /// The level table for top exponent e: 0 first, then ±2^(e−j).
  static std::vector<double> levels_for(int e, int m) {
    std::vector<double> lv = {0.0};
    for (int j = 0; j < m; ++j) {
      lv.push_back(std::ldexp(1.0, e - j));
      lv.push_back(-std::ldexp(1.0, e - j));
    }
    return lv;
  }
};

/// Prune, then quantize the kept weights only: Z = Q(P(W)) with Q fitted on, and applied to,
/// the entries P keeps; pruned entries stay exactly zero. (The projection onto the intersection
/// is intractable in general; this is ADMM-NN's composition.)
template <class Prune, class Quantize>
struct prune_then_quantize {
  Prune prune;
  Quantize quantize_with;

  template <nn::Scalar S>
  [[nodiscard]] quantized_matrix<S> quantize(const matrix<S>& w) const {
    const matrix<S> mask = prune.template support<S>(w);
    return quantize_with.template quantize<S>(w, &mask);
  }

  template <nn::Scalar S>
  [[nodiscard]] matrix<S> support(const matrix<S>& w) const {
    return prune.template support<S>(w);
  }

  template <nn::Scalar S>
  [[nodiscard]] matrix<S> project(const matrix<S>& w) const {
    return quantize(w).reconstruct();
  }

  [[nodiscard]] std::string describe() const { return prune.describe() + " then " + quantize_with.describe(); }
};

/// A fixed mask followed by quantization of the kept entries: the projection used once pruning
/// is settled and only the values are being quantized.
template <nn::Scalar S, class Quantize>
struct masked_quantization {
  matrix<S> mask;
  Quantize quantize_with;

  [[nodiscard]] quantized_matrix<S> quantize(const matrix<S>& w) const {
    return quantize_with.template quantize<S>(w, &mask);
  }

  template <nn::Scalar T>
  requires std::is_same_v<T, S>
  [[nodiscard]] matrix<T> project(const matrix<T>& w) const { return quantize(w).reconstruct(); }

  [[nodiscard]] std::string describe() const { return "fixed mask then " + quantize_with.describe(); }
};

static_assert(Projection<uniform_quantization, float> && Projection<ternary_quantization, double> &&
              Projection<binary_quantization, float> && Projection<power_of_two_quantization, float>);

}  // namespace frugal::admm
