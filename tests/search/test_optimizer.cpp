// Search spaces (encode/decode round trips, enumeration) and single-objective Bayesian optimisation
// on Branin (simple regret after 50 evaluations, median of 5 seeds ≤ 1e-3) and on a discrete
// space with failing points (never suggested again).
#include <doctest/doctest.h>

#include <frugal/search/optimizer.hpp>
#include <frugal/search/test_functions.hpp>

#include <algorithm>
#include <cmath>
#include <numbers>
#include <string>
#include <vector>

using namespace frugal;

TEST_CASE("search_space: encode and decode round-trip every kind of dimension; enumeration covers the space") {
  search::search_space s;
  s.add_continuous("lr", 1e-4, 1e-1, true)
      .add_integer("bits", 2, 8)
      .add_ordinal("block", {4, 8, 16, 32})
      .add_categorical("dataflow", 3);
  CHECK(s.encoded_dims() == 6);
  rng gen(3);
  for (int k = 0; k < 200; ++k) {
    const auto p = s.sample(gen);
    REQUIRE(s.contains(p));
    const auto u = s.encode(p);
    CHECK((u.array() >= 0).all());
    CHECK((u.array() <= 1).all());
    const auto q = s.decode(u);
    CHECK(q[1] == p[1]);
    CHECK(q[2] == p[2]);
    CHECK(q[3] == p[3]);
    CHECK(q[0] == doctest::Approx(p[0]).epsilon(1e-12));
  }
  CHECK_FALSE(s.contains({0.01, 3.5, 8, 1}));
  CHECK_FALSE(s.contains({0.01, 3, 9, 1}));
  CHECK_FALSE(s.cardinality().has_value());
  search::search_space d;
  d.add_integer("a", 0, 2).add_ordinal("b", {1, 10}).add_categorical("c", 2);
  REQUIRE(d.cardinality() == 12u);
  std::set<search::point> all;
  for (std::uint64_t i = 0; i < 12; ++i) all.insert(d.enumerate(i));
  CHECK(all.size() == 12);
  CHECK_THROWS_AS(s.add_continuous("bad", 1, 0), invalid_argument);
  CHECK_THROWS_AS(s.add_continuous("bad", 0, 1, true), invalid_argument);
}

TEST_CASE("bayes_optimizer on Branin: simple regret after 50 evaluations, median of 5 seeds, at most 1e-3" *
          doctest::test_suite("quality")) {
  const auto branin = search::test_functions::branin;
  const double minimum = search::test_functions::branin_minimum;
  std::vector<double> regrets;
  for (std::uint64_t seed = 1; seed <= 5; ++seed) {
    search::search_space s;
    s.add_continuous("x1", -5, 10).add_continuous("x2", 0, 15);
    search::bayes_optimizer opt(s, {.seed = seed});
    for (int k = 0; k < 50; ++k) {
      const auto p = opt.ask();
      opt.tell(p, branin(p[0], p[1]));
    }
    regrets.push_back(*opt.best_value() - minimum);
  }
  std::sort(regrets.begin(), regrets.end());
  MESSAGE("Branin regrets " << regrets[0] << " " << regrets[1] << " " << regrets[2] << " " << regrets[3] << " "
                            << regrets[4]);
  CHECK(regrets[2] <= 1e-3);
}

TEST_CASE("bayes_optimizer on a discrete space: failed points are never suggested again, the optimum is found") {
  search::search_space s;
  s.add_integer("a", 0, 9).add_integer("b", 0, 9).add_categorical("c", 3);  // 300 points
  search::bayes_optimizer opt(s, {.initial_points = 8, .seed = 4});
  const auto f = [](const search::point& p) {
    return std::pow(p[0] - 7, 2) + std::pow(p[1] - 2, 2) + (p[2] == 1 ? 0 : 5);
  };
  std::set<search::point> failed, asked;
  for (int k = 0; k < 40; ++k) {
    const auto p = opt.ask();
    CHECK(failed.count(p) == 0);
    CHECK(asked.insert(p).second);  // nothing is suggested twice
    if (p[0] + p[1] == 10) {        // a band of points whose evaluation fails
      failed.insert(p);
      opt.tell_failed(p);
    } else {
      opt.tell(p, f(p));
    }
  }
  CHECK(*opt.best_value() == 0);
  CHECK_THROWS_AS(opt.tell({0, 0, 5}, 1.0), invalid_argument);
  CHECK_THROWS_AS(opt.tell({1, 1, 1}, std::nan("")), invalid_argument);
}

TEST_CASE("bayes_optimizer on Hartmann-6: simple regret after 50 evaluations, median of 5 seeds, at most 0.05" *
          doctest::test_suite("quality")) {
  const auto hartmann6 = search::test_functions::hartmann6;
  const double minimum = search::test_functions::hartmann6_minimum;
  std::vector<double> regrets;
  for (std::uint64_t seed = 1; seed <= 5; ++seed) {
    search::search_space s;
    for (int j = 0; j < 6; ++j) s.add_continuous("x" + std::to_string(j), 0, 1);
    search::bayes_optimizer opt(s, {.seed = seed});
    for (int k = 0; k < 50; ++k) {
      const auto x = opt.ask();
      opt.tell(x, hartmann6(x));
    }
    regrets.push_back(*opt.best_value() - minimum);
  }
  std::sort(regrets.begin(), regrets.end());
  MESSAGE("Hartmann-6 regrets " << regrets[0] << " " << regrets[1] << " " << regrets[2] << " " << regrets[3] << " "
                                << regrets[4]);
  CHECK(regrets[2] <= 0.05);
}

TEST_CASE("bayes_optimizer: a region where evaluations fail is learnt and avoided after the initial design") {
  // Evaluations fail wherever x0 > 0.5 (half the square). The model of the objective knows nothing
  // there, so without a model of failure its uncertainty keeps drawing the search back in.
  search::search_space s;
  s.add_continuous("x0", 0, 1).add_continuous("x1", 0, 1);
  for (std::uint64_t seed : {1, 2, 3}) {
    search::bayes_optimizer opt(s, {.initial_points = 10, .candidates = 1000, .seed = seed});
    int failed_after_design = 0;
    for (int k = 0; k < 40; ++k) {
      const auto p = opt.ask();
      if (p[0] > 0.5) {
        opt.tell_failed(p);
        if (k >= 10) ++failed_after_design;
      } else {
        opt.tell(p, std::pow(p[0] - 0.2, 2) + std::pow(p[1] - 0.5, 2) + 0.3 * std::sin(12 * p[1]));
      }
    }
    MESSAGE("seed " << seed << ": failed suggestions in 30 model-led asks: " << failed_after_design << ", best "
                    << *opt.best_value());
    // Without the model of failure 21-25 of the 30 asks fail on seeds 1-5; with it, 11-15.
    CHECK(failed_after_design <= 16);
    CHECK(*opt.best_value() < -0.28);  // the feasible optimum is -0.2890 at (0.2, 0.397)
  }
}
