#pragma once
/// \file
/// Optimisers for pulse parameters: NLopt's derivative-free COBYLA, Nelder–Mead and BOBYQA and
/// its L-BFGS (when frugal was built with NLopt: `frugal::nlopt`, which defines
/// FRUGAL_HAVE_NLOPT), plus SPSA and Adam, which need nothing. Each minimises within box bounds
/// and records the best value after every evaluation (the trace VQE plots are drawn from).
///
/// NAPA trains pulses with non-gradient methods because the parameter-shift rule does not hold
/// for pulse parameters on hardware; a simulator has exact gradients (`simulator::energy_gradient`),
/// so Adam and L-BFGS are here to compare against them.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <exception>
#include <functional>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "../../core/error.hpp"
#include "../../core/rng.hpp"

#if defined(FRUGAL_HAVE_NLOPT)
#include <nlopt.h>
#endif

namespace frugal::quantum::pulse {

/// The optimisers `minimize` offers.
enum class method { cobyla, nelder_mead, bobyqa, lbfgs, spsa, adam };

/// Name of a method ("cobyla", "nelder-mead", "bobyqa", "lbfgs", "spsa", "adam").
[[nodiscard]] inline const char* to_string(method m) {
  switch (m) {
    case method::cobyla:
      return "cobyla";
    case method::nelder_mead:
      return "nelder-mead";
    case method::bobyqa:
      return "bobyqa";
    case method::lbfgs:
      return "lbfgs";
    case method::spsa:
      return "spsa";
    case method::adam:
      return "adam";
  }
  return "?";
}

/// Parses a method name (as `to_string` writes it); throws naming the choices.
[[nodiscard]] inline method parse_method(std::string_view s) {
  for (method m : {method::cobyla, method::nelder_mead, method::bobyqa, method::lbfgs, method::spsa, method::adam})
    if (s == to_string(m)) return m;
  throw invalid_argument(frugal::detail::concat("frugal::quantum::pulse: unknown optimiser '", s,
                                                "' (cobyla, nelder-mead, bobyqa, lbfgs, spsa, adam)"));
}

/// True for the methods that need a gradient.
[[nodiscard]] inline bool needs_gradient(method m) { return m == method::lbfgs || m == method::adam; }

/// True when `m` is available in this build (the NLopt ones need FRUGAL_HAVE_NLOPT).
[[nodiscard]] inline bool available(method m) {
#if defined(FRUGAL_HAVE_NLOPT)
  (void)m;
  return true;
#else
  return m == method::spsa || m == method::adam;
#endif
}

struct optimize_options {
  method algorithm = method::cobyla;
  int max_evaluations = 400;       ///< objective (or objective+gradient) evaluations
  double value_tolerance = 1e-10;  ///< stop when an iteration improves the value by less (NLopt ftol_abs)
  double initial_step = 0.1;       ///< fraction of each bound's width for the derivative-free methods' first step
  double learning_rate = 0.02;     ///< Adam's step, as a fraction of each bound's width
  std::uint64_t seed = 1;          ///< SPSA's perturbations
  std::function<void(int, double)> progress = {};  ///< called with (evaluation, best value) after each evaluation
};

/// Why a minimisation ended.
enum class stop_reason {
  max_evaluations,   ///< the evaluation budget ran out (SPSA and Adam always end so)
  converged,         ///< a tolerance was met (NLopt's ftol, xtol or stopval)
  roundoff_limited,  ///< NLopt stopped on rounding errors: the best point is as good as it can tell
  solver_failure     ///< NLopt reported a failure (L-BFGS's line search can): the best point seen is kept
};

[[nodiscard]] inline const char* to_string(stop_reason s) {
  switch (s) {
    case stop_reason::max_evaluations:
      return "evaluation budget spent";
    case stop_reason::converged:
      return "converged";
    case stop_reason::roundoff_limited:
      return "limited by rounding";
    case stop_reason::solver_failure:
      return "solver failure, best point kept";
  }
  return "?";
}

struct optimize_result {
  std::vector<double> x;
  double value = std::numeric_limits<double>::infinity();
  int evaluations = 0;
  std::vector<double> trace;  ///< best value after each evaluation
  stop_reason stop = stop_reason::max_evaluations;
  int solver_code = 0;  ///< NLopt's result code of the last run (0 for SPSA and Adam)
};

/// The objective: value at x; when `grad` is non-null (gradient methods) also fill it.
using objective = std::function<double(const std::vector<double>& x, std::vector<double>* grad)>;

namespace detail {

struct tracker {
  const objective* f;
  const optimize_options* o;
  optimize_result* r;
  double call(const std::vector<double>& x, std::vector<double>* g) {
    const double v = (*f)(x, g);
    check(std::isfinite(v), "frugal::quantum::pulse::minimize: the objective returned ", v);
    ++r->evaluations;
    if (v < r->value) {
      r->value = v;
      r->x = x;
    }
    r->trace.push_back(r->value);
    if (o->progress) o->progress(r->evaluations, r->value);
    return v;
  }
};

#if defined(FRUGAL_HAVE_NLOPT)
struct nlopt_context {
  tracker* t;
  nlopt_opt opt;
  std::exception_ptr error;  ///< an exception of the objective, rethrown once NLopt has returned
};

// An exception must not unwind through NLopt's C frames: it is stored, NLopt is told to stop,
// and `minimize` rethrows it.
inline double nlopt_callback(unsigned n, const double* x, double* grad, void* data) {
  auto* c = static_cast<nlopt_context*>(data);
  try {
    std::vector<double> xv(x, x + n), g;
    const double v = c->t->call(xv, grad != nullptr ? &g : nullptr);
    if (grad != nullptr) {
      check(g.size() == n, "frugal::quantum::pulse::minimize: the objective returned a gradient of ", g.size(),
            " entries for ", n);
      for (unsigned i = 0; i < n; ++i) grad[i] = g[i];
    }
    return v;
  } catch (...) {
    c->error = std::current_exception();
    nlopt_force_stop(c->opt);
    return std::numeric_limits<double>::quiet_NaN();
  }
}
#endif

}  // namespace detail

/// Minimises `f` from `x0` within [lower, upper] (element-wise) with `options.algorithm`.
[[nodiscard]] inline optimize_result minimize(const objective& f, std::vector<double> x0,
                                              const std::vector<double>& lower, const std::vector<double>& upper,
                                              const optimize_options& options = {}) {
  constexpr const char* where = "frugal::quantum::pulse::minimize";
  const std::size_t n = x0.size();
  check(n > 0 && lower.size() == n && upper.size() == n, where,
        ": x0, lower and upper must have the same non-zero size");
  for (std::size_t i = 0; i < n; ++i) {
    check(lower[i] < upper[i], where, ": bound ", i, " is empty (", lower[i], " >= ", upper[i], ")");
    check(std::isfinite(x0[i]), where, ": x0[", i, "] is not finite");
    x0[i] = std::clamp(x0[i], lower[i], upper[i]);
  }
  check(options.max_evaluations > 0, where, ": max_evaluations must be positive");
  check(available(options.algorithm), where, ": ", to_string(options.algorithm),
        " needs NLopt (libnlopt-dev), which this build was made without");
  optimize_result r;
  detail::tracker t{&f, &options, &r};
  const bool grad = needs_gradient(options.algorithm);
  if (options.algorithm == method::spsa) {
    // Spall's gains: a_k = a / (k + 1 + A)^0.602, c_k = c / (k + 1)^0.101, with the step scaled
    // per dimension by the bound's width, and `a` set so the first step moves ~initial_step.
    rng gen(options.seed);
    std::vector<double> x = x0, d(n), xp(n), xm(n), width(n);
    for (std::size_t i = 0; i < n; ++i) width[i] = upper[i] - lower[i];
    const double A = 0.1 * options.max_evaluations / 2, c = 0.1;
    double a = -1;
    (void)t.call(x, nullptr);
    for (int k = 0; r.evaluations + 2 <= options.max_evaluations; ++k) {
      const double ck = c / std::pow(k + 1, 0.101);
      for (std::size_t i = 0; i < n; ++i) {
        d[i] = gen.uniform() < 0.5 ? -1.0 : 1.0;
        xp[i] = std::clamp(x[i] + ck * width[i] * d[i], lower[i], upper[i]);
        xm[i] = std::clamp(x[i] - ck * width[i] * d[i], lower[i], upper[i]);
      }
      const double diff = (t.call(xp, nullptr) - t.call(xm, nullptr)) / (2 * ck);
      if (a < 0) a = options.initial_step * std::pow(A + 1, 0.602) / std::max(std::abs(diff), 1e-12);
      const double ak = a / std::pow(k + 1 + A, 0.602);
      for (std::size_t i = 0; i < n; ++i) x[i] = std::clamp(x[i] - ak * diff * d[i] * width[i], lower[i], upper[i]);
    }
    return r;
  }
  if (options.algorithm == method::adam) {
    std::vector<double> x = x0, m(n, 0.0), v(n, 0.0), g(n);
    for (int k = 1; r.evaluations < options.max_evaluations; ++k) {
      (void)t.call(x, &g);
      check(g.size() == n, where, ": the objective returned a gradient of ", g.size(), " entries for ", n);
      for (std::size_t i = 0; i < n; ++i) {
        const double w = upper[i] - lower[i];
        m[i] = 0.9 * m[i] + 0.1 * g[i] * w;
        v[i] = 0.999 * v[i] + 0.001 * g[i] * w * g[i] * w;
        const double mh = m[i] / (1 - std::pow(0.9, k)), vh = v[i] / (1 - std::pow(0.999, k));
        x[i] = std::clamp(x[i] - options.learning_rate * w * mh / (std::sqrt(vh) + 1e-12), lower[i], upper[i]);
      }
    }
    return r;
  }
#if defined(FRUGAL_HAVE_NLOPT)
  nlopt_algorithm alg = NLOPT_LN_COBYLA;
  if (options.algorithm == method::nelder_mead) alg = NLOPT_LN_NELDERMEAD;
  if (options.algorithm == method::bobyqa) alg = NLOPT_LN_BOBYQA;
  if (options.algorithm == method::lbfgs) alg = NLOPT_LD_LBFGS;
  std::vector<double> step(n);
  for (std::size_t i = 0; i < n; ++i) step[i] = options.initial_step * (upper[i] - lower[i]);
  // Nelder–Mead's simplex can collapse against a bound (NLopt projects reflected points onto the
  // box) and stall off the optimum: it is restarted from its best point with a fresh simplex
  // while evaluations remain and a restart still gains.
  for (int restart = 0; restart < 20 && r.evaluations < options.max_evaluations; ++restart) {
    const double before = r.value;
    nlopt_opt opt = nlopt_create(alg, static_cast<unsigned>(n));
    check(opt != nullptr, where, ": NLopt could not create ", to_string(options.algorithm));
    nlopt_set_lower_bounds(opt, lower.data());
    nlopt_set_upper_bounds(opt, upper.data());
    detail::nlopt_context context{&t, opt, nullptr};
    nlopt_set_min_objective(opt, detail::nlopt_callback, &context);
    nlopt_set_maxeval(opt, options.max_evaluations - r.evaluations);
    nlopt_set_ftol_abs(opt, options.value_tolerance);
    if (!grad) nlopt_set_initial_step(opt, step.data());
    std::vector<double> x = restart == 0 ? x0 : r.x;
    double value = 0;
    const nlopt_result res = nlopt_optimize(opt, x.data(), &value);
    nlopt_destroy(opt);
    if (context.error) std::rethrow_exception(context.error);
    r.solver_code = static_cast<int>(res);
    // Running out of evaluations or stalling in rounding is a normal end. NLopt's generic failure
    // (L-BFGS ends so when its line search finds no descent, typically at an optimum the gradient's
    // rounding blurs) keeps the best point seen, which is still a valid result; bad arguments and
    // lack of memory throw.
    if (res == NLOPT_MAXEVAL_REACHED)
      r.stop = stop_reason::max_evaluations;
    else if (res > 0)
      r.stop = stop_reason::converged;
    else if (res == NLOPT_ROUNDOFF_LIMITED)
      r.stop = stop_reason::roundoff_limited;
    else if (res == NLOPT_FAILURE && r.evaluations > 0)
      r.stop = stop_reason::solver_failure;
    else
      throw invalid_argument(frugal::detail::concat(where, ": NLopt's ", to_string(options.algorithm), " failed (code ",
                                                    static_cast<int>(res), ")"));
    if (options.algorithm != method::nelder_mead || !(before - r.value > options.value_tolerance)) break;
    for (auto& st : step) st *= 0.5;
  }
#endif
  return r;
}

}  // namespace frugal::quantum::pulse
