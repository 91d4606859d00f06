// Calibrations (Qiskit BackendProperties JSON, hand-made malformed files), noise models, noisy
// simulation and the stand-in device.
#include <doctest/doctest.h>

#include <cstdio>
#include <fstream>
#include <numbers>
#include <sstream>

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

namespace {

// A 27-qubit device in the layout of IBM's Falcon processors (ibmq_montreal, ibm_cairo, …): the
// heavy-hex coupling map, and per-qubit and per-gate figures that differ from qubit to qubit and
// from one direction of a CX to the other, so that a qubit or a gate taken from the wrong place
// shows in a simulation. Figures are in the file's units (µs, GHz, ns, kHz).
namespace falcon27 {

const std::vector<std::pair<int, int>> edges = {{0, 1},   {1, 2},   {1, 4},   {2, 3},   {3, 5},   {4, 7},   {5, 8},
                                                {6, 7},   {7, 10},  {8, 9},   {8, 11},  {10, 12}, {11, 14}, {12, 13},
                                                {12, 15}, {13, 14}, {14, 16}, {15, 18}, {16, 19}, {17, 18}, {18, 21},
                                                {19, 20}, {19, 22}, {21, 23}, {22, 25}, {23, 24}, {24, 25}, {25, 26}};

double t1_us(int q) { return 62.5 + 4.25 * q; }
double t2_us(int q) { return 31 + 3.5 * ((q * 7) % 13); }
double frequency_ghz(int q) { return 4.85 + 0.0125 * q; }
double p1_given_0(int q) { return 0.004 + 0.0011 * q; }
double p0_given_1(int q) { return 0.012 + 0.0017 * ((q * 5) % 11); }
double readout_ns(int q) { return 5000 + 40 * q; }
double sx_error(int q) { return 1.5e-4 + 2.3e-5 * ((q * 3) % 10); }
double x_error(int q) { return 2 * sx_error(q); }
constexpr double sx_ns = 35.55555555555556;
double cx_error(int control, int target) { return 5e-3 + 9e-4 * ((3 * control + target) % 8); }
double cx_ns(int control, int target) { return 280 + 10.5 * control + 3.25 * target; }
double zz_khz(int a, int b) { return -(31 + 2.5 * a + 1.5 * b); }  // a < b

std::string num(double v) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.17g", v);
  return buffer;
}

std::string nduv(const std::string& name, const std::string& unit, double value) {
  return R"({"date": "2022-03-01T09:00:00+00:00", "name": ")" + name + R"(", "unit": ")" + unit + R"(", "value": )" +
         num(value) + "}";
}

std::string gate(const std::string& name, std::vector<int> qs, double error, double ns) {
  std::string list, label = name;
  for (std::size_t i = 0; i < qs.size(); ++i) {
    list += (i ? ", " : "") + std::to_string(qs[i]);
    label += (i ? "_" : "") + std::to_string(qs[i]);
  }
  return R"({"qubits": [)" + list + R"(], "gate": ")" + name + R"(", "parameters": [)" + nduv("gate_error", "", error) +
         ", " + nduv("gate_length", "ns", ns) + R"(], "name": ")" + label + R"("})";
}

/// The BackendProperties JSON of the device, laid out as IBM's files are: per-qubit lists, then the
/// gates grouped by kind (id, rz, sx, x for every qubit, then CX both ways per coupled pair), then
/// `general` with jq_ and zz_ entries (zz_ab where both indices are one digit, zz_a_b otherwise).
std::string json() {
  std::ostringstream out;
  out << R"({"backend_name": "fake_falcon27", "backend_version": "1.0.0", "last_update_date": "2022-03-01T09:00:00+00:00", "qubits": [)";
  for (int q = 0; q < 27; ++q)
    out << (q ? ",\n" : "\n") << "[" << nduv("T1", "us", t1_us(q)) << ", " << nduv("T2", "us", t2_us(q)) << ", "
        << nduv("frequency", "GHz", frequency_ghz(q)) << ", " << nduv("anharmonicity", "GHz", -0.34) << ", "
        << nduv("readout_error", "", (p1_given_0(q) + p0_given_1(q)) / 2) << ", "
        << nduv("prob_meas0_prep1", "", p0_given_1(q)) << ", " << nduv("prob_meas1_prep0", "", p1_given_0(q)) << ", "
        << nduv("readout_length", "ns", readout_ns(q)) << "]";
  out << R"(], "gates": [)";
  std::vector<std::string> gates;
  for (int q = 0; q < 27; ++q) gates.push_back(gate("id", {q}, sx_error(q), sx_ns));
  for (int q = 0; q < 27; ++q) gates.push_back(gate("rz", {q}, 0, 0));
  for (int q = 0; q < 27; ++q) gates.push_back(gate("sx", {q}, sx_error(q), sx_ns));
  for (int q = 0; q < 27; ++q) gates.push_back(gate("x", {q}, x_error(q), sx_ns));
  for (const auto& [a, b] : edges) {
    gates.push_back(gate("cx", {a, b}, cx_error(a, b), cx_ns(a, b)));
    gates.push_back(gate("cx", {b, a}, cx_error(b, a), cx_ns(b, a)));
  }
  for (std::size_t i = 0; i < gates.size(); ++i) out << (i ? ",\n" : "\n") << gates[i];
  out << R"(], "general": [)";
  for (std::size_t i = 0; i < edges.size(); ++i) {
    const auto [a, b] = edges[i];
    const std::string pair =
        b < 10 ? std::to_string(a) + std::to_string(b) : std::to_string(a) + "_" + std::to_string(b);
    out << (i ? ",\n" : "\n") << nduv("jq_" + pair, "GHz", 0.0025) << ", " << nduv("zz_" + pair, "kHz", zz_khz(a, b));
  }
  out << "]}";
  return out.str();
}

/// Device qubit q's record, converted to the calibration's units by hand.
q::qubit_calibration qubit(int q) {
  return {t1_us(q) * 1e3, t2_us(q) * 1e3, frequency_ghz(q), -0.34, p1_given_0(q), p0_given_1(q), readout_ns(q)};
}

}  // namespace falcon27

