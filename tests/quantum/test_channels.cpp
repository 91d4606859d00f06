// Channels against Kraus-sum references and analytic laws; measurement and analysis.
#include <doctest/doctest.h>

#include <frugal/quantum.hpp>

#include "quantum_support.hpp"

namespace q = frugal::quantum;
using frugal::index_t;
using frugal::test::embed;
using q::cmatrix;
using q::cvector;

namespace {

cmatrix kraus_reference(const cmatrix& rho, const std::vector<cmatrix>& ks, const std::vector<int>& qubits, int n) {
  cmatrix out = cmatrix::Zero(rho.rows(), rho.cols());
  for (const auto& k : ks) {
    const cmatrix full = embed(k, qubits, n);
    out += full * rho * full.adjoint();
  }
  return out;
}

/// Bloch vector of a one-qubit density matrix.
Eigen::Vector3d bloch(const cmatrix& rho) {
  return {2 * rho(0, 1).real(), -2 * rho(0, 1).imag(), (rho(0, 0) - rho(1, 1)).real()};
}

}  // namespace

TEST_CASE("channels on density matrices match the Kraus-sum reference and keep rho physical") {
  frugal::rng gen(21);
  const std::vector<q::channel> one = {
      q::channels::depolarizing(0.13),
      q::channels::amplitude_damping(0.3),
      q::channels::generalized_amplitude_damping(0.4, 0.2),
      q::channels::phase_damping(0.25),
      q::channels::pauli(0.05, 0.1, 0.02),
      q::channel::kraus({std::sqrt(0.7) * frugal::test::random_unitary(2, gen),
                         std::sqrt(0.3) * frugal::test::random_unitary(2, gen)}),
  };
  const std::vector<q::channel> two = {
      q::channels::depolarizing(0.2, 2),
      q::channel::kraus({std::sqrt(0.6) * frugal::test::random_unitary(4, gen),
                         std::sqrt(0.4) * frugal::test::random_unitary(4, gen)}),
  };
  for (int n = 1; n <= 5; ++n) {
    CAPTURE(n);
    q::density_matrix<double> rho(n);
    cmatrix ref = frugal::test::random_density(n, gen);
    rho.assign(ref);
    for (int step = 0; step < 20; ++step) {
      if (n >= 2 && step % 3 == 2) {
        const auto& ch = two[gen.uniform_int(two.size())];
        int a = static_cast<int>(gen.uniform_int(static_cast<std::uint64_t>(n))), b = a;
        while (b == a) b = static_cast<int>(gen.uniform_int(static_cast<std::uint64_t>(n)));
        q::apply_channel(rho, ch, a, b);
        ref = kraus_reference(ref, ch.kraus_operators(), {a, b}, n);
      } else {
        const auto& ch = one[gen.uniform_int(one.size())];
        const int a = static_cast<int>(gen.uniform_int(static_cast<std::uint64_t>(n)));
        q::apply_channel(rho, ch, a);
        ref = kraus_reference(ref, ch.kraus_operators(), {a}, n);
      }
      const cmatrix got = rho.to_host();
      REQUIRE((got - ref).cwiseAbs().maxCoeff() < 1e-12);
      frugal::test::require_physical(got, 1e-10);
    }
  }
}

