#pragma once
/// \file
/// Quantization projections: uniform symmetric k-bit, ternary, binary and power-of-two levels.
/// Each fits its scale to the weights it is given (optionally only the entries a mask keeps) and
/// returns codes into a small level table (`quantized_matrix.hpp`), from which the projected
/// matrix is reconstructed. Their compositions with pruning are in `composition.hpp`.
///
/// Every kernel runs on a host execution space given as a template parameter and an instance
/// argument (`q.quantize(exec, w, mask)`, `q.project(exec, w)`); the forms without one run on
/// `default_host_space`. Entry-wise work (gathering the kept values, coding, reconstruction) is
/// split into shape-only chunks; the scale searches evaluate their candidate scales in parallel,
/// each candidate by the serial loop, and pick the first best in candidate order; the binary
/// scale is a chunk-ordered sum. No result depends on the thread count.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <span>
#include <sstream>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "../core/error.hpp"
#include "../core/parallel.hpp"
#include "composition.hpp"
#include "concepts.hpp"
#include "detail/elementwise.hpp"
#include "detail/sort.hpp"
#include "quantized_matrix.hpp"

namespace frugal::admm {

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
  static constexpr bool elementwise = true;  ///< see `elementwise_projection`
  int bits = 4;
  bool zero_level = true;

  /// Codes and levels of w (or of the entries `mask` keeps), computed on `exec`: the probe scales
  /// and the alternating optimisations from every start run in parallel, each by the serial
  /// loop, and the first best is kept, so the result is identical on any number of threads.
  template <HostExecutionSpace Exec, nn::Scalar S>
  [[nodiscard]] quantized_matrix<S> quantize(const Exec& exec, const matrix<S>& w,
                                             const matrix<S>* mask = nullptr) const {
    check(bits >= 2 && bits <= 8, "frugal::admm::uniform_quantization: bits = ", bits, " must be in [2, 8]");
    // Positive level multipliers: 1..m (mid-tread) or 1/2..M−1/2 (mid-rise).
    const int count = zero_level ? (1 << (bits - 1)) - 1 : 1 << (bits - 1);
    const double offset = zero_level ? 0.0 : 0.5, top = count - offset;
    const std::vector<double> x = detail::kept_values(exec, w, mask);
    const double max_abs = detail::max_abs(exec, x);
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
        // The best scale of each probe's code assignment, NaN where it has none.
        std::vector<double> fitted(probes.size());
        detail::for_each_candidate("frugal::admm::uniform_quantization probes", exec,
                                   static_cast<index_t>(probes.size()), [&](index_t p) {
                                     const auto [xq, qq] = correlations(x, probes[static_cast<std::size_t>(p)], top);
                                     fitted[static_cast<std::size_t>(p)] =
                                         qq > 0 && xq > 0 ? xq / qq : std::numeric_limits<double>::quiet_NaN();
                                   });
        for (double a : fitted)
          if (!std::isnan(a)) starts.push_back(a);
      } else {
        for (int t = 1; t <= 48; ++t) starts.push_back(max_abs / top * t / 48.0);
      }
      // max|w|/level hits the exact scale of any input already on a grid whose largest code is
      // that level, which makes the projection idempotent.
      for (int l = 1; l <= count; ++l) starts.push_back(max_abs / (l - offset));
      std::vector<double> scale(starts.size()), err(starts.size());
      detail::for_each_candidate("frugal::admm::uniform_quantization starts", exec, static_cast<index_t>(starts.size()),
                                 [&](index_t t) {
                                   const auto i = static_cast<std::size_t>(t);
                                   std::tie(scale[i], err[i]) = refine(x, starts[i], top);
                                 });
      alpha = scale[detail::first_minimum(err)];
    }
    std::vector<S> levels;
    for (int l = count; l >= 1; --l) levels.push_back(static_cast<S>(-alpha * (l - offset)));
    if (zero_level) levels.push_back(S(0));
    for (int l = 1; l <= count; ++l) levels.push_back(static_cast<S>(alpha * (l - offset)));
    return detail::encode_nearest(exec, w, mask, std::move(levels));
  }
  template <nn::Scalar S>
  [[nodiscard]] quantized_matrix<S> quantize(const matrix<S>& w, const matrix<S>* mask = nullptr) const {
    return quantize(default_host_space{}, w, mask);
  }

  template <HostExecutionSpace Exec, nn::Scalar S>
  [[nodiscard]] matrix<S> project(const Exec& exec, const matrix<S>& w) const {
    return quantize(exec, w).reconstruct(exec);
  }
  template <nn::Scalar S>
  [[nodiscard]] matrix<S> project(const matrix<S>& w) const {
    return project(default_host_space{}, w);
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
  /// ‖x − a·code(x)‖², summed in order.
  static double error(std::span<const double> x, double a, double top) {
    double e = 0;
    for (double v : x) {
      const double d = v - a * code(v, a, top);
      e += d * d;
    }
    return e;
  }

 private:
  /// (⟨x, q⟩, ⟨q, q⟩) for the codes q of x at scale a, summed in order.
  static std::pair<double, double> correlations(std::span<const double> x, double a, double top) {
    double xq = 0, qq = 0;
    for (double v : x) {
      const double q = code(v, a, top);
      xq += v * q;
      qq += q * q;
    }
    return {xq, qq};
  }

  /// Alternating optimisation from scale a0 until the error stops falling: (scale, error).
  static std::pair<double, double> refine(std::span<const double> x, double a0, double top) {
    double a = a0, err = error(x, a, top);
    for (int it = 0; it < 100; ++it) {
      const auto [xq, qq] = correlations(x, a, top);
      if (qq == 0 || xq <= 0) break;
      const double next = xq / qq, next_err = error(x, next, top);
      if (!(next_err < err - 1e-15 * (1 + err))) break;
      a = next;
      err = next_err;
    }
    return {a, err};
  }
};

