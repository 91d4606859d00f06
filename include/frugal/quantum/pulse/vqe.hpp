#pragma once
/// \file
/// Variational algorithms at the pulse level: schedules with trainable parameters, the gate-level
/// hardware-efficient ansatz compiled to calibrated pulses (the baseline), the native-pulse ansatz
/// of NAPA (trainable amplitude, phase and detuning per pulse, grown layer by layer), and a VQE
/// driver for any Pauli-sum Hamiltonian, closed or with T1/T2.

#include <algorithm>
#include <cmath>
#include <complex>
#include <numbers>
#include <string>
#include <utility>
#include <vector>

#include "../../core/error.hpp"
#include "../../core/rng.hpp"
#include "calibrate.hpp"
#include "evolve.hpp"
#include "optimize.hpp"

namespace frugal::quantum::pulse {

/// Which number of a schedule a parameter sets: a play's amplitude, phase, detuning or DRAG β, a
/// shift-phase instruction's phase, or a virtual Z's angle. The value set is `scale · x + offset`.
struct parameter_target {
  enum class field { amp, phase, detuning, beta, shift, frame };
  field what = field::amp;
  int index = 0;  ///< into schedule::plays() (or shifts() for `shift`)
  double scale = 1;
  double offset = 0;
};

/// One trainable parameter: the numbers it sets, its starting value and its bounds.
struct parameter {
  std::string name;
  std::vector<parameter_target> targets;
  double initial = 0, lower = -1, upper = 1;
};

/// A schedule some of whose numbers are parameters.
class parametrized_schedule {
 public:
  explicit parametrized_schedule(schedule base) : m_base(std::move(base)) {}

  [[nodiscard]] const schedule& base() const { return m_base; }
  [[nodiscard]] schedule& base() { return m_base; }
  [[nodiscard]] const std::vector<parameter>& parameters() const { return m_params; }

  /// Adds a parameter; returns its index.
  int add(parameter p) {
    check(p.lower < p.upper && p.initial >= p.lower && p.initial <= p.upper,
          "frugal::quantum::pulse::parametrized_schedule::add: parameter '", p.name, "' has bad bounds or start");
    for (const auto& t : p.targets) {
      const std::size_t n = t.what == parameter_target::field::shift   ? m_base.shifts().size()
                            : t.what == parameter_target::field::frame ? m_base.frame_changes().size()
                                                                       : m_base.plays().size();
      check(t.index >= 0 && static_cast<std::size_t>(t.index) < n,
            "frugal::quantum::pulse::parametrized_schedule::add: ", "parameter '", p.name, "' targets instruction ",
            t.index, " of ", n);
    }
    m_params.push_back(std::move(p));
    return static_cast<int>(m_params.size()) - 1;
  }

  [[nodiscard]] std::vector<double> initial() const { return collect(&parameter::initial); }
  [[nodiscard]] std::vector<double> lower() const { return collect(&parameter::lower); }
  [[nodiscard]] std::vector<double> upper() const { return collect(&parameter::upper); }

  /// The schedule with the parameters set to x (pulses re-validated: |envelope| ≤ 1).
  [[nodiscard]] schedule bind(const std::vector<double>& x) const {
    check(x.size() == m_params.size(), "frugal::quantum::pulse::parametrized_schedule::bind: ", x.size(),
          " values for ", m_params.size(), " parameters");
    schedule s = m_base;
    for (std::size_t i = 0; i < x.size(); ++i)
      for (const auto& t : m_params[i].targets) {
        const double v = t.scale * x[i] + t.offset;
        if (t.what == parameter_target::field::shift) {
          s.set_shift_phase(t.index, v);
          continue;
        }
        if (t.what == parameter_target::field::frame) {
          s.set_frame_change(t.index, v);
          continue;
        }
        auto& w = s.plays()[static_cast<std::size_t>(t.index)].pulse;
        switch (t.what) {
          case parameter_target::field::amp:
            w.amp = v;
            break;
          case parameter_target::field::phase:
            w.phase = v;
            break;
          case parameter_target::field::detuning:
            w.detuning = v;
            break;
          case parameter_target::field::beta:
            w.beta = v;
            break;
          case parameter_target::field::shift:
          case parameter_target::field::frame:
            break;
        }
      }
    for (const auto& p : s.plays()) p.pulse.validate("frugal::quantum::pulse::parametrized_schedule::bind");
    return s;
  }

