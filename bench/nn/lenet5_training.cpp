// LeNet-5 training throughput (images/s, batch 64, single thread): frugal beside PyTorch on the
// identical network, loss, optimizer and batch, both measured in this run, plus Eigen's SGEMM
// rate as the compute ceiling of this machine. Prints medians and ratios.
#include <frugal/frugal.hpp>
#include "../common/timing.hpp"

#include <Eigen/Core>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
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
double torch_images_per_second(int batch, int steps, int reps, std::string& version) {
  const char* python =
      std::system("/usr/bin/python3 -c 'import torch' >/dev/null 2>&1") == 0 ? "/usr/bin/python3" : "python3";
  const std::string cmd = std::string("OMP_NUM_THREADS=1 ") + python + " '" + FRUGAL_TORCH_BASELINE + "' --batch " +
                          std::to_string(batch) + " --steps " + std::to_string(steps) + " --reps " +
                          std::to_string(reps) + " 2>/dev/null";
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

}  // namespace

int main(int argc, char** argv) {
  Kokkos::ScopeGuard kokkos(argc, argv);
  const int batch = 64, steps = 50, reps = 7;
  Eigen::setNbThreads(1);

  auto model = nn::make_lenet5<float>(1);
  auto registry = model.parameters();
  nn::adam<float> opt;
  nn::softmax_cross_entropy<float> loss;
  nn::tensor<float> x({batch, 28, 28, 1});
  std::vector<std::int32_t> y(batch);
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
  const double frugal_rate = median(rates);
  const double flops_per_image = 3.0 * 2.0 * (6 * 25 * 784 + 16 * 150 * 100 + 400 * 120 + 120 * 84 + 84 * 10);
  const double gemm = eigen_sgemm_gflops(reps);

  std::string torch_version;
  const double torch_rate = torch_images_per_second(batch, steps, reps, torch_version);

  std::printf("LeNet-5 training throughput, batch %d, Adam, single thread, median of %d x %d steps\n", batch, reps,
              steps);
  std::printf("%-28s %12s %10s %12s\n", "implementation", "images/s", "GFLOP/s", "vs PyTorch");
  const auto gflops = [&](double rate) { return rate * flops_per_image / 1e9; };
  if (torch_rate > 0) {
    std::printf("%-28s %12.0f %10.2f %12.2f\n", ("PyTorch " + torch_version).c_str(), torch_rate, gflops(torch_rate),
                1.0);
    std::printf("%-28s %12.0f %10.2f %12.2f\n", "frugal", frugal_rate, gflops(frugal_rate), frugal_rate / torch_rate);
  } else {
    std::printf("%-28s %12s %10s %12s\n", "PyTorch", "skipped", "-", "-");
    std::printf("%-28s %12.0f %10.2f %12s\n", "frugal", frugal_rate, gflops(frugal_rate), "-");
    std::printf("(python3-torch not installed: apt-get install python3-torch to compare)\n");
  }
  std::printf("compute ceiling: Eigen SGEMM 256^3 = %.1f GFLOP/s; frugal reaches %.0f%% of it\n", gemm,
              100 * gflops(frugal_rate) / gemm);
  return 0;
}
