// Pooled lookup and lookup + fused update throughput of frugal's embedding tables beside
// torch.nn.EmbeddingBag (same indices) and the memory-traffic floor: first on one thread (frugal on
// Kokkos::Serial, PyTorch with one thread), then, when the default host space is parallel
// (Kokkos::OpenMP in the release preset), on its N threads beside PyTorch with N threads and the
// speedups over one thread.
//
//   bench_embedding                 dims 16-128, pooling factors 1-40, batch 2048, 500k rows
//   bench_embedding --rows 100000 --reps 5
//   bench_embedding --batches 1     time one batch over and over (its rows stay in cache)
//
// Every timed call takes the next of `--batches` different batches (16 by default), as training
// does, so that a batch does not find its rows in cache because the same batch ran just before.
// Floor: bytes of the rows a batch touches (indices × dim × 4) ÷ the copy bandwidth measured in
// the same run (forward); lookup + update reads the rows twice and writes them once (3× that).
// The adaptive table has every chunk live; its index is direct then (`index_layout::automatic`),
// and a second table repeats it with the hashed index that a pruned table uses.

#include <frugal/core/rng.hpp>
#include <frugal/embedding.hpp>

#include <Kokkos_Core.hpp>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "../common/timing.hpp"

using namespace frugal;
using namespace frugal::embedding;

