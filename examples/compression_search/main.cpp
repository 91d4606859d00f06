// Multi-objective search over frugal's own compression settings on LeNet-5 / Fashion-MNIST:
// BCR pruning ratio and block shape (GRIM, found with ADMM), quantization bits (ADMM-NN) and the
// block size of block-circulant fully connected layers (CirCNN). Every evaluation compresses a
// dense LeNet-5 trained once at the start, retrains it briefly through the compressed layers'
// weight policies and measures test error, stored bytes and single-thread inference latency.
// The same budget is spent by random search (seeded) for comparison; both Pareto fronts, their
// hypervolumes and the settings that beat the dense model are printed, and every evaluation goes
// to a CSV that plot.py beside this file draws.
#include <frugal/admm.hpp>
#include <frugal/frugal.hpp>
#include <frugal/search/mobo.hpp>
#include <frugal/search/pareto.hpp>
#include <frugal/search/space.hpp>
#include <frugal/sparse.hpp>

#include <time.h>
#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "../common/progress_bar.hpp"
#include "../common/stats.hpp"

namespace nn = frugal::nn;
namespace admm = frugal::admm;
namespace sparse = frugal::sparse;
namespace search = frugal::search;
using frugal::index_t;

namespace {

using dense_model = nn::lenet5<float>;
using bcr_policy = sparse::bcr_weight<float>;
using circulant_policy = sparse::circulant_weight<float>;
// conv1 (150 weights, one input channel) stays dense, as in examples/compressed_lenet5: a BCR
// kernel cannot beat its 6 x 25 GEMM. conv2 is always BCR; the FC layers are BCR or circulant.
template <class FcPolicy>
using compressed_model =
    nn::sequential<nn::conv2d<float>, nn::relu<float>, nn::max_pool2d<float>, nn::conv2d<float, bcr_policy>,
                   nn::relu<float>, nn::max_pool2d<float>, nn::flatten<float>, nn::linear<float, FcPolicy>,
                   nn::relu<float>, nn::linear<float, FcPolicy>, nn::relu<float>, nn::linear<float, FcPolicy>>;

const std::vector<std::string> weight_names = {"0.weight", "3.weight", "7.weight", "9.weight", "11.weight"};
const std::vector<std::string> bias_names = {"0.bias", "3.bias", "7.bias", "9.bias", "11.bias"};
const std::vector<std::string> fc_names = {"7.weight", "9.weight", "11.weight"};
const std::map<std::string, std::string> layer_label = {
    {"0.weight", "conv1"}, {"3.weight", "conv2"}, {"7.weight", "fc1"}, {"9.weight", "fc2"}, {"11.weight", "fc3"}};
const nn::conv2d_options conv1_options{.in_channels = 1, .out_channels = 6, .kernel = 5, .stride = 1, .padding = 2};
const nn::conv2d_options conv2_options{.in_channels = 6, .out_channels = 16, .kernel = 5, .stride = 1, .padding = 0};

/// The search's choices. Block shapes are ordered by area, so the ordinal encoding puts similar
/// granularities side by side; 32 bits means float weights (no quantization); circulant k = 0
/// means the FC layers are BCR-pruned instead of block-circulant.
struct block_shape {
  index_t rows = 8, cols = 16;
};
const std::vector<block_shape> block_shapes = {{4, 8}, {8, 16}, {8, 32}, {16, 32}};
const std::vector<double> bit_choices = {2, 3, 4, 6, 8, 32};
const std::vector<double> circulant_choices = {0, 4, 8, 16, 32};
constexpr double min_ratio = 1, max_ratio = 40;

/// One point of the search space, decoded.
struct compression {
  double pruning_ratio = 1;  ///< weights ÷ kept weights over the BCR-pruned layers
  block_shape block;
  int bits = 32;
  index_t circulant_k = 0;  ///< 0: FC layers BCR-pruned