  /// dE/dx from the per-instruction gradient of a bound schedule.
  [[nodiscard]] std::vector<double> chain(const pulse_gradient& g) const {
    std::vector<double> d(m_params.size(), 0.0);
    for (std::size_t i = 0; i < m_params.size(); ++i)
      for (const auto& t : m_params[i].targets) {
        const auto k = static_cast<std::size_t>(t.index);
        switch (t.what) {
          case parameter_target::field::amp:
            d[i] += t.scale * g.amp[k];
            break;
          case parameter_target::field::phase:
            d[i] += t.scale * g.phase[k];
            break;
          case parameter_target::field::detuning:
            d[i] += t.scale * g.detuning[k];
            break;
          case parameter_target::field::beta:
            d[i] += t.scale * g.beta[k];
            break;
          case parameter_target::field::shift:
            d[i] += t.scale * g.shift[k];
            break;
          case parameter_target::field::frame:
            d[i] += t.scale * g.frame[k];
            break;
        }
      }
    return d;
  }

 private:
  [[nodiscard]] std::vector<double> collect(double parameter::*field) const {
    std::vector<double> x;
    for (const auto& p : m_params) x.push_back(p.*field);
    return x;
  }

  schedule m_base;
  std::vector<parameter> m_params;
};

/// Energy of a Pauli sum after a schedule, and its gradient, from the ground state.
class energy_objective {
 public:
  /// `open`: evolve the density matrix with the device's T1/T2 (no gradient then).
  energy_objective(const simulator& sim, const std::vector<pauli_string>& hamiltonian, bool open = false)
      : m_sim(&sim), m_o(sim.observable(hamiltonian)), m_open(open) {}

  [[nodiscard]] double energy(const schedule& s) const {
    if (!m_open) return simulator::expectation(m_o, m_sim->evolve(s, m_sim->ground_state()));
    const cvector g = m_sim->ground_state();
    return simulator::expectation_density(m_o, m_sim->evolve_density(s, g * g.adjoint()));
  }

  [[nodiscard]] double operator()(const parametrized_schedule& a, const std::vector<double>& x,
                                  std::vector<double>* grad) const {
    const schedule s = a.bind(x);
    if (grad == nullptr) return energy(s);
    check(!m_open, "frugal::quantum::pulse::energy_objective: gradients are for closed systems only");
    const auto g = m_sim->energy_gradient(s, m_o, m_sim->ground_state());
    *grad = a.chain(g);
    return g.value;
  }

  [[nodiscard]] const simulator& sim() const { return *m_sim; }

