// The pulse level against independent truth: QuTiP's populations for three schedules (stored by
// scripts/pulse_reference.py), analytic Rabi and decay laws, central finite differences for the
// pulse gradients, and a brute-force eigenvalue for VQE.
#include "quantum_support.hpp"

#include <frugal/quantum/backend_properties.hpp>
#include <frugal/quantum/molecules.hpp>
#include <frugal/quantum/pulse.hpp>
#include <frugal/quantum/pulse/configuration.hpp>
#include <nlohmann/json.hpp>
#if defined(FRUGAL_HAVE_ODEINT)
#include <frugal/quantum/pulse/adaptive.hpp>
#endif

#include <algorithm>
#include <complex>
#include <fstream>
#include <numbers>
#include <utility>
#include <vector>

#include "pulse_reference.hpp"
#include "test_support.hpp"

namespace pulse_test {

namespace p = frugal::quantum::pulse;
namespace q = frugal::quantum;
using q::cmatrix;
using q::cvector;

inline nlohmann::json read_json(const std::filesystem::path& f) {
  std::ifstream in(f);
  REQUIRE(in.good());
  return nlohmann::json::parse(in);
}

inline std::string read_text(const std::filesystem::path& f) {
  std::ifstream in(f, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace pulse_test

using namespace pulse_test;

TEST_CASE("pulse evolution matches QuTiP's populations within 1e-6 (closed, CR, Lindblad)") {
  const auto ref = read_json(std::filesystem::path(FRUGAL_TESTS_DIR) / "quantum/data/pulse_reference.json");
  REQUIRE(ref["cases"].size() == 3);
  for (const auto& c : ref["cases"]) {
    CAPTURE(c["name"].get<std::string>());
    auto [m, s] = frugal::test::pulse_reference_case(c, ref["dt"].get<double>());
    const p::simulator sim(m);
    CHECK(sim.substeps(s) == c["substeps"].get<int>());
    const auto& pops = c["populations"];
    REQUIRE(pops.size() == static_cast<std::size_t>(sim.dimension()));
    const bool open = m.transmons[0].t1_ns > 0;
    if (open) {
      const cvector g = sim.ground_state();
      const cmatrix rho = sim.evolve_density(s, g * g.adjoint());
      CHECK(std::abs(rho.trace().real() - 1) < 1e-10);
      for (frugal::index_t i = 0; i < sim.dimension(); ++i)
        CHECK(std::abs(rho(i, i).real() - pops[std::size_t(i)].get<double>()) < 1e-6);
    } else {
      const cvector psi = sim.evolve(s, sim.ground_state());
      for (frugal::index_t i = 0; i < sim.dimension(); ++i) {
        CHECK(std::abs(std::norm(psi(i)) - pops[std::size_t(i)].get<double>()) < 1e-6);
        const double re = c["state_real"][std::size_t(i)];
        const double im = c["state_imag"][std::size_t(i)];
        CHECK(std::abs(psi(i) - std::complex<double>(re, im)) < 1e-6);
      }
    }
  }
}

TEST_CASE("a calibrated DRAG pi pulse takes |0> to |1> with fidelity >= 0.999 on a 3-level transmon") {
  const auto dev = p::default_device(1, 3);
  const auto [x, sx] = p::calibrate_single_qubit(dev, 0);
  const p::simulator sim(dev);
  const cvector psi = sim.evolve(p::schedule(dev).play("d0", 0, x.pulse), sim.ground_state());
  MESSAGE("X amp ", x.pulse.amp, " beta ", x.pulse.beta, ": P(1) = ", std::norm(psi(1)), ", leakage ", sim.leakage(psi),
          "; gate fidelity X ", x.fidelity, " SX ", sx.fidelity);
  CHECK(std::norm(psi(1)) >= 0.999);
  CHECK(sim.leakage(psi) < 1e-4);
  CHECK(x.fidelity > 0.999);
  CHECK(sx.fidelity > 0.999);
  // Without DRAG the same Gaussian leaks more: β does the work.
  p::waveform plain = x.pulse;
  plain.beta = 0;
  const cvector psi0 = sim.evolve(p::schedule(dev).play("d0", 0, plain), sim.ground_state());
  CHECK(sim.leakage(psi0) > sim.leakage(psi));
}

TEST_CASE("the Rabi frequency of a weak constant drive is its strength times the amplitude within 1%") {
  const auto dev = p::default_device(1, 3);
  const p::simulator sim(dev);
  std::vector<int> durations;
  for (int d = 8; d <= 800; d += 8) durations.push_back(d);
  for (double amp : {0.01, 0.02}) {
    const double w = p::rabi_frequency(sim, amp, durations);
    CHECK(std::abs(w / (amp * dev.channels[0].strength) - 1) < 0.01);
  }
  // The amplitude scan's cosine fit finds the π amplitude of the pulse it scanned.
  std::vector<double> amps;
  for (int i = 1; i <= 40; ++i) amps.push_back(0.01 * i);
  const auto pop = p::rabi_amplitude_scan(sim, amps, 160, 40);
  const double a_pi = std::numbers::pi / p::fit_rabi(amps, pop, 0.9 * std::numbers::pi / 0.01);
  const cvector psi = sim.evolve(p::schedule(dev).play("d0", 0, p::gaussian(160, a_pi, 40)), sim.ground_state());
  CHECK(std::norm(psi(1)) > 0.99);
}

TEST_CASE("T1 decay and T2 dephasing follow their exponentials") {
  auto dev = p::default_device(1, 3);
  dev.transmons[0].t1_ns = 500;
  dev.transmons[0].t2_ns = 300;
  const p::simulator sim(dev);
  // Idle for 900 samples (a zero-amplitude pulse) from |1> and from |+>.
  const p::schedule idle = p::schedule(dev).play("d0", 0, p::constant(900, 0.0));
  const double t = 900 * dev.dt;
  const cvector one = sim.basis_state({1});
  const cmatrix r1 = sim.evolve_density(idle, one * one.adjoint());
  CHECK(std::abs(r1(1, 1).real() - std::exp(-t / 500)) < 1e-9);
  cvector plus = (sim.basis_state({0}) + sim.basis_state({1})) / std::sqrt(2.0);
  const cmatrix r2 = sim.evolve_density(idle, plus * plus.adjoint());
  CHECK(std::abs(std::abs(r2(0, 1)) - 0.5 * std::exp(-t / 300)) < 1e-9);
  CHECK(std::abs(r2.trace().real() - 1) < 1e-12);
}

TEST_CASE("pulse gradients match central finite differences (relative 1e-5)") {
  const auto dev = p::default_device(2, 3);
  const p::simulator sim(dev);
  const auto h = q::h2_sto3g(0.9).parity;
  p::parametrized_schedule a{p::schedule(dev)};
  auto& s = a.base();
  s.play("d0", 0, p::drag(160, 0.1, 40, 0.5, 0.2));
  s.play("d1", 40, p::drag(160, 0.08, 40, -0.3, 0.1));
  s.virtual_z(1, 200, 0.4);
  s.play("u0", 200, p::gaussian_square(256, 0.3, 32, 128, -0.4));
  s.shift_phase(s.index_of("d0"), 456, 0.3);
  s.play("d0", 456, p::drag(160, 0.12, 40, 0.4, 0.0));
  using f = p::parameter_target::field;
  a.add({"amp0", {{f::amp, 0}}, 0.1, -0.9, 0.9});
  a.add({"beta0", {{f::beta, 0}}, 0.5, -3, 3});
  a.add({"phase1", {{f::phase, 1}}, 0.1, -4, 4});
  a.add({"det1", {{f::detuning, 1}}, 0.02, -0.1, 0.1});
  a.add({"z1", {{f::frame, 0}}, 0.4, -4, 4});
  a.add({"cr", {{f::amp, 2}}, 0.3, -0.9, 0.9});
  a.add({"crphase", {{f::phase, 2}}, -0.4, -4, 4});
  a.add({"shift", {{f::shift, 0}}, 0.3, -4, 4});
  a.add({"tied", {{f::amp, 3}, {f::amp, 1, 0.5, 0.02}}, 0.12, -0.9, 0.9});
  const p::energy_objective e(sim, h);
  const std::vector<double> x = {0.1, 0.5, 0.1, 0.02, 0.4, 0.3, -0.4, 0.3, 0.12};
  std::vector<double> g;
  (void)e(a, x, &g);
  REQUIRE(g.size() == x.size());
  for (std::size_t i = 0; i < x.size(); ++i) {
    CAPTURE(a.parameters()[i].name);
    const double step = 1e-5;
    auto xp = x, xm = x;
    xp[i] += step;
    xm[i] -= step;
    const double fd = (e(a, xp, nullptr) - e(a, xm, nullptr)) / (2 * step);
    CHECK(std::abs(g[i] - fd) <= 1e-5 * std::max(std::abs(fd), 1e-2));
  }
}

TEST_CASE("virtual Z and the compiled RY act as the gates they stand for") {
  const auto dev = p::default_device(1, 3);
  const auto [x, sx] = p::calibrate_single_qubit(dev, 0);
  p::gate_table t;
  t.x = {x};
  t.sx = {sx};
  const p::simulator sim(dev);
  for (double th : {0.3, -1.7, 2.5}) {
    p::parametrized_schedule a{p::schedule(dev)};
    p::add_ry(a, dev, t, 0, 0, th, "theta");
    CHECK(p::average_gate_fidelity(sim.subspace_operator(a.bind({th})), q::gates::ry(th)) > 0.9999);
    p::schedule z(dev);
    z.play("d0", 0, sx.pulse).virtual_z(0, 160, th).play("d0", 160, sx.pulse);
    CHECK(p::average_gate_fidelity(sim.subspace_operator(z), q::gates::sx() * q::gates::rz(th) * q::gates::sx()) >
          0.9999);
  }
}

TEST_CASE("schedules reject bad pulses") {
  const auto dev = p::default_device(2, 3);
  p::schedule s(dev);
  CHECK_THROWS_AS(s.play("d0", 0, p::gaussian(160, 1.2, 40)), frugal::invalid_argument);
  CHECK_THROWS_AS(s.play("d0", 0, p::drag(160, 0.9, 40, 200)), frugal::invalid_argument);  // |envelope| > 1
  CHECK_THROWS_AS(s.play("d0", 0, p::gaussian(0, 0.1, 40)), frugal::invalid_argument);
  CHECK_THROWS_AS(s.play("d0", 0, p::gaussian(160, 0.1, 0)), frugal::invalid_argument);
  CHECK_THROWS_AS(s.play("d0", 0, p::gaussian_square(160, 0.1, 10, 160)), frugal::invalid_argument);
  CHECK_THROWS_WITH_AS(s.play("x9", 0, p::gaussian(16, 0.1, 4)), doctest::Contains("x9"), frugal::invalid_argument);
  s.play("d0", 0, p::gaussian(160, 0.1, 40));
  CHECK_THROWS_WITH_AS(s.play("d0", 100, p::gaussian(160, 0.1, 40)), doctest::Contains("overlaps"),
                       frugal::invalid_argument);
  CHECK_NOTHROW(s.play("d0", 160, p::gaussian(160, 0.1, 40)));
  CHECK(s.duration() == 320);
  CHECK_THROWS_AS(s.virtual_z(5, 0, 0.1), frugal::invalid_argument);
  auto bad = dev;
  bad.transmons[0].t1_ns = 100;
  bad.transmons[0].t2_ns = 300;
  CHECK_THROWS_WITH_AS(p::simulator{bad}, doctest::Contains("exceeds 2 T1"), frugal::invalid_argument);
  CHECK_THROWS_AS(p::simulator(dev).observable({{"XQ", 1.0}}), frugal::invalid_argument);
  CHECK_THROWS_AS(p::simulator(dev).observable({{"XXX", 1.0}}), frugal::invalid_argument);
}

TEST_CASE("backend configurations: manila, a second layout, malformed and unsupported input, fuzzing") {
  const auto second = std::filesystem::path(FRUGAL_TESTS_DIR) / "quantum/data/conf_two_transmon.json";
  const auto m2 = p::read_backend_configuration(second);
  REQUIRE(m2.transmons.size() == 2);
  CHECK(m2.transmons[0].levels == 3);
  CHECK(m2.transmons[1].levels == 2);
  CHECK(m2.transmons[0].frequency == doctest::Approx(32.0));
  CHECK(m2.transmons[1].frequency == doctest::Approx(33.5));
  CHECK(m2.transmons[0].anharmonicity == doctest::Approx(-2.0));
  CHECK(m2.transmons[1].anharmonicity == doctest::Approx(-1.8));
  REQUIRE(m2.couplings.size() == 1);
  CHECK(m2.couplings[0].strength == doctest::Approx(0.02));
  REQUIRE(m2.channels.size() == 4);
  CHECK(m2.channels[m2.cross_resonance_channel(0, 1)].frequency == doctest::Approx(33.5));
  CHECK(m2.dt == 0.5);
  // The parsed device evolves: a π pulse on its qubit transmon.
  CHECK_NOTHROW(p::simulator(m2).evolve(p::schedule(m2).play("d1", 0, p::gaussian(64, 0.2, 16)),
                                        p::simulator(m2).ground_state()));

  const auto dir = frugal::test::shared_data_dir();
  if (!dir.empty()) {
    const auto m = p::read_backend_configuration(dir / "calibrations/conf_manila.json", {0, 1});
    const auto d = p::default_device(2, 3);
    for (int i = 0; i < 2; ++i) {
      CHECK(m.transmons[std::size_t(i)].frequency ==
            doctest::Approx(d.transmons[std::size_t(i)].frequency).epsilon(1e-12));
      CHECK(m.transmons[std::size_t(i)].anharmonicity ==
            doctest::Approx(d.transmons[std::size_t(i)].anharmonicity).epsilon(1e-12));
    }
    CHECK(m.couplings.size() == 1);
    CHECK(m.channels.size() == 4);  // d0, d1, u0, u1: the other CR lines reach qubits left out
    const auto all = p::read_backend_configuration(dir / "calibrations/conf_manila.json", {}, 2);
    CHECK(all.transmons.size() == 5);
    CHECK(all.couplings.size() == 4);
    CHECK(all.channels.size() == 13);
    auto withT = m;
    p::set_decoherence(withT, q::read_backend_properties(dir / "calibrations/props_manila.json"), {0, 1});
    CHECK(withT.transmons[0].t1_ns == doctest::Approx(131528.6444531517));
  }

  const std::string good = read_text(second);
  auto mutate = [&](const std::string& from, const std::string& to) {
    std::string s = good;
    const auto at = s.find(from);
    REQUIRE(at != std::string::npos);
    return s.replace(at, from.size(), to);
  };
  auto error_of = [](const std::string& text) -> std::string {
    try {
      (void)p::parse_backend_configuration(text, "conf.json");
    } catch (const frugal::error& e) {
      return e.what();
    }
    return "";
  };
  CHECK(error_of(mutate("\"dt\": 0.5,", "")).find("'dt'") != std::string::npos);
  CHECK(error_of(mutate("\"hamiltonian\"", "\"hamiltonia\"")).find("'hamiltonian'") != std::string::npos);
  CHECK(error_of(mutate("\"jq*Sm0*Sp1\",", "")).find("Hermitian partner") != std::string::npos);
  CHECK(error_of(mutate("\"wq1*O1\"", "\"wq1*Z0*Z1\"")).find("'wq1*Z0*Z1'") != std::string::npos);
  CHECK(error_of(mutate("\"wq1*O1\"", "\"wq1*O1*O1*O1\"")).find("cubic") != std::string::npos);
  CHECK(error_of(mutate("\"wq1*O1\"", "\"wq9*O1\"")).find("'wq9'") != std::string::npos);
  CHECK(error_of(mutate("omegad0*X0||D0", "omegad0*Y0||D0")).find("Y0") != std::string::npos);
  CHECK(error_of(mutate("omegad0*X0||D0", "omegad0*X0||Q0")).find("'Q0'") != std::string::npos);
  CHECK(error_of(mutate("\"scale\": [1.0, 0.0]}], [{\"q\": 0", "\"scale\": [0.5, 0.0]}], [{\"q\": 0"))
            .find("u_channel_lo[0]") != std::string::npos);
  CHECK(error_of(mutate("\"0\": 3", "\"7\": 3")).find("qub") != std::string::npos);
  CHECK(error_of(good.substr(0, good.size() / 2)).find("malformed JSON") != std::string::npos);
  CHECK(error_of("[1, 2]").find("not a JSON object") != std::string::npos);
  CHECK_THROWS_AS(p::read_backend_configuration(second.string() + ".missing"), frugal::io_error);
  // Fuzzing: random byte edits and truncations either parse or throw frugal::error.
  frugal::rng gen(2026);
  int parsed = 0, rejected = 0;
  for (int trial = 0; trial < 400; ++trial) {
    std::string s = good;
    const int edits = 1 + static_cast<int>(gen.uniform() * 4);
    for (int e = 0; e < edits; ++e) {
      const auto pos = static_cast<std::size_t>(gen.uniform() * double(s.size()));
      const std::string alphabet = "{}[]\",:0123456789.-eE*/|()_ XYZIOSpmDUwqdelta";
      s[pos] = alphabet[static_cast<std::size_t>(gen.uniform() * double(alphabet.size()))];
    }
    if (trial % 5 == 0) s.resize(static_cast<std::size_t>(gen.uniform() * double(s.size())));
    try {
      (void)p::parse_backend_configuration(s, "fuzz.json");
      ++parsed;
    } catch (const frugal::error&) {
      ++rejected;
    }
  }
  CHECK(parsed + rejected == 400);
  CHECK(rejected > 100);
}

TEST_CASE("native-pulse VQE reaches chemical accuracy on H2 with exact gradients" * doctest::test_suite("quality")) {
  const auto dev = p::default_device(2, 3);
  const p::simulator sim(dev);
  p::gate_table t;
  for (int qb = 0; qb < 2; ++qb) {
    auto [x, sx] = p::calibrate_single_qubit(dev, qb);
    t.x.push_back(x);
    t.sx.push_back(sx);
  }
  const auto h2 = q::h2_sto3g(0.735);
  const double exact = h2.fci - h2.nuclear_repulsion;
  p::vqe_options o;
  o.optimizer.algorithm = p::available(p::method::lbfgs) ? p::method::lbfgs : p::method::adam;
  o.optimizer.max_evaluations = 300;
  const auto r = p::run_vqe(sim, h2.parity, p::native_ansatz(dev, t, 2), o);
  MESSAGE("native 2-layer ansatz: error ", (r.energy - exact) * 1e3, " mHa in ", r.evaluations, " evaluations, ",
          r.duration, " samples");
  CHECK(r.energy - exact < 1.6e-3);
  CHECK(r.energy - exact > -1e-9);  // variational
  CHECK(r.duration == 160 + 256 + 160);
}

TEST_CASE("every optimiser minimises a bounded quadratic, records its trace and respects the bounds") {
  // f(x) = Σ (x_i − c_i)², c_1 outside the box: the minimum sits on the bound.
  const std::vector<double> c = {0.3, 1.5, -0.2};
  const p::objective f = [&](const std::vector<double>& x, std::vector<double>* g) {
    double v = 0;
    if (g != nullptr) g->assign(x.size(), 0.0);
    for (std::size_t i = 0; i < x.size(); ++i) {
      v += (x[i] - c[i]) * (x[i] - c[i]);
      if (g != nullptr) (*g)[i] = 2 * (x[i] - c[i]);
    }
    return v;
  };
  const std::vector<double> lo = {-1, -1, -1}, hi = {1, 1, 1};
  for (p::method m : {p::method::cobyla, p::method::nelder_mead, p::method::bobyqa, p::method::lbfgs, p::method::spsa,
                      p::method::adam}) {
    const std::string name = p::to_string(m);
    CAPTURE(name);
    CHECK(p::parse_method(name) == m);
    if (!p::available(m)) {
      CHECK_THROWS_WITH_AS(p::minimize(f, {0, 0, 0}, lo, hi, {.algorithm = m}), doctest::Contains("NLopt"),
                           frugal::invalid_argument);
      continue;
    }
    const auto r = p::minimize(f, {0, 0, 0}, lo, hi, {.algorithm = m, .max_evaluations = 600});
    CHECK(r.evaluations <= 600);
    CHECK(r.trace.size() == static_cast<std::size_t>(r.evaluations));
    CHECK(std::is_sorted(r.trace.rbegin(), r.trace.rend()));                              // best so far never rises
    CHECK(r.value == doctest::Approx(0.25).epsilon(m == p::method::spsa ? 2e-2 : 1e-4));  // (1 − 1.5)²
    for (std::size_t i = 0; i < 3; ++i) CHECK((r.x[i] >= lo[i] && r.x[i] <= hi[i]));
  }
  CHECK_THROWS_AS((void)p::parse_method("newton"), frugal::invalid_argument);
  CHECK_THROWS_AS(p::minimize(f, {0, 0}, lo, hi), frugal::invalid_argument);
  if (p::available(p::method::lbfgs)) {
    // A gradient pointing uphill defeats L-BFGS's line search: NLopt reports a failure, and the
    // best point evaluated comes back with the reason instead of an exception that loses the run.
    const p::objective uphill = [&](const std::vector<double>& x, std::vector<double>* g) {
      const double v = f(x, g);
      if (g != nullptr)
        for (auto& gi : *g) gi = -gi;
      return v;
    };
    const auto r = p::minimize(uphill, {0, 0, 0}, lo, hi, {.algorithm = p::method::lbfgs, .max_evaluations = 200});
    CHECK(r.stop == p::stop_reason::solver_failure);
    CHECK(r.solver_code < 0);
    REQUIRE(r.evaluations > 0);
    CHECK(r.value == *std::min_element(r.trace.begin(), r.trace.end()));
    CHECK(f(r.x, nullptr) == r.value);
    CHECK(std::string(p::to_string(r.stop)).find("failure") != std::string::npos);
    // The well-posed problem ends on a tolerance or the budget, never on a failure.
    const auto ok = p::minimize(f, {0, 0, 0}, lo, hi, {.algorithm = p::method::lbfgs, .max_evaluations = 200});
    CHECK(ok.stop != p::stop_reason::solver_failure);
    // An exception of the objective reaches the caller through NLopt's C frames intact, for the
    // derivative-free and the gradient methods alike.
    int calls = 0;
    const p::objective throws_late = [&](const std::vector<double>& x, std::vector<double>* g) {
      if (++calls == 2) throw frugal::error("objective failed at call 2");
      return f(x, g);
    };
    for (p::method m : {p::method::nelder_mead, p::method::lbfgs}) {
      calls = 0;
      CHECK_THROWS_WITH_AS(p::minimize(throws_late, {0, 0, 0}, lo, hi, {.algorithm = m}), doctest::Contains("call 2"),
                           frugal::error);
    }
    const p::objective short_gradient = [&](const std::vector<double>& x, std::vector<double>* g) {
      const double v = f(x, g);
      if (g != nullptr) g->pop_back();
      return v;
    };
    CHECK_THROWS_WITH_AS(p::minimize(short_gradient, {0, 0, 0}, lo, hi, {.algorithm = p::method::lbfgs}),
                         doctest::Contains("gradient of 2 entries"), frugal::invalid_argument);
  }
  CHECK_THROWS_AS(p::minimize(f, {0, 0, 0}, hi, lo), frugal::invalid_argument);
}

TEST_CASE("evolve_many equals one-by-one evolution on every host space") {
  const auto dev = p::default_device(1, 3);
  const p::simulator sim(dev);
  std::vector<p::schedule> ss;
  for (int i = 0; i < 7; ++i) ss.push_back(p::schedule(dev).play("d0", 0, p::drag(96, 0.05 * i, 24, 0.3)));
  const auto serial = p::evolve_many(sim, ss, sim.ground_state(), Kokkos::Serial());
  const auto host = p::evolve_many(sim, ss, sim.ground_state(), Kokkos::DefaultHostExecutionSpace());
  for (std::size_t i = 0; i < ss.size(); ++i) {
    CHECK((serial[i] - sim.evolve(ss[i], sim.ground_state())).norm() == 0);
    CHECK((host[i] - serial[i]).norm() == 0);
  }
}

TEST_CASE("the built-in device is manila's chain as its configuration file has it; sub_device keeps a pair") {
  const auto chain = p::default_device(5, 2);
  CHECK_NOTHROW(chain.validate());
  CHECK(chain.couplings.size() == 4);
  CHECK(chain.channels.size() == 13);
  CHECK_THROWS_AS((void)p::default_device(6, 2), frugal::invalid_argument);
  // The first two transmons as before the chain was added (the H2 runs' device).
  const auto two = p::default_device(2, 3);
  REQUIRE(two.channels.size() == 4);
  CHECK(two.channels[2].name == "u0");
  CHECK(two.channels[2].transmon == 0);
  CHECK(two.channels[2].frame_transmon == 1);
  CHECK(two.channels[2].strength == doctest::Approx(0.8125407307858323));

  const auto dir = frugal::test::shared_data_dir();
  if (!dir.empty()) {
    const auto file = p::read_backend_configuration(dir / "calibrations/conf_manila.json", {}, 2);
    REQUIRE(file.transmons.size() == 5);
    for (std::size_t i = 0; i < 5; ++i) {
      CHECK(chain.transmons[i].frequency == doctest::Approx(file.transmons[i].frequency).epsilon(1e-12));
      CHECK(chain.transmons[i].anharmonicity == doctest::Approx(file.transmons[i].anharmonicity).epsilon(1e-12));
    }
    for (const auto& c : file.couplings) {
      bool found = false;
      for (const auto& d : chain.couplings)
        if (std::min(c.i, c.j) == std::min(d.i, d.j) && std::max(c.i, c.j) == std::max(d.i, d.j)) {
          found = true;
          CHECK(d.strength == doctest::Approx(c.strength).epsilon(1e-12));
        }
      CHECK(found);
    }
    for (const auto& c : file.channels) {
      const auto& d = chain.channels[static_cast<std::size_t>(chain.channel_index(c.name))];
      CHECK(d.transmon == c.transmon);
      CHECK(d.frame_transmon == c.frame_transmon);
      CHECK(d.strength == doctest::Approx(c.strength).epsilon(1e-12));
      CHECK(d.frequency == doctest::Approx(c.frequency).epsilon(1e-12));
    }
    auto props = p::default_device(5, 2, true);
    auto from_file = file;
    p::set_decoherence(from_file, q::read_backend_properties(dir / "calibrations/props_manila.json"), {0, 1, 2, 3, 4});
    for (std::size_t i = 0; i < 5; ++i) {
      CHECK(props.transmons[i].t1_ns == doctest::Approx(from_file.transmons[i].t1_ns));
      CHECK(props.transmons[i].t2_ns == doctest::Approx(from_file.transmons[i].t2_ns));
    }
  }

  const auto pair = p::sub_device(p::default_device(3, 3), {2, 1});
  REQUIRE(pair.transmons.size() == 2);
  CHECK(pair.transmons[0].frequency == doctest::Approx(chain.transmons[2].frequency));
  REQUIRE(pair.couplings.size() == 1);
  CHECK(pair.couplings[0].strength == doctest::Approx(chain.couplings[1].strength));
  REQUIRE(pair.channels.size() == 4);  // d1, d2, u2, u3
  CHECK(pair.channels[static_cast<std::size_t>(pair.channel_index("u2"))].transmon == 1);
  CHECK(pair.channels[static_cast<std::size_t>(pair.channel_index("u2"))].frame_transmon == 0);
  CHECK(pair.cross_resonance_channel(0, 1) == pair.channel_index("u3"));
  CHECK_THROWS_AS((void)p::sub_device(chain, {1, 1}), frugal::invalid_argument);
  CHECK_THROWS_AS((void)p::sub_device(chain, {0, 7}), frugal::invalid_argument);
}

namespace pulse_test {

inline int cut_size(const std::vector<std::pair<int, int>>& edges, std::size_t bits) {
  int c = 0;
  for (const auto& [a, e] : edges) c += static_cast<int>(((bits >> a) & 1) != ((bits >> e) & 1));
  return c;
}

// The ideal QAOA state on n qubits: |+>^n, then per layer exp(-i gamma C) with C = -cut and
// exp(-i beta X) on every qubit.
inline cvector ideal_qaoa_state(int n, const std::vector<std::pair<int, int>>& edges, const std::vector<double>& x) {
  const std::size_t dim = std::size_t{1} << n;
  const std::complex<double> i1(0, 1);
  auto cut = [&](std::size_t b) { return cut_size(edges, b); };
  cvector psi = cvector::Constant(static_cast<frugal::index_t>(dim), 1.0 / std::sqrt(static_cast<double>(dim)));
  for (std::size_t l = 0; 2 * l < x.size(); ++l) {
    for (std::size_t b = 0; b < dim; ++b)
      psi(static_cast<frugal::index_t>(b)) *= std::exp(i1 * x[2 * l] * double(cut(b)));
    const std::complex<double> c = std::cos(x[2 * l + 1]), sn = -i1 * std::sin(x[2 * l + 1]);
    for (int qb = 0; qb < n; ++qb)
      for (std::size_t b = 0; b < dim; ++b)
        if (((b >> qb) & 1) == 0) {
          const auto lo = static_cast<frugal::index_t>(b),
                     hi = static_cast<frugal::index_t>(b | (std::size_t{1} << qb));
          const std::complex<double> a0 = psi(lo), a1 = psi(hi);
          psi(lo) = c * a0 + sn * a1;
          psi(hi) = sn * a0 + c * a1;
        }
  }
  return psi;
}

inline double expected_cut(const std::vector<std::pair<int, int>>& edges, const cvector& psi) {
  double e = 0;
  for (frugal::index_t b = 0; b < psi.size(); ++b)
    e += std::norm(psi(b)) * cut_size(edges, static_cast<std::size_t>(b));
  return e;
}

inline cmatrix cnot_matrix(int n, int control, int target) {
  const int dim = 1 << n;
  cmatrix m = cmatrix::Zero(dim, dim);
  for (int b = 0; b < dim; ++b) m(((b >> control) & 1) ? b ^ (1 << target) : b, b) = 1;
  return m;
}

}  // namespace pulse_test

TEST_CASE("compiled QAOA: parameters, routing and duration on a three-transmon chain") {
  // A table with the structure of a calibrated one (the gates' quality is the next case's).
  const auto dev = p::default_device(3, 2);
  p::gate_table t;
  for (int qb = 0; qb < 3; ++qb) {
    t.x.push_back({p::drag(160, 0.17, 40, 0.0), 1.0, 0.0});
    t.sx.push_back({p::drag(160, 0.085, 40, 0.0), 1.0, 0.0});
  }
  for (const auto& [c, tg] : std::vector<std::pair<int, int>>{{0, 1}, {2, 1}}) {
    p::calibrated_cx g;
    g.control = c;
    g.target = tg;
    g.cr = p::gaussian_square(448, 0.5, 64, 448 - 256);
    t.cx.push_back(g);
  }
  const auto a = p::qaoa_ansatz(dev, t, {{0, 1}, {1, 2}, {0, 2}}, 2, {0.1, 0.2, 0.3, 0.4});
  REQUIRE(a.parameters().size() == 4);
  CHECK(a.parameters()[0].name == "gamma1");
  CHECK(a.parameters()[3].name == "beta2");
  CHECK(a.parameters()[0].targets.size() == 3);  // one virtual Z per edge
  CHECK(a.parameters()[1].targets.size() == 3);  // one RY per transmon
  // |+> layer 2 SX; per layer ten CNOTs of 1216 samples (448 + 160 + 448 + 160), four of them
  // against the calibrated direction (two Hadamard layers of one SX each), and the mixer's 2 SX.
  CHECK(a.bind({0.1, 0.2, 0.3, 0.4}).duration() == 320 + 2 * (10 * 1216 + 4 * 320 + 320));
  const p::simulator sim(dev);
  const auto probs = p::bitstring_probabilities(dev, sim.evolve(a.bind({0.1, 0.2, 0.3, 0.4}), sim.ground_state()));
  double total = 0;
  for (const double v : probs) total += v;
  CHECK(total == doctest::Approx(1.0).epsilon(1e-9));
  CHECK_THROWS_AS((void)p::qaoa_ansatz(p::default_device(4, 2), t, {{0, 3}}, 1), frugal::invalid_argument);
  CHECK_THROWS_AS((void)p::qaoa_ansatz(dev, t, {{0, 0}}, 1), frugal::invalid_argument);
  CHECK_THROWS_AS((void)p::qaoa_ansatz(dev, t, {{0, 1}}, 1, {0.1}), frugal::invalid_argument);
  CHECK_THROWS_AS((void)t.find_pair(0, 2), frugal::invalid_argument);
}

// Calibrates two CNOTs (seconds; minutes under the sanitizers, which the case above covers).
TEST_CASE("CNOTs in both directions and compiled QAOA on a calibrated three-transmon chain match the ideal gates" *
          doctest::test_suite("quality")) {
  // Two levels keep the calibration short; the gates' logic does not depend on the third level.
  const auto dev = p::default_device(3, 2);
  p::calibration_options co;
  co.cr_durations = {640};
  co.max_evaluations = 150;
  const auto table = p::calibrate(dev, co);
  REQUIRE(table.cx.size() == 2);
  // The higher-frequency transmon of each pair controls (manila: 0 over 1, 2 over 1).
  CHECK(table.find_pair(0, 1).control == 0);
  CHECK(table.find_pair(1, 2).control == 2);
  for (const auto& g : table.cx) {
    MESSAGE("CNOT(", g.control, ",", g.target, "): fidelity ", g.fidelity);
    CHECK(g.fidelity > 0.99);
  }
  const p::simulator sim(dev);
  for (const auto& [c, t] : std::vector<std::pair<int, int>>{{0, 1}, {1, 0}, {2, 1}, {1, 2}}) {
    p::schedule s(dev);
    p::play_cnot(s, dev, table, c, t, 0);
    const double f = p::average_gate_fidelity(sim.subspace_operator(s), cnot_matrix(3, c, t));
    MESSAGE("CNOT(", c, ",", t, ") on the chain, spectator present: fidelity ", f);
    CHECK(f > 0.97);
  }

  // QAOA: an edge on a coupled pair, the triangle (edge (0, 2) routed through 1), two layers.
  const std::vector<std::pair<int, int>> triangle = {{0, 1}, {1, 2}, {0, 2}};
  const auto h = q::maxcut_hamiltonian(3, triangle);
  const p::energy_objective energy(sim, h);
  for (const auto& x : std::vector<std::vector<double>>{{0.7, 0.35}, {-1.1, 0.6}}) {
    const auto a = p::qaoa_ansatz(dev, table, triangle, static_cast<int>(x.size() / 2));
    REQUIRE(a.parameters().size() == x.size());
    const cvector psi = sim.evolve(a.bind(x), sim.ground_state());  // two levels: the qubit register
    const double pulse_cut = -energy.energy(a.bind(x));
    const cvector ideal = ideal_qaoa_state(3, triangle, x);
    const double fidelity = std::norm(ideal.dot(psi));
    MESSAGE("QAOA triangle at x = (", x[0], ", ", x[1], ", ...): state fidelity ", fidelity, "; expected cut ",
            pulse_cut, " against ", expected_cut(triangle, ideal));
    // Ten CNOTs (six for the routed edge, two against their calibrated direction) leave ~12 %
    // infidelity, mostly coherent phase error; a wrong sign, route or frame leaves far less overlap.
    CHECK(fidelity > 0.8);
    // The expected cuts differ by at most 2 ||C - 1|| D = 2 sqrt(1 - F) (trace distance D of pure states).
    CHECK(std::abs(pulse_cut - expected_cut(triangle, ideal)) <= 2 * std::sqrt(1 - fidelity) + 1e-9);
    // The bit-string probabilities give the same expected cut (two levels: nothing leaks).
    const auto probs = p::bitstring_probabilities(dev, psi);
    double total = 0, from_probs = 0;
    for (std::size_t b = 0; b < probs.size(); ++b) {
      total += probs[b];
      int c = 0;
      for (const auto& [i, j] : triangle) c += static_cast<int>(((b >> i) & 1) != ((b >> j) & 1));
      from_probs += probs[b] * c;
    }
    CHECK(total == doctest::Approx(1.0).epsilon(1e-9));
    CHECK(from_probs == doctest::Approx(pulse_cut).epsilon(1e-9));
  }
  // One coupled edge, one and two layers (two and four CNOTs).
  const std::vector<std::pair<int, int>> edge = {{1, 2}};
  for (const auto& x : std::vector<std::vector<double>>{{0.8, 0.4}, {0.4, -0.3, 0.9, 0.2}}) {
    const auto a = p::qaoa_ansatz(dev, table, edge, static_cast<int>(x.size() / 2));
    const cvector ideal = ideal_qaoa_state(3, edge, x), psi = sim.evolve(a.bind(x), sim.ground_state());
    const double fidelity = std::norm(ideal.dot(psi));
    MESSAGE("QAOA edge (1, 2), ", x.size() / 2, " layers: state fidelity ", fidelity);
    CHECK(fidelity > 0.95);
    const double cut = -p::energy_objective(sim, q::maxcut_hamiltonian(3, edge)).energy(a.bind(x));
    CHECK(std::abs(cut - expected_cut(edge, ideal)) <= 2 * std::sqrt(1 - fidelity) + 1e-9);
  }
}

#if defined(FRUGAL_HAVE_ODEINT)
TEST_CASE("the fixed-step evolution converges at second order to Odeint's adaptive integration") {
  // A resonant pulse on one transmon: no phase turns within a sample, so one step per sample is
  // already exact and the two agree to the integrator's tolerance.
  {
    const auto dev = p::default_device(1, 3);
    const p::simulator sim(dev);
    const p::schedule s = p::schedule(dev).play("d0", 0, p::drag(160, 0.17, 40, -1.0, 0.3));
    p::adaptive_stats stats;
    const cvector a = p::evolve_adaptive(sim, s, sim.ground_state(), {.abs_tol = 1e-12, .rel_tol = 1e-12}, &stats);
    CHECK((a - sim.evolve(s, sim.ground_state())).norm() < 1e-8);
    CHECK(stats.steps >= 160);
  }
  // Two coupled transmons with a cross-resonance pulse, a detuned drive and virtual Zs: the frame
  // and carrier phases turn within each sample, which the fixed steps hold at their midpoints.
  const auto dev = p::default_device(2, 3);
  p::schedule s(dev);
  s.play("d0", 0, p::drag(160, 0.17, 40, -1.0, 0.2))
      .virtual_z(1, 0, 0.7)
      .play("u0", 160, p::gaussian_square(448, 0.8, 64, 192, 0.4))
      .play("d1", 160, [] {
        auto w = p::gaussian(160, 0.1, 40);
        w.detuning = 0.03;
        return w;
      }());
  const p::simulator ref_sim(dev);
  const cvector ref = p::evolve_adaptive(ref_sim, s, ref_sim.ground_state(), {.abs_tol = 1e-12, .rel_tol = 1e-12});
  CHECK(std::abs(ref.norm() - 1) < 1e-9);
  std::vector<double> errors;
  for (const int steps : {2, 4, 8, 16}) {
    const p::simulator sim(dev, {.substeps = steps});
    errors.push_back((sim.evolve(s, sim.ground_state()) - ref).norm());
    MESSAGE(steps, " steps per sample: distance to the adaptive solution ", errors.back());
  }
  for (std::size_t i = 0; i + 1 < errors.size(); ++i) {
    CHECK(errors[i] / errors[i + 1] > 3.5);  // halving the step divides the error by ~4
    CHECK(errors[i] / errors[i + 1] < 4.5);
  }
  // The default step (phases turn at most 0.05 rad per step: 4 steps per sample on this CR line)
  // is the fixed-step model's own accuracy against the continuous one.
  CHECK(ref_sim.substeps(s) == 4);
  const cvector fixed = ref_sim.evolve(s, ref_sim.ground_state());
  CHECK((fixed - ref).norm() == doctest::Approx(errors[1]).epsilon(1e-9));
  double population_gap = 0;
  for (frugal::index_t i = 0; i < fixed.size(); ++i)
    population_gap = std::max(population_gap, std::abs(std::norm(fixed(i)) - std::norm(ref(i))));
  MESSAGE("default step: populations within ", population_gap, " of the adaptive solution");
  CHECK(population_gap < 1e-3);
  CHECK_THROWS_AS((void)p::evolve_adaptive(ref_sim, s, cvector::Zero(3)), frugal::invalid_argument);
  CHECK_THROWS_AS((void)ref_sim.hamiltonian(s, -1.0), frugal::invalid_argument);
}
#endif
