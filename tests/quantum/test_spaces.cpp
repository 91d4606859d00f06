// The quantum simulators on every execution space and real type: the kernels against the plain
// serial reference on random registers whose group counts split unevenly across threads, and
// simulate / density_adjoint_gradient / the stand-in device / RobustState training in float and
// double on Kokkos::Serial and the default host space (Kokkos::OpenMP in the openmp preset). The
// simulators fix every reduction's order (frugal::reproducible_sum), so double results on any
// space equal Kokkos::Serial's bit for bit; float results match double within float rounding.
#include <doctest/doctest.h>

#include <frugal/quantum.hpp>

#include "quantum_support.hpp"
#include "test_support.hpp"

namespace q = frugal::quantum;
using frugal::index_t;
using q::cmatrix;
using q::cvector;

namespace {

template <class R>
constexpr double tolerance_of() {
  return std::is_same_v<R, float> ? 2e-5 : 1e-12;
}

/// A register's flat entries on the host, in double.
template <class Reg>
cvector flat(const Reg& reg) {
  auto h = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace{}, reg.data());
  cvector out(static_cast<index_t>(h.extent(0)));
  for (index_t i = 0; i < out.size(); ++i)
    out[i] = {static_cast<double>(h(i).real()), static_cast<double>(h(i).imag())};
  return out;
}

/// A 3-qubit noisy test circuit whose parameters every gradient test uses.
q::circuit test_circuit() {
  q::circuit c(3);
  c.ry(0, q::angle::parameter(0)).rz(1, q::angle::parameter(1)).cx(0, 1);
  c.u3(2, q::angle::parameter(2), q::angle::parameter(3), 0.4).crx(1, 2, q::angle::parameter(4));
  c.rzz(0, 1, q::angle::parameter(0, -0.5, 0.2)).sx(2).cx(1, 2).h(0);
  return c;
}

}  // namespace

TEST_CASE_TEMPLATE("gate, channel and conjugation kernels on every space equal the serial reference", Exec,
                   FRUGAL_TEST_SPACES) {
  frugal::rng gen(2024);
  const Exec exec;
  // State vectors: every qubit (pair) of 7 and 9 qubits, dense and monomial matrices.
  for (int n : {7, 9}) {
    const cvector psi = frugal::test::random_state(n, gen);
    for (int a = 0; a < n; ++a) {
      const int b = (a + 3) % n;
      const cmatrix u1 = frugal::test::random_unitary(2, gen), u2 = frugal::test::random_unitary(4, gen);
      for (const cmatrix& m2 : {u2, q::gates::cx()}) {
        q::state_vector<double, Exec> v(n, exec);
        v.assign(psi);
        q::apply_unitary(exec, v, u1, a);
        q::apply_unitary(exec, v, m2, a, b);
        cvector ref = psi;
        q::reference_apply_bits(ref, u1, {a});
        q::reference_apply_bits(ref, m2, {a, b});
        CHECK((v.to_host() - ref).cwiseAbs().maxCoeff() < 1e-12);
        q::state_vector<double, Kokkos::Serial> s(n);
        s.assign(psi);
        q::apply_unitary(Kokkos::Serial{}, s, u1, a);
        q::apply_unitary(Kokkos::Serial{}, s, m2, a, b);
        CHECK(flat(v) == flat(s));  // each entry is one thread's arithmetic: bit-identical
      }
    }
  }
  // Density matrices of 5 and 6 qubits: superoperators on (q, n + q), U·ρ·U† per 4 × 4 block.
  for (int n : {5, 6}) {
    const cmatrix rho = frugal::test::random_density(n, gen);
    for (int a = 0; a < n; ++a) {
      const int b = (a + 2) % n;
      const cmatrix u = frugal::test::random_unitary(4, gen);
      const auto dep = q::channels::depolarizing(0.07, 2);
      const auto amp = q::channels::amplitude_damping(0.2);
      q::density_matrix<double, Exec> r(n, exec);
      r.assign(rho);
      q::apply_channel(exec, r, amp, a);
      q::apply_unitary(exec, r, u, a, b);
      q::apply_channel(exec, r, dep, a, b);
      {
        const cmatrix t = rho.transpose();  // column-major storage of ρᵀ: ρ's row-major flat entries
        cvector v = Eigen::Map<const cvector>(t.data(), t.size());
        q::reference_apply_bits(v, amp.superoperator(), {a, n + a});
        q::reference_apply_bits(v, q::kron(u, u.conjugate()), {a, b, n + a, n + b});
        q::reference_apply_bits(v, dep.superoperator(), {a, b, n + a, n + b});
        CHECK((flat(r) - v).cwiseAbs().maxCoeff() < 1e-12);
      }
      q::density_matrix<double, Kokkos::Serial> s(n);
      s.assign(rho);
      q::apply_channel(Kokkos::Serial{}, s, amp, a);
      q::apply_unitary(Kokkos::Serial{}, s, u, a, b);
      q::apply_channel(Kokkos::Serial{}, s, dep, a, b);
      CHECK(flat(r) == flat(s));
    }
  }
}

