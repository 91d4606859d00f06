#include <doctest/doctest.h>

#include <frugal/admm.hpp>
#include <frugal/nn.hpp>
#include <frugal/sparse/bcr_autotune.hpp>
#include <frugal/sparse/bcr_matrix.hpp>
#include <frugal/sparse/bcr_weight.hpp>

#include <filesystem>
#include <fstream>
#include <tuple>

#include "../nn/gradcheck.hpp"
#include "test_support.hpp"

namespace sparse = frugal::sparse;
namespace admm = frugal::admm;
namespace nn = frugal::nn;
using frugal::index_t;

namespace {

template <class S>
nn::matrix<S> random_matrix(frugal::rng& gen, index_t r, index_t c) {
  nn::matrix<S> m(r, c);
  for (index_t i = 0; i < m.size(); ++i) m.data()[i] = static_cast<S>(gen.normal());
  return m;
}

/// Column-major batch (rows x n), the layout frugal/nn passes to weight policies.
template <class S>
using batch = Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic, Eigen::ColMajor>;

template <class S>
batch<S> random_batch(frugal::rng& gen, index_t r, index_t n) {
  batch<S> b(r, n);
  for (index_t i = 0; i < b.size(); ++i) b.data()[i] = static_cast<S>(gen.normal());
  return b;
}

template <class S>
nn::const_column_map<S> cm(const batch<S>& b) {
  return {b.data(), b.rows(), b.cols()};
}
template <class S>
nn::column_map<S> mm(batch<S>& b) {
  return {b.data(), b.rows(), b.cols()};
}

index_t between(frugal::rng& gen, index_t lo, index_t hi) {
  return lo + static_cast<index_t>(gen.uniform_int(static_cast<std::uint64_t>(hi - lo + 1)));
}

template <class S>
double max_rel(const batch<S>& a, const batch<S>& b) {
  const double scale = std::max<double>(1.0, b.cwiseAbs().maxCoeff());
  return (a - b).cwiseAbs().maxCoeff() / scale;
}

template <class S>
sparse::bcr_matrix<S> random_bcr(frugal::rng& gen, index_t rows, index_t cols, index_t br, index_t bc,
                                 nn::matrix<S>* dense_out = nullptr) {
  const auto w = random_matrix<S>(gen, rows, cols);
  const admm::bcr_sparsity sp{.block_rows = br,
                              .block_cols = bc,
                              .row_keep_fraction = gen.uniform(0.2, 1.0),
                              .col_keep_fraction = gen.uniform(0.2, 1.0)};
  auto m = sparse::bcr_matrix<S>::from_dense(w, sp);
  if (dense_out) *dense_out = w;
  return m;
}

template <class S>
void check_products(double tol) {
  frugal::rng gen(7);
  const std::vector<sparse::bcr_kernel_config> kernels = {{1, 1}, {2, 2}, {3, 1}, {4, 2}, {5, 4}, {8, 1}, {6, 2}};
  for (int trial = 0; trial < 24; ++trial) {
    const index_t rows = between(gen, 1, 70), cols = between(gen, 1, 90);
    const index_t br = between(gen, 1, 17), bc = between(gen, 1, 33);
    nn::matrix<S> w;
    auto m = random_bcr<S>(gen, rows, cols, br, bc, &w);
    const nn::matrix<S> dense = m.to_dense();
    // Round trip: exact on the kept entries, zero elsewhere.
    const nn::matrix<S> mask = m.mask();
    CHECK((dense.array() == (w.array() * mask.array())).all());
    CHECK(m.nonzeros() == static_cast<index_t>((mask.array() != 0).count()));
    for (index_t n : {1, 2, 3, 17, 64, 70}) {
      m.set_kernel(kernels[static_cast<std::size_t>(trial + n) % kernels.size()]);
      const batch<S> x = random_batch<S>(gen, cols, n), dy = random_batch<S>(gen, rows, n);
      batch<S> y(rows, n), dx(cols, n), y_ref(rows, n), dx_ref(cols, n);
      m.multiply(cm<S>(x), mm<S>(y));
      const batch<S> y_dense = dense * x;
      CHECK(max_rel<S>(y, y_dense) < tol);
      sparse::bcr_reference::multiply<S>(m, cm<S>(x), mm<S>(y_ref));
      CHECK(max_rel<S>(y, y_ref) < tol);
      m.multiply_transposed(cm<S>(dy), mm<S>(dx));
      const batch<S> dx_dense = dense.transpose() * dy;
      CHECK(max_rel<S>(dx, dx_dense) < tol);
      sparse::bcr_reference::multiply_transposed<S>(m, cm<S>(dy), mm<S>(dx_ref));
      CHECK(max_rel<S>(dx, dx_ref) < tol);
      // Gradient of the kept values: (dy xᵀ) at the kept entries, in values() order.
      std::vector<S> g(static_cast<std::size_t>(m.nonzeros()), S(1)), g_ref = g;
      m.accumulate_gradient(cm<S>(x), cm<S>(dy), std::span<S>(g));
      sparse::bcr_reference::accumulate_gradient<S>(m, cm<S>(x), cm<S>(dy), std::span<S>(g_ref));
      const nn::matrix<S> full = dy * x.transpose();
      double worst = 0;
      for (const auto& grp : m.groups())
        for (std::size_t i = 0; i < grp.rows.size(); ++i)
          for (std::size_t j = 0; j < grp.cols.size(); ++j) {
            const auto k = static_cast<std::size_t>(grp.offset) + i * grp.cols.size() + j;
            const double expect = 1.0 + static_cast<double>(full(grp.rows[i], grp.cols[j]));
            worst = std::max(worst, std::abs(static_cast<double>(g[k]) - expect) / std::max(1.0, std::abs(expect)));
            worst = std::max(worst, std::abs(static_cast<double>(g[k] - g_ref[k])) / std::max(1.0, std::abs(expect)));
          }
      CHECK(worst < tol);
    }
  }
}

}  // namespace

