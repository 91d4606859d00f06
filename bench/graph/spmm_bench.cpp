// Graph aggregation Y = Â X (Â the symmetric-normalised adjacency with self loops, X row-major
// float) with frugal::graph::spmm beside Eigen's sparse × dense product (row-major sparse and
// dense, the same layout), torch.sparse.mm on CSR and COO tensors, and a memory-traffic floor,
// all measured in the same run: first on one thread (frugal on Kokkos::Serial, Eigen without
// threads, PyTorch with one thread), then, when the default host space is parallel
// (Kokkos::OpenMP in the release preset), on its N threads beside PyTorch with N threads.
//
//   bench_spmm                      SBM graphs of 20k and 100k nodes, degree 10; 16-256 features
//   bench_spmm --nodes 50000 --degree 30 --reps 9
//
// Floor: the bytes every product must move at least once — the CSR arrays, X read once, Y
// written once — divided by the bandwidth of an in-place read-modify-write pass measured here.
// Neighbour rows of X that miss cache are read more than once, so real kernels sit above it.

#include <frugal/graph.hpp>

#include <Eigen/Sparse>
#include <Kokkos_Core.hpp>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <type_traits>
#include <vector>

#include "../common/timing.hpp"

using namespace frugal;

namespace {

/// Bytes per second of an in-place streaming pass (each byte read and written) over 256 MiB.
double stream_bandwidth() {
  std::vector<float> a(std::size_t{64} << 20, 1.0f);
  const double s = bench::time_median(
      [&] {
        float* p = a.data();
        for (std::size_t i = 0; i < a.size(); ++i) p[i] = p[i] * 0.999f + 0.001f;
      },
      7, 3, 2.0);
  return 2.0 * static_cast<double>(a.size() * sizeof(float)) / s;
}

struct torch_result {
  double csr_ms = -1, coo_ms = -1;
  std::string version;
};

torch_result run_torch(const graph::csr_graph<float>& a, index_t f, int reps, int threads) {
  torch_result r;
  if (std::system("/usr/bin/python3 -c 'import torch, numpy' >/dev/null 2>&1") != 0) return r;
  const auto prefix = (std::filesystem::temp_directory_path() / "frugal-bench-spmm").string();
  auto dump = [&](const char* ext, const void* data, std::size_t bytes) {
    std::ofstream(prefix + ext, std::ios::binary)
        .write(static_cast<const char*>(data), static_cast<std::streamsize>(bytes));
  };
  dump(".rows", a.row_map().data(), a.row_map().span() * sizeof(index_t));
  dump(".cols", a.entries().data(), a.entries().span() * sizeof(std::int32_t));
  dump(".vals", a.values().data(), a.values().span() * sizeof(float));
  const std::string cmd = "OMP_NUM_THREADS=" + std::to_string(threads) +
                          " /usr/bin/python3 '" FRUGAL_TORCH_BASELINE "' " + prefix + " " +
                          std::to_string(a.num_nodes()) + " " + std::to_string(f) + " " + std::to_string(reps) + " " +
                          std::to_string(threads);
  FILE* pipe = popen(cmd.c_str(), "r");
  if (!pipe) return r;
  char line[512];
  while (std::fgets(line, sizeof line, pipe)) {
    char version[128];
    int t = 0;
    if (std::sscanf(line, "torch %127s csr_ms %lf coo_ms %lf threads %d", version, &r.csr_ms, &r.coo_ms, &t) == 4)
      r.version = version;
  }
  pclose(pipe);
  return r;
}

template <class Exec>
double time_frugal(const Exec& exec, const graph::csr_graph<float>& a, const std::vector<float>& x,
                   std::vector<float>& y, index_t f, int reps) {
  const index_t n = a.num_nodes();
  graph::features_view<const float> xv(x.data(), n, f);
  graph::features_view<float> yv(y.data(), n, f);
  return bench::time_median([&] { graph::spmm(exec, a, xv, yv); }, reps);
}

std::string ms(double v) {
  char buf[32];
  if (v < 0) return "—";
  std::snprintf(buf, sizeof buf, "%.3f", v);
  return buf;
}
std::string ratio(double a, double b) {
  char buf[32];
  if (a < 0 || b < 0) return "—";
  std::snprintf(buf, sizeof buf, "%.2f", a / b);
  return buf;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<index_t> nodes = {20'000, 100'000};
  std::vector<index_t> widths = {16, 64, 256};
  double degree = 10;
  int reps = 15;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--nodes")) nodes = {std::atoll(argv[i + 1])};
    if (!std::strcmp(argv[i], "--degree")) degree = std::atof(argv[i + 1]);
    if (!std::strcmp(argv[i], "--reps")) reps = std::max(3, std::atoi(argv[i + 1]));
  }
  Kokkos::ScopeGuard kokkos(argc, argv);
  using parallel_space = Kokkos::DefaultHostExecutionSpace;
  const bool parallel = !std::is_same_v<Kokkos::Serial, parallel_space>;
  const int threads = frugal::concurrency(parallel_space{});
  const double bandwidth = stream_bandwidth();
  std::printf(
      "# bench_spmm: Y = Â X, float, SBM graphs of average degree %.0f plus self loops; times are medians "
      "(ms); in-place stream bandwidth %.1f GB/s\n\n",
      degree, bandwidth / 1e9);
  std::printf(
      "## One thread\n\n| nodes | nnz | features | frugal | Eigen | torch CSR | torch COO | floor | "
      "Eigen/frugal | torch/frugal | frugal/floor |\n|---|---|---|---|---|---|---|---|---|---|---|\n");
  struct parallel_row {
    index_t n, nnz, f;
    double one, many, torch_many;
  };
  std::vector<parallel_row> rows;
  for (index_t n : nodes) {
    const auto data = graph::make_sbm<float>({.nodes = n, .average_degree = degree, .features = 1, .seed = 1});
    const auto a = data.graph.with_self_loops().normalized(graph::normalization::symmetric);
    Eigen::SparseMatrix<float, Eigen::RowMajor, std::int64_t> e(n, n);
    {
      std::vector<Eigen::Triplet<float, std::int64_t>> t;
      for (index_t i = 0; i < n; ++i)
        for (index_t k = a.row_map()(i); k < a.row_map()(i + 1); ++k) t.emplace_back(i, a.entries()(k), a.values()(k));
      e.setFromTriplets(t.begin(), t.end());
    }
    for (index_t f : widths) {
      rng gen(2);
      std::vector<float> x(static_cast<std::size_t>(n * f)), y(x.size());
      for (float& v : x) v = static_cast<float>(gen.normal());
      using dense = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
      const Eigen::Map<const dense> xe(x.data(), n, f);
      dense ye(n, f);
      Eigen::setNbThreads(1);
      const double eigen_s = bench::time_median([&] { ye.noalias() = e * xe; }, reps);
      const double one_s = time_frugal(Kokkos::Serial{}, a, x, y, f, reps);
      // Same numbers as Eigen's product (a different summation order, so to rounding).
      double worst = 0;
      for (index_t i = 0; i < n * f; ++i) worst = std::max(worst, static_cast<double>(std::abs(y[i] - ye.data()[i])));
      if (worst > 1e-4) {
        std::fprintf(stderr, "bench_spmm: frugal and Eigen differ by %g\n", worst);
        return 1;
      }
      const auto torch1 = run_torch(a, f, reps, 1);
      const double bytes = static_cast<double>(a.bytes()) + 2.0 * static_cast<double>(n * f) * sizeof(float);
      const double floor_s = bytes / bandwidth;
      const double torch_best = torch1.csr_ms < 0 ? -1 : std::min(torch1.csr_ms, torch1.coo_ms);
      std::printf("| %lld | %lld | %lld | %s | %s | %s | %s | %s | %s | %s | %s |\n", static_cast<long long>(n),
                  static_cast<long long>(a.num_entries()), static_cast<long long>(f), ms(1e3 * one_s).c_str(),
                  ms(1e3 * eigen_s).c_str(), ms(torch1.csr_ms).c_str(), ms(torch1.coo_ms).c_str(),
                  ms(1e3 * floor_s).c_str(), ratio(eigen_s, one_s).c_str(), ratio(torch_best, 1e3 * one_s).c_str(),
                  ratio(one_s, floor_s).c_str());
      if (parallel) {
        const double many_s = time_frugal(parallel_space{}, a, x, y, f, reps);
        const auto torch_n = run_torch(a, f, reps, threads);
        rows.push_back(
            {n, a.num_entries(), f, one_s, many_s, torch_n.csr_ms < 0 ? -1 : std::min(torch_n.csr_ms, torch_n.coo_ms)});
      }
    }
  }
  if (parallel) {
    std::printf(
        "\n## %d threads (Kokkos::%s), PyTorch with %d threads\n\n| nodes | nnz | features | frugal 1 | "
        "frugal %d | speedup | torch %d (best of CSR/COO) | torch/frugal |\n|---|---|---|---|---|---|---|---|\n",
        threads, parallel_space::name(), threads, threads, threads);
    for (const auto& r : rows)
      std::printf("| %lld | %lld | %lld | %s | %s | %s | %s | %s |\n", static_cast<long long>(r.n),
                  static_cast<long long>(r.nnz), static_cast<long long>(r.f), ms(1e3 * r.one).c_str(),
                  ms(1e3 * r.many).c_str(), ratio(r.one, r.many).c_str(), ms(r.torch_many).c_str(),
                  ratio(r.torch_many, 1e3 * r.many).c_str());
  } else {
    std::printf(
        "\n(The default host space is Kokkos::Serial: build with the release or openmp preset for the "
        "multi-thread table.)\n");
  }
  return 0;
}