/// Ternary quantization, levels {−α, 0, α}: exact. Keeping the k largest |w| at ±α costs
/// Σ w² − (Σ_top-k |w|)²/k at the best α = mean of those k, so the optimum is the k that
/// maximises (Σ_top-k |w|)²/k, found in O(n log n): |w| sorted in parallel on `exec`, then one
/// serial prefix scan, so α is identical on any number of threads.
struct ternary_quantization {
  static constexpr bool elementwise = true;  ///< see `elementwise_projection`
  template <HostExecutionSpace Exec, nn::Scalar S>
  [[nodiscard]] quantized_matrix<S> quantize(const Exec& exec, const matrix<S>& w,
                                             const matrix<S>* mask = nullptr) const {
    std::vector<double> a = detail::kept_values(exec, w, mask);
    double* v = a.data();
    detail::for_entries("frugal::admm::ternary_quantization abs", exec, static_cast<index_t>(a.size()),
                        [&](index_t b, index_t e) {
                          for (index_t i = b; i < e; ++i) v[i] = std::abs(v[i]);
                        });
    detail::parallel_sort(exec, a, std::greater<>());
    double sum = 0, best = 0, alpha = 0;
    for (std::size_t k = 1; k <= a.size(); ++k) {
      sum += a[k - 1];
      if (sum * sum / static_cast<double>(k) > best) {
        best = sum * sum / static_cast<double>(k);
        alpha = sum / static_cast<double>(k);
      }
    }
    return detail::encode_nearest(exec, w, mask, std::vector<S>{static_cast<S>(-alpha), S(0), static_cast<S>(alpha)});
  }
  template <nn::Scalar S>
  [[nodiscard]] quantized_matrix<S> quantize(const matrix<S>& w, const matrix<S>* mask = nullptr) const {
    return quantize(default_host_space{}, w, mask);
  }

  template <HostExecutionSpace Exec, nn::Scalar S>
  [[nodiscard]] matrix<S> project(const Exec& exec, const matrix<S>& w) const {
    return quantize(exec, w).reconstruct(exec);
  }
  template <nn::Scalar S>
  [[nodiscard]] matrix<S> project(const matrix<S>& w) const {
    return project(default_host_space{}, w);
  }

  [[nodiscard]] std::string describe() const { return "ternary"; }
};

/// Binary quantization, levels {−α, α}: exact, α = mean |w| and codes the signs. The sum is
/// chunk-ordered (`deterministic_sum`): identical on any number of threads, and equal to the
/// plain row-major sum while the values fit one chunk.
struct binary_quantization {
  static constexpr bool elementwise = true;  ///< see `elementwise_projection`
  template <HostExecutionSpace Exec, nn::Scalar S>
  [[nodiscard]] quantized_matrix<S> quantize(const Exec& exec, const matrix<S>& w,
                                             const matrix<S>* mask = nullptr) const {
    const std::vector<double> x = detail::kept_values(exec, w, mask);
    const double* v = x.data();
    double alpha = deterministic_sum<double>("frugal::admm::binary_quantization", exec, static_cast<index_t>(x.size()),
                                             detail::entry_grain, [&](index_t b, index_t e) {
                                               double s = 0;
                                               for (index_t i = b; i < e; ++i) s += std::abs(v[i]);
                                               return s;
                                             });
    if (!x.empty()) alpha /= static_cast<double>(x.size());
    return detail::encode_nearest(exec, w, mask, std::vector<S>{static_cast<S>(-alpha), static_cast<S>(alpha)});
  }
  template <nn::Scalar S>
  [[nodiscard]] quantized_matrix<S> quantize(const matrix<S>& w, const matrix<S>* mask = nullptr) const {
    return quantize(default_host_space{}, w, mask);
  }