  [[nodiscard]] std::string describe() const {
    char s[96];
    std::snprintf(s, sizeof s, "ratio %5.2fx  blocks %2lldx%-2lld  bits %-5s  FC %s", pruning_ratio,
                  static_cast<long long>(block.rows), static_cast<long long>(block.cols),
                  bits == 32 ? "float" : std::to_string(bits).c_str(),
                  circulant_k ? ("circulant k=" + std::to_string(circulant_k)).c_str() : "BCR");
    return s;
  }
};

search::search_space make_space() {
  search::search_space space;
  space.add_continuous("pruning_ratio", min_ratio, max_ratio, true);
  std::vector<double> shape_index(block_shapes.size());
  for (std::size_t i = 0; i < shape_index.size(); ++i) shape_index[i] = static_cast<double>(i);
  space.add_ordinal("bcr_block", shape_index);
  space.add_ordinal("bits", bit_choices);
  space.add_ordinal("circulant_k", circulant_choices);
  return space;
}

compression decode(const search::point& x) {
  return {.pruning_ratio = x.at(0),
          .block = block_shapes.at(static_cast<std::size_t>(x.at(1))),
          .bits = static_cast<int>(x.at(2)),
          .circulant_k = static_cast<index_t>(x.at(3))};
}

/// A setting combination that cannot be built; the search records it as a failed evaluation.
class infeasible : public frugal::error {
 public:
  using frugal::error::error;
};

struct settings {
  std::string data_dir = "/usr/share/datasets/fashion-mnist";
  std::string out_dir = "compression_search_out";
  bool quick = false;
  bool progress = true;
  std::uint64_t seed = 1;
  int budget = 45;                // evaluations per method
  int dense_epochs = 10;          // the dense model every evaluation starts from
  int admm_epochs = 1;            // ADMM towards the BCR / block-circulant sets
  int retrain_epochs = 1;         // retraining through the compressed policies (quantization-aware when quantized)
  index_t updates_per_epoch = 8;  // ADMM Z/U updates per epoch
  int latency_reps = 41;
  index_t limit = 0;       // training images (0: all)
  index_t test_limit = 0;  // test images (0: all)
  index_t batch = 64;
  double allocation_exponent = 0.5;
  int initial_points = 10;           // MOBO's Latin-hypercube design before the models lead
  std::string acquisition = "ehvi";  // or parego
  double error_margin = 5.0;         // points of error above the dense model where the reference sits
};

struct context {
  const settings& cfg;
  nn::dataset_view train, test;
  frugal::examples::progress_bar* bar;
  nn::tensor<float> latency_batch;  // 64 test images, the input of every latency measurement
};

/// CPU time of the calling thread, in ms. Inference runs on this one thread, so this is its
/// latency without the time the scheduler of a shared machine gives to other processes, which
/// wall-clock timings on a loaded 2-core machine are dominated by.
double thread_cpu_ms() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return 1e3 * static_cast<double>(t.tv_sec) + 1e-6 * static_cast<double>(t.tv_nsec);
}

/// Median thread-CPU times (ms) of `a` and `b` after one warm-up each, measured interleaved, the
/// order within each pair drawn at random, so drifts and periodic interference hit both alike.
std::pair<double, double> interleaved_ms(const std::function<void()>& a, const std::function<void()>& b, int reps) {
  a();
  b();
  frugal::rng coin(12345);
  std::vector<double> ta, tb;
  auto time = [](const std::function<void()>& f) {
    const double t0 = thread_cpu_ms();
    f();
    return thread_cpu_ms() - t0;
  };
  for (int r = 0; r < reps; ++r) {
    if (coin.uniform() < 0.5) {
      ta.push_back(time(a));
      tb.push_back(time(b));
    } else {
      tb.push_back(time(b));
      ta.push_back(time(a));
    }
  }
  return {frugal::examples::median(ta), frugal::examples::median(tb)};
}

/// The three objectives (all minimised) of one evaluation, or why it failed.
struct evaluation {
  bool ok = false;
  std::string failure;
  double error_pct = 0;       ///< test error, 100 − accuracy in %
  double bytes = 0;           ///< stored weights and biases incl. index bitmaps and level tables
  double latency_ms = 0;      ///< the objective: dense baseline ms × (this model ÷ dense, timed interleaved)
  double raw_ms = 0;          ///< this model's median ms as measured
  double dense_now_ms = 0;    ///< the dense model's median ms in the same interleaved measurement
  index_t weight_values = 0;  ///< stored weight values (kept BCR entries, circulant vectors, conv1)
  double accuracy_hard = 0;   ///< test accuracy right after hardening (and quantizing), before retraining
  double seconds = 0;
};

/// The dense model's figures, which every evaluation is compared with.
struct baseline {
  double error_pct = 0, bytes = 0, latency_ms = 0;
  index_t weight_values = 0;
};

/// Refuses block shapes that do not fit inside every matrix they would tile: a clipped block is a
/// different granularity from the one the search asked for.
void check_fits(const compression& c, const nn::parameter_registry<float>& reg,
                const std::vector<std::string>& bcr_names) {
  for (const auto& name : bcr_names) {
    const auto& w = reg.at(name).value;
    if (c.block.rows > w.rows() || c.block.cols > w.cols())
      throw infeasible(std::to_string(c.block.rows) + "x" + std::to_string(c.block.cols) + " BCR blocks do not fit " +
                       layer_label.at(name) + " (" + std::to_string(w.rows()) + "x" + std::to_string(w.cols()) + ")");
  }
}

admm::bcr_sparsity bcr_for(const compression& c, double keep) {
  const double side = std::sqrt(keep);
  return {.block_rows = c.block.rows, .block_cols = c.block.cols, .row_keep_fraction = side, .col_keep_fraction = side};
}

bcr_policy bcr_policy_of(const nn::parameter<float>& p, const compression& c) {
  return bcr_policy(sparse::bcr_matrix<float>::from_mask(p.value, *p.mask, c.block.rows, c.block.cols));
}

