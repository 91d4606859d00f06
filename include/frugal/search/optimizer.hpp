#pragma once
/// \file
/// Single-objective Bayesian optimisation with an ask/tell interface: random points first, then
/// the maximiser of log expected improvement under a Gaussian process fitted to the successful
/// evaluations (hyperparameters refitted as data arrives). The acquisition is maximised over every
/// point of a small discrete space, otherwise over random candidates refined by a coordinate
/// search in the encoded cube. A failed evaluation (`tell_failed`) marks its point infeasible: it
/// is never suggested again. Points already evaluated are not suggested again either.

#include <Eigen/Core>

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <set>
#include <utility>
#include <vector>

#include "../core/error.hpp"
#include "../core/rng.hpp"
#include "acquisition.hpp"
#include "gp.hpp"
#include "space.hpp"

namespace frugal::search {

struct optimizer_options {
  int initial_points = 10;                ///< random points before the model leads
  int candidates = 2000;                  ///< random candidates per ask (continuous or large spaces)
  int local_starts = 5;                   ///< best candidates refined by coordinate search
  std::uint64_t enumerate_up_to = 20000;  ///< discrete spaces this small are searched exhaustively
  std::uint64_t seed = 1;
  gp_options gp{};
};

/// One evaluation: the point and its value (nothing when it failed).
struct observation {
  point x;
  std::optional<double> value;
};

class bayes_optimizer {
 public:
  explicit bayes_optimizer(search_space space, optimizer_options options = {})
      : m_space(std::move(space)), m_options(options), m_gen(options.seed), m_gp(m_space.encoded_dims(), options.gp) {
    check(m_space.size() >= 1, "frugal::search::bayes_optimizer: the search space has no dimensions");
    check(options.initial_points >= 1 && options.candidates >= 1 && options.local_starts >= 0,
          "frugal::search::bayes_optimizer: initial_points and candidates must be positive");
  }

  [[nodiscard]] const search_space& space() const noexcept { return m_space; }
  [[nodiscard]] const std::vector<observation>& history() const noexcept { return m_history; }

  /// The next point to evaluate.
  /// \throws error when every point of a discrete space has been evaluated or failed
  [[nodiscard]] point ask() {
    if (successes() < static_cast<std::size_t>(m_options.initial_points)) return fresh_random();
    refit();
    const double best = best_value().value();
    const auto score = [&](const point& p) {
      const auto post = m_gp.predict(m_space.encode(p));
      return log_expected_improvement(post.mean, std::sqrt(std::max(post.variance, 1e-300)), best);
    };
    const auto n = m_space.cardinality();
    if (n && *n <= m_options.enumerate_up_to) {
      std::optional<point> arg;
      double top = -std::numeric_limits<double>::infinity();
      for (std::uint64_t i = 0; i < *n; ++i) {
        point p = m_space.enumerate(i);
        if (seen(p)) continue;
        const double s = score(p);
        if (!arg || s > top) {
          top = s;
          arg = std::move(p);
        }
      }
      check(arg.has_value(), "frugal::search::bayes_optimizer::ask: every point of the space has been evaluated");
      return *arg;
    }
    // Random candidates, the best few refined coordinate by coordinate in the encoded cube.
    std::vector<std::pair<double, point>> pool;
    for (int k = 0; k < m_options.candidates; ++k) {
      point p = m_space.sample(m_gen);
      if (!seen(p)) pool.emplace_back(score(p), std::move(p));
    }
    check(!pool.empty(), "frugal::search::bayes_optimizer::ask: no unevaluated candidate found");
    const auto starts =
        std::min<std::size_t>(pool.size(), static_cast<std::size_t>(std::max(m_options.local_starts, 1)));
    std::partial_sort(pool.begin(), pool.begin() + static_cast<std::ptrdiff_t>(starts), pool.end(),
                      [](const auto& a, const auto& b) { return a.first > b.first; });
    std::pair<double, point> champion = pool.front();
    for (std::size_t s = 0; s < starts && m_options.local_starts > 0; ++s) {
      auto [value, p] = pool[s];
      Eigen::VectorXd u = m_space.encode(p);
      for (double step = 0.1; step > 1e-5; step /= 2) {
        bool moved = true;
        while (moved) {
          moved = false;
          for (index_t j = 0; j < u.size(); ++j)
            for (double sign : {1.0, -1.0}) {
              Eigen::VectorXd v = u;
              v(j) = std::clamp(v(j) + sign * step, 0.0, 1.0);
              point q = m_space.decode(v);
              if (q == p || seen(q)) continue;
              const double sq = score(q);
              if (sq > value) {
                value = sq;
                p = std::move(q);
                u = m_space.encode(p);
                moved = true;
              }
            }
        }
      }
      if (value > champion.first) champion = {value, p};
    }
    return champion.second;
  }

  /// Records the value of an evaluated point.
  void tell(const point& p, double value) {
    check(m_space.contains(p), "frugal::search::bayes_optimizer::tell: the point is not in the search space");
    check(std::isfinite(value), "frugal::search::bayes_optimizer::tell: the value must be finite (use tell_failed)");
    m_history.push_back({p, value});
    m_seen.insert(p);
    m_dirty = true;
  }

  /// Records a failed evaluation: the point is infeasible and will not be suggested again.
  void tell_failed(const point& p) {
    check(m_space.contains(p), "frugal::search::bayes_optimizer::tell_failed: the point is not in the search space");
    m_history.push_back({p, std::nullopt});
    m_seen.insert(p);
  }

  /// The best value told so far, if any succeeded.
  [[nodiscard]] std::optional<double> best_value() const {
    std::optional<double> best;
    for (const auto& o : m_history)
      if (o.value && (!best || *o.value < *best)) best = o.value;
    return best;
  }

 private:
  [[nodiscard]] std::size_t successes() const {
    return static_cast<std::size_t>(
        std::count_if(m_history.begin(), m_history.end(), [](const observation& o) { return o.value.has_value(); }));
  }
  [[nodiscard]] bool seen(const point& p) const { return m_seen.contains(p); }

  point fresh_random() {
    for (int attempt = 0; attempt < 1000; ++attempt) {
      point p = m_space.sample(m_gen);
      if (!seen(p)) return p;
    }
    throw error("frugal::search::bayes_optimizer::ask: no unevaluated point found in 1000 random draws");
  }

  void refit() {
    if (!m_dirty) return;
    std::vector<const observation*> ok;
    for (const auto& o : m_history)
      if (o.value) ok.push_back(&o);
    Eigen::MatrixXd x(static_cast<index_t>(ok.size()), m_space.encoded_dims());
    Eigen::VectorXd y(static_cast<index_t>(ok.size()));
    for (std::size_t i = 0; i < ok.size(); ++i) {
      x.row(static_cast<index_t>(i)) = m_space.encode(ok[i]->x).transpose();
      y(static_cast<index_t>(i)) = *ok[i]->value;
    }
    m_gp.fit(x, y);
    m_gp.optimize_hyperparameters(m_gen);
    m_dirty = false;
  }

  search_space m_space;
  optimizer_options m_options;
  rng m_gen;
  gaussian_process m_gp;
  std::vector<observation> m_history;
  std::set<point> m_seen;
  bool m_dirty = true;
};

}  // namespace frugal::search
