// frugal/quantum kernel timings beside the memory-traffic floor, single thread (Kokkos' default
// host space; Serial on Debian). Density matrices n = 8..13 (double): one-qubit gate, two-qubit
// gate, one-qubit channel, each averaged over every qubit (pair) of the register; state vectors
// n = 20..24: one- and two-qubit gates. Floor = bytes read + written once (2 × 16 × 4^n for ρ,
// 2 × 16 × 2^n for ψ) ÷ the copy bandwidth of a buffer of the same size, measured in this run.
// Medians of repeated runs.
#include <frugal/quantum.hpp>

#include "../common/timing.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <vector>

namespace q = frugal::quantum;
using frugal::index_t;
using clock_type = std::chrono::steady_clock;

namespace {

using frugal::bench::median;

/// Median seconds of f: 5 to `max_reps` runs, stopping after ~0.5 s.
double time_median(const std::function<void()>& f, int max_reps = 41) {
  return frugal::bench::time_median(f, max_reps, 5, 0.5);
}

/// Copy bandwidth (bytes read + written per second) of a `bytes`-byte memcpy.
double copy_bandwidth(std::size_t bytes) {
  std::vector<char> a(bytes, 1), b(bytes, 0);
  return 2.0 * static_cast<double>(bytes) / time_median([&] { std::memcpy(b.data(), a.data(), bytes); });
}

}  // namespace

int main(int argc, char** argv) {
  Kokkos::ScopeGuard kokkos(argc, argv);
  std::printf("frugal/quantum kernels, one thread (%s), double precision; ms per operation (median)\n",
              Kokkos::DefaultHostExecutionSpace::name());
  std::printf("floor = 2 x register bytes / copy bandwidth of a same-size buffer (this run)\n\n");

  std::printf(
      "1q gate = H (dense 2x2); CX = permutation (monomial kernel); 2q dense = (RY x RX)·CX (dense 4x4, "
      "U B U^dagger per 4x4 block); channel = depolarizing (4x4 superoperator)\n\n");
  std::printf("Density matrix\n%3s %10s %9s | %9s %6s | %9s %6s | %9s %6s | %9s %6s\n", "n", "bytes", "floor ms",
              "1q gate", "xfloor", "CX", "xfloor", "2q dense", "xfloor", "1q chan", "xfloor");
  const auto h = q::gates::h();
  const auto cx = q::gates::cx();
  const q::cmatrix dense2 = q::gates::on_both(q::gates::rx(0.7), q::gates::ry(0.3)) * cx;
  const auto dep = q::channels::depolarizing(0.01);
  for (int n = 8; n <= 13; ++n) {
    q::density_matrix<double> rho(n);
    const double bytes = 16.0 * static_cast<double>(index_t(1) << (2 * n));
    const double floor_ms = 1e3 * 2 * bytes / copy_bandwidth(static_cast<std::size_t>(bytes));
    const double g1 = 1e3 * time_median([&] {
                        for (int k = 0; k < n; ++k) q::apply_unitary(rho, h, k);
                      }) /
                      n;
    const double g2 = 1e3 * time_median([&] {
                        for (int k = 0; k < n; ++k) q::apply_unitary(rho, cx, k, (k + 1) % n);
                      }) /
                      n;
    const double g2d = 1e3 * time_median([&] {
                         for (int k = 0; k < n; ++k) q::apply_unitary(rho, dense2, k, (k + 1) % n);
                       }) /
                       n;
    const double c1 = 1e3 * time_median([&] {
                        for (int k = 0; k < n; ++k) q::apply_channel(rho, dep, k);
                      }) /
                      n;
    std::printf("%3d %10.0f %9.3f | %9.3f %6.2f | %9.3f %6.2f | %9.3f %6.2f | %9.3f %6.2f\n", n, bytes, floor_ms, g1,
                g1 / floor_ms, g2, g2 / floor_ms, g2d, g2d / floor_ms, c1, c1 / floor_ms);
    std::fflush(stdout);
  }

  std::printf("\nState vector\n%3s %10s %9s | %9s %6s | %9s %6s | %9s %6s\n", "n", "bytes", "floor ms", "1q gate",
              "xfloor", "CX", "xfloor", "2q dense", "xfloor");
  for (int n = 20; n <= 24; ++n) {
    q::state_vector<double> psi(n);
    const double bytes = 16.0 * static_cast<double>(index_t(1) << n);
    const double floor_ms = 1e3 * 2 * bytes / copy_bandwidth(static_cast<std::size_t>(bytes));
    const double g1 = 1e3 *
                      time_median(
                          [&] {
                            for (int k = 0; k < n; ++k) q::apply_unitary(psi, h, k);
                          },
                          9) /
                      n;
    const double g2 = 1e3 *
                      time_median(
                          [&] {
                            for (int k = 0; k < n; ++k) q::apply_unitary(psi, cx, k, (k + 1) % n);
                          },
                          9) /
                      n;
    const double g2d = 1e3 *
                       time_median(
                           [&] {
                             for (int k = 0; k < n; ++k) q::apply_unitary(psi, dense2, k, (k + 1) % n);
                           },
                           9) /
                       n;
    std::printf("%3d %10.0f %9.3f | %9.3f %6.2f | %9.3f %6.2f | %9.3f %6.2f\n", n, bytes, floor_ms, g1, g1 / floor_ms,
                g2, g2 / floor_ms, g2d, g2d / floor_ms);
    std::fflush(stdout);
  }
  return 0;
}
