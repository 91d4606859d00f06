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
/// Works on any model through the parameter registry. The projections and the entry-wise Z/U
/// updates run on the host execution space the state is given (`default_host_space` unless
/// named); the residuals are chunk-ordered sums, so every number it produces is identical on
/// any number of threads.

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
#include "../core/parallel.hpp"
#include "../core/progress.hpp"
#include "../nn/concepts.hpp"
#include "../nn/parameter.hpp"
#include "concepts.hpp"
#include "detail/elementwise.hpp"
#include "quantization.hpp"

namespace frugal::admm {

/// A projection with its type erased, so one driver can hold different constraint sets for
/// different parameters. Called once per ADMM iteration, never in an inner loop. Each function
/// takes the execution space to run on; a projection without the execution-space form
/// (`ProjectionOn`) is called through its plain `project<S>(w)` and ignores it.
/// \tparam Exec the host execution space the driver runs the projection on
template <nn::Scalar S, HostExecutionSpace Exec = default_host_space>
struct any_projection {
  std::function<matrix<S>(const Exec&, const matrix<S>&)> project;
  std::function<matrix<S>(const Exec&, const matrix<S>&)> support;             ///< set for sparsity projections
  std::function<quantized_matrix<S>(const Exec&, const matrix<S>&)> quantize;  ///< set for quantizing projections
  std::string description;
  bool elementwise = false;  ///< `elementwise_projection<P>`: meaningful on packed parameters too

  /// Any other type stops here with a message that names the concept (rather than "no matching
  /// function").
  template <class P>
  requires(!Projection<P, S> && !std::is_same_v<std::remove_cvref_t<P>, any_projection>)
      any_projection(P) {  // NOLINT(google-explicit-constructor)
    static_assert(Projection<P, S>,
                  "frugal::admm::any_projection: the type is not an admm::Projection<S> (it needs "
                  "project<S>(w) returning the projected matrix and describe() returning its text)");
  }

