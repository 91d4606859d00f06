// The pulse level against independent truth: QuTiP's populations for three schedules (stored by
// scripts/pulse_reference.py), analytic Rabi and decay laws, central finite differences for the
// pulse gradients, and a brute-force eigenvalue for VQE.
#include "quantum_support.hpp"

#include <frugal/quantum/backend_properties.hpp>
#include <frugal/quantum/molecules.hpp>
#include <frugal/quantum/pulse.hpp>
#include <frugal/quantum/pulse/configuration.hpp>
#include <nlohmann/json.hpp>

#include <fstream>
#include <numbers>

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
