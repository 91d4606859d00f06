#pragma once
/// \file
/// The transmon device model of frugal/quantum's pulse level: transmons as Duffing oscillators
/// truncated to 2 or 3 levels, exchange couplings, and the channels that drive them, in the frame
/// rotating at each transmon's frame frequency (the rotating-wave approximation).
///
/// Units: angular frequencies in rad/ns (a Qiskit Hamiltonian's `vars`), times in ns, `dt` the
/// sample period in ns. The Hamiltonian (ħ = 1), with a_i the lowering operator of transmon i and
/// N_i = a_i† a_i:
///
///     H(t) = Σ_i (ω_i − ν_i) N_i + (δ_i / 2) N_i (N_i − 1)
///          + Σ_(i,j) J_ij (a_i† a_j e^{i(ν_i − ν_j)t} + h.c.)
///          + Σ_channels (Ω_c / 2) (z_c(t) a_q + z_c(t)* a_q†),   z_c(t) = s_c(t) e^{i(ν_c − ν_q)t}
///
/// where ω_i is the transmon's frequency, ν_i its frame, δ_i its anharmonicity, and channel c
/// (strength Ω_c, carrier ν_c) drives transmon q with the complex envelope s_c(t). This is the
/// rotating-frame form of Qiskit's `wq/2 (I − Z) + δ/2 O O − δ/2 O + Ω X ‖ D(t)` with
/// D(t) = Re[s(t) e^{iν_c t}] once the counter-rotating terms are dropped. Registers are
/// little-endian as everywhere in frugal/quantum: level l_i of transmon i contributes
/// l_i · d_0 ⋯ d_{i−1} to the basis index.

#include <cmath>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "../../core/error.hpp"
#include "../types.hpp"

namespace frugal::quantum::pulse {

/// One transmon. `frame` defaults to `frequency` (the drive on resonance, as calibrated pulses
/// are); `t1_ns` and `t2_ns` are 0 for a closed system.
struct transmon {
  int levels = 3;
  double frequency = 0;                                     ///< ω, rad/ns
  double anharmonicity = 0;                                 ///< δ, rad/ns (negative for a transmon)
  double frame = std::numeric_limits<double>::quiet_NaN();  ///< ν, rad/ns; NaN: `frequency`
  double t1_ns = 0;                                         ///< energy relaxation; 0: none
  double t2_ns = 0;                                         ///< coherence (T2 ≤ 2 T1); 0: none

  [[nodiscard]] double frame_frequency() const { return std::isnan(frame) ? frequency : frame; }
};

/// An exchange coupling J (a_i† a_j + a_i a_j†) between two transmons, rad/ns.
struct coupling {
  int i = 0;
  int j = 0;
  double strength = 0;
};

/// A control channel: a drive ("d0") or cross-resonance ("u0") line acting on `transmon` with
/// strength Ω (rad/ns per unit amplitude) at the carrier `frequency`. `frame_transmon` is the
/// transmon whose frame the carrier follows (the drive's own transmon; a cross-resonance line's
/// target): a virtual Z on that transmon shifts this channel's phase.
struct channel {
  std::string name;
  int transmon = 0;
  double strength = 0;
  double frequency = 0;
  int frame_transmon = 0;
};

/// A device: transmons, couplings, channels and the sample period.
struct device_model {
  double dt = 2.0 / 9.0;  ///< ns per sample (IBM's 0.222 ns)
  std::vector<transmon> transmons;
  std::vector<coupling> couplings;
  std::vector<channel> channels;

  /// Product of the transmons' level counts: the state-vector length.
  [[nodiscard]] index_t dimension() const {
    index_t d = 1;
    for (const auto& t : transmons) d *= t.levels;
    return d;
  }

  /// Index of the channel called `name`; throws naming it (and the channels there are) if absent.
  [[nodiscard]] int channel_index(std::string_view name) const {
    for (std::size_t c = 0; c < channels.size(); ++c)
      if (channels[c].name == name) return static_cast<int>(c);
    std::string known;
    for (const auto& c : channels) known += (known.empty() ? "" : ", ") + c.name;
    throw invalid_argument(frugal::detail::concat("frugal::quantum::pulse: no channel '", name, "' (the device has ",
                                                  known.empty() ? std::string("none") : known, ")"));
  }

