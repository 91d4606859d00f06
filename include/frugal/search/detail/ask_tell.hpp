#pragma once
/// \file
/// What the single- and multi-objective optimisers share: the history of evaluations, the points
/// never to suggest again (evaluated, failed, pending in a batch, or outside a constraint), the
/// Latin-hypercube initial design, the maximisation of an acquisition over a mixed space, and the
/// checkpoint of all of it.

#include <Eigen/Core>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <limits>
#include <numeric>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "../../core/checkpoint.hpp"
#include "../../core/error.hpp"
#include "../../core/rng.hpp"
#include "../gp.hpp"
#include "../space.hpp"

namespace frugal::search {

/// How an optimiser looks for the maximiser of its acquisition.
struct acquisition_search {
  int candidates = 2000;                  ///< random candidates per ask (continuous or large spaces)
  int local_starts = 5;                   ///< best candidates refined by coordinate search
  std::uint64_t enumerate_up_to = 20000;  ///< discrete spaces this small are searched exhaustively
};

namespace detail {

class ask_tell_core {
 public:
  ask_tell_core(search_space space, index_t objectives, int initial_points, acquisition_search search,
                std::uint64_t seed, const char* who)
      : m_space(std::move(space)),
        m_objectives(objectives),
        m_initial(initial_points),
        m_search(search),
        m_gen(seed),
        m_who(who) {
    check(m_space.size() >= 1, who, ": the search space has no dimensions");
    check(objectives >= 1, who, ": at least one objective");
    check(initial_points >= 1 && search.candidates >= 1 && search.local_starts >= 0, who,
          ": initial_points and candidates must be positive, local_starts non-negative");
    // The initial design is a Latin hypercube in the encoded cube, drawn from its own stream so
    // that a resumed run rebuilds the same design from the seed.
    rng design_gen = m_gen.split(0x1A7E5);
    const index_t dims = m_space.encoded_dims();
    std::vector<std::vector<int>> strata(static_cast<std::size_t>(dims));
    for (auto& column : strata) {
      column.resize(static_cast<std::size_t>(initial_points));
      std::iota(column.begin(), column.end(), 0);
      std::shuffle(column.begin(), column.end(), design_gen);
    }
    for (int i = 0; i < initial_points; ++i) {
      Eigen::VectorXd u(dims);
      for (index_t j = 0; j < dims; ++j)
        u(j) =
            (strata[static_cast<std::size_t>(j)][static_cast<std::size_t>(i)] + design_gen.uniform()) / initial_points;
      m_design.push_back(m_space.decode(u));
    }
  }

  [[nodiscard]] const search_space& space() const noexcept { return m_space; }

  /// A known, cheap constraint: points where it is false are never suggested.
  void set_constraint(std::function<bool(const point&)> feasible) { m_feasible = std::move(feasible); }

  [[nodiscard]] bool admissible(const point& p, const std::set<point>& pending) const {
    return !m_seen.contains(p) && !pending.contains(p) && (!m_feasible || m_feasible(p));
  }

  [[nodiscard]] std::size_t successes() const {
    return static_cast<std::size_t>(
        std::count_if(m_values.begin(), m_values.end(), [](const auto& v) { return v.has_value(); }));
  }
  [[nodiscard]] bool in_initial_phase(std::size_t pending) const {
    const std::size_t ok = successes();
    return ok == 0 || ok + pending < static_cast<std::size_t>(m_initial);
  }

  /// The next point of the initial design that may be suggested, else a random admissible one.
  point initial_point(const std::set<point>& pending) {
    while (m_design_next < m_design.size()) {
      point p = m_design[m_design_next++];
      if (admissible(p, pending)) return p;
    }
    for (int attempt = 0; attempt < 10000; ++attempt) {
      point p = m_space.sample(m_gen);
      if (admissible(p, pending)) return p;
    }
    throw error(std::string(m_who) + "::ask: no admissible point found in 10000 random draws");
  }

