// frugal/search in one page: Bayesian optimisation of a function over a mixed space (ask, evaluate,
// tell), a failed evaluation, a checkpoint to resume from, and a two-objective search whose Pareto
// front is printed.
#include <frugal/search/mobo.hpp>
#include <frugal/search/optimizer.hpp>

#include <cmath>
#include <cstdio>
#include <filesystem>

namespace s = frugal::search;

int main() {
  // A learning rate (log scale), a layer width and an activation: minimise a made-up loss.
  s::search_space space;
  space.add_continuous("lr", 1e-4, 1e-1, /*log_scale=*/true).add_ordinal("width", {16, 32, 64, 128});
  space.add_categorical("activation", 3);
  const auto loss = [](const s::point& p) {
    return std::pow(std::log10(p[0]) + 2.5, 2) + std::abs(std::log2(p[1]) - 6) * 0.3 + (p[2] == 1 ? 0.0 : 0.4);
  };
  s::bayes_optimizer opt(space, {.initial_points = 6, .seed = 1});
  for (int k = 0; k < 25; ++k) {
    const s::point p = opt.ask();
    if (p[1] == 16 && p[2] == 2) {  // say this configuration crashes: it is never suggested again
      opt.tell_failed(p);
      continue;
    }
    opt.tell(p, loss(p));
  }
  const auto best = *opt.best_point();
  std::printf("best loss %.4f at lr %.2e, width %g, activation %g\n", *opt.best_value(), best[0], best[1], best[2]);

  // The whole state goes into a checkpoint; a new optimiser built the same way resumes from it.
  const auto ck = std::filesystem::temp_directory_path() / "frugal_quickstart_search.ck";
  opt.save(ck);
  s::bayes_optimizer resumed(space, {.initial_points = 6, .seed = 1});
  resumed.load(ck);
  std::printf("next suggestion equal after resume: %s\n", resumed.ask() == opt.ask() ? "yes" : "no");
  std::filesystem::remove(ck);

  // Two objectives (error against size) by expected hypervolume improvement, four points per ask.
  s::search_space hw;
  hw.add_integer("bits", 2, 8).add_ordinal("block", {4, 8, 16, 32});
  s::multi_objective_optimizer mo(hw, 2, {.initial_points = 6, .seed = 2});
  mo.set_constraint([](const s::point& p) { return p[0] * p[1] <= 128; });  // a known budget
  for (int round = 0; round < 4; ++round)
    for (const auto& p : mo.ask(4)) {
      const double error = 10 / p[0] + 0.05 * p[1], size = p[0] * 256 / p[1];
      mo.tell(p, Eigen::Vector2d(error, size));
    }
  std::printf("Pareto front (bits, block -> error, size):\n");
  const auto history = mo.history();
  for (std::size_t i : mo.pareto_set())
    std::printf("  %g, %g -> %.3f, %.1f\n", history[i].x[0], history[i].x[1], (*history[i].values)(0),
                (*history[i].values)(1));
  return 0;
}
