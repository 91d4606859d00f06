#include <doctest/doctest.h>

#include <frugal/core/rng.hpp>
#include <frugal/fpga.hpp>
#include <frugal/sparse.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <numbers>
#include <string>
#include <vector>

#include "fpga_configs.hpp"
#include "verilator_drive.hpp"

#ifdef FRUGAL_HAVE_VERILATOR
#include "Vbcr_w6.h"
#include "Vbcr_w8.h"
#include "Vcirc_k16_w12.h"
#include "Vcirc_k16_w16.h"
#include "Vcirc_k32_w12.h"
#include "Vcirc_k32_w16.h"
#include "Vcirc_k8_w12.h"
#include "verilated.h"
#endif

using frugal::index_t;
namespace fpga = frugal::fpga;

namespace {

std::int64_t random_code(frugal::rng& gen, const fpga::fixed_format& f) {
  return f.min_code() +
         static_cast<std::int64_t>(gen.uniform_int(static_cast<std::uint64_t>(f.max_code() - f.min_code() + 1)));
}

/// A random code whose magnitude is at most 2^bits (small, realistic activations).
std::int64_t small_code(frugal::rng& gen, int bits) {
  return static_cast<std::int64_t>(gen.uniform_int(std::uint64_t{2} << bits)) - (std::int64_t{1} << bits);
}

void randomize(fpga::fixed_circulant_layer& layer, frugal::rng& gen) {
  const auto& o = layer.options();
  for (index_t i = 0; i < layer.block_rows(); ++i)
    for (index_t j = 0; j < layer.block_cols(); ++j)
      for (index_t f = 0; f < layer.bins(); ++f)
        layer.set_spectrum(i, j, f, random_code(gen, o.spectra), random_code(gen, o.spectra));
  for (index_t r = 0; r < layer.rows(); ++r) layer.set_bias(r, random_code(gen, o.data));
}

/// The dense matrix of a block-circulant matrix, built from its vectors by the definition
/// W(ik + a, jk + b) = v_ij[(a − b) mod k] (independent of the FFT path).
frugal::nn::matrix<double> dense_of(const frugal::sparse::block_circulant_matrix<double>& m) {
  const index_t k = m.block_size();
  frugal::nn::matrix<double> w(m.rows(), m.cols());
  for (index_t r = 0; r < m.rows(); ++r)
    for (index_t c = 0; c < m.cols(); ++c)
      w(r, c) = m.vectors()((r / k) * m.block_cols() + c / k, ((r % k) - (c % k) + k) % k);
  return w;
}

}  // namespace

TEST_CASE("fpga: fixed-point rounding and saturation against their definitions") {
  for (std::int64_t v = -300; v <= 300; ++v) {
    for (int s = 0; s <= 5; ++s) {
      const double exact = std::floor(static_cast<double>(v) / std::ldexp(1.0, s) + 0.5);  // ties toward +inf
      CHECK(fpga::shift_round(v, s) == static_cast<std::int64_t>(exact));
    }
    CHECK(fpga::saturate(v, 8) == std::clamp<std::int64_t>(v, -128, 127));
    CHECK(fpga::negate_saturate(v, 9) == std::clamp<std::int64_t>(-v, -256, 255));
  }
  const fpga::fixed_format f{8, 4};
  std::int64_t saturated = 0;
  CHECK(f.to_code(1.53125, &saturated) == 25);  // 24.5 rounds away from zero
  CHECK(f.to_code(-1.53125, &saturated) == -25);
  CHECK(f.to_code(100.0, &saturated) == 127);
  CHECK(f.to_code(-100.0, &saturated) == -128);
  CHECK(saturated == 2);
  CHECK(f.to_real(-128) == -8.0);
  CHECK_THROWS_AS((void)f.to_code(std::nan("")), frugal::invalid_argument);
  CHECK_THROWS_AS((fpga::fixed_format{1, 0}.validate("t")), frugal::invalid_argument);
  CHECK_THROWS_AS((fpga::fixed_format{25, 0}.validate("t")), frugal::invalid_argument);
  CHECK(fpga::counter_bits(1) == 1);
  CHECK(fpga::counter_bits(2) == 1);
  CHECK(fpga::counter_bits(5) == 3);
  CHECK(fpga::bit_reverse(1, 3) == 4);
  CHECK(fpga::bit_reverse(6, 3) == 3);
}