TEST_CASE_TEMPLATE("expectations and inner products on every space are bit-identical to Kokkos::Serial", Exec,
                   FRUGAL_TEST_SPACES) {
  frugal::rng gen(77);
  // 8 qubits: 65536 density-matrix entries, several chunks of the reproducible sum.
  const int n = 8;
  const cmatrix rho = frugal::test::random_density(n, gen);
  q::density_matrix<double, Exec> r(n);
  q::density_matrix<double, Kokkos::Serial> s(n);
  r.assign(rho, 1e-6);
  s.assign(rho, 1e-6);
  for (const char* p : {"XIZYIIZX", "ZZZZZZZZ", "IYIYIXIX"}) {
    const q::pauli_string ps{p, 0.7};
    const double e = q::expectation(r, ps);
    CHECK(e == q::expectation(s, ps));
    CHECK(e == doctest::Approx((q::pauli_matrix(ps) * rho).trace().real()).epsilon(1e-10));
  }
  const int m = 16;  // 65536 amplitudes
  const cvector a = frugal::test::random_state(m, gen), b = frugal::test::random_state(m, gen);
  q::state_vector<double, Exec> va(m), vb(m);
  q::state_vector<double, Kokkos::Serial> sa(m), sb(m);
  va.assign(a);
  vb.assign(b);
  sa.assign(a);
  sb.assign(b);
  const std::complex<double> z = q::detail::inner(va, vb);
  CHECK(z == q::detail::inner(sa, sb));
  CHECK(std::abs(z - a.dot(b)) < 1e-12);
}

TEST_CASE_TEMPLATE("simulate and the density adjoint gradient in float and double on every space", Exec,
                   FRUGAL_TEST_SPACES) {
  const auto cal = q::calibrations::falcon_line(3);
  const q::noise_model model(cal);
  const auto c = test_circuit();
  const std::vector<double> theta = {0.7, -1.1, 0.4, 2.0, -0.6};
  frugal::rng gen(5);
  const cmatrix o = frugal::test::random_pauli_observable(3, 4, gen);
  const Exec exec;
  for (const q::noise_model* noise : {static_cast<const q::noise_model*>(nullptr), &model}) {
    const auto ref = q::simulate<double, Kokkos::Serial>(c, theta, noise);
    const auto ref_grad = q::density_adjoint_gradient<double, Kokkos::Serial>(c, theta, o, noise);
    // double on this space: the serial bits.
    const auto d = q::simulate<double, Exec>(c, theta, noise, exec);
    static_assert(std::is_same_v<typename std::remove_cvref_t<decltype(d)>::execution_space, Exec>);
    CHECK(flat(d) == flat(ref));
    const auto dg = q::density_adjoint_gradient<double, Exec>(c, theta, o, noise, exec);
    CHECK(dg.value == ref_grad.value);
    CHECK(dg.gradient == ref_grad.gradient);
    // float: within float rounding of double, still a physical state.
    const auto f = q::simulate<float, Exec>(c, theta, noise, exec);
    static_assert(std::is_same_v<typename std::remove_cvref_t<decltype(f)>::real_type, float>);
    CHECK((f.to_host() - ref.to_host()).cwiseAbs().maxCoeff() < tolerance_of<float>());
    frugal::test::require_physical(f.to_host(), 1e-5);
    const auto fg = q::density_adjoint_gradient<float, Exec>(c, theta, o, noise, exec);
    CHECK(fg.value == doctest::Approx(ref_grad.value).epsilon(1e-5).scale(1));
    for (std::size_t i = 0; i < theta.size(); ++i)
      CHECK(fg.gradient[i] == doctest::Approx(ref_grad.gradient[i]).epsilon(1e-4).scale(1));
  }
}

