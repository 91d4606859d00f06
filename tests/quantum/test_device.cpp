// Calibrations (Qiskit BackendProperties JSON, hand-made malformed files), noise models, noisy
// simulation and the stand-in device.
#include <doctest/doctest.h>

#include <fstream>
#include <numbers>

#include <frugal/quantum.hpp>
#include <frugal/quantum/backend_properties.hpp>

#include "quantum_support.hpp"
#include "test_support.hpp"

namespace q = frugal::quantum;
using frugal::index_t;
using q::cmatrix;

namespace {

std::string props(const std::string& qubit0_extra = "", const std::string& gates = "", const std::string& t1 = "88.5",
                  const std::string& t1_unit = "us") {
  return R"({"backend_name": "toy", "qubits": [[{"name": "T1", "unit": ")" + t1_unit + R"(", "value": )" + t1 +
         R"(}, {"name": "T2", "unit": "us", "value": 70.0}, {"name": "prob_meas1_prep0", "unit": "", "value": 0.02},
           {"name": "prob_meas0_prep1", "unit": "", "value": 0.05}, {"name": "readout_length", "unit": "ns", "value": 5000})" +
         qubit0_extra + R"(],
          [{"name": "T1", "unit": "us", "value": 100.0}, {"name": "T2", "unit": "us", "value": 250.0},
           {"name": "readout_error", "unit": "", "value": 0.03}]],
    "gates": [{"gate": "sx", "qubits": [0], "parameters": [{"name": "gate_error", "value": 0.0004}, {"name": "gate_length", "unit": "ns", "value": 35.5}]},
              {"gate": "sx", "qubits": [1], "parameters": [{"name": "gate_error", "value": 0.0003}, {"name": "gate_length", "unit": "ns", "value": 35.5}]},
              {"gate": "cx", "qubits": [0, 1], "parameters": [{"name": "gate_error", "value": 0.012}, {"name": "gate_length", "unit": "ns", "value": 420}]})" +
         gates + R"(],
    "general": [{"name": "zz_01", "unit": "GHz", "value": -6e-05}, {"name": "jq_01", "unit": "GHz", "value": 0.002}]})";
}

}  // namespace

TEST_CASE("BackendProperties JSON: a hand-made file parses with units converted") {
  const auto cal = q::parse_backend_properties(props());
  CHECK(cal.name == "toy");
  REQUIRE(cal.num_qubits() == 2);
  CHECK(cal.qubits[0].t1_ns == doctest::Approx(88500));
  CHECK(cal.qubits[0].t2_ns == doctest::Approx(70000));
  CHECK(cal.qubits[0].p1_given_0 == doctest::Approx(0.02));
  CHECK(cal.qubits[0].p0_given_1 == doctest::Approx(0.05));
  CHECK(cal.qubits[1].p1_given_0 == doctest::Approx(0.03));  // symmetric readout_error fallback
  CHECK(cal.qubits[1].t2_ns == doctest::Approx(250000));     // kept as reported (> 2 T1)
  REQUIRE(cal.find("cx", {0, 1}) != nullptr);
  CHECK(cal.find("cx", {0, 1})->length_ns == doctest::Approx(420));
  CHECK(cal.find_two_qubit(1, 0) == cal.find("cx", {0, 1}));
  CHECK(cal.coupling_map() == std::vector<std::pair<int, int>>{{0, 1}});
  CHECK(cal.zz_ghz.at({0, 1}) == doctest::Approx(-6e-5));
  CHECK(q::parse_backend_properties(props("", "", "0.0885", "ms")).qubits[0].t1_ns == doctest::Approx(88500));
}

