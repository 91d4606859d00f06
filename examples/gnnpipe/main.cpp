// GNNPipe in miniature: a deep residual GCN trained full-graph on a stochastic-block-model graph
// (or a LINQS / edge-list file) four ways, all on frugal's transports: exact single-process
// training; layer-synchronous GNNPipe (exact, layers split over the workers); GNNPipe with
// historical reads (chunks pipelined through the layer stages); graph parallelism (node
// partitions, a halo exchange at every layer); and the hybrid (a grid of stages × partitions,
// each partition a GNNPipe pipeline, halo rows from the previous epoch). Per schedule it prints the epoch time, the
// bytes and messages sent per epoch, the memory per worker, the epoch time the communication model predicts at 10 and
// 100 Gb/s, and the final test accuracy; it writes a CSV of test accuracy per epoch (plot.py draws it).
//
//   gnnpipe                          4 in-process workers, 16 layers, 3 seeds (a few minutes)
//   gnnpipe --quick                  a small graph and model, one seed (seconds)
//   gnnpipe --linqs cora.content cora.cites
#include <CLI/CLI.hpp>
#include <frugal/graph.hpp>
#include <frugal/graph/chunks.hpp>
#include <frugal/graph/halo.hpp>
#include <frugal/graph/metis.hpp>
#include <frugal/graph/partition.hpp>
#include <frugal/graph/permutation.hpp>
#include <frugal/io/graph_files.hpp>
#include <frugal/nn.hpp>
#include <frugal/pipeline/comm_model.hpp>
#include <frugal/pipeline/gnnpipe.hpp>
#include <frugal/pipeline/graph_parallel.hpp>
#include <frugal/pipeline/in_process.hpp>
#ifdef FRUGAL_EXAMPLE_WITH_MPI
#include <frugal/pipeline/mpi_transport.hpp>
#endif

#include <algorithm>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <array>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <numeric>
#include <optional>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include "../common/stats.hpp"

namespace graph = frugal::graph;
namespace pipeline = frugal::pipeline;
namespace nn = frugal::nn;
using frugal::index_t;
using transport = pipeline::in_process_transport;

namespace {

struct settings {
  std::string out_dir = "gnnpipe_out";
  std::vector<std::string> linqs;  // content, cites
  index_t nodes = 4000;
  int classes = 8;
  index_t features = 64;
  double homophily = 0.6;
  double signal = 0.1;
  double degree = 10;
  index_t hidden = 64;
  int layers = 16;
  int workers = 4;
  int hybrid_partitions = 2;  // the hybrid's grid: workers / this stages × this partitions
  int chunks = 8;
  int epochs = 100;
  int warmup = 5;
  int eval_every = 5;
  double lr = 0.005;
  double smoothing = 0;     // historical-embedding smoothing of GNNPipe and the hybrid
  bool keep_state = false;  // keep each chunk's forward state instead of re-running it
  std::vector<std::uint64_t> seeds = {1, 2, 3};
  std::vector<std::string> schedules = {"exact", "gnnpipe-sync", "gnnpipe", "graph-parallel", "hybrid"};
  bool quick = false;
  bool progress = true;
};

struct curve_point {
  int epoch;
  double accuracy;
};

/// One schedule's run on one seed.
struct run_result {
  std::string schedule;
  std::uint64_t seed = 0;
  std::vector<curve_point> curve;
  double accuracy = 0;       // test accuracy after the last epoch
  double epoch_seconds = 0;  // median training epoch (no evaluation), slowest worker
  double bytes = 0;          // sent per training epoch, all workers
  double messages = 0;
  double memory = 0;  // largest per-worker model state (buffers, kept activations, parameters), bytes
  double rss = 0;     // peak resident bytes: of the process in-process, of the largest rank under MPI
  double predicted_local = 0, predicted_10g = 0, predicted_100g = 0;
};

/// The model: features → hidden (ReLU), hidden → hidden residual blocks (LayerNorm, GCN, ReLU),
/// hidden → classes (LayerNorm, GCN). Every worker builds all of it from the seed and keeps its
/// share, so every schedule starts from the same weights.
template <class Exec>
std::vector<pipeline::gnn_block<float, Exec>> make_blocks(const settings& s, int classes, std::uint64_t seed) {
  std::vector<pipeline::gnn_block<float, Exec>> blocks;
  for (int l = 0; l < s.layers; ++l) {
    const bool first = l == 0, last = l + 1 == s.layers;
    blocks.emplace_back(first ? s.features : s.hidden, last ? classes : s.hidden,
                        pipeline::gnn_block_options{.layer_norm = !first, .relu = !last, .residual = !first && !last});
  }
  frugal::rng gen(seed);
  for (auto& b : blocks) b.reset_parameters(gen);
  return blocks;
}

/// Seconds per byte and per message of the in-process transport on this machine, measured with a
/// ping-pong of 1 MiB and of 8-byte messages: the "link" of the local runs, whose transfers are
/// copies by the workers' own cores.
pipeline::link_model local_link() {
  auto round_trip = [](std::size_t bytes, int reps) {
    std::vector<double> times;
    pipeline::run_in_process(2, [&](transport& t) {
      std::vector<std::byte> buf(bytes);
      for (int r = 0; r < reps; ++r) {
        const auto start = std::chrono::steady_clock::now();
        if (t.rank() == 0) {
          pipeline::send(t, 1, 0, std::span<const std::byte>(buf));
          pipeline::recv(t, 1, 1, std::span<std::byte>(buf));
          times.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() / 2);
        } else {
          pipeline::recv(t, 0, 0, std::span<std::byte>(buf));
          pipeline::send(t, 0, 1, std::span<const std::byte>(buf));
        }
      }
    });
    return frugal::examples::median(times);
  };
  const double latency = round_trip(8, 200);
  const double big = round_trip(std::size_t{1} << 20, 20);
  // The copies in and out of the mailboxes run on the workers' own threads.
  return {static_cast<double>(std::size_t{1} << 20) / std::max(big - latency, 1e-9), latency, true};
}

