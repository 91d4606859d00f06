// Pauli tomography, readout mitigation, ansatzes and the RobustState trainer.
#include <doctest/doctest.h>

#include <frugal/quantum.hpp>

#include "quantum_support.hpp"

namespace q = frugal::quantum;
using frugal::index_t;
using q::cmatrix;
using q::cvector;

namespace {

/// The exact outcome distributions of density matrix `r` in every basis of `measurement_bases(n)`.
std::vector<std::vector<double>> exact_distributions(const cmatrix& r, int n) {
  std::vector<std::vector<double>> out;
  for (const auto& b : q::measurement_bases(n)) {
    q::circuit change(n);
    q::append_basis_change(change, b);
    q::density_matrix<double> rho(n);
    rho.assign(r);
    q::run(change, {}, rho);
    out.push_back(q::probabilities(rho));
  }
  return out;
}

}  // namespace

TEST_CASE("Pauli labels, bases, and tomography from exact distributions") {
  CHECK(q::pauli_label(0, 3) == "III");
  CHECK(q::pauli_label(1 + 4 * 2 + 16 * 3, 3) == "XYZ");
  const auto bases = q::measurement_bases(3);
  CHECK(bases.size() == 27);
  CHECK(std::find(bases.begin(), bases.end(), "YXZ") != bases.end());
  // Exact distributions of a random mixed state in every basis -> every Pauli expectation and
  // the fidelity with a pure state.
  frugal::rng gen(41);
  const int n = 3;
  const cmatrix r = frugal::test::random_density(n, gen);
  const auto o = q::pauli_expectations(bases, exact_distributions(r, n), n);
  q::density_matrix<double> rho(n);
  rho.assign(r);
  const auto exact = q::pauli_expectations(rho);
  REQUIRE(o.size() == 64);
  for (std::size_t k = 0; k < o.size(); ++k) CHECK(o[k] == doctest::Approx(exact[k]).epsilon(1e-12).scale(1));
  CHECK(o[0] == doctest::Approx(1));
  const cvector psi = frugal::test::random_state(n, gen);
  CHECK(q::fidelity_from_paulis(o, q::pauli_coefficients(psi)) == doctest::Approx(q::fidelity(r, psi)).epsilon(1e-12));
  q::circuit bad(2);
  CHECK_THROWS_AS(q::append_basis_change(bad, "XQ"), frugal::invalid_argument);
  q::circuit two(2);
  CHECK_THROWS_AS(q::append_basis_change(two, "X"), frugal::invalid_argument);
}

TEST_CASE("readout mitigation inverts the confusion exactly") {
  frugal::rng gen(42);
  std::vector<double> p(8);
  double s = 0;
  for (auto& x : p) s += (x = gen.uniform());
  for (auto& x : p) x /= s;
  const std::vector<q::readout_error> errs = {{0.02, 0.06}, {0.05, 0.01}, {0.1, 0.2}};
  const auto back = q::mitigate_readout(q::apply_readout_error(p, errs), errs);
  for (std::size_t i = 0; i < p.size(); ++i) CHECK(back[i] == doctest::Approx(p[i]).epsilon(1e-12));
  CHECK_THROWS_AS((void)q::mitigate_readout(p, {{0.5, 0.5}, {0, 0}, {0, 0}}), frugal::invalid_argument);
}

TEST_CASE("hardware-efficient ansatz respects the coupling map") {
  const auto c = q::hardware_efficient_ansatz(4, 3, {{0, 1}, {2, 1}, {2, 3}});
  CHECK(c.parameters() == 4 * 4 * 2);
  int cx = 0;
  for (const auto& op : c.operations())
    if (op.kind == q::gate_kind::cx) {
      ++cx;
      const bool ok = (op.q0 == 0 && op.q1 == 1) || (op.q0 == 2 && op.q1 == 1) || (op.q0 == 2 && op.q1 == 3);
      CHECK(ok);
    }
  CHECK(cx == 9);
  const auto u = q::hardware_efficient_ansatz(3, 2, q::line_coupling(3), q::ansatz_style::u3_cu3);
  CHECK(u.parameters() == 3 * 3 * 3 + 2 * 2 * 3);
  CHECK_THROWS_AS((void)q::hardware_efficient_ansatz(3, 2, {{0, 3}}), frugal::invalid_argument);
  CHECK_THROWS_AS((void)q::hardware_efficient_ansatz(3, -1, {}), frugal::invalid_argument);
}