TEST_CASE("fpga: the fixed-point block-circulant model approximates the real product within its error bound") {
  frugal::rng gen(21);
  struct shape {
    index_t rows, cols, k;
  };
  for (const auto s : {shape{24, 20, 8}, shape{40, 48, 16}, shape{64, 70, 32}}) {
    frugal::sparse::block_circulant_matrix<double> m(s.rows, s.cols, s.k);
    auto& v = m.vectors();
    for (index_t i = 0; i < v.size(); ++i) v.data()[i] = 0.1 * gen.normal();
    std::vector<double> bias(static_cast<std::size_t>(s.rows));
    for (auto& b : bias) b = 0.2 * gen.normal();
    const fpga::circulant_options o{.data = {16, 10}, .spectra = {16, 12}, .twiddle_bits = 16, .parallelism = 2};
    const auto layer = fpga::fixed_circulant_layer::quantize(m, std::span<const double>(bias), o);
    CHECK(layer.saturated_codes() == 0);
    const auto w = dense_of(m);
    double vmax = 0;
    for (index_t i = 0; i < layer.block_rows(); ++i)
      for (index_t j = 0; j < layer.block_cols(); ++j)
        for (index_t f = 0; f < layer.bins(); ++f) {
          const auto [re, im] = layer.spectrum(i, j, f);
          vmax = std::max({vmax, o.spectra.to_real(std::abs(re)), o.spectra.to_real(std::abs(im))});
        }
    // Rounding bound: log2(k) + 1 roundings of δ/2 on each spectrum X_j (scaled forward FFT),
    // carried through q products of at most √2·vmax, one more rounding of the sum, all amplified
    // by at most k in the unscaled inverse FFT with its own log2(k) roundings; the spectra's own
    // rounding (2^−VF/2 per part) times Σ|X| ≤ q·max|x|; the bias's δ/2.
    const double delta = o.data.step(), xmax = 2.0;
    const int logk = layer.log2_block_size();
    const double bound =
        static_cast<double>(s.k) *
            ((logk + 1) * delta / 2 * static_cast<double>(layer.block_cols()) * std::sqrt(2.0) * vmax + delta / 2 +
             std::sqrt(2.0) * o.spectra.step() / 2 * static_cast<double>(layer.block_cols()) * xmax) +
        logk * delta + delta;
    double worst = 0;
    for (int trial = 0; trial < 20; ++trial) {
      std::vector<std::int64_t> x(static_cast<std::size_t>(s.cols)), y(static_cast<std::size_t>(s.rows));
      Eigen::VectorXd xr(s.cols);
      for (index_t c = 0; c < s.cols; ++c) {
        x[static_cast<std::size_t>(c)] = o.data.to_code(gen.uniform(-xmax, xmax));
        xr(c) = o.data.to_real(x[static_cast<std::size_t>(c)]);
      }
      layer.forward(x, y);
      const Eigen::VectorXd yr = w * xr;
      for (index_t r = 0; r < s.rows; ++r)
        worst = std::max(worst, std::abs(o.data.to_real(y[static_cast<std::size_t>(r)]) - yr(r) -
                                         bias[static_cast<std::size_t>(r)]));
    }
    CAPTURE(s.k);
    CAPTURE(bound);
    CHECK(worst <= bound);
    CHECK(worst > 0);  // rounding happens: the comparison is not vacuous
  }
}

TEST_CASE("fpga: an identity block-circulant layer returns its input up to the FFT round trip") {
  // W = I (v_ii = e_0, so every spectrum bin is 1): y = x up to a few least significant bits.
  const index_t n = 48, k = 16;
  fpga::circulant_options o{.data = {16, 8}, .spectra = {16, 12}, .twiddle_bits = 18, .parallelism = 4};
  fpga::fixed_circulant_layer layer(n, n, k, o);
  for (index_t i = 0; i < layer.block_rows(); ++i)
    for (index_t f = 0; f < layer.bins(); ++f) layer.set_spectrum(i, i, f, std::int64_t{1} << 12, 0);
  frugal::rng gen(4);
  std::vector<std::int64_t> x(static_cast<std::size_t>(n)), y(static_cast<std::size_t>(n));
  for (auto& c : x) c = small_code(gen, 12);
  layer.forward(x, y);
  for (index_t r = 0; r < n; ++r)
    CHECK(std::abs(y[static_cast<std::size_t>(r)] - x[static_cast<std::size_t>(r)]) <= 16 * 3);
}

