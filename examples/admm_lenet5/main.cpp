// ADMM-NN / ADMM-NN-S on LeNet-5 and Fashion-MNIST: dense baseline → ADMM pruning → masked
// retraining → ADMM quantization, beside iterative magnitude pruning at the same ratios and the
// same epoch budget; then irregular against filter, column and BCR pruning with storage including
// index overhead and the forward time of the pruned layers. Writes a CSV (plot.py beside this file
// draws accuracy against pruning ratio from it) and the compressed models.
#include <frugal/frugal.hpp>

#include <CLI/CLI.hpp>
#include <Eigen/Sparse>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <numbers>
#include <numeric>
#include <sstream>
#include <variant>

#include "../common/jobs.hpp"
#include "../common/progress_bar.hpp"
#include "../common/stats.hpp"

namespace nn = frugal::nn;
namespace admm = frugal::admm;
using frugal::index_t;
using weight_matrix = nn::matrix<float>;

namespace {

/// What the experiment needs to know of a network: its pruned weights in order, their labels and
/// the columns of each layer's im2col matrix for a batch of 64 (the forward timing).
struct network_spec {
  std::string name;
  std::vector<std::string> weights;
  std::vector<std::string> labels;
  std::vector<index_t> batch_columns;
  [[nodiscard]] const std::string& classifier() const { return weights.back(); }
  [[nodiscard]] const std::string& label(const std::string& weight) const {
    for (std::size_t i = 0; i < weights.size(); ++i)
      if (weights[i] == weight) return labels[i];
    throw frugal::invalid_argument("no layer " + weight);
  }
};

// The classic LeNet-5 (61,470 weights) and Caffe's (430,500), as nn/lenet5.hpp builds them.
const network_spec classic_net{"classic",
                               {"0.weight", "3.weight", "7.weight", "9.weight", "11.weight"},
                               {"conv1", "conv2", "fc1", "fc2", "fc3"},
                               {64 * 784, 64 * 100, 64, 64, 64}};
const network_spec caffe_net{"caffe",
                             {"0.weight", "2.weight", "5.weight", "7.weight"},
                             {"conv1", "conv2", "fc1", "fc2"},
                             {64 * 576, 64 * 64, 64, 64}};

template <class Model>
Model make_model(std::uint64_t seed);
template <>
nn::lenet5<float> make_model(std::uint64_t seed) {
  return nn::make_lenet5<float>(seed);
}
template <>
nn::lenet5_caffe<float> make_model(std::uint64_t seed) {
  return nn::make_lenet5_caffe<float>(seed);
}

struct settings {
  std::string model = "caffe";
  std::string data_dir = "/usr/share/datasets/fashion-mnist";
  std::string out_dir = "admm_lenet5_out";
  bool quick = false;
  int seeds = 1;
  int first_seed = 1;  // seeds first_seed .. first_seed + seeds - 1
  bool one_job_at_a_time = false;
  int dense_epochs = 10;
  std::string dense_cache;      // directory of trained dense baselines, reused when present
  bool magnitude = true;        // the iterative magnitude pruning baselines
  double retrain_lr = 5e-4;     // Adam, masked retraining (and magnitude pruning's training)
  bool retrain_cosine = false;  // half-cosine decay of that rate over each retraining phase
  int admm_epochs = 8;
  int retrain_epochs = 4;
  int quant_epochs = 3;
  int ste_epochs = 3;    // quantization-aware retraining (straight-through estimator) after hard quantization
  int scale_epochs = 0;  // then retraining the level values only (codes frozen)
  double ste_lr = 2e-4;  // Adam learning rate of the shadow weights
  int bits = 3;
  bool zero_level = false;  // mid-rise levels: every code a non-zero value (the mask holds the zeros)
  double rho = 0.01;
  double rho_multiplier = 1.25;
  double rho_max = 2.0;
  double quant_rho = 0.3;
  std::vector<double> ratios = {20, 50};
  double structured_ratio = 8;
  index_t batch = 64;
  index_t limit = 0;
  bool progress = true;
  bool verbose = false;
  double admm_lr = 0.01;
  double admm_ramp = 0.5;              // progressive ADMM (irregular runs): share of the iterations over which
                                       // the keep fractions fall to the target
  double structured_admm_ramp = 0;     // the same for the filter, column and BCR runs
  std::string admm_optimizer = "sgd";  // of the pruning phase: sgd (momentum 0.9) or adam
  index_t updates_per_epoch = 4;
  double allocation_exponent = 0.5;
  double quantize_ratio = 33;                       // 0: the first of `ratios`
  double bcr_quantize_ratio = 13;                   // ADMM-NN-S: BCR pruning then quantization (0 skips)
  int bcr_retrain_epochs = 8;                       // masked retraining of that run
  double bcr_allocation_exponent = 0.3;             // and its per-layer budget
  double quant_lr = 0.01;                           // SGD learning rate of the ADMM quantization phase
  std::pair<index_t, index_t> bcr_block{8, 16};     // BCR blocks (rows, cols) of the structured comparison
  std::pair<index_t, index_t> quant_block{32, 64};  // BCR blocks of the BCR + quantization run
};

enum class scheme { irregular, filter, column, bcr };
const char* scheme_name(scheme s) {
  switch (s) {
    case scheme::irregular:
      return "irregular";
    case scheme::filter:
      return "filter";
    case scheme::column:
      return "column";
    case scheme::bcr:
      return "BCR";
  }
  return "?";
}

/// Block shape of a BCR run.
struct block_shape {
  index_t rows = 8, cols = 16;
};

admm::bcr_sparsity bcr_for(const weight_matrix& w, double keep, block_shape b) {
  const double side = std::sqrt(keep);
  return {.block_rows = std::min(b.rows, w.rows()),
          .block_cols = std::min(b.cols, w.cols()),
          .row_keep_fraction = side,
          .col_keep_fraction = side};
}

/// The constraint set for one layer under a scheme. Filter pruning leaves the classifier's rows
/// (the classes) alone.
admm::any_projection<float> projection_for(scheme s, bool classifier, const weight_matrix& w, double keep,
                                           block_shape blocks) {
  switch (s) {
    case scheme::irregular:
      return admm::irregular_sparsity{.keep_fraction = keep};
    case scheme::filter:
      return classifier ? admm::any_projection<float>(admm::column_sparsity{.keep_fraction = keep})
                        : admm::any_projection<float>(admm::filter_sparsity{.keep_fraction = keep});
    case scheme::column:
      return admm::column_sparsity{.keep_fraction = keep};
    case scheme::bcr:
      return bcr_for(w, keep, blocks);
  }
  throw frugal::invalid_argument("unknown scheme");
}

struct layer_result {
  std::string name;
  index_t size = 0, nonzeros = 0;
  admm::layer_storage storage32, storage_q;  // float values / quantized values
};

struct run_result {
  std::string method;
  scheme kind = scheme::irregular;
  double target_ratio = 1;
  double accuracy = 0, accuracy_before_retrain = 0;
  int epochs = 0;
  std::vector<layer_result> layers;
  double forward_ms = 0, dense_forward_ms = 0;
  // quantized variant (ADMM irregular at the first ratio only)
  bool quantized = false;
  double q_accuracy_hard = 0;  // right after hard quantization, before any retraining
  double q_accuracy = 0, q_reloaded_accuracy = 0;
  std::uintmax_t compressed_file_bytes = 0;
  std::string compressed_file;

