#include <doctest/doctest.h>

#include <frugal/nn.hpp>

#include <cmath>

namespace nn = frugal::nn;

namespace {
struct one_param {
  nn::parameter<double> p;
  nn::parameter_registry<double> registry;
  explicit one_param(std::initializer_list<double> values) {
    p.resize(1, static_cast<frugal::index_t>(values.size()));
    int i = 0;
    for (double v : values) p.value(0, i++) = v;
    registry.add("w", p);
  }
  void set_grad(std::initializer_list<double> g) {
    int i = 0;
    for (double v : g) p.grad(0, i++) = v;
  }
};
}  // namespace

TEST_CASE("sgd: plain, momentum, nesterov and weight decay match hand-computed steps") {
  {
    one_param m({1.0, -2.0});
    nn::sgd<double> opt({.learning_rate = 0.1});
    m.set_grad({0.5, -1.0});
    opt.step(m.registry);
    CHECK(m.p.value(0, 0) == doctest::Approx(0.95));
    CHECK(m.p.value(0, 1) == doctest::Approx(-1.9));
  }
  {
    // b1 = g1 = 1; w = 1 - 0.1 = 0.9. b2 = 0.9*1 + 2 = 2.9; w = 0.9 - 0.29 = 0.61.
    one_param m({1.0});
    nn::sgd<double> opt({.learning_rate = 0.1, .momentum = 0.9});
    m.set_grad({1.0});
    opt.step(m.registry);
    CHECK(m.p.value(0, 0) == doctest::Approx(0.9));
    m.set_grad({2.0});
    opt.step(m.registry);
    CHECK(m.p.value(0, 0) == doctest::Approx(0.61));
  }
  {
    // Nesterov: b1 = 1, g = 1 + 0.9*1 = 1.9, w = 1 - 0.19 = 0.81.
    one_param m({1.0});
    nn::sgd<double> opt({.learning_rate = 0.1, .momentum = 0.9, .nesterov = true});
    m.set_grad({1.0});
    opt.step(m.registry);
    CHECK(m.p.value(0, 0) == doctest::Approx(0.81));
  }
  {
    // Weight decay 0.5: g = 1 + 0.5*2 = 2; w = 2 - 0.1*2 = 1.8.
    one_param m({2.0});
    nn::sgd<double> opt({.learning_rate = 0.1, .weight_decay = 0.5});
    m.set_grad({1.0});
    opt.step(m.registry);
    CHECK(m.p.value(0, 0) == doctest::Approx(1.8));
  }
  CHECK_THROWS_AS(nn::sgd<double>({.learning_rate = -1}), frugal::invalid_argument);
  CHECK_THROWS_AS(nn::sgd<double>({.nesterov = true}), frugal::invalid_argument);
}

TEST_CASE("adam: two steps match the bias-corrected formula computed by hand") {
  one_param m({1.0});
  const double lr = 0.1, b1 = 0.9, b2 = 0.999, eps = 1e-8;
  nn::adam<double> opt({.learning_rate = lr, .beta1 = b1, .beta2 = b2, .epsilon = eps});
  m.set_grad({2.0});
  opt.step(m.registry);
  // m1 = 0.2, v1 = 0.004; m̂ = 2, v̂ = 4 -> step lr * 2 / (2 + eps).
  CHECK(m.p.value(0, 0) == doctest::Approx(1.0 - lr * 2 / (2 + eps)).epsilon(1e-12));
  m.set_grad({-1.0});
  opt.step(m.registry);
  const double m2 = b1 * 0.2 + (1 - b1) * -1.0, v2 = b2 * 0.004 + (1 - b2) * 1.0;
  const double mhat = m2 / (1 - b1 * b1), vhat = v2 / (1 - b2 * b2);
  CHECK(m.p.value(0, 0) ==
        doctest::Approx(1.0 - lr * 2 / (2 + eps) - lr * mhat / (std::sqrt(vhat) + eps)).epsilon(1e-12));
  CHECK(opt.step_count() == 2);
}

TEST_CASE("rowwise adagrad: one accumulator per row, hand-computed") {
  nn::parameter<double> p;
  p.resize(2, 2);
  p.value << 1, 2, 3, 4;
  p.grad << 3, 4, 0, 2;
  nn::parameter_registry<double> registry;
  registry.add("table", p);
  nn::rowwise_adagrad<double> opt({.learning_rate = 0.5, .epsilon = 1e-10});
  opt.step(registry);
  // Row 0: G = (9 + 16) / 2 = 12.5; scale = 0.5 / sqrt(12.5).
  const double s0 = 0.5 / (std::sqrt(12.5) + 1e-10), s1 = 0.5 / (std::sqrt(2.0) + 1e-10);
  CHECK(p.value(0, 0) == doctest::Approx(1 - 3 * s0));
  CHECK(p.value(0, 1) == doctest::Approx(2 - 4 * s0));
  CHECK(p.value(1, 0) == doctest::Approx(3.0));
  CHECK(p.value(1, 1) == doctest::Approx(4 - 2 * s1));
  // Second step on row 1 sees the accumulated G = 2 + 2 = 4.
  p.grad << 0, 0, 2, 0;
  opt.step(registry);
  CHECK(p.value(1, 0) == doctest::Approx(3 - 2 * 0.5 / (2 + 1e-10)));
}

TEST_CASE_TEMPLATE("masked weights stay exactly zero under every optimizer", Opt, nn::sgd<double>, nn::adam<double>,
                   nn::rowwise_adagrad<double>) {
  nn::parameter<double> p;
  p.resize(3, 3);
  p.value.setConstant(1.0);
  nn::matrix<double> mask = nn::matrix<double>::Ones(3, 3);
  mask(0, 1) = 0;
  mask(2, 2) = 0;
  p.set_mask(mask);
  CHECK(p.value(0, 1) == 0.0);
  nn::parameter_registry<double> registry;
  registry.add("w", p);
  Opt opt;
  for (int step = 0; step < 5; ++step) {
    p.grad.setConstant(-3.0);  // would push every entry up
    opt.step(registry);
    CHECK(p.value(0, 1) == 0.0);
    CHECK(p.value(2, 2) == 0.0);
    CHECK(p.value(1, 1) > 1.0);
  }
  nn::matrix<double> bad = nn::matrix<double>::Constant(3, 3, 0.5);
  CHECK_THROWS_AS(p.set_mask(bad), frugal::invalid_argument);
  CHECK_THROWS_AS(p.set_mask(nn::matrix<double>::Ones(2, 3)), frugal::shape_error);
}

TEST_CASE("registry: unique names, lookup, and a clear error for unknown names") {
  nn::parameter<float> a, b;
  a.resize(2, 3);
  b.resize(1, 3);
  nn::parameter_registry<float> registry;
  registry.add("fc.weight", a);
  registry.add("fc.bias", b);
  CHECK_THROWS_AS(registry.add("fc.bias", b), frugal::invalid_argument);
  CHECK(registry.size() == 2);
  CHECK(registry.element_count() == 9);
  CHECK(&registry.at("fc.bias") == &b);
  CHECK_THROWS_WITH_AS((void)registry.at("conv.weight"), doctest::Contains("have: fc.weight, fc.bias"),
                       frugal::invalid_argument);
}