/// `dense` after hardening rebuilt with the compressed weight policies: conv1 dense, conv2 BCR,
/// the FC layers BCR (from their masks) or block-circulant (their defining vectors read off the
/// hardened, already block-circulant matrices), biases copied.
template <class FcPolicy>
compressed_model<FcPolicy> rebuild(const nn::parameter_registry<float>& reg, const compression& c) {
  auto fc = [&](const std::string& name) {
    const auto& p = reg.at(name);
    if constexpr (std::is_same_v<FcPolicy, circulant_policy>) {
      circulant_policy policy(p.value.rows(), p.value.cols(), c.circulant_k);
      policy.weight().value = sparse::block_circulant_matrix<float>::from_dense(p.value, c.circulant_k).vectors();
      return nn::linear<float, FcPolicy>(std::move(policy));
    } else {
      return nn::linear<float, FcPolicy>(bcr_policy_of(p, c));
    }
  };
  compressed_model<FcPolicy> model(nn::conv2d<float>(conv1_options), nn::relu<float>(), nn::max_pool2d<float>(2, 2),
                                   nn::conv2d<float, bcr_policy>(conv2_options, bcr_policy_of(reg.at("3.weight"), c)),
                                   nn::relu<float>(), nn::max_pool2d<float>(2, 2), nn::flatten<float>(), fc("7.weight"),
                                   nn::relu<float>(), fc("9.weight"), nn::relu<float>(), fc("11.weight"));
  auto out = model.parameters();
  for (const auto& b : bias_names) out.at(b).value = reg.at(b).value;
  out.at("0.weight").value = reg.at("0.weight").value;
  return model;
}

/// Stored bits of a compressed model: conv1 dense, BCR layers as ADMM-NN-S accounts them (kept
/// values plus each block's row and column bitmaps), circulant layers their defining vectors; each
/// quantized layer at `bits` per value plus its level table (32 bits a level); biases as floats.
template <class FcPolicy>
double stored_bits(compressed_model<FcPolicy>& model, int bits, const std::map<std::string, index_t>& levels) {
  auto reg = model.parameters();
  auto options = [&](const std::string& name) {
    return admm::storage_options{.bits_per_value = bits,
                                 .level_table_entries = levels.contains(name) ? levels.at(name) : 0};
  };
  auto bcr_bits = [&](const std::string& name, const sparse::bcr_matrix<float>& m) {
    const auto mask = m.mask();
    const auto pattern = admm::bcr_pattern::of_mask(mask, m.block_rows(), m.block_cols());
    return admm::account_storage(name, mask, admm::storage_format::bcr, options(name), &pattern).total_bits();
  };
  const auto& w1 = reg.at("0.weight").value;
  double total = admm::account_storage("0.weight", nn::matrix<float>::Ones(w1.rows(), w1.cols()).eval(),
                                       admm::storage_format::dense, options("0.weight"))
                     .total_bits();
  total += bcr_bits("3.weight", model.template layer<3>().policy().matrix());
  auto fc_bits = [&](const std::string& name, const auto& layer) {
    if constexpr (std::is_same_v<FcPolicy, circulant_policy>) {
      const auto o = options(name);
      return static_cast<double>(o.bits_per_value) * static_cast<double>(layer.policy().weight().value.size()) +
             32.0 * static_cast<double>(o.level_table_entries);
    } else {
      return bcr_bits(name, layer.policy().matrix());
    }
  };
  total += fc_bits("7.weight", model.template layer<7>());
  total += fc_bits("9.weight", model.template layer<9>());
  total += fc_bits("11.weight", model.template layer<11>());
  for (const auto& b : bias_names) total += 32.0 * static_cast<double>(reg.at(b).value.size());
  return total;
}

