#pragma once
// The device and schedule of one case of tests/quantum/data/pulse_reference.json (written by
// scripts/pulse_reference.py with QuTiP), shared by the pulse tests and bench/quantum's pulse
// benchmark. Throws frugal::error on a case it cannot build.
#include <frugal/quantum/pulse.hpp>
#include <nlohmann/json.hpp>

#include <string>
#include <utility>

namespace frugal::test {

/// A reference case's device and schedule, built from its JSON description.
inline std::pair<quantum::pulse::device_model, quantum::pulse::schedule> pulse_reference_case(const nlohmann::json& c,
                                                                                              double dt) {
  quantum::pulse::device_model m;
  m.dt = dt;
  for (const auto& t : c["transmons"])
    m.transmons.push_back({t["levels"].get<int>(), t["frequency"].get<double>(), t["anharmonicity"].get<double>(),
                           t["frame"].get<double>(), t["t1"].get<double>(), t["t2"].get<double>()});
  for (const auto& k : c["couplings"])
    m.couplings.push_back({k["i"].get<int>(), k["j"].get<int>(), k["strength"].get<double>()});
  for (const auto& ch : c["channels"]) {
    int frame = -1;  // the transmon whose frame the carrier follows
    for (std::size_t i = 0; i < m.transmons.size(); ++i)
      if (m.transmons[i].frame_frequency() == ch["frequency"].get<double>()) frame = static_cast<int>(i);
    check(frame >= 0, "pulse_reference_case: channel ", ch["name"].get<std::string>(), " follows no transmon's frame");
    m.channels.push_back({ch["name"].get<std::string>(), ch["transmon"].get<int>(), ch["strength"].get<double>(),
                          ch["frequency"].get<double>(), frame});
  }
  quantum::pulse::schedule s(m);
  for (const auto& in : c["instructions"]) {
    if (in["type"] == "shift_phase") {
      s.shift_phase(s.index_of(in["channel"].get<std::string>()), in["time"].get<int>(), in["phase"].get<double>());
      continue;
    }
    quantum::pulse::waveform w;
    const std::string shape = in["shape"];
    w.kind = shape == "gaussian"          ? quantum::pulse::shape::gaussian
             : shape == "drag"            ? quantum::pulse::shape::drag
             : shape == "gaussian_square" ? quantum::pulse::shape::gaussian_square
                                          : quantum::pulse::shape::constant;
    w.duration = in["duration"].get<int>();
    w.amp = in["amp"].get<double>();
    w.sigma = in.value("sigma", 0.0);
    w.beta = in.value("beta", 0.0);
    w.width = in.value("width", 0.0);
    w.phase = in.value("phase", 0.0);
    w.detuning = in.value("detuning", 0.0);
    s.play(in["channel"].get<std::string>(), in["start"].get<int>(), w);
  }
  return {m, s};
}

}  // namespace frugal::test
