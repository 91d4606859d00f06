// Multi-objective Bayesian optimisation: hypervolume gains on ZDT1 and Branin-Currin against random
// search, batches, constraints and failed points, and exact resume from a checkpoint (the next
// suggestions after a resume equal the uninterrupted run's), for both optimisers.
#include <doctest/doctest.h>

#include <frugal/search/mobo.hpp>
#include <frugal/search/optimizer.hpp>
#include <frugal/search/test_functions.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <numbers>
#include <set>
#include <string>
#include <vector>

#include "test_support.hpp"

using namespace frugal;

namespace {

Eigen::VectorXd zdt1(const search::point& x) { return search::test_functions::zdt1(x); }
Eigen::VectorXd branin_currin(const search::point& x) { return search::test_functions::branin_currin(x); }

search::search_space unit_cube(int d) {
  search::search_space s;
  for (int j = 0; j < d; ++j) s.add_continuous("x" + std::to_string(j), 0, 1);
  return s;
}

template <class F>
double random_hypervolume(const search::search_space& s, F f, int n, std::uint64_t seed, const Eigen::VectorXd& ref) {
  rng gen(seed);
  Eigen::MatrixXd y(n, 2);
  for (int i = 0; i < n; ++i) y.row(i) = f(s.sample(gen)).transpose();
  return search::hypervolume(y, ref);
}

template <class F>
double mobo_hypervolume(const search::search_space& s, F f, int n, search::mo_options o, const Eigen::VectorXd& ref) {
  search::multi_objective_optimizer opt(s, 2, o);
  Eigen::MatrixXd y(n, 2);
  for (int i = 0; i < n; ++i) {
    const auto p = opt.ask();
    y.row(i) = f(p).transpose();
    opt.tell(p, y.row(i).transpose());
  }
  return search::hypervolume(y, ref);
}

}  // namespace

TEST_CASE(
    "multi_objective_optimizer: EHVI and ParEGO after 40 evaluations beat random search's 200 (ZDT1, Branin-Currin)" *
    doctest::test_suite("quality")) {
  for (auto acq : {search::mo_acquisition::ehvi, search::mo_acquisition::parego}) {
    const std::string name = acq == search::mo_acquisition::ehvi ? "EHVI" : "ParEGO";
    const search::mo_options o{.candidates = 1000, .seed = 3, .acquisition = acq};
    const Eigen::Vector2d zdt_ref(11, 11), bc_ref(18, 6);
    const double zdt = mobo_hypervolume(unit_cube(6), zdt1, 40, o, zdt_ref);
    const double zdt_random = random_hypervolume(unit_cube(6), zdt1, 200, 3, zdt_ref);
    const double bc = mobo_hypervolume(unit_cube(2), branin_currin, 40, o, bc_ref);
    const double bc_random = random_hypervolume(unit_cube(2), branin_currin, 200, 3, bc_ref);
    MESSAGE(name << ": ZDT1 hypervolume " << zdt << " (random 200: " << zdt_random << ", front 120.667); Branin-Currin "
                 << bc << " (random 200: " << bc_random << ")");
    CHECK(zdt > zdt_random);
    CHECK(zdt <= 120 + 2.0 / 3 + 1e-9);
    CHECK(bc > bc_random);
  }
}

TEST_CASE("multi_objective_optimizer: three objectives (Monte-Carlo EHVI) improve on the initial design" *
          doctest::test_suite("quality")) {
  const auto s = unit_cube(3);
  const auto f = [](const search::point& x) {  // DTLZ2-like: a spherical front
    Eigen::VectorXd y(3);
    const double g = std::pow(x[2] - 0.5, 2);
    y << (1 + g) * std::cos(x[0] * std::numbers::pi / 2) * std::cos(x[1] * std::numbers::pi / 2),
        (1 + g) * std::cos(x[0] * std::numbers::pi / 2) * std::sin(x[1] * std::numbers::pi / 2),
        (1 + g) * std::sin(x[0] * std::numbers::pi / 2);
    return y;
  };
  const Eigen::Vector3d ref(1.5, 1.5, 1.5);
  search::multi_objective_optimizer opt(s, 3, {.initial_points = 8, .candidates = 300, .seed = 2, .mc_samples = 64});
  Eigen::MatrixXd y(24, 3);
  double after_design = 0;
  for (int i = 0; i < 24; ++i) {
    const auto p = opt.ask();
    y.row(i) = f(p).transpose();
    opt.tell(p, y.row(i).transpose());
    if (i == 7) after_design = search::hypervolume(y.topRows(8), ref);
  }
  const double hv = search::hypervolume(y, ref);
  MESSAGE("3-objective hypervolume after the design "
          << after_design << ", after 24 " << hv << ", true front 3.375 - pi/6 = " << 3.375 - std::numbers::pi / 6);
  CHECK(hv > after_design + 0.1);
  CHECK(hv < 3.375 - std::numbers::pi / 6);
}

