// frugal/quantum kernel timings beside the memory-traffic floor, on one thread (Kokkos::Serial) and
// on N threads (the default host space: Kokkos::OpenMP in the release and openmp presets).
// Density matrices n = 8..13 (double): one-qubit gate, two-qubit gates, one-qubit channel, each
// averaged over every qubit (pair) of the register; state vectors n = 20..24: one- and two-qubit
// gates. The floor is an in-place streaming pass over the register's own bytes (every double read,
// scaled and written back, on the same space and thread count): what a kernel that reads and
// writes each entry once cannot beat. Medians of repeated runs.
//
//   bench_quantum [--threads N]     N defaults to the default host space's concurrency
#include <frugal/quantum.hpp>

#include "../common/timing.hpp"

#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <type_traits>
#include <vector>

namespace q = frugal::quantum;
using frugal::index_t;

namespace {

using parallel_space = Kokkos::DefaultHostExecutionSpace;

/// Median seconds of f: 5 to `max_reps` runs, stopping after ~0.5 s.
double time_median(const std::function<void()>& f, int max_reps = 41) {
  return frugal::bench::time_median(f, max_reps, 5, 0.5);
}

/// Seconds of one in-place pass x ← a·x over a register's doubles on `exec`.
template <class Space, class Reg>
double in_place_floor(const Space& exec, Reg& reg) {
  auto* x = reinterpret_cast<double*>(reg.data().data());
  const index_t n = 2 * static_cast<index_t>(reg.data().extent(0));
  const index_t grain = 1 << 14;
  return time_median([&] {
    frugal::parallel_for_chunks("bench::in_place_floor", exec, n, grain, [=](index_t b, index_t e) {
      for (index_t i = b; i < e; ++i) x[i] *= 0.9999999;
    });
    exec.fence();
  });
}

struct kernel_times {
  double floor, g1, cx, g2d, c1;  // ms
};

template <class Space>
kernel_times density_times(int n) {
  const Space exec;
  q::density_matrix<double, Space> rho(n, exec);
  const auto h = q::gates::h();
  const auto cx = q::gates::cx();
  const q::cmatrix dense2 = q::gates::on_both(q::gates::rx(0.7), q::gates::ry(0.3)) * cx;
  const auto dep = q::channels::depolarizing(0.01);
  kernel_times t{};
  t.floor = 1e3 * in_place_floor(exec, rho);
  auto each = [&](const std::function<void(int)>& f) {
    return 1e3 * time_median([&] {
             for (int k = 0; k < n; ++k) f(k);
             exec.fence();
           }) /
           n;
  };
  t.g1 = each([&](int k) { q::apply_unitary(exec, rho, h, k); });
  t.cx = each([&](int k) { q::apply_unitary(exec, rho, cx, k, (k + 1) % n); });
  t.g2d = each([&](int k) { q::apply_unitary(exec, rho, dense2, k, (k + 1) % n); });
  t.c1 = each([&](int k) { q::apply_channel(exec, rho, dep, k); });
  return t;
}

template <class Space>
kernel_times state_times(int n) {
  const Space exec;
  q::state_vector<double, Space> psi(n, exec);
  const auto h = q::gates::h();
  const auto cx = q::gates::cx();
  const q::cmatrix dense2 = q::gates::on_both(q::gates::rx(0.7), q::gates::ry(0.3)) * cx;
  kernel_times t{};
  t.floor = 1e3 * in_place_floor(exec, psi);
  auto each = [&](const std::function<void(int)>& f) {
    return 1e3 *
           frugal::bench::time_median(
               [&] {
                 for (int k = 0; k < n; ++k) f(k);
                 exec.fence();
               },
               9, 3, 0.5) /
           n;
  };
  t.g1 = each([&](int k) { q::apply_unitary(exec, psi, h, k); });
  t.cx = each([&](int k) { q::apply_unitary(exec, psi, cx, k, (k + 1) % n); });
  t.g2d = each([&](int k) { q::apply_unitary(exec, psi, dense2, k, (k + 1) % n); });
  t.c1 = 0;
  return t;
}

void print_header(const char* what, bool channel) {
  std::printf("\n%s\n%3s %5s %9s | %8s %6s | %8s %6s | %8s %6s", what, "n", "thr", "floor ms", "1q gate", "xfloor",
              "CX", "xfloor", "2q dense", "xfloor");
  if (channel) std::printf(" | %8s %6s", "1q chan", "xfloor");
  std::printf("\n");
}

void print_row(int n, int threads, const kernel_times& t, bool channel) {
  std::printf("%3d %5d %9.3f | %8.3f %6.2f | %8.3f %6.2f | %8.3f %6.2f", n, threads, t.floor, t.g1, t.g1 / t.floor,
              t.cx, t.cx / t.floor, t.g2d, t.g2d / t.floor);
  if (channel) std::printf(" | %8.3f %6.2f", t.c1, t.c1 / t.floor);
  std::printf("\n");
}

void print_speedup(int n, const kernel_times& one, const kernel_times& many, bool channel) {
  std::printf("%3d %5s %9.2f | %8.2f %6s | %8.2f %6s | %8.2f %6s", n, "1T/NT", one.floor / many.floor, one.g1 / many.g1,
              "", one.cx / many.cx, "", one.g2d / many.g2d, "");
  if (channel) std::printf(" | %8.2f %6s", one.c1 / many.c1, "");
  std::printf("\n");
}

}  // namespace

int main(int argc, char** argv) {
  Kokkos::ScopeGuard kokkos(argc, argv);
  int threads = frugal::concurrency(parallel_space{});
  for (int i = 1; i + 1 < argc; ++i)
    if (std::string(argv[i]) == "--threads") threads = std::atoi(argv[i + 1]);
  const bool parallel = !std::is_same_v<Kokkos::Serial, parallel_space> && threads > 1;
  if (threads > 1 && !parallel) std::printf("(Kokkos was built without a parallel host back end: one thread only)\n");
  if (parallel && threads != frugal::concurrency(parallel_space{}))
    std::printf("(--threads %d but Kokkos runs %d threads: set OMP_NUM_THREADS=%d)\n", threads,
                frugal::concurrency(parallel_space{}), threads);
  const int nt = frugal::concurrency(parallel_space{});
  std::printf(
      "frugal/quantum kernels, double precision; ms per operation (median). Rows: 1 thread (Kokkos::Serial)%s\n",
      parallel ? (", N threads (" + std::string(parallel_space::name()) + "), and 1T/NT speedups").c_str() : "");
  std::printf("floor = one in-place read-scale-write pass over the register's bytes on the same space and threads\n");
  std::printf(
      "1q gate = H (dense 2x2); CX = permutation (monomial kernel); 2q dense = (RY x RX)·CX (dense 4x4, "
      "U B U^dagger per 4x4 block); channel = depolarizing (4x4 superoperator)\n");

  print_header("Density matrix", true);
  for (int n = 8; n <= 13; ++n) {
    const auto one = density_times<Kokkos::Serial>(n);
    print_row(n, 1, one, true);
    if (parallel) {
      const auto many = density_times<parallel_space>(n);
      print_row(n, nt, many, true);
      print_speedup(n, one, many, true);
    }
    std::fflush(stdout);
  }
  print_header("State vector", false);
  for (int n = 20; n <= 24; ++n) {
    const auto one = state_times<Kokkos::Serial>(n);
    print_row(n, 1, one, false);
    if (parallel) {
      const auto many = state_times<parallel_space>(n);
      print_row(n, nt, many, false);
      print_speedup(n, one, many, false);
    }
    std::fflush(stdout);
  }
  return 0;
}
