// LayerNorm, BatchNorm1d, dropout and residual: values against direct formulas, gradients against
// finite differences, the same bits on Serial and on the default host space.
#include <doctest/doctest.h>

#include <frugal/nn.hpp>

#include <algorithm>
#include <cmath>
#include <vector>

#include "gradcheck.hpp"
#include "test_support.hpp"

using namespace frugal;

namespace {
void randomise(nn::parameter<double>& p, rng& gen) {
  for (index_t i = 0; i < p.value.size(); ++i) p.value.data()[i] = gen.normal();
}
}  // namespace

TEST_CASE_TEMPLATE("layer_norm: rows normalised, gradients match finite differences", Exec, FRUGAL_TEST_SPACES) {
  rng gen(3);
  // 37 rows: uneven over two threads; rank 3 input (last extent normalised).
  nn::tensor<double> x({37, 2, 5});
  test::fill_normal(x, gen, 3.0);
  nn::layer_norm<double, Exec> plain(5, {.affine = false});
  const auto& y = plain.forward(x);
  for (index_t r = 0; r < 74; ++r) {
    double mean = 0, sq = 0;
    for (index_t j = 0; j < 5; ++j) mean += y[r * 5 + j];
    for (index_t j = 0; j < 5; ++j) sq += y[r * 5 + j] * y[r * 5 + j];
    CHECK(mean / 5 == doctest::Approx(0).scale(1));
    CHECK(sq / 5 == doctest::Approx(1.0).epsilon(1e-4));  // var / (var + ε)
  }
  nn::layer_norm<double, Exec> ln(5);
  randomise(ln.weight(), gen);
  randomise(ln.bias(), gen);
  nn::tensor<double> small({7, 5});
  test::fill_normal(small, gen);
  test::check_layer_gradients(ln, small, gen);
  test::check_layer_gradients(plain, small, gen);
  CHECK_THROWS_AS(ln.forward(nn::tensor<double>({3, 4})), shape_error);
}

TEST_CASE_TEMPLATE("batch_norm1d: batch statistics, running statistics, gradients", Exec, FRUGAL_TEST_SPACES) {
  rng gen(4);
  nn::tensor<double> x({9, 6});
  test::fill_normal(x, gen, 2.0);
  for (index_t i = 0; i < x.size(); ++i) x[i] += 1.5;
  nn::batch_norm1d<double, Exec> bn(6, {.momentum = 0.25});
  const auto& y = bn.forward(x);
  for (index_t j = 0; j < 6; ++j) {
    double mean = 0, var = 0, out_mean = 0, out_sq = 0;
    for (index_t i = 0; i < 9; ++i) mean += x[i * 6 + j] / 9;
    for (index_t i = 0; i < 9; ++i) var += (x[i * 6 + j] - mean) * (x[i * 6 + j] - mean) / 9;
    for (index_t i = 0; i < 9; ++i) {
      out_mean += y[i * 6 + j] / 9;
      out_sq += y[i * 6 + j] * y[i * 6 + j] / 9;
      CHECK(y[i * 6 + j] == doctest::Approx((x[i * 6 + j] - mean) / std::sqrt(var + 1e-5)));
    }
    CHECK(out_mean == doctest::Approx(0).scale(1));
    CHECK(out_sq == doctest::Approx(var / (var + 1e-5)));
    CHECK(bn.running_mean()[static_cast<std::size_t>(j)] == doctest::Approx(0.25 * mean));
    CHECK(bn.running_var()[static_cast<std::size_t>(j)] == doctest::Approx(0.75 + 0.25 * var * 9 / 8));
  }
  // Evaluation mode: running statistics, nothing updated.
  const std::vector<double> rm = bn.running_mean();
  bn.set_training(false);
  const auto& e = bn.forward(x);
  CHECK(e[0] == doctest::Approx((x[0] - rm[0]) / std::sqrt(bn.running_var()[0] + 1e-5)));
  CHECK(bn.running_mean() == rm);
  // Gradients in both modes (the training check re-runs forward, which moves the running
  // statistics but not the output).
  randomise(bn.weight(), gen);
  randomise(bn.bias(), gen);
  test::check_layer_gradients(bn, x, gen);
  bn.set_training(true);
  test::check_layer_gradients(bn, x, gen);
  CHECK_THROWS_WITH_AS(bn.forward(nn::tensor<double>({1, 6})), doctest::Contains("more than one sample"),
                       invalid_argument);
  // Running statistics survive a checkpoint.
  const auto dir = test::scratch_dir("batch-norm");
  {
    checkpoint_writer w;
    bn.save_state(w, "bn");
    w.write(dir / "bn.ck");
  }
  nn::batch_norm1d<double, Exec> other(6);
  other.load_state(checkpoint_reader(dir / "bn.ck"), "bn");
  CHECK(other.running_var() == bn.running_var());
  nn::batch_norm1d<double, Exec> wrong(5);
  CHECK_THROWS_AS(wrong.load_state(checkpoint_reader(dir / "bn.ck"), "bn"), format_error);
}

