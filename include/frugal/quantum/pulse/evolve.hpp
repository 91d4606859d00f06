#pragma once
/// \file
/// Time evolution of a pulse schedule on a transmon device (closed: Schrödinger; open: Lindblad
/// with T1/T2), energies of Pauli-sum observables, and exact gradients of an energy with respect to
/// every pulse's amplitude, phase, detuning and DRAG β.
///
/// The discretisation is the model: each sample of dt is split into S equal steps on which the
/// Hamiltonian is held at its value at the step's midpoint (envelopes are constant over a sample
/// anyway, as an arbitrary waveform generator makes them; only the frame and detuning phases turn
/// within one). S is chosen so that no phase turns by more than `max_phase_step` per step. On each
/// step the propagator exp(−iHτ) (closed) or exp(𝓛τ) (open) is applied exactly — by its Taylor
/// series on the state, summed until the terms vanish in double precision, the step split further
/// when ‖H‖τ is large — which for these small dense registers is cheaper than forming the matrix
/// exponential. Gradients diagonalise each step's Hamiltonian instead, because the derivative of
/// exp(−iHτ) is exact in its eigenbasis (Daleckii–Krein), and propagate an adjoint state backwards
/// (the GRAPE gradient), so all parameters cost one forward and one backward sweep.
///
/// Observables act on the computational subspace: a Pauli string's Z reads every level ≥ 1 as 1
/// (as IBM's discriminators do), X and Y act on levels 0 and 1 only. Leakage is the population with
/// any transmon at level ≥ 2.

#include <Eigen/Dense>

#include <algorithm>
#include <cmath>
#include <complex>
#include <string>
#include <utility>
#include <vector>

#include "../../core/error.hpp"
#include "../../core/execution.hpp"
#include "../measurement.hpp"
#include "../types.hpp"
#include "device.hpp"
#include "schedule.hpp"

namespace frugal::quantum::pulse {

/// How finely `simulator` steps through a schedule.
struct evolution_options {
  /// Largest phase (radians) a frame or detuning may turn within one step; sets S automatically.
  double max_phase_step = 0.05;
  /// Steps per sample; 0 chooses S from `max_phase_step`.
  int substeps = 0;
};

/// The gradient of an energy with respect to each play instruction's parameters (indexed like
/// `schedule::plays()`).
struct pulse_gradient {
  double value = 0;
  std::vector<double> amp, phase, detuning, beta;
  std::vector<double> shift;  ///< per shift-phase instruction (schedule::shifts())
  std::vector<double> frame;  ///< per virtual Z (schedule::frame_changes())
};

/// Evolves schedules on one device. Holds the device's operators, built once.
class simulator {
 public:
  explicit simulator(device_model device, evolution_options options = {})
      : m_device(std::move(device)), m_options(options) {
    m_device.validate();
    check(std::isfinite(options.max_phase_step) && options.max_phase_step > 0 && options.substeps >= 0,
          "frugal::quantum::pulse::simulator: max_phase_step must be positive and substeps non-negative");
    build_operators();
  }

  [[nodiscard]] const device_model& device() const { return m_device; }
  [[nodiscard]] index_t dimension() const { return m_dim; }

  /// The lowering operator of transmon q on the whole register.
  [[nodiscard]] const cmatrix& lowering(int q) const { return m_lower.at(static_cast<std::size_t>(q)); }

  /// The basis state with transmon i at level `levels[i]`.
  [[nodiscard]] cvector basis_state(const std::vector<int>& levels) const {
    check(levels.size() == m_device.transmons.size(), "frugal::quantum::pulse::basis_state: ", levels.size(),
          " levels for ", m_device.transmons.size(), " transmons");
    index_t idx = 0, stride = 1;
    for (std::size_t i = 0; i < levels.size(); ++i) {
      check(levels[i] >= 0 && levels[i] < m_device.transmons[i].levels, "frugal::quantum::pulse::basis_state: level ",
            levels[i], " of transmon ", i, " out of range");
      idx += levels[i] * stride;
      stride *= m_device.transmons[i].levels;
    }
    cvector v = cvector::Zero(m_dim);
    v(idx) = 1;
    return v;
  }
  /// All transmons in level 0.
  [[nodiscard]] cvector ground_state() const { return basis_state(std::vector<int>(m_device.transmons.size(), 0)); }

