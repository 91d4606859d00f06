#include <doctest/doctest.h>

#include <frugal/admm/block_circulant.hpp>
#include <frugal/nn.hpp>
#include <frugal/sparse/block_circulant_matrix.hpp>
#include <frugal/sparse/circulant_weight.hpp>
#include <frugal/sparse/fft.hpp>

#include <cmath>
#include <complex>
#include <numbers>
#include <vector>

#include "../nn/gradcheck.hpp"
#include "test_support.hpp"

using frugal::index_t;
namespace nn = frugal::nn;
namespace sparse = frugal::sparse;

namespace {

template <class S>
using column_matrix = Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic>;

template <class S>
constexpr double tolerance = std::is_same_v<S, float> ? 1e-4 : 1e-10;

template <class M>
void fill_normal(M& m, frugal::rng& gen) {
  for (index_t i = 0; i < m.size(); ++i) m.data()[i] = static_cast<typename M::Scalar>(gen.normal());
}

/// dv_ij[d] = Σ of g = dy·xᵀ over block (i, j)'s entries on circulant diagonal d: the gradient of
/// the vectors by the chain rule through W(r, c) = v[(r − c) mod k], computed on the dense matrix.
template <class S>
nn::matrix<double> projected_dense_gradient(const column_matrix<S>& x, const column_matrix<S>& dy, index_t k) {
  const column_matrix<double> g = dy.template cast<double>() * x.template cast<double>().transpose();
  const index_t p = (g.rows() + k - 1) / k, q = (g.cols() + k - 1) / k;
  nn::matrix<double> dv = nn::matrix<double>::Zero(p * q, k);
  for (index_t r = 0; r < g.rows(); ++r)
    for (index_t c = 0; c < g.cols(); ++c) dv((r / k) * q + c / k, ((r % k) - (c % k) + k) % k) += g(r, c);
  return dv;
}

struct shape {
  index_t rows, cols;
};

struct blocked_shape {
  index_t rows, cols, k;
};

/// Full, ragged (not multiples of k) and smaller-than-k shapes for block size k.
std::vector<shape> shapes_for(index_t k) {
  return {{1, 1}, {k, k}, {k - 1, 2 * k + 1}, {3 * k, 2 * k}, {2 * k + 3, 5}, {5, 3 * k + 1}, {k / 2 + 1, k + 1}};
}

}  // namespace

TEST_CASE_TEMPLATE("real_fft: forward is the DFT, inverse is unnormalised, buffers are checked", S, float, double) {
  for (const index_t k : {2, 8, 64}) {
    CAPTURE(k);
    const index_t count = 3, h = k / 2 + 1;
    sparse::real_fft<S> fft(k, count);
    CHECK(fft.spectrum_length() == h);
    sparse::fft_buffer<S> x(k * count), back(k * count);
    sparse::fft_buffer<std::complex<S>> spectrum(h * count);
    frugal::rng gen(11);
    for (index_t i = 0; i < x.size(); ++i) x[i] = static_cast<S>(gen.normal());
    const sparse::real_fft<S> copy = fft;
    copy.forward(x.data(), spectrum.data());
    for (index_t c = 0; c < count; ++c)
      for (index_t m = 0; m < h; ++m) {
        std::complex<double> ref = 0;
        for (index_t t = 0; t < k; ++t)
          ref += static_cast<double>(x[c * k + t]) *
                 std::polar(1.0, -2 * std::numbers::pi * static_cast<double>(m * t) / static_cast<double>(k));
        CHECK(std::abs(std::complex<double>(spectrum[c * h + m]) - ref) <= tolerance<S> * static_cast<double>(k));
      }
    fft.inverse(spectrum.data(), back.data());
    for (index_t i = 0; i < x.size(); ++i)
      CHECK(std::abs(static_cast<double>(back[i]) / static_cast<double>(k) - static_cast<double>(x[i])) <=
            tolerance<S>);
    CHECK_THROWS_AS(fft.forward(x.data() + 1, spectrum.data()), frugal::invalid_argument);
    CHECK_THROWS_AS(fft.inverse(spectrum.data(), reinterpret_cast<S*>(spectrum.data())), frugal::invalid_argument);
  }
  CHECK_THROWS_AS(sparse::real_fft<S>(0), frugal::invalid_argument);
  CHECK_THROWS_AS(sparse::real_fft<S>(8, 0), frugal::invalid_argument);
  CHECK_NOTHROW(sparse::real_fft<S>(16, 4, sparse::fft_planning::measure));
}

