// Quickstart, admm: prune a small MLP's first layer to 10 % of its weights with ADMM (train with
// the penalty, project, harden), then retrain with the mask held, on a small synthetic task.
#include <frugal/admm.hpp>
#include <frugal/nn.hpp>

#include <cstdint>
#include <cstdio>
#include <vector>

namespace nn = frugal::nn;
namespace admm = frugal::admm;
using frugal::index_t;

int main(int argc, char** argv) {
  Kokkos::ScopeGuard kokkos(argc, argv);
  // 4096 + 1024 points in 32 dimensions; the class is the sign of x0·x1 + x2.
  frugal::rng gen(2);
  nn::tensor<float> x({5120, 32});
  std::vector<std::int32_t> y(5120);
  for (index_t i = 0; i < 5120; ++i) {
    float* r = x.data() + i * 32;
    for (index_t j = 0; j < 32; ++j) r[j] = static_cast<float>(gen.uniform(-1.0, 1.0));
    y[static_cast<std::size_t>(i)] = r[0] * r[1] + r[2] > 0 ? 1 : 0;
  }

  auto model = nn::make_mlp<float>({32, 64, 2});  // parameters "0.weight", "0.bias", "1.weight", "1.bias"
  frugal::rng init(1);
  model.reset_parameters(init);
  auto params = model.parameters();
  nn::softmax_cross_entropy<float> loss;
  nn::tensor<float> xb({64, 32});
  auto epoch = [&](auto& opt) {  // any optimizer: Adam, or ADMM's wrapper that adds the penalty
    for (index_t b = 0; b + 64 <= 4096; b += 64) {
      std::copy_n(x.data() + b * 32, 64 * 32, xb.data());
      params.zero_grad();
      loss.forward(model.forward(xb), std::span(y).subspan(static_cast<std::size_t>(b), 64));
      model.backward(loss.backward());
      opt.step(params);
    }
  };
  auto accuracy = [&] {
    nn::tensor<float> xt({1024, 32});
    std::copy_n(x.data() + 4096 * 32, 1024 * 32, xt.data());
    const auto& z = model.predict(xt);
    int correct = 0;
    for (index_t i = 0; i < 1024; ++i) correct += (z.data()[2 * i + 1] > z.data()[2 * i]) == (y[4096 + i] == 1);
    return 100.0 * correct / 1024;
  };
  auto adam = [] { return nn::adam<float>({.learning_rate = 3e-3f}); };

  auto dense_opt = adam();
  for (int e = 0; e < 10; ++e) epoch(dense_opt);
  const double dense = accuracy();

  admm::admm_state<float> state({.rho = 1e-2, .rho_multiplier = 1.5, .iterations = 6});
  state.add("0.weight", admm::irregular_sparsity{.keep_fraction = 0.1});
  admm::run_admm(state, params, adam, epoch);  // train with the penalty, then Z = project(W + U), U += W - Z
  state.harden(params);                        // W = project(W); a mask keeps pruned weights at zero
  const double hardened = accuracy();
  auto retrain = adam();
  for (int e = 0; e < 5; ++e) epoch(retrain);

  const auto& w = params.at("0.weight").value;
  std::printf("dense %.1f %%, pruned to %lld of %lld first-layer weights: %.1f %% after hardening, %.1f %% retrained\n",
              dense, static_cast<long long>((w.array() != 0.0f).count()), static_cast<long long>(w.size()), hardened,
              accuracy());
}
