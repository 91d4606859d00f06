// LeNet-5 on Fashion-MNIST with frugal/sparse: block-circulant fully connected layers (CirCNN)
// trained from scratch, and BCR-pruned conv + FC layers (GRIM) obtained with ADMM and retrained
// through the BCR weight policy; accuracy, parameters, storage and single-thread inference time
// beside the dense model, plus a sweep of speedup against BCR sparsity (CSV; plot.py draws it).
#include <frugal/admm.hpp>
#include <frugal/frugal.hpp>
#include <frugal/sparse.hpp>

#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "../common/progress_bar.hpp"

namespace nn = frugal::nn;
namespace admm = frugal::admm;
namespace sparse = frugal::sparse;
using frugal::index_t;

namespace {

using dense_model = nn::lenet5<float>;
using circulant_model = nn::lenet5<float, nn::dense_weight<float>, sparse::circulant_weight<float>>;
// conv1 (150 weights, one input channel) stays a dense layer with a mask: a BCR kernel cannot
// beat a 6 x 25 dense GEMM, and ADMM's budget keeps it almost whole anyway.
using bcr_policy = sparse::bcr_weight<float>;
using bcr_model =
    nn::sequential<nn::conv2d<float>, nn::relu<float>, nn::max_pool2d<float>, nn::conv2d<float, bcr_policy>,
                   nn::relu<float>, nn::max_pool2d<float>, nn::flatten<float>, nn::linear<float, bcr_policy>,
                   nn::relu<float>, nn::linear<float, bcr_policy>, nn::relu<float>, nn::linear<float, bcr_policy>>;

const std::vector<std::string> weight_names = {"0.weight", "3.weight", "7.weight", "9.weight", "11.weight"};
const std::vector<std::string> fc_names = {"7.weight", "9.weight", "11.weight"};
const nn::conv2d_options conv1_options{.in_channels = 1, .out_channels = 6, .kernel = 5, .stride = 1, .padding = 2};
const nn::conv2d_options conv2_options{.in_channels = 6, .out_channels = 16, .kernel = 5, .stride = 1, .padding = 0};

struct settings {
  std::string data_dir = "/usr/share/datasets/fashion-mnist";
  std::string out_dir = "compressed_lenet5_out";
  bool quick = false;
  bool progress = true;
  std::uint64_t seed = 1;
  int epochs = 10;                                 // dense and block-circulant training
  int admm_epochs = 8;                             // ADMM BCR phase
  int retrain_epochs = 4;                          // retraining through the BCR policy
  int sweep_epochs = 1;                            // retraining per sweep point
  std::vector<index_t> circulant_k = {32, 16, 8};  // fc1, fc2, fc3
  double bcr_ratio = 12;                           // target weights / kept weights of the ADMM BCR model
  index_t block_rows = 16, block_cols = 32;
  std::vector<double> sweep = {0.5, 0.75, 0.9, 0.95};
  index_t limit = 0;
  index_t batch = 64;
  double allocation_exponent = 0.5;
};

struct context {
  const settings& cfg;
  nn::dataset_view train, test;
  frugal::examples::progress_bar* bar;
};

template <class Model>
void train_epochs(Model& model, nn::Optimizer auto& opt, const context& ctx, int epochs, frugal::rng& gen,
                  const std::string& label) {
  for (int e = 0; e < epochs; ++e)
    nn::train_classifier_epoch(model, opt, ctx.train, ctx.cfg.batch, gen, ctx.bar->callback(label));
}

/// Median times (ms) of `a` and `b` after one warm-up each, measured interleaved (a, b, a, ...)
/// so drifts of a noisy machine hit both alike.
std::pair<double, double> interleaved_ms(const std::function<void()>& a, const std::function<void()>& b, int reps) {
  a();
  b();
  std::vector<double> ta, tb;
  for (int r = 0; r < reps; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    a();
    const auto t1 = std::chrono::steady_clock::now();
    b();
    const auto t2 = std::chrono::steady_clock::now();
    ta.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
    tb.push_back(std::chrono::duration<double, std::milli>(t2 - t1).count());
  }
  std::sort(ta.begin(), ta.end());
  std::sort(tb.begin(), tb.end());
  return {ta[ta.size() / 2], tb[tb.size() / 2]};
}

/// Median single-thread times (ms) of one forward pass over a batch of 64 test images, for the
/// dense model and for `model`, interleaved.
template <class Model>
std::pair<double, double> inference_ms(dense_model& dense, Model& model, const context& ctx, int reps) {
  nn::tensor<float> x({64, 28, 28, 1});
  std::copy_n(ctx.test.inputs.begin(), 64 * 784, x.data());
  return interleaved_ms([&] { dense.predict(x); }, [&] { model.predict(x); }, reps);
}

index_t weight_count(const nn::parameter_registry<float>& reg, const std::vector<std::string>& names) {
  index_t n = 0;
  for (const auto& name : names) {
    const auto& p = reg.at(name);
    n += p.mask ? static_cast<index_t>((p.mask->array() != 0).count()) : p.value.size();
  }
  return n;
}

admm::bcr_sparsity bcr_for(const settings& cfg, const nn::matrix<float>& w, double keep) {
  const double side = std::sqrt(keep);
  return {.block_rows = std::min(cfg.block_rows, w.rows()),
          .block_cols = std::min(cfg.block_cols, w.cols()),
          .row_keep_fraction = side,
          .col_keep_fraction = side};
}

/// A BCR LeNet-5 holding the kept entries of `dense`'s weights under `masks` (BCR-structured
/// for the configured blocks), with `dense`'s biases.
bcr_model make_bcr_model(const settings& cfg, dense_model& dense,
                         const std::map<std::string, nn::matrix<float>>& masks) {
  auto reg = dense.parameters();
  auto policy = [&](const std::string& name) {
    const auto& w = reg.at(name).value;
    return sparse::bcr_weight<float>(sparse::bcr_matrix<float>::from_mask(
        w, masks.at(name), std::min(cfg.block_rows, w.rows()), std::min(cfg.block_cols, w.cols())));
  };
  bcr_model model(nn::conv2d<float>(conv1_options), nn::relu<float>(), nn::max_pool2d<float>(2, 2),
                  nn::conv2d<float, sparse::bcr_weight<float>>(conv2_options, policy("3.weight")), nn::relu<float>(),
                  nn::max_pool2d<float>(2, 2), nn::flatten<float>(),
                  nn::linear<float, sparse::bcr_weight<float>>(policy("7.weight")), nn::relu<float>(),
                  nn::linear<float, sparse::bcr_weight<float>>(policy("9.weight")), nn::relu<float>(),
                  nn::linear<float, sparse::bcr_weight<float>>(policy("11.weight")));
  auto breg = model.parameters();
  for (const char* b : {"0.bias", "3.bias", "7.bias", "9.bias", "11.bias"}) breg.at(b).value = reg.at(b).value;
  auto& conv1 = breg.at("0.weight");
  conv1.value = reg.at("0.weight").value;
  if (!(masks.at("0.weight").array() != 0).all()) {
    conv1.set_mask(masks.at("0.weight"));
    conv1.apply_mask();
  }
  return model;
}

/// Median times (ms, interleaved) of the pruned layers' weight products alone — conv2 on its
/// 6,400 patches of a 64-image batch, fc1/fc2/fc3 on 64 samples: dense Eigen GEMM against the
/// BCR policies (conv2 through the patch-major path conv2d uses).
std::pair<double, double> pruned_products_ms(bcr_model& model, nn::parameter_registry<float>& dense_reg, int reps) {
  frugal::rng gen(5);
  auto fill = [&](std::vector<float>& v) {
    for (auto& e : v) e = static_cast<float>(gen.normal());
  };
  const index_t n_conv = 64 * 10 * 10, ld = model.layer<3>().policy().input_stride(n_conv);
  std::vector<float> patches(static_cast<std::size_t>(150 * ld), 0.0f), x400(400 * 64), x120(120 * 64), x84(84 * 64);
  for (index_t k = 0; k < 150; ++k)
    for (index_t m = 0; m < n_conv; ++m)
      patches[static_cast<std::size_t>(k * ld + m)] = static_cast<float>(gen.normal());
  fill(x400);
  fill(x120);
  fill(x84);
  Eigen::MatrixXf cols(150, n_conv);
  for (index_t k = 0; k < 150; ++k)
    for (index_t m = 0; m < n_conv; ++m) cols(k, m) = patches[static_cast<std::size_t>(k * ld + m)];
  Eigen::MatrixXf y16(16, n_conv), y120(120, 64), y84(84, 64), y10(10, 64);
  const auto& w3 = dense_reg.at("3.weight").value;
  const auto& w7 = dense_reg.at("7.weight").value;
  const auto& w9 = dense_reg.at("9.weight").value;
  const auto& w11 = dense_reg.at("11.weight").value;
  auto dense = [&] {
    y16.noalias() = w3 * cols;
    y120.noalias() = w7 * nn::const_column_map<float>(x400.data(), 400, 64);
    y84.noalias() = w9 * nn::const_column_map<float>(x120.data(), 120, 64);
    y10.noalias() = w11 * nn::const_column_map<float>(x84.data(), 84, 64);
  };
  // Both sides on one thread: Eigen's own threading off, the BCR products on Kokkos::Serial.
  Eigen::setNbThreads(1);
  const Kokkos::Serial serial;
  auto sparse_products = [&] {
    model.layer<3>().policy().forward_rows(serial, patches.data(), ld, nn::column_map<float>(y16.data(), 16, n_conv));
    model.layer<7>().policy().forward(serial, nn::const_column_map<float>(x400.data(), 400, 64),
                                      nn::column_map<float>(y120.data(), 120, 64));
    model.layer<9>().policy().forward(serial, nn::const_column_map<float>(x120.data(), 120, 64),
                                      nn::column_map<float>(y84.data(), 84, 64));
    model.layer<11>().policy().forward(serial, nn::const_column_map<float>(x84.data(), 84, 64),
                                       nn::column_map<float>(y10.data(), 10, 64));
  };
  return interleaved_ms(dense, sparse_products, reps);
}

index_t bcr_weights(bcr_model& model) {
  auto reg = model.parameters();
  return weight_count(reg, weight_names);
}

struct sweep_point {
  double target_sparsity = 0, sparsity = 0, accuracy = 0, ms = 0, speedup = 0, products_speedup = 0;
};

}  // namespace

