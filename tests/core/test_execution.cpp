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
