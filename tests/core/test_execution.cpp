#include <doctest/doctest.h>

#include <frugal/core/execution.hpp>
#include <frugal/core/rng.hpp>

#include <vector>

static_assert(frugal::ExecutionSpace<Kokkos::Serial>);
static_assert(frugal::HostExecutionSpace<Kokkos::DefaultHostExecutionSpace>);
static_assert(!frugal::ExecutionSpace<int>);
static_assert(frugal::View<Kokkos::View<double*>>);
static_assert(std::is_same_v<frugal::execution_space_of_t<Kokkos::View<double*, Kokkos::HostSpace>>,
                             Kokkos::View<double*, Kokkos::HostSpace>::execution_space>);

TEST_CASE_TEMPLATE("parallel_for and parallel_sum match a serial loop on random input", Exec, Kokkos::Serial,
                   Kokkos::DefaultHostExecutionSpace) {
  frugal::rng g(11);
  for (frugal::index_t n : {0, 1, 7, 1000, 4097}) {
    std::vector<double> x(static_cast<std::size_t>(n)), y(static_cast<std::size_t>(n)),
        ref(static_cast<std::size_t>(n));
    for (auto& v : x) v = g.normal();
    double ref_sum = 0;
    for (frugal::index_t i = 0; i < n; ++i) {
      ref[static_cast<std::size_t>(i)] = 2 * x[static_cast<std::size_t>(i)] + 1;
      ref_sum += x[static_cast<std::size_t>(i)];
    }
    const double* px = x.data();
    double* py = y.data();
    frugal::parallel_for("test", Exec{}, n, [=](frugal::index_t i) { py[i] = 2 * px[i] + 1; });
    CHECK(y == ref);
    const double s =
        frugal::parallel_sum<double>("test", Exec{}, n, [=](frugal::index_t i, double& acc) { acc += px[i]; });
    CHECK(s == doctest::Approx(ref_sum).epsilon(1e-12));
  }
}

TEST_CASE("parallel_for derives the execution space from a View") {
  Kokkos::View<int*, Kokkos::HostSpace> v("v", 10);
  frugal::parallel_for("fill", v, 10, [=](frugal::index_t i) { v(i) = static_cast<int>(i * i); });
  for (int i = 0; i < 10; ++i) CHECK(v(i) == i * i);
}

#include <frugal/core/parallel.hpp>

#include "test_support.hpp"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <set>
#include <thread>

TEST_CASE("chunking covers [0, n) once, in order, with shape-only boundaries") {
  for (frugal::index_t n : {0, 1, 5, 64, 1000}) {
    for (frugal::index_t grain : {1, 3, 64, 4096}) {
      const frugal::chunking parts{n, grain};
      frugal::index_t next = 0;
      for (frugal::index_t c = 0; c < parts.count(); ++c) {
        CHECK(parts.begin(c) == next);
        CHECK(parts.end(c) > parts.begin(c));
        CHECK(parts.end(c) - parts.begin(c) <= grain);
        next = parts.end(c);
      }
      CHECK(next == n);
    }
  }
  CHECK(frugal::grain_for(1) == frugal::index_t{1} << 15);
  CHECK(frugal::grain_for(1 << 20) == 1);
  CHECK(frugal::grain_for(1000, 4000) == 4);
}

