#pragma once
/// \file
/// The ADMM driver of ADMM-NN. For constraint sets S_l on parameters W_l it solves
///   min_W  f(W)  s.t.  W_l ∈ S_l
/// by alternating (Zhang et al., ADMM-NN):
///   W ← train on f(W) + Σ ρ/2 ‖W_l − Z_l + U_l‖²      (ordinary training; the penalty adds
///                                                     ρ (W_l − Z_l + U_l) to each gradient)
///   Z_l ← Π_{S_l}(W_l + U_l)                           (Euclidean projection)
///   U_l ← U_l + W_l − Z_l                              (scaled dual update)
///   ρ ← ρ · multiplier, U ← U / multiplier             (monotonically increasing ρ; the scaled
///                                                     dual is rescaled so the true dual is kept)
/// then hard-projects W_l onto S_l and installs masks so masked retraining keeps the pattern.
/// Works on any model through the parameter registry.

#include <cmath>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../core/checkpoint.hpp"
#include "../core/error.hpp"
#include "../core/progress.hpp"
#include "../nn/concepts.hpp"
#include "../nn/parameter.hpp"
#include "concepts.hpp"
#include "quantization.hpp"

namespace frugal::admm {

/// A projection with its type erased, so one driver can hold different constraint sets for
/// different parameters. Called once per ADMM iteration, never in an inner loop.
template <nn::Scalar S>
struct any_projection {
  std::function<matrix<S>(const matrix<S>&)> project;
  std::function<matrix<S>(const matrix<S>&)> support;             ///< set for sparsity projections
  std::function<quantized_matrix<S>(const matrix<S>&)> quantize;  ///< set for quantizing projections
  std::string description;

  template <class P>
  requires Projection<P, S> any_projection(
      P p)  // NOLINT(google-explicit-constructor): a projection *is* an any_projection
      : description(p.describe()) {
    project = [p](const matrix<S>& w) { return p.template project<S>(w); };
    if constexpr (requires { p.template support<S>(std::declval<const matrix<S>&>()); })
      support = [p](const matrix<S>& w) { return p.template support<S>(w); };
    if constexpr (requires { p.quantize(std::declval<const matrix<S>&>()); })
      quantize = [p](const matrix<S>& w) { return p.quantize(w); };
    else if constexpr (requires { p.template quantize<S>(std::declval<const matrix<S>&>()); })
      quantize = [p](const matrix<S>& w) { return p.template quantize<S>(w); };
  }
};

/// ρ schedule and iteration counts. Defaults follow ADMM-NN's practice of a small initial ρ
/// raised every iteration.
struct admm_options {
  double rho = 1e-3;             ///< initial penalty ρ
  double rho_multiplier = 1.6;   ///< ρ ← ρ · multiplier after each iteration (≥ 1)
  double rho_max = 1.0;          ///< ρ stops growing here
  int iterations = 8;            ///< ADMM iterations (Z/U updates)
  int epochs_per_iteration = 1;  ///< training epochs between updates

  void validate() const {
    check(rho > 0, "frugal::admm::admm_options: rho = ", rho, " must be positive");
    check(rho_multiplier >= 1, "frugal::admm::admm_options: rho_multiplier = ", rho_multiplier, " must be >= 1");
    check(rho_max >= rho, "frugal::admm::admm_options: rho_max = ", rho_max, " must be >= rho = ", rho);
    check(iterations > 0 && epochs_per_iteration > 0, "frugal::admm::admm_options: iterations = ", iterations,
          " and epochs_per_iteration = ", epochs_per_iteration, " must be positive");
  }
};

/// Residuals after one Z/U update, summed over parameters.
struct admm_residuals {
  double primal = 0;           ///< ‖W − Z‖
  double dual = 0;             ///< ρ ‖Z − Z_previous‖
  double relative_primal = 0;  ///< ‖W − Z‖ / ‖W‖
  double rho = 0;              ///< ρ used for this update
};

/// The ADMM state (Z, U, ρ) for a set of constrained parameters.
template <nn::Scalar S>
class admm_state {
 public:
  explicit admm_state(admm_options options = {}) : m_options(options), m_rho(options.rho) { options.validate(); }

  /// Constrains the parameter called `name` to `projection`'s set.
  void add(std::string name, any_projection<S> projection) {
    check(!m_entries.contains(name), "frugal::admm::admm_state::add: parameter '", name, "' is already constrained");
    m_entries.emplace(std::move(name), entry{std::move(projection), {}, {}});
  }