  /// The drive channel of transmon q (the one acting on q at q's own frame), or throws.
  [[nodiscard]] int drive_channel(int q) const {
    for (std::size_t c = 0; c < channels.size(); ++c)
      if (channels[c].transmon == q && channels[c].frame_transmon == q) return static_cast<int>(c);
    throw invalid_argument(frugal::detail::concat("frugal::quantum::pulse: transmon ", q, " has no drive channel"));
  }

  /// The cross-resonance channel driving `control` at `target`'s frame, or throws.
  [[nodiscard]] int cross_resonance_channel(int control, int target) const {
    for (std::size_t c = 0; c < channels.size(); ++c)
      if (channels[c].transmon == control && channels[c].frame_transmon == target) return static_cast<int>(c);
    throw invalid_argument(frugal::detail::concat("frugal::quantum::pulse: no cross-resonance channel from transmon ",
                                                  control, " to ", target));
  }

  /// Throws `invalid_argument` naming the first inconsistency: levels outside 2..4 (the register
  /// sizes the pulse level supports, up to 3 transmons of 3 levels or 4 of 2 being practical),
  /// non-finite parameters, T2 > 2 T1, couplings or channels on transmons that do not exist.
  void validate() const {
    constexpr const char* where = "frugal::quantum::pulse::device_model";
    check(std::isfinite(dt) && dt > 0, where, ": dt = ", dt, " must be a positive number of ns");
    check(!transmons.empty(), where, ": no transmons");
    check(dimension() <= 4096, where, ": the register has ", dimension(), " levels in all; at most 4096 are supported");
    const int n = static_cast<int>(transmons.size());
    for (int i = 0; i < n; ++i) {
      const auto& t = transmons[static_cast<std::size_t>(i)];
      check(t.levels >= 2 && t.levels <= 4, where, ": transmon ", i, " has ", t.levels, " levels (2 to 4 supported)");
      check(std::isfinite(t.frequency) && std::isfinite(t.anharmonicity) && std::isfinite(t.frame_frequency()), where,
            ": transmon ", i, " has a non-finite frequency, anharmonicity or frame");
      check(std::isfinite(t.t1_ns) && t.t1_ns >= 0 && std::isfinite(t.t2_ns) && t.t2_ns >= 0, where, ": transmon ", i,
            ": T1 and T2 must be non-negative (0: none)");
      check(t.t1_ns == 0 || t.t2_ns == 0 || t.t2_ns <= 2 * t.t1_ns * (1 + 1e-12), where, ": transmon ", i,
            ": T2 = ", t.t2_ns, " ns exceeds 2 T1 = ", 2 * t.t1_ns, " ns");
    }
    for (const auto& c : couplings) {
      check(c.i >= 0 && c.i < n && c.j >= 0 && c.j < n && c.i != c.j, where, ": coupling (", c.i, ", ", c.j,
            ") names a transmon that does not exist or couples one to itself");
      check(std::isfinite(c.strength), where, ": coupling (", c.i, ", ", c.j, ") strength is not finite");
    }
    for (std::size_t a = 0; a < channels.size(); ++a) {
      const auto& c = channels[a];
      check(!c.name.empty(), where, ": channel ", a, " has no name");
      check(c.transmon >= 0 && c.transmon < n && c.frame_transmon >= 0 && c.frame_transmon < n, where, ": channel ",
            c.name, " acts on transmon ", c.transmon, " at transmon ", c.frame_transmon, "'s frame; the device has ",
            n);
      check(std::isfinite(c.strength) && std::isfinite(c.frequency), where, ": channel ", c.name,
            " has a non-finite strength or frequency");
      for (std::size_t b = 0; b < a; ++b) check(channels[b].name != c.name, where, ": channel ", c.name, " repeated");
    }
  }
};

/// IBM manila's first `transmons` transmons (1 to 5, a chain coupled 0-1-2-3-4; from its Qiskit
/// backend configuration, and T1/T2 from its properties): the built-in device for a user without
/// a configuration file. `levels` 2 to 4; `open` keeps T1/T2, otherwise the system is closed.
/// Channels, named as in manila's configuration: drive lines d0 … and, for each coupled pair
/// (i, i + 1), the cross-resonance lines u(2i) (drives i at i + 1's frame) and u(2i + 1) (drives
/// i + 1 at i's frame).
[[nodiscard]] inline device_model default_device(int transmons = 2, int levels = 3, bool open = false) {
  check(transmons >= 1 && transmons <= 5, "frugal::quantum::pulse::default_device: transmons = ", transmons,
        " (manila has 1 to 5; read a backend configuration for another device)");
  check(levels >= 2 && levels <= 4, "frugal::quantum::pulse::default_device: levels = ", levels, " (2 to 4)");
  // wq, delta, omegad and jq from manila's hamiltonian.vars; T1/T2 (ns) from props_manila.json.
  constexpr double wq[5] = {31.179405260046938, 30.397253343722692, 31.65027066777074, 31.107830898829153,
                            31.825452533599748};
  constexpr double delta[5] = {-2.1653453348252345, -2.169482392636701, -2.1523131973287386, -2.158766696668494,
                               -2.1495256907311115};
  constexpr double omegad[5] = {0.9537132427085399, 0.8125407307858323, 1.039376041950564, 0.8951192202073989,
                                0.9133517255217689};
  constexpr double jq[4] = {0.011845444218797994, 0.01196783968906386, 0.01240211395601237, 0.01218691037040823};
  constexpr double t1[5] = {131528.6444531517, 124535.50487905082, 158615.2374677565, 179102.81957277218,
                            144673.16223194067};
  constexpr double t2[5] = {102203.90054827382, 79014.70497124718, 25150.897893938303, 54361.01156476186,
                            40332.33257275118};
  device_model m;
  m.dt = 0.2222222222222222;
  for (int i = 0; i < transmons; ++i) {
    m.transmons.push_back(
        {levels, wq[i], delta[i], std::numeric_limits<double>::quiet_NaN(), open ? t1[i] : 0.0, open ? t2[i] : 0.0});
    m.channels.push_back({"d" + std::to_string(i), i, omegad[i], wq[i], i});
  }
  for (int i = 0; i + 1 < transmons; ++i) {
    m.couplings.push_back({i, i + 1, jq[i]});
    // As manila's h_str has them: U(2i) is omegad(i+1)·X_i at q(i+1)'s carrier, U(2i+1) omegad(i)·X_(i+1).
    m.channels.push_back({"u" + std::to_string(2 * i), i, omegad[i + 1], wq[i + 1], i + 1});
    m.channels.push_back({"u" + std::to_string(2 * i + 1), i + 1, omegad[i], wq[i], i});
  }
  return m;
}

/// The device reduced to the transmons `keep` (renumbered 0, 1, … in that order), the couplings
/// among them and the channels that act on and follow the frame of kept transmons: two-qubit gates
/// are calibrated on such a pair, as on hardware, one pair at a time.
[[nodiscard]] inline device_model sub_device(const device_model& m, const std::vector<int>& keep) {
  constexpr const char* where = "frugal::quantum::pulse::sub_device";
  const int n = static_cast<int>(m.transmons.size());
  std::vector<int> index(static_cast<std::size_t>(n), -1);
  check(!keep.empty(), where, ": no transmons kept");
  for (std::size_t k = 0; k < keep.size(); ++k) {
    check(keep[k] >= 0 && keep[k] < n, where, ": transmon ", keep[k], " out of range (the device has ", n, ")");
    check(index[static_cast<std::size_t>(keep[k])] < 0, where, ": transmon ", keep[k], " kept twice");
    index[static_cast<std::size_t>(keep[k])] = static_cast<int>(k);
  }
  auto at = [&](int q) { return index[static_cast<std::size_t>(q)]; };
  device_model s;
  s.dt = m.dt;
  for (const int q : keep) s.transmons.push_back(m.transmons[static_cast<std::size_t>(q)]);
  for (const auto& c : m.couplings)
    if (at(c.i) >= 0 && at(c.j) >= 0) s.couplings.push_back({at(c.i), at(c.j), c.strength});
  for (auto c : m.channels)
    if (at(c.transmon) >= 0 && at(c.frame_transmon) >= 0) {
      c.transmon = at(c.transmon);
      c.frame_transmon = at(c.frame_transmon);
      s.channels.push_back(c);
    }
  return s;
}

}  // namespace frugal::quantum::pulse