/// Compresses a copy of the dense model as `c` says, retrains it, and measures the objectives.
/// The order of steps:
///  1. ADMM (admm_epochs) from the dense weights towards: BCR sparsity on conv2, and on fc1-fc3
///     unless they are block-circulant (then the block-circulant subspace of block size k);
///     the pruning ratio is shared over the BCR layers (bigger layers pruned harder);
///  2. hard projection, then the model is rebuilt with `bcr_weight` / `circulant_weight` policies
///     (the pruned zeros are no longer stored or multiplied);
///  3. with bits < 32, every weight parameter (conv1, the BCR kept values, the circulant vectors)
///     is quantized to its own uniform mid-rise level table, and the retraining is
///     quantization-aware (straight-through); otherwise plain retraining (retrain_epochs).
template <class FcPolicy>
evaluation compress_and_measure(const context& ctx, dense_model& dense, const baseline& base, const compression& c,
                                std::uint64_t seed) {
  const auto& cfg = ctx.cfg;
  constexpr bool circulant = std::is_same_v<FcPolicy, circulant_policy>;
  std::vector<std::string> bcr_names = {"3.weight"};
  if (!circulant) bcr_names.insert(bcr_names.end(), fc_names.begin(), fc_names.end());
  dense_model work = dense;
  auto reg = work.parameters();
  check_fits(c, reg, bcr_names);

  const auto keep = admm::allocate_keep_fractions(reg, bcr_names, c.pruning_ratio, cfg.allocation_exponent);
  admm::admm_state<float> state({.rho = 0.02,
                                 .rho_multiplier = 1.5,
                                 .rho_max = 2.0,
                                 .iterations = static_cast<int>(cfg.admm_epochs * cfg.updates_per_epoch),
                                 .epochs_per_iteration = 1});
  for (const auto& name : bcr_names) state.add(name, bcr_for(c, keep.at(name)));
  if constexpr (circulant)
    for (const auto& name : fc_names) state.add(name, admm::block_circulant{.block_size = c.circulant_k});
  frugal::rng gen(seed);
  {
    index_t iteration = 0;
    const auto cb = ctx.bar->callback("ADMM");
    admm::run_admm(
        state, reg, [] { return nn::sgd<float>({.learning_rate = 0.01f, .momentum = 0.9f}); },
        [&](auto& opt) {
          // Each ADMM iteration trains on the next 1/updates_per_epoch of the data.
          const index_t n = ctx.train.size(), parts = cfg.updates_per_epoch, k = iteration++ % parts;
          const index_t first = n * k / parts, last = n * (k + 1) / parts;
          nn::train_classifier_epoch(work, opt, ctx.train.slice(first, last - first), cfg.batch, gen, cb);
        },
        cb);
  }
  state.harden(reg);
  auto model = rebuild<FcPolicy>(reg, c);
  // Each BCR layer's micro-kernel picked for its inference shape (batch 64) by measurement.
  sparse::bcr_autotuner<float> tuner;
  auto tune = [&](auto& policy, index_t columns) {
    auto m = policy.matrix();
    policy.set_kernel(tuner.tune_kernel(m, columns));
  };
  tune(model.template layer<3>().policy(), 64 * 10 * 10);
  if constexpr (!circulant) {
    tune(model.template layer<7>().policy(), 64);
    tune(model.template layer<9>().policy(), 64);
    tune(model.template layer<11>().policy(), 64);
  }

  auto mreg = model.parameters();
  evaluation e;
  std::map<std::string, index_t> levels;
  const auto cb = ctx.bar->callback("retrain");
  if (c.bits < 32) {
    admm::uniform_quantization quantizer{.bits = c.bits, .zero_level = false};
    std::map<std::string, admm::quantized_matrix<float>, std::less<>> codes;
    std::map<std::string, nn::matrix<float>, std::less<>> shadow;
    for (const auto& name : weight_names) {
      auto& p = mreg.at(name);
      shadow[name] = p.value;
      codes[name] = quantizer.quantize(p.value);
      p.value = codes[name].reconstruct();
      levels[name] = static_cast<index_t>(codes[name].levels.size());
    }
    e.accuracy_hard = nn::evaluate_classifier(model, ctx.test).accuracy;
    admm::straight_through_optimizer ste(nn::adam<float>({.learning_rate = 2e-4f}), codes, std::move(shadow),
                                         {.scale_learning_rate = 1e-3});
    for (int k = 0; k < cfg.retrain_epochs; ++k) nn::train_classifier_epoch(model, ste, ctx.train, cfg.batch, gen, cb);
  } else {
    e.accuracy_hard = nn::evaluate_classifier(model, ctx.test).accuracy;
    nn::adam<float> opt({.learning_rate = 5e-4f});
    for (int k = 0; k < cfg.retrain_epochs; ++k) nn::train_classifier_epoch(model, opt, ctx.train, cfg.batch, gen, cb);
  }
  e.error_pct = 100 * (1 - nn::evaluate_classifier(model, ctx.test).accuracy);
  e.bytes = stored_bits(model, c.bits, levels) / 8;
  for (const auto& name : weight_names) e.weight_values += mreg.at(name).value.size();
  const auto& x = ctx.latency_batch;
  std::tie(e.dense_now_ms, e.raw_ms) =
      interleaved_ms([&] { dense.predict(x); }, [&] { model.predict(x); }, cfg.latency_reps);
  e.latency_ms = base.latency_ms * e.raw_ms / e.dense_now_ms;
  e.ok = true;
  return e;
}

/// The evaluation function of the search: a deterministic function of the settings (the training
/// seed is derived from them), so two methods that pick the same point see the same result.
evaluation evaluate(const context& ctx, dense_model& dense, const baseline& base, const compression& c) {
  const auto start = std::chrono::steady_clock::now();
  const std::uint64_t seed =
      ctx.cfg.seed * 1000003ULL + std::hash<std::string>{}(c.describe()) % 1000000007ULL;  // per setting
  evaluation e;
  try {
    e = c.circulant_k ? compress_and_measure<circulant_policy>(ctx, dense, base, c, seed)
                      : compress_and_measure<bcr_policy>(ctx, dense, base, c, seed);
  } catch (const infeasible& why) {
    e.ok = false;
    e.failure = why.what();
  }
  ctx.bar->clear();
  e.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return e;
}

