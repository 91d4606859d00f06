// LeNet-5's block-circulant fully connected layers as hardware (frugal/fpga): trains the CirCNN
// LeNet-5 of compressed_lenet5 (fc1 400→120 k = 32, fc2 120→84 k = 16, fc3 84→10 k = 8), turns
// the three layers into fixed-point cores, and runs the test set through (1) the float model,
// (2) the fixed-point C++ model and (3) the Verilated cores generated for those layers, which must
// agree with (2) bit for bit. Then synthesizes the cores with Yosys (iCE40, Xilinx 7-series),
// places them with nextpnr-ice40 for the clock, and prints resources and throughput beside the
// CPU's float operator (FFTW) and the fixed-point model.
#include <frugal/frugal.hpp>

#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "../common/progress_bar.hpp"
#include "fpga_configs.hpp"
#include "fpga_flow.hpp"
#include "verilator_drive.hpp"

#ifdef FRUGAL_HAVE_VERILATOR
#include "Vfpga_fc1.h"
#include "Vfpga_fc2.h"
#include "Vfpga_fc3.h"
#include "fpga_fc1_verilog.hpp"
#include "fpga_fc2_verilog.hpp"
#include "fpga_fc3_verilog.hpp"
#include "verilated.h"
#endif

namespace nn = frugal::nn;
namespace fpga = frugal::fpga;
namespace sparse = frugal::sparse;
using frugal::index_t;

