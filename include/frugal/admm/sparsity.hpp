#pragma once
/// \file
/// Sparsity projections: irregular (top-k by magnitude), filter (rows), column, and a global
/// irregular projection across several matrices. Each is the exact Euclidean projection onto
/// its set: keeping the k entries (rows, columns) of largest magnitude (norm) minimises the
/// discarded energy, which is ‖Z − W‖².
///
/// Every kernel runs on a host execution space given as a template parameter and an instance
/// argument (`p.project(exec, w)`); the forms without one run on `default_host_space`. Selection
/// is a parallel radix select (detail/radix_select.hpp) whose integer bookkeeping makes the
/// result identical to the serial definition for any thread count.

#include <span>
#include <sstream>
#include <string>
#include <vector>

#include "../core/error.hpp"
#include "../core/parallel.hpp"
#include "concepts.hpp"
#include "detail/elementwise.hpp"
#include "detail/radix_select.hpp"
#include "detail/top_k.hpp"

namespace frugal::admm {

namespace detail {
/// W with every entry outside the 0/1 `mask` set to +0, on `default_host_space`.
template <class S>
[[nodiscard]] matrix<S> restrict_to(const matrix<S>& w, const matrix<S>& mask) {
  return restrict_to(default_host_space{}, w, mask);
}

inline void check_keep_fraction(const char* where, double keep) {
  check(keep > 0.0 && keep <= 1.0, where, ": keep_fraction = ", keep, " must be in (0, 1]");
}

/// Squared L2 norm of every row (`by_rows`) or column of w, each computed whole by one thread
/// with the same Eigen expression as the serial definition.
template <HostExecutionSpace Exec, class S>
[[nodiscard]] std::vector<S> line_norms(const Exec& exec, const matrix<S>& w, bool by_rows) {
  const index_t lines = by_rows ? w.rows() : w.cols(), length = by_rows ? w.cols() : w.rows();
  std::vector<S> score(static_cast<std::size_t>(lines));
  S* out = score.data();
  parallel_for_chunks("frugal::admm::line_norms", exec, lines, grain_for(length), [&](index_t b, index_t e) {
    for (index_t l = b; l < e; ++l) out[l] = by_rows ? w.row(l).squaredNorm() : w.col(l).squaredNorm();
  });
  return score;
}

/// Flags (1 kept, 0 pruned) of the k largest non-negative scores, ties to the lower index.
template <HostExecutionSpace Exec, class S>
[[nodiscard]] std::vector<std::uint8_t> top_k_flags(const Exec& exec, const std::vector<S>& score, index_t k) {
  std::vector<std::uint8_t> kept(score.size());
  const S* s = score.data();
  std::uint8_t* out = kept.data();
  select_top_k(
      exec, static_cast<index_t>(score.size()), k, [=](index_t i) { return magnitude_key(s[i]); },
      [=](index_t i, bool keep) { out[i] = keep; });
  return kept;
}

/// Keeps the rows (`by_rows`) or columns of w whose flag is set: the mask (`project` false) or
/// the projection (`project` true).
template <HostExecutionSpace Exec, class S>
[[nodiscard]] matrix<S> keep_lines(const Exec& exec, const matrix<S>& w, const std::vector<std::uint8_t>& kept,
                                   bool by_rows, bool project) {
  matrix<S> z(w.rows(), w.cols());
  // Columns: one row of 0/1 flags, applied to every row.
  Eigen::Array<S, 1, Eigen::Dynamic> column_flags;
  if (!by_rows) {
    column_flags.resize(w.cols());
    for (index_t c = 0; c < w.cols(); ++c) column_flags(c) = kept[static_cast<std::size_t>(c)] ? S(1) : S(0);
  }
  parallel_for_chunks("frugal::admm::keep_lines", exec, w.rows(), grain_for(w.cols()), [&](index_t b, index_t e) {
    for (index_t r = b; r < e; ++r) {
      if (by_rows && !kept[static_cast<std::size_t>(r)])
        z.row(r).setZero();
      else if (by_rows && project)
        z.row(r) = w.row(r);
      else if (by_rows)
        z.row(r).setOnes();
      else if (project)
        z.row(r) = (column_flags != S(0)).select(w.row(r).array(), S(0)).matrix();
      else
        z.row(r) = column_flags.matrix();
    }
  });
  return z;
}
}  // namespace detail

/// Non-structured sparsity: at most round(keep_fraction · size) non-zeros per matrix (at least 1).
/// Projection keeps the entries of largest |w|, ties to the lower row-major index. O(n) parallel
/// selection; identical results on any number of threads.
struct irregular_sparsity {
  static constexpr bool elementwise = true;  ///< see `elementwise_projection`
  double keep_fraction = 0.1;

