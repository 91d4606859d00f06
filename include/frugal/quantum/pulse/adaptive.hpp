#pragma once
/// \file
/// Adaptive time evolution of a pulse schedule with Boost.Odeint (`libboost-dev`, header-only):
/// the Schrödinger equation of the continuous-time Hamiltonian `simulator::hamiltonian` — each
/// envelope held over its sample, the frame, carrier and detuning phases turning continuously —
/// integrated by an error-controlled Dormand–Prince 5(4) stepper, one sample at a time (the
/// envelopes jump at sample boundaries, which a step must not straddle).
///
/// `simulator::evolve` holds those phases at each step's midpoint and applies each step exactly;
/// this integrator makes no such approximation, so it is the independent reference that the
/// fixed-step model converges to (at second order in the step), and the evolution to use where a
/// step size cannot be chosen in advance. It is slower: every right-hand side forms H(t).
///
/// Needs Boost's headers: the target `frugal::odeint` (defined where CMake finds Boost) carries
/// them, and FRUGAL_HAVE_ODEINT.

#include <boost/numeric/odeint.hpp>
#include <complex>
#include <vector>

#include "../../core/error.hpp"
#include "evolve.hpp"

namespace frugal::quantum::pulse {

/// Tolerances of `evolve_adaptive` (Odeint's absolute and relative error per step) and the first
/// step tried in each sample, in ns.
struct adaptive_options {
  double abs_tol = 1e-10;
  double rel_tol = 1e-10;
  double first_step = 0.01;
};

/// What `evolve_adaptive` did: the stepper's accepted steps over the whole schedule.
struct adaptive_stats {
  long steps = 0;
};

/// Evolves `psi` through schedule `s` on `sim`'s device by Odeint's controlled Dormand–Prince
/// stepper (closed system), and returns the state in the frame the schedule's virtual Zs leave, as
/// `simulator::evolve` does.
[[nodiscard]] inline cvector evolve_adaptive(const simulator& sim, const schedule& s, const cvector& psi,
                                             const adaptive_options& o = {}, adaptive_stats* stats = nullptr) {
  constexpr const char* where = "frugal::quantum::pulse::evolve_adaptive";
  check(psi.size() == sim.dimension(), where, ": the state has ", psi.size(), " entries; the register has ",
        sim.dimension());
  check(o.abs_tol > 0 && o.rel_tol > 0 && o.first_step > 0, where, ": tolerances and the first step must be positive");
  using state = std::vector<std::complex<double>>;
  namespace ode = boost::numeric::odeint;
  const index_t n = sim.dimension();
  state x(static_cast<std::size_t>(n));
  for (index_t i = 0; i < n; ++i) x[static_cast<std::size_t>(i)] = psi(i);
  const double dt = sim.device().dt;
  auto stepper = ode::make_controlled(o.abs_tol, o.rel_tol, ode::runge_kutta_dopri5<state>());
  long steps = 0;
  for (int k = 0; k < s.duration(); ++k) {
    // H(t) within sample k: its envelopes are fixed, so it is evaluated at a time inside the
    // sample, never at the boundary where the next sample's envelope begins.
    const double t0 = k * dt, t1 = (k + 1) * dt;
    auto rhs = [&](const state& y, state& dydt, double t) {
      const cmatrix h = sim.hamiltonian(s, std::min(std::max(t, t0), t1 - 1e-9 * dt));
      Eigen::Map<const cvector> in(y.data(), n);
      Eigen::Map<cvector> out(dydt.data(), n);
      out.noalias() = std::complex<double>(0, -1) * (h * in);
    };
    steps += static_cast<long>(ode::integrate_adaptive(stepper, rhs, x, t0, t1, std::min(o.first_step, dt)));
  }
  if (stats != nullptr) stats->steps = steps;
  cvector out(n);
  for (index_t i = 0; i < n; ++i) out(i) = x[static_cast<std::size_t>(i)];
  return sim.frame_rotation(s).asDiagonal() * out;
}

}  // namespace frugal::quantum::pulse
