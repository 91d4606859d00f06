// The Gaussian process against independent truth: the posterior of a small case computed from the
// kernel formula with a general-purpose solver; the log marginal likelihood's gradient against
// finite differences; one-row Cholesky updates against refactoring; hyperparameter fits that
// raise the likelihood and model a smooth function.
#include <doctest/doctest.h>

#include <frugal/search/gp.hpp>

#include <Eigen/LU>
#include <cmath>

using namespace frugal;
using search::gaussian_process;
using search::kernel_kind;

namespace {

double matern52(double r) {
  const double s = std::sqrt(5.0) * r;
  return (1 + s + s * s / 3) * std::exp(-s);
}

Eigen::MatrixXd random_points(index_t n, index_t d, rng& gen) {
  Eigen::MatrixXd x(n, d);
  for (index_t i = 0; i < n; ++i)
    for (index_t j = 0; j < d; ++j) x(i, j) = gen.uniform();
  return x;
}

}  // namespace

TEST_CASE("gaussian_process: posterior mean and variance of a small case, from the formulas") {
  const Eigen::MatrixXd x{{0.1, 0.2}, {0.5, 0.9}, {0.8, 0.3}};
  const Eigen::VectorXd y{{1.0, -0.5, 2.0}};
  gaussian_process gp(2);
  search::gp_hyperparameters h;
  h.log_lengthscale = Eigen::Vector2d(std::log(0.4), std::log(0.7));
  h.log_signal = std::log(1.3);
  h.log_noise = std::log(0.1);
  gp.set_hyperparameters(h);
  gp.fit(x, y);
  // By hand: standardise y (sample standard deviation), K + σ_n² I, a full-pivot LU solve.
  const double mean = y.mean();
  const double sd = std::sqrt((y.array() - mean).square().sum() / 2);
  const Eigen::VectorXd yt = (y.array() - mean) / sd;
  const auto k = [&](const Eigen::Vector2d& a, const Eigen::Vector2d& b) {
    const double r = std::hypot((a(0) - b(0)) / 0.4, (a(1) - b(1)) / 0.7);
    return 1.3 * 1.3 * matern52(r);
  };
  Eigen::Matrix3d kn;
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) kn(i, j) = k(x.row(i), x.row(j)) + (i == j ? 0.01 : 0.0);
  const Eigen::FullPivLU<Eigen::Matrix3d> lu(kn);
  for (const Eigen::Vector2d& at : {Eigen::Vector2d(0.3, 0.4), Eigen::Vector2d(0.5, 0.9), Eigen::Vector2d(1.5, -1)}) {
    Eigen::Vector3d ks;
    for (int i = 0; i < 3; ++i) ks(i) = k(x.row(i), at);
    const double m = mean + sd * ks.dot(lu.solve(yt));
    const double v = sd * sd * (1.3 * 1.3 - ks.dot(lu.solve(ks)));
    const auto p = gp.predict(at);
    CHECK(p.mean == doctest::Approx(m).epsilon(1e-12));
    CHECK(p.variance == doctest::Approx(v).epsilon(1e-10));
  }
  // Far from the data the prior returns: the mean of y, the variance σ_f²·sd².
  const auto far = gp.predict(Eigen::Vector2d(50, 50));
  CHECK(far.mean == doctest::Approx(mean).epsilon(1e-12));
  CHECK(far.variance == doctest::Approx(1.3 * 1.3 * sd * sd).epsilon(1e-12));
}

TEST_CASE("gaussian_process: the log marginal likelihood's gradient matches finite differences") {
  rng gen(4);
  for (const auto kind : {kernel_kind::matern52, kernel_kind::squared_exponential}) {
    gaussian_process gp(3, {.kernel = kind});
    const Eigen::MatrixXd x = random_points(12, 3, gen);
    Eigen::VectorXd y(12);
    for (index_t i = 0; i < 12; ++i) y(i) = std::sin(3 * x(i, 0)) + x(i, 1) * x(i, 2) + 0.05 * gen.normal();
    gp.fit(x, y);
    search::gp_hyperparameters h;
    h.log_lengthscale = Eigen::Vector3d(std::log(0.3), std::log(0.8), std::log(1.7));
    h.log_signal = std::log(0.9);
    h.log_noise = std::log(0.07);
    Eigen::VectorXd grad;
    (void)gp.log_marginal_likelihood(h, &grad);
    const Eigen::VectorXd theta = h.packed();
    for (index_t t = 0; t < theta.size(); ++t) {
      const double step = 1e-5;
      Eigen::VectorXd up = theta, down = theta;
      up(t) += step;
      down(t) -= step;
      const double fd = (gp.log_marginal_likelihood(search::gp_hyperparameters::unpacked(up)) -
                         gp.log_marginal_likelihood(search::gp_hyperparameters::unpacked(down))) /
                        (2 * step);
      INFO("kernel " << static_cast<int>(kind) << ", parameter " << t);
      CHECK(grad(t) == doctest::Approx(fd).epsilon(1e-6));
    }
  }
}