/// The hybrid's partitions: runs of consecutive chunks, so each partition's rows are an id range
/// and its chunks are the global chunks inside it.
struct hybrid_layout {
  graph::partition parts;
  std::vector<std::vector<index_t>> offsets;  // per partition, chunk offsets in its rows
  std::vector<std::size_t> first_chunk;       // per partition, its first global chunk
};

hybrid_layout make_hybrid_layout(const std::vector<index_t>& chunk_offsets, int P) {
  const auto C = chunk_offsets.size() - 1;
  hybrid_layout h;
  h.parts.parts = P;
  h.parts.part_of.resize(static_cast<std::size_t>(chunk_offsets.back()));
  for (int q = 0; q < P; ++q) {
    const std::size_t first = C * static_cast<std::size_t>(q) / static_cast<std::size_t>(P);
    const std::size_t last = C * static_cast<std::size_t>(q + 1) / static_cast<std::size_t>(P);
    h.first_chunk.push_back(first);
    auto& offsets = h.offsets.emplace_back();
    for (std::size_t c = first; c <= last; ++c) offsets.push_back(chunk_offsets[c] - chunk_offsets[first]);
    for (index_t i = chunk_offsets[first]; i < chunk_offsets[last]; ++i)
      h.parts.part_of[static_cast<std::size_t>(i)] = q;
  }
  return h;
}

/// What every schedule of one seed shares: the dataset (nodes renumbered so that each GNNPipe
/// chunk is an id range), Â, the chunk offsets and the workers' partition.
struct problem {
  graph::node_dataset<float> data;
  std::shared_ptr<const graph::aggregation<float>> a;
  std::vector<index_t> chunk_offsets;
  graph::partition workers;
  hybrid_layout hybrid;
  std::string partitioner;
  double historical_fraction = 0;  // of Â's entries, with these chunks
};

graph::partition split(const graph::csr_graph<float>& g, int parts, std::string& how) {
  if constexpr (graph::metis_available) {
    how = "METIS";
    return graph::partition_metis(g, parts);
  } else {
    how = "Cuthill-McKee runs (built without METIS)";
    return graph::partition_contiguous(g, parts);
  }
}

problem make_problem(const settings& s, std::uint64_t seed) {
  problem p;
  graph::node_dataset<float> d;
  if (s.linqs.empty()) {
    d = graph::make_sbm<float>({.nodes = s.nodes,
                                .classes = s.classes,
                                .average_degree = s.degree,
                                .homophily = s.homophily,
                                .features = s.features,
                                .signal = s.signal,
                                .seed = seed});
  } else {
    d = graph::from_graph_data<float>(frugal::io::read_linqs(s.linqs[0], s.linqs[1], {.skip_unknown_ids = true}),
                                      {.seed = seed});
  }
  // Chunks: a partition into C parts, renumbered so chunk c is an id range. The same renumbering
  // serves the workers' partition (computed on the renumbered graph).
  const auto with_loops = d.graph.with_self_loops();
  const auto chunks = split(with_loops, s.chunks, p.partitioner);
  const auto order = graph::contiguous_order(chunks);
  p.data = graph::permuted(d, order);
  p.chunk_offsets = order.offsets;
  p.a = graph::aggregation<float>::of(p.data.graph.with_self_loops(), graph::normalization::symmetric);
  std::string unused;
  p.workers = split(p.a->matrix(), s.workers, unused);
  p.historical_fraction = graph::plan_chunks(p.a->matrix(), graph::permuted(chunks, order)).historical_fraction();
  p.hybrid = make_hybrid_layout(p.chunk_offsets, s.hybrid_partitions);
  return p;
}

double accuracy_of(const nn::tensor<float>& logits, const problem& p) {
  return graph::masked_accuracy(logits, p.data.labels, p.data.test);
}

/// The median of per-epoch wall times, each the slowest worker's.
double slowest_median(const std::vector<std::vector<double>>& per_rank) {
  std::vector<double> epochs(per_rank.front().size(), 0.0);
  for (const auto& r : per_rank)
    for (std::size_t e = 0; e < epochs.size(); ++e) epochs[e] = std::max(epochs[e], r[e]);
  return frugal::examples::median(epochs);
}

struct stage_output {
  std::vector<double> epoch_seconds;
  std::vector<curve_point> curve;
  double bytes = 0, messages = 0, memory = 0;
  double rss = 0;                                      // peak resident bytes of the process while the schedule ran
  std::vector<std::vector<double>> forward, backward;  // [layer][chunk] of the last training epoch
  int first_layer = 0;
};

/// The entry-wise median of a list of [layer][chunk] tables.
std::vector<std::vector<double>> median_table(const std::vector<std::vector<std::vector<double>>>& tables) {
  std::vector<std::vector<double>> out = tables.front();
  for (std::size_t l = 0; l < out.size(); ++l)
    for (std::size_t c = 0; c < out[l].size(); ++c) {
      std::vector<double> v;
      for (const auto& t : tables) v.push_back(t[l][c]);
      out[l][c] = frugal::examples::median(v);
    }
  return out;
}

/// The space a rank's kernels run on: Serial for in-process ranks (threads: see
/// pipeline::in_process_space), the default host space for MPI ranks (one process each).
template <class T>
using space_for =
    std::conditional_t<std::is_same_v<T, transport>, pipeline::in_process_space, frugal::default_host_space>;

