#include <doctest/doctest.h>

#include <frugal/nn.hpp>

#include <algorithm>
#include <cmath>
#include <limits>

#include "gradcheck.hpp"

using frugal::index_t;
using frugal::nn::tensor;
namespace nn = frugal::nn;

namespace {

constexpr double tolerance = 1e-6;

/// Compares the accumulated gradient of `samples` random entries of every parameter with central
/// differences of `objective` (the registry's gradients must be those of `objective`).
template <class Objective>
void check_sampled_gradients(const nn::parameter_registry<double>& registry, const Objective& objective, int samples,
                             frugal::rng& gen) {
  for (const auto& [name, p] : registry) {
    Eigen::VectorXd analytic(samples), numeric(samples);
    for (int s = 0; s < samples; ++s) {
      const auto i = static_cast<Eigen::Index>(gen.uniform_int(static_cast<std::uint64_t>(p->value.size())));
      analytic[s] = p->grad.data()[i];
      numeric[s] = frugal::test::numeric_gradient(p->value.data() + i, 1, objective)[0];
    }
    INFO(name);
    CHECK(frugal::test::relative_error(analytic, numeric) <= tolerance);
  }
}

/// Direct convolution on NHWC input with an out x (k·k·c) weight in (ky, kx, c) order.
tensor<double> reference_conv(const tensor<double>& x, const nn::matrix<double>& w, const nn::matrix<double>& b,
                              index_t k, index_t stride, index_t pad) {
  const index_t n = x.extent(0), h = x.extent(1), wd = x.extent(2), c = x.extent(3), co = w.rows();
  const index_t oh = (h + 2 * pad - k) / stride + 1, ow = (wd + 2 * pad - k) / stride + 1;
  tensor<double> y({n, oh, ow, co});
  for (index_t i = 0; i < n; ++i)
    for (index_t oy = 0; oy < oh; ++oy)
      for (index_t ox = 0; ox < ow; ++ox)
        for (index_t o = 0; o < co; ++o) {
          double s = b(0, o);
          for (index_t ky = 0; ky < k; ++ky)
            for (index_t kx = 0; kx < k; ++kx)
              for (index_t ch = 0; ch < c; ++ch) {
                const index_t iy = oy * stride - pad + ky, ix = ox * stride - pad + kx;
                if (iy < 0 || iy >= h || ix < 0 || ix >= wd) continue;
                s += w(o, (ky * k + kx) * c + ch) * x[((i * h + iy) * wd + ix) * c + ch];
              }
          y[((i * oh + oy) * ow + ox) * co + o] = s;
        }
  return y;
}

}  // namespace

TEST_CASE("linear: forward is x Wᵀ + b and gradients match finite differences") {
  frugal::rng gen(1);
  nn::linear<double> layer(5, 3);
  layer.reset_parameters(gen);
  tensor<double> x({4, 5});
  frugal::test::fill_normal(x, gen);
  const auto& y = layer.forward(x);
  const nn::matrix<double> expected =
      (x.rows_view() * layer.policy().weight().value.transpose()).rowwise() + layer.bias().value.row(0);
  CHECK(frugal::test::relative_error(y.rows_view(), expected) < 1e-14);
  frugal::test::check_layer_gradients(layer, x, gen);
}

TEST_CASE("linear: bad shapes are refused with the extents in the message") {
  nn::linear<double> layer(5, 3);
  tensor<double> x({4, 6});
  CHECK_THROWS_WITH_AS(layer.forward(x), doctest::Contains("input features mismatch: got 6, expected 5"),
                       frugal::shape_error);
  tensor<double> img({1, 2, 2, 1});
  CHECK_THROWS_WITH_AS(layer.forward(img), doctest::Contains("expected 2"), frugal::invalid_argument);
  CHECK_THROWS_AS(nn::linear<double>(0, 3), frugal::invalid_argument);
}

