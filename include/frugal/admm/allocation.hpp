#pragma once
/// \file
/// Per-layer pruning budgets: how many weights each layer keeps for a model-wide pruning ratio.

#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "../core/error.hpp"
#include "../nn/parameter.hpp"

namespace frugal::admm {

/// Kept fractions per layer for a model-wide pruning ratio (weights of `names` ÷ weights kept):
/// layer l keeps a share proportional to size_l^exponent, so exponent < 1 prunes big layers
/// harder and small, sensitive ones gently (0 gives every layer the same count, 1 the same
/// fraction). A layer whose share reaches its size keeps everything (fraction 1) and the rest of
/// the budget is spread again over the others, so the fractions hit the total exactly unless every
/// layer is capped.
/// \throws invalid_argument for ratio < 1, exponent < 0, an empty or unknown name list
template <nn::Scalar S>
[[nodiscard]] std::map<std::string, double> allocate_keep_fractions(const nn::parameter_registry<S>& registry,
                                                                    const std::vector<std::string>& names, double ratio,
                                                                    double exponent = 0.5) {
  check(ratio >= 1, "frugal::admm::allocate_keep_fractions: ratio ", ratio, " must be at least 1");
  check(exponent >= 0, "frugal::admm::allocate_keep_fractions: exponent ", exponent, " must be non-negative");
  check(!names.empty(), "frugal::admm::allocate_keep_fractions: no parameters named");
  double total = 0;
  for (const auto& n : names) total += static_cast<double>(registry.at(n).value.size());
  std::map<std::string, double> keep;
  std::vector<std::string> free_layers = names;
  double budget = total / ratio;
  for (std::size_t pass = 0; pass <= names.size() && !free_layers.empty(); ++pass) {
    double s = 0;
    for (const auto& n : free_layers) s += std::pow(static_cast<double>(registry.at(n).value.size()), exponent);
    const double a = budget / s;
    std::vector<std::string> still;
    double capped = 0;
    for (const auto& n : free_layers) {
      const double size = static_cast<double>(registry.at(n).value.size());
      const double k = a * std::pow(size, exponent) / size;
      if (k >= 1) {
        keep[n] = 1;
        capped += size;
      } else {
        keep[n] = k;
        still.push_back(n);
      }
    }
    if (still.size() == free_layers.size()) break;
    budget -= capped;
    free_layers = still;
  }
  return keep;
}

}  // namespace frugal::admm