  /// Replaces the constraint set of `name` (already constrained) from the next `update` on; Z and
  /// U are kept. Progressive ADMM tightens the sets this way between iterations.
  void set_projection(std::string_view name, any_projection<S> projection) {
    auto it = m_entries.find(name);
    check(it != m_entries.end(), "frugal::admm::admm_state::set_projection: parameter '", name, "' is not constrained");
    it->second.projection = std::move(projection);
  }

  /// Z = Π(W), U = 0 for every constrained parameter (throws if one is not in `registry`).
  void initialize(const nn::parameter_registry<S>& registry) {
    for (auto& [name, e] : m_entries) {
      const auto& w = registry.at(name).value;
      e.z = e.projection.project(w);
      e.u = matrix<S>::Zero(w.rows(), w.cols());
    }
    m_rho = m_options.rho;
    m_initialized = true;
  }

  /// Adds the penalty's gradient ρ (W − Z + U) to each constrained parameter's gradient.
  void add_penalty_gradient(const nn::parameter_registry<S>& registry) const {
    check(m_initialized, "frugal::admm::admm_state::add_penalty_gradient: call initialize first");
    const S rho = static_cast<S>(m_rho);
    for (const auto& [name, e] : m_entries) {
      auto& p = registry.at(name);
      p.grad.array() += rho * (p.value - e.z + e.u).array();
    }
  }

  /// Z ← Π(W + U); U ← U + W − Z; ρ ← min(ρ · multiplier, ρ_max) with U rescaled by the old
  /// over the new ρ. Returns the residuals.
  admm_residuals update(const nn::parameter_registry<S>& registry) {
    check(m_initialized, "frugal::admm::admm_state::update: call initialize first");
    admm_residuals r;
    r.rho = m_rho;
    double primal = 0, dual = 0, norm = 0;
    for (auto& [name, e] : m_entries) {
      const auto& w = registry.at(name).value;
      matrix<S> z = e.projection.project(w + e.u);
      dual += (z - e.z).template cast<double>().squaredNorm();
      e.z = std::move(z);
      e.u += w - e.z;
      primal += (w - e.z).template cast<double>().squaredNorm();
      norm += w.template cast<double>().squaredNorm();
    }
    r.primal = std::sqrt(primal);
    r.dual = m_rho * std::sqrt(dual);
    r.relative_primal = norm > 0 ? std::sqrt(primal / norm) : 0;
    // U is the dual scaled by 1/ρ: when ρ grows by τ, U shrinks by τ so the unscaled dual is kept
    // (Boyd et al., §3.4.1).
    const double next = std::min(m_rho * m_options.rho_multiplier, m_options.rho_max);
    if (next != m_rho)
      for (auto& [name, e] : m_entries) e.u *= static_cast<S>(m_rho / next);
    m_rho = next;
    return r;
  }

  /// Hard projection: W ← Π(W) for every constrained parameter; sparsity projections also install
  /// their support as the parameter's mask (combined with an existing mask), so that retraining
  /// never revives a pruned weight. Quantizing projections record their codes (`quantized()`).
  void harden(const nn::parameter_registry<S>& registry) {
    for (auto& [name, e] : m_entries) {
      auto& p = registry.at(name);
      // The support is taken from the value before projection: quantization may map a kept
      // weight onto the zero level, which must not turn it into a pruned one.
      std::optional<matrix<S>> mask;
      if (e.projection.support) mask = e.projection.support(p.value);
      if (e.projection.quantize) {
        auto q = e.projection.quantize(p.value);
        p.value = q.reconstruct();
        m_quantized.insert_or_assign(name, std::move(q));
      } else {
        p.value = e.projection.project(p.value);
      }
      if (mask) {
        if (p.mask) mask->array() *= p.mask->array();
        p.set_mask(std::move(*mask));
      } else if (p.mask) {
        p.apply_mask();
      }
    }
  }

  /// Codes of the parameters hardened by quantizing projections, by name.
  [[nodiscard]] const std::map<std::string, quantized_matrix<S>, std::less<>>& quantized() const noexcept {
    return m_quantized;
  }

  [[nodiscard]] double rho() const noexcept { return m_rho; }
  [[nodiscard]] const admm_options& options() const noexcept { return m_options; }
  [[nodiscard]] std::vector<std::string> names() const {
    std::vector<std::string> out;
    for (const auto& [name, e] : m_entries) out.push_back(name);
    return out;
  }
  [[nodiscard]] const std::string& description(std::string_view name) const {
    return find(name).projection.description;
  }
  [[nodiscard]] const matrix<S>& z(std::string_view name) const { return find(name).z; }
  [[nodiscard]] const matrix<S>& u(std::string_view name) const { return find(name).u; }

