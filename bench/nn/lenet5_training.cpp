// LeNet-5 training throughput (images/s, batch 64): frugal beside PyTorch on the identical network,
// loss, optimizer and batch, both measured in this run, on one thread (frugal on Kokkos::Serial,
// PyTorch with torch.set_num_threads(1)) and on N threads (frugal on the default host space, which
// is Kokkos::OpenMP in the release and openmp presets; PyTorch with N threads), plus Eigen's SGEMM
// rate as the single-core compute ceiling. Prints medians, ratios and the N-thread speedups.
//
//   bench_lenet5_training [--threads N]     N defaults to the default host space's concurrency
#include <frugal/frugal.hpp>
#include "../common/timing.hpp"

#include <Eigen/Core>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <type_traits>
#include <vector>

namespace nn = frugal::nn;
using clock_type = std::chrono::steady_clock;

namespace {

using frugal::bench::median;

/// Median GFLOP/s of a single-precision 256^3 Eigen GEMM: what one core can do on dense math.
double eigen_sgemm_gflops(int reps) {
  const int n = 256;
  Eigen::MatrixXf a = Eigen::MatrixXf::Random(n, n), b = Eigen::MatrixXf::Random(n, n), c(n, n);
  c.noalias() = a * b;
  std::vector<double> rates;
  for (int r = 0; r < reps; ++r) {
    const auto t = clock_type::now();
    for (int i = 0; i < 10; ++i) c.noalias() = a * b;
    rates.push_back(10 * 2.0 * n * n * n / std::chrono::duration<double>(clock_type::now() - t).count() / 1e9);
  }
  return median(rates);
}

/// Runs the PyTorch baseline script; returns images/s or a negative value when unavailable.
/// Debian's python3-torch lives under /usr/bin/python3, which may not be the first python3 on PATH.
double torch_images_per_second(int batch, int steps, int reps, int threads, std::string& version) {
  const char* python =
      std::system("/usr/bin/python3 -c 'import torch' >/dev/null 2>&1") == 0 ? "/usr/bin/python3" : "python3";
  const std::string cmd = "OMP_NUM_THREADS=" + std::to_string(threads) + " " + python + " '" + FRUGAL_TORCH_BASELINE +
                          "' --batch " + std::to_string(batch) + " --steps " + std::to_string(steps) + " --reps " +
                          std::to_string(reps) + " --threads " + std::to_string(threads) + " 2>/dev/null";
  FILE* pipe = popen(cmd.c_str(), "r");
  if (!pipe) return -1;
  char line[512] = {0};
  double rate = -1;
  while (std::fgets(line, sizeof line, pipe)) {
    char ver[128] = {0};
    double r = 0;
    int threads = 0;
    if (std::sscanf(line, "torch %127s images_per_second %lf threads %d", ver, &r, &threads) == 3) {
      rate = r;
      version = ver;
    }
  }
  pclose(pipe);
  return rate;
}

/// Median images/s of `reps` x `steps` training steps of LeNet-5 on `Exec` (after 10 warm-up steps).
template <class Exec>
double frugal_images_per_second(int batch, int steps, int reps) {
  const Exec exec{};
  auto model = nn::make_lenet5<float, Exec>(1, exec);
  auto registry = model.parameters();
  nn::adam<float, Exec> opt({}, exec);
  nn::softmax_cross_entropy<float, Exec> loss(exec);
  nn::tensor<float> x({batch, 28, 28, 1});
  std::vector<std::int32_t> y(static_cast<std::size_t>(batch));
  frugal::rng gen(3);
  for (frugal::index_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(gen.uniform());
  for (auto& v : y) v = static_cast<std::int32_t>(gen.uniform_int(10));
  auto step = [&] {
    registry.zero_grad();
    loss.forward(model.forward(x), y);
    model.backward(loss.backward());
    opt.step(registry);
  };
  for (int i = 0; i < 10; ++i) step();
  std::vector<double> rates;
  for (int r = 0; r < reps; ++r) {
    const auto t = clock_type::now();
    for (int s = 0; s < steps; ++s) step();
    rates.push_back(steps * batch / std::chrono::duration<double>(clock_type::now() - t).count());
  }
  return median(rates);
}

}  // namespace

int main(int argc, char** argv) {
  Kokkos::ScopeGuard kokkos(argc, argv);
  const int batch = 64, steps = 50, reps = 7;
  int threads = frugal::concurrency(Kokkos::DefaultHostExecutionSpace{});
  for (int i = 1; i + 1 < argc; ++i)
    if (std::string(argv[i]) == "--threads") threads = std::atoi(argv[i + 1]);
  Eigen::setNbThreads(1);
  const bool parallel = !std::is_same_v<Kokkos::Serial, Kokkos::DefaultHostExecutionSpace> && threads > 1;
  if (threads > 1 && !parallel)
    std::printf(
        "(this build's Kokkos has no parallel host space: the N-thread rows are skipped; build the release "
        "preset, which uses scripts/kokkos_openmp.sh)\n");
  if (parallel && threads != frugal::concurrency(Kokkos::DefaultHostExecutionSpace{}))
    std::printf("(--threads %d but Kokkos runs %d threads: set OMP_NUM_THREADS=%d)\n", threads,
                frugal::concurrency(Kokkos::DefaultHostExecutionSpace{}), threads);

  const double frugal_1 = frugal_images_per_second<Kokkos::Serial>(batch, steps, reps);
  const double frugal_n =
      parallel ? frugal_images_per_second<Kokkos::DefaultHostExecutionSpace>(batch, steps, reps) : -1;
  const double flops_per_image = 3.0 * 2.0 * (6 * 25 * 784 + 16 * 150 * 100 + 400 * 120 + 120 * 84 + 84 * 10);
  const double gemm = eigen_sgemm_gflops(reps);

  std::string torch_version;
  const double torch_1 = torch_images_per_second(batch, steps, reps, 1, torch_version);
  const double torch_n = parallel ? torch_images_per_second(batch, steps, reps, threads, torch_version) : -1;

  std::printf("LeNet-5 training throughput, batch %d, Adam, median of %d x %d steps\n", batch, reps, steps);
  std::printf("%-22s %7s %12s %10s %12s %14s\n", "implementation", "threads", "images/s", "GFLOP/s", "vs PyTorch",
              "vs 1 thread");
  const auto gflops = [&](double rate) { return rate * flops_per_image / 1e9; };
  const auto row = [&](const char* name, int t, double rate, double torch_rate, double one_thread) {
    if (rate <= 0) return;
    char vs_torch[32] = "-", vs_one[32] = "-";
    if (torch_rate > 0) std::snprintf(vs_torch, sizeof vs_torch, "%.2f", rate / torch_rate);
    if (one_thread > 0) std::snprintf(vs_one, sizeof vs_one, "%.2f", rate / one_thread);
    std::printf("%-22s %7d %12.0f %10.2f %12s %14s\n", name, t, rate, gflops(rate), vs_torch, vs_one);
  };
  const std::string torch_name = "PyTorch " + torch_version;
  row(torch_name.c_str(), 1, torch_1, torch_1, torch_1);
  row("frugal", 1, frugal_1, torch_1, frugal_1);
  if (parallel) {
    row(torch_name.c_str(), threads, torch_n, torch_n, torch_1);
    row("frugal", threads, frugal_n, torch_n, frugal_1);
  }
  if (torch_1 <= 0) std::printf("(python3-torch not installed: apt-get install python3-torch to compare)\n");
  std::printf(
      "compute ceiling: Eigen SGEMM 256^3 = %.1f GFLOP/s on one core; frugal reaches %.0f%% of it on one thread\n",
      gemm, 100 * gflops(frugal_1) / gemm);
  return 0;
}
