#pragma once
// The independent truth of the GNNPipe and graph-parallel tests: a stack of gnn_blocks and the same
// model built from nn and graph layers (layer_norm, graph::gcn, relu, residual), with equal
// weights from one seed.
#include <frugal/graph.hpp>
#include <frugal/nn.hpp>
#include <frugal/pipeline/gnn_block.hpp>
#include <frugal/pipeline/in_process.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace frugal::test {

struct gcn_layer_spec {
  index_t in, out;
  pipeline::gnn_block_options options;
};

/// The blocks, for in-process ranks (their space), initialised from `seed` in layer order.
inline std::vector<pipeline::gnn_block<double, pipeline::in_process_space>> make_gnn_blocks(
    const std::vector<gcn_layer_spec>& specs, std::uint64_t seed) {
  std::vector<pipeline::gnn_block<double, pipeline::in_process_space>> blocks;
  rng gen(seed);
  for (const auto& s : specs) {
    blocks.emplace_back(s.in, s.out, s.options);
    blocks.back().reset_parameters(gen);
  }
  return blocks;
}

/// The same model as an nn::chain; its parameters are registered in the blocks' order.
inline nn::chain<double> make_gcn_reference(const std::vector<gcn_layer_spec>& specs,
                                            const std::shared_ptr<const graph::aggregation<double>>& a,
                                            std::uint64_t seed) {
  nn::chain<double> model;
  for (const auto& s : specs) {
    nn::chain<double> body;
    if (s.options.layer_norm) body.add(nn::layer_norm<double>(s.in));
    body.add(graph::gcn<double>(a, s.in, s.out));
    if (s.options.relu) body.add(nn::relu<double>());
    if (s.options.residual)
      model.add(nn::residual<nn::chain<double>>(std::move(body)));
    else
      model.add(std::move(body));
  }
  rng gen(seed);
  model.reset_parameters(gen);
  return model;
}

/// The four-layer model most pipeline tests train: 5 features → 6, two residual blocks, → 3 classes.
inline const std::vector<gcn_layer_spec> four_layer_specs = {
    {5, 6, {.layer_norm = false, .relu = true, .residual = false}},
    {6, 6, {.layer_norm = true, .relu = true, .residual = true}},
    {6, 6, {.layer_norm = true, .relu = true, .residual = true}},
    {6, 3, {.layer_norm = true, .relu = false, .residual = false}},
};

/// One full-graph epoch of the reference model: the loss over the training nodes and the
/// gradients of each layer's parameters, in registration order.
struct reference_epoch {
  double loss = 0;
  std::vector<std::vector<nn::matrix<double>>> grads_by_layer;
};

inline reference_epoch run_reference_epoch(const std::vector<gcn_layer_spec>& specs,
                                           const std::shared_ptr<const graph::aggregation<double>>& a,
                                           const graph::node_dataset<double>& d, std::uint64_t seed) {
  auto model = make_gcn_reference(specs, a, seed);
  auto params = model.parameters();
  params.zero_grad();
  graph::masked_cross_entropy<double> loss;
  reference_epoch r;
  r.loss = loss.forward(model.forward(d.features), d.labels, d.train);
  model.backward(loss.backward(), false);
  r.grads_by_layer.resize(specs.size());
  for (const auto& e : params)
    r.grads_by_layer.at(static_cast<std::size_t>(std::stoi(e.name.substr(0, e.name.find('.')))))
        .push_back(e.param->grad);
  return r;
}

}  // namespace frugal::test