TEST_CASE("BackendProperties JSON: malformed files are refused with clear errors") {
  // Syntax error: format_error with the byte offset.
  try {
    (void)q::parse_backend_properties(R"({"qubits": [[{"name": "T1", "value": 1,}]]})", "bad.json");
    FAIL("no exception");
  } catch (const frugal::format_error& e) {
    CHECK(std::string(e.what()).starts_with(
        "frugal::quantum::parse_backend_properties: bad.json: malformed JSON at byte "));
    CHECK(e.file() == "bad.json");
    CHECK(e.offset() > 20);
  }
  CHECK_THROWS_AS((void)q::parse_backend_properties(""), frugal::format_error);
  CHECK_THROWS_AS((void)q::parse_backend_properties("[1, 2]"), frugal::format_error);
  CHECK_THROWS_AS((void)q::parse_backend_properties(R"({"gates": []})"), frugal::format_error);
  CHECK_THROWS_WITH_AS((void)q::parse_backend_properties(R"({"qubits": [[{"name": "T1", "unit": "us", "value": 5}]]})"),
                       doctest::Contains("lacks T1 or T2"), frugal::format_error);
  CHECK_THROWS_WITH_AS((void)q::parse_backend_properties(props("", "", "88", "fortnights")),
                       doctest::Contains("unknown time unit"), frugal::format_error);
  CHECK_THROWS_AS((void)q::parse_backend_properties(props("", "", "\"eighty\"")), frugal::format_error);
  CHECK_THROWS_WITH_AS((void)q::parse_backend_properties(props("", "", "-3")), doctest::Contains("not positive"),
                       frugal::invalid_argument);
  CHECK_THROWS_WITH_AS(
      (void)q::parse_backend_properties(props(R"(, {"name": "prob_meas1_prep0", "unit": "", "value": 1.5})")),
      doctest::Contains("outside [0, 1]"), frugal::invalid_argument);
  CHECK_THROWS_WITH_AS(
      (void)q::parse_backend_properties(
          props("", R"(, {"gate": "cx", "qubits": [1, 7], "parameters": [{"name": "gate_error", "value": 0.01}]})")),
      doctest::Contains("qubit 7"), frugal::invalid_argument);
  CHECK_THROWS_AS(
      (void)q::parse_backend_properties(
          props("", R"(, {"gate": "cx", "qubits": [1, 1], "parameters": [{"name": "gate_error", "value": 0.01}]})")),
      frugal::invalid_argument);
  CHECK_THROWS_AS((void)q::parse_backend_properties(props(
                      "", R"(, {"gate": "sx", "qubits": [0], "parameters": [{"name": "gate_error", "value": 2}]})")),
                  frugal::invalid_argument);
  CHECK_THROWS_AS((void)q::parse_backend_properties(props("", R"(, {"gate": "sx", "qubits": "zero"})")),
                  frugal::format_error);
  CHECK_THROWS_WITH_AS((void)q::read_backend_properties("/nonexistent/props.json"),
                       "frugal::quantum::read_backend_properties: cannot open /nonexistent/props.json",
                       frugal::io_error);
  CHECK_THROWS_WITH_AS(
      (void)q::parse_backend_properties(props("", "", "88", "fortnights"), "toy.json"),
      "frugal::quantum::parse_backend_properties: toy.json: qubit 0 T1: unknown time unit 'fortnights'",
      frugal::format_error);
  CHECK_THROWS_WITH_AS((void)q::parse_backend_properties(props("", "", "-3"), "toy.json"),
                       doctest::Contains("frugal::quantum::parse_backend_properties: toy.json: "),
                       frugal::invalid_argument);
  for (const char* name : {"zz_0x", "zz_0_", "zz_1_2_3", "zz_"}) {
    CAPTURE(name);
    std::string text = props();
    text.replace(text.find("zz_01"), 5, name);
    CHECK_THROWS_WITH_AS(
        (void)q::parse_backend_properties(text, "toy.json"),
        ("frugal::quantum::parse_backend_properties: toy.json: malformed coupling name '" + std::string(name) + "'")
            .c_str(),
        frugal::format_error);
  }
  {
    std::string text = props();
    text.replace(text.find("zz_01"), 5, "zz_0_9");
    CHECK_THROWS_WITH_AS((void)q::parse_backend_properties(text, "toy.json"),
                         doctest::Contains("toy.json: coupling 'zz_0_9' names qubits outside the 2-qubit device"),
                         frugal::invalid_argument);
  }
  // A file: the reading function and the file's path start every message.
  const auto dir = frugal::test::scratch_dir("backend_properties");
  const auto bad = dir / "broken_props.json";
  std::ofstream(bad) << R"({"backend_name": "toy", "qubits": [[{"name": "T1", "value": 1,}]]})";
  try {
    (void)q::read_backend_properties(bad);
    FAIL("no exception");
  } catch (const frugal::format_error& e) {
    CHECK(std::string(e.what()).starts_with("frugal::quantum::read_backend_properties: " + bad.string() +
                                            ": malformed JSON at byte "));
    CHECK(e.file() == bad.string());
  }
  std::ofstream(bad) << R"({"backend_name": "toy", "gates": []})";
  CHECK_THROWS_WITH_AS((void)q::read_backend_properties(bad),
                       ("frugal::quantum::read_backend_properties: " + bad.string() + ": no 'qubits' array").c_str(),
                       frugal::format_error);
  // Truncations of a valid file never parse as something else silently.
  const std::string full = props();
  for (std::size_t cut = 0; cut < full.size(); cut += 7)
    CHECK_THROWS_AS((void)q::parse_backend_properties(full.substr(0, cut)), frugal::error);
}

