// Quickstart, fpga: a 64 x 96 block-circulant layer (k = 16) in 16-bit fixed point, its product
// compared with the float operator, and the Verilog of the hardware core that computes exactly
// the fixed-point result (verify it in Verilator, synthesize it with Yosys: docs/fpga.md).
#include <frugal/core/rng.hpp>
#include <frugal/fpga.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <vector>

namespace fpga = frugal::fpga;
using frugal::index_t;

int main(int argc, char** argv) {
  Kokkos::ScopeGuard kokkos(argc, argv);
  const index_t rows = 64, cols = 96;
  frugal::rng gen(1);
  frugal::sparse::block_circulant_matrix<float> w(rows, cols, 16);  // a trained layer would go here
  for (index_t i = 0; i < w.vectors().size(); ++i) w.vectors().data()[i] = static_cast<float>(0.1 * gen.normal());
  std::vector<float> bias(rows, 0.25f);

  // Data Q16.10 (range ±32), spectra Q16.12, two butterflies and complex MACs per cycle, ReLU.
  const fpga::circulant_options options{.data = {16, 10}, .spectra = {16, 12}, .parallelism = 2, .relu = true};
  const auto layer = fpga::fixed_circulant_layer::quantize(w, std::span<const float>(bias), options);

  std::vector<float> x(cols);
  std::vector<std::int64_t> x_codes(cols), y_codes(rows);
  for (index_t c = 0; c < cols; ++c) {
    x[c] = static_cast<float>(gen.uniform(-1.0, 1.0));
    x_codes[c] = options.data.to_code(x[c]);
  }
  layer.forward(x_codes, y_codes);  // bit-exact with the hardware

  std::vector<float> y(rows);
  w.multiply(frugal::nn::const_column_map<float>(x.data(), cols, 1), frugal::nn::column_map<float>(y.data(), rows, 1));
  double worst = 0;
  for (index_t r = 0; r < rows; ++r)
    worst = std::max(worst, std::abs(options.data.to_real(y_codes[r]) - std::max(0.0f, y[r] + bias[r])));
  std::printf("fixed point against float: max |error| %.4f (one step is %.4f)\n", worst, options.data.step());

  std::ofstream("circulant_core.v") << fpga::circulant_verilog(layer, "circulant_core");
  std::printf(
      "wrote circulant_core.v: %lld cycles per product, %lld multipliers, weights loaded at run time (%zu words)\n",
      static_cast<long long>(layer.cycles_per_product()), static_cast<long long>(layer.multipliers()),
      layer.load_words().size());
  return worst < 0.25 ? 0 : 1;
}