TEST_CASE("bcr_matrix products and gradients match dense references (float and double, ragged blocks)") {
  check_products<double>(1e-12);
  check_products<float>(2e-5);
}

TEST_CASE("bcr_pattern::of_mask recovers the pattern a mask was drawn from") {
  frugal::rng gen(5);
  const index_t rows = 19, cols = 27;  // ragged edge blocks
  const auto w = random_matrix<double>(gen, rows, cols);
  for (const auto& [br, bc, keep] : {std::tuple{4, 8, 0.5}, std::tuple{8, 4, 0.25}, std::tuple{5, 5, 0.75}}) {
    const sparse::bcr_pattern p =
        sparse::bcr_sparsity{.block_rows = br, .block_cols = bc, .row_keep_fraction = keep, .col_keep_fraction = keep}
            .select(w);
    const sparse::bcr_pattern back = sparse::bcr_pattern::of_mask(p.mask<double>(), br, bc);
    REQUIRE(back.blocks.size() == p.blocks.size());
    for (std::size_t b = 0; b < p.blocks.size(); ++b) {
      CHECK(back.blocks[b].row0 == p.blocks[b].row0);
      CHECK(back.blocks[b].col0 == p.blocks[b].col0);
      CHECK(back.blocks[b].kept_rows == p.blocks[b].kept_rows);
      CHECK(back.blocks[b].kept_cols == p.blocks[b].kept_cols);
    }
    CHECK(back.kept() == p.kept());
  }
  nn::matrix<double> cross = nn::matrix<double>::Zero(8, 8);
  cross(0, 0) = cross(1, 1) = 1;  // rows {0, 1} x cols {0, 1} would keep 4, the mask keeps 2
  CHECK_THROWS_WITH_AS(sparse::bcr_pattern::of_mask(cross, 8, 8), doctest::Contains("bcr_pattern::of_mask"),
                       frugal::invalid_argument);
}

