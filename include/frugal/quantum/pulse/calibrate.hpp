#pragma once
/// \file
/// Calibration in simulation: Rabi scans and fits, X and SX DRAG pulses (amplitude and β), and an
/// echoed cross-resonance CNOT, collected in the gate-to-pulse table the gate-level baseline
/// compiles to.
///
/// As on hardware, a Rabi amplitude scan finds the π amplitude of a Gaussian; unlike hardware, the
/// simulator then sees the whole operation, so amplitude and DRAG β (and, for the CNOT, the cross-
/// resonance amplitude and phase and the single-qubit corrections) are refined by maximising the
/// average gate fidelity on the computational subspace — leakage counts against it — with
/// NLopt's Nelder–Mead (or SPSA without NLopt).

#include <algorithm>
#include <cmath>
#include <complex>
#include <functional>
#include <numbers>
#include <string>
#include <vector>

#include "../../core/error.hpp"
#include "../gates.hpp"
#include "evolve.hpp"
#include "optimize.hpp"

namespace frugal::quantum::pulse {

/// Average gate fidelity of the (possibly leaky) subspace operation `m` with the unitary `v`:
/// (Tr(M†M) + |Tr(V†M)|²) / (d(d + 1)).
[[nodiscard]] inline double average_gate_fidelity(const cmatrix& m, const cmatrix& v) {
  check(m.rows() == v.rows() && m.cols() == v.cols() && m.rows() == m.cols(),
        "frugal::quantum::pulse::average_gate_fidelity: shapes differ");
  const double d = static_cast<double>(m.rows());
  return ((m.adjoint() * m).trace().real() + std::norm((v.adjoint() * m).trace())) / (d * (d + 1));
}

/// The device reduced to transmon q and its drive channel (couplings dropped): single-qubit
/// pulses are calibrated on it, as they are on hardware, one qubit at a time.
[[nodiscard]] inline device_model single_transmon(const device_model& m, int q) {
  check(q >= 0 && static_cast<std::size_t>(q) < m.transmons.size(),
        "frugal::quantum::pulse::single_transmon: transmon ", q, " out of range");
  device_model s;
  s.dt = m.dt;
  s.transmons.push_back(m.transmons[static_cast<std::size_t>(q)]);
  auto c = m.channels[static_cast<std::size_t>(m.drive_channel(q))];
  c.transmon = c.frame_transmon = 0;
  s.channels.push_back(c);
  return s;
}

/// P(|1⟩) after a Gaussian of each amplitude on transmon 0's drive channel of a one-transmon
/// device, the scan running in parallel on `exec`.
template <HostExecutionSpace Exec = default_host_space>
[[nodiscard]] std::vector<double> rabi_amplitude_scan(const simulator& sim, const std::vector<double>& amps,
                                                      int duration, double sigma, const Exec& exec = Exec()) {
  check(sim.device().transmons.size() == 1, "frugal::quantum::pulse::rabi_amplitude_scan: needs a one-transmon device");
  std::vector<schedule> ss;
  for (double a : amps) ss.push_back(schedule(sim.device()).play(0, 0, gaussian(duration, a, sigma)));
  const auto out = evolve_many(sim, ss, sim.ground_state(), exec);
  std::vector<double> p(amps.size());
  for (std::size_t i = 0; i < amps.size(); ++i) p[i] = std::norm(out[i](1));
  return p;
}

/// Least-squares fit of p(x) = (1 − cos(k·x)) / 2 to samples, returning k: a coarse grid over
/// k ∈ (0, k_max] then golden-section refinement around the best point. Used for Rabi scans over
/// amplitude (k = π / amplitude of a π pulse) and over time (k = the Rabi frequency).
[[nodiscard]] inline double fit_rabi(const std::vector<double>& x, const std::vector<double>& p, double k_max) {
  check(x.size() == p.size() && x.size() >= 4, "frugal::quantum::pulse::fit_rabi: need >= 4 matching samples");
  check(k_max > 0 && std::isfinite(k_max), "frugal::quantum::pulse::fit_rabi: k_max must be positive");
  auto loss = [&](double k) {
    double s = 0;
    for (std::size_t i = 0; i < x.size(); ++i) s += std::pow(p[i] - 0.5 * (1 - std::cos(k * x[i])), 2);
    return s;
  };
  const int grid = 4000;
  double best = k_max / grid, bl = loss(best);
  for (int i = 2; i <= grid; ++i) {
    const double k = k_max * i / grid, l = loss(k);
    if (l < bl) bl = l, best = k;
  }
  double a = best - k_max / grid, b = best + k_max / grid;
  const double g = (std::sqrt(5.0) - 1) / 2;
  for (int it = 0; it < 200; ++it) {
    const double c = b - g * (b - a), d = a + g * (b - a);
    if (loss(c) < loss(d))
      b = d;
    else
      a = c;
  }
  return 0.5 * (a + b);
}

/// Rabi frequency (rad/ns) of a constant drive of amplitude `amp` on a one-transmon device,
/// fitted to P(|1⟩) over `durations` (samples).
template <HostExecutionSpace Exec = default_host_space>
[[nodiscard]] double rabi_frequency(const simulator& sim, double amp, const std::vector<int>& durations,
                                    const Exec& exec = Exec()) {
  check(sim.device().transmons.size() == 1, "frugal::quantum::pulse::rabi_frequency: needs a one-transmon device");
  std::vector<schedule> ss;
  std::vector<double> t, p;
  for (int d : durations) {
    ss.push_back(schedule(sim.device()).play(0, 0, constant(d, amp)));
    t.push_back(d * sim.device().dt);
  }
  const auto out = evolve_many(sim, ss, sim.ground_state(), exec);
  for (const auto& psi : out) p.push_back(std::norm(psi(1)));
  const auto& ch = sim.device().channels[0];
  return fit_rabi(t, p, 4 * std::abs(ch.strength * amp) + 1e-9);
}

/// A calibrated single-qubit DRAG pulse and how good it is.
struct calibrated_pulse {
  waveform pulse;
  double fidelity = 0;  ///< average gate fidelity with the target on the qubit subspace
  double leakage = 0;   ///< population left outside {0, 1} from |1⟩ (X) or |0⟩ (SX)
};

/// A calibrated echoed cross-resonance CNOT (control, target): two flat-top CR pulses of opposite
/// sign on the control's CR channel, each followed by an X on the control, the second with the
/// target rotation played beside it, and virtual Z corrections.
struct calibrated_cx {
  int control = 0, target = 1;
  waveform cr;              ///< the first CR pulse (the second has −amp)
  double target_phase = 0;  ///< phase of the target's SX-shaped correction pulse
  double z_control = 0;     ///< final virtual Z on the control
  double z_target_before = 0, z_target_after = 0;
  double fidelity = 0;  ///< average gate fidelity with CNOT on the two qubits
  int duration = 0;     ///< samples
};

/// The gate-to-pulse table: X and SX per transmon, CNOTs per ordered pair.
struct gate_table {
  std::vector<calibrated_pulse> x, sx;
  std::vector<calibrated_cx> cx;

