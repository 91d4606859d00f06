// admm projection kernels on the execution-space seam: each kernel's plain serial reference
// (frugal/admm/detail/reference.hpp) beside the same kernel on Kokkos::Serial (one thread) and on
// the default host space (Kokkos::OpenMP with OMP_NUM_THREADS threads in an OpenMP build), all
// measured in this run: median seconds per call, and the ratios reference / 1 thread,
// reference / N threads and 1 thread / N threads. Every result is also checked to be the
// reference's, bit for bit where the kernel promises it.
//
//   OMP_NUM_THREADS=2 OMP_PROC_BIND=spread OMP_PLACES=threads bench_admm [--quick]
#include <frugal/admm.hpp>
#include <frugal/admm/detail/reference.hpp>
#include <frugal/core/rng.hpp>
#include "../common/timing.hpp"

#include <Kokkos_Core.hpp>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <type_traits>
#include <vector>

namespace admm = frugal::admm;
namespace reference = frugal::admm::detail::reference;
using frugal::index_t;
template <class S>
using mat = frugal::nn::matrix<S>;

namespace {

template <class S>
mat<S> random_matrix(frugal::rng& gen, index_t rows, index_t cols) {
  mat<S> w(rows, cols);
  for (index_t i = 0; i < w.size(); ++i) w.data()[i] = static_cast<S>(gen.normal());
  return w;
}

template <class S>
bool same_bits(const mat<S>& a, const mat<S>& b) {
  return a.rows() == b.rows() && a.cols() == b.cols() &&
         std::memcmp(a.data(), b.data(), static_cast<std::size_t>(a.size()) * sizeof(S)) == 0;
}

template <class S>
mat<S> restrict(const mat<S>& w, const mat<S>& mask) {
  mat<S> z(w.rows(), w.cols());
  for (index_t i = 0; i < w.size(); ++i) z.data()[i] = mask.data()[i] != S(0) ? w.data()[i] : S(0);
  return z;
}

int reps = 7;
volatile double sink = 0;  // keeps the residuals of the plain update from being optimised away

/// One table row: the reference, then `on(space)` on Serial and on the default host space; each
/// returns a matrix, compared with the reference's (bitwise unless `exact` is false).
template <class S, class Ref, class On>
void row(const std::string& name, const Ref& ref, const On& on, bool exact = true) {
  const Kokkos::Serial one;
  const frugal::default_host_space many;
  const mat<S> expected = ref();
  const bool ok1 = same_bits(on(one), expected), okn = same_bits(on(many), expected);
  const double t_ref = frugal::bench::time_median([&] { (void)ref(); }, reps, reps, 0);
  const double t_one = frugal::bench::time_median([&] { (void)on(one); }, reps, reps, 0);
  const double t_many = frugal::bench::time_median([&] { (void)on(many); }, reps, reps, 0);
  std::printf("%-44s %10.3f %10.3f %10.3f %8.2f %8.2f %8.2f  %s\n", name.c_str(), 1e3 * t_ref, 1e3 * t_one,
              1e3 * t_many, t_ref / t_one, t_ref / t_many, t_one / t_many,
              ok1 && okn ? (exact ? "bitwise" : "same") : "MISMATCH");
}

}  // namespace