TEST_CASE_TEMPLATE("block_circulant_matrix: products and gradients match the dense matrix", S, float, double) {
  frugal::rng gen(1);
  for (const index_t k : {2, 4, 8, 16, 64})
    for (const shape sh : shapes_for(k))
      for (const index_t n : {1, 5}) {
        CAPTURE(k);
        CAPTURE(sh.rows);
        CAPTURE(sh.cols);
        CAPTURE(n);
        sparse::block_circulant_matrix<S> m(sh.rows, sh.cols, k);
        REQUIRE(m.block_rows() == (sh.rows + k - 1) / k);
        REQUIRE(m.block_cols() == (sh.cols + k - 1) / k);
        CHECK(m.parameter_count() == m.block_rows() * m.block_cols() * k);
        CHECK(m.storage_bytes() == static_cast<std::size_t>(m.parameter_count()) * sizeof(S));
        fill_normal(m.vectors(), gen);
        const nn::matrix<S> w = m.to_dense();
        REQUIRE(w.rows() == sh.rows);
        REQUIRE(w.cols() == sh.cols);

        column_matrix<S> x(sh.cols, n), dy(sh.rows, n), y(sh.rows, n), dx(sh.cols, n);
        fill_normal(x, gen);
        fill_normal(dy, gen);
        m.multiply(nn::const_column_map<S>(x.data(), sh.cols, n), nn::column_map<S>(y.data(), sh.rows, n));
        const column_matrix<S> y_ref = w * x;
        CHECK(frugal::test::relative_error(y, y_ref) <= tolerance<S>);

        m.multiply_transposed(nn::const_column_map<S>(dy.data(), sh.rows, n), nn::column_map<S>(dx.data(), sh.cols, n));
        const column_matrix<S> dx_ref = w.transpose() * dy;
        CHECK(frugal::test::relative_error(dx, dx_ref) <= tolerance<S>);

        // Accumulates onto what is there.
        nn::matrix<S> dv = nn::matrix<S>::Ones(m.vectors().rows(), k);
        m.accumulate_gradient(nn::const_column_map<S>(x.data(), sh.cols, n),
                              nn::const_column_map<S>(dy.data(), sh.rows, n), dv);
        const nn::matrix<double> dv_ref =
            projected_dense_gradient(x, dy, k).array() + 1.0;  // the dense gradient dy·xᵀ, projected
        CHECK(frugal::test::relative_error(nn::matrix<double>(dv.template cast<double>()), dv_ref) <= tolerance<S>);

        // backward = both at once, sharing the transform of dy.
        nn::matrix<S> dv2 = nn::matrix<S>::Ones(m.vectors().rows(), k);
        column_matrix<S> dx2(sh.cols, n);
        nn::column_map<S> dx2_map(dx2.data(), sh.cols, n);
        m.backward(nn::const_column_map<S>(x.data(), sh.cols, n), nn::const_column_map<S>(dy.data(), sh.rows, n), dv2,
                   &dx2_map);
        CHECK(frugal::test::relative_error(dx2, dx) <= tolerance<S>);
        CHECK(frugal::test::relative_error(dv2, dv) <= tolerance<S>);
      }
}