TEST_CASE_TEMPLATE("conv2d: forward matches direct convolution, gradients match finite differences", Exec,
                   Kokkos::Serial, Kokkos::DefaultHostExecutionSpace) {
  frugal::rng gen(2);
  struct geometry {
    index_t n, h, w, c, co, k, stride, pad;
  };
  for (const geometry g : {geometry{2, 7, 6, 3, 4, 3, 2, 1}, geometry{1, 6, 6, 2, 3, 5, 1, 2},
                           geometry{2, 5, 4, 3, 2, 1, 1, 0}, geometry{1, 4, 5, 1, 2, 3, 3, 0}}) {
    CAPTURE(g.k);
    CAPTURE(g.stride);
    CAPTURE(g.pad);
    nn::conv2d<double, nn::dense_weight<double>, Exec> layer(
        {.in_channels = g.c, .out_channels = g.co, .kernel = g.k, .stride = g.stride, .padding = g.pad});
    layer.reset_parameters(gen);
    tensor<double> x({g.n, g.h, g.w, g.c});
    frugal::test::fill_normal(x, gen);
    const tensor<double> y = layer.forward(x);
    const auto ref = reference_conv(x, layer.policy().weight().value, layer.bias().value, g.k, g.stride, g.pad);
    REQUIRE(y.extents().size() == 4);
    for (int d = 0; d < 4; ++d) CHECK(y.extent(d) == ref.extent(d));
    CHECK(frugal::test::relative_error(y.flat(), ref.flat()) < 1e-13);
    CHECK(frugal::test::relative_error(layer.predict(x).flat(), ref.flat()) < 1e-13);
    CHECK_THROWS_WITH_AS(layer.backward(y), doctest::Contains("needs a forward first"), frugal::invalid_argument);
    frugal::test::check_layer_gradients(layer, x, gen);
  }
}

TEST_CASE("conv2d: predict in cache-sized chunks of images equals forward (one and several channels)") {
  frugal::rng gen(12);
  for (index_t c : {1, 3}) {
    // 32 x 32 images with 3 x 3 x c patches: 221 KB of double patches per image for c = 3, so a
    // batch of 5 goes through predict as several chunks (conv2d::chunk_bytes).
    nn::conv2d<double> layer({.in_channels = c, .out_channels = 4, .kernel = 3, .stride = 1, .padding = 1});
    layer.reset_parameters(gen);
    tensor<double> x({5, 32, 32, c});
    frugal::test::fill_normal(x, gen);
    const auto ref = reference_conv(x, layer.policy().weight().value, layer.bias().value, 3, 1, 1);
    const tensor<double> y = layer.predict(x);
    CHECK(frugal::test::relative_error(y.flat(), ref.flat()) < 1e-13);
    CHECK(frugal::test::relative_error(layer.forward(x).flat(), ref.flat()) < 1e-13);
    CHECK_NOTHROW(layer.backward(y));  // a forward re-arms backward
  }
  static_assert(nn::InferenceLayer<nn::conv2d<float>>);
  static_assert(nn::PatchMajorPolicy<nn::dense_weight<float>>);
}

TEST_CASE("conv2d: geometry errors") {
  CHECK_THROWS_AS(nn::conv2d<double>({.in_channels = 1, .out_channels = 2, .kernel = 0}), frugal::invalid_argument);
  nn::conv2d<double> layer({.in_channels = 2, .out_channels = 2, .kernel = 5});
  tensor<double> small({1, 3, 3, 2});
  CHECK_THROWS_WITH_AS(layer.forward(small), doctest::Contains("smaller than the kernel"), frugal::invalid_argument);
  tensor<double> wrong_c({1, 8, 8, 3});
  CHECK_THROWS_WITH_AS(layer.forward(wrong_c), doctest::Contains("input channels mismatch: got 3, expected 2"),
                       frugal::shape_error);
}

TEST_CASE_TEMPLATE("max_pool2d: forward matches a direct max, gradients match finite differences", Exec, Kokkos::Serial,
                   Kokkos::DefaultHostExecutionSpace) {
  frugal::rng gen(3);
  for (auto [k, s] : {std::pair<index_t, index_t>{2, 2}, {3, 2}, {2, 1}}) {
    nn::max_pool2d<double, Exec> layer(k, s);
    tensor<double> x({2, 7, 6, 3});
    frugal::test::fill_normal(x, gen);
    const tensor<double> y = layer.forward(x);
    const index_t oh = (7 - k) / s + 1, ow = (6 - k) / s + 1;
    REQUIRE(y.extent(1) == oh);
    REQUIRE(y.extent(2) == ow);
    for (index_t i = 0; i < 2; ++i)
      for (index_t oy = 0; oy < oh; ++oy)
        for (index_t ox = 0; ox < ow; ++ox)
          for (index_t c = 0; c < 3; ++c) {
            double m = -1e300;
            for (index_t ky = 0; ky < k; ++ky)
              for (index_t kx = 0; kx < k; ++kx) m = std::max(m, x[((i * 7 + oy * s + ky) * 6 + ox * s + kx) * 3 + c]);
            CHECK(y[((i * oh + oy) * ow + ox) * 3 + c] == m);
          }
    const tensor<double> yp = layer.predict(x);
    CHECK(std::equal(yp.flat().begin(), yp.flat().end(), y.flat().begin()));
    CHECK_THROWS_WITH_AS(layer.backward(y), doctest::Contains("needs a forward first"), frugal::invalid_argument);
    frugal::test::check_layer_gradients(layer, x, gen);
  }
}

