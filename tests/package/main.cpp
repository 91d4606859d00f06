// Trains a tiny linear classifier through the installed package and checks that it learned.
#include <frugal/frugal.hpp>
#include <frugal/graph/metis.hpp>

#include <cstdio>
#include <vector>

int main(int argc, char** argv) {
  Kokkos::ScopeGuard kokkos(argc, argv);
  frugal::rng gen(7);
  frugal::nn::linear<double> layer(2, 2);
  layer.reset_parameters(gen);
  frugal::nn::softmax_cross_entropy<double> loss;
  frugal::nn::sgd<double> opt({.learning_rate = 0.5});
  auto params = frugal::nn::parameter_registry<double>();
  layer.register_parameters(params, "fc");
  frugal::nn::tensor<double> x({64, 2});
  std::vector<std::int32_t> y(64);
  double first = 0, last = 0;
  for (int step = 0; step < 200; ++step) {
    for (int i = 0; i < 64; ++i) {
      const double a = gen.normal(), b = gen.normal();
      x[2 * i] = a;
      x[2 * i + 1] = b;
      y[static_cast<std::size_t>(i)] = a + b > 0 ? 1 : 0;
    }
    params.zero_grad();
    const double l = loss.forward(layer.forward(x), y);
    layer.backward(loss.backward(), false);
    opt.step(params);
    if (step == 0) first = l;
    last = l;
  }
  // A path of 12 nodes in 3 parts: METIS where the package found it (its link flags travel with
  // frugal::frugal), the Cuthill–McKee fallback where it did not. Either cuts 2 edges, 4 entries.
  std::vector<std::int64_t> src(11), dst(11);
  for (int i = 0; i < 11; ++i) src[static_cast<std::size_t>(i)] = i, dst[static_cast<std::size_t>(i)] = i + 1;
  const auto path = frugal::graph::csr_graph<double>::from_edges(12, src, dst);
  const auto parts = frugal::graph::metis_available ? frugal::graph::partition_metis(path, 3)
                                                    : frugal::graph::partition_contiguous(path, 3);
  std::printf("frugal %d.%d.%d consumer: loss %.3f -> %.3f; path cut %lld (METIS %s)\n", FRUGAL_VERSION_MAJOR,
              FRUGAL_VERSION_MINOR, FRUGAL_VERSION_PATCH, first, last, static_cast<long long>(parts.edge_cut(path)),
              frugal::graph::metis_available ? "yes" : "no");
  return last < 0.5 * first && parts.edge_cut(path) == 4 ? 0 : 1;
}
