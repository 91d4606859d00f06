#pragma once
/// \file
/// Single-objective Bayesian optimisation with an ask/tell interface: a Latin-hypercube initial
/// design, then the maximiser of an acquisition (log expected improvement, or the lower confidence
/// bound) under a Gaussian process fitted to the successful evaluations, its hyperparameters
/// refitted as data arrives. The acquisition is maximised over every point of a small discrete
/// space, otherwise over random candidates refined by a coordinate search in the encoded cube.
///
/// A failed evaluation (`tell_failed`) marks its point infeasible, and a constraint
/// (`set_constraint`) excludes points before they are evaluated: neither is ever suggested, and no
/// point is suggested twice. `ask(q)` suggests q distinct points at once (the "Kriging believer":
/// each chosen point is added to a copy of the model at its predicted mean before the next is
/// chosen). `save` and `load` write and read the whole state through a frugal checkpoint: a run
/// resumed from one suggests exactly what the uninterrupted run would have.

#include <Eigen/Core>

#include <cmath>
#include <filesystem>
#include <functional>
#include <limits>
#include <optional>
#include <set>
#include <utility>
#include <vector>

#include "../core/checkpoint.hpp"
#include "../core/error.hpp"
#include "acquisition.hpp"
#include "detail/ask_tell.hpp"
#include "gp.hpp"
#include "space.hpp"
#include "warping.hpp"

namespace frugal::search {

enum class acquisition_kind {
  expected_improvement,    ///< log EI: the default
  lower_confidence_bound,  ///< mean − β·sd, with β = `optimizer_options::beta`
};

struct optimizer_options {
  int initial_points = 10;                ///< Latin-hypercube points before the model leads
  int candidates = 5000;                  ///< random candidates per ask (continuous or large spaces)
  int local_starts = 10;                  ///< best candidates refined by coordinate search
  std::uint64_t enumerate_up_to = 20000;  ///< discrete spaces this small are searched exhaustively
  std::uint64_t seed = 1;
  acquisition_kind acquisition = acquisition_kind::expected_improvement;
  double beta = 2.0;  ///< the lower confidence bound's multiple of the standard deviation
  /// Fit the model to Yeo-Johnson-warped values (see warping.hpp) instead of the raw ones.
  bool warp_outputs = true;
  gp_options gp{};
};

/// One evaluation: the point and its value (nothing when it failed).
struct observation {
  point x;
  std::optional<double> value;
};

class bayes_optimizer {
  static constexpr const char* who = "frugal::search::bayes_optimizer";

 public:
  explicit bayes_optimizer(search_space space, optimizer_options options = {})
      : m_core(std::move(space), 1, options.initial_points,
               {options.candidates, options.local_starts, options.enumerate_up_to}, options.seed, who),
        m_options(options) {
    check(options.beta >= 0, who, ": beta must be non-negative");
    m_models.emplace_back(m_core.space().encoded_dims(), options.gp);
  }

  [[nodiscard]] const search_space& space() const noexcept { return m_core.space(); }

  /// Every evaluation told so far, in order.
  [[nodiscard]] std::vector<observation> history() const {
    std::vector<observation> h;
    for (std::size_t i = 0; i < m_core.points().size(); ++i)
      h.push_back(
          {m_core.points()[i], m_core.values()[i] ? std::optional<double>((*m_core.values()[i])(0)) : std::nullopt});
    return h;
  }

  /// Points where `feasible` is false are never suggested (area or power budgets, say).
  void set_constraint(std::function<bool(const point&)> feasible) { m_core.set_constraint(std::move(feasible)); }

  /// The next point to evaluate.
  /// \throws error when no admissible point is left
  [[nodiscard]] point ask() { return ask(1).front(); }