  /// Register indices of the 2^n computational states, in qubit order (bit i of the position is
  /// transmon i's level).
  [[nodiscard]] const std::vector<index_t>& computational_indices() const { return m_comp; }

  /// Steps per sample for schedule `s` (see `evolution_options`).
  [[nodiscard]] int substeps(const schedule& s) const {
    if (m_options.substeps > 0) return m_options.substeps;
    double rate = 0;
    for (const auto& c : m_device.couplings) rate = std::max(rate, std::abs(frame(c.i) - frame(c.j)));
    std::vector<double> detuning(m_device.channels.size(), 0.0);
    for (const auto& p : s.plays())
      detuning[std::size_t(p.channel)] = std::max(detuning[std::size_t(p.channel)], std::abs(p.pulse.detuning));
    for (std::size_t c = 0; c < m_device.channels.size(); ++c) {
      bool used = false;
      for (const auto& p : s.plays()) used = used || p.channel == static_cast<int>(c);
      if (used) rate = std::max(rate, std::abs(carrier_offset(static_cast<int>(c))) + detuning[c]);
    }
    return std::max(1, static_cast<int>(std::ceil(rate * m_device.dt / m_options.max_phase_step - 1e-12)));
  }

  /// The drive value w_c of every channel on every step (rows: steps, columns: channels): the
  /// envelope times the pulse and channel phases and the detuning phase; the frame phase
  /// e^{i(ν_c − ν_q)t} is applied by the Hamiltonian.
  [[nodiscard]] cmatrix drive_values(const schedule& s, int S) const {
    check_schedule(s);
    const index_t steps = index_t(s.duration()) * S;
    cmatrix w = cmatrix::Zero(steps, index_t(m_device.channels.size()));
    for (const auto& p : s.plays()) {
      for (int k = 0; k < p.pulse.duration; ++k) {
        const int sample = p.start + k;
        const std::complex<double> base =
            p.pulse.envelope(k) * std::polar(1.0, p.pulse.phase + s.channel_phase(p.channel, sample));
        for (int m = 0; m < S; ++m) {
          const double t = step_time(sample, m, S);
          w(index_t(sample) * S + m, p.channel) =
              base * std::polar(1.0, p.pulse.detuning * (t - p.start * m_device.dt));
        }
      }
    }
    return w;
  }

  /// Evolves the columns of `psi` (states of the register) through schedule `s`.
  [[nodiscard]] cmatrix evolve(const schedule& s, cmatrix psi) const {
    check(psi.rows() == m_dim, "frugal::quantum::pulse::simulator::evolve: states have ", psi.rows(),
          " entries; the register has ", m_dim);
    const int S = substeps(s);
    const cmatrix w = drive_values(s, S);
    const double tau = m_device.dt / S;
    cmatrix h(m_dim, m_dim), term(psi.rows(), psi.cols()), next(psi.rows(), psi.cols()), tmp(psi.rows(), psi.cols());
    for (index_t step = 0; step < w.rows(); ++step) {
      fill_hamiltonian(h, w, step, S);
      apply_exponential(h, tau, psi, term, next, tmp);
    }
    return frame_rotation(s).asDiagonal() * psi;
  }
  /// Evolves one state.
  [[nodiscard]] cvector evolve(const schedule& s, const cvector& psi) const { return evolve(s, cmatrix(psi)).col(0); }

