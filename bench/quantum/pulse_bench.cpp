// Pulse-level time evolution against QuTiP on the same schedules: the three cases of
// tests/quantum/data/pulse_reference.json (one transmon; two coupled transmons with a
// cross-resonance pulse; the latter with T1/T2), frugal's simulator timed here and QuTiP's
// sesolve/mesolve timed by pulse_qutip.py in the same run, single-threaded, at tolerances that
// keep both within 1e-6 of the stored populations. frugal's propagators are exact to rounding
// (each step's Taylor series summed until its terms vanish in double precision).
//
// Where Boost is found, the closed cases are also integrated by Odeint's adaptive Dormand-Prince
// stepper (`evolve_adaptive`, continuous-time phases), timed, with its distance from the
// fixed-step model.
//
//   bench_pulse [REPS]
#include <frugal/quantum/pulse.hpp>
#if defined(FRUGAL_HAVE_ODEINT)
#include <frugal/quantum/pulse/adaptive.hpp>
#endif

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "pulse_reference.hpp"

namespace p = frugal::quantum::pulse;

int main(int argc, char** argv) {
  Kokkos::ScopeGuard kokkos(argc, argv);
  const int reps = argc > 1 ? std::max(1, std::atoi(argv[1])) : 5;
  std::ifstream in(FRUGAL_PULSE_REFERENCE);
  if (!in) {
    std::fprintf(stderr, "bench_pulse: cannot read %s\n", FRUGAL_PULSE_REFERENCE);
    return 1;
  }
  const auto ref = nlohmann::json::parse(in);
  struct row {
    std::string name;
    double seconds = 0, error = 0;
    int dim = 0, steps = 0;
  };
  std::vector<row> rows;
  for (const auto& c : ref["cases"]) {
    auto [m, s] = frugal::test::pulse_reference_case(c, ref["dt"].get<double>());
    const p::simulator sim(m);
    const bool open = m.transmons[0].t1_ns > 0;
    std::vector<double> times;
    double err = 0;
    for (int r = 0; r < reps; ++r) {
      const auto t0 = std::chrono::steady_clock::now();
      Eigen::VectorXd pop;
      if (open) {
        const auto g = sim.ground_state();
        pop = sim.evolve_density(s, g * g.adjoint()).diagonal().real();
      } else {
        pop = sim.evolve(s, sim.ground_state()).cwiseAbs2();
      }
      times.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
      err = 0;
      for (frugal::index_t i = 0; i < pop.size(); ++i)
        err = std::max(err, std::abs(pop(i) - c["populations"][std::size_t(i)].get<double>()));
    }
    std::sort(times.begin(), times.end());
    rows.push_back({c["name"].get<std::string>(), times[times.size() / 2], err, int(sim.dimension()),
                    s.duration() * sim.substeps(s)});
  }
  // QuTiP on the same cases, at atol 1e-10 / rtol 1e-8 (looser tolerances miss 1e-6).
  std::map<std::string, std::pair<double, double>> qutip;
  std::string version = "?";
  const std::string cmd = std::string("/usr/bin/python3 '") + FRUGAL_PULSE_QUTIP + "' '" + FRUGAL_PULSE_REFERENCE +
                          "' " + std::to_string(std::min(reps, 3)) + " 1e-10 1e-8";
  if (FILE* pipe = popen(cmd.c_str(), "r")) {
    char line[512];
    while (std::fgets(line, sizeof line, pipe)) {
      char v[64], name[128];
      double sec = 0, e = 0;
      if (std::sscanf(line, "qutip %63s case %127s seconds %lf max_population_error %lf", v, name, &sec, &e) == 4) {
        version = v;
        qutip[name] = {sec, e};
      } else {
        std::printf("pulse_qutip.py: %s", line);
      }
    }
    pclose(pipe);
  }
  std::printf("pulse evolution, one thread, median of %d (QuTiP %s: median of %d)\n", reps, version.c_str(),
              std::min(reps, 3));
  std::printf("%-22s %4s %6s | %12s %10s | %12s %10s | %8s\n", "case", "dim", "steps", "frugal s", "max err", "QuTiP s",
              "max err", "speed-up");
  for (const auto& r : rows) {
    const auto it = qutip.find(r.name);
    if (it == qutip.end()) {
      std::printf("%-22s %4d %6d | %12.6f %10.1e | %12s %10s | %8s\n", r.name.c_str(), r.dim, r.steps, r.seconds,
                  r.error, "—", "—", "—");
      continue;
    }
    std::printf("%-22s %4d %6d | %12.6f %10.1e | %12.6f %10.1e | %7.1fx\n", r.name.c_str(), r.dim, r.steps, r.seconds,
                r.error, it->second.first, it->second.second, it->second.first / r.seconds);
  }
  if (qutip.empty())
    std::printf("QuTiP baseline skipped: /usr/bin/python3 cannot import qutip (apt-get install python3-qutip)\n");
#if defined(FRUGAL_HAVE_ODEINT)
  std::printf(
      "\nadaptive integration (Odeint Dormand-Prince 5(4), abs/rel tolerance 1e-10, continuous-time phases), "
      "closed cases, median of %d\n",
      reps);
  std::printf("%-22s | %12s %8s | %10s %10s | %8s\n", "case", "Odeint s", "steps", "state gap", "pop. gap",
              "fixed-step speed-up");
  for (const auto& c : ref["cases"]) {
    auto [m, s] = frugal::test::pulse_reference_case(c, ref["dt"].get<double>());
    if (m.transmons[0].t1_ns > 0) continue;
    const p::simulator sim(m);
    std::vector<double> times;
    p::adaptive_stats stats;
    frugal::quantum::cvector a;
    for (int r = 0; r < reps; ++r) {
      const auto t0 = std::chrono::steady_clock::now();
      a = p::evolve_adaptive(sim, s, sim.ground_state(), {}, &stats);
      times.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
    std::sort(times.begin(), times.end());
    const auto fixed = sim.evolve(s, sim.ground_state());
    const double pop_gap = (fixed.cwiseAbs2() - a.cwiseAbs2()).cwiseAbs().maxCoeff();
    const double fixed_seconds = std::find_if(rows.begin(), rows.end(), [&](const row& r) {
                                   return r.name == c["name"].get<std::string>();
                                 })->seconds;
    std::printf("%-22s | %12.6f %8ld | %10.1e %10.1e | %7.1fx\n", c["name"].get<std::string>().c_str(),
                times[times.size() / 2], stats.steps, (fixed - a).norm(), pop_gap,
                times[times.size() / 2] / fixed_seconds);
  }
#else
  std::printf("adaptive integration skipped: Boost.Odeint not found (apt-get install libboost-dev)\n");
#endif
  return 0;
}
