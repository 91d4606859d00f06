#pragma once
/// \file
/// Acquisition functions over a Gaussian posterior (mean μ, standard deviation σ), every objective
/// minimised: expected improvement in a log form that stays finite where EI underflows, the lower
/// confidence bound, and the expected hypervolume improvement of two independent objectives,
/// exact (a sum over the strips of the non-dominated region), with a Monte-Carlo estimate for
/// any number of objectives.

#include <Eigen/Core>

#include <cmath>
#include <limits>
#include <numbers>
#include <vector>

#include "../core/error.hpp"
#include "../core/rng.hpp"
#include "pareto.hpp"

namespace frugal::search {

namespace detail {
inline double normal_pdf(double z) { return std::exp(-0.5 * z * z) / std::sqrt(2 * std::numbers::pi); }
inline double normal_cdf(double z) { return 0.5 * std::erfc(-z / std::numbers::sqrt2); }
}  // namespace detail

/// log E[max(best − f, 0)] for f ~ N(mean, sd²): the log of expected improvement below `best`.
/// Finite for any finite input with sd > 0 (EI itself underflows to 0 near z = (best − mean)/sd = −38).
[[nodiscard]] inline double log_expected_improvement(double mean, double sd, double best) {
  check(sd > 0, "frugal::search::log_expected_improvement: sd = ", sd, "; must be positive");
  const double z = (best - mean) / sd;
  // EI = sd · h(z), h(z) = φ(z) + z Φ(z). The direct sum cancels to a relative error of about
  // ε·z² (1e-13 at z = −25) and φ underflows near z = −38; below −25 the asymptotic series
  // h(z) = φ(z)/z² · (1 − 3/z² + 15/z⁴ − 105/z⁶ + 945/z⁸ − 10395/z¹⁰), whose first omitted term is
  // 2e-12 of the sum at z = −25, takes over.
  if (z > -25) return std::log(sd) + std::log(detail::normal_pdf(z) + z * detail::normal_cdf(z));
  const double w = 1 / (z * z);
  const double series = 1 + w * (-3 + w * (15 + w * (-105 + w * (945 + w * -10395))));
  return std::log(sd) - 0.5 * z * z - 0.5 * std::log(2 * std::numbers::pi) - 2 * std::log(-z) + std::log(series);
}

/// The lower confidence bound mean − β·sd (minimise it to explore where it is low or unknown).
[[nodiscard]] inline double lower_confidence_bound(double mean, double sd, double beta) {
  check(sd >= 0 && beta >= 0, "frugal::search::lower_confidence_bound: sd and beta must be non-negative");
  return mean - beta * sd;
}

/// The expected hypervolume improvement over `front` (n × 2, minimised) below `ref` of a point whose
/// two objectives are independent normals N(mean(k), sd(k)²). Exact.
[[nodiscard]] inline double expected_hypervolume_improvement_2d(const Eigen::MatrixXd& front,
                                                                const Eigen::VectorXd& ref, const Eigen::Vector2d& mean,
                                                                const Eigen::Vector2d& sd) {
  constexpr auto where = "frugal::search::expected_hypervolume_improvement_2d";
  check(front.cols() == 2 && ref.size() == 2, where, ": two objectives");
  check(sd(0) > 0 && sd(1) > 0, where, ": standard deviations must be positive");
  // The front's non-dominated points below ref, by the first objective ascending (the second then
  // descends).
  std::vector<std::pair<double, double>> p;
  for (index_t i : pareto_indices(front))
    if (front(i, 0) < ref(0) && front(i, 1) < ref(1)) p.emplace_back(front(i, 0), front(i, 1));
  std::sort(p.begin(), p.end());
  // Strip s covers first objectives [a_s, b_s), where the non-dominated region is second < c_s.
  // HVI(y) = Σ_s (b_s − max(y₁, a_s))⁺ (c_s − y₂)⁺, and y₁, y₂ are independent.
  const auto upper_part = [&](double c) {  // E[(c − Y₂)⁺]
    const double u = (c - mean(1)) / sd(1);
    return (c - mean(1)) * detail::normal_cdf(u) + sd(1) * detail::normal_pdf(u);
  };
  const auto width_part = [&](double a, double b, bool from_minus_infinity) {  // E[(b − max(Y₁, a))⁺]
    const double beta = (b - mean(0)) / sd(0);
    if (from_minus_infinity) return (b - mean(0)) * detail::normal_cdf(beta) + sd(0) * detail::normal_pdf(beta);
    const double alpha = (a - mean(0)) / sd(0);
    return (b - a) * detail::normal_cdf(alpha) +
           (b - mean(0)) * (detail::normal_cdf(beta) - detail::normal_cdf(alpha)) +
           sd(0) * (detail::normal_pdf(beta) - detail::normal_pdf(alpha));
  };
  double total = 0;
  for (std::size_t s = 0; s <= p.size(); ++s) {
    const double a = s == 0 ? 0.0 : p[s - 1].first;
    const double b = s < p.size() ? p[s].first : ref(0);
    const double c = s == 0 ? ref(1) : p[s - 1].second;
    if (s > 0 && b <= a) continue;
    total += width_part(a, b, s == 0) * upper_part(c);
  }
  return total;
}

/// A Monte-Carlo estimate of the expected hypervolume improvement (2 or 3 objectives, independent
/// normals) from `samples` draws of `gen`.
[[nodiscard]] inline double expected_hypervolume_improvement_mc(const Eigen::MatrixXd& front,
                                                                const Eigen::VectorXd& ref, const Eigen::VectorXd& mean,
                                                                const Eigen::VectorXd& sd, int samples, rng& gen) {
  check(mean.size() == ref.size() && sd.size() == ref.size() && front.cols() == ref.size() && samples > 0,
        "frugal::search::expected_hypervolume_improvement_mc: sizes disagree or no samples");
  const double base = hypervolume(front, ref);
  Eigen::MatrixXd with(front.rows() + 1, front.cols());
  with.topRows(front.rows()) = front;
  double sum = 0;
  for (int k = 0; k < samples; ++k) {
    for (index_t j = 0; j < ref.size(); ++j) with(front.rows(), j) = mean(j) + sd(j) * gen.normal();
    sum += hypervolume(with, ref) - base;
  }
  return sum / samples;
}

}  // namespace frugal::search
