// Gates on state vectors and density matrices against dense Kronecker-product references, and the
// two register types against each other.
#include <doctest/doctest.h>

#include <frugal/quantum.hpp>

#include <functional>

#include "quantum_support.hpp"

namespace q = frugal::quantum;
using frugal::index_t;
using frugal::test::embed;
using q::cmatrix;
using q::cvector;

namespace {

struct named_gate {
  const char* name;
  int qubits;
  std::function<cmatrix(frugal::rng&)> make;
};

std::vector<named_gate> all_gates() {
  auto angle = [](frugal::rng& g) { return g.uniform(-4, 4); };
  return {
      {"X", 1, [](frugal::rng&) { return q::gates::x(); }},
      {"Y", 1, [](frugal::rng&) { return q::gates::y(); }},
      {"Z", 1, [](frugal::rng&) { return q::gates::z(); }},
      {"H", 1, [](frugal::rng&) { return q::gates::h(); }},
      {"S", 1, [](frugal::rng&) { return q::gates::s(); }},
      {"T", 1, [](frugal::rng&) { return q::gates::t(); }},
      {"SX", 1, [](frugal::rng&) { return q::gates::sx(); }},
      {"RX", 1, [=](frugal::rng& g) { return q::gates::rx(angle(g)); }},
      {"RY", 1, [=](frugal::rng& g) { return q::gates::ry(angle(g)); }},
      {"RZ", 1, [=](frugal::rng& g) { return q::gates::rz(angle(g)); }},
      {"U3", 1, [=](frugal::rng& g) { return q::gates::u3(angle(g), angle(g), angle(g)); }},
      {"U(2)", 1, [](frugal::rng& g) { return frugal::test::random_unitary(2, g); }},
      {"CX", 2, [](frugal::rng&) { return q::gates::cx(); }},
      {"CZ", 2, [](frugal::rng&) { return q::gates::cz(); }},
      {"SWAP", 2, [](frugal::rng&) { return q::gates::swap(); }},
      {"ECR", 2, [](frugal::rng&) { return q::gates::ecr(); }},
      {"CRX", 2, [=](frugal::rng& g) { return q::gates::crx(angle(g)); }},
      {"CRY", 2, [=](frugal::rng& g) { return q::gates::cry(angle(g)); }},
      {"CRZ", 2, [=](frugal::rng& g) { return q::gates::crz(angle(g)); }},
      {"RZZ", 2, [=](frugal::rng& g) { return q::gates::rzz(angle(g)); }},
      {"CU3", 2, [=](frugal::rng& g) { return q::gates::cu3(angle(g), angle(g), angle(g)); }},
      {"U(4)", 2, [](frugal::rng& g) { return frugal::test::random_unitary(4, g); }},
  };
}

std::vector<int> distinct_qubits(int k, int n, frugal::rng& gen) {
  std::vector<int> out;
  while (static_cast<int>(out.size()) < k) {
    const int c = static_cast<int>(gen.uniform_int(static_cast<std::uint64_t>(n)));
    if (std::find(out.begin(), out.end(), c) == out.end()) out.push_back(c);
  }
  return out;
}

}  // namespace

TEST_CASE("gate matrices: unitary, textbook identities") {
  frugal::rng gen(3);
  for (const auto& g : all_gates()) {
    CAPTURE(g.name);
    const cmatrix u = g.make(gen);
    CHECK(u.rows() == (1 << g.qubits));
    CHECK(q::unitarity_error(u) < 1e-12);
  }
  const std::complex<double> i{0, 1};
  CHECK((q::gates::sx() * q::gates::sx() - q::gates::x()).norm() < 1e-12);
  CHECK((q::gates::t() * q::gates::t() - q::gates::s()).norm() < 1e-12);
  CHECK((q::gates::h() * q::gates::z() * q::gates::h() - q::gates::x()).norm() < 1e-12);
  CHECK((q::gates::u3(0.3, -0.2, 0.9) - std::exp(i * 0.35) * q::gates::rz(-0.2) * q::gates::ry(0.3) * q::gates::rz(0.9))
            .norm() < 1e-12);
  CHECK((q::gates::ecr() * q::gates::ecr() - cmatrix::Identity(4, 4)).norm() < 1e-12);
  // Qiskit's ECR matrix for (q0, q1).
  cmatrix ecr(4, 4);
  ecr << 0, 1, 0, i, 1, 0, -i, 0, 0, i, 0, 1, -i, 0, 1, 0;
  CHECK((q::gates::ecr() - ecr / std::sqrt(2.0)).norm() < 1e-12);
  // CX with control q0: |q1 q0> = |01> (index 1) -> |11> (index 3).
  CHECK(q::gates::cx()(3, 1) == std::complex<double>(1, 0));
  CHECK((q::gates::rzz(0.7) -
         (q::gates::cx() * q::gates::on_both(q::gates::identity(), q::gates::rz(0.7)) * q::gates::cx()))
            .norm() < 1e-12);
}