TEST_CASE("bcr_matrix handles empty blocks, merged groups and a parallel execution space") {
  frugal::rng gen(11);
  const index_t rows = 24, cols = 40, br = 8, bc = 10;
  const auto w = random_matrix<double>(gen, rows, cols);
  nn::matrix<double> mask = nn::matrix<double>::Zero(rows, cols);
  // Block (0,0): rows {1,5} x cols {2,7}; block (1,0): rows {9} x the same cols -> merged group;
  // block (2,3): rows {16..23} x cols {30,39}; every other block empty.
  for (index_t r : {1, 5, 9})
    for (index_t c : {2, 7}) mask(r, c) = 1;
  for (index_t r = 16; r < 24; ++r)
    for (index_t c : {30, 39}) mask(r, c) = 1;
  const auto m = sparse::bcr_matrix<double>::from_mask(w, mask, br, bc);
  CHECK(m.groups().size() == 2);  // the two blocks of column block 0 share their columns
  CHECK(std::ranges::equal(m.groups()[0].rows, std::vector<std::int32_t>{1, 5, 9}));
  CHECK(m.nonzeros() == 6 + 16);
  CHECK((m.to_dense().array() == (w.array() * mask.array())).all());
  for (index_t n : {1, 5, 33}) {
    const batch<double> x = random_batch<double>(gen, cols, n);
    batch<double> y_serial(rows, n), y_par(rows, n);
    m.multiply(cm<double>(x), mm<double>(y_serial), Kokkos::Serial{});
    m.multiply(cm<double>(x), mm<double>(y_par), Kokkos::DefaultHostExecutionSpace{});
    const batch<double> expect = m.to_dense() * x;
    CHECK(max_rel<double>(y_serial, expect) < 1e-13);
    CHECK((y_serial.array() == y_par.array()).all());
  }
  // A matrix with nothing kept multiplies to zero.
  const auto empty = sparse::bcr_matrix<double>::from_mask(w, nn::matrix<double>::Zero(rows, cols), br, bc);
  CHECK(empty.nonzeros() == 0);
  batch<double> x = random_batch<double>(gen, cols, 4), y(rows, 4);
  y.setConstant(3);
  empty.multiply(cm<double>(x), mm<double>(y));
  CHECK(y.isZero());
}

TEST_CASE_TEMPLATE(
    "bcr_matrix: every product on every space equals the serial reference and Kokkos::Serial bit for bit", Exec,
    FRUGAL_TEST_SPACES) {
  // Shapes large enough for several output bands and sample tiles, with ragged edges.
  frugal::rng gen(12);
  const sparse::bcr_kernel_config kernels[] = {{4, 4}, {3, 1}, {8, 2}};
  for (int trial = 0; trial < 6; ++trial) {
    const index_t rows = between(gen, 150, 420), cols = between(gen, 100, 530);
    auto m = random_bcr<float>(gen, rows, cols, between(gen, 3, 40), between(gen, 3, 40));
    m.set_kernel(kernels[trial % 3]);
    for (index_t n : {1, 7, 64, 131}) {
      const batch<float> x = random_batch<float>(gen, cols, n), dy = random_batch<float>(gen, rows, n);
      batch<float> y(rows, n), y_serial(rows, n), y_ref(rows, n), dx(cols, n), dx_serial(cols, n), dx_ref(cols, n);
      m.multiply(cm<float>(x), mm<float>(y), Exec{});
      m.multiply(cm<float>(x), mm<float>(y_serial), Kokkos::Serial{});
      sparse::bcr_reference::multiply<float>(m, cm<float>(x), mm<float>(y_ref));
      CHECK(max_rel<float>(y, y_ref) < 2e-5);
      CHECK((y.array() == y_serial.array()).all());
      m.multiply_transposed(cm<float>(dy), mm<float>(dx), Exec{});
      m.multiply_transposed(cm<float>(dy), mm<float>(dx_serial), Kokkos::Serial{});
      sparse::bcr_reference::multiply_transposed<float>(m, cm<float>(dy), mm<float>(dx_ref));
      CHECK(max_rel<float>(dx, dx_ref) < 2e-5);
      CHECK((dx.array() == dx_serial.array()).all());
      std::vector<float> g(static_cast<std::size_t>(m.nonzeros()), 0.5f), g_serial = g;
      m.accumulate_gradient(cm<float>(x), cm<float>(dy), std::span<float>(g), Exec{});
      m.accumulate_gradient(cm<float>(x), cm<float>(dy), std::span<float>(g_serial), Kokkos::Serial{});
      CHECK(g == g_serial);
    }
  }
}

