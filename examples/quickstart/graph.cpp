// Quickstart, graph: node classification on a stochastic-block-model graph with a deep residual
// GCN (graph convolutions are nn layers, so they go into nn::chain and nn::residual), trained
// full-graph with a loss over the training nodes only.
#include <frugal/graph.hpp>
#include <frugal/nn.hpp>

#include <cstdio>

namespace graph = frugal::graph;
namespace nn = frugal::nn;
using frugal::index_t;

int main(int argc, char** argv) {
  Kokkos::ScopeGuard kokkos(argc, argv);
  // 3,000 nodes in 6 classes; 80 % of edges inside a class; 32 noisy class-correlated features;
  // 10 % of the nodes have known labels.
  const auto data = graph::make_sbm<float>({.nodes = 3000, .classes = 6, .features = 32, .seed = 1});
  // Kipf and Welling's propagation matrix D^-1/2 (A + I) D^-1/2, shared by every layer.
  const auto a = graph::aggregation<float>::of(data.graph.with_self_loops(), graph::normalization::symmetric);

  // 32 -> 32, then 6 residual blocks (LayerNorm, GCN, ReLU), then 32 -> 6 classes: 8 graph convolutions.
  nn::chain<float> model;
  model.add("in", graph::gcn<float>(a, 32, 32));
  for (int b = 0; b < 6; ++b) {
    nn::chain<float> block;
    block.add("norm", nn::layer_norm<float>(32)).add("conv", graph::gcn<float>(a, 32, 32)).add(nn::relu<float>());
    model.add(nn::residual<nn::chain<float>>(std::move(block)));
  }
  model.add("out", graph::gcn<float>(a, 32, 6));
  frugal::rng init(1);
  model.reset_parameters(init);

  auto params = model.parameters();
  nn::adam<float> opt({.learning_rate = 0.01f});
  graph::masked_cross_entropy<float> loss;
  double best_validation = 0, test_at_best = 0;
  for (int epoch = 1; epoch <= 60; ++epoch) {
    params.zero_grad();
    loss.forward(model.forward(data.features), data.labels, data.train);
    model.backward(loss.backward(), false);  // the features need no gradient
    opt.step(params);
    const auto& logits = model.forward(data.features);
    const double validation = graph::masked_accuracy(logits, data.labels, data.validation);
    if (validation > best_validation) {
      best_validation = validation;
      test_at_best = graph::masked_accuracy(logits, data.labels, data.test);
    }
  }
  std::printf(
      "8-layer residual GCN on %lld nodes, %lld edges: test accuracy %.1f %% (at the best validation "
      "epoch, %.1f %%)\n",
      static_cast<long long>(data.graph.num_nodes()), static_cast<long long>(data.graph.num_entries() / 2),
      100 * test_at_best, 100 * best_validation);
}
