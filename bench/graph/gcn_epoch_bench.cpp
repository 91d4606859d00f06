// One full-graph GCN training epoch (forward over every node, cross-entropy over the training
// nodes, backward, Adam step) with frugal::graph beside the same model in PyTorch (torch.sparse.mm
// on a COO Â, nn.Linear, the same graph, features, labels and threads), in the same run: on one
// thread, then on the default host space's N threads when it is parallel (release preset).
//
//   bench_gcn_epoch                 SBM, 20k and 100k nodes, 64 features, hidden 64, 2 and 8 layers
//   bench_gcn_epoch --nodes 50000 --epochs 9

#include <frugal/graph.hpp>
#include <frugal/nn.hpp>

#include <Kokkos_Core.hpp>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <type_traits>
#include <vector>

#include "../common/timing.hpp"

using namespace frugal;

namespace {

constexpr index_t features = 64, hidden = 64;
constexpr std::int32_t classes = 8;

template <class Exec>
double frugal_epoch_seconds(const graph::node_dataset<float>& d, std::shared_ptr<const graph::aggregation<float>> a,
                            int layers, int epochs) {
  nn::chain<float, Exec> model;
  for (int l = 0; l < layers; ++l) {
    const index_t in = l == 0 ? features : hidden, out = l + 1 == layers ? classes : hidden;
    model.add(graph::gcn<float, nn::dense_weight<float>, Exec>(a, in, out));
    if (l + 1 < layers) model.add(nn::relu<float, Exec>());
  }
  rng gen(1);
  model.reset_parameters(gen);
  auto params = model.parameters();
  nn::adam<float, Exec> opt({.learning_rate = 0.01f});
  graph::masked_cross_entropy<float, Exec> loss;
  return bench::time_median(
      [&] {
        params.zero_grad();
        loss.forward(model.forward(d.features), d.labels, d.train);
        model.backward(loss.backward(), false);
        opt.step(params);
      },
      epochs, 3, 2.0);
}

double torch_epoch_ms(const graph::node_dataset<float>& d, const graph::csr_graph<float>& a, int layers, int epochs,
                      int threads) {
  if (std::system("/usr/bin/python3 -c 'import torch, numpy' >/dev/null 2>&1") != 0) return -1;
  const auto prefix = (std::filesystem::temp_directory_path() / "frugal-bench-gcn").string();
  auto dump = [&](const char* ext, const void* data, std::size_t bytes) {
    std::ofstream(prefix + ext, std::ios::binary)
        .write(static_cast<const char*>(data), static_cast<std::streamsize>(bytes));
  };
  dump(".rows", a.row_map().data(), a.row_map().span() * sizeof(index_t));
  dump(".cols", a.entries().data(), a.entries().span() * sizeof(std::int32_t));
  dump(".vals", a.values().data(), a.values().span() * sizeof(float));
  dump(".x", d.features.data(), static_cast<std::size_t>(d.features.size()) * sizeof(float));
  dump(".y", d.labels.data(), d.labels.size() * sizeof(std::int32_t));
  dump(".train", d.train.data(), d.train.size() * sizeof(index_t));
  const std::string cmd = "OMP_NUM_THREADS=" + std::to_string(threads) + " /usr/bin/python3 '" FRUGAL_TORCH_GCN "' " +
                          prefix + " " + std::to_string(a.num_nodes()) + " " + std::to_string(features) + " " +
                          std::to_string(hidden) + " " + std::to_string(classes) + " " + std::to_string(layers) + " " +
                          std::to_string(epochs) + " " + std::to_string(threads);
  FILE* pipe = popen(cmd.c_str(), "r");
  if (!pipe) return -1;
  char line[512];
  double result = -1;
  while (std::fgets(line, sizeof line, pipe)) {
    char version[128];
    double value = 0;
    int t = 0;
    if (std::sscanf(line, "torch %127s epoch_ms %lf threads %d", version, &value, &t) == 3) result = value;
  }
  pclose(pipe);
  return result;
}

std::string fmt(double v, const char* format = "%.2f") {
  char buf[32];
  if (v < 0) return "—";
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<index_t> sizes = {20'000, 100'000};
  int epochs = 7;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--nodes")) sizes = {std::atoll(argv[i + 1])};
    if (!std::strcmp(argv[i], "--epochs")) epochs = std::max(3, std::atoi(argv[i + 1]));
  }
  Kokkos::ScopeGuard kokkos(argc, argv);
  using parallel_space = Kokkos::DefaultHostExecutionSpace;
  const bool parallel = !std::is_same_v<Kokkos::Serial, parallel_space>;
  const int threads = frugal::concurrency(parallel_space{});
  std::printf(
      "# bench_gcn_epoch: one training epoch of a plain GCN (%lld features, hidden %lld, %d classes, Adam), "
      "SBM graphs of degree 10 with self loops; median ms per epoch\n\n",
      static_cast<long long>(features), static_cast<long long>(hidden), classes);
  std::printf("| nodes | layers | threads | frugal | torch | torch/frugal |\n|---|---|---|---|---|---|\n");
  for (index_t n : sizes) {
    const auto d = graph::make_sbm<float>({.nodes = n, .classes = classes, .features = features, .seed = 1});
    const auto a = graph::aggregation<float>::of(d.graph.with_self_loops(), graph::normalization::symmetric);
    for (int layers : {2, 8}) {
      std::vector<int> counts = {1};
      if (parallel) counts.push_back(threads);
      for (int t : counts) {
        const double ours = t == 1 ? frugal_epoch_seconds<Kokkos::Serial>(d, a, layers, epochs)
                                   : frugal_epoch_seconds<parallel_space>(d, a, layers, epochs);
        const double theirs = torch_epoch_ms(d, a->matrix(), layers, epochs, t);
        std::printf("| %lld | %d | %d | %s | %s | %s |\n", static_cast<long long>(n), layers, t,
                    fmt(1e3 * ours).c_str(), fmt(theirs).c_str(),
                    theirs < 0 ? "—" : fmt(theirs / (1e3 * ours)).c_str());
        std::fflush(stdout);
      }
    }
  }
  return 0;
}