TEST_CASE("bcr_matrix refuses malformed construction input") {
  frugal::rng gen(3);
  const auto w = random_matrix<float>(gen, 16, 16);
  nn::matrix<float> mask = nn::matrix<float>::Zero(16, 16);
  mask(0, 0) = mask(1, 1) = 1;  // rows {0,1} x cols {0,1} minus two entries: not a product set
  CHECK_THROWS_AS(sparse::bcr_matrix<float>::from_mask(w, mask, 8, 8), frugal::invalid_argument);
  CHECK_THROWS_WITH_AS(sparse::bcr_matrix<float>::from_mask(w, mask, 8, 8), doctest::Contains("not BCR-structured"),
                       frugal::invalid_argument);
  CHECK_THROWS_AS(sparse::bcr_matrix<float>::from_mask(w, nn::matrix<float>::Zero(16, 15), 8, 8), frugal::shape_error);
  CHECK_THROWS_AS(sparse::bcr_matrix<float>::from_mask(w, mask, 0, 8), frugal::invalid_argument);
  admm::bcr_pattern p = admm::bcr_sparsity{.block_rows = 8, .block_cols = 8}.select(w);
  p.blocks[0].kept_rows.push_back(12);  // outside block (0, 0)
  CHECK_THROWS_AS(sparse::bcr_matrix<float>::from_pattern(w, p), frugal::invalid_argument);
  p = admm::bcr_sparsity{.block_rows = 8, .block_cols = 8}.select(w);
  p.blocks[1].row0 = 0;
  p.blocks[1].col0 = 3;  // off the block grid
  CHECK_THROWS_AS(sparse::bcr_matrix<float>::from_pattern(w, p), frugal::invalid_argument);
  p = admm::bcr_sparsity{.block_rows = 8, .block_cols = 8}.select(w);
  p.rows = 15;
  CHECK_THROWS_AS(sparse::bcr_matrix<float>::from_pattern(w, p), frugal::shape_error);
  auto m = sparse::bcr_matrix<float>::from_dense(w, admm::bcr_sparsity{.block_rows = 8, .block_cols = 8});
  batch<float> x(15, 2), y(16, 2);
  CHECK_THROWS_AS(m.multiply(cm<float>(x), mm<float>(y)), frugal::shape_error);
  CHECK_THROWS_AS(m.set_kernel({9, 1}), frugal::invalid_argument);
  CHECK_THROWS_AS(m.set_kernel({4, 3}), frugal::invalid_argument);
}