TEST_CASE("state vector: random circuits match the dense Kronecker-product reference (n <= 6)") {
  frugal::rng gen(11);
  const auto gates = all_gates();
  for (int n = 1; n <= 6; ++n) {
    CAPTURE(n);
    q::state_vector<double> psi(n);
    q::state_vector<float> psi_f(n);
    const cvector start = frugal::test::random_state(n, gen);
    psi.assign(start);
    psi_f.assign(start);
    cvector ref = start;
    for (int step = 0; step < 40; ++step) {
      const auto& g = gates[gen.uniform_int(gates.size())];
      if (g.qubits > n) continue;
      const cmatrix u = g.make(gen);
      const auto qs = distinct_qubits(g.qubits, n, gen);
      CAPTURE(g.name);
      if (g.qubits == 1) {
        q::apply_unitary(psi, u, qs[0]);
        q::apply_unitary(psi_f, u, qs[0]);
      } else {
        q::apply_unitary(psi, u, qs[0], qs[1]);
        q::apply_unitary(psi_f, u, qs[0], qs[1]);
      }
      ref = embed(u, qs, n) * ref;
      REQUIRE((psi.to_host() - ref).cwiseAbs().maxCoeff() < 1e-12);
    }
    CHECK((psi_f.to_host() - ref).cwiseAbs().maxCoeff() < 2e-5);
  }
}

TEST_CASE("density matrix: U rho U^dagger in one pass matches the dense reference and stays physical") {
  frugal::rng gen(12);
  const auto gates = all_gates();
  for (int n = 1; n <= 6; ++n) {
    CAPTURE(n);
    q::density_matrix<double> rho(n);
    q::density_matrix<float> rho_f(n);
    const cmatrix start = frugal::test::random_density(n, gen);
    rho.assign(start);
    rho_f.assign(start);
    cmatrix ref = start;
    for (int step = 0; step < 30; ++step) {
      const auto& g = gates[gen.uniform_int(gates.size())];
      if (g.qubits > n) continue;
      const cmatrix u = g.make(gen);
      const auto qs = distinct_qubits(g.qubits, n, gen);
      CAPTURE(g.name);
      if (g.qubits == 1) {
        q::apply_unitary(rho, u, qs[0]);
        q::apply_unitary(rho_f, u, qs[0]);
      } else {
        q::apply_unitary(rho, u, qs[0], qs[1]);
        q::apply_unitary(rho_f, u, qs[0], qs[1]);
      }
      const cmatrix full = embed(u, qs, n);
      ref = full * ref * full.adjoint();
      const cmatrix got = rho.to_host();
      REQUIRE((got - ref).cwiseAbs().maxCoeff() < 1e-12);
      frugal::test::require_physical(got, 1e-10);
    }
    CHECK((rho_f.to_host() - ref).cwiseAbs().maxCoeff() < 2e-5);
  }
}

TEST_CASE("density matrix of a pure state follows the state vector") {
  frugal::rng gen(13);
  const auto gates = all_gates();
  const int n = 5;
  q::state_vector<double> psi(n);
  q::density_matrix<double> rho(n);
  for (int step = 0; step < 60; ++step) {
    const auto& g = gates[gen.uniform_int(gates.size())];
    const cmatrix u = g.make(gen);
    const auto qs = distinct_qubits(g.qubits, n, gen);
    if (g.qubits == 1) {
      q::apply_unitary(psi, u, qs[0]);
      q::apply_unitary(rho, u, qs[0]);
    } else {
      q::apply_unitary(psi, u, qs[0], qs[1]);
      q::apply_unitary(rho, u, qs[0], qs[1]);
    }
  }
  const cvector v = psi.to_host();
  CHECK((rho.to_host() - v * v.adjoint()).cwiseAbs().maxCoeff() < 1e-12);
  CHECK(q::purity(rho.to_host()) == doctest::Approx(1).epsilon(1e-12));
}

TEST_CASE("apply_bits kernel equals its serial reference on random matrices and bit sets") {
  frugal::rng gen(14);
  for (int trial = 0; trial < 30; ++trial) {
    const int m = 4 + static_cast<int>(gen.uniform_int(6));
    cvector v(index_t(1) << m);
    for (index_t i = 0; i < v.size(); ++i) v[i] = {gen.normal(), gen.normal()};
    Kokkos::View<Kokkos::complex<double>*, Kokkos::HostSpace> view("v", v.size());
    for (index_t i = 0; i < v.size(); ++i) view(i) = Kokkos::complex<double>(v[i].real(), v[i].imag());
    const int k = trial % 3 == 0 ? 1 : (trial % 3 == 1 ? 2 : 4);
    const auto bits = distinct_qubits(k, m, gen);
    cmatrix mat(1 << k, 1 << k);
    for (index_t i = 0; i < mat.size(); ++i) mat.data()[i] = {gen.normal(), gen.normal()};
    Kokkos::DefaultHostExecutionSpace exec;
    if (k == 1) q::apply_bits<1>(exec, view, m, q::small_matrix<double, 2>::from(mat), {bits[0]});
    if (k == 2) q::apply_bits<2>(exec, view, m, q::small_matrix<double, 4>::from(mat), {bits[0], bits[1]});
    if (k == 4)
      q::apply_bits<4>(exec, view, m, q::small_matrix<double, 16>::from(mat), {bits[0], bits[1], bits[2], bits[3]});
    q::reference_apply_bits(v, mat, bits);
    double err = 0;
    for (index_t i = 0; i < v.size(); ++i)
      err = std::max(err, std::abs(std::complex<double>(view(i).real(), view(i).imag()) - v[i]));
    CHECK(err < 1e-12);
  }
}

