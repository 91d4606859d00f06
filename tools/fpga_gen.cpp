// frugal_fpga_gen: writes the Verilog of a frugal hardware layer.
//   frugal_fpga_gen config NAME --output FILE          a configuration of tools/fpga_configs.hpp
//   frugal_fpga_gen circulant --rows R --cols C --block-size K [--data 16.10 --spectra 16.12
//                   --twiddle-bits 16 --parallelism P --relu] --output FILE
//   frugal_fpga_gen bcr --rows R --cols C --block-rows BR --block-cols BC --keep F [--seed S
//                   --data 16.10 --weights 8.6 --parallelism P --relu] --output FILE
// The module is named after the output file (Verilator's lint wants the two to match).
#include <CLI/CLI.hpp>
#include <Kokkos_Core.hpp>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>

#include "fpga_configs.hpp"

namespace {

frugal::fpga::fixed_format parse_format(const std::string& text) {
  const auto dot = text.find('.');
  if (dot == std::string::npos) throw CLI::ValidationError("format", "'" + text + "' is not WIDTH.FRACTION");
  return {std::stoi(text.substr(0, dot)), std::stoi(text.substr(dot + 1))};
}

void write(const std::string& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
  if (!out) throw std::runtime_error("cannot write " + path);
}

std::string module_of(const std::string& path) { return std::filesystem::path(path).stem().string(); }

}  // namespace

int main(int argc, char** argv) {
  Kokkos::ScopeGuard kokkos(argc, argv);
  CLI::App app{"Writes the Verilog of a frugal hardware layer (frugal::fpga)."};
  app.require_subcommand(1);
  std::string output, name, data = "16.10", spectra = "16.12", weights = "8.6";
  frugal::index_t rows = 0, cols = 0, k = 0, block_rows = 0, block_cols = 0;
  int twiddle_bits = 16, parallelism = 1;
  double keep = 0.5;
  std::uint64_t seed = 1;
  bool relu = false;
  auto* config = app.add_subcommand("config", "A named configuration of tools/fpga_configs.hpp");
  config->add_option("name", name)->required();
  auto* circ = app.add_subcommand("circulant", "A block-circulant layer core");
  auto* bcr = app.add_subcommand("bcr", "A BCR MAC-array core for a random matrix of a BCR pattern");
  for (auto* sub : {config, circ, bcr}) sub->add_option("--output,-o", output, "Verilog file to write")->required();
  for (auto* sub : {circ, bcr}) {
    sub->add_option("--rows", rows)->required();
    sub->add_option("--cols", cols)->required();
    sub->add_option("--data", data, "Data format WIDTH.FRACTION")->capture_default_str();
    sub->add_option("--parallelism", parallelism)->capture_default_str();
    sub->add_flag("--relu", relu);
  }
  circ->add_option("--block-size", k)->required();
  circ->add_option("--spectra", spectra, "Spectra format WIDTH.FRACTION")->capture_default_str();
  circ->add_option("--twiddle-bits", twiddle_bits)->capture_default_str();
  bcr->add_option("--block-rows", block_rows)->required();
  bcr->add_option("--block-cols", block_cols)->required();
  bcr->add_option("--keep", keep, "Fraction of each block's rows and columns kept")->capture_default_str();
  bcr->add_option("--weights", weights, "Weight format WIDTH.FRACTION")->capture_default_str();
  bcr->add_option("--seed", seed)->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  try {
    const std::string module = module_of(output);
    if (*config) {
      for (const auto& c : frugal_tools::circulant_configs())
        if (c.name == name) {
          write(output, frugal::fpga::circulant_verilog(
                            frugal::fpga::fixed_circulant_layer(c.rows, c.cols, c.block_size, c.options), module));
          return 0;
        }
      for (const auto& c : frugal_tools::bcr_configs())
        if (c.name == name) {
          write(output, frugal::fpga::bcr_verilog(frugal_tools::random_bcr_layer(c), module));
          return 0;
        }
      std::cerr << "frugal_fpga_gen: no configuration named '" << name << "'\n";
      return 2;
    }
    if (*circ) {
      const frugal::fpga::circulant_options o{.data = parse_format(data),
                                              .spectra = parse_format(spectra),
                                              .twiddle_bits = twiddle_bits,
                                              .parallelism = parallelism,
                                              .relu = relu};
      write(output, frugal::fpga::circulant_verilog(frugal::fpga::fixed_circulant_layer(rows, cols, k, o), module));
      return 0;
    }
    const frugal_tools::bcr_config c{
        "cli",
        rows,
        cols,
        block_rows,
        block_cols,
        keep,
        {.data = parse_format(data), .weights = parse_format(weights), .parallelism = parallelism, .relu = relu},
        seed};
    write(output, frugal::fpga::bcr_verilog(frugal_tools::random_bcr_layer(c), module));
  } catch (const std::exception& e) {
    std::cerr << "frugal_fpga_gen: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
