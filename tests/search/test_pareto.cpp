// Pareto fronts and hypervolumes against known values (ZDT1's front) and inclusion–exclusion over
// small random sets; log EI against the direct formula and its asymptotic tail; exact 2-D EHVI
// against a Monte-Carlo average of hypervolume improvements.
#include <doctest/doctest.h>

#include <frugal/search/acquisition.hpp>
#include <frugal/search/pareto.hpp>

#include <cmath>
#include <vector>

using namespace frugal;

namespace {

/// The volume of the union of the boxes [y_i, ref] by inclusion–exclusion: independent of the
/// sweeps, exponential in n.
double union_volume(const Eigen::MatrixXd& y, const Eigen::VectorXd& ref) {
  const auto n = static_cast<unsigned>(y.rows());
  double total = 0;
  for (unsigned mask = 1; mask < (1u << n); ++mask) {
    Eigen::VectorXd low = Eigen::VectorXd::Constant(ref.size(), -1e300);
    int count = 0;
    for (unsigned i = 0; i < n; ++i)
      if (mask & (1u << i)) {
        low = low.cwiseMax(y.row(i).transpose());
        ++count;
      }
    double v = 1;
    for (index_t j = 0; j < ref.size(); ++j) v *= std::max(ref(j) - low(j), 0.0);
    total += (count % 2 ? 1 : -1) * v;
  }
  return total;
}

}  // namespace

TEST_CASE("hypervolume: ZDT1's front against (11, 11) approaches 120 + 2/3") {
  const int n = 20001;
  Eigen::MatrixXd front(n, 2);
  for (int i = 0; i < n; ++i) {
    const double f1 = static_cast<double>(i) / (n - 1);
    front(i, 0) = f1;
    front(i, 1) = 1 - std::sqrt(f1);
  }
  const double hv = search::hypervolume(front, Eigen::Vector2d(11, 11));
  CHECK(hv < 120 + 2.0 / 3);  // a finite sample dominates less than the curve
  CHECK(hv > 120 + 2.0 / 3 - 1e-4);
}

TEST_CASE("hypervolume in 2 and 3 objectives equals inclusion–exclusion on random sets") {
  rng gen(5);
  for (int m : {2, 3})
    for (int trial = 0; trial < 40; ++trial) {
      const int n = 1 + static_cast<int>(gen.uniform_int(9));
      Eigen::MatrixXd y(n, m);
      for (int i = 0; i < n; ++i)
        for (int j = 0; j < m; ++j) y(i, j) = gen.uniform(0, 1.2);  // some points beyond the reference
      const Eigen::VectorXd ref = Eigen::VectorXd::Ones(m);
      Eigen::MatrixXd inside(0, m);
      for (int i = 0; i < n; ++i)
        if ((y.row(i).array() < 1).all()) {
          inside.conservativeResize(inside.rows() + 1, m);
          inside.row(inside.rows() - 1) = y.row(i);
        }
      INFO(m << " objectives, " << n << " points");
      CHECK(search::hypervolume(y, ref) == doctest::Approx(union_volume(inside, ref)).epsilon(1e-12));
    }
  CHECK_THROWS_AS((void)search::hypervolume(Eigen::MatrixXd::Zero(2, 4), Eigen::VectorXd::Ones(4)), invalid_argument);
}

TEST_CASE("pareto_indices: the non-dominated rows, one of each repeated point") {
  Eigen::MatrixXd y{{1, 5}, {2, 2}, {3, 3}, {2, 2}, {5, 1}, {0.5, 6}};
  CHECK(search::pareto_indices(y) == std::vector<index_t>{0, 1, 4, 5});
}

TEST_CASE("log expected improvement: the formula, and finite where EI underflows") {
  for (double z : {3.0, 0.5, 0.0, -2.0, -5.5}) {
    const double ei = 0.7 * (search::detail::normal_pdf(z) + z * search::detail::normal_cdf(z));
    CHECK(search::log_expected_improvement(1.0 - 0.7 * z, 0.7, 1.0) == doctest::Approx(std::log(ei)).epsilon(1e-9));
  }
  // The tail series takes over from z = −25; the direct form is still accurate to about 1e-12 down
  // to z = −30, where the two must agree.
  for (double z : {-25.0, -27.0, -30.0}) {
    const double direct = std::log(search::detail::normal_pdf(z) + z * search::detail::normal_cdf(z));
    CHECK(search::log_expected_improvement(-z, 1.0, 0.0) == doctest::Approx(direct).epsilon(1e-11));
  }
  double previous = 0;
  for (double z = -10; z > -1000; z *= 1.5) {
    const double v = search::log_expected_improvement(-z, 1.0, 0.0);
    CHECK(std::isfinite(v));
    if (z < -10) CHECK(v < previous);  // decreasing as the mean moves away
    previous = v;
  }
}

TEST_CASE("exact 2-D expected hypervolume improvement equals a Monte-Carlo average of improvements") {
  const Eigen::MatrixXd front{{0.2, 0.8}, {0.4, 0.5}, {0.7, 0.3}, {0.9, 0.95}};  // the last is dominated
  const Eigen::Vector2d ref(1, 1);
  rng gen(7);
  for (const auto& [mean, sd] : {std::pair{Eigen::Vector2d(0.5, 0.5), Eigen::Vector2d(0.2, 0.1)},
                                 std::pair{Eigen::Vector2d(0.1, 0.2), Eigen::Vector2d(0.05, 0.3)},
                                 std::pair{Eigen::Vector2d(1.2, 0.9), Eigen::Vector2d(0.3, 0.3)}}) {
    const double exact = search::expected_hypervolume_improvement_2d(front, ref, mean, sd);
    // Monte Carlo with its standard error.
    const int samples = 200000;
    const double base = search::hypervolume(front, ref);
    Eigen::MatrixXd with(front.rows() + 1, 2);
    with.topRows(front.rows()) = front;
    double sum = 0, sum2 = 0;
    for (int k = 0; k < samples; ++k) {
      with(front.rows(), 0) = mean(0) + sd(0) * gen.normal();
      with(front.rows(), 1) = mean(1) + sd(1) * gen.normal();
      const double gain = search::hypervolume(with, ref) - base;
      sum += gain;
      sum2 += gain * gain;
    }
    const double mc = sum / samples, se = std::sqrt((sum2 / samples - mc * mc) / samples);
    INFO("exact " << exact << ", Monte Carlo " << mc << " ± " << se);
    CHECK(std::abs(exact - mc) < 4 * se + 1e-12);
    CHECK(exact > 0);
    const double estimate = search::expected_hypervolume_improvement_mc(front, ref, mean, sd, 20000, gen);
    CHECK(std::abs(estimate - exact) < 0.05 * exact + 1e-9);
  }
}
