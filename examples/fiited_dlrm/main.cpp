// FIITED on DLRM: the same click-through model trained with full tables, uniform-dimension
// reduction, AdaEmbed-style row pruning, the hashing trick and FIITED adaptive tables at equal
// memory budgets, and the full tables with compressed MLPs (a block-circulant top MLP, BCR bottom
// and top MLPs). Synthetic click log by default, a Criteo TSV file with --criteo.
//
//   fiited_dlrm                      3 seeds, budgets 25/10/5 %, synthetic click log
//   fiited_dlrm --quick              small data, one seed (used by the tests)
//   fiited_dlrm --criteo train.txt   real data (the last 10 % of the lines are the test set)

#include <frugal/embedding.hpp>
#include <frugal/embedding/criteo.hpp>
#include <frugal/sparse/bcr_weight.hpp>
#include <frugal/sparse/circulant_weight.hpp>

#include <CLI/CLI.hpp>
#include <Kokkos_Core.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <unistd.h>

#include "../common/jobs.hpp"
#include "../common/progress_bar.hpp"
#include "../common/stats.hpp"

using namespace frugal;
using namespace frugal::embedding;
using frugal::examples::progress_bar;

namespace {

struct config {
  index_t train = 6'000'000;
  index_t test = 200'000;
  index_t dim = 16;
  index_t chunk = 4;
  index_t batch = 256;
  index_t epochs = 1;
  float table_lr = 0.05f;
  float mlp_lr = 1e-3f;
  int seeds = 3;
  bool one_job_at_a_time = false;
  std::vector<double> budgets = {0.25, 0.10, 0.05};
  double new_row_room = budget_options{}.new_row_room;
  synthetic_options synthetic = {};
  std::vector<std::string> methods = {"full", "uniform", "hashed", "row", "adaptive", "circulant-mlp", "bcr-mlp"};
  index_t circulant_block = 8;
  double bcr_keep = 0.5;
  std::string criteo;
  std::string out_dir = "fiited_dlrm_out";
  bool progress = true;
  bool rss = true;
};

struct dataset_pair {
  click_dataset train, test;
};

struct result {
  std::string method;
  double budget = 1.0;
  int seed = 0;
  std::size_t bytes = 0;
  std::size_t mlp_bytes = 0;
  double percent = 0;
  double auc = 0, logloss = 0, examples_per_s = 0;
  std::size_t live_parameters = 0;
  double seconds = 0;
};

std::size_t rss_bytes() {
  std::ifstream statm("/proc/self/statm");
  std::size_t size = 0, resident = 0;
  statm >> size >> resident;
  return resident * static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
}

dense_table_options dense_options(const config& c, int seed, index_t stored) {
  return dense_table_options{
      .stored_dim = stored, .optimizer = {.learning_rate = c.table_lr}, .seed = static_cast<std::uint64_t>(seed)};
}

std::size_t full_bytes(const config& c, const std::vector<index_t>& cards) {
  std::size_t total = 0;
  for (index_t n : cards) total += full_table<>::bytes_for(n, c.dim, optimizer_kind::rowwise_adagrad);
  return total;
}

/// The MLPs' weights: dense; a block-circulant top MLP (the wide one, fed by the interactions);
/// or BCR bottom and top MLPs on a fixed random pattern of 4×4 blocks.
enum class mlp_kind { dense, circulant_top, bcr };

template <class Table>
std::unique_ptr<dlrm<Table>> make_model(const config& c, const dataset_pair& data, std::vector<Table> tables,
                                        mlp_kind mlp, rng& gen) {
  const dlrm_options widths{.bottom = {64}, .top = {64}};
  const auto features = data.train.dense_features;
  switch (mlp) {
    case mlp_kind::circulant_top:
      return std::make_unique<dlrm<Table>>(features, std::move(tables), widths, nn::dense_factory<float>{},
                                           sparse::circulant_factory<float>{.block_size = c.circulant_block}, gen);
    case mlp_kind::bcr: {
      const sparse::bcr_sparsity pattern{
          .block_rows = 4, .block_cols = 4, .row_keep_fraction = c.bcr_keep, .col_keep_fraction = c.bcr_keep};
      const std::uint64_t bottom_seed = gen.next();
      const std::uint64_t top_seed = gen.next();
      return std::make_unique<dlrm<Table>>(features, std::move(tables), widths,
                                           sparse::bcr_factory<float>(pattern, bottom_seed),
                                           sparse::bcr_factory<float>(pattern, top_seed), gen);
    }
    case mlp_kind::dense:
    default:
      return std::make_unique<dlrm<Table>>(features, std::move(tables), widths, gen);
  }
}

template <class Table>
result train_and_evaluate(const config& c, const dataset_pair& data, int seed, std::vector<Table> tables,
                          const std::string& label, progress_bar& bar,
                          std::function<void(dlrm<Table>&, index_t)> hook = {},
                          std::function<void(dlrm<Table>&)> finish = {}, mlp_kind mlp = mlp_kind::dense) {
  rng gen(static_cast<std::uint64_t>(seed) * 7919);
  auto model = make_model(c, data, std::move(tables), mlp, gen);
  click_train_options o{.batch = c.batch, .learning_rate = c.mlp_lr, .seed = static_cast<std::uint64_t>(seed)};
  if (c.progress) o.progress = [&bar, label](const progress_event& e) { bar.draw(label, e); };
  typename click_trainer<Table>::step_hook step_hook;
  if (hook) step_hook = [&](index_t step) { hook(*model, step); };
  click_trainer<Table> trainer(*model, data.train, o, step_hook);
  const auto t0 = std::chrono::steady_clock::now();
  trainer.run(trainer.steps_per_epoch() * c.epochs);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (finish) finish(*model);
  const auto m = evaluate(*model, data.test);
  result r;
  r.seed = seed;
  r.bytes = model->embedding_bytes();
  r.mlp_bytes = model->mlp_parameter_bytes();
  r.auc = m.auc;
  r.logloss = m.logloss;
  r.seconds = seconds;
  r.examples_per_s = static_cast<double>(trainer.steps_per_epoch() * c.epochs * c.batch) / seconds;
  return r;
}

using fiited = adaptive_table<fiited_importance>;

result run_adaptive(const config& c, const dataset_pair& data, int seed, double budget, prune_granularity g,
                    const std::string& label, progress_bar& bar, bool report_rss) {
  const auto& cards = data.train.cardinalities;
  std::vector<fiited> tables;
  for (index_t n : cards)
    tables.emplace_back(n, c.dim,
                        adaptive_table_options{.chunk_width = c.chunk,
                                               .optimizer = {.learning_rate = c.table_lr},
                                               .seed = static_cast<std::uint64_t>(seed)});
  const std::size_t reference = full_bytes(c, cards);
  const index_t steps = data.train.size() / c.batch * c.epochs;
  const budget_options bo{.granularity = g,
                          .target_fraction = budget,
                          .interval = std::max<index_t>(10, steps / 40),
                          .warmup = steps / 10,
                          .ramp = steps * 4 / 10,
                          .decay = 0.8f,
                          .new_row_room = c.new_row_room};
  std::unique_ptr<budget_controller<fiited>> controller;
  std::size_t rss_before = 0, table_before = 0;
  std::size_t live = 0;
  auto hook = [&](dlrm<fiited>& model, index_t step) {
    if (!controller) {
      std::vector<fiited*> ptrs;
      for (auto& t : model.tables()) ptrs.push_back(&t);
      controller = std::make_unique<budget_controller<fiited>>(ptrs, reference, bo);
    }
    // Resident memory when the tables are largest (at the start of a round), for the report.
    if (report_rss && step >= bo.warmup && (step - bo.warmup) % bo.interval == 0 &&
        controller->total_bytes() > table_before) {
      table_before = controller->total_bytes();
      rss_before = rss_bytes();
    }
    controller->on_step(step);
  };
  auto finish = [&](dlrm<fiited>& model) {
    (void)model;
    if (controller) controller->round(steps, budget);  // the final state meets the target exactly
    for (const auto& t : model.tables()) live += t.live_parameters();
    if (report_rss)
      std::printf(
          "  RSS (%s): %.0f MiB when the tables were largest (%.1f MiB), %.0f MiB after the last round "
          "(tables %.1f MiB)\n",
          label.c_str(), static_cast<double>(rss_before) / 1048576.0, static_cast<double>(table_before) / 1048576.0,
          static_cast<double>(rss_bytes()) / 1048576.0,
          static_cast<double>(controller ? controller->total_bytes() : 0) / 1048576.0);
  };
  auto r = train_and_evaluate<fiited>(c, data, seed, std::move(tables), label, bar, hook, finish);
  r.live_parameters = live;
  return r;
}

std::string budget_text(double b) {
  char text[32];
  std::snprintf(text, sizeof text, "%g %%", b * 100);
  return text;
}

}  // namespace