int main(int argc, char** argv) {
  settings cfg;
  CLI::App app{
      "LeNet-5 / Fashion-MNIST with frugal/sparse: block-circulant FC layers and BCR-pruned conv + FC layers.\n"
      "Prints accuracy, parameters, storage and single-thread inference time (batch 64) beside the dense model,\n"
      "and writes a CSV of inference speedup against BCR sparsity."};
  app.add_option("--data", cfg.data_dir, "MNIST-format dataset directory")->capture_default_str();
  app.add_option("--out", cfg.out_dir, "Directory for the CSV")->capture_default_str();
  app.add_flag("--quick", cfg.quick, "Smoke run: 3,000 training images, one epoch per phase");
  app.add_option("--seed", cfg.seed, "Seed for initialisation and shuffling")->capture_default_str();
  app.add_option("--epochs", cfg.epochs, "Epochs of the dense and block-circulant models")->capture_default_str();
  app.add_option("--admm-epochs", cfg.admm_epochs, "Epochs of the ADMM BCR pruning phase")->capture_default_str();
  app.add_option("--retrain-epochs", cfg.retrain_epochs, "Epochs retraining the BCR model through its policy")
      ->capture_default_str();
  app.add_option("--circulant-k", cfg.circulant_k, "Block sizes of fc1, fc2, fc3 (powers of two)")
      ->capture_default_str()
      ->expected(3);
  app.add_option("--bcr-ratio", cfg.bcr_ratio, "Target pruning ratio (weights / kept) of the ADMM BCR model")
      ->capture_default_str()
      ->check(CLI::Range(1.0, 1000.0));
  app.add_option("--block-rows", cfg.block_rows, "BCR block height (clipped to each layer)")->capture_default_str();
  app.add_option("--block-cols", cfg.block_cols, "BCR block width (clipped to each layer)")->capture_default_str();
  app.add_option("--sweep", cfg.sweep, "Sparsities of the speedup sweep (one-shot BCR pruning + retraining)")
      ->capture_default_str();
  app.add_option("--sweep-epochs", cfg.sweep_epochs, "Retraining epochs per sweep point")->capture_default_str();
  app.add_option("--limit", cfg.limit, "Use only the first N training images (0: all)")->capture_default_str();
  bool no_progress = false;
  app.add_flag("--no-progress", no_progress, "Do not draw progress bars");
  CLI11_PARSE(app, argc, argv);
  cfg.progress = !no_progress;
  if (cfg.quick) {
    cfg.limit = cfg.limit ? cfg.limit : 3000;
    cfg.epochs = 1;
    cfg.admm_epochs = 1;
    cfg.retrain_epochs = 1;
    cfg.sweep = {0.5, 0.9};
  }

  Kokkos::ScopeGuard kokkos(argc, argv);
  try {
    const auto t0 = std::chrono::steady_clock::now();
    std::filesystem::create_directories(cfg.out_dir);
    const auto train = frugal::io::load_mnist(cfg.data_dir, frugal::io::mnist_split::train);
    const auto test = frugal::io::load_mnist(cfg.data_dir, frugal::io::mnist_split::test);
    const index_t n_train = cfg.limit > 0 ? std::min(cfg.limit, train.count) : train.count;
    const index_t n_test = cfg.quick ? std::min<index_t>(2000, test.count) : test.count;
    frugal::examples::progress_bar bar(cfg.progress);
    const context ctx{cfg, nn::dataset_view{train.pixels, train.labels, {28, 28, 1}}.slice(0, n_train),
                      nn::dataset_view{test.pixels, test.labels, {28, 28, 1}}.slice(0, n_test), &bar};
    const int reps = cfg.quick ? 5 : 41;
    std::printf("Compressed LeNet-5 on Fashion-MNIST: %lld training images, %lld test images, seed %llu\n\n",
                static_cast<long long>(n_train), static_cast<long long>(n_test),
                static_cast<unsigned long long>(cfg.seed));

    // 1. Dense baseline.
    dense_model dense = nn::make_lenet5<float>(cfg.seed);
    {
      nn::adam<float> opt({.learning_rate = 1e-3f});
      frugal::rng gen(cfg.seed + 500);
      train_epochs(dense, opt, ctx, cfg.epochs, gen, "dense");
    }
    auto dense_reg = dense.parameters();
    const double dense_acc = nn::evaluate_classifier(dense, ctx.test).accuracy;
    const index_t dense_weights = weight_count(dense_reg, weight_names);
    const index_t dense_fc = weight_count(dense_reg, fc_names);
    bar.clear();
    std::printf("dense: %.2f%% after %d epochs\n", 100 * dense_acc, cfg.epochs);
    std::fflush(stdout);

    // 2. Block-circulant fully connected layers, trained from scratch with the same recipe.
    circulant_model circ(nn::conv2d<float>(conv1_options), nn::relu<float>(), nn::max_pool2d<float>(2, 2),
                         nn::conv2d<float>(conv2_options), nn::relu<float>(), nn::max_pool2d<float>(2, 2),
                         nn::flatten<float>(),
                         nn::linear<float, sparse::circulant_weight<float>>(
                             sparse::circulant_weight<float>(120, 400, cfg.circulant_k[0])),
                         nn::relu<float>(),
                         nn::linear<float, sparse::circulant_weight<float>>(
                             sparse::circulant_weight<float>(84, 120, cfg.circulant_k[1])),
                         nn::relu<float>(),
                         nn::linear<float, sparse::circulant_weight<float>>(
                             sparse::circulant_weight<float>(10, 84, cfg.circulant_k[2])));
    {
      frugal::rng init(cfg.seed);
      circ.reset_parameters(init);
      nn::adam<float> opt({.learning_rate = 1e-3f});
      frugal::rng gen(cfg.seed + 500);
      train_epochs(circ, opt, ctx, cfg.epochs, gen, "block-circulant");
    }
    auto circ_reg = circ.parameters();
    const double circ_acc = nn::evaluate_classifier(circ, ctx.test).accuracy;
    const auto [circ_dense_ms, circ_ms] = inference_ms(dense, circ, ctx, reps);
    const index_t circ_fc = weight_count(circ_reg, fc_names);
    const index_t circ_weights = weight_count(circ_reg, weight_names);
    bar.clear();
    std::printf("block-circulant FC (k = %lld/%lld/%lld): %.2f%%\n", static_cast<long long>(cfg.circulant_k[0]),
                static_cast<long long>(cfg.circulant_k[1]), static_cast<long long>(cfg.circulant_k[2]), 100 * circ_acc);
    std::fflush(stdout);

    // 3. ADMM BCR pruning of the dense model, then retraining through the BCR policy.
    const auto keep = admm::allocate_keep_fractions(dense_reg, weight_names, cfg.bcr_ratio, cfg.allocation_exponent);
    dense_model pruned = dense;
    auto preg = pruned.parameters();
    std::map<std::string, nn::matrix<float>> masks;
    {
      admm::admm_state<float> state({.rho = 0.01,
                                     .rho_multiplier = 1.25,
                                     .rho_max = 2.0,
                                     .iterations = 4 * cfg.admm_epochs,
                                     .epochs_per_iteration = 1});
      for (const auto& name : weight_names) state.add(name, bcr_for(cfg, preg.at(name).value, keep.at(name)));
      frugal::rng gen(cfg.seed * 1000 + 7);
      index_t iteration = 0;
      const auto cb = bar.callback("ADMM BCR");
      admm::run_admm(
          state, preg, [] { return nn::sgd<float>({.learning_rate = 0.01f, .momentum = 0.9f}); },
          [&](auto& opt) {
            // Each ADMM iteration trains on the next quarter of the data (4 Z/U updates per epoch).
            const index_t n = ctx.train.size(), k = iteration++ % 4, first = n * k / 4, last = n * (k + 1) / 4;
            nn::train_classifier_epoch(pruned, opt, ctx.train.slice(first, last - first), cfg.batch, gen, cb);
          },
          cb);
      state.harden(preg);
      for (const auto& name : weight_names) masks[name] = *preg.at(name).mask;
    }
    bcr_model bcr = make_bcr_model(cfg, pruned, masks);
    // Pick each BCR layer's micro-kernel for its inference shape (batch 64) by measurement.
    sparse::bcr_autotuner<float> tuner;
    auto tune = [&](auto& policy, index_t columns) {
      auto m = policy.matrix();
      policy.set_kernel(tuner.tune_kernel(m, columns));
    };
    tune(bcr.layer<3>().policy(), 64 * 10 * 10);
    tune(bcr.layer<7>().policy(), 64);
    tune(bcr.layer<9>().policy(), 64);
    tune(bcr.layer<11>().policy(), 64);
    const double bcr_acc_hard = nn::evaluate_classifier(bcr, ctx.test).accuracy;
    {
      nn::adam<float> opt({.learning_rate = 5e-4f});
      frugal::rng gen(cfg.seed * 1000 + 8);
      train_epochs(bcr, opt, ctx, cfg.retrain_epochs, gen, "BCR retrain");
    }
    const double bcr_acc = nn::evaluate_classifier(bcr, ctx.test).accuracy;
    const auto [dense_ms, bcr_ms] = inference_ms(dense, bcr, ctx, reps);
    const auto products = pruned_products_ms(bcr, dense_reg, reps);
    const index_t bcr_kept = bcr_weights(bcr);
    std::size_t bcr_bytes = 0;
    {
      auto reg = bcr.parameters();
      bcr_bytes = static_cast<std::size_t>(weight_count(reg, {"0.weight"})) * sizeof(float) +
                  bcr.layer<3>().policy().matrix().storage_bytes() + bcr.layer<7>().policy().matrix().storage_bytes() +
                  bcr.layer<9>().policy().matrix().storage_bytes() + bcr.layer<11>().policy().matrix().storage_bytes();
    }
    bar.clear();

    std::printf("\n%-34s %9s %9s %10s %10s %11s %9s\n", "model", "accuracy", "vs dense", "weights", "FC weights",
                "weight KiB", "ms/64img");  // dense: timed beside the BCR model
    std::printf("%-34s %8.2f%% %+9.2f %10lld %10lld %11.1f %9.3f\n", "dense", 100 * dense_acc, 0.0,
                static_cast<long long>(dense_weights), static_cast<long long>(dense_fc), dense_weights * 4 / 1024.0,
                dense_ms);
    std::printf("%-34s %8.2f%% %+9.2f %10lld %10lld %11.1f %9.3f\n", "block-circulant FC", 100 * circ_acc,
                100 * (circ_acc - dense_acc), static_cast<long long>(circ_weights), static_cast<long long>(circ_fc),
                circ_weights * 4 / 1024.0, circ_ms);
    char label[64];
    std::snprintf(label, sizeof label, "BCR conv2+FC (ADMM, %lldx%lld blocks)", static_cast<long long>(cfg.block_rows),
                  static_cast<long long>(cfg.block_cols));
    std::printf("%-34s %8.2f%% %+9.2f %10lld %10s %11.1f %9.3f\n", label, 100 * bcr_acc, 100 * (bcr_acc - dense_acc),
                static_cast<long long>(bcr_kept), "-", bcr_bytes / 1024.0, bcr_ms);
    std::printf("\nblock-circulant: FC compression %.1fx (%lld -> %lld weights), inference %.2fx dense\n",
                static_cast<double>(dense_fc) / static_cast<double>(circ_fc), static_cast<long long>(dense_fc),
                static_cast<long long>(circ_fc), circ_dense_ms / circ_ms);
    std::printf(
        "BCR: %.1fx fewer weights (%.2f%% before retraining, %.2f%% after %d epochs through the BCR policy), "
        "storage incl. indices %.1f KiB vs %.1f KiB dense, inference %.2fx faster than dense\n",
        static_cast<double>(dense_weights) / static_cast<double>(bcr_kept), 100 * bcr_acc_hard, 100 * bcr_acc,
        cfg.retrain_epochs, bcr_bytes / 1024.0, dense_weights * 4 / 1024.0, dense_ms / bcr_ms);
    std::printf(
        "BCR pruned layers' weight products alone (conv2 on 6,400 patches, fc1-fc3 on 64 samples): dense "
        "%.3f ms, BCR %.3f ms: %.2fx faster\n",
        products.first, products.second, products.first / products.second);
    std::printf("per layer kept (of): ");
    {
      auto reg = bcr.parameters();
      for (const auto& name : weight_names)
        std::printf("%s %lld/%lld  ", name.c_str(), static_cast<long long>(reg.at(name).value.size()),
                    static_cast<long long>(dense_reg.at(name).value.size()));
    }
    std::printf("\n");
    std::fflush(stdout);

    // 4. Sweep: one-shot magnitude BCR pruning at uniform per-layer sparsity (conv1 kept dense:
    //    150 weights), retraining through the policy, accuracy and inference speedup.
    std::vector<sweep_point> sweep;
    for (double s : cfg.sweep) {
      std::map<std::string, nn::matrix<float>> m;
      for (const auto& name : weight_names) {
        const auto& w = dense_reg.at(name).value;
        m[name] = name == "0.weight" ? nn::matrix<float>::Ones(w.rows(), w.cols()) : bcr_for(cfg, w, 1 - s).support(w);
      }
      bcr_model model = make_bcr_model(cfg, dense, m);
      nn::adam<float> opt({.learning_rate = 5e-4f});
      frugal::rng gen(cfg.seed * 3000 + static_cast<std::uint64_t>(100 * s));
      train_epochs(model, opt, ctx, cfg.sweep_epochs, gen, "sweep " + std::to_string(static_cast<int>(100 * s)) + "%");
      sweep_point p;
      p.target_sparsity = s;
      p.sparsity = 1 - static_cast<double>(bcr_weights(model)) / static_cast<double>(dense_weights);
      p.accuracy = nn::evaluate_classifier(model, ctx.test).accuracy;
      const auto [d_ms, m_ms] = inference_ms(dense, model, ctx, reps);
      p.ms = m_ms;
      p.speedup = d_ms / m_ms;
      const auto [pd, pm] = pruned_products_ms(model, dense_reg, reps);
      p.products_speedup = pd / pm;
      sweep.push_back(p);
    }
    bar.clear();
    std::printf("\nSweep (one-shot BCR magnitude pruning of conv2/fc1/fc2/fc3, %d retraining epoch(s)):\n",
                cfg.sweep_epochs);
    std::printf("%8s %10s %10s %10s %10s %16s\n", "target", "sparsity", "accuracy", "ms/64img", "speedup",
                "products speedup");
    for (const auto& p : sweep)
      std::printf("%7.0f%% %9.1f%% %9.2f%% %10.3f %9.2fx %15.2fx\n", 100 * p.target_sparsity, 100 * p.sparsity,
                  100 * p.accuracy, p.ms, p.speedup, p.products_speedup);

    std::ofstream csv(cfg.out_dir + "/compressed_lenet5.csv");
    csv << "model,target_sparsity,weight_sparsity,accuracy,inference_ms,speedup,pruned_products_speedup\n";
    csv << "dense,0,0," << dense_acc << "," << dense_ms << ",1,1\n";
    csv << "block_circulant_fc,," << 1 - static_cast<double>(circ_weights) / static_cast<double>(dense_weights) << ","
        << circ_acc << "," << circ_ms << "," << circ_dense_ms / circ_ms << ",\n";
    csv << "bcr_admm," << 1 - 1 / cfg.bcr_ratio << ","
        << 1 - static_cast<double>(bcr_kept) / static_cast<double>(dense_weights) << "," << bcr_acc << "," << bcr_ms
        << "," << dense_ms / bcr_ms << "," << products.first / products.second << "\n";
    for (const auto& p : sweep)
      csv << "bcr_sweep," << p.target_sparsity << "," << p.sparsity << "," << p.accuracy << "," << p.ms << ","
          << p.speedup << "," << p.products_speedup << "\n";
    csv.close();
    std::printf(
        "\nwrote %s/compressed_lenet5.csv; figure: python3 %s %s/compressed_lenet5.csv; total wall time %.0f s\n",
        cfg.out_dir.c_str(), FRUGAL_PLOT_SCRIPT, cfg.out_dir.c_str(),
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "compressed_lenet5: %s\n", e.what());
    return 1;
  }
}