  /// `q` distinct points to evaluate, e.g. in parallel.
  [[nodiscard]] std::vector<point> ask(int q) {
    check(q >= 1, who, "::ask: q = ", q, "; must be positive");
    std::vector<point> batch;
    std::set<point> pending;
    std::optional<gaussian_process> believer;
    double believed_best = std::numeric_limits<double>::infinity();
    for (int k = 0; k < q; ++k) {
      if (m_core.in_initial_phase(pending.size())) {
        batch.push_back(m_core.initial_point(pending));
      } else {
        if (!believer) {
          refit();
          m_core.refit_feasibility();
          believer = m_models.front();
        }
        const double best = std::min(m_best_fitted, believed_best);
        const auto score = [&](const point& p) {
          const Eigen::VectorXd u = space().encode(p);
          const auto post = believer->predict(u);
          const double sd = std::sqrt(std::max(post.variance, 1e-300));
          return (m_options.acquisition == acquisition_kind::expected_improvement
                      ? log_expected_improvement(post.mean, sd, best)
                      : -lower_confidence_bound(post.mean, sd, m_options.beta)) +
                 m_core.log_probability_feasible(u);
        };
        batch.push_back(m_core.maximise(score, pending));
        if (k + 1 < q) {
          const Eigen::VectorXd u = space().encode(batch.back());
          const double mean = believer->predict(u).mean;
          believer->add(u, mean);
          believed_best = std::min(believed_best, mean);
        }
      }
      pending.insert(batch.back());
    }
    return batch;
  }

  /// Records the value of an evaluated point.
  void tell(const point& p, double value) {
    m_core.record(p, Eigen::VectorXd::Constant(1, value), "tell");
    m_dirty = true;
  }

  /// Records a failed evaluation: the point is infeasible and will not be suggested again, and a
  /// model of success weighs the acquisition down near it (see `detail::ask_tell_core`).
  void tell_failed(const point& p) { m_core.record(p, std::nullopt, "tell_failed"); }

  /// The best value told so far, if any succeeded.
  [[nodiscard]] std::optional<double> best_value() const {
    std::optional<double> best;
    for (const auto& v : m_core.values())
      if (v && (!best || (*v)(0) < *best)) best = (*v)(0);
    return best;
  }

  /// The point of the best value, if any succeeded.
  [[nodiscard]] std::optional<point> best_point() const {
    std::optional<point> arg;
    std::optional<double> best;
    for (std::size_t i = 0; i < m_core.points().size(); ++i)
      if (const auto& v = m_core.values()[i]; v && (!best || (*v)(0) < *best)) {
        best = (*v)(0);
        arg = m_core.points()[i];
      }
    return arg;
  }

  /// The model as last fitted (after an ask that used it).
  [[nodiscard]] const gaussian_process& model() const noexcept { return m_models.front(); }

  /// Writes the whole state (history, generator, model hyperparameters) to a checkpoint.
  void save(const std::filesystem::path& path) const {
    checkpoint_writer out;
    m_core.save(out, m_models, m_dirty);
    out.write(path);
  }

  /// Restores a state written by `save` into an optimiser constructed with the same space and
  /// options (the constraint, a function, is the caller's to set again).
  void load(const std::filesystem::path& path) {
    const checkpoint_reader in(path);
    m_dirty = m_core.load(in, m_models);
    if (!m_dirty) fit_data();
  }

 private:
  void fit_data() {
    auto [x, y] = m_core.successful();
    const Eigen::VectorXd target = m_options.warp_outputs ? search::warp_outputs(y.col(0)) : Eigen::VectorXd(y.col(0));
    m_best_fitted = target.minCoeff();
    m_models.front().fit(x, target);
  }
  void refit() {
    if (!m_dirty) return;
    fit_data();
    m_models.front().optimize_hyperparameters(m_core.generator());
    m_dirty = false;
  }

  detail::ask_tell_core m_core;
  optimizer_options m_options;
  std::vector<gaussian_process> m_models;
  bool m_dirty = true;
  double m_best_fitted = 0;  // the lowest value the model was fitted to (warped when warping)
};

}  // namespace frugal::search