 private:
  const simulator* m_sim;
  cmatrix m_o;
  bool m_open;
};

/// Plays RY(θ) on transmon q from sample `start` as IBM compiles it, RZ(π)·SX·RZ(θ + π)·SX (up to
/// a global phase), the angle θ sitting in a virtual Z; returns that virtual Z's index (in
/// `schedule::frame_changes()`), to which a parameter can be tied, and sets `end` to the end sample.
inline int play_ry(schedule& s, const device_model& d, const gate_table& t, int q, int start, double theta, int& end) {
  const int ch = d.drive_channel(q);
  const auto& sx = t.sx[static_cast<std::size_t>(q)].pulse;
  s.play(ch, start, sx);
  s.virtual_z(q, start + sx.duration, theta + std::numbers::pi);
  const int frame = static_cast<int>(s.frame_changes().size()) - 1;
  s.play(ch, start + sx.duration, sx);
  s.virtual_z(q, start + 2 * sx.duration, std::numbers::pi);
  end = start + 2 * sx.duration;
  return frame;
}

/// Adds RY(θ) on transmon q at sample `start` (see `play_ry`) with θ a new parameter called
/// `name` starting at `theta0`; returns the end sample.
inline int add_ry(parametrized_schedule& a, const device_model& d, const gate_table& t, int q, int start, double theta0,
                  const std::string& name) {
  int end = start;
  const int frame = play_ry(a.base(), d, t, q, start, theta0, end);
  a.add({.name = name,
         .targets = {{parameter_target::field::frame, frame, 1.0, std::numbers::pi}},
         .initial = theta0,
         .lower = -2 * std::numbers::pi,
         .upper = 2 * std::numbers::pi});
  return end;
}

/// The gate-level hardware-efficient ansatz compiled to the calibrated pulses: `reps` times [RY
/// on each transmon, then CNOT on each coupled pair in the device's order, in the direction
/// calibrated], then a final RY layer. Parameters: the RY angles, transmon by transmon, layer by layer.
[[nodiscard]] inline parametrized_schedule gate_ansatz(const device_model& d, const gate_table& t, int reps,
                                                       const std::vector<double>& theta0 = {}) {
  const int n = static_cast<int>(d.transmons.size());
  check(reps >= 0, "frugal::quantum::pulse::gate_ansatz: reps = ", reps, " (>= 0)");
  check(static_cast<int>(t.sx.size()) == n, "frugal::quantum::pulse::gate_ansatz: the gate table has ", t.sx.size(),
        " transmons; the device ", n);
  const std::size_t np = static_cast<std::size_t>(n * (reps + 1));
  check(theta0.empty() || theta0.size() == np, "frugal::quantum::pulse::gate_ansatz: ", theta0.size(),
        " start angles for ", np, " parameters");
  parametrized_schedule a{schedule(d)};
  int time = 0;
  std::size_t k = 0;
  for (int r = 0; r <= reps; ++r) {
    int end = time;
    for (int q = 0; q < n; ++q, ++k)
      end = std::max(end,
                     add_ry(a, d, t, q, time, theta0.empty() ? 0.1 * (k + 1) : theta0[k], "theta" + std::to_string(k)));
    time = end;
    if (r < reps)
      for (const auto& c : d.couplings) time = play_cx(a.base(), d, t, t.find_pair(c.i, c.j), time);
  }
  return a;
}

/// QAOA for MaxCut (the cost `maxcut_hamiltonian(n, edges)`) compiled to the calibrated pulses:
/// RY(π/2) on every transmon (|+⟩ from |0⟩), then `layers` times the cost layer exp(−iγ_k C) —
/// RZZ(γ_k) = CNOT·RZ(γ_k)·CNOT per edge, the RZ a virtual Z — and the mixer exp(−iβ_k Σ X) —
/// RX(2β_k) = RZ(−π/2)·RY(2β_k)·RZ(π/2) per transmon. Parameters: γ_1, β_1, γ_2, β_2, ….
///
/// An edge between coupled transmons costs two CNOTs; an edge (i, j) between transmons both
/// coupled to a middle one m costs six, the parity z_i ⊕ z_j routed onto j through m and back.
/// Any other edge throws, naming it. A CNOT against its pair's calibrated direction is played
/// between Hadamards (`play_cnot`).
[[nodiscard]] inline parametrized_schedule qaoa_ansatz(const device_model& d, const gate_table& t,
                                                       const std::vector<std::pair<int, int>>& edges, int layers,
                                                       const std::vector<double>& x0 = {}) {
  constexpr const char* where = "frugal::quantum::pulse::qaoa_ansatz";
  const int n = static_cast<int>(d.transmons.size());
  check(layers >= 1, where, ": layers = ", layers, " (>= 1)");
  check(x0.empty() || x0.size() == static_cast<std::size_t>(2 * layers), where, ": ", x0.size(), " start values for ",
        2 * layers, " parameters");
  auto coupled = [&](int a, int b) {
    for (const auto& c : d.couplings)
      if ((c.i == a && c.j == b) || (c.i == b && c.j == a)) return true;
    return false;
  };
  // Each edge as the CNOTs that carry z_i ⊕ z_j onto its target and the transmon that then holds it.
  struct route {
    std::vector<std::pair<int, int>> cnots;  // (control, target), forwards; undone in reverse
    int holder = 0;
  };
  std::vector<route> routes;
  for (std::size_t e = 0; e < edges.size(); ++e) {
    const int i = std::min(edges[e].first, edges[e].second), j = std::max(edges[e].first, edges[e].second);
    check(i >= 0 && j < n && i != j, where, ": edge ", e, " (", edges[e].first, ", ", edges[e].second,
          ") is not a pair of distinct transmons of the ", n, "-transmon device");
    if (coupled(i, j)) {
      const auto& g = t.find_pair(i, j);  // RZZ is symmetric: the calibrated direction
      routes.push_back({{{g.control, g.target}}, g.target});
      continue;
    }
    int middle = -1;
    for (int m = 0; m < n; ++m)
      if (m != i && m != j && coupled(i, m) && coupled(m, j)) middle = m;
    check(middle >= 0, where, ": edge ", e, " (", i, ", ", j,
          ") joins transmons neither coupled nor sharing a coupled neighbour");
    // (a, b, c) on (i, m, j): CX(m,j), CX(i,m), CX(m,j) leaves (a, a⊕b, a⊕c).
    routes.push_back({{{middle, j}, {i, middle}, {middle, j}}, j});
  }
  const double pi = std::numbers::pi;
  parametrized_schedule a{schedule(d)};
  schedule& s = a.base();
  int time = 0;
  {
    int end = time;
    for (int q = 0; q < n; ++q) {
      int e = time;
      play_ry(s, d, t, q, time, pi / 2, e);
      end = std::max(end, e);
    }
    time = end;
  }
  for (int l = 0; l < layers; ++l) {
    parameter gamma{.name = "gamma" + std::to_string(l + 1),
                    .targets = {},
                    .initial = x0.empty() ? 0.4 : x0[static_cast<std::size_t>(2 * l)],
                    .lower = -pi,
                    .upper = pi};
    for (const auto& r : routes) {
      for (const auto& [c, tg] : r.cnots) time = play_cnot(s, d, t, c, tg, time);
      s.virtual_z(r.holder, time, gamma.initial);
      gamma.targets.push_back({parameter_target::field::frame, static_cast<int>(s.frame_changes().size()) - 1});
      for (auto c = r.cnots.rbegin(); c != r.cnots.rend(); ++c) time = play_cnot(s, d, t, c->first, c->second, time);
    }
    a.add(gamma);
    parameter beta{.name = "beta" + std::to_string(l + 1),
                   .targets = {},
                   .initial = x0.empty() ? 0.3 : x0[static_cast<std::size_t>(2 * l + 1)],
                   .lower = -pi,
                   .upper = pi};
    int end = time;
    for (int q = 0; q < n; ++q) {
      s.virtual_z(q, time, pi / 2);
      int e = time;
      const int frame = play_ry(s, d, t, q, time, 2 * beta.initial, e);
      beta.targets.push_back({parameter_target::field::frame, frame, 2.0, pi});
      s.virtual_z(q, e, -pi / 2);
      end = std::max(end, e);
    }
    time = end;
    a.add(beta);
  }
  return a;
}

/// Probabilities of the 2^n bit strings a measurement of every transmon reads from `psi` (bit q of
/// the index is transmon q; a level ≥ 1 reads as 1, as IBM's discriminators do).
[[nodiscard]] inline std::vector<double> bitstring_probabilities(const device_model& d, const cvector& psi) {
  const std::size_t n = d.transmons.size();
  check(static_cast<index_t>(psi.size()) == d.dimension(),
        "frugal::quantum::pulse::bitstring_probabilities: a state of ", psi.size(), " amplitudes for a register of ",
        d.dimension());
  std::vector<double> p(std::size_t{1} << n, 0.0);
  for (index_t idx = 0; idx < psi.size(); ++idx) {
    index_t rest = idx;
    std::size_t bits = 0;
    for (std::size_t q = 0; q < n; ++q) {
      const auto levels = static_cast<index_t>(d.transmons[q].levels);
      if (rest % levels != 0) bits |= std::size_t{1} << q;
      rest /= levels;
    }
    p[bits] += std::norm(psi(idx));
  }
  return p;
}

struct native_ansatz_options {
  int single_duration = 160;  ///< DRAG pulses, as the calibrated X
  double single_sigma = 40;
  int cr_duration = 256;  ///< flat-top cross-resonance pulses
  double cr_sigma = 32;
  double detuning_bound = 0.05;  ///< rad/ns (±8 MHz)
  double amp_bound = 0.95;
  double grow_amplitude = 0.02;  ///< largest starting |amp| of the pulses a grown layer adds
  std::uint64_t seed = 1;        ///< random small starting amplitudes and phases
};

/// The native-pulse ansatz (NAPA) with `layers` layers on all transmons: layer 0 is a DRAG pulse
/// on each transmon; each further layer a cross-resonance pulse on every coupled pair (control
/// the lower index) followed by a DRAG pulse on each transmon. Each pulse has a trainable
/// amplitude and phase, DRAG pulses a trainable detuning too; DRAG β is the calibrated X's.
/// `previous` (the optimum of the ansatz with fewer layers) seeds the shared parameters; the new
/// pulses start at small random amplitudes (|amp| ≤ `grow_amplitude`) and phases, so a grown
/// ansatz starts next to where the smaller one ended, but off the saddle at amplitude 0 (where
/// the energy's derivatives with respect to the new pulses often vanish).
[[nodiscard]] inline parametrized_schedule native_ansatz(const device_model& d, const gate_table& t, int layers,
                                                         const native_ansatz_options& o = {},
                                                         const std::vector<double>& previous = {}) {
  check(layers >= 1, "frugal::quantum::pulse::native_ansatz: layers >= 1");
  const int n = static_cast<int>(d.transmons.size());
  check(static_cast<int>(t.x.size()) == n, "frugal::quantum::pulse::native_ansatz: the gate table has ", t.x.size(),
        " transmons; the device ", n);
  parametrized_schedule a{schedule(d)};
  rng gen(o.seed);
  int time = 0;
  std::size_t next_prev = 0;
  auto start_value = [&](double fresh) { return next_prev < previous.size() ? previous[next_prev++] : fresh; };
  auto add_pulse = [&](int ch, int at, const waveform& w, bool detuning, bool fresh_random, const std::string& name) {
    a.base().play(ch, at, w);
    const int idx = static_cast<int>(a.base().plays().size()) - 1;
    const double amp0 = gen.uniform(-1, 1) * (fresh_random ? 0.05 : o.grow_amplitude);
    const double ph0 = gen.uniform(-std::numbers::pi, std::numbers::pi);
    a.add({name + ".amp", {{parameter_target::field::amp, idx}}, start_value(amp0), -o.amp_bound, o.amp_bound});
    a.add({name + ".phase",
           {{parameter_target::field::phase, idx}},
           start_value(ph0),
           -2 * std::numbers::pi,
           2 * std::numbers::pi});
    if (detuning)
      a.add({name + ".detuning",
             {{parameter_target::field::detuning, idx}},
             start_value(0.0),
             -o.detuning_bound,
             o.detuning_bound});
  };
  for (int layer = 0; layer < layers; ++layer) {
    const bool fresh = layer == 0;
    if (layer > 0) {
      bool any = false;
      for (const auto& c : d.couplings) {
        const int ctl = std::min(c.i, c.j), tgt = std::max(c.i, c.j);
        const waveform cr =
            gaussian_square(o.cr_duration, 0.0, o.cr_sigma, std::max(0.0, o.cr_duration - 4 * o.cr_sigma));
        add_pulse(d.cross_resonance_channel(ctl, tgt), time, cr, false, false,
                  "cr" + std::to_string(ctl) + std::to_string(tgt) + "." + std::to_string(layer));
        any = true;
      }
      if (any) time += o.cr_duration;
    }
    for (int q = 0; q < n; ++q) {
      const waveform w = drag(o.single_duration, 0.0, o.single_sigma, t.x[static_cast<std::size_t>(q)].pulse.beta);
      add_pulse(d.drive_channel(q), time, w, true, fresh, "q" + std::to_string(q) + "." + std::to_string(layer));
    }
    time += o.single_duration;
  }
  return a;
}

struct vqe_options {
  optimize_options optimizer = {};
  bool open = false;  ///< evolve with T1/T2 (non-gradient methods only)
};

struct vqe_result {
  double energy = 0;
  std::vector<double> x;
  int evaluations = 0;
  int duration = 0;                                 ///< samples of the trained schedule
  std::vector<double> trace;                        ///< best energy after each evaluation
  stop_reason stop = stop_reason::max_evaluations;  ///< why the (last kept) training ended
};

/// Minimises ⟨H⟩ over the ansatz's parameters from `x0` (its initial values when empty).
[[nodiscard]] inline vqe_result run_vqe(const simulator& sim, const std::vector<pauli_string>& hamiltonian,
                                        const parametrized_schedule& ansatz, const vqe_options& o = {},
                                        std::vector<double> x0 = {}) {
  check(!(o.open && needs_gradient(o.optimizer.algorithm)),
        "frugal::quantum::pulse::run_vqe: ", to_string(o.optimizer.algorithm),
        " needs gradients, which open-system evolution does not provide");
  const energy_objective f(sim, hamiltonian, o.open);
  if (x0.empty()) x0 = ansatz.initial();
  const auto r = minimize([&](const std::vector<double>& x, std::vector<double>* g) { return f(ansatz, x, g); }, x0,
                          ansatz.lower(), ansatz.upper(), o.optimizer);
  vqe_result v;
  v.energy = r.value;
  v.x = r.x;
  v.evaluations = r.evaluations;
  v.trace = r.trace;
  v.stop = r.stop;
  v.duration = ansatz.bind(r.x).duration();
  return v;
}

/// NAPA's progressive growth: trains the native ansatz with 1, 2, … `max_layers` layers, each
/// starting from the previous optimum, and stops growing once a layer improves the energy by less
/// than `min_gain` (Hartree) or the target `stop_below` is reached. Returns the result of the
/// last layer that gained at least `min_gain` (`trace` and `evaluations` cover every layer tried)
/// and, through `layers_used`, how many layers it has.
[[nodiscard]] inline vqe_result grow_native_vqe(const simulator& sim, const std::vector<pauli_string>& hamiltonian,
                                                const gate_table& t, int max_layers, const vqe_options& o,
                                                const native_ansatz_options& ao = {}, double min_gain = 1e-4,
                                                double stop_below = -std::numeric_limits<double>::infinity(),
                                                int* layers_used = nullptr) {
  vqe_result best;
  best.energy = std::numeric_limits<double>::infinity();
  std::vector<double> trace;
  int evals = 0;
  for (int l = 1; l <= max_layers; ++l) {
    const auto a = native_ansatz(sim.device(), t, l, ao, best.x);
    vqe_result r = run_vqe(sim, hamiltonian, a, o);
    trace.insert(trace.end(), r.trace.begin(), r.trace.end());
    evals += r.evaluations;
    const double gain = best.energy - r.energy;
    // A layer that gains less than min_gain is not worth its duration: keep the shorter schedule.
    if (gain < min_gain) break;
    best = r;
    if (layers_used != nullptr) *layers_used = l;
    if (best.energy <= stop_below) break;
  }
  best.trace = trace;
  best.evaluations = evals;
  return best;
}

}  // namespace frugal::quantum::pulse
