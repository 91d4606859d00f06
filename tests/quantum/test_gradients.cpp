// Circuits and gradients: adjoint and parameter-shift against finite differences, the VJP entry
// point, and VQE on H2.
#include <doctest/doctest.h>

#include <frugal/quantum.hpp>

#include "quantum_support.hpp"

namespace q = frugal::quantum;
using frugal::index_t;
using q::angle;
using q::cmatrix;
using q::cvector;

namespace {

/// A circuit using every parameterised gate kind, shared parameters and scaled angles.
q::circuit mixed_circuit(int n) {
  q::circuit c(n);
  c.h(0).ry(1, angle::parameter(0)).rx(2, angle::parameter(1, 0.5, 0.1)).cx(0, 1);
  c.rz(1, angle::parameter(2)).add(q::gate_kind::phase, 2, -1, {angle::parameter(3)});
  c.u3(0, angle::parameter(4), angle::parameter(5), angle::parameter(6));
  c.crx(1, 2, angle::parameter(7)).cry(2, 0, angle::parameter(8)).crz(0, 2, angle::parameter(0, -1.5));
  c.rzz(0, 1, angle::parameter(9)).add(q::gate_kind::rzx, 1, 2, {angle::parameter(10)});
  c.cu3(2, 1, angle::parameter(11), angle::parameter(12), angle::parameter(13)).ecr(0, 2).sx(1);
  c.ry(2, 0.4).ry(2, angle::parameter(1));
  return c;
}

std::vector<double> random_theta(int k, frugal::rng& gen) {
  std::vector<double> t(static_cast<std::size_t>(k));
  for (auto& x : t) x = gen.uniform(-3, 3);
  return t;
}

const q::observable kObs{.terms = {{"XZY", 0.7}, {"ZZI", -1.3}, {"IXX", 0.4}, {"YII", 0.9}}};

double energy(const q::circuit& c, const std::vector<double>& theta, const q::observable& o) {
  q::state_vector<double> psi(c.qubits());
  q::run(c, theta, psi);
  return q::expectation(psi, o.terms);
}

/// Probabilities after the circuit on a density matrix with depolarizing noise after each gate.
std::vector<double> noisy_probabilities(const q::circuit& c, const std::vector<double>& theta) {
  q::density_matrix<double> rho(c.qubits());
  const auto d1 = q::channels::depolarizing(0.02), d2 = q::channels::depolarizing(0.05, 2);
  for (const auto& op : c.operations()) {
    q::apply_operation(rho, op, theta);
    if (q::gate_qubits(op.kind) == 1)
      q::apply_channel(rho, d1, op.q0);
    else
      q::apply_channel(rho, d2, op.q0, op.q1);
  }
  return q::probabilities(rho);
}

}  // namespace

TEST_CASE("gate derivatives match finite differences of the gate matrices") {
  frugal::rng gen(31);
  for (auto k :
       {q::gate_kind::rx, q::gate_kind::ry, q::gate_kind::rz, q::gate_kind::phase, q::gate_kind::u3, q::gate_kind::crx,
        q::gate_kind::cry, q::gate_kind::crz, q::gate_kind::rzz, q::gate_kind::rzx, q::gate_kind::cu3}) {
    CAPTURE(q::gate_name(k));
    std::array<double, 3> a{gen.uniform(-3, 3), gen.uniform(-3, 3), gen.uniform(-3, 3)};
    for (int j = 0; j < q::gate_angles(k); ++j) {
      auto plus = a, minus = a;
      const double h = 1e-6;
      plus[static_cast<std::size_t>(j)] += h;
      minus[static_cast<std::size_t>(j)] -= h;
      const cmatrix fd = (q::gate_matrix(k, plus) - q::gate_matrix(k, minus)) / (2 * h);
      CHECK((q::gate_derivative(k, a, j) - fd).cwiseAbs().maxCoeff() < 1e-8);
    }
  }
  CHECK_THROWS_AS((void)q::gate_derivative(q::gate_kind::cx, {0, 0, 0}, 0), frugal::invalid_argument);
}

TEST_CASE("adjoint gradient equals finite differences and the parameter-shift rule") {
  frugal::rng gen(32);
  const auto c = mixed_circuit(3);
  CHECK(c.parameters() == 14);
  for (int trial = 0; trial < 3; ++trial) {
    const auto theta = random_theta(c.parameters(), gen);
    const auto ag = q::adjoint_gradient(c, theta, kObs);
    CHECK(ag.value == doctest::Approx(energy(c, theta, kObs)).epsilon(1e-12));
    const auto jac = q::parameter_shift_jacobian(c, theta, [&](const q::circuit& cc, const std::vector<double>& t) {
      return std::vector<double>{energy(cc, t, kObs)};
    });
    for (std::size_t i = 0; i < theta.size(); ++i) {
      CAPTURE(i);
      auto plus = theta, minus = theta;
      plus[i] += 1e-5;
      minus[i] -= 1e-5;
      const double fd = (energy(c, plus, kObs) - energy(c, minus, kObs)) / 2e-5;
      CHECK(ag.gradient[i] == doctest::Approx(fd).epsilon(1e-6));
      CHECK(jac(0, static_cast<index_t>(i)) == doctest::Approx(ag.gradient[i]).epsilon(1e-10));
    }
  }
  // Single precision runs the same sweep.
  const auto theta = random_theta(c.parameters(), gen);
  const auto g64 = q::adjoint_gradient<double>(c, theta, kObs), g32 = q::adjoint_gradient<float>(c, theta, kObs);
  for (std::size_t i = 0; i < theta.size(); ++i) CHECK(std::abs(g64.gradient[i] - g32.gradient[i]) < 1e-4);
}

