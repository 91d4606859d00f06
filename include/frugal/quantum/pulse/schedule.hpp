#pragma once
/// \file
/// Pulses and schedules of frugal/quantum's pulse level: Gaussian, DRAG, GaussianSquare and
/// constant envelopes with amplitude, phase and detuning; shift-phase (virtual Z) instructions;
/// schedules that place them on named channels at sample times.
///
/// Envelopes follow Qiskit's parametric pulses, sampled at integer sample indices k = 0..N−1 of a
/// pulse of N samples: the Gaussians are "lifted" so that they vanish at k = −1 and k = N (no step
/// at the edges). A pulse's complex sample is f(k) e^{i·phase}, multiplied on its channel by
/// e^{i·φ_c} (the sum of the channel's shift-phase instructions at or before k) and by
/// e^{i·detuning·(t − t_start)}, the detuning (rad/ns) being a frequency shift of the carrier for
/// the pulse's duration, its phase evaluated at the time t of each evolution step.

#include <algorithm>
#include <cmath>
#include <complex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../../core/error.hpp"
#include "device.hpp"

namespace frugal::quantum::pulse {

/// The envelope family of a waveform.
enum class shape { gaussian, drag, gaussian_square, constant };

/// Name of a shape ("gaussian", "drag", "gaussian_square", "constant").
[[nodiscard]] inline const char* to_string(shape s) {
  switch (s) {
    case shape::gaussian:
      return "gaussian";
    case shape::drag:
      return "drag";
    case shape::gaussian_square:
      return "gaussian_square";
    case shape::constant:
      return "constant";
  }
  return "?";
}

/// A parametric pulse. `amp` is real (its sign is a phase of π); the complex envelope's modulus
/// must stay ≤ 1 (the hardware's limit). `sigma`, `width` in samples; `beta` (DRAG) in samples;
/// `detuning` in rad/ns; `phase` in radians.
struct waveform {
  shape kind = shape::gaussian;
  int duration = 0;
  double amp = 0;
  double sigma = 0;
  double beta = 0;
  double width = 0;
  double phase = 0;
  double detuning = 0;

  /// Throws unless the parameters describe a valid pulse (positive duration and σ, width in
  /// [0, duration), finite values, |envelope| ≤ 1 everywhere).
  void validate(std::string_view where = "frugal::quantum::pulse::waveform") const {
    check(duration > 0, where, ": duration ", duration, " must be positive");
    check(std::isfinite(amp) && std::isfinite(sigma) && std::isfinite(beta) && std::isfinite(width) &&
              std::isfinite(phase) && std::isfinite(detuning),
          where, ": non-finite parameter in a ", to_string(kind), " pulse");
    if (kind != shape::constant) check(sigma > 0, where, ": sigma = ", sigma, " must be positive");
    if (kind == shape::gaussian_square)
      check(width >= 0 && width < duration, where, ": width = ", width, " must lie in [0, duration = ", duration, ")");
    double peak = 0;
    for (int k = 0; k < duration; ++k) peak = std::max(peak, std::abs(envelope(k)));
    check(peak <= 1 + 1e-12, where, ": a ", to_string(kind), " pulse with amp ", amp, " reaches |envelope| = ", peak,
          " > 1");
  }

  /// The complex envelope f(k) at sample k (without the phase, channel phase or detuning).
  [[nodiscard]] std::complex<double> envelope(int k) const { return amp * unit_envelope(k); }

  /// f(k) for amp = 1.
  [[nodiscard]] std::complex<double> unit_envelope(int k) const {
    const double x = k;
    switch (kind) {
      case shape::constant:
        return 1.0;
      case shape::gaussian:
      case shape::drag: {
        const auto [f, d] = lifted_gaussian(k);
        if (kind == shape::gaussian) return f;
        return {f, beta * d};
      }
      case shape::gaussian_square: {
        const double r = 0.5 * (duration - width);
        const double g0 = std::exp(-(r + 1) * (r + 1) / (2 * sigma * sigma));
        double g = 1;
        if (x < r) g = std::exp(-(x - r) * (x - r) / (2 * sigma * sigma));
        if (x > r + width) g = std::exp(-(x - r - width) * (x - r - width) / (2 * sigma * sigma));
        return (g - g0) / (1 - g0);
      }
    }
    return 0.0;
  }

  /// d f(k) / d beta (DRAG only; 0 otherwise), for amp as given.
  [[nodiscard]] std::complex<double> envelope_beta_derivative(int k) const {
    if (kind != shape::drag) return 0.0;
    return {0.0, amp * lifted_gaussian(k).second};
  }

