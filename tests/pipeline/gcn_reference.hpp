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

}  // namespace frugal::test