  /// The 0/1 mask of the kept entries, computed on `exec`.
  template <HostExecutionSpace Exec, nn::Scalar S>
  [[nodiscard]] matrix<S> support(const Exec& exec, const matrix<S>& w) const {
    return select(exec, w, false);
  }
  template <nn::Scalar S>
  [[nodiscard]] matrix<S> support(const matrix<S>& w) const {
    return support(default_host_space{}, w);
  }

  /// W restricted to its round(keep_fraction · size) largest-magnitude entries, computed on `exec`.
  template <HostExecutionSpace Exec, nn::Scalar S>
  [[nodiscard]] matrix<S> project(const Exec& exec, const matrix<S>& w) const {
    return select(exec, w, true);
  }
  template <nn::Scalar S>
  [[nodiscard]] matrix<S> project(const matrix<S>& w) const {
    return project(default_host_space{}, w);
  }

  [[nodiscard]] std::string describe() const {
    std::ostringstream out;
    out << "irregular, keep " << keep_fraction;
    return out.str();
  }

 private:
  template <HostExecutionSpace Exec, nn::Scalar S>
  [[nodiscard]] matrix<S> select(const Exec& exec, const matrix<S>& w, bool project) const {
    detail::check_keep_fraction("frugal::admm::irregular_sparsity", keep_fraction);
    matrix<S> z(w.rows(), w.cols());
    const S* in = w.data();
    S* out = z.data();
    detail::select_top_k(
        exec, w.size(), detail::kept_count(keep_fraction, w.size()),
        [=](index_t i) { return detail::magnitude_key(in[i]); },
        [=](index_t i, bool keep) { out[i] = keep ? (project ? in[i] : S(1)) : S(0); });
    return z;
  }
};

/// Filter sparsity: whole rows (a Linear layer's output neurons, a convolution's filters) are
/// kept or removed; keeps the round(keep_fraction · rows) rows of largest L2 norm (ties to the
/// lower row). Norms are computed row by row in parallel, each by one thread, so the selection is
/// identical on any number of threads.
struct filter_sparsity {
  double keep_fraction = 0.5;

  template <HostExecutionSpace Exec, nn::Scalar S>
  [[nodiscard]] matrix<S> support(const Exec& exec, const matrix<S>& w) const {
    return detail::keep_lines(exec, w, kept_rows(exec, w), true, false);
  }
  template <nn::Scalar S>
  [[nodiscard]] matrix<S> support(const matrix<S>& w) const {
    return support(default_host_space{}, w);
  }

  template <HostExecutionSpace Exec, nn::Scalar S>
  [[nodiscard]] matrix<S> project(const Exec& exec, const matrix<S>& w) const {
    return detail::keep_lines(exec, w, kept_rows(exec, w), true, true);
  }
  template <nn::Scalar S>
  [[nodiscard]] matrix<S> project(const matrix<S>& w) const {
    return project(default_host_space{}, w);
  }

  [[nodiscard]] std::string describe() const {
    std::ostringstream out;
    out << "filter (rows), keep " << keep_fraction;
    return out.str();
  }