 private:
  /// The lifted Gaussian of the Gaussian and DRAG shapes at sample k, centred at duration / 2 and
  /// vanishing at k = −1, and its derivative in k (DRAG's quadrature), both for amp = 1.
  [[nodiscard]] std::pair<double, double> lifted_gaussian(int k) const {
    const double x = k, c = 0.5 * duration;
    const double g0 = std::exp(-(c + 1) * (c + 1) / (2 * sigma * sigma));
    const double g = std::exp(-(x - c) * (x - c) / (2 * sigma * sigma));
    return {(g - g0) / (1 - g0), g * (-(x - c) / (sigma * sigma)) / (1 - g0)};
  }
};

/// A Gaussian pulse of `duration` samples.
[[nodiscard]] inline waveform gaussian(int duration, double amp, double sigma, double phase = 0) {
  return {.kind = shape::gaussian, .duration = duration, .amp = amp, .sigma = sigma, .phase = phase};
}
/// A DRAG pulse: a Gaussian plus i·β times its derivative, which cancels leakage to level 2.
[[nodiscard]] inline waveform drag(int duration, double amp, double sigma, double beta, double phase = 0) {
  return {.kind = shape::drag, .duration = duration, .amp = amp, .sigma = sigma, .beta = beta, .phase = phase};
}
/// A flat-top pulse with Gaussian rise and fall of σ around a plateau of `width` samples.
[[nodiscard]] inline waveform gaussian_square(int duration, double amp, double sigma, double width, double phase = 0) {
  return {
      .kind = shape::gaussian_square, .duration = duration, .amp = amp, .sigma = sigma, .width = width, .phase = phase};
}
/// A constant pulse.
[[nodiscard]] inline waveform constant(int duration, double amp, double phase = 0) {
  return {.kind = shape::constant, .duration = duration, .amp = amp, .phase = phase};
}

/// A pulse played on a channel from sample `start`.
struct play_instruction {
  int channel = 0;
  int start = 0;
  waveform pulse;
};

/// A phase shift of a channel's carrier from sample `time` on (a virtual Z when applied to every
/// channel in a transmon's frame).
struct shift_phase_instruction {
  int channel = 0;
  int time = 0;
  double phase = 0;
};

/// A virtual Z: transmon q's frame turned by θ from sample `time` on.
struct frame_change {
  int transmon = 0;
  int time = 0;
  double theta = 0;
};

/// Pulses, phase shifts and virtual Zs on the channels of one device. Pulses on one channel may not overlap.
class schedule {
 public:
  explicit schedule(const device_model& device) {
    for (const auto& c : device.channels) m_names.push_back(c.name);
    m_frames.reserve(device.channels.size());
    for (const auto& c : device.channels) m_frames.push_back(c.frame_transmon);
  }

  /// Plays `w` on channel `channel` (index) from sample `start`; throws on an invalid pulse or an
  /// overlap with a pulse already on the channel.
  schedule& play(int channel, int start, const waveform& w) {
    check_channel(channel);
    check(start >= 0, "frugal::quantum::pulse::schedule::play: start ", start, " is negative");
    w.validate("frugal::quantum::pulse::schedule::play");
    for (const auto& p : m_plays)
      if (p.channel == channel)
        check(start >= p.start + p.pulse.duration || p.start >= start + w.duration,
              "frugal::quantum::pulse::schedule::play: a ", to_string(w.kind), " pulse on ",
              m_names[std::size_t(channel)], " at [", start, ", ", start + w.duration, ") overlaps one at [", p.start,
              ", ", p.start + p.pulse.duration, ")");
    m_plays.push_back({channel, start, w});
    return *this;
  }
  /// Plays on the channel named `name`.
  schedule& play(std::string_view name, int start, const waveform& w) { return play(index_of(name), start, w); }

  /// Plays `w` on `channel` right after the last pulse already on that channel.
  schedule& append(int channel, const waveform& w) { return play(channel, channel_end(channel), w); }

  /// Shifts channel `channel`'s phase by `phase` from sample `time` on.
  schedule& shift_phase(int channel, int time, double phase) {
    check_channel(channel);
    check(time >= 0 && std::isfinite(phase), "frugal::quantum::pulse::schedule::shift_phase: bad time ", time,
          " or phase ", phase);
    m_shifts.push_back({channel, time, phase});
    return *this;
  }

