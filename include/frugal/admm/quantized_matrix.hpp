#pragma once
/// \file
/// `quantized_matrix`, weights stored as codes into a level table, and the shared steps of every
/// quantizer that produces one: gathering the kept values, coding each with its nearest level.

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
#include "concepts.hpp"
#include "detail/elementwise.hpp"
#include "detail/sort.hpp"

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

  /// The dequantized matrix, entries in parallel on `exec`.
  template <HostExecutionSpace Exec>
  [[nodiscard]] matrix<S> reconstruct(const Exec& exec) const {
    matrix<S> w(rows, cols);
    detail::for_entries("frugal::admm::quantized_matrix::reconstruct", exec, rows * cols, [&](index_t b, index_t e) {
      for (index_t i = b; i < e; ++i) w.data()[i] = kept(i) ? levels[codes[static_cast<std::size_t>(i)]] : S(0);
    });
    return w;
  }
  /// The dequantized matrix, on `default_host_space`.
  [[nodiscard]] matrix<S> reconstruct() const { return reconstruct(default_host_space{}); }
};

namespace detail {

/// The kept entries of w (all of them without a mask) in row-major order, as doubles: per-chunk
/// counts, their prefix sums, then each chunk writes its own range, in parallel on `exec`.
template <HostExecutionSpace Exec, class S>
[[nodiscard]] std::vector<double> kept_values(const Exec& exec, const matrix<S>& w, const matrix<S>* mask) {
  if (mask) {
    check_extent("frugal::admm quantization", "mask rows", mask->rows(), w.rows());
    check_extent("frugal::admm quantization", "mask cols", mask->cols(), w.cols());
  }
  const index_t n = w.size();
  std::vector<double> x;
  if (!mask) {
    x.resize(static_cast<std::size_t>(n));
    double* out = x.data();
    for_entries("frugal::admm::kept_values", exec, n, [&](index_t b, index_t e) {
      for (index_t i = b; i < e; ++i) out[i] = static_cast<double>(w.data()[i]);
    });
    return x;
  }
  const chunking parts{n, entry_grain};
  std::vector<index_t> start(static_cast<std::size_t>(parts.count()) + 1, 0);
  index_t* st = start.data();
  const S* m = mask->data();
  for_entries("frugal::admm::kept_values count", exec, n, [&](index_t b, index_t e) {
    index_t kept = 0;
    for (index_t i = b; i < e; ++i) kept += m[i] != S(0);
    st[b / entry_grain + 1] = kept;
  });
  for (index_t c = 0; c < parts.count(); ++c) st[c + 1] += st[c];
  x.resize(static_cast<std::size_t>(st[parts.count()]));
  double* out = x.data();
  for_entries("frugal::admm::kept_values gather", exec, n, [&](index_t b, index_t e) {
    index_t at = st[b / entry_grain];
    for (index_t i = b; i < e; ++i)
      if (m[i] != S(0)) out[at++] = static_cast<double>(w.data()[i]);
  });
  return x;
}

/// max |x_i| (0 for no values), chunk maxima combined on `exec`: exact in any order.
template <HostExecutionSpace Exec>
[[nodiscard]] double max_abs(const Exec& exec, std::span<const double> x) {
  const auto n = static_cast<index_t>(x.size());
  const chunking parts{n, entry_grain};
  std::vector<double> partial(static_cast<std::size_t>(parts.count()), 0.0);
  double* out = partial.data();
  for_entries("frugal::admm::max_abs", exec, n, [&](index_t b, index_t e) {
    double m = 0;
    for (index_t i = b; i < e; ++i) m = std::max(m, std::abs(x[static_cast<std::size_t>(i)]));
    out[b / entry_grain] = m;
  });
  double m = 0;
  for (double v : partial) m = std::max(m, v);
  return m;
}

/// Runs f(i) for every i in [0, n) on `exec`, one candidate at a time handed to whichever thread
/// is free (candidates differ in cost); inline when there is only one.
template <HostExecutionSpace Exec, class F>
inline void for_each_candidate(const std::string& label, const Exec& exec, index_t n, const F& f) {
  if (n <= 0) return;
  if (n == 1) {
    f(index_t{0});
    return;
  }
  Kokkos::parallel_for(
      label, Kokkos::RangePolicy<Exec, Kokkos::Schedule<Kokkos::Dynamic>, Kokkos::IndexType<index_t>>(exec, 0, n), f);
}

/// The index of the first smallest value: the serial search's "replace only if strictly better".
[[nodiscard]] inline std::size_t first_minimum(std::span<const double> values) {
  std::size_t best = 0;
  double best_value = std::numeric_limits<double>::infinity();
  for (std::size_t i = 0; i < values.size(); ++i)
    if (values[i] < best_value) {
      best_value = values[i];
      best = i;
    }
  return best;
}

inline int bits_for(std::size_t levels) {
  int b = 0;
  while ((std::size_t{1} << b) < levels) ++b;
  return std::max(b, 1);
}

/// Codes every kept entry with the nearest level (ties to the lower index) and fills the record;
/// entries in parallel on `exec`.
template <HostExecutionSpace Exec, class S>
[[nodiscard]] quantized_matrix<S> encode_nearest(const Exec& exec, const matrix<S>& w, const matrix<S>* mask,
                                                 std::vector<S> levels) {
  quantized_matrix<S> q;
  q.rows = w.rows();
  q.cols = w.cols();
  q.levels = std::move(levels);
  q.bits = bits_for(q.levels.size());
  q.codes.resize(static_cast<std::size_t>(w.size()));
  if (mask) q.keep.resize(static_cast<std::size_t>(w.size()));
  std::uint8_t* codes = q.codes.data();
  std::uint8_t* keep = mask ? q.keep.data() : nullptr;
  const S* lv = q.levels.data();
  const std::size_t level_count = q.levels.size();
  for_entries("frugal::admm::encode_nearest", exec, w.size(), [&](index_t b, index_t e) {
    for (index_t i = b; i < e; ++i) {
      codes[i] = 0;
      if (keep) {
        keep[i] = mask->data()[i] != S(0);
        if (!keep[i]) continue;
      }
      const S x = w.data()[i];
      std::size_t best = 0;
      S best_d = std::numeric_limits<S>::infinity();
      for (std::size_t l = 0; l < level_count; ++l) {
        const S d = std::abs(x - lv[l]);
        if (d < best_d) {
          best_d = d;
          best = l;
        }
      }
      codes[i] = static_cast<std::uint8_t>(best);
    }
  });
  return q;
}

/// `encode_nearest` on `default_host_space`.
template <class S>
[[nodiscard]] quantized_matrix<S> encode_nearest(const matrix<S>& w, const matrix<S>* mask, std::vector<S> levels) {
  return encode_nearest(default_host_space{}, w, mask, std::move(levels));
}

}  // namespace detail

}  // namespace frugal::admm