TEST_CASE("the sample calibrations in ../shared/data parse") {
  const auto dir = frugal::test::shared_data_dir();
  if (dir.empty()) {
    MESSAGE("../shared/data absent: skipped");
    return;
  }
  for (const char* name : {"props_belem.json", "props_manila.json", "props_nairobi.json"}) {
    CAPTURE(name);
    const auto cal = q::read_backend_properties(dir / "calibrations" / name);
    CHECK(cal.num_qubits() >= 5);
    CHECK(!cal.coupling_map().empty());
    for (const auto& qc : cal.qubits) {
      CHECK(qc.t1_ns > 1000);  // microseconds converted
      CHECK(qc.p0_given_1 > 0);
    }
    CHECK(!cal.zz_ghz.empty());
    q::noise_model model(cal);  // builds (T2 > 2 T1 entries are clamped)
    CHECK(model.readout_errors().size() == cal.qubits.size());
  }
}

TEST_CASE("noise model: gate error reproduced, T2 clamped, simulation stays physical") {
  const auto cal = q::calibrations::falcon_line(3);
  q::noise_model model(cal);
  // The composed noise of a one-qubit gate has exactly the calibrated average gate error.
  q::operation sx{q::gate_kind::sx, 1, -1, {}, {}};
  const auto g = model.gate(sx);
  const auto relax = model.relaxation(1, g.length_ns);
  const double lambda = q::noise_model::depolarizing_parameter(g.error, q::process_fidelity(relax), 1);
  const auto total = relax.followed_by(q::channels::depolarizing(lambda));
  CHECK(1 - q::average_gate_fidelity(total) == doctest::Approx(g.error).epsilon(1e-9));
  // Depolarizing fidelity formula: infidelity lambda (d - 1)/d.
  CHECK(1 - q::average_gate_fidelity(q::channels::depolarizing(0.3, 2)) == doctest::Approx(0.3 * 3 / 4));
  // Two-qubit: relaxation of both qubits then depolarizing reproduce the CX error.
  q::operation cx{q::gate_kind::cx, 0, 1, {}, {}};
  const auto g2 = model.gate(cx);
  const auto r0 = model.relaxation(0, g2.length_ns), r1 = model.relaxation(1, g2.length_ns);
  const cmatrix s2 = q::kron(r1.superoperator(), r0.superoperator());
  // The superoperator of r0 ⊗ r1 in the two-qubit vectorization: compare through the fidelity only.
  const double fr = q::process_fidelity(r0) * q::process_fidelity(r1);
  CHECK(s2.trace().real() / 16 == doctest::Approx(fr));
  const double l2 = q::noise_model::depolarizing_parameter(g2.error, fr, 2);
  const double f_total = (1 - l2) * fr + l2 / 16;
  CHECK(1 - (4 * f_total + 1) / 5 == doctest::Approx(g2.error).epsilon(1e-9));
  // Virtual gates are free; uncoupled pairs are refused.
  CHECK(model.gate({q::gate_kind::rz, 0, -1, {}, {}}).error == 0);
  CHECK_THROWS_WITH_AS((void)model.gate({q::gate_kind::cx, 0, 2, {}, {}}), doctest::Contains("not coupled"),
                       frugal::invalid_argument);
  // T2 > 2 T1 in the calibration is clamped, not refused, by the model.
  auto odd = cal;
  odd.qubits[0].t2_ns = 3 * odd.qubits[0].t1_ns;
  CHECK_NOTHROW((void)q::noise_model(odd).relaxation(0, 100));
  // Noisy GHZ stays physical and loses fidelity.
  q::circuit ghz(3);
  ghz.h(0).cx(0, 1).cx(1, 2);
  const auto rho = q::simulate(ghz, {}, &model).to_host();
  frugal::test::require_physical(rho, 1e-10);
  q::cvector target = q::cvector::Zero(8);
  target[0] = target[7] = 1 / std::sqrt(2.0);
  const double f = q::fidelity(rho, target);
  CHECK(f < 0.999);
  CHECK(f > 0.9);
  CHECK(q::fidelity(q::simulate(ghz, {}).to_host(), target) == doctest::Approx(1).epsilon(1e-12));
}