TEST_CASE("max_pool2d: predict equals forward bit for bit, NaNs and long rows included") {
  frugal::rng gen(13);
  const double nan = std::numeric_limits<double>::quiet_NaN();
  // 2 x 2 windows over 4 x 4 x 1: a NaN first in its window wins, a NaN later is skipped.
  tensor<double> x({1, 4, 4, 1});
  frugal::test::fill_normal(x, gen);
  x[0] = nan;          // first element of window (0, 0)
  x[1 * 4 + 3] = nan;  // last element of window (0, 1)
  nn::max_pool2d<double> pool(2);
  const tensor<double> y = pool.forward(x);
  const tensor<double> yp = pool.predict(x);
  CHECK(std::isnan(y[0]));
  CHECK(std::isnan(yp[0]));
  CHECK(!std::isnan(y[1]));
  CHECK(!std::isnan(yp[1]));
  for (index_t i = 1; i < y.size(); ++i) CHECK(yp[i] == y[i]);
  // Rows longer than the separable path's buffer (w·c = 4,400) take the windowed loop.
  for (auto [k, s] : {std::pair<index_t, index_t>{2, 2}, {3, 1}}) {
    nn::max_pool2d<double> wide(k, s);
    tensor<double> big({2, 4, 1100, 4});
    frugal::test::fill_normal(big, gen);
    const tensor<double> a = wide.forward(big);
    const tensor<double> b = wide.predict(big);
    CHECK(std::equal(a.flat().begin(), a.flat().end(), b.flat().begin()));
  }
  static_assert(nn::InferenceLayer<nn::max_pool2d<float>>);
}

TEST_CASE("relu and flatten: values and gradients") {
  frugal::rng gen(4);
  nn::relu<double> relu;
  tensor<double> x({3, 4, 5, 2});
  frugal::test::fill_normal(x, gen);
  const auto& y = relu.forward(x);
  for (index_t i = 0; i < x.size(); ++i) CHECK(y[i] == std::max(x[i], 0.0));
  frugal::test::check_layer_gradients(relu, x, gen);

  nn::flatten<double> flat;
  const auto& f = flat.forward(x);
  CHECK(f.rank() == 2);
  CHECK(f.extent(0) == 3);
  CHECK(f.extent(1) == 40);
  frugal::test::check_layer_gradients(flat, x, gen);
}

TEST_CASE("softmax cross-entropy: value against a direct formula, gradient against finite differences") {
  frugal::rng gen(5);
  tensor<double> z({4, 6});
  frugal::test::fill_normal(z, gen, 3.0);
  const std::vector<std::int32_t> labels = {0, 5, 2, 2};
  nn::softmax_cross_entropy<double> loss;
  const double value = loss.forward(z, labels);
  double expected = 0;
  for (index_t i = 0; i < 4; ++i) {
    double sum = 0;
    for (index_t j = 0; j < 6; ++j) sum += std::exp(z[i * 6 + j]);
    expected -= std::log(std::exp(z[i * 6 + labels[static_cast<std::size_t>(i)]]) / sum);
  }
  CHECK(value == doctest::Approx(expected / 4).epsilon(1e-13));
  const tensor<double> g = loss.backward();
  const auto numeric = frugal::test::numeric_gradient(z.data(), z.size(), [&] { return loss.forward(z, labels); });
  CHECK(frugal::test::relative_error(g.flat(), numeric) <= tolerance);

  tensor<double> huge({1, 2});
  huge[0] = 1000;
  huge[1] = -1000;
  const std::vector<std::int32_t> one = {1};
  CHECK(loss.forward(huge, one) == doctest::Approx(2000.0));
  const std::vector<std::int32_t> bad = {7};
  CHECK_THROWS_WITH_AS(loss.forward(huge, bad), doctest::Contains("label 0 is 7"), frugal::invalid_argument);
}

