#pragma once
/// \file
/// Gaussian-process regression on Eigen, the surrogate of frugal's Bayesian optimisation.
///
/// Inputs are expected in the unit cube (the search space maps its dimensions there); outputs are
/// standardised internally (mean 0, standard deviation 1) and predictions are returned in the
/// caller's units. The kernel is a Matérn-5/2 or squared-exponential with one lengthscale per
/// dimension (ARD), a signal standard deviation and a noise standard deviation, all kept as
/// logarithms. Hyperparameters maximise the log marginal likelihood (analytic gradient) with
/// L-BFGS-B from LBFGS++ (`liblbfgspp-dev`), from the current point and random restarts. Adding one
/// observation extends the Cholesky factor by one row, O(n²), instead of refactoring, O(n³).

#if !__has_include(<LBFGSB.h>)
#error "frugal/search needs LBFGS++ (Debian: apt-get install liblbfgspp-dev; or add its include directory)"
#endif
#include <LBFGSB.h>
#include <Eigen/Cholesky>
#include <Eigen/Core>

#include <cmath>
#include <limits>
#include <numbers>
#include <vector>

#include "../core/error.hpp"
#include "../core/execution.hpp"
#include "../core/rng.hpp"

namespace frugal::search {

enum class kernel_kind {
  matern52,             ///< (1 + √5 r + 5r²/3) e^{−√5 r}: rough enough for most objectives
  squared_exponential,  ///< e^{−r²/2}: very smooth functions
};

/// Hyperparameters, as logarithms: one lengthscale per input dimension, the signal and the noise
/// standard deviations (of the standardised outputs).
struct gp_hyperparameters {
  Eigen::VectorXd log_lengthscale;
  double log_signal = 0;
  double log_noise = std::log(1e-3);

  /// [log ℓ₁ … log ℓ_d, log σ_f, log σ_n]
  [[nodiscard]] Eigen::VectorXd packed() const {
    Eigen::VectorXd v(log_lengthscale.size() + 2);
    v << log_lengthscale, log_signal, log_noise;
    return v;
  }
  [[nodiscard]] static gp_hyperparameters unpacked(const Eigen::VectorXd& v) {
    check(v.size() >= 3, "frugal::search::gp_hyperparameters::unpacked: ", v.size(), " values; need d + 2 ≥ 3");
    return {v.head(v.size() - 2), v(v.size() - 2), v(v.size() - 1)};
  }
};

struct gp_options {
  kernel_kind kernel = kernel_kind::matern52;
  /// Bounds of the hyperparameter search, as standard deviations and lengthscales (not logs). The
  /// noise floor keeps the factorisation well conditioned when observations repeat.
  double min_lengthscale = 1e-3, max_lengthscale = 1e2;
  double min_signal = 1e-2, max_signal = 1e2;
  double min_noise = 1e-4, max_noise = 1.0;
  int restarts = 4;          ///< random starts besides the current hyperparameters
  int max_iterations = 100;  ///< L-BFGS-B iterations per start
};

/// Posterior of the latent function at one point, in the caller's units.
struct gp_prediction {
  double mean = 0;
  double variance = 0;  ///< of the latent function (observation noise excluded)
};

class gaussian_process {
 public:
  /// \param dims input dimension (points in [0, 1]^dims)
  explicit gaussian_process(index_t dims, gp_options options = {}) : m_dims(dims), m_options(options) {
    check(dims >= 1, "frugal::search::gaussian_process: dims = ", dims, "; need at least 1");
    check(options.min_lengthscale > 0 && options.min_lengthscale < options.max_lengthscale && options.min_signal > 0 &&
              options.min_signal < options.max_signal && options.min_noise > 0 && options.min_noise < options.max_noise,
          "frugal::search::gaussian_process: hyperparameter bounds must be positive and increasing");
    m_hyper.log_lengthscale = Eigen::VectorXd::Constant(dims, std::log(0.3));
    m_hyper.log_noise = std::log(std::max(options.min_noise, 1e-3));
  }