TEST_CASE("stand-in device: counts, readout, hidden coherent errors") {
  static_assert(q::Device<q::simulated_device>);
  const auto cal = q::calibrations::falcon_line(2);
  q::circuit c(2);
  c.ry(0, q::angle::parameter(0)).cx(0, 1);
  const std::vector<double> theta = {1.1};
  // Without hidden errors the device state is the calibrated model's.
  q::simulated_device plain(cal, {{}, 0.0}, 7);
  q::noise_model model(cal);
  CHECK((plain.density(c, theta).to_host() - q::simulate(c, theta, &model).to_host()).cwiseAbs().maxCoeff() < 1e-12);
  // Counts: sum to shots, within 4 sigma of the readout-confused probabilities, seeded.
  const auto p = plain.probabilities(c, theta);
  const auto counts = plain.run(c, theta, 100000);
  std::int64_t total = 0;
  for (std::size_t i = 0; i < p.size(); ++i) {
    total += counts[i];
    CHECK(std::abs(counts[i] - 1e5 * p[i]) <= 4 * std::sqrt(1e5 * p[i] * (1 - p[i])) + 1);
  }
  CHECK(total == 100000);
  q::simulated_device again(cal, {}, 7);
  CHECK(again.run(c, theta, 1000) == q::simulated_device(cal, {}, 7).run(c, theta, 1000));
  // Readout confusion is applied: |00> prepared, P(01) = P(1|0) of qubit 0 times (1 - P(1|0)) of qubit 1.
  q::circuit idle(2);
  const auto pi = plain.probabilities(idle, {});
  CHECK(pi[1] == doctest::Approx(cal.qubits[0].p1_given_0 * (1 - cal.qubits[1].p1_given_0)));
  // Hidden coherent errors change the state; the calibrated model cannot see them.
  q::simulated_device biased(cal, {{0.05, -0.04}, 1.0}, 7);
  const double d = (biased.density(c, theta).to_host() - plain.density(c, theta).to_host()).cwiseAbs().maxCoeff();
  CHECK(d > 1e-3);
  frugal::test::require_physical(biased.density(c, theta).to_host(), 1e-10);
  CHECK_THROWS_AS(q::simulated_device(cal, {{0.1}, 1.0}), frugal::invalid_argument);
  CHECK_THROWS_AS(q::simulated_device(cal, {{0.1, 1.5}, 1.0}), frugal::invalid_argument);
  CHECK_THROWS_AS((void)plain.run(c, theta, 0), frugal::invalid_argument);
  CHECK_THROWS_AS((void)plain.density(q::circuit(3), {}), frugal::invalid_argument);
}