  [[nodiscard]] index_t size() const {
    index_t n = 0;
    for (const auto& l : layers) n += l.size;
    return n;
  }
  [[nodiscard]] index_t nonzeros() const {
    index_t n = 0;
    for (const auto& l : layers) n += l.nonzeros;
    return n;
  }
  [[nodiscard]] double ratio() const { return nonzeros() ? static_cast<double>(size()) / nonzeros() : 0; }
  [[nodiscard]] double bits32() const {
    double b = 0;
    for (const auto& l : layers) b += l.storage32.total_bits();
    return b;
  }
  [[nodiscard]] double bits_q() const {
    double b = 0;
    for (const auto& l : layers) b += l.storage_q.total_bits();
    return b;
  }
  [[nodiscard]] double dense_bits() const { return 32.0 * static_cast<double>(size()); }
};

admm::storage_format format_for(scheme s, bool classifier) {
  switch (s) {
    case scheme::irregular:
      return admm::storage_format::relative;
    case scheme::filter:
      return classifier ? admm::storage_format::column : admm::storage_format::filter;
    case scheme::column:
      return admm::storage_format::column;
    case scheme::bcr:
      return admm::storage_format::bcr;
  }
  return admm::storage_format::dense;
}

/// Median wall time in ms of `f` over `reps` runs.
double median_ms(const std::function<void()>& f, int reps) {
  std::vector<double> t;
  for (int r = 0; r < reps; ++r) {
    const auto start = std::chrono::steady_clock::now();
    f();
    t.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

/// Forward time of the pruned weight products for one batch of 64 images (conv layers multiply
/// their im2col matrices), with the kernel each scheme allows: Eigen CSR (irregular), compact
/// dense GEMM of kept rows (filter) or kept columns (column), `sparse::bcr_matrix` (BCR).
/// Returns {pruned ms, dense ms}.
std::pair<double, double> time_pruned_layers(const network_spec& net, const nn::parameter_registry<float>& reg,
                                             scheme s, const std::map<std::string, admm::bcr_pattern>& patterns,
                                             int reps) {
  frugal::rng gen(5);
  double pruned = 0, dense = 0;
  for (std::size_t l = 0; l < net.weights.size(); ++l) {
    const auto& name = net.weights[l];
    const auto& p = reg.at(name);
    const weight_matrix& w = p.value;
    Eigen::MatrixXf x(w.cols(), net.batch_columns[l]);
    for (index_t i = 0; i < x.size(); ++i) x.data()[i] = static_cast<float>(gen.uniform());
    Eigen::MatrixXf y(w.rows(), x.cols());
    dense += median_ms([&] { y.noalias() = w * x; }, reps);
    const weight_matrix mask = p.mask ? *p.mask : weight_matrix::Ones(w.rows(), w.cols());
    const auto fmt = format_for(s, name == net.classifier());
    if (fmt == admm::storage_format::relative) {
      Eigen::SparseMatrix<float, Eigen::RowMajor> sp = w.sparseView();
      pruned += median_ms([&] { y.noalias() = sp * x; }, reps);
    } else if (fmt == admm::storage_format::filter) {
      std::vector<index_t> rows;
      for (index_t r = 0; r < w.rows(); ++r)
        if (mask.row(r).any()) rows.push_back(r);
      const weight_matrix wk = w(rows, Eigen::all);
      Eigen::MatrixXf yk(static_cast<index_t>(rows.size()), x.cols());
      pruned += median_ms(
          [&] {
            yk.noalias() = wk * x;
            y.setZero();
            y(rows, Eigen::all) = yk;
          },
          reps);
    } else if (fmt == admm::storage_format::column) {
      std::vector<index_t> cols;
      for (index_t c = 0; c < w.cols(); ++c)
        if (mask.col(c).any()) cols.push_back(c);
      const weight_matrix wk = w(Eigen::all, cols);
      Eigen::MatrixXf xk(static_cast<index_t>(cols.size()), x.cols());
      pruned += median_ms(
          [&] {
            xk = x(cols, Eigen::all);
            y.noalias() = wk * xk;
          },
          reps);
    } else {
      // BCR: frugal/sparse's kernels (groups of blocks sharing kept columns, register-tiled xsimd).
      const auto bcr = frugal::sparse::bcr_matrix<float>::from_pattern(w, patterns.at(name));
      pruned += median_ms(
          [&] {
            bcr.multiply(nn::const_column_map<float>(x.data(), x.rows(), x.cols()),
                         nn::column_map<float>(y.data(), y.rows(), y.cols()), Kokkos::Serial{});
          },
          reps);
    }
  }
  return {pruned, dense};
}

/// Shared, read-only inputs of every job.
struct context {
  settings cfg;
  const network_spec* net = nullptr;
  nn::dataset_view train, test;
  frugal::examples::progress_bar* bar = nullptr;
};

template <class Model>
void train_epochs(Model& model, nn::Optimizer auto& opt, const context& ctx, int epochs, frugal::rng& gen,
                  const std::string& label) {
  for (int e = 0; e < epochs; ++e)
    nn::train_classifier_epoch(model, opt, ctx.train, ctx.cfg.batch, gen, ctx.bar->callback(label));
}

/// Epochs [from, to) of a masked-retraining phase of `phase` epochs: Adam at --retrain-lr,
/// constant or (--retrain-schedule cosine) decayed step by step on a half cosine that reaches
/// zero at the phase's end.
template <class Model>
void masked_retraining(Model& model, nn::adam<float>& opt, const context& ctx, int from, int to, int phase,
                       frugal::rng& gen, const std::string& label) {
  const auto bar = ctx.bar->callback(label);
  const double lr = ctx.cfg.retrain_lr;
  auto rate_at = [&](double done) {
    return ctx.cfg.retrain_cosine ? lr * 0.5 * (1 + std::cos(std::numbers::pi * done)) : lr;
  };
  opt.set_learning_rate(static_cast<float>(rate_at(static_cast<double>(from) / phase)));
  for (int e = from; e < to; ++e)
    nn::train_classifier_epoch(model, opt, ctx.train, ctx.cfg.batch, gen, [&](const frugal::progress_event& ev) {
      if (bar) bar(ev);
      const double done = (e + static_cast<double>(ev.done) / static_cast<double>(ev.total)) / phase;
      opt.set_learning_rate(static_cast<float>(rate_at(done)));
    });
}

void fill_layers(const network_spec& net, run_result& r, const nn::parameter_registry<float>& reg,
                 const std::map<std::string, admm::bcr_pattern>& patterns, int quant_bits,
                 const std::map<std::string, admm::quantized_matrix<float>, std::less<>>* quantized) {
  r.layers.clear();
  for (const auto& name : net.weights) {
    const auto& p = reg.at(name);
    const weight_matrix mask = p.mask ? *p.mask : weight_matrix::Ones(p.value.rows(), p.value.cols());
    layer_result l;
    l.name = name;
    l.size = p.value.size();
    l.nonzeros = static_cast<index_t>((mask.array() != 0).count());
    const auto fmt = format_for(r.kind, name == net.classifier());
    const admm::bcr_pattern* pattern = fmt == admm::storage_format::bcr ? &patterns.at(name) : nullptr;
    l.storage32 = admm::account_storage(name, mask, fmt, {.bits_per_value = 32}, pattern);
    index_t levels = index_t{1} << quant_bits;
    if (quantized && quantized->contains(name)) levels = static_cast<index_t>(quantized->at(name).levels.size());
    l.storage_q =
        admm::account_storage(name, mask, fmt, {.bits_per_value = quant_bits, .level_table_entries = levels}, pattern);
    r.layers.push_back(l);
  }
}

/// One ADMM phase on `model`: SGD (momentum 0.9) or Adam, state and learning rate reset every iteration; each
/// iteration trains on the next 1/updates_per_epoch of the training set, so Z and U are updated
/// several times per epoch. With --verbose, prints every iteration's residuals and test accuracy.
template <class Model>
void admm_phase(const context& ctx, Model& model, const nn::parameter_registry<float>& reg,
                admm::admm_state<float>& state, frugal::rng& gen, const std::string& label, double lr,
                const std::string& optimizer, const std::function<void(int)>& before_update = {}) {
  const auto bar_callback = ctx.bar->callback(label);
  index_t iteration = 0;
  auto train = [&](auto& opt) {
    const index_t parts = ctx.cfg.updates_per_epoch, n = ctx.train.size(), k = iteration++ % parts;
    const index_t first = n * k / parts, last = n * (k + 1) / parts;
    nn::train_classifier_epoch(model, opt, ctx.train.slice(first, last - first), ctx.cfg.batch, gen, bar_callback);
  };
  auto report = [&](const frugal::progress_event& e) {
    if (bar_callback) bar_callback(e);
    if (!ctx.cfg.verbose) return;
    const double acc = nn::evaluate_classifier(model, ctx.test).accuracy;
    std::printf("  %-26s iteration %3lld/%lld: primal %.4f (relative %.4f), dual %.4f, rho %.4g, test acc %.4f\n",
                label.c_str(), static_cast<long long>(e.done), static_cast<long long>(e.total), e.metrics[0].value,
                e.metrics[1].value, e.metrics[2].value, e.metrics[3].value, acc);
    std::fflush(stdout);
  };
  if (optimizer == "adam")
    admm::run_admm(
        state, reg, [&] { return nn::adam<float>({.learning_rate = static_cast<float>(lr)}); }, train, report,
        before_update);
  else
    admm::run_admm(
        state, reg, [&] { return nn::sgd<float>({.learning_rate = static_cast<float>(lr), .momentum = 0.9f}); }, train,
        report, before_update);
}

admm::admm_options phase_options(const settings& cfg, double rho, int epochs) {
  return {.rho = rho,
          .rho_multiplier = cfg.rho_multiplier,
          .rho_max = cfg.rho_max,
          .iterations = static_cast<int>(epochs * cfg.updates_per_epoch),
          .epochs_per_iteration = 1};
}

/// ADMM pruning (+ masked retraining, + optional quantization) of a copy of the dense model.
template <class Model>
run_result admm_job(const context& ctx, const Model& dense, scheme s, double ratio, bool quantize, std::uint64_t seed,
                    block_shape blocks = {}, int retrain_epochs = -1, double allocation_exponent = -1) {
  const auto& cfg = ctx.cfg;
  const auto& weight_names = ctx.net->weights;
  Model model = dense;
  auto reg = model.parameters();
  if (retrain_epochs < 0) retrain_epochs = cfg.retrain_epochs;
  if (allocation_exponent < 0) allocation_exponent = cfg.allocation_exponent;
  const auto keep = admm::allocate_keep_fractions(reg, weight_names, ratio, allocation_exponent);
  admm::admm_state<float> state(phase_options(cfg, cfg.rho, cfg.admm_epochs));
  std::map<std::string, admm::bcr_pattern> patterns;
  // Progressive ADMM (--admm-ramp): the keep fraction of every layer falls from 1 to its target
  // over the first ramp·iterations on a cubic schedule (Zhu & Gupta's), then stays there.
  const int iterations = state.options().iterations;
  const double ramp_iterations = (s == scheme::irregular ? cfg.admm_ramp : cfg.structured_admm_ramp) * iterations;
  auto keep_at = [&](const std::string& name, int it) {
    const double target = keep.at(name);
    if (ramp_iterations <= 0) return target;
    const double left = 1.0 - std::min(1.0, (it + 1) / ramp_iterations);
    return target + (1.0 - target) * left * left * left;
  };
  for (const auto& name : weight_names)
    state.add(name, projection_for(s, name == ctx.net->classifier(), reg.at(name).value, keep_at(name, -1), blocks));
  std::function<void(int)> tighten;
  if (ramp_iterations > 0)
    tighten = [&](int it) {
      for (const auto& name : weight_names)
        state.set_projection(
            name, projection_for(s, name == ctx.net->classifier(), reg.at(name).value, keep_at(name, it), blocks));
    };
  frugal::rng gen(seed * 1000 + static_cast<std::uint64_t>(ratio) + 17 * static_cast<std::uint64_t>(s));
  const std::string label = std::string("ADMM ") + scheme_name(s) + " " + std::to_string(static_cast<int>(ratio)) + "x";
  admm_phase(ctx, model, reg, state, gen, label, cfg.admm_lr, cfg.admm_optimizer, tighten);
  if (s == scheme::bcr)
    for (const auto& name : weight_names)
      patterns[name] = bcr_for(reg.at(name).value, keep.at(name), blocks).select(reg.at(name).value);
  state.harden(reg);
  run_result r;
  r.method = std::string("ADMM ") + scheme_name(s);
  r.kind = s;
  r.target_ratio = ratio;
  r.accuracy_before_retrain = nn::evaluate_classifier(model, ctx.test).accuracy;
  nn::adam<float> retrain({.learning_rate = static_cast<float>(cfg.retrain_lr)});
  masked_retraining(model, retrain, ctx, 0, retrain_epochs, retrain_epochs, gen, label + " retrain");
  r.accuracy = nn::evaluate_classifier(model, ctx.test).accuracy;
  r.epochs = cfg.admm_epochs + retrain_epochs;
  fill_layers(*ctx.net, r, reg, patterns, cfg.bits, nullptr);
  std::tie(r.forward_ms, r.dense_forward_ms) = time_pruned_layers(*ctx.net, reg, s, patterns, cfg.quick ? 3 : 7);
  if (!quantize) return r;

  // Quantize the kept weights with ADMM (masks fixed), harden, retrain the scales and biases.
  admm::admm_state<float> qstate(phase_options(cfg, cfg.quant_rho, cfg.quant_epochs));
  for (const auto& name : weight_names)
    qstate.add(name, admm::masked_quantization<float, admm::uniform_quantization>{
                         *reg.at(name).mask, {.bits = cfg.bits, .zero_level = cfg.zero_level}});
  admm_phase(ctx, model, reg, qstate, gen, label + " quantize", cfg.quant_lr, "sgd");
  std::map<std::string, weight_matrix, std::less<>> shadow;
  for (const auto& name : weight_names) shadow[name] = reg.at(name).value;
  qstate.harden(reg);
  auto quantized = qstate.quantized();
  r.q_accuracy_hard = nn::evaluate_classifier(model, ctx.test).accuracy;
  if (cfg.ste_epochs > 0) {
    admm::straight_through_optimizer ste(nn::adam<float>({.learning_rate = static_cast<float>(cfg.ste_lr)}), quantized,
                                         std::move(shadow), {.scale_learning_rate = 1e-3});
    train_epochs(model, ste, ctx, cfg.ste_epochs, gen, label + " QAT");
  }
  if (cfg.scale_epochs > 0) {
    admm::frozen_code_optimizer tune(nn::adam<float>({.learning_rate = 2e-4f}), quantized, 1e-3);
    train_epochs(model, tune, ctx, cfg.scale_epochs, gen, label + " scales");
  }
  r.quantized = true;
  r.q_accuracy = nn::evaluate_classifier(model, ctx.test).accuracy;
  r.epochs += cfg.quant_epochs + cfg.ste_epochs + cfg.scale_epochs;
  fill_layers(*ctx.net, r, reg, patterns, cfg.bits, &quantized);

  frugal::checkpoint_writer out;
  admm::save_compressed(out, reg, quantized);
  r.compressed_file = cfg.out_dir + (ctx.net == &caffe_net ? "/lenet5_caffe_admm_" : "/lenet5_admm_") +
                      (s == scheme::bcr ? std::string("bcr_") : std::string()) +
                      std::to_string(static_cast<int>(ratio)) + "x_" + std::to_string(cfg.bits) + "bit_seed" +
                      std::to_string(seed) + ".fcm";
  out.write(r.compressed_file);
  r.compressed_file_bytes = std::filesystem::file_size(r.compressed_file);
  Model reloaded = make_model<Model>(seed + 99);
  admm::load_compressed(frugal::checkpoint_reader(r.compressed_file), reloaded.parameters());
  r.q_reloaded_accuracy = nn::evaluate_classifier(reloaded, ctx.test).accuracy;
  return r;
}

/// Iterative magnitude pruning with the same epoch budget as the ADMM run.
template <class Model>
run_result magnitude_job(const context& ctx, const Model& dense, double ratio, std::uint64_t seed) {
  const auto& cfg = ctx.cfg;
  Model model = dense;
  auto reg = model.parameters();
  const auto keep = admm::allocate_keep_fractions(reg, ctx.net->weights, ratio, cfg.allocation_exponent);
  const int budget = cfg.admm_epochs + cfg.retrain_epochs;
  const int rounds = std::max(1, budget / 2), per_round = budget / rounds;
  frugal::rng gen(seed * 2000 + static_cast<std::uint64_t>(ratio));
  nn::adam<float> opt({.learning_rate = static_cast<float>(cfg.retrain_lr)});
  const std::string label = "magnitude " + std::to_string(static_cast<int>(ratio)) + "x";
  std::map<std::string, double> targets(keep.begin(), keep.end());
  int epoch = 0;  // each round's training is a retraining phase of per_round epochs
  admm::iterative_magnitude_prune(reg, targets, rounds, per_round, [&] {
    const int within = epoch++ % per_round;
    masked_retraining(model, opt, ctx, within, within + 1, per_round, gen, label);
  });
  run_result r;
  r.method = "magnitude irregular";
  r.kind = scheme::irregular;
  r.target_ratio = ratio;
  r.accuracy = nn::evaluate_classifier(model, ctx.test).accuracy;
  r.epochs = rounds * per_round;
  fill_layers(*ctx.net, r, reg, {}, cfg.bits, nullptr);
  return r;
}

/// Runs the jobs as `run_jobs` schedules them; results come back in submission order.
std::vector<run_result> run_all(std::vector<std::function<run_result()>> jobs,
                                frugal::examples::job_schedule schedule) {
  std::vector<run_result> results(jobs.size());
  frugal::examples::run_jobs(jobs.size(), schedule, [&](std::size_t i) { results[i] = jobs[i](); });
  return results;
}

/// Trains the dense baseline of every seed and runs the pruning jobs on it.
template <class Model>
void run_seeds(const context& ctx, std::vector<double>& dense_acc, std::vector<std::vector<run_result>>& per_seed) {
  const auto& cfg = ctx.cfg;
  for (int seed = cfg.first_seed; seed < cfg.first_seed + cfg.seeds; ++seed) {
    Model dense = make_model<Model>(static_cast<std::uint64_t>(seed));
    // The baseline depends only on the model, the seed, its epochs and the training images, and
    // every pruning run draws from its own generator: a cached baseline gives identical results.
    const std::filesystem::path cached = cfg.dense_cache.empty() ? std::filesystem::path()
                                                                 : std::filesystem::path(cfg.dense_cache) /
                                                                       (ctx.net->name + "_seed" + std::to_string(seed) +
                                                                        "_" + std::to_string(cfg.dense_epochs) + "ep_" +
                                                                        std::to_string(ctx.train.size()) + "img.ck");
    const bool reuse = !cached.empty() && std::filesystem::exists(cached);
    if (reuse) {
      nn::load_parameters(cached, dense.parameters());
    } else {
      nn::adam<float> opt({.learning_rate = 1e-3f});
      frugal::rng gen(static_cast<std::uint64_t>(seed) + 500);
      train_epochs(dense, opt, ctx, cfg.dense_epochs, gen, "dense seed " + std::to_string(seed));
      if (!cached.empty()) {
        std::filesystem::create_directories(cfg.dense_cache);
        nn::save_parameters(cached, dense.parameters());
      }
    }
    dense_acc.push_back(nn::evaluate_classifier(dense, ctx.test).accuracy);
    ctx.bar->clear();
    std::printf("seed %d: dense baseline %.4f after %d epochs%s\n", seed, dense_acc.back(), cfg.dense_epochs,
                reuse ? (" (loaded from " + cached.string() + ")").c_str() : "");
    std::fflush(stdout);
    std::vector<std::function<run_result()>> jobs;
    for (std::size_t i = 0; i < cfg.ratios.size(); ++i) {
      const double ratio = cfg.ratios[i];
      const bool quantize = cfg.quantize_ratio > 0 ? ratio == cfg.quantize_ratio : cfg.quantize_ratio == 0 && i == 0;
      jobs.push_back([&, ratio, quantize, seed] {
        return admm_job(ctx, dense, scheme::irregular, ratio, quantize, static_cast<std::uint64_t>(seed));
      });
      if (cfg.magnitude)
        jobs.push_back([&, ratio, seed] { return magnitude_job(ctx, dense, ratio, static_cast<std::uint64_t>(seed)); });
    }
    if (cfg.quantize_ratio > 0 &&
        std::find(cfg.ratios.begin(), cfg.ratios.end(), cfg.quantize_ratio) == cfg.ratios.end())
      jobs.push_back([&, seed] {
        return admm_job(ctx, dense, scheme::irregular, cfg.quantize_ratio, true, static_cast<std::uint64_t>(seed));
      });
    if (cfg.bcr_quantize_ratio > 0)
      jobs.push_back([&, seed] {
        return admm_job(ctx, dense, scheme::bcr, cfg.bcr_quantize_ratio, true, static_cast<std::uint64_t>(seed),
                        {cfg.quant_block.first, cfg.quant_block.second}, cfg.bcr_retrain_epochs,
                        cfg.bcr_allocation_exponent);
      });
    if (cfg.structured_ratio > 0)
      for (scheme s : {scheme::filter, scheme::column, scheme::bcr})
        jobs.push_back([&, s, seed] {
          return admm_job(ctx, dense, s, cfg.structured_ratio, false, static_cast<std::uint64_t>(seed),
                          {cfg.bcr_block.first, cfg.bcr_block.second});
        });
    per_seed.push_back(run_all(std::move(jobs), cfg.one_job_at_a_time ? frugal::examples::job_schedule::one_at_a_time
                                                                      : frugal::examples::job_schedule::spread));
    ctx.bar->clear();
  }
}

using frugal::examples::median;

}  // namespace

int main(int argc, char** argv) {
  settings cfg;
  CLI::App app{
      "ADMM-NN and ADMM-NN-S on LeNet-5 / Fashion-MNIST with frugal/admm.\n"
      "Trains a dense baseline, prunes it with ADMM at each --ratios target (masked retraining afterwards), then\n"
      "quantizes the kept weights of the first ratio to --bits bits; compares with iterative magnitude pruning at\n"
      "the same ratios and epoch budget, and compares irregular pruning with filter, column and BCR pruning\n"
      "(storage including index overhead, forward time of the pruned layers). Writes a CSV and the models."};
  app.add_option("--model", cfg.model,
                 "caffe: Caffe's LeNet-5 (430,500 weights), the network the ADMM-NN papers prune; classic: LeCun's "
                 "(61,470 weights). caffe changes the defaults of --ratios (50,85), --quantize-ratio (85), "
                 "--bcr-quantize-ratio (50), --quant-block (64 128) and --structured-ratio (0); the defaults shown are "
                 "classic's")
      ->capture_default_str()
      ->check(CLI::IsMember({"caffe", "classic"}));
  app.add_option("--data", cfg.data_dir, "MNIST-format dataset directory")->capture_default_str();
  app.add_option("--out", cfg.out_dir, "Directory for the CSV and the compressed models")->capture_default_str();
  app.add_flag("--quick", cfg.quick,
               "Small smoke run (3,000 training images, 1 epoch per phase, 2 ADMM iterations); for tests");
  app.add_option("--seeds", cfg.seeds, "Repeat everything for N seeds (from --first-seed) and report medians")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--first-seed", cfg.first_seed, "First seed (reproduce one seed of a longer run)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  // Threads come from Kokkos (OMP_NUM_THREADS, or --kokkos-threads=N, which Kokkos reads from argv).
  app.add_flag("--one-job-at-a-time", cfg.one_job_at_a_time,
               "Run the independent jobs one after another, each on every thread (default: the jobs are spread over "
               "the threads, one thread each)");
  app.add_option("--dense-epochs", cfg.dense_epochs, "Epochs of the dense baseline")->capture_default_str();
  app.add_option("--dense-cache", cfg.dense_cache,
                 "Directory where each seed's trained dense baseline is saved, and loaded from when a run with the "
                 "same model, seed, --dense-epochs and training images comes again (results are identical)");
  app.add_option("--admm-epochs", cfg.admm_epochs, "Training epochs of the ADMM pruning phase")->capture_default_str();
  app.add_option("--retrain-epochs", cfg.retrain_epochs, "Masked retraining epochs after hard pruning")
      ->capture_default_str();
  app.add_option("--quant-epochs", cfg.quant_epochs, "Training epochs of the ADMM quantization phase")
      ->capture_default_str();
  app.add_option("--ste-epochs", cfg.ste_epochs,
                 "Epochs of quantization-aware retraining after hard quantization (straight-through estimator: float "
                 "shadow weights, codes may change, scales train too)")
      ->capture_default_str();
  app.add_option("--ste-lr", cfg.ste_lr, "Adam learning rate of the shadow weights during --ste-epochs")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--scale-epochs", cfg.scale_epochs,
                 "Epochs retraining only the quantization levels and biases (codes frozen), after --ste-epochs")
      ->capture_default_str();
  app.add_option("--quant-rho", cfg.quant_rho, "Initial rho of the quantization phase")->capture_default_str();
  app.add_option("--rho-max", cfg.rho_max, "rho stops growing here")->capture_default_str();
  app.add_option("--bits", cfg.bits, "Bits per kept weight for quantization (uniform symmetric)")
      ->capture_default_str()
      ->check(CLI::Range(2, 8));
  app.add_flag("--zero-level", cfg.zero_level,
               "Quantize to mid-tread levels (zero among the 2^bits - 1 levels) instead of 2^bits non-zero mid-rise "
               "levels");
  app.add_option("--rho", cfg.rho, "Initial ADMM penalty rho")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--rho-multiplier", cfg.rho_multiplier, "rho is multiplied by this after every ADMM update")
      ->capture_default_str();
  app.add_option("--ratios", cfg.ratios, "Target pruning ratios (dense weights / kept weights)")->capture_default_str();
  app.add_option("--structured-ratio", cfg.structured_ratio,
                 "Target ratio of the filter, column and BCR runs (0 skips them)")
      ->capture_default_str();
  app.add_option("--limit", cfg.limit, "Use only the first N training images (0: all)")->capture_default_str();
  app.add_option("--admm-ramp", cfg.admm_ramp,
                 "Progressive ADMM for irregular pruning: keep fractions fall from 1 to the target over this share "
                 "of the iterations (cubic schedule; 0: the target from the start)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1.0));
  app.add_option("--structured-admm-ramp", cfg.structured_admm_ramp, "The same for the filter, column and BCR runs")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1.0));
  app.add_option("--admm-optimizer", cfg.admm_optimizer,
                 "Optimizer of the ADMM pruning iterations: sgd (momentum 0.9) or adam (state reset every iteration)")
      ->capture_default_str()
      ->check(CLI::IsMember({"sgd", "adam"}));
  app.add_option("--admm-lr", cfg.admm_lr, "Learning rate of SGD (momentum 0.9) during the ADMM iterations")
      ->capture_default_str();
  app.add_option("--updates-per-epoch", cfg.updates_per_epoch,
                 "ADMM Z/U updates per epoch: each iteration trains on the next 1/N of the data")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--quantize-ratio", cfg.quantize_ratio,
                 "Pruning ratio of the model that is then quantized (0: the first of --ratios; a ratio not in --ratios "
                 "gets its own ADMM run; negative: no quantization run)")
      ->capture_default_str();
  app.add_option("--bcr-quantize-ratio", cfg.bcr_quantize_ratio,
                 "ADMM-NN-S storage run: BCR pruning to this ratio, then --bits quantization (0 skips it)")
      ->capture_default_str();
  app.add_option("--bcr-retrain-epochs", cfg.bcr_retrain_epochs,
                 "Masked retraining epochs of the BCR + quantization run")
      ->capture_default_str();
  app.add_option("--bcr-allocation-exponent", cfg.bcr_allocation_exponent,
                 "Per-layer budget exponent of the BCR + quantization run (see --allocation-exponent)")
      ->capture_default_str();
  app.add_option("--quant-lr", cfg.quant_lr, "Learning rate of SGD (momentum 0.9) in the ADMM quantization phase")
      ->capture_default_str();
  app.add_option("--bcr-block", cfg.bcr_block, "BCR block rows and columns of the structured comparison")
      ->capture_default_str();
  app.add_option("--quant-block", cfg.quant_block,
                 "BCR block rows and columns of the BCR + quantization run (larger blocks: smaller bitmaps)")
      ->capture_default_str();
  app.add_option("--allocation-exponent", cfg.allocation_exponent,
                 "Per-layer budget: kept weights of a layer proportional to its size to this power")
      ->capture_default_str();
  bool no_magnitude = false;
  app.add_flag("--no-magnitude", no_magnitude,
               "Skip the iterative magnitude pruning baselines (half the work when tuning ADMM alone)");
  app.add_option("--retrain-lr", cfg.retrain_lr,
                 "Adam learning rate of masked retraining (ADMM) and of magnitude pruning's training rounds")
      ->capture_default_str();
  std::string schedule = "constant";
  app.add_option("--retrain-schedule", schedule,
                 "constant, or cosine: the rate decays to zero on a half cosine over each retraining phase (ADMM's "
                 "masked retraining, each round of magnitude pruning)")
      ->capture_default_str()
      ->check(CLI::IsMember({"constant", "cosine"}));
  app.add_flag("--verbose", cfg.verbose, "Print every ADMM iteration's residuals and test accuracy");
  bool no_progress = false;
  app.add_flag("--no-progress", no_progress, "Do not draw progress bars");
  CLI11_PARSE(app, argc, argv);
  cfg.progress = !no_progress;
  cfg.magnitude = !no_magnitude;
  cfg.retrain_cosine = schedule == "cosine";
  if (cfg.model == "caffe") {
    // Caffe's LeNet-5 leaves 7x as many weights at a given ratio: the paper's ratios, irregular
    // pruning then quantization at the higher one, and BCR + quantization with a ratio for ≥ 300x
    // storage; the structured comparison (ADMM-NN-S) is opt-in, as it adds four runs of a 5x more
    // expensive network. Options given on the command line win.
    if (app.count("--ratios") == 0) cfg.ratios = {50, 85};
    if (app.count("--quantize-ratio") == 0) cfg.quantize_ratio = 85;
    if (app.count("--bcr-quantize-ratio") == 0) cfg.bcr_quantize_ratio = 50;
    // fc1 (500x800) holds 93 % of the weights; 64x128 blocks halve its bitmaps against 32x64.
    if (app.count("--quant-block") == 0) cfg.quant_block = {64, 128};
    if (app.count("--structured-ratio") == 0) cfg.structured_ratio = 0;
  }
  if (cfg.quick) {
    cfg.limit = cfg.limit ? cfg.limit : 3000;
    cfg.dense_epochs = 2;
    cfg.admm_epochs = 2;
    cfg.retrain_epochs = 1;
    cfg.bcr_retrain_epochs = 1;
    cfg.ste_epochs = 1;
    cfg.scale_epochs = 1;
    cfg.quant_epochs = 1;
  }

  Kokkos::ScopeGuard kokkos(argc, argv);
  Eigen::setNbThreads(1);  // the pruned-layer timings compare one-thread products
  try {
    const auto t0 = std::chrono::steady_clock::now();
    std::filesystem::create_directories(cfg.out_dir);
    const auto train = frugal::io::load_mnist(cfg.data_dir, frugal::io::mnist_split::train);
    const auto test = frugal::io::load_mnist(cfg.data_dir, frugal::io::mnist_split::test);
    const index_t n_train = cfg.limit > 0 ? std::min(cfg.limit, train.count) : train.count;
    const index_t n_test = cfg.quick ? std::min<index_t>(2000, test.count) : test.count;
    frugal::examples::progress_bar bar(cfg.progress);
    context ctx{cfg, cfg.model == "caffe" ? &caffe_net : &classic_net,
                nn::dataset_view{train.pixels, train.labels, {28, 28, 1}}.slice(0, n_train),
                nn::dataset_view{test.pixels, test.labels, {28, 28, 1}}.slice(0, n_test), &bar};
    std::printf(
        "ADMM-NN on %s LeNet-5 / Fashion-MNIST: %lld training images, %lld test images, %d seed(s), %d thread(s)\n",
        cfg.model.c_str(), static_cast<long long>(n_train), static_cast<long long>(n_test), cfg.seeds,
        frugal::concurrency(Kokkos::DefaultHostExecutionSpace{}));
    std::printf("epoch budget per pruning run: %d (ADMM %d epochs + %d retraining; magnitude pruning the same)\n\n",
                cfg.admm_epochs + cfg.retrain_epochs, cfg.admm_epochs, cfg.retrain_epochs);

    std::vector<double> dense_acc;
    std::vector<std::vector<run_result>> per_seed;
    if (cfg.model == "caffe")
      run_seeds<nn::lenet5_caffe<float>>(ctx, dense_acc, per_seed);
    else
      run_seeds<nn::lenet5<float>>(ctx, dense_acc, per_seed);

    // Medians over seeds, per job position.
    const auto& first = per_seed.front();
    auto med = [&](std::size_t job, auto field) {
      std::vector<double> v;
      for (const auto& runs : per_seed) v.push_back(field(runs[job]));
      return median(v);
    };
    const double dense = median(dense_acc);
    const auto& net = *ctx.net;
    const std::size_t stride = cfg.magnitude ? 2 : 1;  // job positions: ADMM (and magnitude) per ratio first
    std::printf("\nDense %s LeNet-5: %.2f%% test accuracy (median of %d), %lld weights, %.0f KiB at 32 bits\n\n",
                net.name.c_str(), 100 * dense, cfg.seeds, static_cast<long long>(first[0].size()),
                first[0].dense_bits() / 8 / 1024);

    // Table 1: per-layer sparsity of the ADMM runs.
    std::printf("Table 1 — ADMM pruning, per layer (seed %d)\n%-8s %8s", cfg.first_seed, "layer", "weights");
    for (std::size_t i = 0; i < cfg.ratios.size(); ++i) std::printf("  %6.0fx kept (pruned)", cfg.ratios[i]);
    std::printf("\n");
    for (std::size_t l = 0; l < net.weights.size(); ++l) {
      std::printf("%-8s %8lld", net.labels[l].c_str(), static_cast<long long>(first[0].layers[l].size));
      for (std::size_t i = 0; i < cfg.ratios.size(); ++i) {
        const auto& lr = first[stride * i].layers[l];
        std::printf("  %8lld (%6.2f%%)    ", static_cast<long long>(lr.nonzeros),
                    100.0 * (1 - double(lr.nonzeros) / lr.size));
      }
      std::printf("\n");
    }

    // Table 2: ADMM vs magnitude pruning.
    std::printf("\nTable 2 — accuracy at equal pruning ratio and epoch budget (median of %d seed(s))\n", cfg.seeds);
    std::printf("%-10s %10s %12s %12s %10s %10s %10s\n", "target", "ratio", "ADMM acc", "magnitude", "ADMM-dense",
                "mag-dense", "ADMM-mag");
    for (std::size_t i = 0; i < cfg.ratios.size(); ++i) {
      const double a = med(stride * i, [](const run_result& r) { return r.accuracy; });
      if (!cfg.magnitude) {
        std::printf("%-10.0f %9.1fx %11.2f%% %12s %+9.2f\n", cfg.ratios[i], first[stride * i].ratio(), 100 * a, "-",
                    100 * (a - dense));
        continue;
      }
      const double m = med(stride * i + 1, [](const run_result& r) { return r.accuracy; });
      std::printf("%-10.0f %9.1fx %11.2f%% %11.2f%% %+9.2f %+9.2f %+9.2f\n", cfg.ratios[i], first[stride * i].ratio(),
                  100 * a, 100 * m, 100 * (a - dense), 100 * (m - dense), 100 * (a - m));
    }

    // Table 3: pruning + quantization storage, for every quantized run (irregular, BCR).
    bool reloads_identically = true;
    for (std::size_t qjob = 0; qjob < first.size(); ++qjob) {
      const auto& q = first[qjob];
      if (!q.quantized) continue;
      std::printf(
          "\nTable 3%s — ADMM %s pruning %.0fx then %d-bit quantization (seed %d storage; accuracy median of %d)\n",
          q.kind == scheme::bcr ? "b" : "a", scheme_name(q.kind), q.target_ratio, cfg.bits, cfg.first_seed, cfg.seeds);
      std::printf("%-8s %8s %8s %6s %12s %12s %12s\n", "layer", "weights", "kept", "bits", "values b", "index b",
                  "total b");
      for (const auto& l : q.layers)
        std::printf("%-8s %8lld %8lld %6d %12.0f %12.0f %12.0f\n", net.label(l.name).c_str(),
                    static_cast<long long>(l.size), static_cast<long long>(l.nonzeros), l.storage_q.bits_per_value,
                    l.storage_q.value_bits, l.storage_q.index_bits + l.storage_q.descriptor_bits,
                    l.storage_q.total_bits());
      const double q_acc = med(qjob, [](const run_result& r) { return r.q_accuracy; });
      const double p_acc = med(qjob, [](const run_result& r) { return r.accuracy; });
      const double h_acc = med(qjob, [](const run_result& r) { return r.q_accuracy_hard; });
      double index_only = 0, values_only = 0;
      for (const auto& l : q.layers) {
        index_only += l.storage_q.index_bits + l.storage_q.descriptor_bits;
        values_only += l.storage_q.value_bits;
      }
      std::printf("weights: %.0f bits dense → %.0f bits (%.0f values + %.0f index/bitmaps/tables)\n", q.dense_bits(),
                  q.bits_q(), values_only, index_only);
      std::printf(
          "compression with index overhead: %.1fx; without: %.1fx; accuracy %.2f%% (%+.2f vs dense; %.2f%% pruned, "
          "before quantization; %.2f%% right after hard quantization, before retraining)\n",
          q.dense_bits() / q.bits_q(), q.dense_bits() / values_only, 100 * q_acc, 100 * (q_acc - dense), 100 * p_acc,
          100 * h_acc);
      std::printf(
          "compressed model file (weights, biases, level tables, container): %s, %ju bytes; reloaded accuracy "
          "%.2f%% (%s)\n",
          q.compressed_file.c_str(), q.compressed_file_bytes, 100 * q.q_reloaded_accuracy,
          q.q_reloaded_accuracy == q.q_accuracy ? "identical" : "DIFFERENT");
      reloads_identically = reloads_identically && q.q_reloaded_accuracy == q.q_accuracy;
    }

    // Table 4: ADMM-NN-S comparison.
    std::printf(
        "\nTable 4 — ADMM-NN-S: irregular vs structured pruning (storage includes indices; forward = pruned "
        "layers, batch 64, one thread)\n");
    std::printf("%-22s %8s %9s %10s %12s %12s %12s %10s\n", "method", "ratio", "accuracy", "vs dense", "KiB @32b",
                ("KiB @" + std::to_string(cfg.bits) + "b").c_str(), "fwd ms", "vs dense");
    auto row = [&](std::size_t job) {
      const auto& r = first[job];
      const double acc = med(job, [](const run_result& x) { return x.accuracy; });
      const double fwd = med(job, [](const run_result& x) { return x.forward_ms; });
      const double dfwd = med(job, [](const run_result& x) { return x.dense_forward_ms; });
      std::printf("%-22s %7.1fx %8.2f%% %+9.2f %12.1f %12.1f %12.3f %9.2fx\n",
                  (r.method + " " + std::to_string(static_cast<int>(r.target_ratio)) + "x").c_str(), r.ratio(),
                  100 * acc, 100 * (acc - dense), r.bits32() / 8 / 1024, r.bits_q() / 8 / 1024, fwd, dfwd / fwd);
    };
    std::printf("%-22s %7.1fx %8.2f%% %+9.2f %12.1f %12.1f %12.3f %9.2fx\n", "dense", 1.0, 100 * dense, 0.0,
                first[0].dense_bits() / 8 / 1024, first[0].dense_bits() / 8 / 1024 * cfg.bits / 32,
                med(0, [](const run_result& x) { return x.dense_forward_ms; }), 1.0);
    for (std::size_t i = 0; i < cfg.ratios.size(); ++i) row(stride * i);
    for (std::size_t j = stride * cfg.ratios.size(); j < first.size(); ++j) row(j);

    // CSV (examples/admm_lenet5/plot.py draws the figure from it).
    std::ofstream csv(cfg.out_dir + "/admm_lenet5.csv");
    csv << "seed,method,target_ratio,ratio,accuracy,accuracy_before_retrain,bits32,bits_quantized,forward_ms,"
           "dense_forward_ms,quantized_accuracy\n";
    for (std::size_t s = 0; s < per_seed.size(); ++s) {
      const auto seed = static_cast<std::size_t>(cfg.first_seed) + s;
      csv << seed << ",dense,1,1," << dense_acc[s] << ",,,,,,\n";
      for (const auto& r : per_seed[s])
        csv << seed << "," << r.method << "," << r.target_ratio << "," << r.ratio() << "," << r.accuracy << ","
            << (r.method.rfind("ADMM", 0) == 0 ? std::to_string(r.accuracy_before_retrain) : "") << "," << r.bits32()
            << "," << r.bits_q() << "," << r.forward_ms << "," << r.dense_forward_ms << ","
            << (r.quantized ? std::to_string(r.q_accuracy) : "") << "\n";
    }
    csv.close();
    const double total = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("\nwrote %s/admm_lenet5.csv; figure: python3 %s %s/admm_lenet5.csv; total wall time %.0f s\n",
                cfg.out_dir.c_str(), FRUGAL_PLOT_SCRIPT, cfg.out_dir.c_str(), total);
    return reloads_identically ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "admm_lenet5: %s\n", e.what());
    return 1;
  }
}