  /// A virtual RZ(θ) on transmon q at sample `time`: a change of q's frame instead of a pulse
  /// (zero duration). Every channel in q's frame plays later pulses with its phase advanced by θ,
  /// and the simulator hands back the final state in the rotated frame (it applies e^{iθN_q}, which
  /// is RZ(θ) up to a global phase on the qubit), as a measurement after the gate would see it.
  schedule& virtual_z(int q, int time, double theta) {
    check(q >= 0 && std::find(m_frames.begin(), m_frames.end(), q) != m_frames.end(),
          "frugal::quantum::pulse::schedule::virtual_z: no channel is in transmon ", q, "'s frame");
    check(time >= 0 && std::isfinite(theta), "frugal::quantum::pulse::schedule::virtual_z: bad time ", time,
          " or angle ", theta);
    m_frame_changes.push_back({q, time, theta});
    return *this;
  }

  /// Sets the angle of virtual Z `index` (see `frame_changes()`).
  schedule& set_frame_change(int index, double theta) {
    check(index >= 0 && static_cast<std::size_t>(index) < m_frame_changes.size() && std::isfinite(theta),
          "frugal::quantum::pulse::schedule::set_frame_change: bad index ", index, " or angle ", theta);
    m_frame_changes[static_cast<std::size_t>(index)].theta = theta;
    return *this;
  }

  /// The virtual Zs, in the order they were added.
  [[nodiscard]] const std::vector<frame_change>& frame_changes() const { return m_frame_changes; }

  /// The transmon whose frame channel `c` follows.
  [[nodiscard]] int channel_frame(int c) const { return m_frames[static_cast<std::size_t>(c)]; }

  /// Sets the phase of shift instruction `index` (see `shifts()`).
  schedule& set_shift_phase(int index, double phase) {
    check(index >= 0 && static_cast<std::size_t>(index) < m_shifts.size() && std::isfinite(phase),
          "frugal::quantum::pulse::schedule::set_shift_phase: bad index ", index, " or phase ", phase);
    m_shifts[static_cast<std::size_t>(index)].phase = phase;
    return *this;
  }

  /// End of the last pulse on `channel` (0 when it has none).
  [[nodiscard]] int channel_end(int channel) const {
    check_channel(channel);
    int end = 0;
    for (const auto& p : m_plays)
      if (p.channel == channel) end = std::max(end, p.start + p.pulse.duration);
    return end;
  }

  /// Total duration in samples: the end of the last pulse.
  [[nodiscard]] int duration() const {
    int end = 0;
    for (const auto& p : m_plays) end = std::max(end, p.start + p.pulse.duration);
    return end;
  }

  [[nodiscard]] const std::vector<play_instruction>& plays() const { return m_plays; }
  [[nodiscard]] std::vector<play_instruction>& plays() { return m_plays; }
  [[nodiscard]] const std::vector<shift_phase_instruction>& shifts() const { return m_shifts; }
  [[nodiscard]] std::size_t channels() const { return m_names.size(); }
  [[nodiscard]] const std::string& channel_name(int c) const { return m_names[static_cast<std::size_t>(c)]; }

  /// The channel's accumulated phase at sample k: its shift-phase instructions and the virtual Zs
  /// of the transmon whose frame it follows, at or before k.
  [[nodiscard]] double channel_phase(int channel, int k) const {
    double phi = 0;
    for (const auto& s : m_shifts)
      if (s.channel == channel && s.time <= k) phi += s.phase;
    const int f = m_frames[static_cast<std::size_t>(channel)];
    for (const auto& z : m_frame_changes)
      if (z.transmon == f && z.time <= k) phi += z.theta;
    return phi;
  }

  /// Index of the channel named `name`.
  [[nodiscard]] int index_of(std::string_view name) const {
    for (std::size_t c = 0; c < m_names.size(); ++c)
      if (m_names[c] == name) return static_cast<int>(c);
    throw invalid_argument(frugal::detail::concat("frugal::quantum::pulse::schedule: no channel '", name, "'"));
  }

 private:
  void check_channel(int c) const {
    check(c >= 0 && static_cast<std::size_t>(c) < channels(), "frugal::quantum::pulse::schedule: channel index ", c,
          " out of range (", channels(), " channels)");
  }

  std::vector<std::string> m_names;
  std::vector<int> m_frames;
  std::vector<play_instruction> m_plays;
  std::vector<shift_phase_instruction> m_shifts;
  std::vector<frame_change> m_frame_changes;
};

}  // namespace frugal::quantum::pulse