void check_same_calibration(const q::calibration& a, const q::calibration& b) {
  REQUIRE(a.num_qubits() == b.num_qubits());
  for (int i = 0; i < a.num_qubits(); ++i) {
    CAPTURE(i);
    const auto &x = a.qubits[static_cast<std::size_t>(i)], &y = b.qubits[static_cast<std::size_t>(i)];
    CHECK(x.t1_ns == doctest::Approx(y.t1_ns).epsilon(1e-14));
    CHECK(x.t2_ns == doctest::Approx(y.t2_ns).epsilon(1e-14));
    CHECK(x.frequency_ghz == doctest::Approx(y.frequency_ghz).epsilon(1e-14));
    CHECK(x.anharmonicity_ghz == doctest::Approx(y.anharmonicity_ghz).epsilon(1e-14));
    CHECK(x.p1_given_0 == doctest::Approx(y.p1_given_0).epsilon(1e-14));
    CHECK(x.p0_given_1 == doctest::Approx(y.p0_given_1).epsilon(1e-14));
    CHECK(x.readout_length_ns == doctest::Approx(y.readout_length_ns).epsilon(1e-14));
  }
  REQUIRE(a.gates.size() == b.gates.size());
  for (std::size_t i = 0; i < a.gates.size(); ++i) {
    CAPTURE(i);
    CHECK(a.gates[i].gate == b.gates[i].gate);
    CHECK(a.gates[i].qubits == b.gates[i].qubits);
    CHECK(a.gates[i].error == doctest::Approx(b.gates[i].error).epsilon(1e-14));
    CHECK(a.gates[i].length_ns == doctest::Approx(b.gates[i].length_ns).epsilon(1e-14));
  }
  REQUIRE(a.zz_ghz.size() == b.zz_ghz.size());
  for (const auto& [pair, zeta] : a.zz_ghz) {
    REQUIRE(b.zz_ghz.count(pair) == 1);
    CHECK(zeta == doctest::Approx(b.zz_ghz.at(pair)).epsilon(1e-14));
  }
}

double max_difference(const cmatrix& a, const cmatrix& b) { return (a - b).cwiseAbs().maxCoeff(); }

}  // namespace