TEST_CASE_TEMPLATE("the stand-in device in float and double on every space", Exec, FRUGAL_TEST_SPACES) {
  const auto cal = q::calibrations::falcon_line(3);
  const q::coherent_errors hidden{{0.03, -0.02, 0.04}, 1.0, q::zz_coupling::always_on};
  const auto c = test_circuit();
  const std::vector<double> theta = {0.7, -1.1, 0.4, 2.0, -0.6};
  const auto bases = q::measurement_bases(3);
  q::basic_simulated_device<double, Kokkos::Serial> ref(cal, hidden, 9);
  q::basic_simulated_device<double, Exec> dev(cal, hidden, 9, Exec{});
  q::basic_simulated_device<float, Exec> single(cal, hidden, 9, Exec{});
  static_assert(q::Device<q::basic_simulated_device<float, Exec>>);
  CHECK(flat(dev.density(c, theta)) == flat(ref.density(c, theta)));
  CHECK(dev.run(c, theta, 4000) == ref.run(c, theta, 4000));  // same probabilities, same seed
  CHECK(dev.run_in_bases(c, theta, bases, 300) == ref.run_in_bases(c, theta, bases, 300));
  CHECK((single.density(c, theta).to_host() - ref.density(c, theta).to_host()).cwiseAbs().maxCoeff() <
        tolerance_of<float>());
  const auto pf = single.probabilities(c, theta), pd = ref.probabilities(c, theta);
  for (std::size_t i = 0; i < pd.size(); ++i) CHECK(pf[i] == doctest::Approx(pd[i]).epsilon(1e-5).scale(1));
  // float counts: sampled from probabilities within 1e-5 of double's, so within a few counts of them.
  const auto counts = single.run(c, theta, 100000);
  std::int64_t total = 0;
  for (std::size_t i = 0; i < pd.size(); ++i) {
    total += counts[i];
    CHECK(std::abs(counts[i] - 1e5 * pd[i]) <= 4 * std::sqrt(1e5 * pd[i] * (1 - pd[i])) + 1);
  }
  CHECK(total == 100000);
}

TEST_CASE_TEMPLATE("RobustState training in float and double on every space", Exec, FRUGAL_TEST_SPACES) {
  const int n = 2;
  const auto cal = q::calibrations::falcon_line(n);
  const q::noise_model model(cal);
  const q::coherent_errors hidden{{0.05, -0.04}, 1.0, q::zz_coupling::always_on};
  const auto ansatz = q::hardware_efficient_ansatz(n, 2, q::line_coupling(n));
  frugal::rng gen(8);
  const cvector psi = frugal::test::random_state(n, gen);
  std::vector<double> theta0(static_cast<std::size_t>(ansatz.parameters()));
  for (auto& x : theta0) x = gen.uniform(-1.0, 1.0);
  q::state_preparation_options o;
  o.steps = 4;
  o.jacobian_noise = &model;
  o.loss = q::output_loss::distilled_state;
  const q::basic_simulated_device<double, Kokkos::Serial> ref_dev(cal, hidden, 1);
  const auto ref = q::train_on_outputs<double, Kokkos::Serial>(
      ansatz, psi, theta0,
      [&](const std::vector<double>& t) { return q::pauli_expectations(ref_dev.density(ansatz, t)); }, o);
  const q::basic_simulated_device<double, Exec> dev(cal, hidden, 1);
  const auto d = q::train_on_outputs<double, Exec>(
      ansatz, psi, theta0, [&](const std::vector<double>& t) { return q::pauli_expectations(dev.density(ansatz, t)); },
      o, {}, Exec{});
  CHECK(d.loss == ref.loss);
  CHECK(d.theta == ref.theta);
  const q::basic_simulated_device<float, Exec> single(cal, hidden, 1);
  const auto f = q::train_on_outputs<float, Exec>(
      ansatz, psi, theta0,
      [&](const std::vector<double>& t) { return q::pauli_expectations(single.density(ansatz, t)); }, o, {}, Exec{});
  for (std::size_t s = 0; s < ref.loss.size(); ++s)
    CHECK(f.loss[s] == doctest::Approx(ref.loss[s]).epsilon(1e-4).scale(1e-3));
  for (std::size_t i = 0; i < ref.theta.size(); ++i) CHECK(std::abs(f.theta[i] - ref.theta[i]) < 1e-3);
  // The noiseless trainer on this space.
  q::state_preparation_options plain;
  plain.steps = 3;
  const auto a = q::train_noiseless<double, Kokkos::Serial>(ansatz, psi, theta0, plain);
  const auto b = q::train_noiseless<double, Exec>(ansatz, psi, theta0, plain, {}, Exec{});
  CHECK(a.loss == b.loss);
  const auto fl = q::train_noiseless<float, Exec>(ansatz, psi, theta0, plain, {}, Exec{});
  for (std::size_t s = 0; s < a.loss.size(); ++s)
    CHECK(fl.loss[s] == doctest::Approx(a.loss[s]).epsilon(1e-4).scale(1e-3));
}
