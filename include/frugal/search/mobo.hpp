#pragma once
/// \file
/// Multi-objective Bayesian optimisation with an ask/tell interface; every objective is minimised.
///
/// - **EHVI** (the default, as in HASCO): one Gaussian process per objective; the next point
///   maximises the expected hypervolume improvement over the current Pareto front below the
///   reference point, exact in two objectives and a Monte-Carlo estimate in three (the same
///   normal draws for every candidate of one ask, so candidates are compared without sampling
///   noise between them).
/// - **ParEGO** (Knowles 2006): each ask draws a weight vector from the simplex, scalarises the
///   objectives (normalised to [0, 1] over the data) with the augmented Tchebycheff function
///   max_i λ_i f_i + ρ Σ_i λ_i f_i (ρ = 0.05), fits one process to it and maximises log expected
///   improvement. Any number of objectives.
///
/// Initial design, acquisition search over mixed spaces, failed evaluations, constraints, batches
/// (`ask(q)`: EHVI adds each chosen point to copies of the models and to the front at its predicted
/// means; ParEGO draws new weights for each point) and exact resume (`save`, `load`) work as in
/// `bayes_optimizer`.

#include <Eigen/Core>

#include <algorithm>
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
#include "pareto.hpp"
#include "space.hpp"

namespace frugal::search {

enum class mo_acquisition {
  ehvi,    ///< expected hypervolume improvement (2 or 3 objectives)
  parego,  ///< random Tchebycheff scalarisations with expected improvement (any number)
};

struct mo_options {
  int initial_points = 10;                ///< Latin-hypercube points before the models lead
  int candidates = 2000;                  ///< random candidates per ask (continuous or large spaces)
  int local_starts = 5;                   ///< best candidates refined by coordinate search
  std::uint64_t enumerate_up_to = 20000;  ///< discrete spaces this small are searched exhaustively
  std::uint64_t seed = 1;
  mo_acquisition acquisition = mo_acquisition::ehvi;
  int mc_samples = 256;  ///< normal draws of the Monte-Carlo EHVI (three objectives)
  /// The models fit by likelihood alone (no lengthscale prior, unlike `optimizer_options`): with
  /// the prior, EHVI's fronts on ZDT1 and on HASCO's hardware space came out markedly worse (see
  /// docs/search.md). To change one field, start from `mo_options{}.gp`: a braced `.gp = {…}`
  /// starts from `gp_options`' own defaults, which include the prior.
  gp_options gp{.lengthscale_prior_shape = 0};
  /// The hypervolume reference point, in objective units. Empty: each objective's worst value
  /// told so far plus a tenth of its range, recomputed as data arrives.
  Eigen::VectorXd reference{};
};

/// One evaluation: the point and its objective values (nothing when it failed).
struct mo_observation {
  point x;
  std::optional<Eigen::VectorXd> values;
};

/// The optimiser on execution space `Exec`, where the acquisition's candidates are scored and
/// refined in parallel (results do not depend on the number of threads);
/// `multi_objective_optimizer` is the one on `default_host_space`.
template <HostExecutionSpace Exec = default_host_space>
class basic_multi_objective_optimizer {
  static constexpr const char* who = "frugal::search::multi_objective_optimizer";

 public:
  basic_multi_objective_optimizer(search_space space, int objectives, mo_options options = {}, Exec exec = Exec{})
      : m_core(std::move(space), objectives, options.initial_points,
               {options.candidates, options.local_starts, options.enumerate_up_to}, options.seed, who),
        m_options(std::move(options)),
        m_objectives(objectives),
        m_exec(std::move(exec)) {
    check(objectives >= 2, who, ": ", objectives, " objectives; use bayes_optimizer for one");
    check(m_options.acquisition != mo_acquisition::ehvi || objectives <= 3, who,
          ": EHVI is implemented for 2 or 3 objectives, not ", objectives, "; use ParEGO");
    check(m_options.mc_samples >= 1, who, ": mc_samples must be positive");
    check(m_options.reference.size() == 0 ||
              (m_options.reference.size() == objectives && m_options.reference.allFinite()),
          who, ": the reference point needs one finite value per objective");
    const int models = m_options.acquisition == mo_acquisition::ehvi ? objectives : 1;
    for (int k = 0; k < models; ++k) m_models.emplace_back(m_core.space().encoded_dims(), m_options.gp);
  }

  [[nodiscard]] const search_space& space() const noexcept { return m_core.space(); }
  [[nodiscard]] int objectives() const noexcept { return m_objectives; }