 private:
  template <HostExecutionSpace Exec, nn::Scalar S>
  [[nodiscard]] std::vector<std::uint8_t> kept_rows(const Exec& exec, const matrix<S>& w) const {
    detail::check_keep_fraction("frugal::admm::filter_sparsity", keep_fraction);
    return detail::top_k_flags(exec, detail::line_norms(exec, w, true), detail::kept_count(keep_fraction, w.rows()));
  }
};

/// Column sparsity: whole columns (a Linear layer's inputs, a convolution's (ky, kx, channel)
/// patch positions) are kept or removed; keeps the columns of largest L2 norm (ties to the lower
/// column), identical on any number of threads.
struct column_sparsity {
  double keep_fraction = 0.5;

  template <HostExecutionSpace Exec, nn::Scalar S>
  [[nodiscard]] matrix<S> support(const Exec& exec, const matrix<S>& w) const {
    return detail::keep_lines(exec, w, kept_cols(exec, w), false, false);
  }
  template <nn::Scalar S>
  [[nodiscard]] matrix<S> support(const matrix<S>& w) const {
    return support(default_host_space{}, w);
  }

  template <HostExecutionSpace Exec, nn::Scalar S>
  [[nodiscard]] matrix<S> project(const Exec& exec, const matrix<S>& w) const {
    return detail::keep_lines(exec, w, kept_cols(exec, w), false, true);
  }
  template <nn::Scalar S>
  [[nodiscard]] matrix<S> project(const matrix<S>& w) const {
    return project(default_host_space{}, w);
  }

  [[nodiscard]] std::string describe() const {
    std::ostringstream out;
    out << "column, keep " << keep_fraction;
    return out.str();
  }

 private:
  template <HostExecutionSpace Exec, nn::Scalar S>
  [[nodiscard]] std::vector<std::uint8_t> kept_cols(const Exec& exec, const matrix<S>& w) const {
    detail::check_keep_fraction("frugal::admm::column_sparsity", keep_fraction);
    return detail::top_k_flags(exec, detail::line_norms(exec, w, false), detail::kept_count(keep_fraction, w.cols()));
  }
};

/// Global irregular sparsity over several matrices at once (one budget shared by all layers):
/// keeps the round(keep_fraction · total) entries of largest |w| across all of them, ties to the
/// earlier matrix, then the lower row-major index. Returns one mask per matrix. Exact Euclidean
/// projection of the concatenation; one parallel selection over all matrices on `exec`,
/// identical on any number of threads.
/// \tparam S float or double (name it: `global_irregular_support<float>(exec, weights, f)`)
/// \throws invalid_argument for keep_fraction outside (0, 1]
template <nn::Scalar S, HostExecutionSpace Exec>
[[nodiscard]] std::vector<matrix<S>> global_irregular_support(const Exec& exec,
                                                              std::span<const matrix<S>* const> weights,
                                                              double keep_fraction) {
  detail::check_keep_fraction("frugal::admm::global_irregular_support", keep_fraction);
  std::vector<index_t> sizes;
  std::vector<const S*> in;
  std::vector<matrix<S>> masks;
  index_t total = 0;
  for (const auto* w : weights) {
    sizes.push_back(w->size());
    in.push_back(w->data());
    masks.emplace_back(w->rows(), w->cols());
    total += w->size();
  }
  std::vector<S*> out;
  for (auto& m : masks) out.push_back(m.data());
  const S* const* src = in.data();
  S* const* dst = out.data();
  detail::select_top_k(
      exec, std::span<const index_t>(sizes), detail::kept_count(keep_fraction, total),
      [=](index_t m, index_t i) { return detail::magnitude_key(src[m][i]); },
      [=](index_t m, index_t i, bool keep) { dst[m][i] = keep ? S(1) : S(0); });
  return masks;
}

/// `global_irregular_support` on `default_host_space`.
template <nn::Scalar S>
[[nodiscard]] std::vector<matrix<S>> global_irregular_support(std::span<const matrix<S>* const> weights,
                                                              double keep_fraction) {
  return global_irregular_support(default_host_space{}, weights, keep_fraction);
}

static_assert(SparsityProjectionOn<irregular_sparsity, float, default_host_space> &&
              SparsityProjectionOn<filter_sparsity, double, default_host_space> &&
              SparsityProjectionOn<column_sparsity, float, Kokkos::Serial>);

}  // namespace frugal::admm