TEST_CASE("fpga: the BCR model equals an exact integer product over the dense matrix") {
  for (const auto& c : frugal_tools::bcr_configs()) {
    const auto layer = frugal_tools::random_bcr_layer(c);
    // Rebuild the dense matrix of codes independently from the BCR matrix's dense image.
    frugal::rng wgen(c.seed);
    const auto& wf = c.options.weights;
    frugal::nn::matrix<float> w(c.rows, c.cols);
    for (index_t i = 0; i < c.rows; ++i)
      for (index_t j = 0; j < c.cols; ++j)
        w(i, j) = std::ldexp(static_cast<float>(random_code(wgen, wf)), -wf.fraction_bits);
    const auto m = frugal::sparse::bcr_matrix<float>::from_dense(w, {.block_rows = c.block_rows,
                                                                     .block_cols = c.block_cols,
                                                                     .row_keep_fraction = c.keep,
                                                                     .col_keep_fraction = c.keep});
    const auto dense = m.to_dense();
    CHECK(layer.nonzeros() == m.nonzeros());
    CHECK(layer.saturated_codes() == 0);
    frugal::rng gen(8);
    const auto& df = c.options.data;
    for (int trial = 0; trial < 10; ++trial) {
      std::vector<std::int64_t> x(static_cast<std::size_t>(c.cols)), y(static_cast<std::size_t>(c.rows));
      for (auto& v : x) v = random_code(gen, df);
      layer.forward(x, y);
      for (index_t r = 0; r < c.rows; ++r) {
        std::int64_t acc = 0;
        for (index_t col = 0; col < c.cols; ++col)
          acc += static_cast<std::int64_t>(std::ldexp(static_cast<double>(dense(r, col)), wf.fraction_bits)) *
                 x[static_cast<std::size_t>(col)];
        std::int64_t out = fpga::saturate(fpga::saturate(fpga::shift_round(acc, wf.fraction_bits), df.total_bits) +
                                              layer.bias()[static_cast<std::size_t>(r)],
                                          df.total_bits);
        if (c.options.relu) out = std::max<std::int64_t>(out, 0);
        CHECK(y[static_cast<std::size_t>(r)] == out);
      }
    }
  }
}

TEST_CASE("fpga: bad configurations and inputs are rejected with the argument named") {
  using E = frugal::invalid_argument;
  CHECK_THROWS_AS(fpga::fixed_circulant_layer(8, 8, 6), E);
  CHECK_THROWS_AS(fpga::fixed_circulant_layer(8, 8, 2), E);
  CHECK_THROWS_AS(fpga::fixed_circulant_layer(0, 8, 8), E);
  CHECK_THROWS_AS(fpga::fixed_circulant_layer(8, 8, 8, {.parallelism = 8}), E);
  CHECK_THROWS_AS(fpga::fixed_circulant_layer(8, 8, 8, {.parallelism = 3}), E);
  CHECK_THROWS_AS(fpga::fixed_circulant_layer(8, 8, 8, {.twiddle_bits = 3}), E);
  CHECK_THROWS_WITH_AS(fpga::fixed_circulant_layer(8, 8, 8, {.data = {30, 4}}), doctest::Contains("total_bits = 30"),
                       E);
  fpga::fixed_circulant_layer layer(8, 8, 8, {.data = {8, 4}});
  std::vector<std::int64_t> x(8, 0), y(8), short_x(7);
  CHECK_THROWS_AS(layer.forward(short_x, y), frugal::shape_error);
  x[3] = 128;
  CHECK_THROWS_WITH_AS(layer.forward(x, y), doctest::Contains("input code 128"), E);
  CHECK_THROWS_AS(layer.set_spectrum(0, 0, 5, 0, 0), E);
  CHECK_THROWS_AS(layer.set_spectrum(0, 0, 0, 1 << 20, 0), E);
  CHECK_THROWS_AS(layer.set_bias(8, 0), E);
  CHECK_THROWS_WITH_AS((void)fpga::circulant_verilog(layer, "3bad"), doctest::Contains("not a Verilog identifier"), E);
  frugal::sparse::block_circulant_matrix<float> m(8, 8, 8);
  std::vector<float> bias(3);
  CHECK_THROWS_AS((void)fpga::fixed_circulant_layer::quantize(m, std::span<const float>(bias), {}), E);
}

TEST_CASE("fpga: the generated Verilog names its module and is deterministic") {
  const auto configs = frugal_tools::circulant_configs();
  const auto& c = configs.front();
  const fpga::fixed_circulant_layer layer(c.rows, c.cols, c.block_size, c.options);
  const auto text = fpga::circulant_verilog(layer, "core_a");
  CHECK(text.find("module core_a (") != std::string::npos);
  CHECK(text.find("endmodule") != std::string::npos);
  CHECK(text == fpga::circulant_verilog(layer, "core_a"));
  const auto bcr = fpga::bcr_verilog(frugal_tools::random_bcr_layer(frugal_tools::bcr_configs().front()), "core_b");
  CHECK(bcr.find("module core_b (") != std::string::npos);
}