namespace {

/// Seconds to copy `bytes` once (read + write), median of several copies of a 256 MiB buffer.
double copy_bandwidth() {
  const std::size_t n = std::size_t{256} << 20;
  std::vector<char> a(n, 1), b(n, 2);
  const double s = bench::time_median([&] { std::memcpy(b.data(), a.data(), n); }, 9, 5, 2.0);
  return 2.0 * static_cast<double>(n) / s;  // bytes moved per second
}

struct torch_result {
  double forward_ms = -1, train_ms = -1;
  std::string version;
};

torch_result run_torch(const std::string& prefix, index_t rows, index_t dim, index_t batch, int batches, int reps,
                       int threads) {
  torch_result r;
  if (std::system("/usr/bin/python3 -c 'import torch, numpy' >/dev/null 2>&1") != 0) return r;
  const std::string cmd = "OMP_NUM_THREADS=" + std::to_string(threads) +
                          " /usr/bin/python3 '" FRUGAL_TORCH_BASELINE "' " + prefix + " " + std::to_string(rows) + " " +
                          std::to_string(dim) + " " + std::to_string(batch) + " " + std::to_string(reps) + " " +
                          std::to_string(batches) + " " + std::to_string(threads);
  FILE* pipe = popen(cmd.c_str(), "r");
  if (!pipe) return r;
  char line[512];
  while (std::fgets(line, sizeof line, pipe)) {
    char version[128];
    int threads = 0;
    if (std::sscanf(line, "torch %127s forward_ms %lf train_ms %lf threads %d", version, &r.forward_ms, &r.train_ms,
                    &threads) == 4)
      r.version = version;
  }
  pclose(pipe);
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  index_t rows = 500'000, batch = 2048;
  int reps = 32, batches = 16;
  std::vector<index_t> dims = {16, 32, 64, 128};
  std::vector<index_t> pools = {1, 10, 40};
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--rows")) rows = std::atoll(argv[i + 1]);
    if (!std::strcmp(argv[i], "--reps")) reps = std::atoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--batch")) batch = std::atoll(argv[i + 1]);
    if (!std::strcmp(argv[i], "--batches")) batches = std::max(1, std::atoi(argv[i + 1]));
  }
  Kokkos::ScopeGuard kokkos(argc, argv);
  const double bandwidth = copy_bandwidth();
  std::printf(
      "embedding bench: %lld rows, batch %lld, %d different batches in turn, uniform random ids, sum pooling, one "
      "thread (Kokkos::Serial); copy bandwidth %.1f GB/s\n",
      static_cast<long long>(rows), static_cast<long long>(batch), batches, bandwidth / 1e9);
  std::printf("times are medians in ms; ratios > 1 mean frugal is faster; floor = rows touched / copy bandwidth\n\n");
  std::printf(
      "| dim | pool | full fwd | adaptive fwd | torch fwd | floor fwd | full/torch | adaptive/full | "
      "full fwd+upd | adaptive fwd+upd | torch fwd+bwd+SGD | floor fwd+upd | full/torch | adaptive/full |\n");
  std::printf("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
  const auto dir = std::filesystem::temp_directory_path() / "frugal-bench-embedding";
  std::filesystem::create_directories(dir);
  struct hashed_row {
    index_t dim, pool;
    double full_fwd, fwd, full_train, train;
  };
  std::vector<hashed_row> hashed_rows;
  using parallel_space = Kokkos::DefaultHostExecutionSpace;
  const bool parallel = !std::is_same_v<Kokkos::Serial, parallel_space>;
  const int threads = frugal::concurrency(parallel_space{});
  struct threads_row {
    index_t dim, pool;
    double full_fwd_1, full_fwd_n, torch_fwd_n, full_train_1, full_train_n, adaptive_train_1, adaptive_train_n,
        torch_train_1, torch_train_n;
  };
  std::vector<threads_row> threads_rows;
  for (index_t dim : dims) {
    const sparse_optimizer sgd{.kind = optimizer_kind::sgd, .learning_rate = 0.01f};
    const index_t chunk = std::min<index_t>(dim, 16);
    full_table<Kokkos::Serial> full(rows, dim, dense_table_options{.optimizer = sgd});
    adaptive_table<fiited_importance, Kokkos::Serial> adaptive(
        rows, dim, adaptive_table_options{.chunk_width = chunk, .optimizer = sgd});
    adaptive.materialize_all();
    adaptive.compact();
    adaptive_table<fiited_importance, Kokkos::Serial> hashed(
        rows, dim, adaptive_table_options{.chunk_width = chunk, .optimizer = sgd, .index = index_layout::hashed});
    hashed.materialize_all();
    hashed.compact();
    // The same tables on the parallel space (built only when it differs from Serial).
    std::optional<full_table<parallel_space>> full_n;
    std::optional<adaptive_table<fiited_importance, parallel_space>> adaptive_n;
    if (parallel) {
      full_n.emplace(rows, dim, dense_table_options{.optimizer = sgd});
      adaptive_n.emplace(rows, dim, adaptive_table_options{.chunk_width = chunk, .optimizer = sgd});
      adaptive_n->materialize_all();
      adaptive_n->compact();
    }
    for (index_t pool : pools) {
      rng gen(static_cast<std::uint64_t>(dim * 100 + pool));
      // `batches` batches; offsets of batch q are offsets[q * (batch + 1) ...], into its own indices.
      std::vector<index_t> offsets;
      std::vector<std::vector<std::uint32_t>> indices(static_cast<std::size_t>(batches));
      for (int q = 0; q < batches; ++q) {
        auto& idx = indices[static_cast<std::size_t>(q)];
        for (index_t b = 0; b < batch; ++b) {
          offsets.push_back(static_cast<index_t>(idx.size()));
          for (index_t k = 0; k < pool; ++k)
            idx.push_back(static_cast<std::uint32_t>(gen.uniform_int(static_cast<std::uint64_t>(rows))));
        }
        offsets.push_back(static_cast<index_t>(idx.size()));
      }
      auto bags = [&, next = 0]() mutable {
        const int q = next;
        next = (next + 1) % batches;
        return bag_batch{.offsets = std::span<const index_t>(offsets.data() + static_cast<std::size_t>(q) * (batch + 1),
                                                             static_cast<std::size_t>(batch) + 1),
                         .indices = indices[static_cast<std::size_t>(q)]};
      };
      std::vector<float> out(static_cast<std::size_t>(batch * dim)), grad(out.size());
      for (auto& g : grad) g = static_cast<float>(gen.normal());
      auto forward_ms = [&](auto& table) {
        auto next = bags;
        return bench::time_median([&] { table.forward(next(), out); }, reps) * 1e3;
      };
      auto train_ms = [&](auto& table) {
        auto next = bags;
        return bench::time_median(
                   [&] {
                     const bag_batch b = next();
                     table.forward(b, out);
                     table.backward(b, grad);
                   },
                   reps) *
               1e3;
      };
      const double full_fwd = forward_ms(full), adaptive_fwd = forward_ms(adaptive);
      const double full_train = train_ms(full), adaptive_train = train_ms(adaptive);
      hashed_rows.push_back({dim, pool, full_fwd, forward_ms(hashed), full_train, train_ms(hashed)});
      const std::string prefix = (dir / ("d" + std::to_string(dim) + "p" + std::to_string(pool))).string();
      {
        std::ofstream file(prefix + ".indices", std::ios::binary);  // the batches one after another
        for (const auto& idx : indices)
          file.write(reinterpret_cast<const char*>(idx.data()), static_cast<std::streamsize>(idx.size() * 4));
        std::ofstream(prefix + ".offsets", std::ios::binary)
            .write(reinterpret_cast<const char*>(offsets.data()), static_cast<std::streamsize>(offsets.size() * 8));
      }
      const torch_result t = run_torch(prefix, rows, dim, batch, batches, reps, 1);
      if (parallel) {
        const torch_result tn = run_torch(prefix, rows, dim, batch, batches, reps, threads);
        threads_rows.push_back({dim, pool, full_fwd, forward_ms(*full_n), tn.forward_ms, full_train, train_ms(*full_n),
                                adaptive_train, train_ms(*adaptive_n), t.train_ms, tn.train_ms});
      }
      const double touched = static_cast<double>(batch * pool) * static_cast<double>(dim) * 4.0;
      const double floor_fwd = touched / bandwidth * 1e3;
      auto ratio = [](double a, double b) { return a > 0 && b > 0 ? a / b : 0.0; };
      std::printf("| %lld | %lld | %.3f | %.3f | %s | %.3f | %.2f | %.2f | %.3f | %.3f | %s | %.3f | %.2f | %.2f |\n",
                  static_cast<long long>(dim), static_cast<long long>(pool), full_fwd, adaptive_fwd,
                  t.forward_ms > 0 ? std::to_string(t.forward_ms).substr(0, 6).c_str() : "n/a", floor_fwd,
                  ratio(t.forward_ms, full_fwd), ratio(full_fwd, adaptive_fwd), full_train, adaptive_train,
                  t.train_ms > 0 ? std::to_string(t.train_ms).substr(0, 6).c_str() : "n/a", 3.0 * floor_fwd,
                  ratio(t.train_ms, full_train), ratio(full_train, adaptive_train));
      std::fflush(stdout);
      std::filesystem::remove(prefix + ".indices");
      std::filesystem::remove(prefix + ".offsets");
    }
  }
  std::printf(
      "\nThe adaptive table with a hashed index (index_layout::hashed, as a pruned table has), every chunk live; "
      "full_table times measured beside it:\n\n");
  std::printf("| dim | pool | hashed fwd | hashed/full | hashed fwd+upd | hashed/full |\n|---|---|---|---|---|---|\n");
  for (const auto& h : hashed_rows)
    std::printf("| %lld | %lld | %.3f | %.2f | %.3f | %.2f |\n", static_cast<long long>(h.dim),
                static_cast<long long>(h.pool), h.fwd, h.full_fwd / h.fwd, h.train, h.full_train / h.train);
  std::printf(
      "\nfull/torch: PyTorch time ÷ full_table time (target >= 1.0); adaptive/full: full_table time ÷ "
      "adaptive_table time at the same maximum dimension, every chunk live (target >= 0.7)\n");
  if (parallel) {
    std::printf(
        "\n%d threads (frugal on the default host space, PyTorch with torch.set_num_threads(%d)); NT/1T = one-thread "
        "time ÷ %d-thread time of the same table:\n\n",
        threads, threads, threads);
    std::printf(
        "| dim | pool | full fwd | NT/1T | torch fwd | full/torch | full fwd+upd | NT/1T | adaptive fwd+upd | NT/1T | "
        "torch fwd+bwd+SGD | NT/1T | full/torch |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    auto ratio = [](double a, double b) { return a > 0 && b > 0 ? a / b : 0.0; };
    for (const auto& r : threads_rows)
      std::printf("| %lld | %lld | %.3f | %.2f | %.3f | %.2f | %.3f | %.2f | %.3f | %.2f | %.3f | %.2f | %.2f |\n",
                  static_cast<long long>(r.dim), static_cast<long long>(r.pool), r.full_fwd_n,
                  ratio(r.full_fwd_1, r.full_fwd_n), r.torch_fwd_n, ratio(r.torch_fwd_n, r.full_fwd_n), r.full_train_n,
                  ratio(r.full_train_1, r.full_train_n), r.adaptive_train_n,
                  ratio(r.adaptive_train_1, r.adaptive_train_n), r.torch_train_n,
                  ratio(r.torch_train_1, r.torch_train_n), ratio(r.torch_train_n, r.full_train_n));
  }
  const char* missing = std::system("/usr/bin/python3 -c 'import torch' >/dev/null 2>&1") != 0
                            ? "(python3-torch not installed: apt-get install python3-torch python3-numpy to compare)\n"
                            : "";
  std::printf("%s", missing);
  return 0;
}