TEST_CASE("gaussian_process::add extends the factor: the same posterior as fitting everything") {
  rng gen(9);
  const Eigen::MatrixXd x = random_points(20, 4, gen);
  Eigen::VectorXd y(20);
  for (index_t i = 0; i < 20; ++i) y(i) = x.row(i).sum() + std::cos(5 * x(i, 3));
  gaussian_process one_by_one(4), all(4);
  for (index_t i = 0; i < 20; ++i) one_by_one.add(x.row(i).transpose(), y(i));
  all.fit(x, y);
  for (int probe = 0; probe < 10; ++probe) {
    Eigen::VectorXd at(4);
    for (index_t j = 0; j < 4; ++j) at(j) = gen.uniform();
    const auto a = one_by_one.predict(at), b = all.predict(at);
    CHECK(a.mean == doctest::Approx(b.mean).epsilon(1e-9));
    CHECK(a.variance == doctest::Approx(b.variance).epsilon(1e-7));
  }
  // A repeated point with a small noise stays factorisable.
  one_by_one.add(x.row(3).transpose(), y(3));
  CHECK(std::isfinite(one_by_one.predict(x.row(3).transpose()).mean));
}

TEST_CASE("gaussian_process: fitted hyperparameters raise the likelihood and model a smooth function") {
  rng gen(2);
  gaussian_process gp(1);
  Eigen::MatrixXd x(15, 1);
  Eigen::VectorXd y(15);
  for (index_t i = 0; i < 15; ++i) {
    x(i, 0) = static_cast<double>(i) / 14;
    y(i) = std::sin(6 * x(i, 0)) + 0.5;
  }
  gp.fit(x, y);
  const double before = gp.log_marginal_likelihood(gp.hyperparameters());
  const double after = gp.optimize_hyperparameters(gen);
  CHECK(after > before);
  CHECK(after == doctest::Approx(gp.log_marginal_likelihood(gp.hyperparameters())));
  double worst = 0;
  for (double t = 0.02; t < 1; t += 0.07)
    worst = std::max(worst, std::abs(gp.predict(Eigen::VectorXd::Constant(1, t)).mean - (std::sin(6 * t) + 0.5)));
  INFO("largest error between the points " << worst);
  CHECK(worst < 0.02);
}

TEST_CASE("gaussian_process: the lengthscale prior's gradient matches finite differences") {
  gaussian_process gp(3);
  Eigen::VectorXd theta(5);
  theta << -1.2, 0.3, 1.7, 0.1, -3;
  Eigen::VectorXd grad = Eigen::VectorXd::Zero(5);
  const double lp = gp.log_prior(theta, &grad);
  CHECK(lp == doctest::Approx(3 * (-1.2 + 0.3 + 1.7) - 6 * (std::exp(-1.2) + std::exp(0.3) + std::exp(1.7))));
  for (index_t t = 0; t < 5; ++t) {
    Eigen::VectorXd up = theta, down = theta;
    up(t) += 1e-6;
    down(t) -= 1e-6;
    CHECK(grad(t) == doctest::Approx((gp.log_prior(up) - gp.log_prior(down)) / 2e-6).epsilon(1e-6));
  }
  gaussian_process flat(3, {.lengthscale_prior_shape = 0});
  CHECK(flat.log_prior(theta) == 0);
}

TEST_CASE("gaussian_process refuses mismatched and non-finite data") {
  gaussian_process gp(2);
  CHECK_THROWS_AS(gp.fit(Eigen::MatrixXd::Zero(3, 3), Eigen::VectorXd::Zero(3)), invalid_argument);
  CHECK_THROWS_AS(gp.fit(Eigen::MatrixXd::Zero(3, 2), Eigen::VectorXd::Zero(2)), invalid_argument);
  CHECK_THROWS_AS(gp.add(Eigen::Vector2d(0.1, std::nan("")), 1.0), invalid_argument);
  CHECK_THROWS_AS((void)gp.predict(Eigen::Vector3d::Zero()), invalid_argument);
  CHECK_THROWS_AS(gaussian_process(0), invalid_argument);
  rng gen(1);
  CHECK_THROWS_AS(gp.optimize_hyperparameters(gen), invalid_argument);
}