/// One evaluation of a method, as the CSV and the report see it.
struct record {
  std::string method;
  int index = 0;
  compression settings;
  evaluation result;
  double ask_seconds = 0;  ///< what choosing the point took (the optimiser's ask, or one random draw)
};

/// The objectives as the search sees them: error (%), log10 of the stored bytes, latency (ms). The
/// bytes enter as a logarithm because compression is judged by ratios (a model 4x smaller is as
/// much better at 60 kB as at 15 kB) and they span two decades, which one Gaussian process over
/// raw bytes would model poorly.
Eigen::VectorXd objectives(const evaluation& e) {
  Eigen::VectorXd y(3);
  y << e.error_pct, std::log10(e.bytes), e.latency_ms;
  return y;
}

void print_record(const record& r, int budget) {
  if (r.result.ok)
    std::printf("%-6s %3d/%d  %s | error %6.2f %%  %9.0f B  %6.3f ms | %5.1f s + %4.1f s ask\n", r.method.c_str(),
                r.index + 1, budget, r.settings.describe().c_str(), r.result.error_pct, r.result.bytes,
                r.result.latency_ms, r.result.seconds, r.ask_seconds);
  else
    std::printf("%-6s %3d/%d  %s | FAILED: %s | %4.1f s ask\n", r.method.c_str(), r.index + 1, budget,
                r.settings.describe().c_str(), r.result.failure.c_str(), r.ask_seconds);
  std::fflush(stdout);
}

/// Indices (into `records`) of the successful evaluations no other successful one dominates.
std::vector<std::size_t> front_of(const std::vector<record>& records) {
  std::vector<std::size_t> ok;
  for (std::size_t i = 0; i < records.size(); ++i)
    if (records[i].result.ok) ok.push_back(i);
  Eigen::MatrixXd y(static_cast<index_t>(ok.size()), 3);
  for (std::size_t i = 0; i < ok.size(); ++i) y.row(static_cast<index_t>(i)) = objectives(records[ok[i]].result);
  std::vector<std::size_t> front;
  for (const index_t i : search::pareto_indices(y)) front.push_back(ok[static_cast<std::size_t>(i)]);
  std::sort(front.begin(), front.end(),
            [&](std::size_t a, std::size_t b) { return records[a].result.bytes < records[b].result.bytes; });
  return front;
}

/// Hypervolume of `front` (in the search's objectives) after mapping each objective affinely so that
/// `ideal` goes to 0 and `reference` to 1: the fraction of the box [ideal, reference] the front
/// dominates, comparable between methods measured in the same box.
double normalised_hypervolume(const std::vector<record>& records, const std::vector<std::size_t>& front,
                              const Eigen::VectorXd& ideal, const Eigen::VectorXd& reference) {
  // An empty front, or a box with no extent (every point at or past the reference), dominates nothing.
  if (front.empty() || ((reference - ideal).array() <= 0).any()) return 0;
  Eigen::MatrixXd y(static_cast<index_t>(front.size()), 3);
  for (std::size_t i = 0; i < front.size(); ++i)
    y.row(static_cast<index_t>(i)) =
        ((objectives(records[front[i]].result) - ideal).array() / (reference - ideal).array()).transpose();
  return search::hypervolume(y, Eigen::VectorXd::Ones(3));
}

void print_front(const std::string& method, const std::vector<record>& records, const std::vector<std::size_t>& front) {
  std::printf("\n%s Pareto front (%zu of %zu evaluations; by bytes):\n", method.c_str(), front.size(), records.size());
  std::printf("  %-4s %-58s %9s %10s %10s\n", "#", "settings", "error %", "bytes", "ms/64img");
  for (const auto i : front) {
    const auto& r = records[i];
    std::printf("  %-4d %-58s %9.2f %10.0f %10.3f\n", r.index + 1, r.settings.describe().c_str(), r.result.error_pct,
                r.result.bytes, r.result.latency_ms);
  }
}

}  // namespace