  [[nodiscard]] index_t dims() const noexcept { return m_dims; }
  [[nodiscard]] index_t size() const noexcept { return static_cast<index_t>(m_y.size()); }
  [[nodiscard]] const gp_hyperparameters& hyperparameters() const noexcept { return m_hyper; }
  [[nodiscard]] const gp_options& options() const noexcept { return m_options; }

  /// Uses these hyperparameters from now on (refactorises).
  void set_hyperparameters(const gp_hyperparameters& h) {
    check(h.log_lengthscale.size() == m_dims,
          "frugal::search::gaussian_process::set_hyperparameters: ", h.log_lengthscale.size(), " lengthscales for ",
          m_dims, " dimensions");
    m_hyper = h;
    refactor();
  }

  /// Replaces the data: `x` is n × dims, `y` has n finite values.
  void fit(const Eigen::MatrixXd& x, const Eigen::VectorXd& y) {
    check(x.cols() == m_dims, "frugal::search::gaussian_process::fit: inputs have ", x.cols(), " columns, the process ",
          m_dims, " dimensions");
    check(x.rows() == y.size(), "frugal::search::gaussian_process::fit: ", x.rows(), " inputs and ", y.size(),
          " outputs");
    check(x.allFinite() && y.allFinite(), "frugal::search::gaussian_process::fit: inputs and outputs must be finite");
    m_x = x;
    m_y = y;
    refactor();
  }

  /// Adds one observation, extending the Cholesky factor by a row (O(n²)).
  void add(const Eigen::VectorXd& x, double y) {
    check(x.size() == m_dims, "frugal::search::gaussian_process::add: a point of ", x.size(), " values for ", m_dims,
          " dimensions");
    check(x.allFinite() && std::isfinite(y),
          "frugal::search::gaussian_process::add: the point and value must be finite");
    const index_t n = size();
    m_x.conservativeResize(n + 1, m_dims);
    m_x.row(n) = x.transpose();
    m_y.conservativeResize(n + 1);
    m_y(n) = y;
    if (n == 0) {
      refactor();
      return;
    }
    // New row of L: l = L⁻¹ k(X, x), d = sqrt(k(x, x) + σ_n² − lᵀl).
    Eigen::VectorXd k(n);
    for (index_t i = 0; i < n; ++i) k(i) = covariance(m_x.row(i).transpose(), x);
    const Eigen::VectorXd l = m_chol.triangularView<Eigen::Lower>().solve(k);
    const double d2 = signal_variance() + noise_variance() - l.squaredNorm();
    if (!(d2 > 1e-12 * signal_variance())) {  // lost to rounding: start over
      refactor();
      return;
    }
    m_chol.conservativeResize(n + 1, n + 1);
    m_chol.row(n).head(n) = l.transpose();
    m_chol.col(n).head(n).setZero();
    m_chol(n, n) = std::sqrt(d2);
    restandardise();
  }

  /// Posterior mean and latent variance at `x`; with no data, the prior.
  [[nodiscard]] gp_prediction predict(const Eigen::VectorXd& x) const {
    check(x.size() == m_dims, "frugal::search::gaussian_process::predict: a point of ", x.size(), " values for ",
          m_dims, " dimensions");
    const index_t n = size();
    if (n == 0) return {0.0, signal_variance()};
    Eigen::VectorXd k(n);
    for (index_t i = 0; i < n; ++i) k(i) = covariance(m_x.row(i).transpose(), x);
    const double mean = k.dot(m_alpha);
    const Eigen::VectorXd v = m_chol.triangularView<Eigen::Lower>().solve(k);
    const double var = std::max(signal_variance() - v.squaredNorm(), 0.0);
    return {m_y_mean + m_y_scale * mean, m_y_scale * m_y_scale * var};
  }

