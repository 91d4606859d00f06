#pragma once
/// \file
/// Standard benchmark functions of Bayesian optimisation, all minimised, on the unit cube unless
/// stated: Branin (its own box), Hartmann-6, ZDT1 and Branin-Currin. The tests, the benchmarks and
/// users comparing against BoTorch or the literature use the same definitions.

#include <Eigen/Core>

#include <algorithm>
#include <cmath>
#include <numbers>

#include "../core/error.hpp"
#include "space.hpp"

namespace frugal::search::test_functions {

/// Branin on x₁ ∈ [−5, 10], x₂ ∈ [0, 15]; minimum 0.397887… at three points.
[[nodiscard]] inline double branin(double x1, double x2) {
  const double b = 5.1 / (4 * std::numbers::pi * std::numbers::pi), c = 5 / std::numbers::pi,
               t = 1 / (8 * std::numbers::pi);
  return std::pow(x2 - b * x1 * x1 + c * x1 - 6, 2) + 10 * (1 - t) * std::cos(x1) + 10;
}
inline constexpr double branin_minimum = 0.397887357729739;

/// Hartmann-6 on [0, 1]⁶; minimum −3.32237 (a local one at −3.2032).
[[nodiscard]] inline double hartmann6(const point& x) {
  check(x.size() == 6, "frugal::search::test_functions::hartmann6: 6 coordinates, not ", x.size());
  static constexpr double alpha[4] = {1.0, 1.2, 3.0, 3.2};
  static constexpr double a[4][6] = {
      {10, 3, 17, 3.5, 1.7, 8}, {0.05, 10, 17, 0.1, 8, 14}, {3, 3.5, 1.7, 10, 17, 8}, {17, 8, 0.05, 10, 0.1, 14}};
  static constexpr double p[4][6] = {{0.1312, 0.1696, 0.5569, 0.0124, 0.8283, 0.5886},
                                     {0.2329, 0.4135, 0.8307, 0.3736, 0.1004, 0.9991},
                                     {0.2348, 0.1451, 0.3522, 0.2883, 0.3047, 0.6650},
                                     {0.4047, 0.8828, 0.8732, 0.5743, 0.1091, 0.0381}};
  double f = 0;
  for (int i = 0; i < 4; ++i) {
    double e = 0;
    for (int j = 0; j < 6; ++j)
      e += a[i][j] * (x[static_cast<std::size_t>(j)] - p[i][j]) * (x[static_cast<std::size_t>(j)] - p[i][j]);
    f -= alpha[i] * std::exp(-e);
  }
  return f;
}
inline constexpr double hartmann6_minimum = -3.32236801141551;

/// ZDT1 on [0, 1]^d (d ≥ 2): two objectives; the front is f₂ = 1 − √f₁ (hypervolume 120 + 2/3
/// against the reference (11, 11)).
[[nodiscard]] inline Eigen::Vector2d zdt1(const point& x) {
  check(x.size() >= 2, "frugal::search::test_functions::zdt1: at least 2 coordinates");
  double g = 0;
  for (std::size_t i = 1; i < x.size(); ++i) g += x[i];
  g = 1 + 9 * g / static_cast<double>(x.size() - 1);
  return {x[0], g * (1 - std::sqrt(x[0] / g))};
}

/// Branin-Currin on [0, 1]² (BoTorch's): Branin rescaled to the unit square, and Currin's
/// exponential function; BoTorch's reference point is (18, 6).
[[nodiscard]] inline Eigen::Vector2d branin_currin(const point& x) {
  check(x.size() == 2, "frugal::search::test_functions::branin_currin: 2 coordinates, not ", x.size());
  // Currin's 1/(2 x₂) is singular at x₂ = 0, where the factor's limit is 1.
  const double u = x[0], v = std::max(x[1], 1e-12);
  const double currin = (1 - std::exp(-1 / (2 * v))) * (2300 * u * u * u + 1900 * u * u + 2092 * u + 60) /
                        (100 * u * u * u + 500 * u * u + 4 * u + 20);
  return {branin(15 * x[0] - 5, 15 * x[1]), currin};
}

}  // namespace frugal::search::test_functions