int main(int argc, char** argv) {
  settings cfg;
  CLI::App app{
      "Multi-objective Bayesian search over frugal's compression settings (BCR pruning ratio and block shape,\n"
      "quantization bits, block-circulant FC block size) on LeNet-5 / Fashion-MNIST, against random search with\n"
      "the same budget. Objectives, all minimised: test error, stored bytes (indices and level tables included),\n"
      "single-thread inference latency (batch 64). Writes a CSV of every evaluation."};
  app.add_option("--data", cfg.data_dir, "MNIST-format dataset directory")->capture_default_str();
  app.add_option("--out", cfg.out_dir, "Directory for the CSV")->capture_default_str();
  app.add_flag("--quick", cfg.quick,
               "Smoke run: 6,000 training and 2,000 test images, 3 dense epochs, 5 evaluations per method (for tests)");
  app.add_option("--budget", cfg.budget, "Evaluations per method")->capture_default_str()->check(CLI::Range(1, 10000));
  app.add_option("--seed", cfg.seed, "Seed of the dense model, the searches and the training")->capture_default_str();
  app.add_option("--dense-epochs", cfg.dense_epochs, "Epochs of the dense model every evaluation starts from")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000));
  app.add_option("--admm-epochs", cfg.admm_epochs, "ADMM epochs of each evaluation")
      ->capture_default_str()
      ->check(CLI::Range(1, 100));
  app.add_option("--retrain-epochs", cfg.retrain_epochs, "Retraining epochs of each evaluation")
      ->capture_default_str()
      ->check(CLI::Range(0, 100));
  app.add_option("--latency-reps", cfg.latency_reps, "Timed predict calls of each model (the median counts)")
      ->capture_default_str()
      ->check(CLI::Range(1, 100000));
  app.add_option("--limit", cfg.limit, "Use only the first N training images (0: all)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  app.add_option("--test-limit", cfg.test_limit, "Use only the first N test images (0: all)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  app.add_option("--initial-points", cfg.initial_points, "MOBO's initial design (Latin hypercube) before EHVI leads")
      ->capture_default_str()
      ->check(CLI::Range(1, 10000));
  app.add_option("--error-margin", cfg.error_margin,
                 "Points of test error above the dense model's at which the hypervolume reference sits: models\n"
                 "worse than that count for nothing, in MOBO's acquisition and in the reported hypervolume")
      ->capture_default_str()
      ->check(CLI::Range(0.01, 100.0));
  app.add_option("--acquisition", cfg.acquisition, "MOBO's acquisition: ehvi or parego")
      ->capture_default_str()
      ->check(CLI::IsMember({"ehvi", "parego"}));
  bool no_progress = false;
  app.add_flag("--no-progress", no_progress, "Do not draw progress bars");
  CLI11_PARSE(app, argc, argv);
  cfg.progress = !no_progress;
  if (cfg.quick) {
    cfg.limit = cfg.limit ? cfg.limit : 6000;
    cfg.test_limit = cfg.test_limit ? cfg.test_limit : 2000;
    cfg.dense_epochs = 3;
    cfg.budget = 5;
    cfg.initial_points = 3;
    cfg.latency_reps = 21;
  }

  // One thread throughout: the latency objective is single-thread inference, and training on the
  // same thread keeps it from competing with the timings. (The option is ignored by a Serial Kokkos.)
  std::vector<std::string> kokkos_args = {argv[0], "--kokkos-threads=1"};
  std::vector<char*> kokkos_argv;
  for (auto& a : kokkos_args) kokkos_argv.push_back(a.data());
  int kokkos_argc = static_cast<int>(kokkos_argv.size());
  Kokkos::ScopeGuard kokkos(kokkos_argc, kokkos_argv.data());
  Eigen::setNbThreads(1);
  try {
    const auto t0 = std::chrono::steady_clock::now();
    std::filesystem::create_directories(cfg.out_dir);
    const auto train = frugal::io::load_mnist(cfg.data_dir, frugal::io::mnist_split::train);
    const auto test = frugal::io::load_mnist(cfg.data_dir, frugal::io::mnist_split::test);
    const index_t n_train = cfg.limit > 0 ? std::min(cfg.limit, train.count) : train.count;
    const index_t n_test = cfg.test_limit > 0 ? std::min(cfg.test_limit, test.count) : test.count;
    frugal::examples::progress_bar bar(cfg.progress);
    context ctx{cfg, nn::dataset_view{train.pixels, train.labels, {28, 28, 1}}.slice(0, n_train),
                nn::dataset_view{test.pixels, test.labels, {28, 28, 1}}.slice(0, n_test), &bar,
                nn::tensor<float>({64, 28, 28, 1})};
    frugal::check(n_test >= 64, "compression_search: the latency batch needs 64 test images, have ", n_test);
    std::copy_n(ctx.test.inputs.begin(), 64 * 784, ctx.latency_batch.data());
    std::printf(
        "Compression search on LeNet-5 / Fashion-MNIST: %lld training images, %lld test images, %d evaluations per "
        "method, seed %llu, %d thread(s)\n",
        static_cast<long long>(n_train), static_cast<long long>(n_test), cfg.budget,
        static_cast<unsigned long long>(cfg.seed), frugal::concurrency(Kokkos::DefaultHostExecutionSpace{}));

    // The dense model every evaluation starts from, trained once.
    dense_model dense = nn::make_lenet5<float>(cfg.seed);
    {
      nn::adam<float> opt({.learning_rate = 1e-3f});
      frugal::rng gen(cfg.seed + 500);
      for (int e = 0; e < cfg.dense_epochs; ++e)
        nn::train_classifier_epoch(dense, opt, ctx.train, cfg.batch, gen, bar.callback("dense"));
    }
    bar.clear();
    baseline base;
    base.error_pct = 100 * (1 - nn::evaluate_classifier(dense, ctx.test).accuracy);
    {
      const auto reg = dense.parameters();
      base.bytes = 4.0 * static_cast<double>(reg.element_count());
      for (const auto& name : weight_names) base.weight_values += reg.at(name).value.size();
      const auto& x = ctx.latency_batch;
      // Twice the usual repetitions: every evaluation's latency is scaled by this figure.
      base.latency_ms =
          interleaved_ms([&] { dense.predict(x); }, [&] { dense.predict(x); }, 2 * cfg.latency_reps).first;
    }
    std::printf("dense (%d epochs): error %.2f %%, %.0f B, %.3f ms per 64 images (%.0f s)\n\n", cfg.dense_epochs,
                base.error_pct, base.bytes, base.latency_ms,
                std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    std::fflush(stdout);

    // Both methods spend the same budget on the same evaluation function; MOBO first.
    const auto space = make_space();
    // The hypervolume reference, in the search's objectives: a point counts once it is within
    // --error-margin points of the dense model's error, below 1.1x its bytes and 2x its latency, so
    // the dense model itself (and anything slightly larger or up to twice as slow) still
    // contributes. The reference is where EHVI stops caring: with it at 100 % error a 40x smaller
    // model at 20 % error is worth almost as much as one at 11 %, and the search spends its budget
    // there; a compression search is after models near the dense accuracy.
    Eigen::VectorXd reference(3);
    reference << std::min(100.0, base.error_pct + cfg.error_margin), std::log10(1.1 * base.bytes),
        2.0 * base.latency_ms;
    std::vector<record> mobo_records, random_records;
    {
      search::multi_objective_optimizer optimizer(
          space, 3,
          {.initial_points = std::min(cfg.initial_points, cfg.budget),
           .seed = cfg.seed,
           .acquisition = cfg.acquisition == "parego" ? search::mo_acquisition::parego : search::mo_acquisition::ehvi,
           .reference = reference});
      std::set<std::pair<double, double>> unbuildable;  // (block shape, circulant k) of failed points
      for (int i = 0; i < cfg.budget; ++i) {
        const auto t = std::chrono::steady_clock::now();
        const search::point x = optimizer.ask();
        const double ask_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
        const auto c = decode(x);
        mobo_records.push_back({"mobo", i, c, evaluate(ctx, dense, base, c), ask_seconds});
        if (mobo_records.back().result.ok) {
          optimizer.tell(x, objectives(mobo_records.back().result));
        } else {
          optimizer.tell_failed(x);
          // tell_failed rules out this exact point only, and the models learn nothing from it, so
          // EHVI would keep proposing its neighbours along the continuous ratio. Whether a setting
          // can be built depends on the layer shapes alone (block shape, and which layers BCR
          // tiles: the FC kind), never on the ratio or the bits: rule out every point sharing them.
          unbuildable.insert({x[1], x[3]});
          optimizer.set_constraint([&unbuildable](const search::point& p) {
            return !unbuildable.contains({p[1], p[3]});
          });
        }
        print_record(mobo_records.back(), cfg.budget);
      }
    }
    std::printf("\n");
    {
      frugal::rng gen(cfg.seed * 7919 + 13);
      for (int i = 0; i < cfg.budget; ++i) {
        const auto t = std::chrono::steady_clock::now();
        const auto c = decode(space.sample(gen));
        const double ask_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
        random_records.push_back({"random", i, c, evaluate(ctx, dense, base, c), ask_seconds});
        print_record(random_records.back(), cfg.budget);
      }
    }

    // The ideal corner of the normalisation box: each objective's best value over both methods,
    // so both fronts are measured in the same [0, 1]^3 box.
    Eigen::VectorXd ideal = reference;
    for (const auto* records : {&mobo_records, &random_records})
      for (const auto& r : *records)
        if (r.result.ok) ideal = ideal.cwiseMin(objectives(r.result));
    const auto mobo_front = front_of(mobo_records);
    const auto random_front = front_of(random_records);
    print_front("MOBO", mobo_records, mobo_front);
    print_front("random", random_records, random_front);
    auto failures = [](const std::vector<record>& records) {
      return std::count_if(records.begin(), records.end(), [](const record& r) { return !r.result.ok; });
    };
    const double hv_mobo = normalised_hypervolume(mobo_records, mobo_front, ideal, reference);
    const double hv_random = normalised_hypervolume(random_records, random_front, ideal, reference);
    std::printf(
        "\nhypervolume over (error %%, log10 bytes, latency ms), each mapped to [0, 1] by ideal -> 0 and reference "
        "-> 1\n(ideal %.2f %% / %.0f B / %.3f ms: best of both methods; reference %.0f %% / %.0f B / %.3f ms):\n",
        ideal(0), std::pow(10.0, ideal(1)), ideal(2), reference(0), std::pow(10.0, reference(1)), reference(2));
    std::printf("  MOBO   %.4f  (%td failed evaluations)\n", hv_mobo, failures(mobo_records));
    std::printf("  random %.4f  (%td failed evaluations)\n", hv_random, failures(random_records));
    // The reference of earlier runs (any model below 100 % error counts), reported beside it.
    Eigen::VectorXd wide_reference = reference;
    wide_reference(0) = 100.0;
    std::printf("  with the reference at 100 %% error instead: MOBO %.4f, random %.4f\n",
                normalised_hypervolume(mobo_records, mobo_front, ideal, wide_reference),
                normalised_hypervolume(random_records, random_front, ideal, wide_reference));
    // Front against front, over the points the hypervolume counts (inside the reference box): how
    // many of one front's points some point of the other front dominates.
    auto inside = [&](const std::vector<record>& records, const std::vector<std::size_t>& front) {
      std::vector<std::size_t> in;
      for (const auto i : front)
        if ((objectives(records[i].result).array() < reference.array()).all()) in.push_back(i);
      return in;
    };
    auto dominated_by = [](const std::vector<record>& a, const std::vector<std::size_t>& fa,
                           const std::vector<record>& b, const std::vector<std::size_t>& fb) {
      int n = 0;
      for (const auto i : fa)
        n += std::any_of(fb.begin(), fb.end(), [&](std::size_t j) {
          return search::dominates(objectives(b[j].result), objectives(a[i].result));
        });
      return n;
    };
    const auto mobo_in = inside(mobo_records, mobo_front);
    const auto random_in = inside(random_records, random_front);
    const int random_beaten = dominated_by(random_records, random_in, mobo_records, mobo_front);
    const int mobo_beaten = dominated_by(mobo_records, mobo_in, random_records, random_front);
    std::printf(
        "  MOBO's front %s random's: hypervolume %+.4f; inside the reference box, %d of random's %zu front points "
        "are dominated by MOBO's front, %d of MOBO's %zu by random's\n",
        hv_mobo > hv_random ? "beats" : (hv_mobo == hv_random ? "ties" : "does not beat"), hv_mobo - hv_random,
        random_beaten, random_in.size(), mobo_beaten, mobo_in.size());

    std::printf("\nsmaller and faster than dense within 1 point of its accuracy (error <= %.2f %%):\n",
                base.error_pct + 1);
    int qualifying = 0;
    for (const auto* records : {&mobo_records, &random_records})
      for (const auto& r : *records)
        if (r.result.ok && r.result.error_pct <= base.error_pct + 1 && r.result.bytes < base.bytes &&
            r.result.latency_ms < base.latency_ms) {
          ++qualifying;
          std::printf("  %-6s #%-3d %s | error %.2f %%, %.1fx smaller, %.2fx faster\n", r.method.c_str(), r.index + 1,
                      r.settings.describe().c_str(), r.result.error_pct, base.bytes / r.result.bytes,
                      base.latency_ms / r.result.latency_ms);
        }
    if (!qualifying) std::printf("  none\n");

    const std::string csv_path = cfg.out_dir + "/compression_search.csv";
    std::ofstream csv(csv_path);
    csv << "method,index,pruning_ratio,block_rows,block_cols,bits,circulant_k,status,error_pct,bytes,latency_ms,"
           "raw_ms,dense_interleaved_ms,weight_values,accuracy_before_retrain,seconds,ask_seconds,pareto\n";
    csv << "dense,0,1,,,32,0,ok," << base.error_pct << "," << base.bytes << "," << base.latency_ms << ","
        << base.latency_ms << "," << base.latency_ms << "," << base.weight_values << ",,0,0,\n";
    auto write = [&](const std::vector<record>& records, const std::vector<std::size_t>& front) {
      for (std::size_t i = 0; i < records.size(); ++i) {
        const auto& r = records[i];
        const auto& s = r.settings;
        csv << r.method << "," << r.index + 1 << "," << s.pruning_ratio << "," << s.block.rows << "," << s.block.cols
            << "," << s.bits << "," << s.circulant_k << "," << (r.result.ok ? "ok" : "failed") << ",";
        if (r.result.ok)
          csv << r.result.error_pct << "," << r.result.bytes << "," << r.result.latency_ms << "," << r.result.raw_ms
              << "," << r.result.dense_now_ms << "," << r.result.weight_values << "," << 100 * r.result.accuracy_hard
              << ",";
        else
          csv << ",,,,,,,";
        csv << r.result.seconds << "," << r.ask_seconds << ","
            << (std::find(front.begin(), front.end(), i) != front.end() ? 1 : 0) << "\n";
      }
    };
    write(mobo_records, mobo_front);
    write(random_records, random_front);
    csv.close();
    if (!csv) throw frugal::error("compression_search: could not write " + csv_path);
    std::printf("\nwrote %s; figure: python3 %s %s; total wall time %.0f s\n", csv_path.c_str(), FRUGAL_PLOT_SCRIPT,
                csv_path.c_str(), std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "compression_search: %s\n", e.what());
    return 1;
  }
}
