// BCR SpMM/SpMV against Eigen dense GEMM/GEMV (the faster of row- and column-major weights) and Eigen CSR
// (SparseMatrix, row-major) on the same pruned weights, single thread, medians of repeated runs; plus the FLOP-count
// floor (useful flops at Eigen's dense GEMM rate, measured in this run) and the crossover sparsity where BCR starts to
// beat dense for each shape and batch. When the default host space is parallel (Kokkos::OpenMP in the release
// preset), BCR is also timed there ("BCR NT", N = its thread count) and its speedup over one thread is printed.
//
//   bench_bcr [--quick]
#include <frugal/admm/bcr.hpp>
#include <frugal/sparse.hpp>
#include "../common/timing.hpp"

#include <Eigen/Core>
#include <Eigen/SparseCore>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <map>
#include <string>
#include <tuple>
#include <type_traits>
#include <vector>

namespace sparse = frugal::sparse;
namespace admm = frugal::admm;
using frugal::index_t;
using clock_type = std::chrono::steady_clock;
using dense_rm = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

namespace {

using frugal::bench::median;

using frugal::bench::time_median;

/// Eigen's single-precision GEMM rate on 512^3 (GFLOP/s): the dense compute ceiling here.
double eigen_gemm_gflops() {
  const int n = 512;
  Eigen::MatrixXf a = Eigen::MatrixXf::Random(n, n), b = Eigen::MatrixXf::Random(n, n), c(n, n);
  const double s = time_median([&] { c.noalias() = a * b; }, 9);
  return 2.0 * n * n * n / s / 1e9;
}

/// Copy bandwidth (GB/s, read + write counted) of a 256 MiB memcpy.
double copy_bandwidth() {
  const std::size_t bytes = std::size_t{256} << 20;
  std::vector<char> a(bytes, 1), b(bytes, 0);
  const double s = time_median([&] { std::memcpy(b.data(), a.data(), bytes); }, 5);
  return 2.0 * static_cast<double>(bytes) / s / 1e9;
}

struct row {
  index_t rows, cols, batch;
  double sparsity, actual_sparsity;
  sparse::bcr_tuning tuning;
  std::size_t groups;
  double dense_ms, csr_ms, bcr_ms, floor_ms, bcr_parallel_ms;
};

}  // namespace