TEST_CASE("bcr_matrix saves compactly and reloads bit-identically; corrupt records are refused") {
  frugal::rng gen(5);
  auto m = random_bcr<float>(gen, 50, 70, 16, 16);
  const auto dir = frugal::test::scratch_dir("bcr");
  const auto path = (dir / "m.fck").string();
  {
    frugal::checkpoint_writer out;
    m.save(out, "layer");
    out.write(path);
  }
  const auto back = sparse::bcr_matrix<float>::load(frugal::checkpoint_reader(path), "layer");
  CHECK(back.rows() == 50);
  CHECK(back.cols() == 70);
  CHECK(back.nonzeros() == m.nonzeros());
  CHECK((back.to_dense().array() == m.to_dense().array()).all());
  CHECK(std::filesystem::file_size(path) < static_cast<std::uintmax_t>(50 * 70 * 4));

  // Hand-made records with inconsistent content.
  auto write_variant = [&](auto mutate) {
    std::vector<std::int64_t> shape = {50, 70, 16, 16};
    std::vector<std::int32_t> counts, indices;
    for (const auto& g : m.groups()) {
      counts.push_back(static_cast<std::int32_t>(g.rows.size()));
      counts.push_back(static_cast<std::int32_t>(g.cols.size()));
      indices.insert(indices.end(), g.rows.begin(), g.rows.end());
      indices.insert(indices.end(), g.cols.begin(), g.cols.end());
    }
    std::vector<float> values(m.values().begin(), m.values().end());
    mutate(shape, counts, indices, values);
    frugal::checkpoint_writer out;
    out.put<std::int64_t>("layer#shape", shape);
    out.put<std::int32_t>("layer#counts", counts);
    out.put<std::int32_t>("layer#indices", indices);
    out.put<float>("layer#values", values);
    const auto p = (dir / "bad.fck").string();
    out.write(p);
    return p;
  };
  using I64 = std::vector<std::int64_t>;
  using I32 = std::vector<std::int32_t>;
  using F = std::vector<float>;
  const std::vector<std::function<void(I64&, I32&, I32&, F&)>> corruptions = {
      [](I64& s, I32&, I32&, F&) { s[0] = -1; },
      [](I64& s, I32&, I32&, F&) { s.pop_back(); },
      [](I64&, I32& c, I32&, F&) { c.pop_back(); },
      [](I64&, I32& c, I32&, F&) { c[0] = 0; },
      [](I64&, I32&, I32& i, F&) { i[0] = 1000; },
      [](I64&, I32&, I32& i, F&) { i.push_back(0); },
      [](I64&, I32&, I32& i, F&) { i.resize(i.size() / 2); },
      [](I64&, I32&, I32&, F& v) { v.pop_back(); },
      [](I64&, I32&, I32& i, F&) { std::swap(i[0], i[1]); },
  };
  for (const auto& corrupt : corruptions)
    CHECK_THROWS_AS(sparse::bcr_matrix<float>::load(frugal::checkpoint_reader(write_variant(corrupt)), "layer"),
                    frugal::format_error);
  // Truncating the file is caught by the checkpoint layer.
  const auto size = std::filesystem::file_size(path);
  std::filesystem::resize_file(path, size - 5);
  CHECK_THROWS_AS(sparse::bcr_matrix<float>::load(frugal::checkpoint_reader(path), "layer"), frugal::io_error);
}

