#pragma once
/// \file
/// Pareto fronts and hypervolumes, every objective minimised. The hypervolume of a set of points
/// with respect to a reference point r is the measure of the region they dominate inside the box
/// below r: exact here in two objectives (a sweep, O(n log n)) and three (slices along the third
/// objective, each a two-objective sweep, O(n² log n)).

#include <Eigen/Core>

#include <algorithm>
#include <vector>

#include "../core/error.hpp"
#include "../core/execution.hpp"

namespace frugal::search {

/// Whether a dominates b: no worse in every objective, better in one (minimisation).
[[nodiscard]] inline bool dominates(const Eigen::VectorXd& a, const Eigen::VectorXd& b) {
  check(a.size() == b.size(), "frugal::search::dominates: ", a.size(), " and ", b.size(), " objectives");
  return (a.array() <= b.array()).all() && (a.array() < b.array()).any();
}

/// The indices of the non-dominated rows of `y` (n points × m objectives), ascending; of equal
/// rows, the first.
[[nodiscard]] inline std::vector<index_t> pareto_indices(const Eigen::MatrixXd& y) {
  std::vector<index_t> out;
  for (index_t i = 0; i < y.rows(); ++i) {
    bool kept = true;
    for (index_t j = 0; j < y.rows() && kept; ++j) {
      if (j == i) continue;
      const bool equal = (y.row(j).array() == y.row(i).array()).all();
      if (dominates(y.row(j).transpose(), y.row(i).transpose()) || (equal && j < i)) kept = false;
    }
    if (kept) out.push_back(i);
  }
  return out;
}

namespace detail {

/// Two-objective hypervolume of (x, y) pairs below (rx, ry).
inline double hypervolume_2d(std::vector<std::pair<double, double>> points, double rx, double ry) {
  std::erase_if(points, [&](const auto& p) { return !(p.first < rx && p.second < ry); });
  std::sort(points.begin(), points.end());
  // The front: by the first objective ascending, each point lower in the second than all before.
  std::vector<std::pair<double, double>> front;
  for (const auto& p : points)
    if (front.empty() || p.second < front.back().second) front.push_back(p);
  double volume = 0;
  for (std::size_t i = 0; i < front.size(); ++i) {
    const double next_x = i + 1 < front.size() ? front[i + 1].first : rx;
    volume += (next_x - front[i].first) * (ry - front[i].second);
  }
  return volume;
}

}  // namespace detail

/// The hypervolume dominated by the rows of `y` (n × m, m = 2 or 3) inside the box below `ref`.
/// Points not strictly below `ref` in every objective add nothing.
[[nodiscard]] inline double hypervolume(const Eigen::MatrixXd& y, const Eigen::VectorXd& ref) {
  constexpr auto where = "frugal::search::hypervolume";
  check(y.cols() == ref.size(), where, ": points of ", y.cols(), " objectives, a reference of ", ref.size());
  check(ref.size() == 2 || ref.size() == 3, where, ": exact in 2 or 3 objectives, not ", ref.size(),
        " (use a Monte-Carlo estimate)");
  check(y.allFinite() && ref.allFinite(), where, ": points and reference must be finite");
  if (ref.size() == 2) {
    std::vector<std::pair<double, double>> p;
    for (index_t i = 0; i < y.rows(); ++i) p.emplace_back(y(i, 0), y(i, 1));
    return detail::hypervolume_2d(std::move(p), ref(0), ref(1));
  }
  // Three objectives: sweep the third; between consecutive levels the dominated slice is the 2-D
  // hypervolume of the points at or below that level.
  std::vector<index_t> order;
  for (index_t i = 0; i < y.rows(); ++i)
    if ((y.row(i).transpose().array() < ref.array()).all()) order.push_back(i);
  std::sort(order.begin(), order.end(), [&](index_t a, index_t b) { return y(a, 2) < y(b, 2); });
  double volume = 0;
  std::vector<std::pair<double, double>> slice;
  for (std::size_t k = 0; k < order.size(); ++k) {
    slice.emplace_back(y(order[k], 0), y(order[k], 1));
    const double top = k + 1 < order.size() ? y(order[k + 1], 2) : ref(2);
    if (top > y(order[k], 2)) volume += detail::hypervolume_2d(slice, ref(0), ref(1)) * (top - y(order[k], 2));
  }
  return volume;
}

}  // namespace frugal::search