TEST_CASE("stand-in device: always-on ZZ follows the ASAP schedule; the old model only acts during two-qubit gates") {
  // Stochastic noise off (no gate error, T1 = T2 = 10^18 ns), no over-rotation: the device state is
  // the circuit's with RZZ phases where the schedule puts them, which a noiseless circuit spells out.
  auto cal = q::calibrations::falcon_line(3);
  for (auto& g : cal.gates) g.error = 0;
  for (auto& qb : cal.qubits) qb.t1_ns = qb.t2_ns = 1e18;
  cal.zz_ghz = {{{0, 1}, -5e-5}, {{1, 2}, -8e-5}};
  const double pi = std::numbers::pi, t1q = cal.find("sx", {0})->length_ns, t2q = cal.find_two_qubit(0, 1)->length_ns;
  q::circuit c(3);
  c.h(0).h(1).h(2).cx(0, 1).sx(2).rz(1, 0.3);
  // Moments: {H, H, H} (t1q), {CX(0,1), SX(2)} (t2q; pair (0,1) inside its own gate), {RZ} (virtual).
  q::circuit expected(3);
  expected.h(0).h(1).h(2).rzz(0, 1, 2 * pi * -5e-5 * t1q).rzz(1, 2, 2 * pi * -8e-5 * t1q);
  expected.cx(0, 1).sx(2).rzz(1, 2, 2 * pi * -8e-5 * t2q).rz(1, 0.3);
  const q::simulated_device always(cal, {{0, 0, 0}, 1.0, q::zz_coupling::always_on});
  CHECK((always.density(c, {}).to_host() - q::simulate(expected, {}).to_host()).cwiseAbs().maxCoeff() < 1e-12);
  // zz_scale multiplies every phase; 0 turns ZZ off.
  q::circuit doubled(3);
  doubled.h(0).h(1).h(2).rzz(0, 1, 4 * pi * -5e-5 * t1q).rzz(1, 2, 4 * pi * -8e-5 * t1q);
  doubled.cx(0, 1).sx(2).rzz(1, 2, 4 * pi * -8e-5 * t2q).rz(1, 0.3);
  const q::simulated_device twice(cal, {{0, 0, 0}, 2.0, q::zz_coupling::always_on});
  CHECK((twice.density(c, {}).to_host() - q::simulate(doubled, {}).to_host()).cwiseAbs().maxCoeff() < 1e-12);
  const q::simulated_device off(cal, {{0, 0, 0}, 0.0, q::zz_coupling::always_on});
  CHECK((off.density(c, {}).to_host() - q::simulate(c, {}).to_host()).cwiseAbs().maxCoeff() < 1e-12);
  // The old model: the pair of each two-qubit gate, for its duration, nothing else.
  q::circuit during(3);
  during.h(0).h(1).h(2).cx(0, 1).rzz(0, 1, 2 * pi * -5e-5 * t2q).sx(2).rz(1, 0.3);
  const q::simulated_device gates_only(cal, {{0, 0, 0}, 1.0, q::zz_coupling::during_two_qubit_gates});
  CHECK((gates_only.density(c, {}).to_host() - q::simulate(during, {}).to_host()).cwiseAbs().maxCoeff() < 1e-12);
  // run_in_bases: the basis change is one more moment after the circuit (ZZ over its length too).
  q::simulated_device a(cal, {{0, 0, 0}, 1.0, q::zz_coupling::always_on}, 4);
  q::simulated_device no_zz(cal, {{0, 0, 0}, 0.0, q::zz_coupling::always_on}, 4);
  q::circuit measured = expected;
  measured.h(0).rzz(0, 1, 2 * pi * -5e-5 * t1q).rzz(1, 2, 2 * pi * -8e-5 * t1q);
  CHECK(a.run_in_bases(c, {}, {"XZZ"}, 2000).front() == no_zz.run(measured, {}, 2000));
}

TEST_CASE("density-matrix adjoint gradient equals finite differences, noisy and noiseless") {
  const auto cal = q::calibrations::falcon_line(3);
  const q::noise_model model(cal);
  q::circuit c(3);
  c.ry(0, q::angle::parameter(0))
      .rz(1, q::angle::parameter(1))
      .cx(0, 1)
      .u3(2, q::angle::parameter(2), q::angle::parameter(3), 0.4);
  c.crx(1, 2, q::angle::parameter(4)).rzz(0, 1, q::angle::parameter(0, -0.5, 0.2)).sx(2).cx(1, 2);
  const std::vector<double> theta = {0.7, -1.1, 0.4, 2.0, -0.6};
  frugal::rng gen(51);
  const cmatrix o = frugal::test::random_pauli_observable(3, 4, gen);
  for (const q::noise_model* noise : {static_cast<const q::noise_model*>(nullptr), &model}) {
    const auto vg = q::density_adjoint_gradient(c, theta, o, noise);
    auto value = [&](const std::vector<double>& t) { return (o * q::simulate(c, t, noise).to_host()).trace().real(); };
    CHECK(vg.value == doctest::Approx(value(theta)).epsilon(1e-12));
    for (std::size_t i = 0; i < theta.size(); ++i) {
      auto plus = theta, minus = theta;
      plus[i] += 1e-6;
      minus[i] -= 1e-6;
      CHECK(vg.gradient[i] == doctest::Approx((value(plus) - value(minus)) / 2e-6).epsilon(1e-6).scale(1e-6));
    }
  }
  // Noiseless: equals the state-vector adjoint sweep.
  const auto sv = q::adjoint_gradient(c, theta, q::observable{.dense = o});
  const auto dm = q::density_adjoint_gradient(c, theta, o);
  for (std::size_t i = 0; i < theta.size(); ++i)
    CHECK(dm.gradient[i] == doctest::Approx(sv.gradient[i]).epsilon(1e-10));
  CHECK_THROWS_AS((void)q::density_adjoint_gradient(c, theta, cmatrix::Zero(4, 4)), frugal::invalid_argument);
}