/// One GNNPipe stage's training, on rank t.rank() of t.size() stages (1 stage, synchronous:
/// exact single-process training).
template <class T>
stage_output gnnpipe_rank(T& t, const settings& s, const problem& p, std::uint64_t seed,
                          const std::vector<index_t>& offsets, bool historical, const std::string& label) {
  const int stages = t.size();
  {
    auto blocks = make_blocks<space_for<T>>(s, p.data.num_classes, seed);
    const auto L = blocks.size();
    const auto first = L * static_cast<std::size_t>(t.rank()) / static_cast<std::size_t>(stages);
    const auto last = L * static_cast<std::size_t>(t.rank() + 1) / static_cast<std::size_t>(stages);
    std::vector<pipeline::gnn_block<float, space_for<T>>> mine;
    for (auto k = first; k < last; ++k) mine.push_back(std::move(blocks[k]));
    pipeline::gnnpipe_stage<float, space_for<T>, T> stage(
        std::move(mine), static_cast<index_t>(first), p.a, t,
        {.chunk_offsets = offsets, .smoothing = historical ? s.smoothing : 0.0, .keep_forward_state = s.keep_state});
    auto params = stage.parameters();
    nn::adam<float, space_for<T>> opt({.learning_rate = static_cast<float>(s.lr)});
    stage_output out;
    out.first_layer = static_cast<int>(first);
    std::vector<std::vector<std::vector<double>>> forward_history, backward_history;
    for (int e = 1; e <= s.epochs; ++e) {
      pipeline::barrier(t);
      const auto before = t.counters();
      const auto start = std::chrono::steady_clock::now();
      params.zero_grad();
      const auto loss = stage.train_epoch(&p.data.features, p.data.labels, p.data.train, historical && e > s.warmup);
      opt.step(params);
      out.epoch_seconds.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
      forward_history.push_back(stage.timing().forward);
      backward_history.push_back(stage.timing().backward);
      const auto after = t.counters();
      out.bytes = static_cast<double>(after.bytes_sent - before.bytes_sent);
      out.messages = static_cast<double>(after.messages_sent - before.messages_sent);
      if (e % s.eval_every == 0 || e == s.epochs) {
        const nn::tensor<float>* logits = stage.infer(&p.data.features);
        if (logits) {
          out.curve.push_back({e, accuracy_of(*logits, p)});
          if (s.progress)
            std::fprintf(stderr, "  %s seed %llu epoch %d loss %.4f test accuracy %.4f\n", label.c_str(),
                         static_cast<unsigned long long>(seed), e, static_cast<double>(*loss),
                         out.curve.back().accuracy);
        }
      }
    }
    const auto m = stage.memory();
    out.memory = static_cast<double>(m.buffers + m.kept + m.parameters);
    out.forward = median_table(forward_history);
    out.backward = median_table(backward_history);
    return out;
  }
}

/// One graph-parallel worker's training, on rank t.rank() of t.size() workers.
template <class T>
stage_output graph_parallel_rank(T& t, const settings& s, const problem& p, std::uint64_t seed,
                                 const graph::halo_plan<float>& plan) {
  {
    pipeline::graph_parallel_worker<float, space_for<T>, T> worker(
        make_blocks<space_for<T>>(s, p.data.num_classes, seed), plan.workers[static_cast<std::size_t>(t.rank())], t);
    auto params = worker.parameters();
    nn::adam<float, space_for<T>> opt({.learning_rate = static_cast<float>(s.lr)});
    stage_output out;
    for (int e = 1; e <= s.epochs; ++e) {
      pipeline::barrier(t);
      const auto before = t.counters();
      const auto start = std::chrono::steady_clock::now();
      params.zero_grad();
      const float loss = worker.train_epoch(p.data.features, p.data.labels, p.data.train);
      opt.step(params);
      out.epoch_seconds.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
      const auto after = t.counters();
      out.bytes = static_cast<double>(after.bytes_sent - before.bytes_sent);
      out.messages = static_cast<double>(after.messages_sent - before.messages_sent);
      if (e % s.eval_every == 0 || e == s.epochs) {
        // Each worker counts its owned test nodes; one all-reduce gives the accuracy.
        const nn::tensor<float>& logits = worker.infer(p.data.features);
        std::vector<char> is_test(p.data.labels.size(), 0);
        for (index_t i : p.data.test) is_test[static_cast<std::size_t>(i)] = 1;
        std::array<double, 2> counts{0, 0};
        const index_t classes = logits.extent(1);
        for (index_t r = 0; r < logits.extent(0); ++r) {
          const auto g = static_cast<std::size_t>(worker.halo().owned[static_cast<std::size_t>(r)]);
          if (!is_test[g]) continue;
          const float* z = logits.data() + r * classes;
          counts[0] += (std::max_element(z, z + classes) - z) == p.data.labels[g];
          counts[1] += 1;
        }
        pipeline::allreduce_sum(t, std::span<double>(counts));
        out.curve.push_back({e, counts[0] / counts[1]});
        if (s.progress && t.rank() == 0)
          std::fprintf(stderr, "  graph-parallel seed %llu epoch %d loss %.4f test accuracy %.4f\n",
                       static_cast<unsigned long long>(seed), e, static_cast<double>(loss), out.curve.back().accuracy);
      }
    }
    out.memory = static_cast<double>(worker.memory_bytes());
    out.forward = {worker.timing().forward};
    out.backward = {worker.timing().backward};
    return out;
  }
}