TEST_CASE_TEMPLATE("block_circulant_matrix: every space gives the bits of Kokkos::Serial (uneven chunks of samples)",
                   Exec, FRUGAL_TEST_SPACES) {
  frugal::rng gen(3);
  for (const blocked_shape shp : {blocked_shape{120, 400, 8}, {84, 120, 4}, {300, 77, 16}}) {
    CAPTURE(shp.k);
    sparse::block_circulant_matrix<float> a(shp.rows, shp.cols, shp.k), b(shp.rows, shp.cols, shp.k);
    fill_normal(a.vectors(), gen);
    b.set_vectors(std::as_const(a).vectors());
    for (const index_t n : {1, 37, 129}) {
      column_matrix<float> x(shp.cols, n), dy(shp.rows, n), y(shp.rows, n), y_serial(shp.rows, n), dx(shp.cols, n),
          dx_serial(shp.cols, n);
      fill_normal(x, gen);
      fill_normal(dy, gen);
      a.multiply(Exec{}, nn::const_column_map<float>(x.data(), shp.cols, n),
                 nn::column_map<float>(y.data(), shp.rows, n));
      b.multiply(Kokkos::Serial{}, nn::const_column_map<float>(x.data(), shp.cols, n),
                 nn::column_map<float>(y_serial.data(), shp.rows, n));
      CHECK((y.array() == y_serial.array()).all());
      CHECK(frugal::test::relative_error(y, column_matrix<float>(b.to_dense() * x)) <= tolerance<float>);
      nn::matrix<float> dv = nn::matrix<float>::Zero(a.vectors().rows(), shp.k), dv_serial = dv;
      nn::column_map<float> dx_map(dx.data(), shp.cols, n), dx_serial_map(dx_serial.data(), shp.cols, n);
      a.backward(Exec{}, nn::const_column_map<float>(x.data(), shp.cols, n),
                 nn::const_column_map<float>(dy.data(), shp.rows, n), dv, &dx_map);
      b.backward(Kokkos::Serial{}, nn::const_column_map<float>(x.data(), shp.cols, n),
                 nn::const_column_map<float>(dy.data(), shp.rows, n), dv_serial, &dx_serial_map);
      CHECK((dx.array() == dx_serial.array()).all());
      CHECK((dv.array() == dv_serial.array()).all());
    }
  }
}

TEST_CASE("block_circulant_matrix: the vector gradient matches finite differences") {
  frugal::rng gen(2);
  for (const blocked_shape shp : {blocked_shape{5, 11, 4}, {13, 9, 8}, {3, 3, 2}}) {
    const index_t rows = shp.rows, cols = shp.cols, k = shp.k;
    CAPTURE(k);
    sparse::block_circulant_matrix<double> m(rows, cols, k);
    fill_normal(m.vectors(), gen);
    const index_t n = 3;
    column_matrix<double> x(cols, n), r(rows, n), y(rows, n);
    fill_normal(x, gen);
    fill_normal(r, gen);
    nn::matrix<double>& v = m.vectors();
    const auto objective = [&] {
      m.update_spectra();  // the finite differences write through a kept reference
      m.multiply(nn::const_column_map<double>(x.data(), cols, n), nn::column_map<double>(y.data(), rows, n));
      return (y.array() * r.array()).sum();
    };
    nn::matrix<double> dv = nn::matrix<double>::Zero(v.rows(), v.cols());
    m.accumulate_gradient(nn::const_column_map<double>(x.data(), cols, n),
                          nn::const_column_map<double>(r.data(), rows, n), dv);
    const auto numeric = frugal::test::numeric_gradient(v.data(), v.size(), objective);
    CHECK(frugal::test::relative_error(dv, numeric) <= 1e-8);
  }
}

TEST_CASE_TEMPLATE("block_circulant_matrix: from_dense is the admm projection and inverts to_dense", S, float, double) {
  frugal::rng gen(3);
  for (const index_t k : {2, 4, 8, 16})
    for (const shape sh : shapes_for(k)) {
      CAPTURE(k);
      CAPTURE(sh.rows);
      CAPTURE(sh.cols);
      // Dyadic values: every mean is computed exactly, so the round trip is bit-exact.
      sparse::block_circulant_matrix<S> m(sh.rows, sh.cols, k);
      for (index_t i = 0; i < m.vectors().size(); ++i)
        m.vectors().data()[i] = static_cast<S>(std::round(gen.normal() * 64) / 64);
      const nn::matrix<S> w = m.to_dense();
      const auto back = sparse::block_circulant_matrix<S>::from_dense(w, k);
      CHECK(back.to_dense() == w);
      if (sh.rows % k == 0 && sh.cols % k == 0) CHECK(back.vectors() == m.vectors());

      nn::matrix<S> a(sh.rows, sh.cols);
      fill_normal(a, gen);
      const auto projected = sparse::block_circulant_matrix<S>::from_dense(a, k);
      CHECK(projected.to_dense() == frugal::admm::block_circulant{k}.project(a));
    }
}