TEST_CASE("parameter shift on a noisy density matrix matches finite differences; VJP equals the adjoint sweep") {
  frugal::rng gen(33);
  const auto c = mixed_circuit(3);
  const auto theta = random_theta(c.parameters(), gen);
  const auto jac = q::parameter_shift_jacobian(c, theta, noisy_probabilities);
  CHECK(jac.rows() == 8);
  for (std::size_t i = 0; i < theta.size(); ++i) {
    auto plus = theta, minus = theta;
    plus[i] += 1e-5;
    minus[i] -= 1e-5;
    const auto pp = noisy_probabilities(c, plus), pm = noisy_probabilities(c, minus);
    for (std::size_t k = 0; k < pp.size(); ++k)
      CHECK(jac(static_cast<index_t>(k), static_cast<index_t>(i)) ==
            doctest::Approx((pp[k] - pm[k]) / 2e-5).epsilon(1e-6).scale(1e-3));
  }
  // Noiseless: the VJP of the probability Jacobian with weights g is the adjoint gradient of the
  // diagonal observable g.
  std::vector<double> g(8);
  for (auto& x : g) x = gen.uniform(-1, 1);
  const auto pj = q::parameter_shift_jacobian(c, theta, [](const q::circuit& cc, const std::vector<double>& t) {
    q::state_vector<double> psi(cc.qubits());
    q::run(cc, t, psi);
    return q::probabilities(psi);
  });
  const auto vjp = q::vector_jacobian_product(pj, g);
  const auto ag = q::adjoint_gradient(c, theta, q::observable{.diagonal = g});
  for (std::size_t i = 0; i < theta.size(); ++i) CHECK(vjp[i] == doctest::Approx(ag.gradient[i]).epsilon(1e-10));
  CHECK_THROWS_AS((void)q::vector_jacobian_product(pj, {1.0, 2.0}), frugal::invalid_argument);
}

TEST_CASE("VQE on H2 (STO-3G, 0.735 A) reaches -1.857275 Ha within 1e-6") {
  const std::vector<q::pauli_string> h2 = {{"II", -1.052373245772859},
                                           {"ZI", 0.39793742484318045},  // string index = qubit: Z on qubit 0
                                           {"IZ", -0.39793742484318045},
                                           {"ZZ", -0.01128010425623538},
                                           {"XX", 0.18093119978423156}};
  // Independent truth: the lowest eigenvalue of the 4x4 Hamiltonian.
  cmatrix hm = cmatrix::Zero(4, 4);
  for (const auto& t : h2) hm += q::pauli_matrix(t);
  const double exact = Eigen::SelfAdjointEigenSolver<cmatrix>(hm).eigenvalues()(0);
  CHECK(exact == doctest::Approx(-1.857275).epsilon(1e-6 / 1.857275));
  // Hardware-efficient ansatz: RY layer, CX, RY layer.
  q::circuit c(2);
  c.ry(0, angle::parameter(0))
      .ry(1, angle::parameter(1))
      .cx(0, 1)
      .ry(0, angle::parameter(2))
      .ry(1, angle::parameter(3));
  std::vector<double> theta = {0.1, -0.2, 0.3, 0.05};
  // Adam on the adjoint gradient, then plain gradient steps to polish.
  std::vector<double> m(4, 0), v(4, 0);
  double e = 0;
  for (int it = 1; it <= 3000; ++it) {
    const auto ag = q::adjoint_gradient(c, theta, q::observable{.terms = h2});
    e = ag.value;
    for (std::size_t i = 0; i < 4; ++i) {
      m[i] = 0.9 * m[i] + 0.1 * ag.gradient[i];
      v[i] = 0.999 * v[i] + 0.001 * ag.gradient[i] * ag.gradient[i];
      const double lr = it < 1500 ? 0.05 : 0.005;
      theta[i] -= lr * (m[i] / (1 - std::pow(0.9, it))) / (std::sqrt(v[i] / (1 - std::pow(0.999, it))) + 1e-12);
    }
  }
  CHECK(std::abs(e - exact) < 1e-6);
  CHECK(std::abs(e - (-1.857275)) < 1e-6);
}

TEST_CASE("circuits reject bad input") {
  q::circuit c(3);
  CHECK_THROWS_AS(c.h(3), frugal::invalid_argument);
  CHECK_THROWS_AS(c.cx(1, 1), frugal::invalid_argument);
  CHECK_THROWS_AS(c.add(q::gate_kind::rx, 0), frugal::invalid_argument);  // missing angle
  CHECK_THROWS_AS(c.add(q::gate_kind::h, 0, 1), frugal::invalid_argument);
  cmatrix bad = cmatrix::Identity(2, 2);
  bad(0, 0) = 2;
  CHECK_THROWS_WITH_AS(c.unitary(bad, 0), doctest::Contains("not unitary"), frugal::invalid_argument);
  CHECK_THROWS_AS(c.unitary(q::gates::cx(), 0), frugal::invalid_argument);
  CHECK_THROWS_AS((void)angle::parameter(-1), frugal::invalid_argument);
  c.rx(0, angle::parameter(2));
  q::state_vector<double> psi(3);
  CHECK_THROWS_AS(q::run(c, {0.1}, psi), frugal::invalid_argument);
  CHECK_THROWS_AS(q::run(c, {0.1, 0.2, std::nan("")}, psi), frugal::invalid_argument);
  q::state_vector<double> wrong(2);
  CHECK_THROWS_AS(q::run(c, {0.1, 0.2, 0.3}, wrong), frugal::invalid_argument);
  CHECK_THROWS_AS(q::circuit(0), frugal::invalid_argument);
  CHECK_THROWS_AS(q::circuit(3).append(q::circuit(2)), frugal::invalid_argument);
}