  /// The CNOT calibrated with control c and target t, or nullptr.
  [[nodiscard]] const calibrated_cx* try_find_cx(int c, int t) const {
    for (const auto& g : cx)
      if (g.control == c && g.target == t) return &g;
    return nullptr;
  }

  /// The CNOT calibrated with control c and target t, or throws naming the pair.
  [[nodiscard]] const calibrated_cx& find_cx(int c, int t) const {
    if (const auto* g = try_find_cx(c, t)) return *g;
    throw invalid_argument(
        frugal::detail::concat("frugal::quantum::pulse::gate_table: no CNOT calibrated for (", c, ", ", t, ")"));
  }

  /// The CNOT calibrated on the pair {a, b}, whichever its direction, or throws naming the pair.
  [[nodiscard]] const calibrated_cx& find_pair(int a, int b) const {
    if (const auto* g = try_find_cx(a, b)) return *g;
    if (const auto* g = try_find_cx(b, a)) return *g;
    throw invalid_argument(
        frugal::detail::concat("frugal::quantum::pulse::gate_table: no CNOT calibrated on transmons ", a, " and ", b));
  }
};

struct calibration_options {
  int single_duration = 160;  ///< samples, as IBM's X and SX
  double single_sigma = 40;
  int cr_sigma = 64;
  /// Flat-top CR durations (samples) tried in order; the first reaching `cx_target` wins.
  std::vector<int> cr_durations = {256, 320, 384, 448, 512, 640, 768, 896, 1024};
  double cx_target = 0.995;
  int max_evaluations = 300;
  std::function<void(const std::string&)> progress = {};
};

namespace detail {

inline method calibration_method() {
#if defined(FRUGAL_HAVE_NLOPT)
  return method::nelder_mead;
#else
  return method::spsa;
#endif
}

}  // namespace detail

/// Calibrates X and SX DRAG pulses on transmon q (amplitude from a Rabi scan, then amplitude and β
/// refined together for each gate).
[[nodiscard]] inline std::pair<calibrated_pulse, calibrated_pulse> calibrate_single_qubit(
    const device_model& device, int q, const calibration_options& o = {}) {
  const simulator sim(single_transmon(device, q));
  std::vector<double> amps;
  for (int i = 1; i <= 40; ++i) amps.push_back(0.01 * i);
  const auto p = rabi_amplitude_scan(sim, amps, o.single_duration, o.single_sigma);
  // Below the scan's Nyquist limit (π per step), so a fast alias cannot win the fit.
  const double a_pi = std::numbers::pi / fit_rabi(amps, p, 0.9 * std::numbers::pi / 0.01);
  auto tune = [&](double amp0, const cmatrix& target) {
    auto build = [&](const std::vector<double>& x) {
      return schedule(sim.device()).play(0, 0, drag(o.single_duration, x[0], o.single_sigma, x[1]));
    };
    optimize_options opt{.algorithm = detail::calibration_method(),
                         .max_evaluations = o.max_evaluations,
                         .value_tolerance = 1e-12,
                         .initial_step = 0.01};
    const auto r = minimize(
        [&](const std::vector<double>& x, std::vector<double>*) {
          return 1 - average_gate_fidelity(sim.subspace_operator(build(x)), target);
        },
        {amp0, 0.0}, {0.5 * amp0, -5.0}, {std::min(1.0, 1.5 * amp0), 5.0}, opt);
    calibrated_pulse c;
    c.pulse = drag(o.single_duration, r.x[0], o.single_sigma, r.x[1]);
    c.fidelity = 1 - r.value;
    return c;
  };
  calibrated_pulse x = tune(a_pi, gates::x());
  calibrated_pulse sx = tune(0.5 * a_pi, gates::sx());
  const schedule sx_s = schedule(sim.device()).play(0, 0, sx.pulse);
  const schedule x_s = schedule(sim.device()).play(0, 0, x.pulse);
  x.leakage = sim.leakage(sim.evolve(x_s, sim.basis_state({1})));
  sx.leakage = sim.leakage(sim.evolve(sx_s, sim.ground_state()));
  return {x, sx};
}

/// The echoed-CR CNOT schedule for the parameters of `g` on a device (appended from sample
/// `start`; returns the end sample). Channel phases of every transmon are restored afterwards
/// only by the virtual Zs the gate itself contains.
inline int play_cx(schedule& s, const device_model& device, const gate_table& t, const calibrated_cx& g, int start) {
  const int c = g.control, tg = g.target;
  const int u = device.cross_resonance_channel(c, tg), dc = device.drive_channel(c), dt = device.drive_channel(tg);
  const auto& xc = t.x[static_cast<std::size_t>(c)].pulse;
  waveform cr2 = g.cr;
  cr2.amp = -cr2.amp;
  waveform corr = t.sx[static_cast<std::size_t>(tg)].pulse;
  corr.phase = g.target_phase;
  s.virtual_z(tg, start, g.z_target_before);
  s.play(u, start, g.cr);
  const int t1 = start + g.cr.duration;
  s.play(dc, t1, xc);
  const int t2 = t1 + xc.duration;
  s.play(u, t2, cr2);
  const int t3 = t2 + cr2.duration;
  s.play(dc, t3, xc);
  s.play(dt, t3, corr);
  const int end = t3 + std::max(xc.duration, corr.duration);
  s.virtual_z(c, end, g.z_control);
  s.virtual_z(tg, end, g.z_target_after);
  return end;
}

/// Plays a Hadamard on each transmon of `qubits` from sample `start`, as RZ(π/2)·SX·RZ(π/2) (up to
/// a global phase; the Zs virtual); returns the end sample.
inline int play_hadamards(schedule& s, const device_model& device, const gate_table& t, const std::vector<int>& qubits,
                          int start) {
  int end = start;
  for (const int q : qubits) {
    const auto& sx = t.sx[static_cast<std::size_t>(q)].pulse;
    s.virtual_z(q, start, std::numbers::pi / 2);
    s.play(device.drive_channel(q), start, sx);
    s.virtual_z(q, start + sx.duration, std::numbers::pi / 2);
    end = std::max(end, start + sx.duration);
  }
  return end;
}

/// CNOT(control, target) from sample `start`: the calibrated gate when the table has that
/// direction, otherwise the other direction's gate between Hadamards on both transmons (H⊗H ·
/// CNOT(t, c) · H⊗H = CNOT(c, t)); returns the end sample. Throws when the pair has no CNOT.
inline int play_cnot(schedule& s, const device_model& device, const gate_table& t, int control, int target, int start) {
  if (const auto* g = t.try_find_cx(control, target)) return play_cx(s, device, t, *g, start);
  const auto& g = t.find_pair(control, target);
  start = play_hadamards(s, device, t, {control, target}, start);
  start = play_cx(s, device, t, g, start);
  return play_hadamards(s, device, t, {control, target}, start);
}

/// Calibrates the echoed-CR CNOT (control, target) on a two-transmon device whose X and SX are in
/// `t` (the cross-resonance amplitude and phase, the target correction's phase and three virtual
/// Zs; durations from `o.cr_durations`, shortest first, until `o.cx_target` is reached).
[[nodiscard]] inline calibrated_cx calibrate_cx(const device_model& device, const gate_table& t, int control,
                                                int target, const calibration_options& o = {}) {
  check(device.transmons.size() == 2, "frugal::quantum::pulse::calibrate_cx: needs a two-transmon device");
  check(t.x.size() == 2 && t.sx.size() == 2, "frugal::quantum::pulse::calibrate_cx: calibrate X and SX first");
  const simulator sim(device);
  // CNOT on (control, target) in little-endian qubit order.
  cmatrix cnot = cmatrix::Zero(4, 4);
  for (int b = 0; b < 4; ++b) {
    const int cb = (b >> control) & 1;
    cnot(cb ? b ^ (1 << target) : b, b) = 1;
  }
  calibrated_cx best;
  best.control = control;
  best.target = target;
  for (const int d : o.cr_durations) {
    auto make = [&](const std::vector<double>& x) {
      calibrated_cx g = best;
      const double width = std::max(0.0, d - 4.0 * o.cr_sigma);
      g.cr = gaussian_square(d, x[0], o.cr_sigma, width, x[1]);
      g.target_phase = x[2];
      g.z_control = x[3];
      g.z_target_before = x[4];
      g.z_target_after = x[5];
      return g;
    };
    auto infidelity = [&](const std::vector<double>& x, std::vector<double>*) {
      schedule s(device);
      play_cx(s, device, t, make(x), 0);
      return 1 - average_gate_fidelity(sim.subspace_operator(s), cnot);
    };
    const double pi = std::numbers::pi;
    const std::vector<double> lo = {-0.95, -pi, -2 * pi, -2 * pi, -2 * pi, -2 * pi},
                              hi = {0.95, pi, 2 * pi, 2 * pi, 2 * pi, 2 * pi};
    optimize_options opt{.algorithm = detail::calibration_method(),
                         .max_evaluations = o.max_evaluations,
                         .value_tolerance = 1e-10,
                         .initial_step = 0.05};
    optimize_result r;
    // Coarse starts: both CR signs, both target rotation senses, the textbook corrections.
    for (double a0 : {0.5, -0.5})
      for (double tp : {0.0, pi}) {
        std::vector<double> x0 = {a0, 0.0, tp, pi / 2, 0.0, 0.0};
        optimize_options quick = opt;
        quick.max_evaluations = std::max(1, o.max_evaluations / 5);
        auto ri = minimize(infidelity, x0, lo, hi, quick);
        if (ri.value < r.value) r = ri;
      }
    r = minimize(infidelity, r.x, lo, hi, opt);
    const calibrated_cx g = make(r.x);
    if (o.progress)
      o.progress(frugal::detail::concat("cx(", control, ",", target, ") CR ", d, " samples: fidelity ", 1 - r.value));
    if (1 - r.value > best.fidelity) {
      best = g;
      best.fidelity = 1 - r.value;
      schedule s(device);
      best.duration = play_cx(s, device, t, best, 0);
    }
    if (best.fidelity >= o.cx_target) break;
  }
  return best;
}

/// Calibrates the whole table: X and SX on each transmon (on the transmon alone), and a CNOT on
/// each coupled pair, the higher-frequency transmon the control (on the pair alone, spectators
/// absent, as hardware calibrates one pair at a time; the gates then act with the spectators
/// present). `play_cnot` plays the other direction too.
[[nodiscard]] inline gate_table calibrate(const device_model& device, const calibration_options& o = {}) {
  device.validate();
  gate_table t;
  for (std::size_t q = 0; q < device.transmons.size(); ++q) {
    auto [x, sx] = calibrate_single_qubit(device, static_cast<int>(q), o);
    if (o.progress)
      o.progress(frugal::detail::concat("transmon ", q, ": X amp ", x.pulse.amp, " beta ", x.pulse.beta, " fidelity ",
                                        x.fidelity, "; SX amp ", sx.pulse.amp, " fidelity ", sx.fidelity));
    t.x.push_back(x);
    t.sx.push_back(sx);
  }
  for (const auto& c : device.couplings) {
    // The higher-frequency transmon controls: with a transmon's negative anharmonicity its
    // cross-resonance drive then has the larger ZX rate, so the CNOT is shorter.
    const bool i_controls = device.transmons[static_cast<std::size_t>(c.i)].frequency >=
                            device.transmons[static_cast<std::size_t>(c.j)].frequency;
    const int lo = i_controls ? c.i : c.j, hi = i_controls ? c.j : c.i;
    gate_table pair;
    pair.x = {t.x[static_cast<std::size_t>(lo)], t.x[static_cast<std::size_t>(hi)]};
    pair.sx = {t.sx[static_cast<std::size_t>(lo)], t.sx[static_cast<std::size_t>(hi)]};
    calibration_options po = o;
    if (o.progress)
      po.progress = [&](const std::string& line) {
        o.progress(frugal::detail::concat("transmons (", lo, ", ", hi, "): ", line));
      };
    calibrated_cx g = calibrate_cx(sub_device(device, {lo, hi}), pair, 0, 1, po);
    g.control = lo;
    g.target = hi;
    t.cx.push_back(g);
  }
  return t;
}

}  // namespace frugal::quantum::pulse
