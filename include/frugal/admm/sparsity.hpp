#pragma once
/// \file
/// Sparsity projections: irregular (top-k by magnitude), filter (rows), column, and a global
/// irregular projection across several matrices. Each is the exact Euclidean projection onto
/// its set: keeping the k entries (rows, columns) of largest magnitude (norm) minimises the
/// discarded energy, which is ‖Z − W‖².

#include <span>
#include <sstream>
#include <string>
#include <vector>

#include "../core/error.hpp"
#include "concepts.hpp"
#include "detail/top_k.hpp"

namespace frugal::admm {

namespace detail {
/// W with every entry outside the 0/1 `mask` set to +0: the projection onto a support.
template <class S>
[[nodiscard]] matrix<S> restrict_to(const matrix<S>& w, const matrix<S>& mask) {
  return (mask.array() != S(0)).select(w, matrix<S>::Zero(w.rows(), w.cols()));
}

inline void check_keep_fraction(const char* where, double keep) {
  check(keep > 0.0 && keep <= 1.0, where, ": keep_fraction = ", keep, " must be in (0, 1]");
}
}  // namespace detail

/// Non-structured sparsity: at most round(keep_fraction · size) non-zeros per matrix (at least 1).
/// Projection keeps the entries of largest |w|. O(n) selection.
struct irregular_sparsity {
  double keep_fraction = 0.1;

  template <nn::Scalar S>
  [[nodiscard]] matrix<S> support(const matrix<S>& w) const {
    detail::check_keep_fraction("frugal::admm::irregular_sparsity", keep_fraction);
    std::vector<S> score(static_cast<std::size_t>(w.size()));
    for (index_t i = 0; i < w.size(); ++i) score[static_cast<std::size_t>(i)] = std::abs(w.data()[i]);
    matrix<S> mask = matrix<S>::Zero(w.rows(), w.cols());
    for (index_t i : detail::top_k_indices(score, detail::kept_count(keep_fraction, w.size()))) mask.data()[i] = S(1);
    return mask;
  }

  template <nn::Scalar S>
  [[nodiscard]] matrix<S> project(const matrix<S>& w) const {
    return detail::restrict_to(w, support(w));
  }

  [[nodiscard]] std::string describe() const {
    std::ostringstream out;
    out << "irregular, keep " << keep_fraction;
    return out.str();
  }
};

/// Filter sparsity: whole rows (a Linear layer's output neurons, a convolution's filters) are
/// kept or removed; keeps the round(keep_fraction · rows) rows of largest L2 norm.
struct filter_sparsity {
  double keep_fraction = 0.5;

  template <nn::Scalar S>
  [[nodiscard]] matrix<S> support(const matrix<S>& w) const {
    detail::check_keep_fraction("frugal::admm::filter_sparsity", keep_fraction);
    std::vector<S> score(static_cast<std::size_t>(w.rows()));
    for (index_t r = 0; r < w.rows(); ++r) score[static_cast<std::size_t>(r)] = w.row(r).squaredNorm();
    matrix<S> mask = matrix<S>::Zero(w.rows(), w.cols());
    for (index_t r : detail::top_k_indices(score, detail::kept_count(keep_fraction, w.rows()))) mask.row(r).setOnes();
    return mask;
  }

  template <nn::Scalar S>
  [[nodiscard]] matrix<S> project(const matrix<S>& w) const {
    return detail::restrict_to(w, support(w));
  }

  [[nodiscard]] std::string describe() const {
    std::ostringstream out;
    out << "filter (rows), keep " << keep_fraction;
    return out.str();
  }
};

/// Column sparsity: whole columns (a Linear layer's inputs, a convolution's (ky, kx, channel)
/// patch positions) are kept or removed; keeps the columns of largest L2 norm.
struct column_sparsity {
  double keep_fraction = 0.5;

  template <nn::Scalar S>
  [[nodiscard]] matrix<S> support(const matrix<S>& w) const {
    detail::check_keep_fraction("frugal::admm::column_sparsity", keep_fraction);
    std::vector<S> score(static_cast<std::size_t>(w.cols()));
    for (index_t c = 0; c < w.cols(); ++c) score[static_cast<std::size_t>(c)] = w.col(c).squaredNorm();
    matrix<S> mask = matrix<S>::Zero(w.rows(), w.cols());
    for (index_t c : detail::top_k_indices(score, detail::kept_count(keep_fraction, w.cols()))) mask.col(c).setOnes();
    return mask;
  }

  template <nn::Scalar S>
  [[nodiscard]] matrix<S> project(const matrix<S>& w) const {
    return detail::restrict_to(w, support(w));
  }

  [[nodiscard]] std::string describe() const {
    std::ostringstream out;
    out << "column, keep " << keep_fraction;
    return out.str();
  }
};

/// Global irregular sparsity over several matrices at once (one budget shared by all layers):
/// keeps the round(keep_fraction · total) entries of largest |w| across all of them. Returns one
/// mask per matrix. Exact Euclidean projection of the concatenation.
template <nn::Scalar S>
[[nodiscard]] std::vector<matrix<S>> global_irregular_support(std::span<const matrix<S>* const> weights,
                                                              double keep_fraction) {
  detail::check_keep_fraction("frugal::admm::global_irregular_support", keep_fraction);
  std::vector<S> score;
  for (const auto* w : weights)
    for (index_t i = 0; i < w->size(); ++i) score.push_back(std::abs(w->data()[i]));
  std::vector<matrix<S>> masks;
  for (const auto* w : weights) masks.push_back(matrix<S>::Zero(w->rows(), w->cols()));
  for (index_t flat :
       detail::top_k_indices(score, detail::kept_count(keep_fraction, static_cast<index_t>(score.size())))) {
    std::size_t m = 0;
    while (flat >= masks[m].size()) flat -= masks[m++].size();
    masks[m].data()[flat] = S(1);
  }
  return masks;
}

static_assert(SparsityProjection<irregular_sparsity, float> && SparsityProjection<filter_sparsity, double> &&
              SparsityProjection<column_sparsity, float>);

}  // namespace frugal::admm