TEST_CASE("channel laws: fixed points, composition, Bloch shrink, thermal decay") {
  frugal::rng gen(22);
  const cmatrix rho = frugal::test::random_density(1, gen);
  // Depolarizing shrinks the Bloch vector by (1 - p); its fixed point is I/2.
  const auto dep = q::channels::depolarizing(0.3);
  CHECK((bloch(dep.apply(rho)) - 0.7 * bloch(rho)).norm() < 1e-12);
  CHECK((dep.apply(cmatrix::Identity(2, 2) / 2.0) - cmatrix::Identity(2, 2) / 2.0).norm() < 1e-12);
  // Two-qubit depolarizing: fixed point I/4, and p = 1 maps everything there.
  const cmatrix rho2 = frugal::test::random_density(2, gen);
  CHECK((q::channels::depolarizing(1.0, 2).apply(rho2) - cmatrix::Identity(4, 4) / 4.0).norm() < 1e-12);
  // Amplitude damping composes: AD(g2)·AD(g1) = AD(1 - (1 - g1)(1 - g2)); fixed point |0><0|.
  const auto ad = q::channels::amplitude_damping(0.2).followed_by(q::channels::amplitude_damping(0.35));
  CHECK((ad.superoperator() - q::channels::amplitude_damping(1 - 0.8 * 0.65).superoperator()).norm() < 1e-12);
  cmatrix zero = cmatrix::Zero(2, 2);
  zero(0, 0) = 1;
  CHECK((q::channels::amplitude_damping(0.4).apply(zero) - zero).norm() < 1e-12);
  // Generalized amplitude damping: fixed point diag(1 - pe, pe).
  cmatrix thermal = cmatrix::Zero(2, 2);
  thermal(0, 0) = 0.85;
  thermal(1, 1) = 0.15;
  CHECK((q::channels::generalized_amplitude_damping(0.3, 0.15).apply(thermal) - thermal).norm() < 1e-12);
  // Phase damping leaves diagonal states alone and scales coherences by sqrt(1 - lambda).
  const cmatrix pd = q::channels::phase_damping(0.36).apply(rho);
  CHECK(std::abs(pd(0, 1) - 0.8 * rho(0, 1)) < 1e-12);
  CHECK(std::abs(pd(0, 0) - rho(0, 0)) < 1e-12);
  // Thermal relaxation: excited population decays as exp(-t/T1), coherence as exp(-t/T2) ...
  const double t1 = 80, t2 = 60, t = 7;
  const cmatrix tr = q::channels::thermal_relaxation(t1, t2, t).apply(rho);
  CHECK(tr(1, 1).real() == doctest::Approx(rho(1, 1).real() * std::exp(-t / t1)).epsilon(1e-12));
  CHECK(std::abs(tr(0, 1) - rho(0, 1) * std::exp(-t / t2)) < 1e-12);
  // ... composes over time ...
  const auto a = q::channels::thermal_relaxation(t1, t2, 3.0).followed_by(q::channels::thermal_relaxation(t1, t2, 4.0));
  CHECK((a.superoperator() - q::channels::thermal_relaxation(t1, t2, 7.0).superoperator()).norm() < 1e-12);
  // ... and equals amplitude damping followed by pure dephasing (valid because T2 <= 2 T1).
  const double gamma = 1 - std::exp(-t / t1);
  const double lambda = 1 - std::exp(-2 * t / t2 + t / t1);
  const auto split = q::channels::amplitude_damping(gamma).followed_by(q::channels::phase_damping(lambda));
  CHECK((split.superoperator() - q::channels::thermal_relaxation(t1, t2, t).superoperator()).norm() < 1e-12);
  // Applied on a register it stays physical.
  q::density_matrix<double> reg(3);
  reg.assign(frugal::test::random_density(3, gen));
  for (int k = 0; k < 3; ++k) q::apply_channel(reg, q::channels::thermal_relaxation(50, 100, 20, 0.05), k);
  frugal::test::require_physical(reg.to_host(), 1e-10);
}

TEST_CASE("channels reject bad parameters and non-CPTP Kraus sets") {
  CHECK_THROWS_AS(q::channels::depolarizing(-0.1), frugal::invalid_argument);
  CHECK_THROWS_AS(q::channels::depolarizing(1.4), frugal::invalid_argument);
  CHECK_NOTHROW(q::channels::depolarizing(4.0 / 3));
  CHECK_THROWS_AS(q::channels::depolarizing(0.1, 3), frugal::invalid_argument);
  CHECK_THROWS_AS(q::channels::amplitude_damping(1.2), frugal::invalid_argument);
  CHECK_THROWS_AS(q::channels::generalized_amplitude_damping(0.2, -0.1), frugal::invalid_argument);
  CHECK_THROWS_AS(q::channels::phase_damping(std::nan("")), frugal::invalid_argument);
  CHECK_THROWS_AS(q::channels::pauli(0.5, 0.4, 0.2), frugal::invalid_argument);
  CHECK_THROWS_WITH_AS(q::channels::thermal_relaxation(50, 120, 10), doctest::Contains("2*T1"),
                       frugal::invalid_argument);
  CHECK_THROWS_AS(q::channels::thermal_relaxation(-1, 1, 10), frugal::invalid_argument);
  CHECK_THROWS_AS(q::channels::thermal_relaxation(50, 60, -1), frugal::invalid_argument);
  CHECK_THROWS_WITH_AS(q::channel::kraus({q::gates::x() * 0.9}), doctest::Contains("not trace preserving"),
                       frugal::invalid_argument);
  CHECK_THROWS_AS(q::channel::kraus({}), frugal::invalid_argument);
  CHECK_THROWS_AS(q::channel::kraus({cmatrix::Identity(3, 3)}), frugal::invalid_argument);
  CHECK_THROWS_AS(q::channel::kraus({q::gates::x(), cmatrix::Identity(4, 4)}), frugal::invalid_argument);
  q::density_matrix<double> rho(2);
  CHECK_THROWS_AS(q::apply_channel(rho, q::channels::depolarizing(0.1, 2), 0), frugal::invalid_argument);
  CHECK_THROWS_AS(q::apply_channel(rho, q::channels::depolarizing(0.1), 0, 1), frugal::invalid_argument);
  CHECK_THROWS_AS(q::apply_channel(rho, q::channels::depolarizing(0.1), 2), frugal::invalid_argument);
}

