// The cost of frugal's generated hardware, one command: for every configuration of
// tools/fpga_configs.hpp (the ones the tests verify bit for bit in Verilator) and a few small ones
// that fit an iCE40 HX8K, Yosys synthesis (generic 4-LUT, iCE40, Xilinx 7-series: LUTs,
// flip-flops, DSPs, block RAMs), nextpnr-ice40 place and route on an HX8K (maximum clock), the
// core's cycles per product and its throughput at that clock, beside the CPU in the same run, one
// thread, one sample: the float operator (block-circulant through FFTW, or the BCR kernel), the
// fixed-point model, and Eigen's dense GEMV of the same shape.
//
//   bench_fpga                  the table (tens of minutes on 2 cores; tool logs in --out)
//   bench_fpga --quick          the small configurations only, no generic synthesis
//   bench_fpga --no-synthesis   cycles and CPU times only
#include <frugal/core/rng.hpp>
#include <frugal/fpga.hpp>
#include <frugal/sparse.hpp>

#include <CLI/CLI.hpp>
#include <Eigen/Core>
#include <Kokkos_Core.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <future>
#include <optional>
#include <string>
#include <vector>

#ifdef FRUGAL_BENCH_HAVE_SEARCH
#include <frugal/search/measured.hpp>
#endif

#include "../common/timing.hpp"
#include "fpga_configs.hpp"
#include "fpga_flow.hpp"

using frugal::index_t;
namespace fpga = frugal::fpga;
namespace sparse = frugal::sparse;