/// One rank of the hybrid: world rank = stage · partitions + partition.
template <class T>
stage_output hybrid_rank(T& world, const settings& s, const problem& p, std::uint64_t seed,
                         const graph::halo_plan<float>& plan, bool historical, const std::string& label) {
  const int P = s.hybrid_partitions, S = world.size() / P;
  const int stage_index = world.rank() / P, part = world.rank() % P;
  T pipe = world.split(part, stage_index);    // this partition's stages
  T across = world.split(stage_index, part);  // this stage's partitions
  auto blocks = make_blocks<space_for<T>>(s, p.data.num_classes, seed);
  const auto L = blocks.size();
  const auto first = L * static_cast<std::size_t>(stage_index) / static_cast<std::size_t>(S);
  const auto last = L * static_cast<std::size_t>(stage_index + 1) / static_cast<std::size_t>(S);
  std::vector<pipeline::gnn_block<float, space_for<T>>> mine;
  for (auto k = first; k < last; ++k) mine.push_back(std::move(blocks[k]));
  pipeline::gnnpipe_stage<float, space_for<T>, T> stage(
      std::move(mine), static_cast<index_t>(first), plan.workers[static_cast<std::size_t>(part)], pipe, across,
      {.chunk_offsets = p.hybrid.offsets[static_cast<std::size_t>(part)],
       .smoothing = historical ? s.smoothing : 0.0,
       .keep_forward_state = s.keep_state});
  auto params = stage.parameters();
  nn::adam<float, space_for<T>> opt({.learning_rate = static_cast<float>(s.lr)});
  stage_output out;
  out.first_layer = static_cast<int>(first);
  std::vector<char> is_test(p.data.labels.size(), 0);
  for (index_t i : p.data.test) is_test[static_cast<std::size_t>(i)] = 1;
  const auto sent = [&] {
    auto c = pipe.counters();
    c += across.counters();
    return c;
  };
  for (int e = 1; e <= s.epochs; ++e) {
    pipeline::barrier(world);
    const auto before = sent();
    const auto start = std::chrono::steady_clock::now();
    params.zero_grad();
    const auto loss = stage.train_epoch(&p.data.features, p.data.labels, p.data.train, historical && e > s.warmup);
    opt.step(params);
    out.epoch_seconds.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    const auto after = sent();
    out.bytes = static_cast<double>(after.bytes_sent - before.bytes_sent);
    out.messages = static_cast<double>(after.messages_sent - before.messages_sent);
    if (e % s.eval_every == 0 || e == s.epochs) {
      // The last stage of each partition counts its test nodes; one all-reduce over the grid.
      std::array<double, 3> counts{0, 0, 0};
      if (const nn::tensor<float>* logits = stage.infer(&p.data.features)) {
        const auto nodes = stage.nodes();
        const index_t classes = logits->extent(1);
        for (std::size_t r = 0; r < nodes.size(); ++r) {
          const auto g = static_cast<std::size_t>(nodes[r]);
          if (!is_test[g]) continue;
          const float* z = logits->data() + static_cast<index_t>(r) * classes;
          counts[0] += (std::max_element(z, z + classes) - z) == p.data.labels[g];
          counts[1] += 1;
        }
        if (part == 0) counts[2] = static_cast<double>(*loss);  // the partitions' sum already
      }
      pipeline::allreduce_sum(world, std::span<double>(counts));
      out.curve.push_back({e, counts[0] / counts[1]});
      if (s.progress && world.rank() == 0)
        std::fprintf(stderr, "  %s seed %llu epoch %d loss %.4f test accuracy %.4f\n", label.c_str(),
                     static_cast<unsigned long long>(seed), e, counts[2], out.curve.back().accuracy);
    }
  }
  const auto m = stage.memory();
  out.memory = static_cast<double>(m.buffers + m.kept + m.parameters);
  return out;
}

/// The input width of layer l.
double layer_width(const settings& s, const problem& p, std::size_t l) {
  return static_cast<double>(l == 0 ? p.data.features.extent(1) : s.hidden);
}

/// Bytes of the gradients of layers [first, last) and the loss, as the all-reduce sends them
/// (doubles).
double gradient_bytes(const settings& s, const problem& p, std::size_t first, std::size_t last) {
  double values = 1;
  for (auto l = first; l < last; ++l) {
    const double in = layer_width(s, p, l);
    const double out = l + 1 == static_cast<std::size_t>(s.layers) ? p.data.num_classes : static_cast<double>(s.hidden);
    values += in * out + out + (l == 0 ? 0 : 2 * in);
  }
  return values * sizeof(double);
}

/// Halo rows a worker sends per layer, and to how many peers.
std::pair<double, std::int64_t> halo_sends(const graph::worker_halo<float>& h) {
  double rows = 0;
  std::int64_t peers = 0;
  for (const auto& list : h.send) {
    rows += static_cast<double>(list.size());
    peers += list.empty() ? 0 : 1;
  }
  return {rows, peers};
}

/// Layer l of stage st of S: stage st holds layers [L·st/S, L·(st+1)/S).
std::size_t stage_begin(const settings& s, int st, int S) {
  return static_cast<std::size_t>(s.layers) * static_cast<std::size_t>(st) / static_cast<std::size_t>(S);
}

/// The communication model's inputs, from the exact run's compute per layer and chunk (`prof`).
pipeline::graph_parallel_workload graph_parallel_model(const settings& s, const problem& p,
                                                       const graph::halo_plan<float>& plan, const stage_output& prof) {
  pipeline::graph_parallel_workload w;
  const auto n = static_cast<double>(p.data.graph.num_nodes());
  for (const auto& h : plan.workers) {
    const double share = static_cast<double>(h.num_owned()) / n;
    const auto [rows, peers] = halo_sends(h);
    w.forward.emplace_back();
    w.backward.emplace_back();
    w.halo_bytes.emplace_back();
    w.halo_messages.emplace_back();
    for (std::size_t l = 0; l < static_cast<std::size_t>(s.layers); ++l) {
      const auto& f = prof.forward[l];
      const auto& b = prof.backward[l];
      w.forward.back().push_back(std::accumulate(f.begin(), f.end(), 0.0) * share);
      w.backward.back().push_back(std::accumulate(b.begin(), b.end(), 0.0) * share);
      w.halo_bytes.back().push_back(rows * layer_width(s, p, l) * sizeof(float));
      w.halo_messages.back().push_back(peers);
    }
  }
  w.parameter_bytes = gradient_bytes(s, p, 0, static_cast<std::size_t>(s.layers));
  return w;
}