TEST_CASE("calibration::subset: three qubits of a 27-qubit file simulate like a hand-built 3-qubit calibration") {
  const auto device = q::parse_backend_properties(falcon27::json(), "fake_falcon27.json");
  REQUIRE(device.num_qubits() == 27);
  REQUIRE(device.coupling_map().size() == falcon27::edges.size());
  REQUIRE(device.zz_ghz.size() == falcon27::edges.size());
  // The path 12 - 10 - 7, given out of order: device qubit 12 is the circuit's qubit 0, 10 is 1, 7 is 2.
  const auto chosen = device.subset({12, 10, 7});

  // The same three qubits, copied and renumbered by hand, gates in the file's order.
  q::calibration hand;
  hand.name = "fake_falcon27[12,10,7]";
  hand.qubits = {falcon27::qubit(12), falcon27::qubit(10), falcon27::qubit(7)};
  const std::vector<std::pair<int, int>> device_to_local = {{7, 2}, {10, 1}, {12, 0}};  // the file lists 7, 10, 12
  for (const char* kind : {"id", "rz", "sx", "x"})
    for (const auto& [d, local] : device_to_local) {
      const std::string g = kind;
      const double error = g == "rz" ? 0 : g == "x" ? falcon27::x_error(d) : falcon27::sx_error(d);
      hand.gates.push_back({g, {local}, error, g == "rz" ? 0 : falcon27::sx_ns});
    }
  hand.gates.push_back({"cx", {2, 1}, falcon27::cx_error(7, 10), falcon27::cx_ns(7, 10)});
  hand.gates.push_back({"cx", {1, 2}, falcon27::cx_error(10, 7), falcon27::cx_ns(10, 7)});
  hand.gates.push_back({"cx", {1, 0}, falcon27::cx_error(10, 12), falcon27::cx_ns(10, 12)});
  hand.gates.push_back({"cx", {0, 1}, falcon27::cx_error(12, 10), falcon27::cx_ns(12, 10)});
  hand.zz_ghz[{1, 2}] = falcon27::zz_khz(7, 10) * 1e-6;
  hand.zz_ghz[{0, 1}] = falcon27::zz_khz(10, 12) * 1e-6;

  CHECK(chosen.name == hand.name);
  check_same_calibration(chosen, hand);
  CHECK(chosen.coupling_map() == std::vector<std::pair<int, int>>{{0, 1}, {1, 2}});

  // Noisy GHZ on a density matrix: the calibrated model, then the stand-in device with always-on
  // ZZ and over-rotations, then the outcome probabilities with readout confusion.
  q::circuit ghz(3);
  ghz.h(0).cx(0, 1).cx(1, 2);
  const q::noise_model from_file(chosen), by_hand(hand);
  const cmatrix rho = q::simulate(ghz, {}, &from_file).to_host();
  CHECK(max_difference(rho, q::simulate(ghz, {}, &by_hand).to_host()) < 1e-14);
  const q::coherent_errors hidden{{0.03, -0.02, 0.04}, 1.0, q::zz_coupling::always_on};
  const q::simulated_device file_device(chosen, hidden), hand_device(hand, hidden);
  const cmatrix device_rho = file_device.density(ghz, {}).to_host();
  CHECK(max_difference(device_rho, hand_device.density(ghz, {}).to_host()) < 1e-14);
  const auto p = file_device.probabilities(ghz, {}), p_hand = hand_device.probabilities(ghz, {});
  REQUIRE(p.size() == 8);
  for (std::size_t i = 0; i < p.size(); ++i) CHECK(p[i] == doctest::Approx(p_hand[i]).epsilon(1e-13));
  // The noise is there, and which qubit is which matters: the same three in another order differ.
  CHECK(p[0] + p[7] < 0.99);
  CHECK(p[0] + p[7] > 0.8);
  const q::noise_model reversed(device.subset({7, 10, 12}));
  CHECK(max_difference(rho, q::simulate(ghz, {}, &reversed).to_host()) > 1e-5);
  const q::simulated_device reversed_device(device.subset({7, 10, 12}), hidden);
  CHECK(max_difference(device_rho, reversed_device.density(ghz, {}).to_host()) > 1e-5);
}

