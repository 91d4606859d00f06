#pragma once
/// \file
/// Deterministic top-k selection: the indices of the k largest scores, and how many entries a
/// keep fraction leaves. Shared by sparse's BCR pattern selection and admm's projections.

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include "execution.hpp"

namespace frugal {

/// Indices of the k largest scores (ties broken by lower index, so results are deterministic).
template <class T>
std::vector<index_t> top_k_indices(const std::vector<T>& scores, index_t k) {
  std::vector<index_t> order(scores.size());
  std::iota(order.begin(), order.end(), index_t{0});
  k = std::clamp<index_t>(k, 0, static_cast<index_t>(scores.size()));
  auto better = [&](index_t a, index_t b) {
    const auto sa = scores[static_cast<std::size_t>(a)], sb = scores[static_cast<std::size_t>(b)];
    return sa > sb || (sa == sb && a < b);
  };
  std::nth_element(order.begin(), order.begin() + k, order.end(), better);
  order.resize(static_cast<std::size_t>(k));
  std::sort(order.begin(), order.end());
  return order;
}

/// Number of entries a keep fraction leaves of n: round(fraction·n), at least one.
inline index_t kept_count(double keep_fraction, index_t n) {
  return std::clamp<index_t>(static_cast<index_t>(std::llround(keep_fraction * static_cast<double>(n))), n > 0 ? 1 : 0,
                             n);
}

}  // namespace frugal