pipeline::gnnpipe_workload gnnpipe_model(const settings& s, const problem& p, int S, const stage_output& prof) {
  const auto C = p.chunk_offsets.size() - 1;
  pipeline::gnnpipe_workload w;
  for (int st = 0; st < S; ++st) {
    w.forward.emplace_back(C, 0.0);
    w.backward.emplace_back(C, 0.0);
    for (auto l = stage_begin(s, st, S); l < stage_begin(s, st + 1, S); ++l)
      for (std::size_t c = 0; c < C; ++c) {
        w.forward.back()[c] += prof.forward[l][c];
        w.backward.back()[c] += prof.backward[l][c];
      }
    if (st + 1 < S) {
      w.boundary_bytes.emplace_back();
      for (std::size_t c = 0; c < C; ++c)
        w.boundary_bytes.back().push_back(static_cast<double>(p.chunk_offsets[c + 1] - p.chunk_offsets[c]) *
                                          static_cast<double>(s.hidden) * sizeof(float));
    }
  }
  return w;
}

pipeline::hybrid_workload hybrid_model(const settings& s, const problem& p, const hybrid_layout& layout,
                                       const graph::halo_plan<float>& plan, int S, const stage_output& prof) {
  pipeline::hybrid_workload w;
  for (int st = 0; st <= S; ++st) w.stage_offsets.push_back(stage_begin(s, st, S));
  for (std::size_t q = 0; q < layout.offsets.size(); ++q) {
    const auto& offsets = layout.offsets[q];
    const auto first = static_cast<std::ptrdiff_t>(layout.first_chunk[q]);
    const auto Cq = static_cast<std::ptrdiff_t>(offsets.size() - 1);
    const auto [rows, peers] = halo_sends(plan.workers[q]);
    w.forward.emplace_back();
    w.backward.emplace_back();
    w.halo_bytes.emplace_back();
    w.halo_messages.emplace_back();
    for (std::size_t l = 0; l < static_cast<std::size_t>(s.layers); ++l) {
      w.forward.back().emplace_back(prof.forward[l].begin() + first, prof.forward[l].begin() + first + Cq);
      w.backward.back().emplace_back(prof.backward[l].begin() + first, prof.backward[l].begin() + first + Cq);
      w.halo_bytes.back().push_back(rows * layer_width(s, p, l) * sizeof(float));
      w.halo_messages.back().push_back(peers);
    }
    w.boundary_bytes.emplace_back(static_cast<std::size_t>(S - 1));
    for (auto& boundary : w.boundary_bytes.back())
      for (std::ptrdiff_t c = 0; c < Cq; ++c)
        boundary.push_back(
            static_cast<double>(offsets[static_cast<std::size_t>(c) + 1] - offsets[static_cast<std::size_t>(c)]) *
            static_cast<double>(s.hidden) * sizeof(float));
  }
  for (int st = 0; st < S; ++st)
    w.parameter_bytes.push_back(gradient_bytes(s, p, stage_begin(s, st, S), stage_begin(s, st + 1, S)));
  return w;
}

std::string mib(double bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", bytes / (1 << 20));
  return buf;
}

/// Beyond this machine: the model's epoch time for 4 to 64 workers, a core and a link each (20 us
/// per message), at 10 and 100 Gb/s, for graph parallelism on that many METIS partitions and for
/// GNNPipe on min(workers, layers) stages (more workers become the hybrid's partitions), both fed
/// the exact run's compute. A markdown table.
std::string worker_sweep(const settings& s, const problem& p, const stage_output& prof) {
  std::string out =
      "\n## The model beyond this machine (the first seed's graph; a core and a link per worker, 20 us per message)\n\n"
      "| workers | graph-parallel @10 Gb/s (s) | @100 Gb/s (s) | MiB per epoch | GNNPipe grid (stages x "
      "partitions) | GNNPipe @10 Gb/s (s) | @100 Gb/s (s) | MiB per epoch |\n|---|---|---|---|---|---|---|---|\n";
  const auto ten = pipeline::link_model::gbit(10), hundred = pipeline::link_model::gbit(100);
  for (int W : {4, 8, 16, 32, 64}) {
    if (W > p.data.graph.num_nodes()) break;
    std::string unused;
    const auto gp_plan = graph::plan_halos(p.a->matrix(), split(p.a->matrix(), W, unused));
    const auto gp = graph_parallel_model(s, p, gp_plan, prof);
    const auto gp10 = pipeline::predict_graph_parallel(gp, ten), gp100 = pipeline::predict_graph_parallel(gp, hundred);
    const int S = std::min(W, s.layers), P = W / S;
    const auto C = static_cast<int>(p.chunk_offsets.size()) - 1;
    char row[256];
    if (W % S != 0 || P > C) {
      std::snprintf(row, sizeof row, "| %d | %.4f | %.4f | %s | (needs %d chunks) | | | |\n", W, gp10.seconds,
                    gp100.seconds, mib(gp10.bytes).c_str(), P);
    } else {
      pipeline::epoch_prediction p10, p100;
      if (P == 1) {
        const auto w = gnnpipe_model(s, p, S, prof);
        p10 = pipeline::predict_gnnpipe(w, ten, true);
        p100 = pipeline::predict_gnnpipe(w, hundred, true);
      } else {
        const auto layout = make_hybrid_layout(p.chunk_offsets, P);
        const auto w = hybrid_model(s, p, layout, graph::plan_halos(p.a->matrix(), layout.parts), S, prof);
        p10 = pipeline::predict_hybrid(w, ten, true);
        p100 = pipeline::predict_hybrid(w, hundred, true);
      }
      std::snprintf(row, sizeof row, "| %d | %.4f | %.4f | %s | %d x %d | %.4f | %.4f | %s |\n", W, gp10.seconds,
                    gp100.seconds, mib(gp10.bytes).c_str(), S, P, p10.seconds, p100.seconds, mib(p10.bytes).c_str());
    }
    out += row;
  }
  return out;
}