namespace {

struct row {
  std::string name, kind, shape, formats;
  double macs = 0, memory_accesses = 0, memory_bytes = 0, multipliers = 0;
  index_t parallelism = 1;
  std::int64_t cycles = 0;
  std::string verilog;
  double cpu_float = 0, cpu_fixed = 0, cpu_dense = 0;
  frugal_tools::resources generic, ice40, xc7;
  std::optional<frugal_tools::placement> placed;
};

std::string format_name(const fpga::fixed_format& f) {
  return "Q" + std::to_string(f.total_bits) + "." + std::to_string(f.fraction_bits);
}

/// The cycles and operation counts any fpga layer reports.
template <class Layer>
void set_costs(row& r, const Layer& layer) {
  r.cycles = layer.cycles_per_product();
  r.macs = layer.macs_per_product();
  r.memory_accesses = layer.memory_accesses_per_product();
  r.memory_bytes = layer.memory_bytes();
  r.multipliers = static_cast<double>(layer.multipliers());
}

double dense_gemv_seconds(index_t rows, index_t cols) {
  Eigen::MatrixXf w = Eigen::MatrixXf::Random(rows, cols);
  Eigen::VectorXf x = Eigen::VectorXf::Random(cols), y(rows);
  return frugal::bench::time_median([&] { y.noalias() = w * x; }, 201, 21);
}

row circulant_row(const frugal_tools::circulant_config& c) {
  row r;
  r.name = c.name;
  r.kind = "block-circulant";
  r.shape = std::to_string(c.rows) + "×" + std::to_string(c.cols) + " k" + std::to_string(c.block_size);
  r.formats = format_name(c.options.data) + "/" + format_name(c.options.spectra);
  r.parallelism = c.options.parallelism;
  // Random trained-like weights: the float operator and its fixed-point image.
  frugal::rng gen(3);
  sparse::block_circulant_matrix<float> m(c.rows, c.cols, c.block_size);
  auto& v = m.vectors();
  for (index_t i = 0; i < v.size(); ++i) v.data()[i] = static_cast<float>(0.05 * gen.normal());
  const auto layer = fpga::fixed_circulant_layer::quantize(m, std::span<const float>(), c.options);
  r.verilog = fpga::circulant_verilog(layer, c.name);
  set_costs(r, layer);
  const Kokkos::Serial serial;
  std::vector<float> x(static_cast<std::size_t>(c.cols), 0.5f), y(static_cast<std::size_t>(c.rows));
  r.cpu_float = frugal::bench::time_median(
      [&] {
        m.multiply(serial, frugal::nn::const_column_map<float>(x.data(), c.cols, 1),
                   frugal::nn::column_map<float>(y.data(), c.rows, 1));
      },
      201, 21);
  std::vector<std::int64_t> xc(static_cast<std::size_t>(c.cols), 37), yc(static_cast<std::size_t>(c.rows));
  r.cpu_fixed = frugal::bench::time_median([&] { layer.forward(xc, yc); }, 201, 21);
  r.cpu_dense = dense_gemv_seconds(c.rows, c.cols);
  return r;
}

row bcr_row(const frugal_tools::bcr_config& c) {
  row r;
  r.name = c.name;
  r.kind = "BCR";
  r.shape = std::to_string(c.rows) + "×" + std::to_string(c.cols) + " keep " + std::to_string(c.keep).substr(0, 4);
  r.formats = format_name(c.options.data) + "/" + format_name(c.options.weights);
  r.parallelism = c.options.parallelism;
  const auto layer = frugal_tools::random_bcr_layer(c);
  r.verilog = fpga::bcr_verilog(layer, c.name);
  set_costs(r, layer);
  frugal::rng gen(c.seed);
  frugal::nn::matrix<float> w(c.rows, c.cols);
  for (index_t i = 0; i < w.size(); ++i) w.data()[i] = static_cast<float>(gen.normal());
  const auto m = sparse::bcr_matrix<float>::from_dense(w, {.block_rows = c.block_rows,
                                                           .block_cols = c.block_cols,
                                                           .row_keep_fraction = c.keep,
                                                           .col_keep_fraction = c.keep});
  const Kokkos::Serial serial;
  std::vector<float> x(static_cast<std::size_t>(c.cols), 0.5f), y(static_cast<std::size_t>(c.rows));
  r.cpu_float = frugal::bench::time_median(
      [&] {
        m.multiply(frugal::nn::const_column_map<float>(x.data(), c.cols, 1),
                   frugal::nn::column_map<float>(y.data(), c.rows, 1), serial);
      },
      201, 21);
  std::vector<std::int64_t> xc(static_cast<std::size_t>(c.cols), 37), yc(static_cast<std::size_t>(c.rows));
  r.cpu_fixed = frugal::bench::time_median([&] { layer.forward(xc, yc); }, 201, 21);
  r.cpu_dense = dense_gemv_seconds(c.rows, c.cols);
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Resources, clock and throughput of frugal's generated hardware beside the CPU."};
  std::string out_dir = "bench_fpga_out";
  bool quick = false, no_synthesis = false;
  app.add_option("--out", out_dir, "Directory for the Verilog and tool logs")->capture_default_str();
  app.add_flag("--quick", quick, "Small configurations only, no generic synthesis");
  app.add_flag("--no-synthesis", no_synthesis, "Skip Yosys and nextpnr");
  CLI11_PARSE(app, argc, argv);
  Kokkos::ScopeGuard kokkos(argc, argv);
  Eigen::setNbThreads(1);
  const std::filesystem::path out(out_dir);
  std::filesystem::create_directories(out);

  // Small configurations that fit an HX8K (7,680 LUT4s), so nextpnr gives their clock.
  const std::vector<frugal_tools::circulant_config> small = {
      {"small_circ_k8", 16, 16, 8, {.data = {8, 5}, .spectra = {8, 6}, .twiddle_bits = 8, .parallelism = 1}},
      {"small_circ_k16", 32, 32, 16, {.data = {8, 5}, .spectra = {8, 6}, .twiddle_bits = 8, .parallelism = 1}},
      {"small_circ_k32", 64, 64, 32, {.data = {8, 5}, .spectra = {8, 6}, .twiddle_bits = 8, .parallelism = 1}},
  };
  const std::vector<frugal_tools::bcr_config> small_bcr = {
      {"small_bcr", 32, 64, 8, 16, 0.5, {.data = {8, 5}, .weights = {6, 5}, .parallelism = 2}, 9},
  };
  std::vector<row> rows;
  // CPU timings first, alone on the machine; the tools run afterwards, two at a time.
  for (const auto& c : small) rows.push_back(circulant_row(c));
  for (const auto& c : small_bcr) rows.push_back(bcr_row(c));
  if (!quick) {
    for (const auto& c : frugal_tools::circulant_configs()) rows.push_back(circulant_row(c));
    for (const auto& c : frugal_tools::bcr_configs()) rows.push_back(bcr_row(c));
  }
  const bool flow = !no_synthesis && frugal_tools::have_program("yosys");
  const bool pnr = flow && frugal_tools::have_program("nextpnr-ice40");
  if (flow) {
    std::vector<std::future<void>> jobs;
    for (auto& r : rows) {
      const auto verilog = out / (r.name + ".v");
      std::ofstream(verilog) << r.verilog;
      jobs.push_back(std::async(std::launch::async, [&r, verilog, quick, pnr] {
        r.ice40 = frugal_tools::synthesize(verilog, r.name, "ice40");
        if (pnr && r.ice40.ok && r.ice40.luts <= 7680) r.placed = frugal_tools::max_clock(verilog, r.name);
        r.xc7 = frugal_tools::synthesize(verilog, r.name, "xc7");
        if (!quick) r.generic = frugal_tools::synthesize(verilog, r.name, "generic");
      }));
      if (jobs.size() == 2) {
        for (auto& j : jobs) j.get();
        jobs.clear();
      }
      std::fprintf(stderr, "synthesized %s\n", r.name.c_str());
    }
    for (auto& j : jobs) j.get();
  }

  std::printf(
      "frugal/fpga: generated cores; Yosys %s, nextpnr-ice40 on an HX8K (CT256); CPU one thread, one sample, "
      "medians\n\n",
      flow ? "synthesis" : "(not run)");
  std::printf(
      "| core | kind | shape | data/weights | P | generic LUT4 | generic FF | iCE40 LUT4 | iCE40 FF | iCE40 BRAM | "
      "xc7 LUT | xc7 FF | xc7 DSP48 | xc7 BRAM18 | fmax (HX8K) | cycles/product | core µs/product | "
      "products/s | "
      "CPU float | CPU fixed model | Eigen dense | float / core |\n");
  std::printf("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
  std::ofstream csv(out / "bench_fpga.csv");
  csv << "core,kind,parallelism,generic_luts,generic_ffs,ice40_luts,ice40_ffs,ice40_brams,xc7_luts,xc7_ffs,"
         "xc7_dsps,xc7_bram18,device,fmax_mhz,cycles,core_us,cpu_float_us,cpu_fixed_us,eigen_dense_us\n";
  for (const auto& r : rows) {
    auto n = [](const frugal_tools::resources& res, long v) { return res.ok ? std::to_string(v) : std::string("—"); };
    std::string fmax = "—", core = "—", rate = "—", ratio = "—";
    if (r.placed) {
      const double us = static_cast<double>(r.cycles) / r.placed->mhz;
      char b[64];
      std::snprintf(b, sizeof b, "%.1f MHz", r.placed->mhz);
      fmax = b;
      std::snprintf(b, sizeof b, "%.2f", us);
      core = b;
      std::snprintf(b, sizeof b, "%.0f", 1e6 / us);
      rate = b;
      std::snprintf(b, sizeof b, "%.2f×", 1e6 * r.cpu_float / us);
      ratio = b;
    } else if (r.ice40.ok) {
      fmax = "does not fit";
    }
    std::printf(
        "| %s | %s | %s | %s | %lld | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %lld | %s | %s | %.2f µs | "
        "%.2f µs | %.2f µs | %s |\n",
        r.name.c_str(), r.kind.c_str(), r.shape.c_str(), r.formats.c_str(), static_cast<long long>(r.parallelism),
        n(r.generic, r.generic.luts).c_str(), n(r.generic, r.generic.flip_flops).c_str(),
        n(r.ice40, r.ice40.luts).c_str(), n(r.ice40, r.ice40.flip_flops).c_str(),
        n(r.ice40, r.ice40.block_rams).c_str(), n(r.xc7, r.xc7.luts).c_str(), n(r.xc7, r.xc7.flip_flops).c_str(),
        n(r.xc7, r.xc7.dsps).c_str(), n(r.xc7, r.xc7.block_rams).c_str(), fmax.c_str(),
        static_cast<long long>(r.cycles), core.c_str(), rate.c_str(), 1e6 * r.cpu_float, 1e6 * r.cpu_fixed,
        1e6 * r.cpu_dense, ratio.c_str());
    csv << r.name << ',' << r.kind << ',' << r.parallelism << ',' << (r.generic.ok ? r.generic.luts : -1) << ','
        << (r.generic.ok ? r.generic.flip_flops : -1) << ',' << (r.ice40.ok ? r.ice40.luts : -1) << ','
        << (r.ice40.ok ? r.ice40.flip_flops : -1) << ',' << (r.ice40.ok ? r.ice40.block_rams : -1) << ','
        << (r.xc7.ok ? r.xc7.luts : -1) << ',' << (r.xc7.ok ? r.xc7.flip_flops : -1) << ','
        << (r.xc7.ok ? r.xc7.dsps : -1) << ',' << (r.xc7.ok ? r.xc7.block_rams : -1) << ','
        << (r.placed ? r.placed->device : std::string("none")) << ',' << (r.placed ? r.placed->mhz : -1) << ','
        << r.cycles << ',' << (r.placed ? static_cast<double>(r.cycles) / r.placed->mhz : -1) << ','
        << 1e6 * r.cpu_float << ',' << 1e6 * r.cpu_fixed << ',' << 1e6 * r.cpu_dense << '\n';
  }
  if (!flow) std::printf("\n(synthesis skipped: %s)\n", no_synthesis ? "--no-synthesis" : "yosys not installed");
#ifdef FRUGAL_BENCH_HAVE_SEARCH
  // The placed cores as HASCO design points: measured cycles and clock, costed with the
  // analytical accelerator model's constants (search::measured_cost), one product each.
  std::printf("\nas HASCO design points (search::measured_cost, default cost constants, one product):\n\n");
  std::printf("| core | latency | energy | power | area (45 nm model) |\n|---|---|---|---|---|\n");
  for (const auto& r : rows) {
    if (!r.placed) continue;
    const frugal::search::measured_design_point point{.name = r.name,
                                                      .cycles = static_cast<double>(r.cycles),
                                                      .clock_hz = r.placed->mhz * 1e6,
                                                      .macs = r.macs,
                                                      .memory_accesses = r.memory_accesses,
                                                      .memory_bytes = r.memory_bytes,
                                                      .multipliers = r.multipliers};
    const auto cost = frugal::search::measured_cost(point);
    std::printf("| %s | %.2f µs | %.1f nJ | %.2f mW | %.4f mm² |\n", r.name.c_str(), 1e6 * cost.latency_s,
                1e9 * cost.energy_j, 1e3 * cost.power_w, cost.area_mm2);
  }
#endif
  std::printf(
      "\nthroughput = clock / cycles per product (one core, inputs every cycle); float / core = CPU float time "
      "over the core's time per product.\n");
  return 0;
}