TEST_CASE("block_circulant_matrix: changed vectors are never multiplied with stale spectra; copies are independent") {
  frugal::rng gen(4);
  sparse::block_circulant_matrix<double> m(12, 20, 8);
  fill_normal(m.vectors(), gen);
  column_matrix<double> x(20, 2), y(12, 2);
  fill_normal(x, gen);
  const auto apply = [&](const sparse::block_circulant_matrix<double>& a) {
    a.multiply(nn::const_column_map<double>(x.data(), 20, 2), nn::column_map<double>(y.data(), 12, 2));
    return column_matrix<double>(y);
  };
  const column_matrix<double> first = apply(m);
  const sparse::block_circulant_matrix<double> copy = m;
  m.vectors()(0, 0) += 1.0;
  CHECK(frugal::test::relative_error(apply(m), column_matrix<double>(m.to_dense() * x)) <= 1e-12);
  nn::matrix<double> replacement(m.vectors().rows(), 8);
  fill_normal(replacement, gen);
  m.set_vectors(replacement);
  CHECK(frugal::test::relative_error(apply(m), column_matrix<double>(m.to_dense() * x)) <= 1e-12);
  CHECK(frugal::test::relative_error(apply(copy), first) <= 1e-12);
}

TEST_CASE("block_circulant_matrix: bad arguments are refused") {
  using matrix_type = sparse::block_circulant_matrix<float>;
  for (const index_t k : {-4, 0, 1, 3, 6, 12})
    CHECK_THROWS_WITH_AS(matrix_type(8, 8, k), doctest::Contains("must be a power of two"), frugal::invalid_argument);
  CHECK_THROWS_WITH_AS(matrix_type(0, 8, 4), doctest::Contains("rows = 0 must be positive"), frugal::invalid_argument);
  CHECK_THROWS_AS(matrix_type(8, 0, 4), frugal::invalid_argument);
  CHECK_THROWS_AS(matrix_type(-1, 8, 4), frugal::invalid_argument);
  CHECK_THROWS_AS(static_cast<void>(matrix_type::from_dense(nn::matrix<float>::Zero(4, 4), 3)),
                  frugal::invalid_argument);
  CHECK_THROWS_AS(sparse::circulant_weight<float>(4, 4, 5), frugal::invalid_argument);

  matrix_type m(6, 10, 4);  // p = 2, q = 3
  column_matrix<float> x10(10, 3), x9(9, 3), y6(6, 3), y6b(6, 2), y7(7, 3);
  x10.setZero();
  x9.setZero();
  const auto c = [](const column_matrix<float>& a) {
    return nn::const_column_map<float>(a.data(), a.rows(), a.cols());
  };
  const auto v = [](column_matrix<float>& a) { return nn::column_map<float>(a.data(), a.rows(), a.cols()); };
  CHECK_THROWS_WITH_AS(m.multiply(c(x9), v(y6)), doctest::Contains("mismatch: got 9, expected 10"),
                       frugal::shape_error);
  CHECK_THROWS_AS(m.multiply(c(x10), v(y7)), frugal::shape_error);
  CHECK_THROWS_WITH_AS(m.multiply(c(x10), v(y6b)), doctest::Contains("batch size"), frugal::shape_error);
  CHECK_THROWS_AS(m.multiply_transposed(c(y6), v(x9)), frugal::shape_error);
  CHECK_THROWS_AS(m.multiply_transposed(c(y6b), v(x10)), frugal::shape_error);
  nn::matrix<float> dv(6, 4), bad_dv(6, 3);
  CHECK_THROWS_AS(m.accumulate_gradient(c(x10), c(y6b), dv), frugal::shape_error);
  CHECK_THROWS_AS(m.accumulate_gradient(c(x10), c(y6), bad_dv), frugal::shape_error);
  CHECK_THROWS_AS(m.set_vectors(bad_dv), frugal::shape_error);
  CHECK_NOTHROW(m.accumulate_gradient(c(x10), c(y6), dv));
}