  /// log p(y | X, θ) of the standardised outputs, and its gradient with respect to `h.packed()`
  /// when `gradient` is not null. O(n³).
  [[nodiscard]] double log_marginal_likelihood(const gp_hyperparameters& h, Eigen::VectorXd* gradient = nullptr) const {
    check(h.log_lengthscale.size() == m_dims,
          "frugal::search::gaussian_process::log_marginal_likelihood: ", h.log_lengthscale.size(), " lengthscales for ",
          m_dims, " dimensions");
    const index_t n = size();
    check(n >= 1, "frugal::search::gaussian_process::log_marginal_likelihood: no data");
    const Eigen::VectorXd ell = h.log_lengthscale.array().exp();
    const double sf2 = std::exp(2 * h.log_signal), sn2 = std::exp(2 * h.log_noise);
    Eigen::MatrixXd kmat(n, n);
    for (index_t i = 0; i < n; ++i)
      for (index_t j = 0; j <= i; ++j) kmat(i, j) = kmat(j, i) = sf2 * shape(radius(i, j, ell));
    Eigen::MatrixXd kn = kmat;
    kn.diagonal().array() += sn2;
    const Eigen::LLT<Eigen::MatrixXd> llt(kn);
    if (llt.info() != Eigen::Success) {
      if (gradient) gradient->setZero(m_dims + 2);
      return -std::numeric_limits<double>::infinity();
    }
    const Eigen::VectorXd yt = standardised();
    const Eigen::VectorXd alpha = llt.solve(yt);
    const Eigen::MatrixXd lower = llt.matrixL();
    const double logdet = 2 * lower.diagonal().array().log().sum();
    const double lml =
        -0.5 * yt.dot(alpha) - 0.5 * logdet - 0.5 * static_cast<double>(n) * std::log(2 * std::numbers::pi);
    if (gradient) {
      // ∂/∂θ = ½ tr((ααᵀ − K⁻¹) ∂K/∂θ)
      const Eigen::MatrixXd w = alpha * alpha.transpose() - llt.solve(Eigen::MatrixXd::Identity(n, n));
      gradient->setZero(m_dims + 2);
      for (index_t i = 0; i < n; ++i)
        for (index_t j = 0; j < n; ++j) {
          const double r = radius(i, j, ell);
          const double dshape = sf2 * lengthscale_factor(r);  // ∂k/∂log ℓ_t = dshape · Δ_t²/ℓ_t²
          for (index_t t = 0; t < m_dims; ++t) {
            const double delta = (m_x(i, t) - m_x(j, t)) / ell(t);
            (*gradient)(t) += 0.5 * w(i, j) * dshape * delta * delta;
          }
          (*gradient)(m_dims) += 0.5 * w(i, j) * 2 * kmat(i, j);
        }
      (*gradient)(m_dims + 1) = 0.5 * w.trace() * 2 * sn2;
    }
    return lml;
  }

  /// Maximises the log marginal likelihood within the option bounds, from the current
  /// hyperparameters and `options().restarts` random points; keeps the best and refactorises.
  /// Returns the best log marginal likelihood.
  double optimize_hyperparameters(rng& gen) {
    check(size() >= 1, "frugal::search::gaussian_process::optimize_hyperparameters: no data");
    const index_t p = m_dims + 2;
    Eigen::VectorXd lower(p), upper(p);
    lower.head(m_dims).setConstant(std::log(m_options.min_lengthscale));
    upper.head(m_dims).setConstant(std::log(m_options.max_lengthscale));
    lower(m_dims) = std::log(m_options.min_signal);
    upper(m_dims) = std::log(m_options.max_signal);
    lower(m_dims + 1) = std::log(m_options.min_noise);
    upper(m_dims + 1) = std::log(m_options.max_noise);
    const auto objective = [&](const Eigen::VectorXd& theta, Eigen::VectorXd& grad) {
      const double lml = log_marginal_likelihood(gp_hyperparameters::unpacked(theta), &grad);
      grad = -grad;
      return std::isfinite(lml) ? -lml : 1e300;
    };
    LBFGSpp::LBFGSBParam<double> param;
    param.max_iterations = m_options.max_iterations;
    param.epsilon = 1e-6;
    LBFGSpp::LBFGSBSolver<double> solver(param);
    Eigen::VectorXd best = m_hyper.packed().cwiseMax(lower).cwiseMin(upper);
    Eigen::VectorXd unused(p);
    double best_value = -log_marginal_likelihood(gp_hyperparameters::unpacked(best), &unused);
    for (int start = 0; start <= m_options.restarts; ++start) {
      Eigen::VectorXd theta = best;
      if (start > 0)
        for (index_t t = 0; t < p; ++t) theta(t) = gen.uniform(lower(t), upper(t));
      double value = 0;
      try {
        solver.minimize(objective, theta, value, lower, upper);
      } catch (const std::exception&) {
        // A failed line search leaves theta at its last accepted point: keep it if it is better.
        value = -log_marginal_likelihood(gp_hyperparameters::unpacked(theta), &unused);
      }
      if (std::isfinite(value) && value < best_value) {
        best_value = value;
        best = theta;
      }
    }
    m_hyper = gp_hyperparameters::unpacked(best);
    refactor();
    return -best_value;
  }