TEST_CASE_TEMPLATE("parallel_for_chunks visits every item once; deterministic_sum is bit-identical to chunk order",
                   Exec, FRUGAL_TEST_SPACES) {
  frugal::rng g(5);
  for (frugal::index_t n : {0, 1, 7, 1001, 100003}) {
    std::vector<double> x(static_cast<std::size_t>(n));
    for (auto& v : x) v = g.normal() * 1e3;
    std::vector<int> hits(static_cast<std::size_t>(n), 0);
    int* h = hits.data();
    frugal::parallel_for_chunks("test", Exec{}, n, 97, [=](frugal::index_t b, frugal::index_t e) {
      for (frugal::index_t i = b; i < e; ++i) ++h[i];
    });
    CHECK(std::count(hits.begin(), hits.end(), 1) == n);
    // The reference adds the chunks' sums in chunk order, exactly as the contract says.
    const double* px = x.data();
    auto chunk_sum = [=](frugal::index_t b, frugal::index_t e) {
      double s = 0;
      for (frugal::index_t i = b; i < e; ++i) s += px[i];
      return s;
    };
    double ref = 0;
    const frugal::chunking parts{n, 97};
    for (frugal::index_t c = 0; c < parts.count(); ++c) ref += chunk_sum(parts.begin(c), parts.end(c));
    const double got = frugal::deterministic_sum<double>("test", Exec{}, n, 97, chunk_sum);
    CHECK(std::memcmp(&got, &ref, sizeof got) == 0);
    // reproducible_sum: the same contract with chunks of 2^14 items, whatever the thread count.
    const frugal::chunking big{n, frugal::index_t{1} << 14};
    double ref_items = 0;
    for (frugal::index_t c = 0; c < big.count(); ++c) ref_items += chunk_sum(big.begin(c), big.end(c));
    const double items =
        frugal::reproducible_sum<double>("test", Exec{}, n, [=](frugal::index_t i, double& acc) { acc += px[i]; });
    CHECK(std::memcmp(&items, &ref_items, sizeof items) == 0);
  }
}

TEST_CASE("the default host space runs on as many threads as OMP_NUM_THREADS asks (openmp preset)") {
  const char* env = std::getenv("OMP_NUM_THREADS");
  const int concurrency = frugal::concurrency(Kokkos::DefaultHostExecutionSpace{});
#ifdef KOKKOS_ENABLE_OPENMP
  if (env && std::atoi(env) > 1) {
    CHECK(concurrency == std::atoi(env));
    // Distinct threads really run chunks: record which OS threads touched the work.
    std::mutex lock;
    std::set<std::thread::id> seen;
    frugal::parallel_for_chunks("threads", Kokkos::DefaultHostExecutionSpace{}, 64, 1,
                                [&](frugal::index_t, frugal::index_t) {
                                  volatile double spin = 0;
                                  for (int i = 0; i < 200000; ++i) spin = spin + i;
                                  std::lock_guard<std::mutex> guard(lock);
                                  seen.insert(std::this_thread::get_id());
                                });
    CHECK(seen.size() >= 2);
  }
#else
  CHECK(concurrency == 1);
  (void)env;
#endif
}

TEST_CASE("kernels issued from inside a parallel region run serially and correctly (nested reductions too)") {
  // An example's jobs run as one dispatch over the host space; each job's own kernels (sums among
  // them) then run inside it. Kokkos' OpenMP parallel_reduce would reuse the outer dispatch's
  // scratch there, so frugal::parallel_sum runs serially instead.
  const frugal::index_t jobs = 7, n = 1001;
  std::vector<double> sums(static_cast<std::size_t>(jobs), 0);
  std::vector<int> runs(static_cast<std::size_t>(jobs), 0);
  double* out = sums.data();
  int* ran = runs.data();
  Kokkos::parallel_for("jobs",
                       Kokkos::RangePolicy<Kokkos::DefaultHostExecutionSpace, Kokkos::Schedule<Kokkos::Dynamic>>(
                           0, jobs, Kokkos::ChunkSize(1)),
                       [=](frugal::index_t j) {
                         ++ran[j];
                         out[j] = frugal::parallel_sum<double>(
                             "inner", Kokkos::DefaultHostExecutionSpace{}, n,
                             [=](frugal::index_t i, double& acc) { acc += static_cast<double>(i + j); });
                       });
  for (frugal::index_t j = 0; j < jobs; ++j) {
    CHECK(runs[static_cast<std::size_t>(j)] == 1);
    CHECK(sums[static_cast<std::size_t>(j)] == doctest::Approx(n * (n - 1) / 2.0 + static_cast<double>(n * j)));
  }
  CHECK_FALSE(frugal::inside_parallel_region(Kokkos::DefaultHostExecutionSpace{}));
}