int main(int argc, char** argv) {
  Kokkos::ScopeGuard kokkos(argc, argv);
  Eigen::setNbThreads(1);
  const bool quick = argc > 1 && std::string(argv[1]) == "--quick";
  const std::vector<std::pair<index_t, index_t>> shapes =
      quick ? std::vector<std::pair<index_t, index_t>>{{512, 512}}
            : std::vector<std::pair<index_t, index_t>>{{512, 512}, {1024, 4096}, {4096, 4096}};
  const std::vector<index_t> batches = quick ? std::vector<index_t>{1, 64} : std::vector<index_t>{1, 16, 64};
  const std::vector<double> sparsities =
      quick ? std::vector<double>{0.5, 0.9} : std::vector<double>{0.0, 0.25, 0.5, 0.75, 0.9, 0.95};

  const double gflops = eigen_gemm_gflops();
  const double bandwidth = copy_bandwidth();
  std::printf("frugal BCR kernels, single thread (Kokkos::Serial), float; SIMD width %lld floats\n",
              static_cast<long long>(xsimd::batch<float>::size));
  std::printf("Eigen SGEMM 512^3: %.1f GFLOP/s (FLOP floor = useful flops at this rate); copy bandwidth %.1f GB/s\n\n",
              gflops, bandwidth);
  const bool parallel = !std::is_same_v<Kokkos::Serial, Kokkos::DefaultHostExecutionSpace>;
  const int threads = frugal::concurrency(Kokkos::DefaultHostExecutionSpace{});
  if (parallel) std::printf("BCR NT = the same product on the default host space, %d threads\n\n", threads);
  std::printf("%-10s %5s %6s %7s %9s %8s %9s %9s %9s %9s %8s %8s %8s %9s %8s\n", "shape", "batch", "target", "actual",
              "block", "kernel", "dense ms", "CSR ms", "BCR ms", "floor ms", "vs dense", "vs CSR", "% floor",
              "BCR NT ms", "NT/1T");

  sparse::bcr_autotuner<float, Kokkos::Serial> tuner({.repetitions = quick ? 2 : 5});
  std::vector<row> rows;
  frugal::rng gen(42);
  for (auto [m, k] : shapes) {
    dense_rm w(m, k);
    for (index_t i = 0; i < w.size(); ++i) w.data()[i] = static_cast<float>(gen.normal());
    const Eigen::MatrixXf w_cm = w;
    std::map<std::tuple<index_t, index_t, double>, admm::bcr_pattern> patterns;
    for (index_t n : batches) {
      Eigen::MatrixXf x(k, n), y(m, n);
      for (index_t i = 0; i < x.size(); ++i) x.data()[i] = static_cast<float>(gen.normal());
      // Dense baseline: the faster of Eigen's row-major and column-major weight layouts.
      const double dense_ms = 1e3 * std::min(time_median([&] { y.noalias() = w * x; }, 15),
                                             time_median([&] { y.noalias() = w_cm * x; }, 15));
      for (double s : sparsities) {
        const auto tuning = tuner.tune(m, k, s, n);
        const double side = std::sqrt(1 - s);
        // The magnitude-based BCR projection of the weights (cached: batches share it).
        const auto key = std::make_tuple(tuning.block_rows, tuning.block_cols, s);
        if (!patterns.contains(key))
          patterns[key] = admm::bcr_sparsity{.block_rows = tuning.block_rows,
                                             .block_cols = tuning.block_cols,
                                             .row_keep_fraction = side,
                                             .col_keep_fraction = side,
                                             .exact_limit = 64}
                              .select(w);
        auto bcr = sparse::bcr_matrix<float>::from_pattern(w, patterns[key]);
        bcr.set_kernel(tuning.kernel);
        const dense_rm pruned = bcr.to_dense();
        Eigen::SparseMatrix<float, Eigen::RowMajor> csr = pruned.sparseView();
        csr.makeCompressed();
        Eigen::MatrixXf y_csr(m, n), y_bcr(m, n);
        const double csr_ms = 1e3 * time_median([&] { y_csr.noalias() = csr * x; }, 15);
        const frugal::nn::const_column_map<float> xm(x.data(), k, n);
        frugal::nn::column_map<float> ym(y_bcr.data(), m, n);
        const double bcr_ms = 1e3 * time_median([&] { bcr.multiply(xm, ym, Kokkos::Serial{}); }, 15);
        const double bcr_parallel_ms =
            parallel ? 1e3 * time_median([&] { bcr.multiply(xm, ym, Kokkos::DefaultHostExecutionSpace{}); }, 15) : -1;
        const Eigen::MatrixXf y_ref = pruned * x;
        const double err = (y_bcr - y_ref).cwiseAbs().maxCoeff() / std::max(1.0f, y_ref.cwiseAbs().maxCoeff());
        if (err > 1e-4 || (y_csr - y_ref).cwiseAbs().maxCoeff() / std::max(1.0f, y_ref.cwiseAbs().maxCoeff()) > 1e-4) {
          std::fprintf(stderr, "result mismatch (%g) at %lldx%lld batch %lld sparsity %.2f\n", err,
                       static_cast<long long>(m), static_cast<long long>(k), static_cast<long long>(n), s);
          return 1;
        }
        const double floor_ms =
            1e3 * 2.0 * static_cast<double>(bcr.nonzeros()) * static_cast<double>(n) / (gflops * 1e9);
        row r{m,        k,      n,      s,        1 - bcr.density(), tuning, bcr.groups().size(),
              dense_ms, csr_ms, bcr_ms, floor_ms, bcr_parallel_ms};
        rows.push_back(r);
        char shape[32], block[32], kernel[32];
        std::snprintf(shape, sizeof shape, "%lldx%lld", static_cast<long long>(m), static_cast<long long>(k));
        std::snprintf(block, sizeof block, "%lldx%lld", static_cast<long long>(tuning.block_rows),
                      static_cast<long long>(tuning.block_cols));
        std::snprintf(kernel, sizeof kernel, "%dx%d", tuning.kernel.row_tile, tuning.kernel.vector_tile);
        std::printf("%-10s %5lld %5.0f%% %6.1f%% %9s %8s %9.3f %9.3f %9.3f %9.3f %7.2fx %7.2fx %7.0f%%", shape,
                    static_cast<long long>(n), 100 * s, 100 * r.actual_sparsity, block, n == 1 ? "gemv" : kernel,
                    dense_ms, csr_ms, bcr_ms, floor_ms, dense_ms / bcr_ms, csr_ms / bcr_ms, 100 * floor_ms / bcr_ms);
        if (parallel)
          std::printf(" %9.3f %7.2fx\n", bcr_parallel_ms, bcr_ms / bcr_parallel_ms);
        else
          std::printf(" %9s %8s\n", "-", "-");
        std::fflush(stdout);
      }
    }
  }

  // Crossover: the sparsity at which BCR's time equals dense's, interpolated linearly between the
  // measured sparsities (speedup crossing 1); "<" when BCR already wins at the lowest measured.
  std::printf("\nCrossover sparsity (BCR starts to beat Eigen dense):\n");
  for (auto [m, k] : shapes)
    for (index_t n : batches) {
      std::vector<const row*> rs;
      for (const auto& r : rows)
        if (r.rows == m && r.cols == k && r.batch == n) rs.push_back(&r);
      std::string answer = "not within the measured range (BCR slower throughout)";
      for (std::size_t i = 0; i < rs.size(); ++i) {
        const double sp = rs[i]->dense_ms / rs[i]->bcr_ms;
        if (sp >= 1) {
          if (i == 0) {
            answer = rs[0]->actual_sparsity == 0
                         ? std::string("none: BCR is faster even unpruned (its kernel beats Eigen's GEMM here)")
                         : "below " + std::to_string(static_cast<int>(100 * rs[0]->actual_sparsity)) + "%";
          } else {
            const double s0 = rs[i - 1]->actual_sparsity, s1 = rs[i]->actual_sparsity;
            const double p0 = rs[i - 1]->dense_ms / rs[i - 1]->bcr_ms;
            const double c = s0 + (1 - p0) / (sp - p0) * (s1 - s0);
            char buf[64];
            std::snprintf(buf, sizeof buf, "%.0f%%", 100 * c);
            answer = buf;
          }
          break;
        }
      }
      std::printf("  %5lldx%-5lld batch %3lld: %s\n", static_cast<long long>(m), static_cast<long long>(k),
                  static_cast<long long>(n), answer.c_str());
    }
  for (const auto& r : rows)
    if (r.rows == 1024 && r.cols == 4096 && r.batch == 64 && r.sparsity == 0.9)
      std::printf(
          "\nAcceptance (1024x4096, batch 64, 90%% sparsity): BCR %.2fx faster than Eigen dense GEMM (target >= 5x), "
          "%.2fx faster than Eigen CSR (target >= 2x)%s\n",
          r.dense_ms / r.bcr_ms, r.csr_ms / r.bcr_ms,
          parallel ? (", " + std::to_string(threads) +
                      " threads vs 1: " + std::to_string(r.bcr_ms / r.bcr_parallel_ms) + "x")
                         .c_str()
                   : "");
  return 0;
}