#ifdef FRUGAL_HAVE_VERILATOR
namespace {

/// 2000 random input vectors through a Verilated core (its weights already loaded) and the C++
/// model: half with codes over the whole data range (saturation everywhere), half small (the
/// regime of trained layers); every output word and the cycles between products compared.
template <class Top, class Layer>
void compare_stream(Top& top, const Layer& layer, const std::string& name, frugal::rng& gen, int small_bits) {
  const index_t vectors = 2000, rows = layer.rows(), cols = layer.cols();
  const auto& df = layer.options().data;
  std::vector<std::int64_t> in, expected(static_cast<std::size_t>(rows * vectors));
  for (index_t v = 0; v < vectors; ++v)
    for (index_t c = 0; c < cols; ++c) in.push_back(v % 2 ? random_code(gen, df) : small_code(gen, small_bits));
  for (index_t v = 0; v < vectors; ++v)
    layer.forward(std::span(in).subspan(static_cast<std::size_t>(v * cols), static_cast<std::size_t>(cols)),
                  std::span(expected).subspan(static_cast<std::size_t>(v * rows), static_cast<std::size_t>(rows)));
  const auto run =
      frugal_test::stream(top, in, cols, df.total_bits, rows * vectors, (vectors + 2) * layer.cycles_per_product());
  top.final();
  REQUIRE(run.outputs.size() == expected.size());
  index_t mismatches = 0, distinct = 0;
  for (std::size_t i = 0; i < expected.size(); ++i) {
    mismatches += run.outputs[i] != expected[i];
    distinct += expected[i] != df.max_code() && expected[i] != df.min_code() && expected[i] != 0;
  }
  CAPTURE(name);
  CHECK(mismatches == 0);
  CHECK(distinct > static_cast<index_t>(expected.size()) / 4);  // not a sea of saturated words
  for (std::size_t v = 1; v < run.start_cycle.size(); ++v)
    CHECK(run.start_cycle[v] - run.start_cycle[v - 1] == layer.cycles_per_product());
  MESSAGE(name << ": " << expected.size() << " outputs bit-exact, " << layer.cycles_per_product()
               << " cycles per product");
}

template <class Top>
void check_circulant_core(const std::string& name) {
  const auto configs = frugal_tools::circulant_configs();
  const auto it = std::find_if(configs.begin(), configs.end(), [&](const auto& c) { return c.name == name; });
  REQUIRE(it != configs.end());
  fpga::fixed_circulant_layer layer(it->rows, it->cols, it->block_size, it->options);
  frugal::rng gen(std::hash<std::string>{}(name) % 1000 + 1);
  randomize(layer, gen);
  VerilatedContext context;
  Top top(&context);
  frugal_test::load_weights(top, layer.load_words());
  compare_stream(top, layer, name, gen, it->options.data.total_bits - 4);
}

template <class Top>
void check_bcr_core(const std::string& name) {
  const auto configs = frugal_tools::bcr_configs();
  const auto it = std::find_if(configs.begin(), configs.end(), [&](const auto& c) { return c.name == name; });
  REQUIRE(it != configs.end());
  const auto layer = frugal_tools::random_bcr_layer(*it);
  VerilatedContext context;
  Top top(&context);
  frugal_test::load_weights(top, layer.load_words());
  frugal::rng gen(std::hash<std::string>{}(name) % 1000 + 7);
  compare_stream(top, layer, name, gen, it->options.data.total_bits - 5);
  MESSAGE(name << ": lane utilisation " << layer.lane_utilisation());
}

}  // namespace

TEST_CASE("fpga: Verilated block-circulant cores equal the fixed-point model bit for bit") {
  check_circulant_core<Vcirc_k8_w12>("circ_k8_w12");
  check_circulant_core<Vcirc_k16_w16>("circ_k16_w16");
  check_circulant_core<Vcirc_k16_w12>("circ_k16_w12");
  check_circulant_core<Vcirc_k32_w12>("circ_k32_w12");
  check_circulant_core<Vcirc_k32_w16>("circ_k32_w16");
}

TEST_CASE("fpga: Verilated BCR MAC arrays equal the fixed-point model bit for bit") {
  check_bcr_core<Vbcr_w8>("bcr_w8");
  check_bcr_core<Vbcr_w6>("bcr_w6");
}
#else
TEST_CASE("fpga: hardware simulation" * doctest::skip()) {}
#endif