  /// Evolves a density matrix under the Lindblad equation with each transmon's T1 and T2
  /// (collapse operators √(1/T1) a and √(2γφ) N, γφ = 1/T2 − 1/(2 T1)).
  [[nodiscard]] cmatrix evolve_density(const schedule& s, cmatrix rho) const {
    check(rho.rows() == m_dim && rho.cols() == m_dim, "frugal::quantum::pulse::simulator::evolve_density: rho is ",
          rho.rows(), "x", rho.cols(), "; the register needs ", m_dim, "x", m_dim);
    const int S = substeps(s);
    const cmatrix w = drive_values(s, S);
    const double tau = m_device.dt / S;
    cmatrix h(m_dim, m_dim), k(m_dim, m_dim), term(m_dim, m_dim), next(m_dim, m_dim), tmp(m_dim, m_dim);
    double collapse_norm = 0;
    for (const auto& l : m_collapse) collapse_norm += std::pow(l.cwiseAbs().colwise().sum().maxCoeff(), 2);
    for (index_t step = 0; step < w.rows(); ++step) {
      fill_hamiltonian(h, w, step, S);
      k.noalias() = std::complex<double>(0, -1) * h - 0.5 * m_decay;
      const double norm = 2 * k.cwiseAbs().colwise().sum().maxCoeff() + collapse_norm;
      const int pieces = std::max(1, static_cast<int>(std::ceil(norm * tau)));
      const double dt = tau / pieces;
      for (int p = 0; p < pieces; ++p) {
        next = rho;
        term = rho;
        for (int n = 1; n < 60; ++n) {
          tmp.noalias() = k * term;
          tmp.noalias() += term * k.adjoint();
          for (const auto& l : m_collapse) tmp.noalias() += l * term * l.adjoint();
          term = tmp * (dt / double(n));
          next += term;
          if (term.cwiseAbs().maxCoeff() <= 1e-17 * (1 + next.cwiseAbs().maxCoeff())) break;
        }
        rho.swap(next);
      }
    }
    const cvector f = frame_rotation(s);
    return f.asDiagonal() * rho * f.conjugate().asDiagonal();
  }

  /// The dense operator of a Pauli sum on the register (one character per transmon; see the file
  /// comment for how levels ≥ 2 read).
  [[nodiscard]] cmatrix observable(const std::vector<pauli_string>& terms) const {
    const std::size_t n = m_device.transmons.size();
    cmatrix o = cmatrix::Zero(m_dim, m_dim);
    for (const auto& t : terms) {
      check(t.ops.size() == n, "frugal::quantum::pulse::simulator::observable: Pauli string '", t.ops, "' has ",
            t.ops.size(), " characters for ", n, " transmons");
      cmatrix term = cmatrix::Ones(1, 1) * t.coefficient;
      for (std::size_t i = 0; i < n; ++i) {
        const int d = m_device.transmons[i].levels;
        cmatrix p = cmatrix::Zero(d, d);
        switch (t.ops[i]) {
          case 'I':
            p = cmatrix::Identity(d, d);
            break;
          case 'Z':
            p = -cmatrix::Identity(d, d);
            p(0, 0) = 1;
            break;
          case 'X':
            p(0, 1) = p(1, 0) = 1;
            break;
          case 'Y':
            p(0, 1) = std::complex<double>(0, -1);
            p(1, 0) = std::complex<double>(0, 1);
            break;
          default:
            throw invalid_argument(frugal::detail::concat("frugal::quantum::pulse::simulator::observable: '", t.ops[i],
                                                          "' in '", t.ops, "' is not one of I, X, Y, Z"));
        }
        term = kron(p, term);  // transmon i is more significant than those before it
      }
      o += term;
    }
    return o;
  }

  /// ⟨ψ|O|ψ⟩ for a normalised ψ.
  [[nodiscard]] static double expectation(const cmatrix& o, const cvector& psi) {
    return (psi.adjoint() * o * psi)(0, 0).real();
  }
  /// Tr(Oρ).
  [[nodiscard]] static double expectation_density(const cmatrix& o, const cmatrix& rho) {
    return (o * rho).trace().real();
  }

  /// Population outside the computational subspace.
  [[nodiscard]] double leakage(const cvector& psi) const {
    double inside = 0;
    for (const index_t i : m_comp) inside += std::norm(psi(i));
    return std::max(0.0, psi.squaredNorm() - inside);
  }
  /// Population outside the computational subspace of a density matrix.
  [[nodiscard]] double leakage_density(const cmatrix& rho) const {
    double inside = 0;
    for (const index_t i : m_comp) inside += rho(i, i).real();
    return std::max(0.0, rho.trace().real() - inside);
  }

  /// The operation the schedule performs on the computational subspace: column b is the evolved
  /// computational state b projected back onto the subspace (not unitary when it leaks).
  [[nodiscard]] cmatrix subspace_operator(const schedule& s) const {
    cmatrix in = cmatrix::Zero(m_dim, index_t(m_comp.size()));
    for (std::size_t b = 0; b < m_comp.size(); ++b) in(m_comp[b], index_t(b)) = 1;
    const cmatrix out = evolve(s, in);
    cmatrix m(index_t(m_comp.size()), index_t(m_comp.size()));
    for (std::size_t a = 0; a < m_comp.size(); ++a) m.row(index_t(a)) = out.row(m_comp[a]);
    return m;
  }