 private:
  [[nodiscard]] double signal_variance() const { return std::exp(2 * m_hyper.log_signal); }
  [[nodiscard]] double noise_variance() const { return std::exp(2 * m_hyper.log_noise); }

  /// k(r)/σ_f² for the scaled distance r.
  [[nodiscard]] double shape(double r) const {
    if (m_options.kernel == kernel_kind::squared_exponential) return std::exp(-0.5 * r * r);
    const double s = std::sqrt(5.0) * r;
    return (1 + s + s * s / 3) * std::exp(-s);
  }
  /// (∂ shape / ∂ log ℓ_t) / (Δ_t² / ℓ_t²): the part of a lengthscale derivative common to all t.
  [[nodiscard]] double lengthscale_factor(double r) const {
    if (m_options.kernel == kernel_kind::squared_exponential) return std::exp(-0.5 * r * r);
    const double s = std::sqrt(5.0) * r;
    return (5.0 / 3.0) * (1 + s) * std::exp(-s);
  }

  [[nodiscard]] double radius(index_t i, index_t j, const Eigen::VectorXd& ell) const {
    return ((m_x.row(i) - m_x.row(j)).transpose().array() / ell.array()).matrix().norm();
  }

  [[nodiscard]] double covariance(const Eigen::VectorXd& a, const Eigen::VectorXd& b) const {
    const Eigen::ArrayXd ell = m_hyper.log_lengthscale.array().exp();
    return signal_variance() * shape(((a - b).array() / ell).matrix().norm());
  }

  [[nodiscard]] Eigen::VectorXd standardised() const { return (m_y.array() - m_y_mean) / m_y_scale; }

  void restandardise() {
    const index_t n = size();
    m_y_mean = n > 0 ? m_y.mean() : 0.0;
    double var = 0;
    if (n > 1) var = (m_y.array() - m_y_mean).square().sum() / static_cast<double>(n - 1);
    m_y_scale = var > 0 ? std::sqrt(var) : 1.0;
    if (n > 0)
      m_alpha = m_chol.transpose().triangularView<Eigen::Upper>().solve(
          m_chol.triangularView<Eigen::Lower>().solve(standardised()));
  }

  void refactor() {
    const index_t n = size();
    if (n == 0) {
      m_chol.resize(0, 0);
      m_alpha.resize(0);
      restandardise();
      return;
    }
    Eigen::MatrixXd kn(n, n);
    for (index_t i = 0; i < n; ++i)
      for (index_t j = 0; j <= i; ++j) kn(i, j) = kn(j, i) = covariance(m_x.row(i).transpose(), m_x.row(j).transpose());
    kn.diagonal().array() += noise_variance();
    Eigen::LLT<Eigen::MatrixXd> llt(kn);
    // Repeated points with a tiny noise can leave K numerically singular: add jitter until not.
    for (double jitter = 1e-10; llt.info() != Eigen::Success; jitter *= 10) {
      check(jitter < 1, "frugal::search::gaussian_process: the covariance matrix is not positive definite");
      kn.diagonal().array() += jitter * signal_variance();
      llt.compute(kn);
    }
    m_chol = llt.matrixL();
    restandardise();
  }

  index_t m_dims;
  gp_options m_options;
  gp_hyperparameters m_hyper;
  Eigen::MatrixXd m_x;
  Eigen::VectorXd m_y;
  Eigen::MatrixXd m_chol;   // lower triangle of K + σ_n² I
  Eigen::VectorXd m_alpha;  // (K + σ_n² I)⁻¹ ỹ
  double m_y_mean = 0, m_y_scale = 1;
};

}  // namespace frugal::search