  /// Every evaluation told so far, in order.
  [[nodiscard]] std::vector<mo_observation> history() const {
    std::vector<mo_observation> h;
    for (std::size_t i = 0; i < m_core.points().size(); ++i) h.push_back({m_core.points()[i], m_core.values()[i]});
    return h;
  }

  /// Points where `feasible` is false are never suggested.
  void set_constraint(std::function<bool(const point&)> feasible) { m_core.set_constraint(std::move(feasible)); }

  /// The next point to evaluate.
  [[nodiscard]] point ask() { return ask(1).front(); }

  /// `q` distinct points to evaluate.
  [[nodiscard]] std::vector<point> ask(int q) {
    check(q >= 1, who, "::ask: q = ", q, "; must be positive");
    std::vector<point> batch;
    std::set<point> pending;
    if (m_options.acquisition == mo_acquisition::ehvi) {
      std::optional<std::vector<gaussian_process>> believers;
      Eigen::MatrixXd front;
      Eigen::VectorXd ref;
      for (int k = 0; k < q; ++k) {
        if (m_core.in_initial_phase(pending.size())) {
          batch.push_back(m_core.initial_point(pending));
        } else {
          if (!believers) {
            refit();
            m_core.refit_feasibility();
            believers = m_models;
            front = observed_front();
            ref = reference();
          }
          batch.push_back(m_core.maximise(m_exec, ehvi_score(*believers, front, ref), pending));
          if (k + 1 < q) {  // the Kriging believer: pretend the point returned its predicted means
            const Eigen::VectorXd u = space().encode(batch.back());
            Eigen::VectorXd mean(m_objectives);
            for (int j = 0; j < m_objectives; ++j) {
              mean(j) = (*believers)[static_cast<std::size_t>(j)].predict(u).mean;
              (*believers)[static_cast<std::size_t>(j)].add(u, mean(j));
            }
            front.conservativeResize(front.rows() + 1, Eigen::NoChange);
            front.row(front.rows() - 1) = mean.transpose();
            front = rows(front, pareto_indices(front));
          }
        }
        pending.insert(batch.back());
      }
    } else {
      for (int k = 0; k < q; ++k) {
        batch.push_back(m_core.in_initial_phase(pending.size()) ? m_core.initial_point(pending)
                                                                : parego_point(pending));
        pending.insert(batch.back());
      }
    }
    return batch;
  }

  /// Records the objective values of an evaluated point.
  void tell(const point& p, const Eigen::VectorXd& values) {
    m_core.record(p, values, "tell");
    m_dirty = true;
  }

  /// Records a failed evaluation: the point is infeasible and will not be suggested again, and a
  /// model of success weighs the acquisition down near it (see `detail::ask_tell_core`).
  void tell_failed(const point& p) { m_core.record(p, std::nullopt, "tell_failed"); }

  /// Indices into `history()` of the non-dominated successful evaluations.
  [[nodiscard]] std::vector<std::size_t> pareto_set() const {
    std::vector<std::size_t> ok;
    for (std::size_t i = 0; i < m_core.values().size(); ++i)
      if (m_core.values()[i]) ok.push_back(i);
    Eigen::MatrixXd y(static_cast<index_t>(ok.size()), m_objectives);
    for (std::size_t r = 0; r < ok.size(); ++r) y.row(static_cast<index_t>(r)) = m_core.values()[ok[r]]->transpose();
    std::vector<std::size_t> out;
    for (index_t i : pareto_indices(y)) out.push_back(ok[static_cast<std::size_t>(i)]);
    return out;
  }

  /// The reference point in use: the option's, or one derived from the data told so far.
  [[nodiscard]] Eigen::VectorXd reference() const {
    if (m_options.reference.size() > 0) return m_options.reference;
    const auto [x, y] = m_core.successful();
    check(y.rows() >= 1, who, "::reference: no successful evaluation yet");
    const Eigen::VectorXd hi = y.colwise().maxCoeff(), lo = y.colwise().minCoeff();
    Eigen::VectorXd ref(m_objectives);
    for (int j = 0; j < m_objectives; ++j) {
      const double range = hi(j) - lo(j);
      ref(j) = hi(j) + (range > 0 ? 0.1 * range : std::max(1.0, std::abs(hi(j))) * 0.1);
    }
    return ref;
  }

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
    if (!m_dirty && m_options.acquisition == mo_acquisition::ehvi) fit_data();
  }