TEST_CASE("bcr_weight trains inside linear and conv2d: gradients match finite differences") {
  frugal::rng gen(21);
  const auto dense = random_matrix<double>(gen, 9, 14);
  sparse::bcr_weight<double> policy(
      dense, admm::bcr_sparsity{.block_rows = 4, .block_cols = 5, .row_keep_fraction = 0.5, .col_keep_fraction = 0.6});
  nn::linear<double, sparse::bcr_weight<double>> layer(std::move(policy));
  layer.reset_parameters(gen);
  nn::tensor<double> x({4, 14});
  frugal::test::fill_normal(x, gen);
  nn::parameter_registry<double> reg;
  layer.register_parameters(reg, "fc");
  CHECK(reg.at("fc.weight").value.size() == layer.policy().matrix().nonzeros());
  frugal::test::check_layer_gradients(layer, x, gen, 1e-7);

  // conv2d with a BCR policy equals conv2d with the dense (masked) weight.
  const nn::conv2d_options opt{.in_channels = 3, .out_channels = 5, .kernel = 3, .stride = 1, .padding = 1};
  nn::conv2d<double> dense_conv(opt);
  dense_conv.reset_parameters(gen);
  const auto wd = dense_conv.policy().weight().value;
  nn::conv2d<double, sparse::bcr_weight<double>> bcr_conv(
      opt, sparse::bcr_weight<double>(wd, admm::bcr_sparsity{.block_rows = 2, .block_cols = 9}));
  dense_conv.policy().weight().value = bcr_conv.policy().to_dense();
  nn::parameter_registry<double> r1, r2;
  dense_conv.register_parameters(r1, "c");
  bcr_conv.register_parameters(r2, "c");
  r2.at("c.bias").value = r1.at("c.bias").value;
  nn::tensor<double> img({2, 6, 6, 3});
  frugal::test::fill_normal(img, gen);
  const auto& a = dense_conv.forward(img);
  const auto& b = bcr_conv.forward(img);
  CHECK(frugal::test::relative_error(a.flat(), b.flat()) < 1e-13);

  // Patch-major patches (im2row from the input, channel-planar first when there are several
  // channels, only the rows of columns some block keeps): equal to the dense convolution, with
  // padding and stride 2, in forward and in predict.
  for (index_t channels : {1, 2}) {
    const nn::conv2d_options o1{.in_channels = channels, .out_channels = 4, .kernel = 3, .stride = 2, .padding = 1};
    nn::conv2d<double> d1(o1);
    d1.reset_parameters(gen);
    nn::conv2d<double, sparse::bcr_weight<double>> b1(
        o1,
        sparse::bcr_weight<double>(d1.policy().weight().value, admm::bcr_sparsity{.block_rows = 2, .block_cols = 4}));
    d1.policy().weight().value = b1.policy().to_dense();
    b1.bias().value = d1.bias().value;
    nn::tensor<double> in({3, 7, 9, channels});
    frugal::test::fill_normal(in, gen);
    const nn::tensor<double> expect = d1.forward(in);
    CHECK(frugal::test::relative_error(b1.forward(in).flat(), expect.flat()) < 1e-13);
    CHECK(frugal::test::relative_error(b1.predict(in).flat(), expect.flat()) < 1e-13);
    CHECK(b1.policy().used_inputs().size() < static_cast<std::size_t>(9 * channels));  // some rows skipped
  }
  // A pattern that skips whole input columns: used_columns lists exactly the kept ones.
  {
    nn::matrix<double> w = nn::matrix<double>::Ones(4, 8), mask = nn::matrix<double>::Zero(4, 8);
    mask.col(1).setOnes();
    mask.col(6).setOnes();
    const auto m = sparse::bcr_matrix<double>::from_mask(w, mask, 4, 4);
    REQUIRE(m.used_columns().size() == 2);
    CHECK(m.used_columns()[0] == 1);
    CHECK(m.used_columns()[1] == 6);
  }

  // The BCR conv takes its patches patch-major (PatchMajorPolicy): its gradients against finite
  // differences, for the input and for the kept values.
  static_assert(nn::PatchMajorPolicy<sparse::bcr_weight<double>>);
  frugal::test::check_layer_gradients(bcr_conv, img, gen, 1e-7);
  // Patch-major products equal the column-major ones for any batch size.
  const auto& mat = bcr_conv.policy().matrix();
  for (index_t n : {1, 7, 40, 129}) {
    const batch<double> x = random_batch<double>(gen, mat.cols(), n);
    const index_t ld = mat.input_stride(n);
    std::vector<double> xt(static_cast<std::size_t>(mat.cols() * ld), 0.0);
    for (index_t c = 0; c < mat.cols(); ++c)
      for (index_t s = 0; s < n; ++s) xt[static_cast<std::size_t>(c * ld + s)] = x(c, s);
    batch<double> y1(mat.rows(), n), y2(mat.rows(), n);
    mat.multiply(cm<double>(x), mm<double>(y1));
    mat.multiply_rows(xt.data(), ld, mm<double>(y2));
    CHECK(max_rel<double>(y1, y2) < 1e-14);
    CHECK_THROWS_AS(mat.multiply_rows(xt.data(), n - 1, mm<double>(y2)), frugal::invalid_argument);
  }
}

TEST_CASE("bcr_autotuner picks a measured candidate, caches it and round-trips the cache") {
  sparse::bcr_autotuner<float> tuner(
      {.block_shapes = {{8, 8}, {16, 32}}, .kernels = {{2, 1}, {4, 2}}, .repetitions = 2, .seed = 3});
  const auto t = tuner.tune(64, 96, 0.75, 16);
  CHECK((t.block_rows == 8 || t.block_rows == 16));
  CHECK(t.seconds > 0);
  CHECK(tuner.cached() == 1);
  const auto again = tuner.tune(64, 96, 0.75, 16);
  CHECK(again.seconds == t.seconds);  // from the cache, not re-measured
  const auto dir = frugal::test::scratch_dir("bcr-tune");
  tuner.save((dir / "tune.fck").string());
  sparse::bcr_autotuner<float> other;
  other.load((dir / "tune.fck").string());
  CHECK(other.cached() == 1);
  CHECK(other.tune(64, 96, 0.75, 16).block_cols == t.block_cols);
  CHECK_THROWS_AS(tuner.tune(64, 96, 1.0, 16), frugal::invalid_argument);
  std::ofstream((dir / "junk.fck").string()) << "not a checkpoint";
  CHECK_THROWS_AS(other.load((dir / "junk.fck").string()), frugal::io_error);
}