  /// Saves Z, U and ρ (resuming an ADMM run needs them; the projections are code, not state).
  void save_state(checkpoint_writer& out, std::string_view prefix = "admm") const {
    out.put_value<double>(std::string(prefix) + "/rho", m_rho);
    for (const auto& [name, e] : m_entries) {
      out.put<S>(std::string(prefix) + "/z/" + name,
                 std::span<const S>(e.z.data(), static_cast<std::size_t>(e.z.size())));
      out.put<S>(std::string(prefix) + "/u/" + name,
                 std::span<const S>(e.u.data(), static_cast<std::size_t>(e.u.size())));
    }
  }

  /// Restores what `save_state` wrote; call `initialize` first so shapes are known.
  void load_state(const checkpoint_reader& in, std::string_view prefix = "admm") {
    check(m_initialized, "frugal::admm::admm_state::load_state: call initialize first");
    m_rho = in.get_value<double>(std::string(prefix) + "/rho");
    for (auto& [name, e] : m_entries) {
      in.get_into<S>(std::string(prefix) + "/z/" + name,
                     std::span<S>(e.z.data(), static_cast<std::size_t>(e.z.size())));
      in.get_into<S>(std::string(prefix) + "/u/" + name,
                     std::span<S>(e.u.data(), static_cast<std::size_t>(e.u.size())));
    }
  }

 private:
  struct entry {
    any_projection<S> projection;
    matrix<S> z, u;
  };

  const entry& find(std::string_view name) const {
    auto it = m_entries.find(name);
    check(it != m_entries.end(), "frugal::admm::admm_state: parameter '", name, "' is not constrained");
    return it->second;
  }

  admm_options m_options;
  double m_rho;
  bool m_initialized = false;
  std::map<std::string, entry, std::less<>> m_entries;
  std::map<std::string, quantized_matrix<S>, std::less<>> m_quantized;
};

/// An optimizer that adds the ADMM penalty gradient before delegating to `Inner`; pass it to any
/// training loop in place of the plain optimizer during the ADMM phase.
template <nn::Optimizer Inner>
class admm_optimizer {
 public:
  using scalar_type = typename Inner::scalar_type;

  admm_optimizer(Inner inner, const admm_state<scalar_type>& state) : m_inner(std::move(inner)), m_state(&state) {}

  void step(const nn::parameter_registry<scalar_type>& registry) {
    m_state->add_penalty_gradient(registry);
    m_inner.step(registry);
  }

  [[nodiscard]] Inner& inner() noexcept { return m_inner; }

 private:
  Inner m_inner;
  const admm_state<scalar_type>* m_state;
};

/// Runs the ADMM phase: `initialize`, then for each iteration a fresh optimizer from
/// `make_optimizer()` (the learning-rate reset of ADMM-NN), `epochs_per_iteration` calls of
/// `train_epoch(optimizer)`, and an update whose residuals are reported through `progress`
/// (phase "admm", metrics primal, relative_primal, dual, rho). `before_update(iteration)`, when
/// set, runs after each iteration's training and before its Z/U update (iterations count from 0),
/// e.g. to tighten the constraint sets with `set_projection`. Does not harden: call
/// `state.harden(registry)` afterwards. Returns the residuals of every iteration.
/// \tparam MakeOptimizer () -> an nn::Optimizer
/// \tparam TrainEpoch (admm_optimizer<...>&) -> void, one epoch of ordinary training
template <nn::Scalar S, class MakeOptimizer, class TrainEpoch>
std::vector<admm_residuals> run_admm(admm_state<S>& state, const nn::parameter_registry<S>& registry,
                                     MakeOptimizer&& make_optimizer, TrainEpoch&& train_epoch,
                                     const progress_callback& progress = {},
                                     const std::function<void(int)>& before_update = {}) {
  state.initialize(registry);
  const auto& o = state.options();
  std::vector<admm_residuals> history;
  for (int it = 0; it < o.iterations; ++it) {
    admm_optimizer opt(make_optimizer(), state);
    for (int e = 0; e < o.epochs_per_iteration; ++e) train_epoch(opt);
    if (before_update) before_update(it);
    const admm_residuals r = state.update(registry);
    history.push_back(r);
    const metric m[] = {{"primal", r.primal}, {"relative_primal", r.relative_primal}, {"dual", r.dual}, {"rho", r.rho}};
    report(progress, {"admm", it + 1, o.iterations, m});
  }
  return history;
}

}  // namespace frugal::admm