  template <class P>
  requires Projection<P, S> any_projection(
      P p)  // NOLINT(google-explicit-constructor): a projection *is* an any_projection
      : description(p.describe()), elementwise(elementwise_projection<P>) {
    using M = matrix<S>;
    if constexpr (ProjectionOn<P, S, Exec>)
      project = [p](const Exec& exec, const M& w) { return p.project(exec, w); };
    else
      project = [p](const Exec&, const M& w) { return p.template project<S>(w); };
    if constexpr (requires(const Exec& exec, const M& w) {
                    { p.support(exec, w) } -> std::same_as<M>;
                  })
      support = [p](const Exec& exec, const M& w) { return p.support(exec, w); };
    else if constexpr (requires { p.template support<S>(std::declval<const M&>()); })
      support = [p](const Exec&, const M& w) { return p.template support<S>(w); };
    if constexpr (requires(const Exec& exec, const M& w) {
                    { p.quantize(exec, w) } -> std::same_as<quantized_matrix<S>>;
                  })
      quantize = [p](const Exec& exec, const M& w) { return p.quantize(exec, w); };
    else if constexpr (requires { p.quantize(std::declval<const M&>()); })
      quantize = [p](const Exec&, const M& w) { return p.quantize(w); };
    else if constexpr (requires { p.template quantize<S>(std::declval<const M&>()); })
      quantize = [p](const Exec&, const M& w) { return p.template quantize<S>(w); };
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

namespace detail {
/// Per-chunk squared norms of one Z/U update, added in chunk order.
struct residual_sums {
  double dual = 0;    ///< ‖Z − Z_previous‖²
  double primal = 0;  ///< ‖W − Z‖²
  double norm = 0;    ///< ‖W‖²
  residual_sums& operator+=(const residual_sums& o) {
    dual += o.dual;
    primal += o.primal;
    norm += o.norm;
    return *this;
  }
};
}  // namespace detail

/// The ADMM state (Z, U, ρ) for a set of constrained parameters.
/// \tparam Exec the host execution space projections and Z/U updates run on
template <nn::Scalar S, HostExecutionSpace Exec = default_host_space>
class admm_state {
 public:
  using execution_space = Exec;

  explicit admm_state(admm_options options = {}, Exec exec = Exec{})
      : m_options(options), m_rho(options.rho), m_exec(std::move(exec)) {
    options.validate();
  }

  /// Constrains the parameter called `name` to `projection`'s set.
  void add(std::string name, any_projection<S, Exec> projection) {
    check(!m_entries.contains(name), "frugal::admm::admm_state::add: parameter '", name, "' is already constrained");
    m_entries.emplace(std::move(name), entry{std::move(projection), {}, {}});
  }

  /// Replaces the constraint set of `name` (already constrained) from the next `update` on; Z and
  /// U are kept. Progressive ADMM tightens the sets this way between iterations.
  void set_projection(std::string_view name, any_projection<S, Exec> projection) {
    auto it = m_entries.find(name);
    check(it != m_entries.end(), "frugal::admm::admm_state::set_projection: parameter '", name, "' is not constrained");
    it->second.projection = std::move(projection);
  }

  /// Z = Π(W), U = 0 for every constrained parameter (throws if one is not in `registry`).
  void initialize(const nn::parameter_registry<S>& registry) {
    for (auto& [name, e] : m_entries) {
      check_layout(name, registry.at(name), e);
      const auto& w = registry.at(name).value;
      e.z = project(e, w);
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
      check_extent("frugal::admm::admm_state::add_penalty_gradient", "value size of '" + name + "'", p.value.size(),
                   e.z.size());
      check_extent("frugal::admm::admm_state::add_penalty_gradient", "gradient size of '" + name + "'", p.grad.size(),
                   e.z.size());
      detail::for_entries(
          "frugal::admm::admm_state::add_penalty_gradient", m_exec, e.z.size(), [&](index_t b, index_t end) {
            using detail::entries;
            entries(p.grad, b, end) += rho * (entries(p.value, b, end) - entries(e.z, b, end) + entries(e.u, b, end));
          });
    }
  }

  /// Z ← Π(W + U); U ← U + W − Z; ρ ← min(ρ · multiplier, ρ_max) with U rescaled by the old
  /// over the new ρ. Returns the residuals.
  admm_residuals update(const nn::parameter_registry<S>& registry) {
    check(m_initialized, "frugal::admm::admm_state::update: call initialize first");
    admm_residuals r;
    r.rho = m_rho;
    detail::residual_sums sums;
    for (auto& [name, e] : m_entries) {
      check_layout(name, registry.at(name), e);
      const auto& w = registry.at(name).value;
      check_extent("frugal::admm::admm_state::update", "size of '" + name + "'", w.size(), e.u.size());
      matrix<S> shifted(w.rows(), w.cols());
      detail::for_entries("frugal::admm::admm_state::update W + U", m_exec, w.size(), [&](index_t b, index_t end) {
        detail::entries(shifted, b, end) = detail::entries(w, b, end) + detail::entries(e.u, b, end);
      });
      matrix<S> z = project(e, shifted);
      // Residuals and the dual step in one pass, summed per chunk and added in chunk order.
      sums += deterministic_sum<detail::residual_sums>(
          "frugal::admm::admm_state::update residuals", m_exec, w.size(), detail::entry_grain,
          [&](index_t b, index_t end) {
            using detail::entries;
            const auto zs = entries(std::as_const(z), b, end), previous = entries(std::as_const(e.z), b, end),
                       ws = entries(w, b, end);
            detail::residual_sums part;
            part.dual = (zs - previous).template cast<double>().square().sum();
            entries(e.u, b, end) += ws - zs;
            part.primal = (ws - zs).template cast<double>().square().sum();
            part.norm = ws.template cast<double>().square().sum();
            return part;
          });
      e.z = std::move(z);
    }
    r.primal = std::sqrt(sums.primal);
    r.dual = m_rho * std::sqrt(sums.dual);
    r.relative_primal = sums.norm > 0 ? std::sqrt(sums.primal / sums.norm) : 0;
    // U is the dual scaled by 1/ρ: when ρ grows by τ, U shrinks by τ so the unscaled dual is kept
    // (Boyd et al., §3.4.1).
    const double next = std::min(m_rho * m_options.rho_multiplier, m_options.rho_max);
    if (next != m_rho)
      for (auto& [name, e] : m_entries) {
        const auto factor = static_cast<S>(m_rho / next);
        detail::for_entries("frugal::admm::admm_state::update rescale U", m_exec, e.u.size(),
                            [&](index_t b, index_t end) { detail::entries(e.u, b, end) *= factor; });
      }
    m_rho = next;
    return r;
  }

  /// Hard projection: W ← Π(W) for every constrained parameter; sparsity projections also install
  /// their support as the parameter's mask (combined with an existing mask), so that retraining
  /// never revives a pruned weight. Quantizing projections record their codes (`quantized()`).
  void harden(const nn::parameter_registry<S>& registry) {
    for (auto& [name, e] : m_entries) {
      auto& p = registry.at(name);
      check_layout(name, p, e);
      // The support is taken from the value before projection: quantization may map a kept
      // weight onto the zero level, which must not turn it into a pruned one.
      std::optional<matrix<S>> mask;
      if (e.projection.support) mask = e.projection.support(m_exec, p.value);
      if (e.projection.quantize) {
        auto q = e.projection.quantize(m_exec, p.value);
        p.value = q.reconstruct(m_exec);
        m_quantized.insert_or_assign(name, std::move(q));
      } else {
        p.value = project(e, p.value);
      }
      if (mask) {
        if (p.mask) detail::multiply_into(m_exec, *mask, *p.mask);
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
  /// The execution space projections and updates run on.
  [[nodiscard]] const Exec& execution_space_instance() const noexcept { return m_exec; }
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
    any_projection<S, Exec> projection;
    matrix<S> z, u;
  };

  /// A projection that reads structure from the matrix shape (blocks, rows, circulant blocks)
  /// means nothing on a packed parameter: refuse it rather than return a meaningless Z.
  static void check_layout(const std::string& name, const nn::parameter<S>& p, const entry& e) {
    check(p.layout == nn::parameter_layout::matrix || e.projection.elementwise, "frugal::admm::admm_state: parameter '",
          name, "' holds a structured layer's packed values (", p.value.rows(), "x", p.value.cols(),
          ", not the weight matrix), and the projection '", e.projection.description,
          "' reads structure from the matrix shape; use an elementwise projection (irregular sparsity, quantization) "
          "on it, or project the dense weight before building the structured layer");
  }

  /// Π(w) for one parameter, checked to keep w's shape (a projection that does not is a bug the
  /// entry-wise updates would turn into out-of-bounds accesses).
  matrix<S> project(const entry& e, const matrix<S>& w) const {
    matrix<S> z = e.projection.project(m_exec, w);
    check(z.rows() == w.rows() && z.cols() == w.cols(), "frugal::admm::admm_state: projection '",
          e.projection.description, "' returned ", z.rows(), "x", z.cols(), " for a ", w.rows(), "x", w.cols(),
          " matrix");
    return z;
  }

  const entry& find(std::string_view name) const {
    auto it = m_entries.find(name);
    check(it != m_entries.end(), "frugal::admm::admm_state: parameter '", name, "' is not constrained");
    return it->second;
  }

  admm_options m_options;
  double m_rho;
  Exec m_exec;
  bool m_initialized = false;
  std::map<std::string, entry, std::less<>> m_entries;
  std::map<std::string, quantized_matrix<S>, std::less<>> m_quantized;
};

/// An optimizer that adds the ADMM penalty gradient before delegating to `Inner`; pass it to any
/// training loop in place of the plain optimizer during the ADMM phase.
template <nn::Optimizer Inner, HostExecutionSpace Exec = default_host_space>
class admm_optimizer {
 public:
  using scalar_type = typename Inner::scalar_type;

  admm_optimizer(Inner inner, const admm_state<scalar_type, Exec>& state)
      : m_inner(std::move(inner)), m_state(&state) {}

  void step(const nn::parameter_registry<scalar_type>& registry) {
    m_state->add_penalty_gradient(registry);
    m_inner.step(registry);
  }

  [[nodiscard]] Inner& inner() noexcept { return m_inner; }

 private:
  Inner m_inner;
  const admm_state<scalar_type, Exec>* m_state;
};

template <nn::Optimizer Inner, nn::Scalar S, HostExecutionSpace Exec>
admm_optimizer(Inner, const admm_state<S, Exec>&) -> admm_optimizer<Inner, Exec>;

/// Runs the ADMM phase: `initialize`, then for each iteration a fresh optimizer from
/// `make_optimizer()` (the learning-rate reset of ADMM-NN), `epochs_per_iteration` calls of
/// `train_epoch(optimizer)`, and an update whose residuals are reported through `progress`
/// (phase "admm", metrics primal, relative_primal, dual, rho). `before_update(iteration)`, when
/// set, runs after each iteration's training and before its Z/U update (iterations count from 0),
/// e.g. to tighten the constraint sets with `set_projection`. Does not harden: call
/// `state.harden(registry)` afterwards. Returns the residuals of every iteration.
/// \tparam MakeOptimizer () -> an nn::Optimizer
/// \tparam TrainEpoch (admm_optimizer<...>&) -> void, one epoch of ordinary training
template <nn::Scalar S, HostExecutionSpace Exec, class MakeOptimizer, class TrainEpoch>
std::vector<admm_residuals> run_admm(admm_state<S, Exec>& state, const nn::parameter_registry<S>& registry,
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