namespace {

using circulant_model = nn::lenet5<float, nn::dense_weight<float>, sparse::circulant_weight<float>>;
const nn::conv2d_options conv1_options{.in_channels = 1, .out_channels = 6, .kernel = 5, .stride = 1, .padding = 2};
const nn::conv2d_options conv2_options{.in_channels = 6, .out_channels = 16, .kernel = 5, .stride = 1, .padding = 0};

// The defaults are the hardware this example's build verilated (examples/fpga_circulant/
// CMakeLists.txt passes the same numbers to frugal_fpga_gen); main() checks its own generated
// Verilog against the text the linked cores were built from and simulates only when they agree.
const char* const layer_names[3] = {"fpga_fc1", "fpga_fc2", "fpga_fc3"};

struct settings {
  std::string data_dir = "/usr/share/datasets/fashion-mnist";
  std::string out_dir = "fpga_circulant_out";
  bool quick = false, progress = true, synthesis = true;
  std::uint64_t seed = 1;
  int epochs = 10;
  index_t limit = 0;
  std::string data_format = "12.6", spectra_format = "12.9";
  int twiddle_bits = 12, parallelism = 1;
};

/// Runs layers 0 … 6 (the convolutions up to the flattened 400 features) of `model` on `x`.
template <std::size_t I = 0>
const nn::tensor<float>& features(circulant_model& model, const nn::tensor<float>& x) {
  auto& layer = model.layer<I>();
  const nn::tensor<float>* y = nullptr;
  if constexpr (requires { layer.predict(x); })
    y = &layer.predict(x);
  else
    y = &layer.forward(x);
  if constexpr (I < 6)
    return features<I + 1>(model, *y);
  else
    return *y;
}

index_t argmax(std::span<const std::int64_t> v) {
  return static_cast<index_t>(std::max_element(v.begin(), v.end()) - v.begin());
}

#ifdef FRUGAL_HAVE_VERILATOR
/// Streams `inputs` (vectors of the layer's cols) through a Verilated core loaded with `layer`'s
/// weights and returns its outputs.
template <class Top>
std::vector<std::int64_t> run_core(const fpga::fixed_circulant_layer& layer, const std::vector<std::int64_t>& inputs) {
  VerilatedContext context;
  Top top(&context);
  frugal_test::load_weights(top, layer.load_words());
  const auto n = static_cast<index_t>(inputs.size()) / layer.cols();
  auto run = frugal_test::stream(top, inputs, layer.cols(), layer.options().data.total_bits, n * layer.rows(),
                                 (n + 2) * layer.cycles_per_product());
  top.final();
  return std::move(run.outputs);
}
#endif

/// Median seconds of `f` over `reps` runs after one warm-up.
template <class F>
double median_seconds(F&& f, int reps) {
  f();
  std::vector<double> t;
  for (int r = 0; r < reps; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    f();
    t.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  settings cfg;
  CLI::App app{
      "LeNet-5's block-circulant FC layers as generated hardware: float, fixed-point model and "
      "Verilator simulation on Fashion-MNIST, with Yosys/nextpnr resources and clock."};
  bool no_progress = false, no_synthesis = false;
  app.add_option("--data", cfg.data_dir, "MNIST-format dataset directory")->capture_default_str();
  app.add_option("--out", cfg.out_dir, "Directory for the Verilog, tool logs and the CSV")->capture_default_str();
  app.add_flag("--quick", cfg.quick, "Smoke run: 3,000 training images, one epoch, 2,000 test images, no synthesis");
  app.add_option("--seed", cfg.seed, "Seed for initialisation and shuffling")->capture_default_str();
  app.add_option("--epochs", cfg.epochs, "Training epochs")->capture_default_str();
  app.add_option("--limit", cfg.limit, "Use only the first N training images (0: all)")->capture_default_str();
  app.add_option("--data-format", cfg.data_format, "Data format WIDTH.FRACTION of the cores")->capture_default_str();
  app.add_option("--spectra-format", cfg.spectra_format, "Spectra format WIDTH.FRACTION")->capture_default_str();
  app.add_option("--twiddle-bits", cfg.twiddle_bits, "Twiddle width")->capture_default_str();
  app.add_option("--parallelism", cfg.parallelism, "Butterflies and MAC lanes per core")->capture_default_str();
  app.add_flag("--no-synthesis", no_synthesis, "Skip Yosys and nextpnr");
  app.add_flag("--no-progress", no_progress, "Do not draw progress bars");
  CLI11_PARSE(app, argc, argv);
  cfg.progress = !no_progress;
  cfg.synthesis = !no_synthesis && !cfg.quick;
  if (cfg.quick) {
    cfg.limit = cfg.limit ? cfg.limit : 3000;
    cfg.epochs = 1;
  }

  Kokkos::ScopeGuard kokkos(argc, argv);
  try {
    const fpga::fixed_format data_format = frugal_tools::parse_format(cfg.data_format),
                             spectra_format = frugal_tools::parse_format(cfg.spectra_format);
    const int twiddle_bits = cfg.twiddle_bits, parallelism = cfg.parallelism;
    const std::filesystem::path out(cfg.out_dir);
    std::filesystem::create_directories(out);
    const auto train = frugal::io::load_mnist(cfg.data_dir, frugal::io::mnist_split::train);
    const auto test = frugal::io::load_mnist(cfg.data_dir, frugal::io::mnist_split::test);
    const index_t n_train = cfg.limit > 0 ? std::min(cfg.limit, train.count) : train.count;
    const index_t n_test = cfg.quick ? std::min<index_t>(2000, test.count) : test.count;
    const auto train_view = nn::dataset_view{train.pixels, train.labels, {28, 28, 1}}.slice(0, n_train);
    const auto test_view = nn::dataset_view{test.pixels, test.labels, {28, 28, 1}}.slice(0, n_test);
    std::printf(
        "Block-circulant LeNet-5 on Fashion-MNIST as hardware: %lld training images, %lld test images, seed %llu\n",
        static_cast<long long>(n_train), static_cast<long long>(n_test), static_cast<unsigned long long>(cfg.seed));
    std::printf(
        "hardware formats: data Q%d.%d, spectra Q%d.%d, twiddles Q%d.%d, %d butterfly and MAC lane per layer\n\n",
        data_format.total_bits, data_format.fraction_bits, spectra_format.total_bits, spectra_format.fraction_bits,
        twiddle_bits, twiddle_bits - 2, parallelism);

    // 1. Train (the recipe of compressed_lenet5: Adam 1e-3, batch 64).
    const index_t ks[3] = {32, 16, 8};
    circulant_model model(
        nn::conv2d<float>(conv1_options), nn::relu<float>(), nn::max_pool2d<float>(2, 2),
        nn::conv2d<float>(conv2_options), nn::relu<float>(), nn::max_pool2d<float>(2, 2), nn::flatten<float>(),
        nn::linear<float, sparse::circulant_weight<float>>(sparse::circulant_weight<float>(120, 400, ks[0])),
        nn::relu<float>(),
        nn::linear<float, sparse::circulant_weight<float>>(sparse::circulant_weight<float>(84, 120, ks[1])),
        nn::relu<float>(),
        nn::linear<float, sparse::circulant_weight<float>>(sparse::circulant_weight<float>(10, 84, ks[2])));
    {
      frugal::rng init(cfg.seed);
      model.reset_parameters(init);
      nn::adam<float> opt({.learning_rate = 1e-3f});
      frugal::rng gen(cfg.seed + 500);
      frugal::examples::progress_bar bar(cfg.progress);
      for (int e = 0; e < cfg.epochs; ++e)
        nn::train_classifier_epoch(model, opt, train_view, 64, gen, bar.callback("train"));
      bar.clear();
    }
    const double float_acc = nn::evaluate_classifier(model, test_view).accuracy;

    // 2. The three layers in fixed point; the features entering fc1 computed in float.
    auto layer_of = [&](auto& linear, bool relu) {
      const auto& bias = linear.bias().value;
      return fpga::fixed_circulant_layer::quantize(
          linear.policy().matrix(), std::span<const float>(bias.data(), static_cast<std::size_t>(bias.size())),
          {.data = data_format,
           .spectra = spectra_format,
           .twiddle_bits = twiddle_bits,
           .parallelism = parallelism,
           .relu = relu});
    };
    const fpga::fixed_circulant_layer layers[3] = {layer_of(model.layer<7>(), true), layer_of(model.layer<9>(), true),
                                                   layer_of(model.layer<11>(), false)};
    std::int64_t weight_saturations = 0;
    for (const auto& l : layers) weight_saturations += l.saturated_codes();
    std::vector<std::int64_t> x_codes(static_cast<std::size_t>(n_test * 400));
    std::int64_t input_saturations = 0;
    float feature_max = 0;
    for (index_t first = 0; first < n_test; first += 256) {
      const index_t count = std::min<index_t>(256, n_test - first);
      nn::tensor<float> x({count, 28, 28, 1});
      std::copy_n(test_view.inputs.begin() + first * 784, count * 784, x.data());
      const auto& f = features(model, x);
      for (index_t i = 0; i < count * 400; ++i) {
        feature_max = std::max(feature_max, std::abs(f.data()[i]));
        x_codes[static_cast<std::size_t>(first * 400 + i)] = data_format.to_code(f.data()[i], &input_saturations);
      }
    }
    // The fixed-point model, layer after layer, keeping every layer's output codes.
    std::vector<std::int64_t> model_out[3];
    const std::vector<std::int64_t>* in = &x_codes;
    for (int l = 0; l < 3; ++l) {
      const auto& layer = layers[l];
      model_out[l].resize(static_cast<std::size_t>(n_test * layer.rows()));
      for (index_t s = 0; s < n_test; ++s)
        layer.forward(
            std::span(*in).subspan(static_cast<std::size_t>(s * layer.cols()), static_cast<std::size_t>(layer.cols())),
            std::span(model_out[l])
                .subspan(static_cast<std::size_t>(s * layer.rows()), static_cast<std::size_t>(layer.rows())));
      in = &model_out[l];
    }
    auto accuracy_of = [&](const std::vector<std::int64_t>& logits) {
      index_t correct = 0;
      for (index_t s = 0; s < n_test; ++s)
        correct += argmax(std::span(logits).subspan(static_cast<std::size_t>(s * 10), 10)) ==
                   test_view.labels[static_cast<std::size_t>(s)];
      return static_cast<double>(correct) / static_cast<double>(n_test);
    };
    const double fixed_acc = accuracy_of(model_out[2]);

    // 3. The Verilog of the three layers, checked against what this build verilated.
    bool rtl_matches_build = true;
    for (int l = 0; l < 3; ++l) {
      const auto text = fpga::circulant_verilog(layers[l], layer_names[l]);
      std::ofstream(out / (std::string(layer_names[l]) + ".v")) << text;
#ifdef FRUGAL_HAVE_VERILATOR
      const char* const built[3] = {fpga_fc1_verilog, fpga_fc2_verilog, fpga_fc3_verilog};
      rtl_matches_build = rtl_matches_build && text == built[l];
#endif
    }

    std::printf("test accuracy, %lld images:\n", static_cast<long long>(n_test));
    std::printf("  float model                 %.2f%%\n", 100 * float_acc);
    std::printf(
        "  fixed-point model           %.2f%%  (%+.2f points; %lld of %lld fc1 inputs saturated, largest |x| %.2f;"
        " %lld weight codes saturated)\n",
        100 * fixed_acc, 100 * (fixed_acc - float_acc), static_cast<long long>(input_saturations),
        static_cast<long long>(x_codes.size()), feature_max, static_cast<long long>(weight_saturations));
    std::optional<double> hw_acc;
    index_t mismatches = 0;
#ifdef FRUGAL_HAVE_VERILATOR
    if (rtl_matches_build) {
      const auto t0 = std::chrono::steady_clock::now();
      const std::vector<std::int64_t> hw1 = run_core<Vfpga_fc1>(layers[0], x_codes);
      const std::vector<std::int64_t> hw2 = run_core<Vfpga_fc2>(layers[1], hw1);
      const std::vector<std::int64_t> hw3 = run_core<Vfpga_fc3>(layers[2], hw2);
      const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      const std::vector<std::int64_t>* hw[3] = {&hw1, &hw2, &hw3};
      for (int l = 0; l < 3; ++l)
        for (std::size_t i = 0; i < model_out[l].size(); ++i)
          mismatches += i >= hw[l]->size() || (*hw[l])[i] != model_out[l][i];
      hw_acc = accuracy_of(hw3);
      std::printf(
          "  hardware simulation         %.2f%%  (Verilator, %lld output words of 3 layers, %lld differ from the "
          "model; %.1f s)\n",
          100 * *hw_acc, static_cast<long long>(model_out[0].size() + model_out[1].size() + model_out[2].size()),
          static_cast<long long>(mismatches), seconds);
    } else {
      std::printf(
          "  hardware simulation         skipped: these formats are not the cores this build verilated "
          "(--data-format 12.6 --spectra-format 12.9 --twiddle-bits 12 --parallelism 1)\n");
    }
#else
    std::printf("  hardware simulation         skipped: built without Verilator (apt-get install verilator)\n");
#endif

    // 4. Cycles, resources, clock, throughput; the CPU beside.
    std::printf("\nper layer (one core each; cycles per product at one input per cycle):\n");
    std::printf(
        "| layer | shape | k | cycles | iCE40 LUT4 | iCE40 FF | iCE40 BRAM | fmax (HX8K) | xc7 LUT | "
        "xc7 FF | xc7 DSP | xc7 BRAM18 | core time | CPU float (FFTW) | CPU fixed model |\n");
    std::printf("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    const bool flow = cfg.synthesis && frugal_tools::have_program("yosys");
    const bool pnr = flow && frugal_tools::have_program("nextpnr-ice40");
    std::ofstream csv(out / "fpga_circulant.csv");
    csv << "layer,rows,cols,block_size,cycles,ice40_luts,ice40_ffs,ice40_brams,device,fmax_mhz,xc7_luts,"
           "xc7_ffs,xc7_dsps,xc7_bram18,core_us,cpu_float_us,cpu_fixed_us\n";
    const int reps = cfg.quick ? 5 : 41;
    const Kokkos::Serial serial;
    double slowest_cycles = 0;
    std::optional<double> slowest_clock;
    for (int l = 0; l < 3; ++l) {
      const auto& layer = layers[l];
      const auto verilog = out / (std::string(layer_names[l]) + ".v");
      frugal_tools::resources ice, xc7;
      std::optional<frugal_tools::placement> placed;
      std::optional<double> mhz;
      if (flow) {
        ice = frugal_tools::synthesize(verilog, layer_names[l], "ice40");
        xc7 = frugal_tools::synthesize(verilog, layer_names[l], "xc7");
        if (pnr && ice.ok && ice.luts <= 7680) placed = frugal_tools::max_clock(verilog, layer_names[l]);
        if (placed) mhz = placed->mhz;
      }
      // The CPU: the float operator on one sample (FFTW, one thread) and the fixed-point model.
      const auto& matrix = l == 0 ? model.layer<7>().policy().matrix()
                                  : (l == 1 ? model.layer<9>().policy().matrix() : model.layer<11>().policy().matrix());
      std::vector<float> xf(static_cast<std::size_t>(layer.cols()), 0.5f), yf(static_cast<std::size_t>(layer.rows()));
      const double cpu_float = median_seconds(
          [&] {
            matrix.multiply(serial, nn::const_column_map<float>(xf.data(), layer.cols(), 1),
                            nn::column_map<float>(yf.data(), layer.rows(), 1));
          },
          reps);
      std::vector<std::int64_t> xc(static_cast<std::size_t>(layer.cols()), 100),
          yc(static_cast<std::size_t>(layer.rows()));
      const double cpu_fixed = median_seconds([&] { layer.forward(xc, yc); }, reps);
      const auto cycles = static_cast<double>(layer.cycles_per_product());
      slowest_cycles = std::max(slowest_cycles, cycles);
      if (mhz) slowest_clock = slowest_clock ? std::min(*slowest_clock, *mhz) : *mhz;
      auto count = [](const frugal_tools::resources& r, long v) { return r.ok ? std::to_string(v) : std::string("—"); };
      char clock[48] = "—", core[32] = "—";
      if (mhz) {
        std::snprintf(clock, sizeof clock, "%.1f MHz", *mhz);
        std::snprintf(core, sizeof core, "%.1f µs", cycles / *mhz);
      } else if (flow && ice.ok) {
        std::snprintf(clock, sizeof clock, "does not fit");
      }
      std::printf(
          "| fc%d | %lld×%lld | %lld | %.0f | %s | %s | %s | %s | %s | %s | %s | %s | %s | %.1f µs | %.1f µs |\n",
          l + 1, static_cast<long long>(layer.rows()), static_cast<long long>(layer.cols()),
          static_cast<long long>(layer.block_size()), cycles, count(ice, ice.luts).c_str(),
          count(ice, ice.flip_flops).c_str(), count(ice, ice.block_rams).c_str(), clock, count(xc7, xc7.luts).c_str(),
          count(xc7, xc7.flip_flops).c_str(), count(xc7, xc7.dsps).c_str(), count(xc7, xc7.block_rams).c_str(), core,
          1e6 * cpu_float, 1e6 * cpu_fixed);
      csv << "fc" << l + 1 << ',' << layer.rows() << ',' << layer.cols() << ',' << layer.block_size() << ',' << cycles
          << ',' << (ice.ok ? ice.luts : -1) << ',' << (ice.ok ? ice.flip_flops : -1) << ','
          << (ice.ok ? ice.block_rams : -1) << ',' << (placed ? placed->device : std::string("none")) << ','
          << (mhz ? *mhz : -1) << ',' << (xc7.ok ? xc7.luts : -1) << ',' << (xc7.ok ? xc7.flip_flops : -1) << ','
          << (xc7.ok ? xc7.dsps : -1) << ',' << (xc7.ok ? xc7.block_rams : -1) << ',' << (mhz ? cycles / *mhz : -1)
          << ',' << 1e6 * cpu_float << ',' << 1e6 * cpu_fixed << '\n';
      std::fflush(stdout);
    }
    if (!flow)
      std::printf("(resources and clock: %s)\n", cfg.synthesis
                                                     ? "yosys not installed (apt-get install yosys nextpnr-ice40)"
                                                     : "skipped (--quick or --no-synthesis)");
    if (slowest_clock)
      std::printf(
          "\nthree cores in a pipeline at the slowest placed clock, %.1f MHz: %.0f images/s (the slowest layer's "
          "%.0f cycles per image)\n",
          *slowest_clock, *slowest_clock * 1e6 / slowest_cycles, slowest_cycles);
    csv << "accuracy_float," << float_acc << "\naccuracy_fixed," << fixed_acc << "\naccuracy_hardware,"
        << (hw_acc ? *hw_acc : -1) << "\nmismatches," << mismatches << '\n';
    if (hw_acc && (*hw_acc != fixed_acc || mismatches != 0)) {
      std::fprintf(stderr, "fpga_circulant: the hardware simulation differs from the fixed-point model\n");
      return 1;
    }
    // With the default formats the Verilog must be what the build verilated: anything else is a
    // build that went stale, not a choice.
    const settings defaults;
    const bool default_hardware = cfg.data_format == defaults.data_format &&
                                  cfg.spectra_format == defaults.spectra_format &&
                                  cfg.twiddle_bits == defaults.twiddle_bits && cfg.parallelism == defaults.parallelism;
    if (!rtl_matches_build && default_hardware) return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fpga_circulant: %s\n", e.what());
    return 1;
  }
  return 0;
}