TEST_CASE("BCE with logits: value, gradient and stability at extreme logits") {
  frugal::rng gen(6);
  tensor<double> z({8});
  frugal::test::fill_normal(z, gen, 2.0);
  std::vector<double> t(8);
  for (auto& v : t) v = gen.uniform();
  nn::bce_with_logits<double> loss;
  const double value = loss.forward(z, t);
  double expected = 0;
  for (index_t i = 0; i < 8; ++i) {
    const double p = 1 / (1 + std::exp(-z[i]));
    expected -= t[static_cast<std::size_t>(i)] * std::log(p) + (1 - t[static_cast<std::size_t>(i)]) * std::log(1 - p);
  }
  CHECK(value == doctest::Approx(expected / 8).epsilon(1e-12));
  const tensor<double> g = loss.backward();
  const auto numeric = frugal::test::numeric_gradient(z.data(), z.size(), [&] { return loss.forward(z, t); });
  CHECK(frugal::test::relative_error(g.flat(), numeric) <= tolerance);

  tensor<double> extreme({2});
  extreme[0] = 800;
  extreme[1] = -800;
  const std::vector<double> targets = {0.0, 1.0};
  CHECK(loss.forward(extreme, targets) == doctest::Approx(800.0));
  CHECK(std::isfinite(loss.backward()[0]));
  const std::vector<double> out_of_range = {0.0, 1.5};
  CHECK_THROWS_AS(loss.forward(extreme, out_of_range), frugal::invalid_argument);
}

TEST_CASE("LeNet-5 end to end: parameter gradients match finite differences on sampled entries") {
  auto model = nn::make_lenet5<double>(7);
  auto registry = model.parameters();
  CHECK(registry.element_count() == 61706);
  frugal::rng gen(8);
  tensor<double> x({2, 28, 28, 1});
  frugal::test::fill_normal(x, gen);
  const std::vector<std::int32_t> labels = {3, 8};
  nn::softmax_cross_entropy<double> loss;
  const tensor<double> trained_path = model.forward(x);
  CHECK(frugal::test::relative_error(model.predict(x).flat(), trained_path.flat()) < 1e-13);
  registry.zero_grad();
  loss.forward(model.forward(x), labels);
  const auto& dx = model.backward(loss.backward(), true);
  CHECK(dx.size() == x.size());
  // 40 sampled entries per parameter keep the test fast; together they cover every layer.
  check_sampled_gradients(
      registry, [&] { return loss.forward(model.forward(x), labels); }, 40, gen);
}

TEST_CASE("Caffe LeNet-5: Caffe's shapes, and gradients match finite differences on sampled entries") {
  auto model = nn::make_lenet5_caffe<double>(3);
  auto registry = model.parameters();
  CHECK(registry.element_count() == 431080);
  const std::vector<std::pair<std::string, std::pair<Eigen::Index, Eigen::Index>>> shapes = {
      {"0.weight", {20, 25}}, {"2.weight", {50, 500}}, {"5.weight", {500, 800}}, {"7.weight", {10, 500}}};
  for (const auto& [name, rc] : shapes) {
    INFO(name);
    CHECK(registry.at(name).value.rows() == rc.first);
    CHECK(registry.at(name).value.cols() == rc.second);
  }
  frugal::rng gen(4);
  tensor<double> x({2, 28, 28, 1});
  frugal::test::fill_normal(x, gen);
  const std::vector<std::int32_t> labels = {1, 6};
  nn::softmax_cross_entropy<double> loss;
  const tensor<double> y = model.forward(x);
  CHECK(y.extent(0) == 2);
  CHECK(y.extent(1) == 10);
  CHECK(frugal::test::relative_error(model.predict(x).flat(), y.flat()) < 1e-13);
  registry.zero_grad();
  loss.forward(model.forward(x), labels);
  (void)model.backward(loss.backward(), false);
  check_sampled_gradients(
      registry, [&] { return loss.forward(model.forward(x), labels); }, 20, gen);
}

TEST_CASE("weight policy concept rejects a type without the products") {
  struct not_a_policy {
    using scalar_type = double;
  };
  static_assert(!nn::WeightPolicy<not_a_policy>);
  static_assert(nn::Layer<nn::linear<float>>);
  static_assert(nn::Layer<nn::conv2d<float>>);
}
