// Compiles frugal's device-callable core (FRUGAL_FUNCTION, rng) with nvcc and, when a GPU is
// present, checks that draws made on the device equal draws made on the host from the same seed.
// Without a GPU it exits 77, which ctest reports as skipped.
#include <frugal/core/config.hpp>
#include <frugal/core/rng.hpp>

#include <cuda_runtime.h>

#include <cstdint>
#include <cstdio>
#include <vector>

__global__ void draw(std::uint64_t seed, int per_thread, double* out) {
  const int t = blockIdx.x * blockDim.x + threadIdx.x;
  frugal::rng gen = frugal::rng(seed).split(static_cast<std::uint64_t>(t));
  for (int i = 0; i < per_thread; ++i)
    out[t * per_thread + i] = gen.normal() + static_cast<double>(gen.uniform_int(10));
}

int main() {
  int devices = 0;
  if (cudaGetDeviceCount(&devices) != cudaSuccess || devices == 0) {
    std::puts("no CUDA device: skipped");
    return 77;
  }
  const int threads = 256, per_thread = 8, n = threads * per_thread;
  double* d = nullptr;
  if (cudaMalloc(&d, n * sizeof(double)) != cudaSuccess) return 1;
  draw<<<threads / 64, 64>>>(42, per_thread, d);
  std::vector<double> got(n);
  if (cudaMemcpy(got.data(), d, n * sizeof(double), cudaMemcpyDeviceToHost) != cudaSuccess) return 1;
  cudaFree(d);
  int mismatches = 0;
  double worst = 0;
  for (int t = 0; t < threads; ++t) {
    frugal::rng gen = frugal::rng(42).split(static_cast<std::uint64_t>(t));
    for (int i = 0; i < per_thread; ++i) {
      const double want = gen.normal() + static_cast<double>(gen.uniform_int(10));
      const double diff = want - got[t * per_thread + i];
      const double err = diff < 0 ? -diff : diff;
      worst = err > worst ? err : worst;
      // uniform_int is exact; normal() may differ in the last bits between host and device libm.
      if (err > 1e-12) ++mismatches;
    }
  }
  std::printf("%d device draws, %d mismatches, worst difference %.3g\n", n, mismatches, worst);
  return mismatches == 0 ? 0 : 1;
}