 private:
  static Eigen::MatrixXd rows(const Eigen::MatrixXd& y, const std::vector<index_t>& keep) {
    Eigen::MatrixXd out(static_cast<index_t>(keep.size()), y.cols());
    for (std::size_t r = 0; r < keep.size(); ++r) out.row(static_cast<index_t>(r)) = y.row(keep[r]);
    return out;
  }

  [[nodiscard]] Eigen::MatrixXd observed_front() const {
    const auto [x, y] = m_core.successful();
    return rows(y, pareto_indices(y));
  }

  void fit_data() {
    auto [x, y] = m_core.successful();
    for (int j = 0; j < m_objectives; ++j) m_models[static_cast<std::size_t>(j)].fit(x, y.col(j));
  }

  void refit() {
    if (!m_dirty) return;
    fit_data();
    for (auto& model : m_models) model.optimize_hyperparameters(m_core.generator());
    m_dirty = false;
  }

  /// EHVI of a candidate under `models`, as a score to maximise.
  std::function<double(const point&)> ehvi_score(const std::vector<gaussian_process>& models,
                                                 const Eigen::MatrixXd& front, const Eigen::VectorXd& ref) {
    Eigen::MatrixXd normals;
    double base = 0;
    if (m_objectives == 3) {
      normals.resize(m_options.mc_samples, 3);
      for (index_t s = 0; s < normals.rows(); ++s)
        for (index_t j = 0; j < 3; ++j) normals(s, j) = m_core.generator().normal();
      base = hypervolume(front, ref);
    }
    return [&models, front, ref, normals, base, this](const point& p) {
      const Eigen::VectorXd u = space().encode(p);
      Eigen::VectorXd mean(m_objectives), sd(m_objectives);
      for (int j = 0; j < m_objectives; ++j) {
        const auto post = models[static_cast<std::size_t>(j)].predict(u);
        mean(j) = post.mean;
        sd(j) = std::sqrt(std::max(post.variance, 1e-24));
      }
      const double feasible = std::exp(m_core.log_probability_feasible(u));
      if (m_objectives == 2)
        return feasible * expected_hypervolume_improvement_2d(front, ref, mean.head<2>(), sd.head<2>());
      // Improvement of each draw: zero unless it is below the reference and undominated.
      Eigen::MatrixXd with(front.rows() + 1, 3);
      with.topRows(front.rows()) = front;
      double sum = 0;
      for (index_t s = 0; s < normals.rows(); ++s) {
        const Eigen::VectorXd y = mean + sd.cwiseProduct(normals.row(s).transpose());
        if (!(y.array() < ref.array()).all()) continue;
        bool dominated = false;
        for (index_t i = 0; i < front.rows() && !dominated; ++i)
          dominated = (front.row(i).transpose().array() <= y.array()).all();
        if (dominated) continue;
        with.row(front.rows()) = y.transpose();
        sum += hypervolume(with, ref) - base;
      }
      return feasible * sum / static_cast<double>(normals.rows());
    };
  }

  point parego_point(const std::set<point>& pending) {
    const auto [x, y] = m_core.successful();
    const Eigen::RowVectorXd lo = y.colwise().minCoeff(), hi = y.colwise().maxCoeff();
    Eigen::VectorXd lambda(m_objectives);
    for (int j = 0; j < m_objectives; ++j) lambda(j) = -std::log(1 - m_core.generator().uniform());
    lambda /= lambda.sum();
    Eigen::VectorXd f(y.rows());
    for (index_t i = 0; i < y.rows(); ++i) {
      const Eigen::ArrayXd z =
          (y.row(i) - lo).array().transpose() / (hi - lo).transpose().array().max(1e-300) * lambda.array();
      f(i) = z.maxCoeff() + 0.05 * z.sum();
    }
    auto& model = m_models.front();
    model.fit(x, f);
    model.optimize_hyperparameters(m_core.generator());
    m_core.refit_feasibility();
    const double best = f.minCoeff();
    return m_core.maximise(
        m_exec,
        [&](const point& p) {
          const Eigen::VectorXd u = space().encode(p);
          const auto post = model.predict(u);
          return log_expected_improvement(post.mean, std::sqrt(std::max(post.variance, 1e-300)), best) +
                 m_core.log_probability_feasible(u);
        },
        pending);
  }

  detail::ask_tell_core m_core;
  mo_options m_options;
  int m_objectives;
  Exec m_exec;
  std::vector<gaussian_process> m_models;
  bool m_dirty = true;
};

/// Multi-objective Bayesian optimisation on the default host execution space.
using multi_objective_optimizer = basic_multi_objective_optimizer<>;

}  // namespace frugal::search