  /// E = ⟨ψ(T)|O|ψ(T)⟩ and its exact gradient with respect to every play's amplitude, phase,
  /// detuning and (DRAG) β. `o` must be Hermitian.
  [[nodiscard]] pulse_gradient energy_gradient(const schedule& s, const cmatrix& o, const cvector& psi0) const {
    check(
        o.rows() == m_dim && o.cols() == m_dim && psi0.size() == m_dim,
        "frugal::quantum::pulse::simulator::energy_gradient: the observable or the state does not match the register");
    const int S = substeps(s);
    const cmatrix w = drive_values(s, S);
    const double tau = m_device.dt / S;
    const index_t steps = w.rows();
    std::vector<cmatrix> vecs(static_cast<std::size_t>(steps));
    std::vector<Eigen::VectorXd> vals(static_cast<std::size_t>(steps));
    std::vector<cvector> states(static_cast<std::size_t>(steps) + 1);
    states[0] = psi0;
    Eigen::SelfAdjointEigenSolver<cmatrix> eig(m_dim);
    cmatrix h(m_dim, m_dim);
    for (index_t st = 0; st < steps; ++st) {
      fill_hamiltonian(h, w, st, S);
      eig.compute(h);
      vecs[std::size_t(st)] = eig.eigenvectors();
      vals[std::size_t(st)] = eig.eigenvalues();
      const cmatrix& v = vecs[std::size_t(st)];
      cvector x = v.adjoint() * states[std::size_t(st)];
      for (index_t a = 0; a < m_dim; ++a) x(a) *= std::polar(1.0, -vals[std::size_t(st)](a) * tau);
      states[std::size_t(st) + 1] = v * x;
    }
    const cvector& final_state = states[std::size_t(steps)];
    // The virtual Zs' frame rotation W at the end: E = ⟨ψ|W†OW|ψ⟩.
    const cvector fr = frame_rotation(s);
    const cvector phi_end = fr.asDiagonal() * final_state;
    const cvector o_phi = o * phi_end;
    const cmatrix o_eff = fr.conjugate().asDiagonal() * o * fr.asDiagonal();
    pulse_gradient g;
    g.value = expectation(o_eff, final_state);
    // dE/dRe w and dE/dIm w per step and channel, packed as dE/dRe + i dE/dIm.
    cmatrix gw = cmatrix::Zero(steps, index_t(m_device.channels.size()));
    cvector chi = o_eff * final_state;
    cmatrix phi(m_dim, m_dim), m(m_dim, m_dim);
    // Which channel plays on which sample: only there does a step carry a drive gradient.
    const std::size_t nch = m_device.channels.size();
    std::vector<char> covered(std::size_t(s.duration()) * nch, 0);
    for (const auto& p : s.plays())
      for (int k = p.start; k < p.start + p.pulse.duration; ++k)
        covered[std::size_t(k) * nch + std::size_t(p.channel)] = 1;
    // Σ_ab G_ab (V†aV)_ab and Σ_ab G_ab conj((V†aV)_ba) per transmon, shared by the channels on it.
    std::vector<std::pair<std::complex<double>, std::complex<double>>> sums(m_device.transmons.size());
    std::vector<char> have(m_device.transmons.size());
    for (index_t st = steps - 1; st >= 0; --st) {
      const cmatrix& v = vecs[std::size_t(st)];
      const Eigen::VectorXd& lam = vals[std::size_t(st)];
      const cvector x = v.adjoint() * states[std::size_t(st)];
      const cvector y = v.adjoint() * chi;
      for (index_t a = 0; a < m_dim; ++a)
        for (index_t b = 0; b < m_dim; ++b) {
          const double d = lam(a) - lam(b);
          const std::complex<double> ea = std::polar(1.0, -lam(a) * tau);
          phi(a, b) = std::abs(d) * tau > 1e-6
                          ? (ea - std::polar(1.0, -lam(b) * tau)) / d
                          : std::complex<double>(0, -tau) * ea * (1.0 + std::complex<double>(0, 0.5 * d * tau));
          phi(a, b) *= std::conj(y(a)) * x(b);  // G_ab
        }
      const double t = step_time(int(st / S), int(st % S), S);
      std::fill(have.begin(), have.end(), 0);
      for (std::size_t c = 0; c < nch; ++c) {
        if (!covered[std::size_t(st / S) * nch + c]) continue;
        const auto& ch = m_device.channels[c];
        const auto q = std::size_t(ch.transmon);
        if (!have[q]) {
          m.noalias() = v.adjoint() * m_lower[q] * v;
          std::complex<double> s1 = 0, s2 = 0;
          for (index_t a = 0; a < m_dim; ++a)
            for (index_t b = 0; b < m_dim; ++b) {
              s1 += phi(a, b) * m(a, b);
              s2 += phi(a, b) * std::conj(m(b, a));
            }
          sums[q] = {s1, s2};
          have[q] = 1;
        }
        const auto [s1, s2] = sums[q];
        const std::complex<double> e = std::polar(1.0, carrier_offset(int(c)) * t);
        const std::complex<double> i(0, 1);
        const double dre = 2 * (0.5 * ch.strength * (e * s1 + std::conj(e) * s2)).real();
        const double dim = 2 * (0.5 * ch.strength * (i * e * s1 - i * std::conj(e) * s2)).real();
        gw(st, index_t(c)) = {dre, dim};
      }
      // chi_{st-1} = U_st† chi_st
      cvector z = y;
      for (index_t a = 0; a < m_dim; ++a) z(a) *= std::polar(1.0, lam(a) * tau);
      chi = v * z;
    }
    // Chain rule to the pulse parameters: dE/dθ = Σ Re(conj(g_w) dw/dθ).
    const auto np = s.plays().size();
    g.amp.assign(np, 0.0);
    g.phase.assign(np, 0.0);
    g.detuning.assign(np, 0.0);
    g.beta.assign(np, 0.0);
    g.shift.assign(s.shifts().size(), 0.0);
    g.frame.assign(s.frame_changes().size(), 0.0);
    // Through W: dE/dθ = −2 Im⟨φ|O N_q|φ⟩, φ = Wψ.
    for (std::size_t f = 0; f < s.frame_changes().size(); ++f) {
      const int q = s.frame_changes()[f].transmon;
      std::complex<double> acc = 0;
      for (index_t a = 0; a < m_dim; ++a) acc += std::conj(o_phi(a)) * double(level(a, q)) * phi_end(a);
      g.frame[f] = -2 * acc.imag();
    }
    for (std::size_t pi = 0; pi < np; ++pi) {
      const auto& p = s.plays()[pi];
      for (int k = 0; k < p.pulse.duration; ++k) {
        const int sample = p.start + k;
        const std::complex<double> rot = std::polar(1.0, p.pulse.phase + s.channel_phase(p.channel, sample));
        const std::complex<double> unit = p.pulse.unit_envelope(k) * rot;
        const std::complex<double> dbeta = p.pulse.envelope_beta_derivative(k) * rot;
        for (int mm = 0; mm < S; ++mm) {
          const index_t st = index_t(sample) * S + mm;
          const double dtime = step_time(sample, mm, S) - p.start * m_device.dt;
          const std::complex<double> det = std::polar(1.0, p.pulse.detuning * dtime);
          const std::complex<double> gconj = std::conj(gw(st, p.channel));
          const std::complex<double> wv = p.pulse.amp * unit * det;
          g.amp[pi] += (gconj * unit * det).real();
          const double dphase = (gconj * std::complex<double>(0, 1) * wv).real();
          g.phase[pi] += dphase;
          for (std::size_t si = 0; si < s.shifts().size(); ++si)
            if (s.shifts()[si].channel == p.channel && s.shifts()[si].time <= sample) g.shift[si] += dphase;
          for (std::size_t f = 0; f < s.frame_changes().size(); ++f)
            if (s.frame_changes()[f].transmon == s.channel_frame(p.channel) && s.frame_changes()[f].time <= sample)
              g.frame[f] += dphase;
          g.detuning[pi] += (gconj * std::complex<double>(0, dtime) * wv).real();
          g.beta[pi] += (gconj * dbeta * det).real();
        }
      }
    }
    return g;
  }