TEST_CASE("normalisation layers: the same bits on Serial and on the default host space") {
  rng gen(6);
  nn::tensor<double> x({1001, 24});
  test::fill_normal(x, gen);
  nn::tensor<double> dy;
  dy.resize_like(x);
  test::fill_normal(dy, gen);
  auto run = [&](auto&& layer) {
    layer.forward(x);
    std::vector<double> out(layer.forward(x).data(), layer.forward(x).data() + x.size());
    const auto& dx = layer.backward(dy, true);
    out.insert(out.end(), dx.data(), dx.data() + dx.size());
    out.insert(out.end(), layer.weight().grad.data(), layer.weight().grad.data() + 24);
    return out;
  };
  CHECK(run(nn::layer_norm<double, Kokkos::Serial>(24)) ==
        run(nn::layer_norm<double, Kokkos::DefaultHostExecutionSpace>(24)));
  CHECK(run(nn::batch_norm1d<double, Kokkos::Serial>(24)) ==
        run(nn::batch_norm1d<double, Kokkos::DefaultHostExecutionSpace>(24)));
}

TEST_CASE("dropout: keeps 1 − p of the values scaled by 1 / (1 − p), masks independent of threads") {
  nn::tensor<float> x({300, 100});
  for (index_t i = 0; i < x.size(); ++i) x[i] = 1.0f;
  nn::dropout<float, Kokkos::Serial> a(0.3f, 9);
  nn::dropout<float, Kokkos::DefaultHostExecutionSpace> b(0.3f, 9);
  const nn::tensor<float> ya = a.forward(x);
  const auto& yb = b.forward(x);
  index_t kept = 0;
  for (index_t i = 0; i < x.size(); ++i) {
    CHECK((ya[i] == 0.0f || ya[i] == doctest::Approx(1 / 0.7f)));
    kept += ya[i] != 0.0f;
    REQUIRE(ya[i] == yb[i]);
  }
  // 30000 Bernoulli(0.7) draws: 21000 ± 79 (one standard deviation).
  CHECK(std::abs(static_cast<double>(kept) - 21000.0) < 5 * 79.4);
  // The next forward draws a new mask; backward multiplies by the mask of the last forward.
  const nn::tensor<float> second = a.forward(x);
  CHECK(second.flat().cwiseNotEqual(ya.flat()).count() > 0);
  const auto& dx = a.backward(x, true);
  CHECK(dx.flat().isApprox(second.flat()));
  // Resuming at step 1 redraws the second mask exactly; evaluation mode is the identity.
  nn::dropout<float> c(0.3f, 9);
  c.set_step(1);
  CHECK(c.forward(x).flat().isApprox(second.flat(), 0.0f));
  c.set_training(false);
  CHECK(c.forward(x).flat().isApprox(x.flat(), 0.0f));
  CHECK_THROWS_AS(nn::dropout<float>(1.0f), invalid_argument);
}

