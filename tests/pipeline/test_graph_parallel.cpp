// Graph parallelism against full-graph training: 1, 2, 3 and 4 workers over block and
// Cuthill–McKee partitions give the loss and gradients of the same deep GCN built from nn and
// graph layers; the bytes a run sends are the halo plan's, both ways, at every layer.
#include <doctest/doctest.h>

#include <frugal/graph.hpp>
#include <frugal/graph/halo.hpp>
#include <frugal/graph/partition.hpp>
#include <frugal/nn.hpp>
#include <frugal/pipeline/graph_parallel.hpp>
#include <frugal/pipeline/in_process.hpp>

#include <memory>
#include <vector>

#include "gcn_reference.hpp"
#include "test_support.hpp"

using namespace frugal;

namespace {

const std::vector<test::gcn_layer_spec> parallel_specs = {
    {5, 6, {.layer_norm = false, .relu = true, .residual = false}},
    {6, 6, {.layer_norm = true, .relu = true, .residual = true}},
    {6, 3, {.layer_norm = true, .relu = false, .residual = false}},
};

std::vector<pipeline::gnn_block<double, pipeline::in_process_space>> make_blocks() {
  return test::make_gnn_blocks(parallel_specs, 5);
}

nn::chain<double> make_reference(const std::shared_ptr<const graph::aggregation<double>>& a) {
  return test::make_gcn_reference(parallel_specs, a, 5);
}

}  // namespace

TEST_CASE("graph-parallel training computes full-graph training's loss and gradients; halo bytes as planned") {
  // A directed mean operator, so forward and backward halos differ from a symmetric case.
  const auto d = graph::make_sbm<double>({.nodes = 73, .classes = 3, .average_degree = 5, .features = 5, .seed = 6});
  for (bool symmetric : {true, false}) {
    const auto a = symmetric
                       ? graph::aggregation<double>::of(d.graph.with_self_loops(), graph::normalization::symmetric)
                       : graph::aggregation<double>::of(d.graph, graph::normalization::mean);
    auto reference = make_reference(a);
    auto ref_params = reference.parameters();
    ref_params.zero_grad();
    graph::masked_cross_entropy<double> loss;
    const double ref_loss = loss.forward(reference.forward(d.features), d.labels, d.train);
    reference.backward(loss.backward(), false);
    for (int workers : {1, 2, 3, 4})
      for (bool blocks : {true, false}) {
        INFO(workers << " workers, " << (blocks ? "block" : "Cuthill-McKee") << " partition, symmetric " << symmetric);
        const auto part = blocks ? graph::partition_blocks(d.graph.num_nodes(), workers)
                                 : graph::partition_contiguous(a->matrix(), workers);
        const auto plan = graph::plan_halos(a->matrix(), part);
        const auto per_rank = pipeline::run_in_process(workers, [&](pipeline::in_process_transport& t) {
          pipeline::graph_parallel_worker<double, pipeline::in_process_space, pipeline::in_process_transport> worker(
              make_blocks(), plan.workers[static_cast<std::size_t>(t.rank())], t);
          auto params = worker.parameters();
          params.zero_grad();
          t.reset_counters();
          const double value = worker.train_epoch(d.features, d.labels, d.train);
          std::vector<nn::matrix<double>> grads;
          for (const auto& e : params) grads.push_back(e.param->grad);
          return std::make_tuple(value, grads, t.counters());
        });
        double halo_bytes = 0;
        for (std::size_t k = 0; k < parallel_specs.size(); ++k)
          halo_bytes += 2.0 * static_cast<double>(plan.halo_bytes_per_layer(parallel_specs[k].in, sizeof(double)));
        double sent = 0;
        for (const auto& [value, grads, counters] : per_rank) {
          CHECK(value == doctest::Approx(ref_loss).epsilon(1e-12));
          std::size_t i = 0;
          for (const auto& e : ref_params) {
            INFO(e.name);
            CHECK((grads[i] - e.param->grad).norm() <= 1e-12 * std::max(1.0, e.param->grad.norm()));
            ++i;
          }
          sent += static_cast<double>(counters.bytes_sent);
        }
        // Halo rows both ways at every layer, plus the all-reduce (through worker 0, 2(P − 1)
        // messages of every gradient and the loss as doubles).
        double parameters = 1;
        for (const auto& e : ref_params) parameters += static_cast<double>(e.param->grad.size());
        CHECK(sent == halo_bytes + 2.0 * (workers - 1) * parameters * sizeof(double));
      }
  }
}
