#pragma once
// The hardware configurations frugal verifies in simulation (tests/fpga) and costs
// (bench/fpga), shared by the generator tool, which writes their Verilog at build time, and the
// programs that drive the Verilated cores, which rebuild the same layers. A BCR core's Verilog
// depends on its schedule's length, so its layer is built from a seeded random matrix here.
#include <frugal/fpga.hpp>
#include <frugal/sparse.hpp>

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

namespace frugal_tools {

using frugal::index_t;
namespace fpga = frugal::fpga;

struct circulant_config {
  std::string name;
  index_t rows, cols, block_size;
  fpga::circulant_options options;
};

struct bcr_config {
  std::string name;
  index_t rows, cols, block_rows, block_cols;
  double keep;  // fraction of rows and of columns each block keeps
  fpga::bcr_options options;
  std::uint64_t seed = 1;
};

// Block sizes 8, 16 and 32 at two widths (12- and 16-bit data), odd shapes (padded input and
// cut output blocks), parallelism from 1 to k/2, with and without ReLU.
// A format written WIDTH.FRACTION on a command line ("16.10").
inline fpga::fixed_format parse_format(const std::string& text) {
  const auto dot = text.find('.');
  if (dot == std::string::npos) throw frugal::invalid_argument("format '" + text + "' is not WIDTH.FRACTION");
  return {std::stoi(text.substr(0, dot)), std::stoi(text.substr(dot + 1))};
}

inline std::vector<circulant_config> circulant_configs() {
  return {
      {"circ_k8_w12",
       40,
       20,
       8,
       {.data = {12, 8}, .spectra = {12, 9}, .twiddle_bits = 12, .parallelism = 2, .relu = true}},
      {"circ_k16_w16", 48, 40, 16, {.data = {16, 10}, .spectra = {16, 12}, .twiddle_bits = 16, .parallelism = 1}},
      {"circ_k16_w12",
       36,
       64,
       16,
       {.data = {12, 7}, .spectra = {12, 8}, .twiddle_bits = 12, .parallelism = 8, .relu = true}},
      {"circ_k32_w12",
       64,
       70,
       32,
       {.data = {12, 7}, .spectra = {10, 7}, .twiddle_bits = 14, .parallelism = 4, .relu = true}},
      {"circ_k32_w16", 40, 96, 32, {.data = {16, 10}, .spectra = {16, 12}, .twiddle_bits = 16, .parallelism = 16}},
  };
}

inline std::vector<bcr_config> bcr_configs() {
  return {
      {"bcr_w8", 40, 64, 8, 16, 0.5, {.data = {16, 10}, .weights = {8, 6}, .parallelism = 4, .relu = true}, 3},
      {"bcr_w6", 84, 120, 16, 32, 0.4, {.data = {12, 6}, .weights = {6, 5}, .parallelism = 2}, 5},
  };
}

// A BCR layer on the config's pattern whose weights are uniformly random codes of the weight
// format (exact in float, so quantization keeps them) and whose bias is random in a quarter of
// the data range.
inline fpga::fixed_bcr_layer random_bcr_layer(const bcr_config& c) {
  frugal::rng gen(c.seed);
  const auto& wf = c.options.weights;
  frugal::nn::matrix<float> w(c.rows, c.cols);
  for (index_t i = 0; i < c.rows; ++i)
    for (index_t j = 0; j < c.cols; ++j)
      w(i, j) = std::ldexp(
          static_cast<float>(wf.min_code() + static_cast<std::int64_t>(gen.uniform_int(
                                                 static_cast<std::uint64_t>(wf.max_code() - wf.min_code() + 1)))),
          -wf.fraction_bits);
  const auto m = frugal::sparse::bcr_matrix<float>::from_dense(w, {.block_rows = c.block_rows,
                                                                   .block_cols = c.block_cols,
                                                                   .row_keep_fraction = c.keep,
                                                                   .col_keep_fraction = c.keep});
  const auto& df = c.options.data;
  std::vector<float> bias(static_cast<std::size_t>(c.rows));
  for (auto& b : bias)
    b = std::ldexp(static_cast<float>(df.min_code() / 4 + static_cast<std::int64_t>(gen.uniform_int(
                                                              static_cast<std::uint64_t>(df.max_code() / 2 + 1)))),
                   -df.fraction_bits);
  return fpga::fixed_bcr_layer::quantize(m, std::span<const float>(bias), c.options);
}

}  // namespace frugal_tools