TEST_CASE("registers reject bad input with clear errors") {
  q::state_vector<double> psi(3);
  q::density_matrix<double> rho(3);
  CHECK_THROWS_AS(q::apply_unitary(psi, q::gates::x(), 3), frugal::invalid_argument);
  CHECK_THROWS_AS(q::apply_unitary(psi, q::gates::x(), -1), frugal::invalid_argument);
  CHECK_THROWS_AS(q::apply_unitary(psi, q::gates::cx(), 1, 1), frugal::invalid_argument);
  CHECK_THROWS_AS(q::apply_unitary(rho, q::gates::cx(), 2, 2), frugal::invalid_argument);
  CHECK_THROWS_AS(q::apply_unitary(rho, q::gates::x(), 7), frugal::invalid_argument);
  cmatrix bad = q::gates::x();
  bad(0, 1) = 2;
  CHECK_THROWS_WITH_AS(q::apply_unitary(psi, bad, 0), doctest::Contains("not unitary"), frugal::invalid_argument);
  CHECK_THROWS_AS(q::apply_unitary(rho, bad, 0), frugal::invalid_argument);
  CHECK_THROWS_AS(q::apply_unitary(psi, q::gates::x(), 0, 1), frugal::invalid_argument);  // 2x2 on two qubits
  CHECK_THROWS_AS(q::state_vector<double>(0), frugal::invalid_argument);
  CHECK_THROWS_AS(q::state_vector<double>(31), frugal::invalid_argument);
  CHECK_THROWS_AS(q::density_matrix<double>(16), frugal::invalid_argument);
  cvector not_normalised = cvector::Ones(8);
  CHECK_THROWS_AS(psi.assign(not_normalised), frugal::invalid_argument);
  cmatrix not_hermitian = cmatrix::Identity(8, 8) / 8.0;
  not_hermitian(0, 1) = 0.1;
  CHECK_THROWS_WITH_AS(rho.assign(not_hermitian), doctest::Contains("Hermitian"), frugal::invalid_argument);
  cmatrix negative = cmatrix::Zero(8, 8);
  negative(0, 0) = 1.5;
  negative(1, 1) = -0.5;
  CHECK_THROWS_WITH_AS(rho.assign(negative), doctest::Contains("positive"), frugal::invalid_argument);
  CHECK_THROWS_AS(rho.assign(cmatrix::Identity(8, 8)), frugal::invalid_argument);  // trace 8
}

TEST_CASE("host kernels' vectorised path (every target bit >= 3) matches the dense reference") {
  frugal::rng gen(15);
  const int n = 6;
  q::density_matrix<double> rho(n);
  q::state_vector<double> psi(n);
  cmatrix ref = frugal::test::random_density(n, gen);
  cvector ref_psi = frugal::test::random_state(n, gen);
  rho.assign(ref);
  psi.assign(ref_psi);
  // Dense (non-monomial) gates only, so neither call takes the monomial kernel.
  const std::vector<std::pair<int, int>> pairs = {{3, 5}, {5, 4}, {4, 3}, {3, 4}};
  for (const auto& [a, b] : pairs) {
    const cmatrix u2 = frugal::test::random_unitary(4, gen), u1 = frugal::test::random_unitary(2, gen);
    q::apply_unitary(rho, u2, a, b);
    q::apply_unitary(psi, u2, a, b);
    q::apply_unitary(rho, u1, b);
    q::apply_unitary(psi, u1, a);
    const cmatrix f2 = embed(u2, {a, b}, n);
    ref = f2 * ref * f2.adjoint();
    ref_psi = f2 * ref_psi;
    const cmatrix fb = embed(u1, {b}, n), fa = embed(u1, {a}, n);
    ref = fb * ref * fb.adjoint();
    ref_psi = fa * ref_psi;
  }
  CHECK((rho.to_host() - ref).cwiseAbs().maxCoeff() < 1e-12);
  CHECK((psi.to_host() - ref_psi).cwiseAbs().maxCoeff() < 1e-12);
  q::density_matrix<float> rho_f(n);
  rho_f.assign(frugal::test::random_density(n, gen));
  const cmatrix start = rho_f.to_host();
  const cmatrix u = frugal::test::random_unitary(4, gen);
  q::apply_unitary(rho_f, u, 4, 5);
  const cmatrix f = embed(u, {4, 5}, n);
  CHECK((rho_f.to_host() - f * start * f.adjoint()).cwiseAbs().maxCoeff() < 1e-5);
}