TEST_CASE("calibration::subset: refusals, and size mismatches point to it") {
  const auto device = q::parse_backend_properties(falcon27::json(), "fake_falcon27.json");
  CHECK_THROWS_WITH_AS((void)device.subset({}),
                       "frugal::quantum::calibration::subset: no qubits chosen from 'fake_falcon27', a 27-qubit device",
                       frugal::invalid_argument);
  CHECK_THROWS_WITH_AS((void)device.subset({3, 27}),
                       "frugal::quantum::calibration::subset: qubit 27 is not on 'fake_falcon27', a 27-qubit device "
                       "(qubits 0 to 26)",
                       frugal::invalid_argument);
  CHECK_THROWS_WITH_AS((void)device.subset({-1}), doctest::Contains("qubit -1 is not on 'fake_falcon27', a 27-qubit"),
                       frugal::invalid_argument);
  CHECK_THROWS_WITH_AS((void)device.subset({12, 10, 12}),
                       "frugal::quantum::calibration::subset: qubit 12 is chosen twice (positions 0 and 2) from "
                       "'fake_falcon27', a 27-qubit device",
                       frugal::invalid_argument);
  // A single qubit, and qubits with no coupling among them: records kept, no two-qubit gate, no ZZ.
  const auto apart = device.subset({26, 0});
  CHECK(apart.name == "fake_falcon27[26,0]");
  CHECK(apart.qubits[0].t1_ns == doctest::Approx(falcon27::t1_us(26) * 1e3));
  CHECK(apart.coupling_map().empty());
  CHECK(apart.zz_ghz.empty());
  CHECK(apart.gates.size() == 8);  // id, rz, sx, x on each
  CHECK_NOTHROW(apart.validate());

  // A 3-qubit circuit on the whole device: every refusal states both sizes and names the way out.
  q::circuit ghz(3);
  ghz.h(0).cx(0, 1).cx(1, 2);
  const q::noise_model whole(device);
  const std::string sizes = "a 3-qubit circuit on 'fake_falcon27', a 27-qubit device; ";
  const std::string way_out = "select the circuit's qubits with calibration::subset";
  CHECK_THROWS_WITH_AS((void)q::simulate(ghz, {}, &whole), ("frugal::quantum::simulate: " + sizes + way_out).c_str(),
                       frugal::invalid_argument);
  CHECK_THROWS_WITH_AS((void)q::density_adjoint_gradient(ghz, {}, cmatrix::Identity(8, 8), &whole),
                       ("frugal::quantum::density_adjoint_gradient: " + sizes + way_out).c_str(),
                       frugal::invalid_argument);
  const q::simulated_device stand_in(device, {}, 1);
  CHECK_THROWS_WITH_AS((void)stand_in.density(ghz, {}),
                       ("frugal::quantum::simulated_device::density: " + sizes + way_out).c_str(),
                       frugal::invalid_argument);
  CHECK_THROWS_WITH_AS(q::simulated_device(device, {{0.01, 0.02, 0.03}, 1.0}), doctest::Contains(way_out.c_str()),
                       frugal::invalid_argument);
  const std::vector<double> uniform(8, 1.0 / 8);
  CHECK_THROWS_WITH_AS((void)q::apply_readout_error(uniform, whole.readout_errors()),
                       doctest::Contains(("8 probabilities for the readout errors of 27 qubits (a device's errors "
                                          "for a smaller circuit? " +
                                          way_out + ")")
                                             .c_str()),
                       frugal::invalid_argument);
  CHECK_THROWS_WITH_AS((void)q::mitigate_readout(uniform, whole.readout_errors()), doctest::Contains(way_out.c_str()),
                       frugal::invalid_argument);
  // A circuit larger than the device: both sizes, and no pointer to subset, which cannot help.
  const q::noise_model three(device.subset({12, 10, 7}));
  try {
    (void)q::simulate(q::circuit(5), {}, &three);
    FAIL("no exception");
  } catch (const frugal::invalid_argument& e) {
    CHECK(std::string(e.what()) ==
          "frugal::quantum::simulate: a 5-qubit circuit on 'fake_falcon27[12,10,7]', a 3-qubit device (too few "
          "qubits)");
  }
  CHECK_NOTHROW((void)q::simulate(ghz, {}, &three));
}

TEST_CASE("calibration::subset of a real file (../shared/data) keeps the chosen qubits' figures") {
  const auto dir = frugal::test::shared_data_dir();
  const auto file = dir / "calibrations" / "props_nairobi.json";
  if (dir.empty() || !std::filesystem::exists(file)) {
    MESSAGE("../shared/data/calibrations/props_nairobi.json absent: skipped");
    return;
  }
  const auto device = q::read_backend_properties(file);
  REQUIRE(device.num_qubits() == 7);
  // ibm_nairobi couples 1-3 and 3-5: the path 5 - 3 - 1.
  const auto path = device.subset({5, 3, 1});
  CHECK(path.name == device.name + "[5,3,1]");
  const std::vector<int> from = {5, 3, 1};
  for (int i = 0; i < 3; ++i) {
    const auto& got = path.qubits[static_cast<std::size_t>(i)];
    const auto& want = device.qubits[static_cast<std::size_t>(from[static_cast<std::size_t>(i)])];
    CHECK(got.t1_ns == want.t1_ns);
    CHECK(got.t2_ns == want.t2_ns);
    CHECK(got.p1_given_0 == want.p1_given_0);
    CHECK(got.p0_given_1 == want.p0_given_1);
    REQUIRE(path.find("sx", {i}) != nullptr);
    CHECK(path.find("sx", {i})->error == device.find("sx", {from[static_cast<std::size_t>(i)]})->error);
  }
  REQUIRE(path.find("cx", {0, 1}) != nullptr);
  CHECK(path.find("cx", {0, 1})->error == device.find("cx", {5, 3})->error);
  CHECK(path.find("cx", {2, 1})->length_ns == device.find("cx", {1, 3})->length_ns);
  CHECK(path.coupling_map() == std::vector<std::pair<int, int>>{{0, 1}, {1, 2}});
  REQUIRE(path.zz_ghz.size() == 2);
  CHECK(path.zz_ghz.at({0, 1}) == device.zz_ghz.at({3, 5}));
  CHECK(path.zz_ghz.at({1, 2}) == device.zz_ghz.at({1, 3}));
  q::circuit ghz(3);
  ghz.h(0).cx(0, 1).cx(1, 2);
  const q::noise_model model(path);
  const auto p = q::probabilities(q::simulate(ghz, {}, &model));
  CHECK(p[0] + p[7] < 0.999);
  CHECK(p[0] + p[7] > 0.8);
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