TEST_CASE("residual: y = x + f(x), gradients match finite differences, shape mismatch refused") {
  rng gen(12);
  nn::chain<double> body;
  body.add(nn::linear<double>(6, 8)).add(nn::relu<double>()).add(nn::linear<double>(8, 6));
  nn::residual block(std::move(body));
  block.reset_parameters(gen);
  nn::tensor<double> x({5, 6});
  test::fill_normal(x, gen);
  const nn::tensor<double> y = block.forward(x);
  const auto& fx = block.body().forward(x);
  for (index_t i = 0; i < x.size(); ++i) CHECK(y[i] == doctest::Approx(x[i] + fx[i]));
  test::check_layer_gradients(block, x, gen);
  nn::parameter_registry<double> reg;
  block.register_parameters(reg, "res");
  CHECK(reg.find("res.body.0.weight") != nullptr);
  nn::residual bad(nn::linear<double>(6, 4));
  CHECK_THROWS_WITH_AS(bad.forward(x), doctest::Contains("needs the same shape"), invalid_argument);
}

// Per-call forward state: two forwards in flight, their backwards in reverse order, give what the
// one-at-a-time layer gives (input gradients bit for bit, parameter gradients to rounding: they
// are summed in the other order).
namespace {
bool same(const nn::tensor<double>& a, const nn::tensor<double>& b) {
  return a.size() == b.size() && std::equal(a.data(), a.data() + a.size(), b.data());
}
}  // namespace

TEST_CASE_TEMPLATE("per-call forward state: linear, relu and layer_norm with two calls in flight", Exec,
                   FRUGAL_TEST_SPACES) {
  rng gen(11);
  nn::tensor<double> x1({7, 6}), x2({9, 6}), d1({7, 6}), d2({9, 6});
  for (auto* t : {&x1, &x2, &d1, &d2}) test::fill_normal(*t, gen, 1.0);
  auto run = [&](auto& make) {
    auto one = make();
    auto two = make();
    // One at a time.
    std::vector<nn::tensor<double>> expected;
    one.forward(x1);
    expected.push_back(one.backward(d1));
    one.forward(x2);
    expected.push_back(one.backward(d2));
    // Both forwards first, with states; the backwards in reverse.
    typename std::decay_t<decltype(two)>::forward_state s1, s2;
    const nn::tensor<double> y1 = two.forward(x1, s1);
    const nn::tensor<double> y2 = two.forward(x2, s2);
    one.forward(x1);
    CHECK(same(y1, one.forward(x1)));
    CHECK(same(y2, one.forward(x2)));
    const nn::tensor<double> g2 = two.backward(d2, s2);
    const nn::tensor<double> g1 = two.backward(d1, s1);
    CHECK(same(g1, expected[0]));
    CHECK(same(g2, expected[1]));
    nn::parameter_registry<double> a, b;
    one.register_parameters(a, "p");
    two.register_parameters(b, "p");
    for (std::size_t i = 0; i < a.size(); ++i) {
      INFO(a[i].name);
      const nn::matrix<double> gap = a[i].param->grad - b[i].param->grad;
      CHECK(gap.norm() <= 1e-12 * std::max(1.0, a[i].param->grad.norm()));
    }
  };
  auto linear = [] {
    nn::linear<double, nn::dense_weight<double>, Exec> l(6, 6);
    rng g(5);
    l.reset_parameters(g);
    return l;
  };
  auto relu = [] { return nn::relu<double, Exec>(); };
  auto norm = [] {
    nn::layer_norm<double, Exec> n(6);
    rng g(6);
    for (auto* p : {&n.weight(), &n.bias()})
      for (index_t i = 0; i < p->value.size(); ++i) p->value.data()[i] = g.normal();
    return n;
  };
  SUBCASE("linear") { run(linear); }
  SUBCASE("relu") { run(relu); }
  SUBCASE("layer_norm") { run(norm); }
  // A state that has seen no forward is refused.
  nn::layer_norm<double, Exec> fresh(6);
  typename nn::layer_norm<double, Exec>::forward_state empty;
  CHECK_THROWS_AS((void)fresh.backward(d1, empty), invalid_argument);
  auto l = linear();
  const typename decltype(l)::forward_state none;
  CHECK_THROWS_AS((void)l.backward(d1, none), invalid_argument);
}
