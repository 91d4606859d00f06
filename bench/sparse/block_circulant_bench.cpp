// Block-circulant products (frugal::sparse::block_circulant_matrix, real FFTs through FFTW) beside
// Eigen's dense GEMV/GEMM on the same shapes, single thread, median of repeated runs, all measured
// in this run: time, speed-up, storage ratio, achieved flop rate, and the memory-traffic floor of
// the dense GEMV from a memcpy bandwidth measured here too. Then the measurements behind the
// implementation choices: FFTW against Eigen's FFT module (kissfft), FFTW_ESTIMATE against
// FFTW_MEASURE, and the planar against an interleaved-complex frequency-domain MAC.
//
//   bench_block_circulant            full table (a minute or two)
//   bench_block_circulant --quick    a small subset
#include <frugal/core/rng.hpp>
#include <frugal/sparse/block_circulant_matrix.hpp>
#include "../common/timing.hpp"

#include <Eigen/Core>
#include <Kokkos_Core.hpp>
#include <unsupported/Eigen/FFT>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <complex>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

namespace nn = frugal::nn;
namespace sparse = frugal::sparse;
using frugal::index_t;
using clock_type = std::chrono::steady_clock;

namespace {

using frugal::bench::median;

/// Median seconds per call of `f` over `reps` samples; each sample repeats `f` enough times to
/// last about `sample_seconds` (calibrated once, after a warm-up).
template <class F>
double seconds_per_call(F&& f, int reps, double sample_seconds = 2e-3) {
  f();
  const auto t0 = clock_type::now();
  f();
  const double once = std::max(1e-9, std::chrono::duration<double>(clock_type::now() - t0).count());
  const int inner = std::max(1, static_cast<int>(sample_seconds / once));
  std::vector<double> samples;
  for (int r = 0; r < reps; ++r) {
    const auto t = clock_type::now();
    for (int i = 0; i < inner; ++i) f();
    samples.push_back(std::chrono::duration<double>(clock_type::now() - t).count() / inner);
  }
  return median(samples);
}

/// Copy bandwidth in bytes/s, counting the bytes read plus the bytes written by a 256 MB memcpy.
double copy_bandwidth(int reps) {
  const std::size_t bytes = std::size_t(256) << 20;
  std::vector<char> src(bytes, 1), dst(bytes, 0);
  const double t = seconds_per_call([&] { std::memcpy(dst.data(), src.data(), bytes); }, reps, 0.0);
  if (dst[bytes / 2] != 1) std::puts("memcpy check failed");
  return 2.0 * static_cast<double>(bytes) / t;
}

/// Flops of one block-circulant product per sample, as counted for the rate column: the complex
/// MACs (8 flops per bin 1…k/2−1, 2 per real bin 0 and k/2) plus 2.5·k·log2 k per real FFT.
double circulant_flops(index_t n, index_t k) {
  const double p = static_cast<double>((n + k - 1) / k), kk = static_cast<double>(k);
  return p * p * (8.0 * (kk / 2 - 1) + 4.0) + 2.0 * p * 2.5 * kk * std::log2(kk);
}

struct row {
  index_t n, k, batch;
  double dense_s, circulant_s;
};

row measure_product(index_t n, index_t k, index_t batch, int reps, frugal::rng& gen) {
  Eigen::MatrixXf a(n, n), x(n, batch), y(n, batch);
  for (index_t i = 0; i < a.size(); ++i) a.data()[i] = static_cast<float>(gen.uniform(-1, 1));
  for (index_t i = 0; i < x.size(); ++i) x.data()[i] = static_cast<float>(gen.uniform(-1, 1));
  double dense;
  if (batch == 1) {
    Eigen::VectorXf xv = x.col(0), yv(n);
    dense = seconds_per_call([&] { yv.noalias() = a * xv; }, reps);
  } else {
    dense = seconds_per_call([&] { y.noalias() = a * x; }, reps);
  }
  a.resize(0, 0);  // release the dense matrix before timing the compact one

  sparse::block_circulant_matrix<float> m(n, n, k);
  for (index_t i = 0; i < m.vectors().size(); ++i) m.vectors().data()[i] = static_cast<float>(gen.uniform(-1, 1));
  m.update_spectra();
  const nn::const_column_map<float> xm(x.data(), n, batch);
  nn::column_map<float> ym(y.data(), n, batch);
  const double circulant = seconds_per_call([&] { m.multiply(xm, ym); }, reps);
  return {n, k, batch, dense, circulant};
}

void print_product_table(const std::vector<row>& rows, double bandwidth) {
  std::printf("%6s %5s %5s %12s %12s %9s %9s %10s %14s\n", "n", "k", "batch", "dense us", "circulant us", "speed-up",
              "storage", "GFLOP/s", "GEMV floor us");
  for (const row& r : rows) {
    const double storage = static_cast<double>(r.n) * static_cast<double>(r.n) /
                           static_cast<double>(((r.n + r.k - 1) / r.k) * ((r.n + r.k - 1) / r.k) * r.k);
    const double gflops = circulant_flops(r.n, r.k) * static_cast<double>(r.batch) / r.circulant_s / 1e9;
    const double floor_us = static_cast<double>(r.n) * static_cast<double>(r.n) * 4.0 / bandwidth * 1e6;
    std::printf("%6ld %5ld %5ld %12.1f %12.1f %8.1fx %8.0fx %10.2f %14.1f\n", static_cast<long>(r.n),
                static_cast<long>(r.k), static_cast<long>(r.batch), r.dense_s * 1e6, r.circulant_s * 1e6,
                r.dense_s / r.circulant_s, storage, gflops, floor_us);
  }
}

/// FFTW (frugal's wrapper) against Eigen's FFT module on `count` real transforms of length k,
/// forward + inverse, unnormalised, half spectrum, both ways.
void fft_choice(const std::vector<index_t>& lengths, int reps) {
  const index_t count = 64;
  std::printf("\nFFT choice: %ld real FFTs of length k, forward + inverse (half spectrum, unnormalised)\n",
              static_cast<long>(count));
  std::printf("%5s %14s %14s %16s %10s %12s %16s\n", "k", "FFTW est. us", "FFTW meas. us", "Eigen kissfft us",
              "Eigen/FFTW", "meas./est.", "meas. plan ms");
  for (const index_t k : lengths) {
    const index_t h = k / 2 + 1;
    sparse::fft_buffer<float> x(k * count), back(k * count);
    sparse::fft_buffer<std::complex<float>> spectrum(h * count);
    for (index_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(std::sin(0.37 * static_cast<double>(i)));
    double plan_seconds = 0;
    const auto fftw_time = [&](sparse::fft_planning planning) {
      const auto t = clock_type::now();
      const sparse::real_fft<float> fft(k, count, planning);
      plan_seconds = std::chrono::duration<double>(clock_type::now() - t).count();
      return seconds_per_call(
          [&] {
            fft.forward(x.data(), spectrum.data());
            fft.inverse(spectrum.data(), back.data());
          },
          reps);
    };
    const double estimate = fftw_time(sparse::fft_planning::estimate);
    const double measure = fftw_time(sparse::fft_planning::measure);
    const double measure_plan = plan_seconds;
    Eigen::FFT<float> eigen_fft;
    eigen_fft.SetFlag(Eigen::FFT<float>::HalfSpectrum);
    eigen_fft.SetFlag(Eigen::FFT<float>::Unscaled);
    const double eigen = seconds_per_call(
        [&] {
          for (index_t c = 0; c < count; ++c) eigen_fft.fwd(spectrum.data() + c * h, x.data() + c * k, k);
          for (index_t c = 0; c < count; ++c) eigen_fft.inv(back.data() + c * k, spectrum.data() + c * h, k);
        },
        reps);
    std::printf("%5ld %14.2f %14.2f %16.2f %9.1fx %11.2fx %16.2f\n", static_cast<long>(k), estimate * 1e6,
                measure * 1e6, eigen * 1e6, eigen / estimate, measure / estimate, measure_plan * 1e3);
  }
}

/// The frequency-domain MAC of one product (n = 4096, batch 1) with frugal's planar layout beside
/// the same sums over interleaved std::complex<float> spectra (k/2+1 bins per block).
void mac_layout(index_t n, index_t k, int reps) {
  const index_t p = n / k, q = n / k, h = k / 2, bins = h + 1;
  std::vector<std::complex<float>> v(static_cast<std::size_t>(p * q * bins)), x(static_cast<std::size_t>(q * bins)),
      y(static_cast<std::size_t>(p * bins));
  sparse::fft_buffer<float> vr(p * q * h), vi(p * q * h), xr(q * h), xi(q * h), yr(p * h), yi(p * h);
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = {std::sin(0.1f * static_cast<float>(i)), 0.5f};
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = {std::cos(0.3f * static_cast<float>(i)), 0.25f};
  for (index_t i = 0; i < vr.size(); ++i) vr[i] = vi[i] = std::sin(0.1f * static_cast<float>(i));
  for (index_t i = 0; i < xr.size(); ++i) xr[i] = xi[i] = std::cos(0.3f * static_cast<float>(i));
  const double interleaved = seconds_per_call(
      [&] {
        for (index_t i = 0; i < p; ++i) {
          std::complex<float>* out = y.data() + i * bins;
          std::fill(out, out + bins, std::complex<float>(0));
          for (index_t j = 0; j < q; ++j) {
            const std::complex<float>* a = v.data() + (i * q + j) * bins;
            const std::complex<float>* b = x.data() + j * bins;
            for (index_t f = 0; f < bins; ++f)
              out[f] += std::complex<float>(a[f].real() * b[f].real() - a[f].imag() * b[f].imag(),
                                            a[f].real() * b[f].imag() + a[f].imag() * b[f].real());
          }
        }
      },
      reps);
  const double planar = seconds_per_call(
      [&] {
        for (index_t i = 0; i < p; ++i)
          sparse::detail::planar_dot(vr.data() + i * q * h, vi.data() + i * q * h, xr.data(), xi.data(), q, h,
                                     yr.data() + i * h, yi.data() + i * h);
      },
      reps);
  std::printf("%6ld %5ld %16.1f %12.1f %9.1fx\n", static_cast<long>(n), static_cast<long>(k), interleaved * 1e6,
              planar * 1e6, interleaved / planar);
}

/// Whole batch-1 products planned with FFTW_ESTIMATE and with FFTW_MEASURE, and the time to
/// construct the matrix (dominated by planning) each way.
void planning_effect(index_t n, const std::vector<index_t>& lengths, int reps) {
  std::printf("%6s %5s %14s %14s %12s %18s\n", "n", "k", "estimate us", "measure us", "meas./est.", "measure build ms");
  for (const index_t k : lengths) {
    Eigen::VectorXf x = Eigen::VectorXf::Random(n), y(n);
    double product[2] = {0, 0}, build = 0;
    for (const auto planning : {sparse::fft_planning::estimate, sparse::fft_planning::measure}) {
      const auto t = clock_type::now();
      sparse::block_circulant_matrix<float> m(n, n, k, planning);
      if (planning == sparse::fft_planning::measure)
        build = std::chrono::duration<double>(clock_type::now() - t).count();
      m.vectors().setConstant(0.01f);
      m.update_spectra();
      product[planning == sparse::fft_planning::measure] = seconds_per_call(
          [&] { m.multiply(nn::const_column_map<float>(x.data(), n, 1), nn::column_map<float>(y.data(), n, 1)); },
          reps);
    }
    std::printf("%6ld %5ld %14.1f %14.1f %11.2fx %18.1f\n", static_cast<long>(n), static_cast<long>(k),
                product[0] * 1e6, product[1] * 1e6, product[1] / product[0], build * 1e3);
  }
}

}  // namespace

int main(int argc, char** argv) {
  const bool quick = argc > 1 && std::string(argv[1]) == "--quick";
  Kokkos::ScopeGuard kokkos(argc, argv);
  Eigen::setNbThreads(1);
  const int reps = quick ? 5 : 15;
  frugal::rng gen(7);

  const std::vector<index_t> sizes =
      quick ? std::vector<index_t>{1024, 4096} : std::vector<index_t>{1024, 2048, 4096, 8192};
  const std::vector<index_t> blocks =
      quick ? std::vector<index_t>{16, 64} : std::vector<index_t>{8, 16, 32, 64, 128, 256};

  const double bandwidth = copy_bandwidth(reps);
  std::printf("Block-circulant y = W x (float, FFTW) vs Eigen dense, single thread, median of %d runs\n", reps);
  std::printf(
      "copy bandwidth (memcpy, read + write): %.1f GB/s; GEMV floor = n^2*4 bytes / that (a DRAM floor:\n"
      "a dense matrix that fits the last-level cache, n <= 2048 here, can beat it)\n",
      bandwidth / 1e9);
  std::printf("storage = dense bytes / (p*q*k*4); GFLOP/s counts the FFT method's own flops (MACs + FFTs)\n\n");

  std::vector<row> rows;
  row acceptance{};
  for (const index_t n : sizes)
    for (const index_t k : blocks) {
      rows.push_back(measure_product(n, k, 1, reps, gen));
      if (n == 4096 && k == 64) acceptance = rows.back();
    }
  const index_t batched_n = 4096;
  for (const index_t k : blocks) rows.push_back(measure_product(batched_n, k, 16, reps, gen));
  print_product_table(rows, bandwidth);

  std::printf("\nFFTW planning effort: whole products, batch 1 (measure build = first construction in the process)\n");
  planning_effect(4096, quick ? std::vector<index_t>{64} : std::vector<index_t>{16, 64, 128, 256}, reps);

  fft_choice(quick ? std::vector<index_t>{8, 64} : std::vector<index_t>{8, 16, 32, 64, 128, 256}, reps);

  std::printf("\nMAC layout: frequency-domain sums of one product (batch 1), interleaved vs planar\n");
  std::printf("%6s %5s %16s %12s %10s\n", "n", "k", "interleaved us", "planar us", "ratio");
  for (const index_t k : quick ? std::vector<index_t>{64} : std::vector<index_t>{8, 64, 256}) mac_layout(4096, k, reps);

  std::printf("\nn = 4096, k = 64, batch 1: %.1fx faster than Eigen GEMV (target >= 10x), storage %.0fx smaller\n",
              acceptance.dense_s / acceptance.circulant_s, 4096.0 * 4096.0 / (64.0 * 64.0 * 64.0));
  return 0;
}