TEST_CASE("run_in_bases equals running each extended circuit") {
  const auto cal = q::calibrations::falcon_line(2);
  // With ZZ only during two-qubit gates the device has no schedule, so the two are the same run;
  // with always-on ZZ the basis change is its own final moment (test_device).
  const q::coherent_errors hidden{{0.04, -0.03}, 1.0, q::zz_coupling::during_two_qubit_gates};
  q::circuit c(2);
  c.ry(0, q::angle::parameter(0)).cx(0, 1).rx(1, q::angle::parameter(1));
  const std::vector<double> theta = {0.7, -0.4};
  const auto bases = q::measurement_bases(2);
  q::simulated_device a(cal, hidden, 5), b(cal, hidden, 5);
  const auto batched = a.run_in_bases(c, theta, bases, 500);
  for (std::size_t i = 0; i < bases.size(); ++i) {
    q::circuit extended = c;
    q::append_basis_change(extended, bases[i]);
    CHECK(b.run(extended, theta, 500) == batched[i]);
  }
}

TEST_CASE("train_on_outputs losses against brute force; the chained gradient's sign against finite differences") {
  const int n = 2;
  frugal::rng gen(43);
  const cmatrix r = frugal::test::random_density(n, gen);
  const cvector psi = frugal::test::random_state(n, gen);
  const cmatrix target = psi * psi.adjoint();
  const auto ansatz = q::hardware_efficient_ansatz(n, 2, q::line_coupling(n));
  std::vector<double> theta0(static_cast<std::size_t>(ansatz.parameters()));
  for (auto& x : theta0) x = gen.uniform(-1.0, 1.0);
  q::density_matrix<double> rho(n);
  rho.assign(r);
  const auto fixed = q::pauli_expectations(rho);
  auto constant = [&](const std::vector<double>&) { return fixed; };
  q::state_preparation_options o;
  o.steps = 1;
  // Pauli loss: the squared Hilbert-Schmidt distance.
  const auto pauli = q::train_on_outputs(ansatz, psi, theta0, constant, o);
  CHECK(pauli.loss[0] == doctest::Approx((r - target).squaredNorm()).epsilon(1e-12));
  // Distributions loss: the outcome distributions' squared L2 distance summed over the 3^n bases, / 3^n.
  const auto target_distributions = exact_distributions(target, n);
  auto distributions_loss = [&](const cmatrix& a) {
    const auto p = exact_distributions(a, n);
    double sum = 0;
    for (std::size_t b = 0; b < p.size(); ++b)
      for (std::size_t i = 0; i < p[b].size(); ++i)
        sum += (p[b][i] - target_distributions[b][i]) * (p[b][i] - target_distributions[b][i]);
    return sum / 9.0;
  };
  o.loss = q::output_loss::basis_distributions;
  const auto dist = q::train_on_outputs(ansatz, psi, theta0, constant, o);
  CHECK(dist.loss[0] == doctest::Approx(distributions_loss(r)).epsilon(1e-12));
  CHECK(dist.loss[0] != doctest::Approx(pauli.loss[0]).epsilon(1e-3));
  // Distilled-state loss: the fidelity of r^m / Tr(r^m), from r's eigendecomposition; its gradient
  // in the outputs, dL/do_P = Tr(P M) / d, against central differences in every o_P.
  const Eigen::SelfAdjointEigenSolver<cmatrix> es(r);
  o.loss = q::output_loss::distilled_state;
  for (const int m : {2, 3}) {
    double num = 0, den = 0;
    for (index_t k = 0; k < 4; ++k) {
      num += std::pow(es.eigenvalues()(k), m) * std::norm(es.eigenvectors().col(k).dot(psi));
      den += std::pow(es.eigenvalues()(k), m);
    }
    o.distillation_power = m;
    const auto distilled = q::train_on_outputs(ansatz, psi, theta0, constant, o);
    CHECK(distilled.loss[0] == doctest::Approx(1 - num / den).epsilon(1e-12));
    const auto lg = q::detail::distilled_state_loss(fixed, psi, n, m);
    CHECK(lg.loss == distilled.loss[0]);
    CHECK(lg.gradient.isApprox(lg.gradient.adjoint(), 1e-12));
    for (std::size_t k = 1; k < fixed.size(); ++k) {
      auto plus = fixed, minus = fixed;
      plus[k] += 1e-6;
      minus[k] -= 1e-6;
      const double fd = (q::detail::distilled_state_loss(plus, psi, n, m).loss -
                         q::detail::distilled_state_loss(minus, psi, n, m).loss) /
                        2e-6;
      const cmatrix p = q::pauli_matrix(q::pauli_string{q::pauli_label(static_cast<index_t>(k), n), 1.0});
      CHECK((p * lg.gradient).trace().real() / 4 == doctest::Approx(fd).epsilon(1e-6).scale(1e-6));
    }
  }
  o.distillation_power = 0;
  CHECK_THROWS_WITH_AS(q::train_on_outputs(ansatz, psi, theta0, constant, o), doctest::Contains("distillation_power"),
                       frugal::invalid_argument);
  o.distillation_power = 2;
  // Outputs from the noiseless simulator: the chained gradient is the loss's exact gradient, and
  // Adam's first step moves each parameter by -lr * sign(gradient).
  for (const auto loss :
       {q::output_loss::pauli, q::output_loss::basis_distributions, q::output_loss::distilled_state}) {
    o.loss = loss;
    o.learning_rate = 1e-3;
    auto outputs = [&](const std::vector<double>& th) { return q::pauli_expectations(q::simulate(ansatz, th)); };
    auto loss_at = [&](const std::vector<double>& th) {
      const cmatrix a = q::simulate(ansatz, th).to_host();
      if (loss == q::output_loss::distilled_state) return 1 - psi.dot(a * psi).real();  // a is pure: a^2 = a
      return loss == q::output_loss::pauli ? (a - target).squaredNorm() : distributions_loss(a);
    };
    const auto step = q::train_on_outputs(ansatz, psi, theta0, outputs, o);
    CHECK(step.loss[0] == doctest::Approx(loss_at(theta0)).epsilon(1e-10));
    int checked = 0;
    for (std::size_t i = 0; i < theta0.size(); ++i) {
      auto plus = theta0, minus = theta0;
      plus[i] += 1e-5;
      minus[i] -= 1e-5;
      const double fd = (loss_at(plus) - loss_at(minus)) / 2e-5;
      if (std::abs(fd) < 1e-3) continue;
      ++checked;
      CHECK((step.theta[i] - theta0[i]) * fd < 0);
      CHECK(std::abs(step.theta[i] - theta0[i]) == doctest::Approx(1e-3).epsilon(1e-3));
    }
    CHECK(checked >= 4);
  }
}

