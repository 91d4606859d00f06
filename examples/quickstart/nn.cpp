// Quickstart, nn: a model whose hidden layer is BCR-sparse, trained by a hand-written step
// (zero_grad -> forward -> loss -> backward -> optimizer step) on a small synthetic task.
#include <frugal/nn.hpp>
#include <frugal/sparse/bcr_weight.hpp>

#include <cstdint>
#include <cstdio>
#include <vector>

namespace nn = frugal::nn;
namespace sparse = frugal::sparse;
using frugal::index_t;

// n points in 16 dimensions; the class is the sign of x0·x1 (not linearly separable).
static void make_data(frugal::rng& gen, index_t n, nn::tensor<float>& x, std::vector<std::int32_t>& y) {
  x.resize({n, 16});
  y.resize(static_cast<std::size_t>(n));
  for (index_t i = 0; i < n; ++i) {
    for (index_t j = 0; j < 16; ++j) x.data()[i * 16 + j] = static_cast<float>(gen.uniform(-1.0, 1.0));
    y[static_cast<std::size_t>(i)] = x.data()[i * 16] * x.data()[i * 16 + 1] > 0 ? 1 : 0;
  }
}

int main(int argc, char** argv) {
  Kokkos::ScopeGuard kokkos(argc, argv);
  // 16 -> 64 dense -> 64 BCR (8x8 blocks keeping half the rows and half the columns) -> 2.
  sparse::bcr_factory<float> bcr(
      {.block_rows = 8, .block_cols = 8, .row_keep_fraction = 0.5, .col_keep_fraction = 0.5});
  nn::chain<float> model;
  model.add(nn::linear<float>(16, 64)).add(nn::relu<float>());
  model.add("sparse", nn::linear<float, sparse::bcr_weight<float>>(64, 64, bcr)).add(nn::relu<float>());
  model.add("head", nn::linear<float>(64, 2));
  frugal::rng init(1);
  model.reset_parameters(init);  // PyTorch's rule: uniform in ±1/sqrt(fan_in), biases too

  frugal::rng gen(2);
  nn::tensor<float> x, x_test;
  std::vector<std::int32_t> y, y_test;
  make_data(gen, 4096, x, y);
  make_data(gen, 1024, x_test, y_test);

  auto params = model.parameters();  // names: "0.weight", "sparse.weight", "head.bias", ...
  nn::adam<float> opt({.learning_rate = 3e-3f});
  nn::softmax_cross_entropy<float> loss;
  const index_t batch = 64;
  nn::tensor<float> xb({batch, 16});
  for (int epoch = 0; epoch < 10; ++epoch)
    for (index_t b = 0; b + batch <= 4096; b += batch) {
      std::copy_n(x.data() + b * 16, batch * 16, xb.data());
      params.zero_grad();
      const auto& logits = model.forward(xb);
      loss.forward(logits, std::span(y).subspan(static_cast<std::size_t>(b), batch));
      model.backward(loss.backward());
      opt.step(params);
    }

  const auto& logits = model.predict(x_test);
  int correct = 0;
  for (index_t i = 0; i < 1024; ++i)
    correct += (logits.data()[2 * i + 1] > logits.data()[2 * i]) == (y_test[static_cast<std::size_t>(i)] == 1);
  std::printf("test accuracy %.1f %% with %lld of 4096 hidden weights kept\n", 100.0 * correct / 1024,
              static_cast<long long>(params.at("sparse.weight").value.size()));
}
