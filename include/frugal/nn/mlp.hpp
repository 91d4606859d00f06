#pragma once
/// \file
/// A multilayer perceptron of any weight policy, as a run-time `chain`: linear layers whose
/// policies a `WeightFactory` builds, with ReLU between them.

#include <string>
#include <utility>
#include <vector>

#include "../core/error.hpp"
#include "../core/execution.hpp"
#include "chain.hpp"
#include "concepts.hpp"
#include "dense_weight.hpp"
#include "linear.hpp"
#include "relu.hpp"

namespace frugal::nn {

/// Options of `make_mlp`.
struct mlp_options {
  bool final_relu = false;  ///< a ReLU after the last linear layer too
};

/// Linear layers of widths `widths[0] → widths[1] → … → widths.back()` (at least two widths, all
/// positive) with a ReLU after every layer but the last (and after the last with
/// `options.final_relu`). Each linear layer's policy is `make_policy(out, in)`, called in layer
/// order. The linear layers are named "0", "1", … (so their parameters are "0.weight", "0.bias",
/// "1.weight", …) and the activations "relu0", "relu1", …. Parameters are not initialised: call
/// `reset_parameters`.
template <Scalar S, HostExecutionSpace Exec = default_host_space, class F = dense_factory<S>>
requires WeightFactory<F, Exec> && std::is_same_v<typename factory_policy_t<F>::scalar_type, S>
[[nodiscard]] chain<S, Exec> make_mlp(const std::vector<index_t>& widths, F make_policy = F{}, mlp_options options = {},
                                      const Exec& exec = Exec{}) {
  check(widths.size() >= 2, "frugal::nn::make_mlp: ", widths.size(),
        " widths given, need at least an input and an output");
  for (std::size_t i = 0; i < widths.size(); ++i)
    check(widths[i] > 0, "frugal::nn::make_mlp: width ", i, " is ", widths[i], ", must be positive");
  chain<S, Exec> mlp;
  const std::size_t layers = widths.size() - 1;
  for (std::size_t i = 0; i < layers; ++i) {
    mlp.add(std::to_string(i), linear<S, factory_policy_t<F>, Exec>(widths[i], widths[i + 1], make_policy, exec));
    if (i + 1 < layers || options.final_relu) mlp.add("relu" + std::to_string(i), relu<S, Exec>(exec));
  }
  return mlp;
}

}  // namespace frugal::nn
