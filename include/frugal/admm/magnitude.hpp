#pragma once
/// \file
/// Magnitude pruning (Han et al., "Learning both weights and connections"), the baseline ADMM-NN
/// is compared against: keep the largest-|w| weights of each layer, install the masks, retrain;
/// iteratively, with the kept fraction lowered step by step between retraining rounds. Uses the
/// same masks and retraining path as the ADMM pipeline, so the comparison is fair.

#include <cmath>
#include <map>
#include <string>
#include <utility>

#include "../core/error.hpp"
#include "../core/progress.hpp"
#include "../nn/parameter.hpp"
#include "detail/elementwise.hpp"
#include "sparsity.hpp"

namespace frugal::admm {

/// One-shot magnitude pruning: for each `{name, keep_fraction}`, masks the parameter to its
/// largest-magnitude entries (combined with any mask it already has), selected on `exec`.
template <HostExecutionSpace Exec, nn::Scalar S>
void magnitude_prune(const Exec& exec, const nn::parameter_registry<S>& registry,
                     const std::map<std::string, double>& keep_fractions) {
  for (const auto& [name, keep] : keep_fractions) {
    auto& p = registry.at(name);
    // Entries pruned before stay pruned: rank only the surviving ones.
    matrix<S> mask =
        irregular_sparsity{keep}.support(exec, p.mask ? detail::restrict_to(exec, p.value, *p.mask) : p.value);
    if (p.mask) detail::multiply_into(exec, mask, *p.mask);
    p.set_mask(std::move(mask));
  }
}

/// `magnitude_prune` on `default_host_space`.
template <nn::Scalar S>
void magnitude_prune(const nn::parameter_registry<S>& registry, const std::map<std::string, double>& keep_fractions) {
  magnitude_prune(default_host_space{}, registry, keep_fractions);
}

/// Iterative magnitude pruning: `rounds` rounds; in round t (1-based) each parameter keeps
/// keep_fraction^(t/rounds) of its weights (a geometric schedule ending at the target), then
/// `retrain_epoch()` runs `epochs_per_round` times. Progress phase "magnitude pruning". The
/// masks are selected on `exec`.
template <HostExecutionSpace Exec, nn::Scalar S, class RetrainEpoch>
void iterative_magnitude_prune(const Exec& exec, const nn::parameter_registry<S>& registry,
                               const std::map<std::string, double>& keep_fractions, int rounds, int epochs_per_round,
                               RetrainEpoch&& retrain_epoch, const progress_callback& progress = {}) {
  check(rounds > 0 && epochs_per_round >= 0, "frugal::admm::iterative_magnitude_prune: rounds = ", rounds,
        " must be positive and epochs_per_round = ", epochs_per_round, " non-negative");
  for (int t = 1; t <= rounds; ++t) {
    std::map<std::string, double> step;
    for (const auto& [name, keep] : keep_fractions) step[name] = std::pow(keep, static_cast<double>(t) / rounds);
    // Fractions are of the whole parameter; weights pruned in earlier rounds stay pruned.
    magnitude_prune(exec, registry, step);
    for (int e = 0; e < epochs_per_round; ++e) retrain_epoch();
    report(progress, {"magnitude pruning", t, rounds, {}});
  }
}

/// `iterative_magnitude_prune` on `default_host_space`.
template <nn::Scalar S, class RetrainEpoch>
void iterative_magnitude_prune(const nn::parameter_registry<S>& registry,
                               const std::map<std::string, double>& keep_fractions, int rounds, int epochs_per_round,
                               RetrainEpoch&& retrain_epoch, const progress_callback& progress = {}) {
  iterative_magnitude_prune(default_host_space{}, registry, keep_fractions, rounds, epochs_per_round,
                            std::forward<RetrainEpoch>(retrain_epoch), progress);
}

}  // namespace frugal::admm