  /// The admissible point with the highest `score`: every point of a small discrete space, else
  /// random candidates of which the best few are refined coordinate by coordinate in the encoded
  /// cube.
  template <class Score>
  point maximise(Score&& score, const std::set<point>& pending) {
    const auto n = m_space.cardinality();
    if (n && *n <= m_search.enumerate_up_to) {
      std::optional<point> arg;
      double top = -std::numeric_limits<double>::infinity();
      for (std::uint64_t i = 0; i < *n; ++i) {
        point p = m_space.enumerate(i);
        if (!admissible(p, pending)) continue;
        const double s = score(p);
        if (!arg || s > top) {
          top = s;
          arg = std::move(p);
        }
      }
      check(arg.has_value(), m_who, "::ask: every admissible point of the space has been evaluated");
      return *arg;
    }
    std::vector<std::pair<double, point>> pool;
    for (int k = 0; k < m_search.candidates; ++k) {
      point p = m_space.sample(m_gen);
      if (admissible(p, pending)) pool.emplace_back(score(p), std::move(p));
    }
    check(!pool.empty(), m_who, "::ask: no admissible candidate among ", m_search.candidates, " random points");
    const auto starts =
        std::min<std::size_t>(pool.size(), static_cast<std::size_t>(std::max(m_search.local_starts, 1)));
    std::partial_sort(pool.begin(), pool.begin() + static_cast<std::ptrdiff_t>(starts), pool.end(),
                      [](const auto& a, const auto& b) { return a.first > b.first; });
    std::pair<double, point> champion = pool.front();
    for (std::size_t s = 0; s < starts && m_search.local_starts > 0; ++s) {
      auto [value, p] = pool[s];
      Eigen::VectorXd u = m_space.encode(p);
      for (double step = 0.1; step > 1e-5; step /= 2) {
        for (bool moved = true; moved;) {
          moved = false;
          for (index_t j = 0; j < u.size(); ++j)
            for (double sign : {1.0, -1.0}) {
              Eigen::VectorXd v = u;
              v(j) = std::clamp(v(j) + sign * step, 0.0, 1.0);
              point q = m_space.decode(v);
              if (q == p || !admissible(q, pending)) continue;
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

  void record(const point& p, std::optional<Eigen::VectorXd> values, const char* what) {
    check(m_space.contains(p), m_who, "::", what, ": the point is not in the search space");
    if (values) {
      check(values->size() == m_objectives, m_who, "::", what, ": ", values->size(), " values for ", m_objectives,
            " objectives");
      check(values->allFinite(), m_who, "::", what, ": values must be finite (use tell_failed)");
    }
    m_points.push_back(p);
    m_values.push_back(std::move(values));
    m_seen.insert(p);
    m_feasibility_dirty = true;
  }

  /// The successful evaluations: encoded inputs (n × encoded dims) and values (n × objectives).
  [[nodiscard]] std::pair<Eigen::MatrixXd, Eigen::MatrixXd> successful() const {
    const auto n = static_cast<index_t>(successes());
    Eigen::MatrixXd x(n, m_space.encoded_dims()), y(n, m_objectives);
    index_t r = 0;
    for (std::size_t i = 0; i < m_points.size(); ++i)
      if (m_values[i]) {
        x.row(r) = m_space.encode(m_points[i]).transpose();
        y.row(r++) = m_values[i]->transpose();
      }
    return {x, y};
  }

  /// log P(the evaluation at encoded point `u` succeeds), from a process fitted to +1 (success)
  /// and −1 (failure) labels, read as P(latent > 0) = Φ(μ/σ): near a failure it is small, near a
  /// success close to 1, far from both it tends to the prior's share of successes. Zero (certain
  /// success) while nothing has failed. Call `refit_feasibility` first in each ask.
  [[nodiscard]] double log_probability_feasible(const Eigen::VectorXd& u) const {
    if (successes() == m_points.size()) return 0.0;
    const auto post = m_feasibility.predict(u);
    const double z = post.mean / std::sqrt(std::max(post.variance, 1e-24));
    // log Φ(z) without underflow in the far tail (the first term of its asymptotic series).
    if (z > -30) return std::log(std::max(0.5 * std::erfc(-z / std::sqrt(2.0)), 1e-300));
    return -0.5 * z * z - std::log(-z) - 0.5 * std::log(2 * 3.14159265358979323846);
  }

  /// Refits the feasibility model when failures exist and data arrived since the last fit.
  void refit_feasibility() {
    if (!m_feasibility_dirty || successes() == m_points.size()) return;
    fit_feasibility_data();
    m_feasibility.optimize_hyperparameters(m_gen);
    m_feasibility_dirty = false;
  }

  [[nodiscard]] const std::vector<point>& points() const noexcept { return m_points; }
  [[nodiscard]] const std::vector<std::optional<Eigen::VectorXd>>& values() const noexcept { return m_values; }
  rng& generator() noexcept { return m_gen; }

  /// Writes the history, the generator, the design position and each model's hyperparameters.
  void save(checkpoint_writer& out, const std::vector<gaussian_process>& models, bool dirty) const {
    out.put_string("search/who", m_who);
    out.put_string("search/space", m_space.describe());
    out.put_value<std::int64_t>("search/objectives", m_objectives);
    out.put_value<std::int64_t>("search/initial_points", m_initial);
    std::vector<double> xs, ys;
    std::vector<std::uint8_t> ok;
    for (std::size_t i = 0; i < m_points.size(); ++i) {
      xs.insert(xs.end(), m_points[i].begin(), m_points[i].end());
      ok.push_back(m_values[i].has_value() ? 1 : 0);
      for (index_t j = 0; j < m_objectives; ++j) ys.push_back(m_values[i] ? (*m_values[i])(j) : 0.0);
    }
    out.put<double>("search/points", xs);
    out.put<double>("search/values", ys);
    out.put<std::uint8_t>("search/succeeded", ok);
    out.put<std::uint64_t>("search/rng", std::span<const std::uint64_t>(m_gen.state(), 4));
    out.put_value<std::uint64_t>("search/design_next", m_design_next);
    out.put_value<std::uint8_t>("search/dirty", dirty ? 1 : 0);
    out.put_value<std::uint8_t>("search/feasibility_dirty", m_feasibility_dirty ? 1 : 0);
    const Eigen::VectorXd hf = m_feasibility.hyperparameters().packed();
    out.put<double>("search/feasibility", std::span<const double>(hf.data(), hf.size()));
    for (std::size_t k = 0; k < models.size(); ++k) {
      const Eigen::VectorXd h = models[k].hyperparameters().packed();
      out.put<double>("search/model" + std::to_string(k), std::span<const double>(h.data(), h.size()));
    }
  }

  /// Restores what `save` wrote into an optimiser built with the same space and options; returns
  /// the dirty flag. The models get their hyperparameters, and their data when not dirty.
  bool load(const checkpoint_reader& in, std::vector<gaussian_process>& models) {
    check(in.get_string("search/who") == m_who, m_who, "::load: '", in.file(), "' holds the state of ",
          in.get_string("search/who"));
    check(in.get_string("search/space") == m_space.describe(), m_who, "::load: '", in.file(),
          "' was written for another search space");
    check(in.get_value<std::int64_t>("search/objectives") == m_objectives &&
              in.get_value<std::int64_t>("search/initial_points") == m_initial,
          m_who, "::load: '", in.file(), "' was written with other options");
    const auto xs = in.get<double>("search/points");
    const auto ys = in.get<double>("search/values");
    const auto ok = in.get<std::uint8_t>("search/succeeded");
    const std::size_t d = m_space.size(), n = ok.size();
    check(xs.size() == n * d && ys.size() == n * static_cast<std::size_t>(m_objectives), m_who, "::load: '", in.file(),
          "' has inconsistent history records");
    m_points.clear();
    m_values.clear();
    m_seen.clear();
    for (std::size_t i = 0; i < n; ++i) {
      point p(xs.begin() + static_cast<std::ptrdiff_t>(i * d), xs.begin() + static_cast<std::ptrdiff_t>((i + 1) * d));
      std::optional<Eigen::VectorXd> v;
      if (ok[i])
        v = Eigen::Map<const Eigen::VectorXd>(ys.data() + i * static_cast<std::size_t>(m_objectives), m_objectives);
      record(p, std::move(v), "load");
    }
    const auto words = in.get<std::uint64_t>("search/rng");
    check(words.size() == 4, m_who, "::load: '", in.file(), "' has a malformed generator state");
    m_gen.set_state(words.data());
    m_design_next = in.get_value<std::uint64_t>("search/design_next");
    check(m_design_next <= m_design.size(), m_who, "::load: '", in.file(), "' has a malformed design position");
    const bool dirty = in.get_value<std::uint8_t>("search/dirty") != 0;
    const auto hf = in.get<double>("search/feasibility");
    check(static_cast<index_t>(hf.size()) == m_feasibility.dims() + 2, m_who, "::load: '", in.file(),
          "' has a malformed feasibility model");
    m_feasibility.set_hyperparameters(
        gp_hyperparameters::unpacked(Eigen::Map<const Eigen::VectorXd>(hf.data(), static_cast<index_t>(hf.size()))));
    m_feasibility_dirty = in.get_value<std::uint8_t>("search/feasibility_dirty") != 0;
    if (!m_feasibility_dirty && successes() < m_points.size()) fit_feasibility_data();
    for (std::size_t k = 0; k < models.size(); ++k) {
      const auto h = in.get<double>("search/model" + std::to_string(k));
      check(static_cast<index_t>(h.size()) == models[k].dims() + 2, m_who, "::load: '", in.file(),
            "' has hyperparameters for another model");
      models[k].set_hyperparameters(
          gp_hyperparameters::unpacked(Eigen::Map<const Eigen::VectorXd>(h.data(), static_cast<index_t>(h.size()))));
    }
    return dirty;
  }

 private:
  void fit_feasibility_data() {
    const auto n = static_cast<index_t>(m_points.size());
    Eigen::MatrixXd x(n, m_space.encoded_dims());
    Eigen::VectorXd label(n);
    for (index_t i = 0; i < n; ++i) {
      x.row(i) = m_space.encode(m_points[static_cast<std::size_t>(i)]).transpose();
      label(i) = m_values[static_cast<std::size_t>(i)] ? 1.0 : -1.0;
    }
    m_feasibility.fit(x, label);
  }

  search_space m_space;
  index_t m_objectives;
  int m_initial;
  acquisition_search m_search;
  rng m_gen;
  const char* m_who;
  std::vector<point> m_design;
  std::size_t m_design_next = 0;
  std::vector<point> m_points;
  std::vector<std::optional<Eigen::VectorXd>> m_values;
  std::set<point> m_seen;
  std::function<bool(const point&)> m_feasible;
  gaussian_process m_feasibility{m_space.encoded_dims(), gp_options{.min_lengthscale = 0.1}};
  bool m_feasibility_dirty = true;
};

}  // namespace detail
}  // namespace frugal::search