  /// The Hamiltonian of schedule `s` at time `t` (ns, 0 ≤ t < duration·dt) in continuous time:
  /// each envelope held over its sample, every frame, carrier and detuning phase evaluated at t
  /// itself. The evolutions above hold those phases at each step's midpoint; an integrator of
  /// this H(t) (`evolve_adaptive`, pulse/adaptive.hpp) is the limit they converge to as steps shrink.
  [[nodiscard]] cmatrix hamiltonian(const schedule& s, double t) const {
    check_schedule(s);
    check(std::isfinite(t) && t >= 0 && t < s.duration() * m_device.dt,
          "frugal::quantum::pulse::simulator::hamiltonian: t = ", t, " ns is outside the schedule's ",
          s.duration() * m_device.dt, " ns");
    const int sample = std::min(static_cast<int>(t / m_device.dt), s.duration() - 1);
    cmatrix w = cmatrix::Zero(1, index_t(m_device.channels.size()));
    for (const auto& p : s.plays()) {
      const int k = sample - p.start;
      if (k < 0 || k >= p.pulse.duration) continue;
      w(0, p.channel) = p.pulse.envelope(k) * std::polar(1.0, p.pulse.phase + s.channel_phase(p.channel, sample)) *
                        std::polar(1.0, p.pulse.detuning * (t - p.start * m_device.dt));
    }
    cmatrix h = m_static;
    add_time_dependent(h, t, w, 0);
    return h;
  }