TEST_CASE("probabilities, marginals, readout error and seeded shot sampling") {
  frugal::rng gen(23);
  const int n = 4;
  q::state_vector<double> psi(n);
  const cvector v = frugal::test::random_state(n, gen);
  psi.assign(v);
  q::density_matrix<double> rho(n);
  rho.assign_pure(v);
  const auto p = q::probabilities(psi);
  const auto pr = q::probabilities(rho);
  for (index_t i = 0; i < v.size(); ++i) {
    CHECK(p[static_cast<std::size_t>(i)] == doctest::Approx(std::norm(v[i])).epsilon(1e-12));
    CHECK(pr[static_cast<std::size_t>(i)] == doctest::Approx(std::norm(v[i])).epsilon(1e-12));
  }
  // Marginal of qubits (2, 0) against the partial trace.
  const auto m = q::marginal(p, n, {2, 0});
  const cmatrix reduced = q::partial_trace(v * v.adjoint(), n, {2, 0});
  for (int k = 0; k < 4; ++k) CHECK(m[static_cast<std::size_t>(k)] == doctest::Approx(reduced(k, k).real()));
  // Readout confusion on a product state: |0> reads 1 with e10, |1> reads 0 with e01.
  std::vector<double> basis(8, 0.0);
  basis[0b011] = 1;  // qubits 0 and 1 in |1>, qubit 2 in |0>
  const std::vector<q::readout_error> errs = {{0.02, 0.05}, {0.03, 0.1}, {0.04, 0.07}};
  const auto noisy = q::apply_readout_error(basis, errs);
  CHECK(noisy[0b011] == doctest::Approx(0.95 * 0.9 * 0.96));
  CHECK(noisy[0b111] == doctest::Approx(0.95 * 0.9 * 0.04));
  CHECK(noisy[0b000] == doctest::Approx(0.05 * 0.1 * 0.96));
  double sum = 0;
  for (double x : noisy) sum += x;
  CHECK(sum == doctest::Approx(1).epsilon(1e-12));
  CHECK_THROWS_AS((void)q::apply_readout_error(basis, {{0.02, 0.05}, {1.2, 0}, {0, 0}}), frugal::invalid_argument);
  // Shots within 3 sigma of the exact distribution; the same seed gives the same counts.
  const std::int64_t shots = 200000;
  frugal::rng s1(5), s2(5);
  const auto counts = q::sample_counts(p, shots, s1);
  CHECK(counts == q::sample_counts(p, shots, s2));
  std::int64_t total = 0;
  for (std::size_t i = 0; i < p.size(); ++i) {
    const double mean = shots * p[i], sigma = std::sqrt(shots * p[i] * (1 - p[i]));
    CHECK(std::abs(static_cast<double>(counts[i]) - mean) <= 3 * sigma + 1e-9);
    total += counts[i];
  }
  CHECK(total == shots);
  CHECK_THROWS_AS((void)q::sample_counts({0.5, 0.6}, 10, s1), frugal::invalid_argument);
  CHECK_THROWS_AS((void)q::sample_counts({1.5, -0.5}, 10, s1), frugal::invalid_argument);
  CHECK_THROWS_AS((void)q::sample_counts({1.0}, -1, s1), frugal::invalid_argument);
  CHECK_THROWS_AS((void)q::marginal(p, n, {0, 0}), frugal::invalid_argument);
  CHECK_THROWS_AS((void)q::marginal(p, n, {4}), frugal::invalid_argument);
}