TEST_CASE("circulant_weight: nn::linear registers the defining vectors and its gradients match finite differences") {
  frugal::rng gen(5);
  for (const blocked_shape shp : {blocked_shape{7, 10, 4}, {8, 8, 8}, {9, 3, 2}}) {
    const index_t out = shp.rows, in = shp.cols, k = shp.k;
    CAPTURE(k);
    nn::linear<double, sparse::circulant_weight<double>> layer(sparse::circulant_weight<double>(out, in, k));
    CHECK(layer.in_features() == in);
    CHECK(layer.out_features() == out);
    layer.reset_parameters(gen);
    nn::parameter_registry<double> registry;
    layer.register_parameters(registry, "fc");
    REQUIRE(registry.size() == 2);
    const auto& weight = registry.at("fc.weight");
    const index_t p = (out + k - 1) / k, q = (in + k - 1) / k;
    CHECK(weight.value.rows() == p * q);
    CHECK(weight.value.cols() == k);
    CHECK(registry.element_count() == p * q * k + out);

    nn::tensor<double> x({3, in});
    frugal::test::fill_normal(x, gen);
    const nn::tensor<double>& y = layer.forward(x);
    const nn::matrix<double> expected =
        (x.rows_view() * layer.policy().matrix().to_dense().transpose()).rowwise() + layer.bias().value.row(0);
    CHECK(frugal::test::relative_error(y.rows_view(), expected) < 1e-12);
    frugal::test::check_layer_gradients(layer, x, gen);
  }
}

TEST_CASE("circulant_weight: a few SGD steps reduce a regression loss (float)") {
  frugal::rng gen(6);
  const index_t in = 24, out = 12, n = 32, k = 8;
  nn::linear<float, sparse::circulant_weight<float>> layer(sparse::circulant_weight<float>(out, in, k));
  layer.reset_parameters(gen);
  sparse::block_circulant_matrix<float> teacher_matrix(out, in, k);  // a target the student can reach
  fill_normal(teacher_matrix.vectors(), gen);
  const nn::matrix<float> teacher = teacher_matrix.to_dense();
  nn::tensor<float> x({n, in});
  for (index_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(gen.normal());
  const nn::matrix<float> target = x.rows_view() * teacher.transpose();
  auto registry = nn::parameter_registry<float>();
  layer.register_parameters(registry, "");
  nn::sgd<float> opt({.learning_rate = 0.05f});
  nn::tensor<float> dy({n, out});
  const auto step = [&] {
    registry.zero_grad();
    const nn::tensor<float>& y = layer.forward(x);
    const nn::matrix<float> residual = y.rows_view() - target;
    dy.rows_view() = residual / static_cast<float>(n);
    layer.backward(dy, false);
    opt.step(registry);
    return 0.5 * static_cast<double>(residual.squaredNorm()) / static_cast<double>(n);
  };
  const double initial = step();
  double last = initial;
  for (int i = 0; i < 30; ++i) last = step();
  INFO("loss " << initial << " -> " << last);
  CHECK(last < 0.8 * initial);
  // The forward after the optimizer's steps uses the updated vectors.
  const nn::tensor<float>& y = layer.forward(x);
  const nn::matrix<float> expected =
      (x.rows_view() * layer.policy().matrix().to_dense().transpose()).rowwise() + layer.bias().value.row(0);
  CHECK(frugal::test::relative_error(y.rows_view(), expected) < 1e-5);
}