int main(int argc, char** argv) {
  config cfg;
  CLI::App app{
      "FIITED adaptive embedding tables on DLRM: full, uniform-dimension, hashed, row-pruned and adaptive "
      "tables at equal memory budgets"};
  bool quick = false, no_progress = false;
  app.add_flag("--quick", quick, "Small data and one seed (about a minute)");
  app.add_option("--train", cfg.train, "Training examples (synthetic)")->check(CLI::PositiveNumber);
  app.add_option("--test", cfg.test, "Test examples (synthetic)")->check(CLI::PositiveNumber);
  app.add_option("--dim", cfg.dim, "Embedding dimension")->check(CLI::PositiveNumber);
  app.add_option("--chunk", cfg.chunk, "Chunk width of the adaptive tables")->check(CLI::PositiveNumber);
  app.add_option("--batch", cfg.batch, "Mini-batch size")->check(CLI::PositiveNumber);
  app.add_option("--epochs", cfg.epochs, "Passes over the training data")->check(CLI::PositiveNumber);
  app.add_option("--table-lr", cfg.table_lr, "Row-wise Adagrad learning rate of the tables");
  app.add_option("--mlp-lr", cfg.mlp_lr, "Adam learning rate of the MLPs");
  app.add_option("--seeds", cfg.seeds, "Seeds (medians are reported)")->check(CLI::PositiveNumber);
  app.add_flag("--one-job-at-a-time", cfg.one_job_at_a_time,
               "Train the runs one after another, each on every thread (default: the runs are spread over the "
               "threads, one thread each; threads: OMP_NUM_THREADS or --kokkos-threads=N)");
  app.add_option("--budgets", cfg.budgets, "Memory budgets as fractions of the full tables' bytes");
  app.add_option("--new-row-room", cfg.new_row_room,
                 "Room each adaptive table's index keeps after a round for new rows, as a fraction of the rows it "
                 "keeps (counted in the budget; new ids beyond it wait for the next round)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--methods", cfg.methods,
                 "Subset of full, uniform, hashed, row, adaptive, circulant-mlp (full tables, block-circulant top "
                 "MLP), bcr-mlp (full tables, BCR bottom and top MLPs)");
  app.add_option("--circulant-block", cfg.circulant_block, "Block size of the circulant top MLP (a power of two)")
      ->check(CLI::PositiveNumber);
  app.add_option("--bcr-keep", cfg.bcr_keep, "Fraction of rows and of columns the BCR MLPs keep in each 4x4 block")
      ->check(CLI::Range(0.0, 1.0));
  app.add_option("--zipf", cfg.synthetic.zipf_exponent, "Synthetic: Zipf exponent of the ids");
  app.add_option("--teacher-linear", cfg.synthetic.linear_scale, "Synthetic: weight of the per-row (linear) effects");
  app.add_option("--teacher-pairwise", cfg.synthetic.pairwise_scale, "Synthetic: weight of the pairwise effects");
  app.add_option("--criteo", cfg.criteo, "Criteo Kaggle/Terabyte TSV (optionally .gz); last 10 % of lines = test");
  app.add_option("--out", cfg.out_dir, "Output folder for the CSV");
  app.add_flag("--no-progress", no_progress, "Do not draw progress bars");
  CLI11_PARSE(app, argc, argv);
  cfg.progress = !no_progress;
  Kokkos::ScopeGuard kokkos(argc, argv);
  if (quick) {
    cfg.train = std::min<index_t>(cfg.train, 60'000);
    cfg.test = std::min<index_t>(cfg.test, 20'000);
    cfg.seeds = 1;
    cfg.budgets = {0.10};
  }
  for (double b : cfg.budgets)
    if (!(b > 0 && b <= 1)) {
      std::fprintf(stderr, "fiited_dlrm: budget %g is not in (0, 1]\n", b);
      return 2;
    }
  for (const auto& m : cfg.methods)
    if (m != "full" && m != "uniform" && m != "hashed" && m != "row" && m != "adaptive" && m != "circulant-mlp" &&
        m != "bcr-mlp") {
      std::fprintf(stderr, "fiited_dlrm: unknown method '%s'\n", m.c_str());
      return 2;
    }
  std::filesystem::create_directories(cfg.out_dir);
  const auto wall0 = std::chrono::steady_clock::now();

  // ---- data ------------------------------------------------------------------------------------
  std::vector<dataset_pair> data(static_cast<std::size_t>(cfg.seeds));
  try {
    if (!cfg.criteo.empty()) {
      criteo_report report;
      criteo_options co;
      co.default_buckets = index_t{1} << 20;
      auto all = read_criteo(cfg.criteo, co, &report);
      std::printf(
          "Criteo file %s: %llu lines, %llu examples, %llu malformed (%llu field count, %llu label, %llu "
          "integer, %llu categorical)\n",
          cfg.criteo.c_str(), static_cast<unsigned long long>(report.lines),
          static_cast<unsigned long long>(report.examples), static_cast<unsigned long long>(report.malformed),
          static_cast<unsigned long long>(report.wrong_field_count), static_cast<unsigned long long>(report.bad_label),
          static_cast<unsigned long long>(report.bad_integer), static_cast<unsigned long long>(report.bad_categorical));
      for (const auto& p : report.first_problems)
        std::printf("  line %llu: %s\n", static_cast<unsigned long long>(p.line), p.reason.c_str());
      const index_t n_test = all.size() / 10;
      dataset_pair pair;
      pair.train.dense_features = pair.test.dense_features = all.dense_features;
      pair.train.sparse_features = pair.test.sparse_features = all.sparse_features;
      pair.train.cardinalities = pair.test.cardinalities = all.cardinalities;
      for (index_t i = 0; i < all.size(); ++i) (i < all.size() - n_test ? pair.train : pair.test).append(all, i);
      for (auto& d : data) d = pair;
    } else {
      for (int s = 0; s < cfg.seeds; ++s) {
        synthetic_options so = cfg.synthetic;
        so.seed = static_cast<std::uint64_t>(s + 1);
        const synthetic_clicks gen(so);
        data[static_cast<std::size_t>(s)].train = gen.generate(0, cfg.train);
        data[static_cast<std::size_t>(s)].test = gen.generate(cfg.train, cfg.test);
      }
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fiited_dlrm: %s\n", e.what());
    return 1;
  }
  // Refuse inputs that cannot make one batch before any training starts.
  for (const auto& d : data) {
    if (d.train.size() < cfg.batch) {
      std::fprintf(stderr,
                   "fiited_dlrm: the training split holds %lld examples, fewer than one batch of %lld; pass --batch "
                   "%lld or less, or give more data\n",
                   static_cast<long long>(d.train.size()), static_cast<long long>(cfg.batch),
                   static_cast<long long>(std::max<index_t>(1, d.train.size())));
      return 1;
    }
    if (d.test.size() == 0) {
      std::fprintf(stderr, "fiited_dlrm: the test split is empty (%lld examples in all); give more data\n",
                   static_cast<long long>(d.train.size()));
      return 1;
    }
  }
  const auto& cards = data.front().train.cardinalities;
  std::size_t rows = 0;
  for (index_t n : cards) rows += static_cast<std::size_t>(n);
  const std::size_t reference = full_bytes(cfg, cards);
  double ctr = 0;
  for (float l : data.front().train.labels) ctr += l;
  std::printf(
      "data: %s, %lld train / %lld test examples, %zu fields, %zu rows in all, CTR %.3f; dim %lld, chunk %lld; "
      "full tables %.1f MiB\n",
      cfg.criteo.empty() ? "synthetic click log (planted teacher)" : "Criteo",
      static_cast<long long>(data.front().train.size()), static_cast<long long>(data.front().test.size()), cards.size(),
      rows, ctr / static_cast<double>(data.front().train.size()), static_cast<long long>(cfg.dim),
      static_cast<long long>(cfg.chunk), static_cast<double>(reference) / 1048576.0);

  // ---- jobs ------------------------------------------------------------------------------------
  struct job {
    std::string method;
    double budget;
    int seed;
  };
  std::vector<job> jobs;
  auto wanted = [&](const std::string& m) {
    return std::find(cfg.methods.begin(), cfg.methods.end(), m) != cfg.methods.end();
  };
  for (int s = 1; s <= cfg.seeds; ++s) {
    for (const char* m : {"full", "circulant-mlp", "bcr-mlp"})
      if (wanted(m)) jobs.push_back({m, 1.0, s});
    for (double b : cfg.budgets)
      for (const char* m : {"adaptive", "row", "hashed", "uniform"})
        if (wanted(m)) jobs.push_back({m, b, s});
  }
  std::vector<result> results(jobs.size());
  progress_bar bar(cfg.progress);
  std::mutex print_mutex;
  // Resident memory is the process's: it can be attributed to one run only when runs do not overlap.
  const bool report_rss =
      (cfg.one_job_at_a_time || frugal::concurrency(Kokkos::DefaultHostExecutionSpace{}) == 1) && cfg.rss;
  auto run = [&](std::size_t k) {
    {
      const job& j = jobs[k];
      const auto& d = data[static_cast<std::size_t>(j.seed - 1)];
      char label[64];
      std::snprintf(label, sizeof label, "%s %g%% seed %d", j.method.c_str(), j.budget * 100, j.seed);
      result r;
      if (j.method == "full" || j.method == "circulant-mlp" || j.method == "bcr-mlp") {
        std::vector<full_table<>> t;
        for (index_t n : cards) t.emplace_back(n, cfg.dim, dense_options(cfg, j.seed, cfg.dim));
        const mlp_kind mlp = j.method == "full"            ? mlp_kind::dense
                             : j.method == "circulant-mlp" ? mlp_kind::circulant_top
                                                           : mlp_kind::bcr;
        r = train_and_evaluate<full_table<>>(cfg, d, j.seed, std::move(t), label, bar, {}, {}, mlp);
        r.live_parameters = rows * static_cast<std::size_t>(cfg.dim);
      } else if (j.method == "uniform") {
        // The widest uniform dimension whose tables fit the budget (0 when not even one fits).
        index_t stored = cfg.dim;
        auto bytes = [&](index_t sd) {
          std::size_t total = 0;
          for (index_t n : cards) total += full_table<>::bytes_for(n, sd, optimizer_kind::rowwise_adagrad);
          return total;
        };
        while (stored > 0 && static_cast<double>(bytes(stored)) > j.budget * static_cast<double>(reference)) --stored;
        std::vector<full_table<>> t;
        for (index_t n : cards) t.emplace_back(n, cfg.dim, dense_options(cfg, j.seed, stored));
        r = train_and_evaluate<full_table<>>(cfg, d, j.seed, std::move(t), label, bar);
        r.live_parameters = rows * static_cast<std::size_t>(stored);
      } else if (j.method == "hashed") {
        // Every field shrunk by the same factor into buckets (small fields stay whole).
        auto buckets_for = [&](double factor, index_t n) {
          return std::clamp<index_t>(static_cast<index_t>(factor * static_cast<double>(n)), 1, n);
        };
        auto bytes = [&](double factor) {
          std::size_t total = 0;
          for (index_t n : cards)
            total += hashed_table<>::bytes_for(buckets_for(factor, n), cfg.dim, optimizer_kind::rowwise_adagrad);
          return total;
        };
        double lo = 0, hi = 1;
        for (int it = 0; it < 50; ++it) {
          const double mid = 0.5 * (lo + hi);
          (static_cast<double>(bytes(mid)) <= j.budget * static_cast<double>(reference) ? lo : hi) = mid;
        }
        std::vector<hashed_table<>> t;
        std::size_t live = 0;
        for (index_t n : cards) {
          t.emplace_back(n, buckets_for(lo, n), cfg.dim, dense_options(cfg, j.seed, cfg.dim));
          live += static_cast<std::size_t>(buckets_for(lo, n) * cfg.dim);
        }
        r = train_and_evaluate<hashed_table<>>(cfg, d, j.seed, std::move(t), label, bar);
        r.live_parameters = live;
      } else {
        const bool rss_here = report_rss && j.method == "adaptive" && j.budget == 0.10 && j.seed == 1;
        r = run_adaptive(cfg, d, j.seed, j.budget,
                         j.method == "row" ? prune_granularity::row : prune_granularity::chunk, label, bar, rss_here);
      }
      r.method = j.method;
      r.budget = j.budget;
      r.percent = 100.0 * static_cast<double>(r.bytes) / static_cast<double>(reference);
      results[k] = r;
      std::lock_guard lock(print_mutex);
      if (cfg.progress) std::fprintf(stderr, "\r\033[K");
      std::printf(
          "  %-28s bytes %8.2f MiB (%6.2f %% of full)  MLP %6.1f KiB  AUC %.4f  logloss %.4f  %6.0f ex/s  %.0f s\n",
          label, static_cast<double>(r.bytes) / 1048576.0, r.percent, static_cast<double>(r.mlp_bytes) / 1024.0, r.auc,
          r.logloss, r.examples_per_s, r.seconds);
      std::fflush(stdout);
    }
  };
  try {
    examples::run_jobs(jobs.size(),
                       cfg.one_job_at_a_time ? examples::job_schedule::one_at_a_time : examples::job_schedule::spread,
                       run);
  } catch (const std::exception& e) {
    bar.clear();
    std::fprintf(stderr, "fiited_dlrm: %s\n", e.what());
    return 1;
  }

  // ---- report ----------------------------------------------------------------------------------
  std::ofstream csv(cfg.out_dir + "/fiited_dlrm.csv");
  csv << "method,budget,seed,bytes,percent_of_full,auc,logloss,examples_per_s,live_parameters,mlp_bytes\n";
  for (const auto& r : results)
    csv << r.method << ',' << r.budget << ',' << r.seed << ',' << r.bytes << ',' << r.percent << ',' << r.auc << ','
        << r.logloss << ',' << r.examples_per_s << ',' << r.live_parameters << ',' << r.mlp_bytes << '\n';
  auto median_of = [&](const std::string& m, double b, auto field) {
    std::vector<double> v;
    for (const auto& r : results)
      if (r.method == m && r.budget == b) v.push_back(field(r));
    return v.empty() ? std::nan("") : examples::median(v);
  };
  // ΔAUC is paired: the median over seeds of (method's AUC − the full tables' AUC on that seed).
  auto paired_delta = [&](const std::string& m, double b) {
    std::vector<double> v;
    for (const auto& r : results)
      if (r.method == m && r.budget == b)
        for (const auto& f : results)
          if (f.method == "full" && f.seed == r.seed) v.push_back(r.auc - f.auc);
    return v.empty() ? std::nan("") : examples::median(v);
  };
  std::printf("\nmedians over %d seed(s); ΔAUC = median over seeds of (AUC − full tables' AUC on the same seed)\n\n",
              cfg.seeds);
  std::printf("| method | budget | bytes | %% of full | MLP bytes | AUC | ΔAUC | logloss | examples/s |\n");
  std::printf("|---|---|---|---|---|---|---|---|---|\n");
  auto row = [&](const std::string& m, double b) {
    const double auc = median_of(m, b, [](const result& r) { return r.auc; });
    if (std::isnan(auc)) return;
    const double delta = paired_delta(m, b);
    char delta_text[32] = "— (no full run)";
    if (!std::isnan(delta)) std::snprintf(delta_text, sizeof delta_text, "%+.4f", delta);
    std::printf("| %s | %s | %.2f MiB | %.2f | %.1f KiB | %.4f | %s | %.4f | %.0f |\n", m.c_str(),
                b == 1.0 ? "—" : budget_text(b).c_str(),
                median_of(m, b, [](const result& r) { return static_cast<double>(r.bytes); }) / 1048576.0,
                median_of(m, b, [](const result& r) { return r.percent; }),
                median_of(m, b, [](const result& r) { return static_cast<double>(r.mlp_bytes); }) / 1024.0, auc,
                delta_text, median_of(m, b, [](const result& r) { return r.logloss; }),
                median_of(m, b, [](const result& r) { return r.examples_per_s; }));
  };
  for (const char* m : {"full", "circulant-mlp", "bcr-mlp"}) row(m, 1.0);
  for (double b : cfg.budgets)
    for (const char* m : {"adaptive", "row", "hashed", "uniform"}) row(m, b);

  // examples/fiited_dlrm/plot.py draws AUC against the memory budget from the CSV.
  csv.close();
  std::printf("\nwrote %s/fiited_dlrm.csv; figure: python3 %s %s/fiited_dlrm.csv; total wall time %.0f s\n",
              cfg.out_dir.c_str(), FRUGAL_PLOT_SCRIPT, cfg.out_dir.c_str(),
              std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count());
  return 0;
}