TEST_CASE("RobustState recovers device fidelity lost to hidden coherent errors; the noise model cannot") {
  const int n = 3;
  const auto cal = q::calibrations::falcon_line(n);
  const q::coherent_errors hidden{{0.06, -0.05, 0.07}, 1.0};
  const auto ansatz = q::hardware_efficient_ansatz(n, 3, q::line_coupling(n));
  cvector target = cvector::Zero(8);
  target[0] = target[7] = 1 / std::sqrt(2.0);
  q::simulated_device device(cal, hidden, 3);
  const q::noise_model model(cal);
  auto device_fidelity = [&](const std::vector<double>& th) {
    return q::fidelity(device.density(ansatz, th).to_host(), target);
  };
  frugal::rng gen(9);
  std::vector<double> theta0(static_cast<std::size_t>(ansatz.parameters()));
  for (auto& x : theta0) x = gen.uniform(-0.3, 0.3);
  q::state_preparation_options o;
  o.steps = 300;
  o.learning_rate = 0.05;
  const auto unaware = q::train_noiseless(ansatz, target, theta0, o);
  CHECK(unaware.loss.back() < 1e-4);  // the noiseless simulator reaches the target
  const double f_unaware = device_fidelity(unaware.theta);
  o.steps = 60;
  o.learning_rate = 0.01;
  const auto readout = model.readout_errors();
  const auto robust = q::train_on_outputs(
      ansatz, target, unaware.theta,
      [&](const std::vector<double>& th) { return q::measure_pauli_expectations(device, ansatz, th, 4096, readout); },
      o, device_fidelity);
  const auto on_model = q::train_on_outputs(
      ansatz, target, unaware.theta,
      [&](const std::vector<double>& th) { return q::pauli_expectations(q::simulate(ansatz, th, &model)); }, o);
  const double f_robust = device_fidelity(robust.theta), f_model = device_fidelity(on_model.theta);
  MESSAGE("device fidelity: noise-unaware " << f_unaware << ", noise model " << f_model << ", RobustState "
                                            << f_robust);
  CHECK(robust.loss.back() < robust.loss.front());
  CHECK(robust.fidelity.size() == 60);
  CHECK(f_robust > f_unaware + 0.02);
  CHECK(std::abs(f_model - f_unaware) < 0.01);
  CHECK_THROWS_AS((void)q::train_noiseless(ansatz, cvector::Ones(4) / 2.0, theta0), frugal::invalid_argument);
}