/// Every rank's output at rank 0 (empty elsewhere): epoch times, counters, memory and the curve
/// travel as one vector of doubles per rank; the timing tables stay where they are.
template <class T>
std::vector<stage_output> gather(T& t, const stage_output& mine) {
  std::vector<double> packed = {static_cast<double>(mine.epoch_seconds.size()),
                                static_cast<double>(mine.curve.size()),
                                mine.bytes,
                                mine.messages,
                                mine.memory,
                                mine.rss};
  packed.insert(packed.end(), mine.epoch_seconds.begin(), mine.epoch_seconds.end());
  for (const auto& c : mine.curve) {
    packed.push_back(c.epoch);
    packed.push_back(c.accuracy);
  }
  auto unpack = [](const std::vector<double>& v) {
    stage_output o;
    const auto epochs = static_cast<std::size_t>(v[0]), points = static_cast<std::size_t>(v[1]);
    o.bytes = v[2];
    o.messages = v[3];
    o.memory = v[4];
    o.rss = v[5];
    o.epoch_seconds.assign(v.begin() + 6, v.begin() + 6 + static_cast<std::ptrdiff_t>(epochs));
    for (std::size_t i = 0; i < points; ++i)
      o.curve.push_back({static_cast<int>(v[6 + epochs + 2 * i]), v[6 + epochs + 2 * i + 1]});
    return o;
  };
  constexpr int tag = 31000;
  if (t.rank() != 0) {
    const double size = static_cast<double>(packed.size());
    pipeline::send(t, 0, tag, std::span<const double>(&size, 1));
    pipeline::send(t, 0, tag + 1, std::span<const double>(packed));
    return {};
  }
  std::vector<stage_output> all = {mine};
  for (int r = 1; r < t.size(); ++r) {
    double size = 0;
    pipeline::recv(t, r, tag, std::span<double>(&size, 1));
    std::vector<double> v(static_cast<std::size_t>(size));
    pipeline::recv(t, r, tag + 1, std::span<double>(v));
    all.push_back(unpack(v));
  }
  return all;
}

/// The process's peak resident set since the last `reset_peak_rss`, in bytes (Linux's VmHWM; 0
/// where /proc is missing).
double peak_rss() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line))
    if (line.starts_with("VmHWM:")) return std::stod(line.substr(6)) * 1024;
  return 0;
}

/// Starts a new peak (Linux: "5" to /proc/self/clear_refs), after handing the heap the previous
/// schedule freed back to the system (glibc keeps it otherwise, and it would count again).
void reset_peak_rss() {
#ifdef __GLIBC__
  malloc_trim(0);
#endif
  std::ofstream("/proc/self/clear_refs") << "5";
}

/// Runs a body on `ranks` workers: threads of this process, or (built with MPI and started under
/// mpirun with several processes) the MPI ranks, where a one-rank run happens on rank 0 alone.
/// Returns every rank's output on the root, nothing elsewhere.
struct launcher {
#ifdef FRUGAL_EXAMPLE_WITH_MPI
  pipeline::mpi_transport* world = nullptr;
#endif
  [[nodiscard]] bool in_process() const {
#ifdef FRUGAL_EXAMPLE_WITH_MPI
    return world == nullptr;
#else
    return true;
#endif
  }
  [[nodiscard]] bool root() const {
#ifdef FRUGAL_EXAMPLE_WITH_MPI
    return world == nullptr || world->rank() == 0;
#else
    return true;
#endif
  }

  template <class Body>
  std::vector<stage_output> run(int ranks, Body body) {
    reset_peak_rss();
#ifdef FRUGAL_EXAMPLE_WITH_MPI
    if (world != nullptr) {
      if (ranks == world->size()) {
        auto mine = body(*world);
        mine.rss = peak_rss();
        return gather(*world, mine);
      }
      frugal::check(ranks == 1, "under MPI a schedule runs on 1 rank or on all ", world->size());
      std::vector<stage_output> out;
      if (world->rank() == 0) out = pipeline::run_in_process(1, [&](transport& t) { return body(t); });
      for (auto& o : out) o.rss = peak_rss();
      pipeline::barrier(*world);
      return out;
    }
#endif
    auto out = pipeline::run_in_process(ranks, [&](transport& t) { return body(t); });
    for (auto& o : out) o.rss = peak_rss();  // the ranks share the process
    return out;
  }
};