TEST_CASE("Pauli expectations against dense matrices, on both registers") {
  frugal::rng gen(24);
  const int n = 4;
  const cvector v = frugal::test::random_state(n, gen);
  const cmatrix r = frugal::test::random_density(n, gen);
  q::state_vector<double> psi(n);
  psi.assign(v);
  q::density_matrix<double> rho(n);
  rho.assign(r);
  const char letters[4] = {'I', 'X', 'Y', 'Z'};
  for (int trial = 0; trial < 60; ++trial) {
    q::pauli_string p{"", gen.uniform(-2, 2)};
    for (int k = 0; k < n; ++k) p.ops += letters[gen.uniform_int(4)];
    CAPTURE(p.ops);
    const cmatrix m = q::pauli_matrix(p);
    CHECK(q::expectation(psi, p) == doctest::Approx((v.adjoint() * m * v)(0, 0).real()).epsilon(1e-12));
    CHECK(q::expectation(rho, p) == doctest::Approx((m * r).trace().real()).epsilon(1e-12));
  }
  CHECK_THROWS_AS((void)q::expectation(psi, q::pauli_string{"XX"}), frugal::invalid_argument);
  CHECK_THROWS_AS((void)q::expectation(psi, q::pauli_string{"XXQX"}), frugal::invalid_argument);
}

TEST_CASE("partial trace, purity and fidelities") {
  frugal::rng gen(25);
  // A Bell pair: each half is maximally mixed.
  cvector bell = cvector::Zero(4);
  bell[0] = bell[3] = 1 / std::sqrt(2.0);
  const cmatrix half = q::partial_trace(bell * bell.adjoint(), 2, {1});
  CHECK((half - cmatrix::Identity(2, 2) / 2.0).norm() < 1e-12);
  CHECK(q::purity(half) == doctest::Approx(0.5));
  // Product state: partial trace recovers each factor, in the requested order.
  const cmatrix a = frugal::test::random_density(1, gen), b = frugal::test::random_density(2, gen);
  const cmatrix prod = q::kron(b, a);  // a on qubit 0, b on qubits 1, 2
  CHECK((q::partial_trace(prod, 3, {0}) - a).norm() < 1e-12);
  CHECK((q::partial_trace(prod, 3, {1, 2}) - b).norm() < 1e-12);
  const cmatrix swapped = q::partial_trace(prod, 3, {2, 1});
  CHECK((swapped - frugal::test::permutation(2, {1, 0}) * b * frugal::test::permutation(2, {1, 0}).transpose()).norm() <
        1e-12);
  // Fidelity: pure vs pure is |<a|b>|^2 both ways; mixed-state fidelity is symmetric, 1 on equal
  // states, and matches the closed form for one qubit.
  const cvector x = frugal::test::random_state(3, gen), y = frugal::test::random_state(3, gen);
  const double overlap = std::norm(x.dot(y));
  CHECK(q::fidelity(x * x.adjoint(), y) == doctest::Approx(overlap));
  CHECK(q::fidelity(cmatrix(x * x.adjoint()), cmatrix(y * y.adjoint())) == doctest::Approx(overlap).epsilon(1e-9));
  const cmatrix s = frugal::test::random_density(1, gen);
  const double closed = ((a * s).trace().real() + 2 * std::sqrt(a.determinant().real() * s.determinant().real()));
  CHECK(q::fidelity(a, s) == doctest::Approx(closed).epsilon(1e-9));
  CHECK(q::fidelity(s, a) == doctest::Approx(closed).epsilon(1e-9));
  CHECK(q::fidelity(b, b) == doctest::Approx(1).epsilon(1e-9));
  CHECK_THROWS_AS((void)q::partial_trace(prod, 3, {0, 0}), frugal::invalid_argument);
  CHECK_THROWS_AS((void)q::partial_trace(prod, 2, {0}), frugal::invalid_argument);
}