TEST_CASE("multi_objective_optimizer: batches are distinct, constraints and failures are respected") {
  search::search_space s;
  s.add_integer("a", 0, 7).add_integer("b", 0, 7).add_categorical("c", 2);  // 128 points
  for (auto acq : {search::mo_acquisition::ehvi, search::mo_acquisition::parego}) {
    search::multi_objective_optimizer opt(s, 2, {.initial_points = 6, .seed = 5, .acquisition = acq});
    opt.set_constraint([](const search::point& p) { return p[0] + p[1] <= 12; });
    std::set<search::point> asked;
    for (int round = 0; round < 8; ++round) {
      const auto batch = opt.ask(4);
      REQUIRE(batch.size() == 4);
      for (const auto& p : batch) {
        CHECK(asked.insert(p).second);
        CHECK(p[0] + p[1] <= 12);
        if (static_cast<int>(p[0]) % 3 == 0) {
          opt.tell_failed(p);
        } else {
          Eigen::Vector2d v(p[0] + p[2], 10 - p[1] + (p[0] - 4) * (p[0] - 4) * 0.1);
          opt.tell(p, v);
        }
      }
    }
    for (std::size_t i : opt.pareto_set()) CHECK(opt.history()[i].values.has_value());
  }
  CHECK_THROWS_AS(search::multi_objective_optimizer(s, 1), invalid_argument);
  CHECK_THROWS_AS(search::multi_objective_optimizer(s, 4), invalid_argument);
  search::multi_objective_optimizer opt(s, 2);
  CHECK_THROWS_AS(opt.tell({0, 0, 0}, Eigen::VectorXd::Zero(3)), invalid_argument);
  CHECK_THROWS_AS(opt.tell({0, 0, 0}, Eigen::Vector2d(1, std::nan(""))), invalid_argument);
}

TEST_CASE("resume: the suggestions after load equal the uninterrupted run's, for both optimisers") {
  const auto dir = frugal::test::scratch_dir("search_resume");
  const auto s = unit_cube(3);
  const auto f = [](const search::point& x) { return zdt1(x); };
  for (auto acq : {search::mo_acquisition::ehvi, search::mo_acquisition::parego}) {
    const search::mo_options o{.initial_points = 5, .candidates = 300, .seed = 9, .acquisition = acq};
    search::multi_objective_optimizer a(s, 2, o);
    for (int i = 0; i < 8; ++i) {
      const auto p = a.ask();
      a.tell(p, f(p));
    }
    a.save(dir / "mo.ck");
    search::multi_objective_optimizer b(s, 2, o);
    b.load(dir / "mo.ck");
    for (int i = 0; i < 4; ++i) {
      const auto pa = a.ask(2), pb = b.ask(2);
      CHECK(pa == pb);
      for (const auto& p : pa) {
        a.tell(p, f(p));
        b.tell(p, f(p));
      }
    }
    search::multi_objective_optimizer other(unit_cube(2), 2, o);
    CHECK_THROWS_AS(other.load(dir / "mo.ck"), invalid_argument);
  }
  // The single-objective optimiser, saved between an ask and its tell as well as after a tell.
  const auto g = [](const search::point& x) { return std::pow(x[0] - 0.3, 2) + std::pow(x[1] - 0.7, 2) + x[2]; };
  search::bayes_optimizer a(s, {.initial_points = 4, .candidates = 300, .seed = 4});
  for (int i = 0; i < 7; ++i) {
    const auto p = a.ask();
    a.tell(p, g(p));
  }
  a.save(dir / "so.ck");
  search::bayes_optimizer b(s, {.initial_points = 4, .candidates = 300, .seed = 4});
  b.load(dir / "so.ck");
  for (int i = 0; i < 5; ++i) {
    const auto pa = a.ask(), pb = b.ask();
    CHECK(pa == pb);
    a.tell(pa, g(pa));
    b.tell(pb, g(pb));
  }
  const auto pending = a.ask();
  a.save(dir / "so2.ck");
  search::bayes_optimizer c(s, {.initial_points = 4, .candidates = 300, .seed = 4});
  c.load(dir / "so2.ck");
  a.tell(pending, g(pending));
  c.tell(pending, g(pending));
  CHECK(a.ask() == c.ask());
  CHECK_THROWS_AS(c.load(dir / "mo.ck"), invalid_argument);
}

TEST_CASE("the optimisers suggest the same points on Kokkos::Serial and on the default host space") {
  // In an OpenMP build the default host space scores and refines candidates on several threads:
  // the suggestions must not depend on it.
  const auto s = unit_cube(3);
  search::basic_bayes_optimizer<Kokkos::Serial> serial(s, {.initial_points = 4, .candidates = 500, .seed = 6});
  search::bayes_optimizer parallel(s, {.initial_points = 4, .candidates = 500, .seed = 6});
  const auto g = [](const search::point& x) { return std::sin(5 * x[0]) + x[1] * x[2]; };
  for (int i = 0; i < 10; ++i) {
    const auto a = serial.ask(), b = parallel.ask();
    REQUIRE(a == b);
    serial.tell(a, g(a));
    parallel.tell(b, g(b));
  }
  search::basic_multi_objective_optimizer<Kokkos::Serial> mo_serial(
      s, 2, {.initial_points = 4, .candidates = 300, .seed = 6});
  search::multi_objective_optimizer mo_parallel(s, 2, {.initial_points = 4, .candidates = 300, .seed = 6});
  for (int i = 0; i < 4; ++i) {
    const auto a = mo_serial.ask(2), b = mo_parallel.ask(2);
    REQUIRE(a == b);
    for (const auto& p : a) {
      mo_serial.tell(p, zdt1(p));
      mo_parallel.tell(p, zdt1(p));
    }
  }
}