int run(settings s, launcher workers) {
  frugal::check(s.workers >= 1 && s.layers >= s.workers && s.chunks >= 1 && s.epochs >= 1 && s.eval_every >= 1,
                "need workers >= 1, layers >= workers, chunks >= 1, epochs >= 1 and eval-every >= 1");
#ifdef FRUGAL_EXAMPLE_WITH_MPI
  if (workers.world != nullptr) s.workers = workers.world->size();
#endif
  frugal::check(s.hybrid_partitions >= 1 && s.workers % s.hybrid_partitions == 0 && s.chunks >= s.hybrid_partitions,
                "the hybrid needs its partitions (", s.hybrid_partitions, ") to divide the workers (", s.workers,
                ") and to be no more than the chunks (", s.chunks, ")");
  std::filesystem::create_directories(s.out_dir);
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  const pipeline::link_model local = local_link();
  if (workers.root())
    std::printf(
        "# gnnpipe: %d-layer residual GCN (hidden %lld), %d workers, %d GNNPipe chunks, %d epochs "
        "(%d synchronous first), Adam lr %g, smoothing %g; in-process transport (%.2f GB/s, %.1f us per message), %u "
        "cores\n",
        s.layers, static_cast<long long>(s.hidden), s.workers, s.chunks, s.epochs, s.warmup, s.lr, s.smoothing,
        local.bytes_per_second / 1e9, local.latency_seconds * 1e6, cores);
  std::ofstream csv;
  if (workers.root()) {
    csv.open(std::filesystem::path(s.out_dir) / "gnnpipe.csv");
    csv << "schedule,seed,epoch,test_accuracy\n";
  }
  std::map<std::string, std::vector<run_result>> results;
  // The exact run comes first: its compute per layer and chunk is what the model is fed.
  std::vector<std::string> schedules = {"exact"};
  for (const auto& k : s.schedules)
    if (k != "exact") schedules.push_back(k);
  double analytic_ratio = 0;
  std::string sweep;
  for (std::uint64_t seed : s.seeds) {
    const problem p = make_problem(s, seed);
    const index_t n = p.data.graph.num_nodes();
    const auto plan = graph::plan_halos(p.a->matrix(), p.workers);
    const auto hybrid_plan = graph::plan_halos(p.a->matrix(), p.hybrid.parts);
    if (seed == s.seeds.front() && workers.root())
      std::printf(
          "# graph: %lld nodes, %lld edges, %d classes, %lld features; chunks and workers by %s; %.1f %% of "
          "Â's entries read a later chunk (historical); halo %lld rows per layer over %d workers\n",
          static_cast<long long>(n), static_cast<long long>(p.data.graph.num_entries() / 2), p.data.num_classes,
          static_cast<long long>(p.data.features.extent(1)), p.partitioner.c_str(), 100 * p.historical_fraction,
          static_cast<long long>(plan.halo_nodes()), s.workers);
    // The analytic bytes ratio: graph parallelism sends every halo row at every layer both ways,
    // GNNPipe every node's row across each of the S − 1 stage boundaries both ways.
    double halo = 0;
    for (int l = 0; l < s.layers; ++l)
      halo +=
          static_cast<double>(plan.halo_nodes()) * static_cast<double>(l == 0 ? p.data.features.extent(1) : s.hidden);
    analytic_ratio =
        s.workers > 1 ? halo / (static_cast<double>(s.workers - 1) * static_cast<double>(n) * s.hidden) : 0;

    std::vector<stage_output> exact;
    for (const auto& schedule : schedules) {
      std::vector<stage_output> out;
      if (schedule == "graph-parallel") {
        out = workers.run(s.workers, [&](auto& t) { return graph_parallel_rank(t, s, p, seed, plan); });
      } else if (schedule.starts_with("hybrid")) {
        out = workers.run(s.workers, [&](auto& t) {
          return hybrid_rank(t, s, p, seed, hybrid_plan, schedule == "hybrid", schedule);
        });
      } else {
        const bool historical = schedule == "gnnpipe";
        out = workers.run(schedule == "exact" ? 1 : s.workers,
                          [&](auto& t) { return gnnpipe_rank(t, s, p, seed, p.chunk_offsets, historical, schedule); });
      }
      if (schedule == "exact") exact = out;
      if (!workers.root()) continue;
      run_result r;
      r.schedule = schedule;
      r.seed = seed;
      for (const auto& o : out)
        if (!o.curve.empty()) r.curve = o.curve;
      r.accuracy = r.curve.back().accuracy;
      std::vector<std::vector<double>> times;
      for (const auto& o : out) {
        times.push_back(o.epoch_seconds);
        r.bytes += o.bytes;
        r.messages += o.messages;
        r.memory = std::max(r.memory, o.memory);
        r.rss = std::max(r.rss, o.rss);
      }
      r.epoch_seconds = slowest_median(times);
      for (const auto& c : r.curve) csv << schedule << ',' << seed << ',' << c.epoch << ',' << c.accuracy << '\n';

      // The model's predictions from the exact run's compute per (layer, chunk).
      const auto& prof = exact.front();
      auto predict = [&](auto&& model) {
        r.predicted_local = model(local, static_cast<int>(cores));
        r.predicted_10g = model(pipeline::link_model::gbit(10), 0);
        r.predicted_100g = model(pipeline::link_model::gbit(100), 0);
      };
      if (schedule == "graph-parallel") {
        auto w = graph_parallel_model(s, p, plan, prof);
        predict([&](const pipeline::link_model& link, int c) {
          w.cores = c;
          return pipeline::predict_graph_parallel(w, link).seconds;
        });
      } else if (schedule.starts_with("hybrid")) {
        auto w = hybrid_model(s, p, p.hybrid, hybrid_plan, s.workers / s.hybrid_partitions, prof);
        predict([&](const pipeline::link_model& link, int c) {
          w.cores = c;
          return pipeline::predict_hybrid(w, link, schedule == "hybrid").seconds;
        });
      } else {
        auto w = gnnpipe_model(s, p, schedule == "exact" ? 1 : s.workers, prof);
        predict([&](const pipeline::link_model& link, int c) {
          w.cores = c;
          return pipeline::predict_gnnpipe(w, link, schedule == "gnnpipe").seconds;
        });
      }
      std::printf(
          "%-15s seed %llu  epoch %.4f s (model %.4f s)  sent %s MiB in %.0f messages  state/worker %s MiB  peak RSS "
          "%s MiB  "
          "test accuracy %.2f%%\n",
          schedule.c_str(), static_cast<unsigned long long>(seed), r.epoch_seconds, r.predicted_local,
          mib(r.bytes).c_str(), r.messages, mib(r.memory).c_str(), mib(r.rss).c_str(), 100 * r.accuracy);
      std::fflush(stdout);
      results[schedule].push_back(r);
    }
    if (seed == s.seeds.front() && workers.root() && !exact.empty()) sweep = worker_sweep(s, p, exact.front());
  }

  if (!workers.root()) return 0;
  using frugal::examples::median;
  auto med = [&](const std::string& k, auto field) {
    std::vector<double> v;
    for (const auto& r : results[k]) v.push_back(field(r));
    return median(v);
  };
  std::printf(
      "\n## Per schedule (medians over %zu seed(s))\n\n| schedule | epoch (s) | model, local (s) | model/measured | "
      "MiB sent per epoch | messages per epoch | state MiB per worker | peak RSS MiB (%s) | model @10 Gb/s (s) | "
      "model @100 Gb/s (s) | test accuracy per seed | median |\n|---|---|---|---|---|---|---|---|---|---|---|---|\n",
      s.seeds.size(), workers.in_process() ? "process" : "largest rank");
  for (const auto& k : schedules) {
    if (results[k].empty()) continue;
    std::string per_seed;
    for (const auto& r : results[k]) {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%s%.2f%%", per_seed.empty() ? "" : ", ", 100 * r.accuracy);
      per_seed += buf;
    }
    const double epoch = med(k, [](const run_result& r) { return r.epoch_seconds; });
    const double model = med(k, [](const run_result& r) { return r.predicted_local; });
    std::printf("| %s | %.4f | %.4f | %.2f | %s | %.0f | %s | %s | %.4f | %.4f | %s | %.2f%% |\n", k.c_str(), epoch,
                model, model / epoch, mib(med(k, [](const run_result& r) { return r.bytes; })).c_str(),
                med(k, [](const run_result& r) { return r.messages; }),
                mib(med(k, [](const run_result& r) { return r.memory; })).c_str(),
                mib(med(k, [](const run_result& r) { return r.rss; })).c_str(),
                med(k, [](const run_result& r) { return r.predicted_10g; }),
                med(k, [](const run_result& r) { return r.predicted_100g; }), per_seed.c_str(),
                100 * med(k, [](const run_result& r) { return r.accuracy; }));
  }
  const double gp = med("graph-parallel", [](const run_result& r) { return r.bytes; });
  const double gn = med("gnnpipe", [](const run_result& r) { return r.bytes; });
  if (gp > 0 && gn > 0)
    std::printf(
        "\ngraph parallelism sends %.2fx the bytes of GNNPipe per epoch (analytic, halo rows per layer against "
        "rows per stage boundary: %.2fx; the rest is graph parallelism's gradient all-reduce)\n",
        gp / gn, analytic_ratio);
  const double hy = med("hybrid", [](const run_result& r) { return r.bytes; });
  if (gp > 0 && hy > 0)
    std::printf("graph parallelism sends %.2fx the bytes of the hybrid (%d stages x %d partitions) per epoch\n",
                gp / hy, s.workers / s.hybrid_partitions, s.hybrid_partitions);
  for (const char* k : {"gnnpipe", "hybrid"}) {
    if (results[k].empty() || results["exact"].empty()) continue;
    std::vector<double> d;
    for (std::size_t i = 0; i < results[k].size(); ++i)
      d.push_back(100 * (results[k][i].accuracy - results["exact"][i].accuracy));
    std::printf("%s test accuracy minus exact: %+.2f points (median of per-seed differences)\n", k, median(d));
  }
  std::printf("%s", sweep.c_str());
#ifdef FRUGAL_PLOT_SCRIPT
  std::printf("wrote %s; draw it with: python3 %s %s\n", (std::filesystem::path(s.out_dir) / "gnnpipe.csv").c_str(),
              FRUGAL_PLOT_SCRIPT, (std::filesystem::path(s.out_dir) / "gnnpipe.csv").c_str());
#endif
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Kokkos::ScopeGuard kokkos(argc, argv);
  settings s;
  CLI::App app{"GNNPipe: layer-pipelined full-graph GNN training beside exact and graph-parallel training"};
  app.add_option("--out", s.out_dir, "folder for the CSV");
  app.add_option("--linqs", s.linqs, "a LINQS dataset: the .content and .cites files")->expected(2);
  app.add_option("--nodes", s.nodes, "SBM nodes");
  app.add_option("--classes", s.classes, "SBM classes");
  app.add_option("--features", s.features, "SBM feature width");
  app.add_option("--homophily", s.homophily, "SBM: fraction of edges inside a class");
  app.add_option("--signal", s.signal, "SBM: class signal in the features against unit noise");
  app.add_option("--degree", s.degree, "SBM: mean degree");
  app.add_option("--hidden", s.hidden, "hidden width");
  app.add_option("--layers", s.layers, "GCN layers (at least the worker count)");
  app.add_option("--workers", s.workers, "pipeline stages / graph partitions");
  app.add_option("--chunks", s.chunks, "GNNPipe chunks");
  app.add_option("--hybrid-partitions", s.hybrid_partitions,
                 "the hybrid's partitions (it runs workers / this stages per partition)");
  app.add_option("--epochs", s.epochs, "training epochs");
  app.add_option("--warmup", s.warmup, "GNNPipe epochs without historical reads first");
  app.add_option("--eval-every", s.eval_every, "epochs between test evaluations");
  app.add_option("--lr", s.lr, "Adam learning rate");
  app.add_flag("--keep-state", s.keep_state,
               "GNNPipe and the hybrid keep each chunk's forward state (faster, more memory) instead of re-running it");
  app.add_option("--smoothing", s.smoothing, "historical-embedding smoothing factor in [0, 1) (0: off)")
      ->check(CLI::Range(0.0, 0.999));
  app.add_option("--seeds", s.seeds, "seeds (model initialisation and the SBM graph)");
  app.add_option("--schedules", s.schedules,
                 "which of exact, gnnpipe-sync, gnnpipe, graph-parallel, hybrid-sync, hybrid to run")
      ->check(CLI::IsMember({"exact", "gnnpipe-sync", "gnnpipe", "graph-parallel", "hybrid-sync", "hybrid"}));
  app.add_flag("--quick", s.quick, "small graph and model, one seed");
  app.add_flag("!--no-progress", s.progress, "no per-epoch progress lines");
  CLI11_PARSE(app, argc, argv);
  if (s.quick) {
    s.nodes = 800;
    s.layers = 8;
    s.hidden = 32;
    s.features = 32;
    s.epochs = 30;
    s.seeds = {1};
  }
#ifdef FRUGAL_EXAMPLE_WITH_MPI
  // Under mpirun with several processes the workers are the MPI ranks.
  MPI_Init(&argc, &argv);
  int size = 1;
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  int rc = 0;
  try {
    launcher workers;
    std::optional<pipeline::mpi_transport> world;
    if (size > 1) {
      world.emplace();
      workers.world = &*world;
    }
    rc = run(s, workers);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "gnnpipe: %s\n", e.what());
    rc = 1;
    if (size > 1) MPI_Abort(MPI_COMM_WORLD, 1);  // the other ranks would wait on this one
  }
  MPI_Finalize();
  return rc;
#else
  try {
    return run(s, launcher{});
  } catch (const std::exception& e) {
    std::fprintf(stderr, "gnnpipe: %s\n", e.what());
    return 1;
  }
#endif
}
