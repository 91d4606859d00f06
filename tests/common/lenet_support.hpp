#pragma once
// LeNet-5 helpers shared by the nn and admm tests.
#include <frugal/nn.hpp>

#include <cstring>

namespace frugal::test {

/// Same shape and identical bits.
template <class M>
bool bit_equal(const M& a, const M& b) {
  return a.rows() == b.rows() && a.cols() == b.cols() &&
         std::memcmp(a.data(), b.data(), static_cast<std::size_t>(a.size()) * sizeof(*a.data())) == 0;
}

/// `steps` training steps of LeNet-5 on random 8-image batches drawn from `seed`, with `opt`.
template <class Opt>
void train_steps(nn::lenet5<float>& model, Opt& opt, int steps, std::uint64_t seed) {
  rng gen(seed);
  auto registry = model.parameters();
  nn::softmax_cross_entropy<float> loss;
  nn::tensor<float> x({8, 28, 28, 1});
  std::vector<std::int32_t> y(8);
  for (int s = 0; s < steps; ++s) {
    for (index_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(gen.uniform());
    for (auto& v : y) v = static_cast<std::int32_t>(gen.uniform_int(10));
    registry.zero_grad();
    loss.forward(model.forward(x), y);
    model.backward(loss.backward());
    opt.step(registry);
  }
}

}  // namespace frugal::test
