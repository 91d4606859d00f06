#pragma once
/// \file
/// Output warping for the Gaussian process: the Yeo-Johnson power transform (Yeo & Johnson 2000),
/// its exponent fitted by maximum likelihood, as HEBO (Cowen-Rivers et al. 2022) applies to the
/// objective before the surrogate sees it. Objectives with a long tail towards their minimum (most
/// random points poor, a few far better) make a stationary process with one signal variance fit
/// the tail badly; the transform brings the values closer to normal. It is monotone increasing,
/// so the minimiser and the order of the values are unchanged.

#include <Eigen/Core>

#include <algorithm>
#include <cmath>

#include "../core/error.hpp"
#include "../core/execution.hpp"

namespace frugal::search {

/// The Yeo-Johnson transform of one value with exponent `lambda`.
[[nodiscard]] inline double yeo_johnson(double y, double lambda) {
  constexpr double eps = 1e-12;
  if (y >= 0) return std::abs(lambda) < eps ? std::log1p(y) : (std::pow(y + 1, lambda) - 1) / lambda;
  return std::abs(lambda - 2) < eps ? -std::log1p(-y) : -(std::pow(1 - y, 2 - lambda) - 1) / (2 - lambda);
}

/// The profile log-likelihood of `lambda` for `y` under a normal model of the transformed values.
[[nodiscard]] inline double yeo_johnson_log_likelihood(const Eigen::VectorXd& y, double lambda) {
  const auto n = static_cast<double>(y.size());
  Eigen::VectorXd t(y.size());
  double jacobian = 0;
  for (index_t i = 0; i < y.size(); ++i) {
    t(i) = yeo_johnson(y(i), lambda);
    jacobian += (y(i) >= 0 ? 1.0 : -1.0) * std::log1p(std::abs(y(i)));
  }
  const double var = (t.array() - t.mean()).square().sum() / n;
  return -0.5 * n * std::log(std::max(var, 1e-300)) + (lambda - 1) * jacobian;
}

/// The maximum-likelihood exponent in [lo, hi] (golden-section search after a coarse grid).
[[nodiscard]] inline double fit_yeo_johnson(const Eigen::VectorXd& y, double lo = -2, double hi = 4) {
  check(y.size() >= 2 && y.allFinite(), "frugal::search::fit_yeo_johnson: needs at least two finite values");
  check(lo < hi, "frugal::search::fit_yeo_johnson: lo must be below hi");
  constexpr int grid = 24;
  int best = 0;
  double top = -INFINITY;
  for (int k = 0; k <= grid; ++k) {
    const double v = yeo_johnson_log_likelihood(y, lo + (hi - lo) * k / grid);
    if (v > top) {
      top = v;
      best = k;
    }
  }
  double a = lo + (hi - lo) * std::max(best - 1, 0) / grid, b = lo + (hi - lo) * std::min(best + 1, grid) / grid;
  const double g = (std::sqrt(5.0) - 1) / 2;
  double c = b - g * (b - a), d = a + g * (b - a);
  double fc = yeo_johnson_log_likelihood(y, c), fd = yeo_johnson_log_likelihood(y, d);
  for (int it = 0; it < 60 && b - a > 1e-8; ++it) {
    if (fc > fd) {
      b = d;
      d = c;
      fd = fc;
      c = b - g * (b - a);
      fc = yeo_johnson_log_likelihood(y, c);
    } else {
      a = c;
      c = d;
      fc = fd;
      d = a + g * (b - a);
      fd = yeo_johnson_log_likelihood(y, d);
    }
  }
  return (a + b) / 2;
}

/// `y` standardised, Yeo-Johnson transformed with the fitted exponent (HEBO's order); a constant
/// `y` is returned centred.
[[nodiscard]] inline Eigen::VectorXd warp_outputs(const Eigen::VectorXd& y) {
  check(y.allFinite(), "frugal::search::warp_outputs: values must be finite");
  if (y.size() < 2) return Eigen::VectorXd::Zero(y.size());
  const double mean = y.mean();
  const double sd = std::sqrt((y.array() - mean).square().sum() / static_cast<double>(y.size()));
  if (!(sd > 0)) return Eigen::VectorXd::Zero(y.size());
  const Eigen::VectorXd z = (y.array() - mean) / sd;
  const double lambda = fit_yeo_johnson(z);
  Eigen::VectorXd out(z.size());
  for (index_t i = 0; i < z.size(); ++i) out(i) = yeo_johnson(z(i), lambda);
  return out;
}

}  // namespace frugal::search