int main(int argc, char** argv) {
  Kokkos::ScopeGuard kokkos(argc, argv);
  const bool quick = argc > 1 && std::string(argv[1]) == "--quick";
  if (quick) reps = 3;
  const index_t big = quick ? 300 : 1000;
  frugal::rng gen(2024);
  const int threads = frugal::concurrency(frugal::default_host_space{});
  std::printf("admm kernels: median of %d runs, milliseconds; N = %d threads (%s)\n", reps, threads,
              frugal::default_host_space::name());
  std::printf("%-44s %10s %10s %10s %8s %8s %8s\n", "kernel", "reference", "1 thread", "N threads", "ref/1", "ref/N",
              "1/N");

  const auto w = random_matrix<float>(gen, big, big);
  const auto wd = random_matrix<double>(gen, big, big);
  const auto fc1 = random_matrix<float>(gen, 120, 400);
  const std::string shape = std::to_string(big) + "x" + std::to_string(big);

  row<float>(
      "irregular project, keep 0.1, " + shape + " f32",
      [&] { return restrict(w, reference::irregular_support(w, 0.1)); },
      [&](const auto& exec) { return admm::irregular_sparsity{.keep_fraction = 0.1}.project(exec, w); });
  row<double>(
      "irregular project, keep 0.1, " + shape + " f64",
      [&] { return restrict(wd, reference::irregular_support(wd, 0.1)); },
      [&](const auto& exec) { return admm::irregular_sparsity{.keep_fraction = 0.1}.project(exec, wd); });
  row<float>(
      "irregular project, keep 0.02, 120x400 f32",
      [&] { return restrict(fc1, reference::irregular_support(fc1, 0.02)); },
      [&](const auto& exec) { return admm::irregular_sparsity{.keep_fraction = 0.02}.project(exec, fc1); });
  row<float>(
      "filter support, keep 0.5, " + shape + " f32", [&] { return reference::filter_support(w, 0.5); },
      [&](const auto& exec) { return admm::filter_sparsity{.keep_fraction = 0.5}.support(exec, w); });
  row<float>(
      "column support, keep 0.5, " + shape + " f32", [&] { return reference::column_support(w, 0.5); },
      [&](const auto& exec) { return admm::column_sparsity{.keep_fraction = 0.5}.support(exec, w); });
  {
    const auto a = random_matrix<float>(gen, big / 2, big), b = random_matrix<float>(gen, big, big / 3);
    const mat<float>* ws[] = {&w, &a, &b};
    row<float>(
        "global irregular support, 3 matrices, keep 0.1",
        [&] { return reference::global_irregular_support<float>(ws, 0.1)[1]; },
        [&](const auto& exec) { return admm::global_irregular_support<float>(exec, ws, 0.1)[1]; });
  }
  {
    const admm::bcr_sparsity exact{.block_rows = 8, .block_cols = 8};
    const admm::bcr_sparsity heuristic{.block_rows = 8, .block_cols = 16};
    const auto v = random_matrix<float>(gen, big / 2, big / 2);
    const std::string half = std::to_string(big / 2) + "x" + std::to_string(big / 2);
    row<float>(
        "BCR support 8x8 (exact), " + half + " f32",
        [&] { return reference::bcr_mask<float>(reference::bcr_select(exact, v)); },
        [&](const auto& exec) { return exact.support(exec, v); });
    row<float>(
        "BCR support 8x16 (alternating), " + half + " f32",
        [&] { return reference::bcr_mask<float>(reference::bcr_select(heuristic, v)); },
        [&](const auto& exec) { return heuristic.support(exec, v); });
  }
  {
    // k as a run-time value for both, as a projection's field is: a literal inlined into the
    // reference would turn its modulo into a mask.
    volatile index_t opaque_k = 8;
    const index_t k = opaque_k;
    row<float>(
        "block-circulant project k=8, " + shape + " f32", [&] { return reference::block_circulant_project(w, k); },
        [&](const auto& exec) { return admm::block_circulant{.block_size = k}.project(exec, w); });
  }
  {
    const index_t n = quick ? 64 : 128;
    const auto v = random_matrix<float>(gen, n, n);
    const mat<float>* none = nullptr;
    row<float>(
        "uniform 4-bit project, " + std::to_string(n) + "x" + std::to_string(n) + " f32",
        [&] { return reference::uniform_quantize(v, none, 4, true).reconstruct(Kokkos::Serial{}); },
        [&](const auto& exec) { return admm::uniform_quantization{.bits = 4}.project(exec, v); });
  }
  {
    const mat<float>* none = nullptr;
    row<float>(
        "ternary project, " + shape + " f32",
        [&] { return reference::ternary_quantize(w, none).reconstruct(Kokkos::Serial{}); },
        [&](const auto& exec) { return admm::ternary_quantization{}.project(exec, w); });
    row<float>(
        "binary project, " + shape + " f32",
        [&] { return reference::binary_quantize(w, none).reconstruct(Kokkos::Serial{}); },
        [&](const auto& exec) { return admm::binary_quantization{}.project(exec, w); }, false);
    row<float>(
        "power-of-two 4-bit project, " + shape + " f32",
        [&] { return reference::power_of_two_quantize(w, none, 4).reconstruct(Kokkos::Serial{}); },
        [&](const auto& exec) { return admm::power_of_two_quantization{.bits = 4}.project(exec, w); });
  }
  {
    // One ADMM Z/U update (irregular, keep 0.1) on a big x big parameter.
    frugal::nn::parameter<float> p;
    p.resize(big, big);
    p.value = w;
    frugal::nn::parameter_registry<float> registry;
    registry.add("w", p);
    auto plain = [&] {
      mat<float> z = restrict(p.value, reference::irregular_support(p.value, 0.1));
      mat<float> u = mat<float>::Zero(big, big);
      const mat<float> shifted = p.value + u;
      const mat<float> next = restrict(shifted, reference::irregular_support(shifted, 0.1));
      sink = (next - z).cast<double>().squaredNorm();
      z = next;
      u += p.value - z;
      sink = sink + (p.value - z).cast<double>().squaredNorm() + p.value.cast<double>().squaredNorm();
      return u;
    };
    auto on = [&](const auto& exec) {
      admm::admm_state<float, std::remove_cvref_t<decltype(exec)>> state({.rho = 1e-3, .rho_multiplier = 1}, exec);
      state.add("w", admm::irregular_sparsity{.keep_fraction = 0.1});
      state.initialize(registry);
      sink = state.update(registry).primal;
      return state.u("w");
    };
    row<float>("ADMM initialize + Z/U update, " + shape + " f32", plain, on);
  }
  return 0;
}