  template <HostExecutionSpace Exec, nn::Scalar S>
  [[nodiscard]] matrix<S> project(const Exec& exec, const matrix<S>& w) const {
    return quantize(exec, w).reconstruct(exec);
  }
  template <nn::Scalar S>
  [[nodiscard]] matrix<S> project(const matrix<S>& w) const {
    return project(default_host_space{}, w);
  }

  [[nodiscard]] std::string describe() const { return "binary"; }
};

/// Power-of-two quantization with k bits (k ≥ 2): levels {0, ±2^e, ±2^(e−1), …, ±2^(e−m+1)},
/// m = 2^(k−1) − 1, so multiplications become shifts. Given e, the nearest level is optimal per
/// entry; e is searched exhaustively over [E − 2m − 4, E + 1], E = floor(log2 max|w|). Exponents
/// above E + 1 can only do worse (every level they add exceeds 2·max|w|, where 0 is closer).
/// The exponents are evaluated in parallel on `exec`, each by the serial sum, and the first best
/// is kept: identical on any number of threads.
struct power_of_two_quantization {
  static constexpr bool elementwise = true;  ///< see `elementwise_projection`
  int bits = 4;

  template <HostExecutionSpace Exec, nn::Scalar S>
  [[nodiscard]] quantized_matrix<S> quantize(const Exec& exec, const matrix<S>& w,
                                             const matrix<S>* mask = nullptr) const {
    check(bits >= 2 && bits <= 8, "frugal::admm::power_of_two_quantization: bits = ", bits, " must be in [2, 8]");
    const int m = (1 << (bits - 1)) - 1;
    const std::vector<double> x = detail::kept_values(exec, w, mask);
    const double max_abs = detail::max_abs(exec, x);
    int best_e = 0;
    if (max_abs > 0) {
      const int top = static_cast<int>(std::floor(std::log2(max_abs)));
      const int first = top - 2 * m - 4, count = top + 1 - first + 1;
      std::vector<double> err(static_cast<std::size_t>(count));
      detail::for_each_candidate("frugal::admm::power_of_two_quantization", exec, count, [&](index_t c) {
        const auto lv = levels_for(first + static_cast<int>(c), m);
        double e = 0;
        for (double v : x) {
          double d = std::numeric_limits<double>::infinity();
          for (double l : lv) d = std::min(d, std::abs(v - l));
          e += d * d;
        }
        err[static_cast<std::size_t>(c)] = e;
      });
      best_e = first + static_cast<int>(detail::first_minimum(err));
    }
    std::vector<S> levels;
    for (double l : levels_for(best_e, m)) levels.push_back(static_cast<S>(l));
    auto q = detail::encode_nearest(exec, w, mask, std::move(levels));
    q.scalable = false;
    return q;
  }
  template <nn::Scalar S>
  [[nodiscard]] quantized_matrix<S> quantize(const matrix<S>& w, const matrix<S>* mask = nullptr) const {
    return quantize(default_host_space{}, w, mask);
  }

  template <HostExecutionSpace Exec, nn::Scalar S>
  [[nodiscard]] matrix<S> project(const Exec& exec, const matrix<S>& w) const {
    return quantize(exec, w).reconstruct(exec);
  }
  template <nn::Scalar S>
  [[nodiscard]] matrix<S> project(const matrix<S>& w) const {
    return project(default_host_space{}, w);
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

static_assert(ProjectionOn<uniform_quantization, float, default_host_space> &&
              ProjectionOn<ternary_quantization, double, default_host_space> &&
              ProjectionOn<binary_quantization, float, Kokkos::Serial> &&
              ProjectionOn<power_of_two_quantization, float, default_host_space> &&
              ProjectionOn<masked_quantization<float, ternary_quantization>, float, default_host_space>);

}  // namespace frugal::admm