  /// Diagonal of W = exp(i Σ θ N_q) over the schedule's virtual Zs: the frame change that
  /// `evolve` applies to the final state.
  [[nodiscard]] cvector frame_rotation(const schedule& s) const {
    cvector f = cvector::Ones(m_dim);
    if (s.frame_changes().empty()) return f;
    std::vector<double> theta(m_device.transmons.size(), 0.0);
    for (const auto& z : s.frame_changes()) theta[std::size_t(z.transmon)] += z.theta;
    for (index_t a = 0; a < m_dim; ++a) {
      double ph = 0;
      for (std::size_t q = 0; q < theta.size(); ++q) ph += theta[q] * level(a, int(q));
      f(a) = std::polar(1.0, ph);
    }
    return f;
  }

 private:
  /// Level of transmon q in basis state `idx`.
  [[nodiscard]] int level(index_t idx, int q) const {
    return int((idx / m_stride[std::size_t(q)]) % m_device.transmons[std::size_t(q)].levels);
  }

  [[nodiscard]] double frame(int q) const { return m_device.transmons[std::size_t(q)].frame_frequency(); }
  [[nodiscard]] double carrier_offset(int c) const {
    const auto& ch = m_device.channels[std::size_t(c)];
    return ch.frequency - frame(ch.transmon);
  }
  [[nodiscard]] double step_time(int sample, int m, int S) const { return (sample + (m + 0.5) / S) * m_device.dt; }

  void check_schedule(const schedule& s) const {
    check(s.channels() == m_device.channels.size(), "frugal::quantum::pulse::simulator: the schedule was built for ",
          s.channels(), " channels; the device has ", m_device.channels.size());
  }

  /// h ← the Hamiltonian on row `step` of `drive_values` (S steps per sample).
  void fill_hamiltonian(cmatrix& h, const cmatrix& w, index_t step, int S) const {
    h = m_static;
    add_time_dependent(h, step_time(int(step / S), int(step % S), S), w, step);
  }

  void add_time_dependent(cmatrix& h, double t, const cmatrix& w, index_t step) const {
    for (std::size_t c = 0; c < m_device.couplings.size(); ++c) {
      const auto& cp = m_device.couplings[c];
      const std::complex<double> e = cp.strength * std::polar(1.0, (frame(cp.i) - frame(cp.j)) * t);
      h += e * m_exchange[c];
      h += std::conj(e) * m_exchange[c].adjoint();
    }
    for (std::size_t c = 0; c < m_device.channels.size(); ++c) {
      const std::complex<double> wc = w(step, index_t(c));
      if (wc == std::complex<double>(0, 0)) continue;
      const auto& ch = m_device.channels[c];
      const std::complex<double> z = 0.5 * ch.strength * wc * std::polar(1.0, carrier_offset(int(c)) * t);
      const cmatrix& a = m_lower[std::size_t(ch.transmon)];
      h += z * a;
      h += std::conj(z) * a.adjoint();
    }
  }

  /// psi ← exp(−iHτ) psi by its Taylor series (split into pieces with ‖H‖τ ≤ 1).
  void apply_exponential(const cmatrix& h, double tau, cmatrix& psi, cmatrix& term, cmatrix& next, cmatrix& tmp) const {
    const double norm = h.cwiseAbs().colwise().sum().maxCoeff();
    const int pieces = std::max(1, static_cast<int>(std::ceil(norm * tau)));
    const std::complex<double> f(0, -tau / pieces);
    for (int p = 0; p < pieces; ++p) {
      next = psi;
      term = psi;
      for (int n = 1; n < 60; ++n) {
        tmp.noalias() = h * term;
        term = tmp * (f / double(n));
        next += term;
        if (term.cwiseAbs().maxCoeff() <= 1e-17 * (1 + next.cwiseAbs().maxCoeff())) break;
      }
      psi.swap(next);
    }
  }

  void build_operators() {
    const auto& ts = m_device.transmons;
    m_dim = m_device.dimension();
    m_static = cmatrix::Zero(m_dim, m_dim);
    m_decay = cmatrix::Zero(m_dim, m_dim);
    index_t stride = 1;
    for (std::size_t i = 0; i < ts.size(); ++i) {
      const int d = ts[i].levels;
      m_stride.push_back(stride);
      cmatrix a = cmatrix::Zero(m_dim, m_dim);
      for (index_t idx = 0; idx < m_dim; ++idx) {
        const int l = int((idx / stride) % d);
        if (l > 0) a(idx - stride, idx) = std::sqrt(double(l));
        m_static(idx, idx) += (ts[i].frequency - ts[i].frame_frequency()) * l + 0.5 * ts[i].anharmonicity * l * (l - 1);
      }
      m_lower.push_back(a);
      const cmatrix n = a.adjoint() * a;
      if (ts[i].t1_ns > 0) m_collapse.push_back(a * std::sqrt(1 / ts[i].t1_ns));
      if (ts[i].t2_ns > 0) {
        const double gphi = 1 / ts[i].t2_ns - (ts[i].t1_ns > 0 ? 0.5 / ts[i].t1_ns : 0.0);
        if (gphi > 0) m_collapse.push_back(n * std::sqrt(2 * gphi));
      }
      stride *= d;
    }
    for (const auto& l : m_collapse) m_decay += l.adjoint() * l;
    for (const auto& c : m_device.couplings)
      m_exchange.push_back(m_lower[std::size_t(c.i)].adjoint() * m_lower[std::size_t(c.j)]);
    for (index_t idx = 0; idx < m_dim; ++idx) {
      bool comp = true;
      index_t s = 1;
      for (const auto& t : ts) {
        comp = comp && (idx / s) % t.levels <= 1;
        s *= t.levels;
      }
      if (comp) m_comp.push_back(idx);
    }
  }

  device_model m_device;
  evolution_options m_options;
  index_t m_dim = 0;
  cmatrix m_static, m_decay;
  std::vector<cmatrix> m_lower, m_exchange, m_collapse;
  std::vector<index_t> m_comp;
  std::vector<index_t> m_stride;
};

/// Evolves each schedule of `schedules` from `psi0` on the host execution space `exec`, one
/// schedule per work item: the parallel loop of calibration scans and of optimisers that
/// evaluate several points at once. Results are in the schedules' order.
template <HostExecutionSpace Exec = default_host_space>
[[nodiscard]] std::vector<cvector> evolve_many(const simulator& sim, const std::vector<schedule>& schedules,
                                               const cvector& psi0, const Exec& exec = Exec()) {
  std::vector<cvector> out(schedules.size());
  parallel_for("frugal::quantum::pulse::evolve_many", exec, index_t(schedules.size()),
               [&](index_t i) { out[std::size_t(i)] = sim.evolve(schedules[std::size_t(i)], psi0); });
  return out;
}

}  // namespace frugal::quantum::pulse
