#pragma once
/// \file
/// A communication model: the epoch time of GNNPipe and of graph parallelism predicted from the
/// compute each worker does (measured) and the messages it sends (counted or computed), for a
/// link of given bandwidth and latency. It is how the example answers "what would this take on
/// 4 machines over 10 Gb/s" from a run on one machine.
///
/// Messages cost latency + bytes / bandwidth and queue on their link (one per direction between
/// neighbouring stages; one per worker for halo exchanges). Work runs as soon as its inputs have
/// arrived and its worker is free. When the workers share fewer cores than there are workers (the
/// local runs here), the prediction is also at least the total compute divided by the cores.

#include <algorithm>
#include <cstdint>
#include <numeric>
#include <vector>

#include "../core/error.hpp"

namespace frugal::pipeline {

struct link_model {
  double bytes_per_second = 10e9 / 8;
  double latency_seconds = 20e-6;

  /// A link of `gigabits` Gb/s with `microseconds` of latency per message.
  [[nodiscard]] static link_model gbit(double gigabits, double microseconds = 20) {
    return {gigabits * 1e9 / 8, microseconds * 1e-6};
  }
  [[nodiscard]] double transfer_seconds(double bytes) const { return latency_seconds + bytes / bytes_per_second; }
};

struct epoch_prediction {
  double seconds = 0;
  double compute_seconds = 0;  ///< total compute over all workers
  double bytes = 0;            ///< sent by all workers together
  std::int64_t messages = 0;
};

/// GNNPipe's work per epoch: per stage and chunk the compute of the stage's layers, forward and
/// backward, and the bytes of a chunk's activation crossing each stage boundary (its gradient
/// crosses back with the same size).
struct gnnpipe_workload {
  std::vector<std::vector<double>> forward, backward;  ///< [stage][chunk] seconds
  std::vector<std::vector<double>> boundary_bytes;     ///< [boundary s → s+1][chunk] bytes
  int cores = 0;                                       ///< cores the stages share (0: one each)
};

/// Predicted epoch time of GNNPipe with historical reads (chunks pipelined: forward in order,
/// backward in reverse) or layer-synchronous (each stage waits for every chunk).
[[nodiscard]] inline epoch_prediction predict_gnnpipe(const gnnpipe_workload& w, const link_model& link,
                                                      bool historical) {
  const auto S = w.forward.size();
  check(S >= 1 && w.backward.size() == S && w.boundary_bytes.size() == S - 1, "frugal::pipeline::predict_gnnpipe: ", S,
        " stages need as many backward rows and ", S - 1, " boundaries");
  const auto C = w.forward[0].size();
  for (std::size_t s = 0; s < S; ++s)
    check(w.forward[s].size() == C && w.backward[s].size() == C && (s + 1 == S || w.boundary_bytes[s].size() == C),
          "frugal::pipeline::predict_gnnpipe: stage ", s, " does not have one entry per chunk");
  epoch_prediction p;
  for (std::size_t s = 0; s < S; ++s)
    p.compute_seconds += std::accumulate(w.forward[s].begin(), w.forward[s].end(), 0.0) +
                         std::accumulate(w.backward[s].begin(), w.backward[s].end(), 0.0);
  for (const auto& b : w.boundary_bytes) {
    p.bytes += 2 * std::accumulate(b.begin(), b.end(), 0.0);
    p.messages += 2 * static_cast<std::int64_t>(b.size());
  }
  std::vector<double> clock(S, 0.0), down_free(S, 0.0), up_free(S, 0.0);
  // arrive[s][c]: when chunk c's input is at stage s (forward), or its gradient (backward).
  std::vector<std::vector<double>> arrive(S, std::vector<double>(C, 0.0));
  auto send = [&](double ready, std::vector<double>& link_free, std::size_t l, double bytes) {
    const double start = std::max(ready, link_free[l]);
    link_free[l] = start + link.transfer_seconds(bytes);
    return link_free[l];
  };
  // Forward, stage by stage (a stage's inputs depend only on the stage before).
  for (std::size_t s = 0; s < S; ++s) {
    if (historical) {
      for (std::size_t c = 0; c < C; ++c) {
        clock[s] = std::max(clock[s], arrive[s][c]) + w.forward[s][c];
        if (s + 1 < S) arrive[s + 1][c] = send(clock[s], down_free, s, w.boundary_bytes[s][c]);
      }
    } else {
      clock[s] = std::max(clock[s], *std::max_element(arrive[s].begin(), arrive[s].end())) +
                 std::accumulate(w.forward[s].begin(), w.forward[s].end(), 0.0);
      for (std::size_t c = 0; c < C && s + 1 < S; ++c)
        arrive[s + 1][c] = send(clock[s], down_free, s, w.boundary_bytes[s][c]);
    }
  }
  // Backward, from the last stage; chunks in reverse order. The last stage starts from its own
  // loss, so its gradients "arrive" when its forward ends.
  std::vector<std::vector<double>> back(S, std::vector<double>(C, 0.0));
  for (std::size_t c = 0; c < C; ++c) back[S - 1][c] = clock[S - 1];
  for (std::size_t s = S; s-- > 0;) {
    if (historical) {
      for (std::size_t c = C; c-- > 0;) {
        clock[s] = std::max(clock[s], back[s][c]) + w.backward[s][c];
        if (s > 0) back[s - 1][c] = send(clock[s], up_free, s - 1, w.boundary_bytes[s - 1][c]);
      }
    } else {
      clock[s] = std::max(clock[s], *std::max_element(back[s].begin(), back[s].end())) +
                 std::accumulate(w.backward[s].begin(), w.backward[s].end(), 0.0);
      for (std::size_t c = C; c-- > 0 && s > 0;)
        back[s - 1][c] = send(clock[s], up_free, s - 1, w.boundary_bytes[s - 1][c]);
    }
  }
  p.seconds = *std::max_element(clock.begin(), clock.end());
  if (w.cores > 0 && static_cast<std::size_t>(w.cores) < S)
    p.seconds = std::max(p.seconds, p.compute_seconds / w.cores);
  return p;
}

/// Graph parallelism's work per epoch: per worker and layer the compute, forward and backward,
/// and the halo each worker sends at each layer (the backward sends the same rows' gradients
/// back); the weight gradients are summed over the workers once per epoch (`allreduce_sum`:
/// through worker 0, 2(P − 1) messages of `parameter_bytes`).
struct graph_parallel_workload {
  std::vector<std::vector<double>> forward, backward;    ///< [worker][layer] seconds
  std::vector<std::vector<double>> halo_bytes;           ///< [worker][layer] bytes sent
  std::vector<std::vector<std::int64_t>> halo_messages;  ///< [worker][layer] messages sent
  double parameter_bytes = 0;
  int cores = 0;  ///< cores the workers share (0: one each)
};

/// Predicted epoch time of graph parallelism: every layer waits for the slowest worker's compute
/// and halo exchange, forward and backward, then one all-reduce.
[[nodiscard]] inline epoch_prediction predict_graph_parallel(const graph_parallel_workload& w, const link_model& link) {
  const auto P = w.forward.size();
  check(P >= 1 && w.backward.size() == P && w.halo_bytes.size() == P && w.halo_messages.size() == P,
        "frugal::pipeline::predict_graph_parallel: one row per worker in every table");
  const auto L = w.forward[0].size();
  epoch_prediction p;
  double seconds = 0;
  for (std::size_t l = 0; l < L; ++l) {
    double fwd = 0, bwd = 0, halo = 0;
    for (std::size_t q = 0; q < P; ++q) {
      check(w.forward[q].size() == L && w.backward[q].size() == L && w.halo_bytes[q].size() == L &&
                w.halo_messages[q].size() == L,
            "frugal::pipeline::predict_graph_parallel: worker ", q, " does not have one entry per layer");
      fwd = std::max(fwd, w.forward[q][l]);
      bwd = std::max(bwd, w.backward[q][l]);
      halo = std::max(halo, static_cast<double>(w.halo_messages[q][l]) * link.latency_seconds +
                                w.halo_bytes[q][l] / link.bytes_per_second);
      p.compute_seconds += w.forward[q][l] + w.backward[q][l];
      p.bytes += 2 * w.halo_bytes[q][l];
      p.messages += 2 * w.halo_messages[q][l];
    }
    seconds += fwd + bwd + 2 * halo;
  }
  if (P > 1) {
    seconds += 2.0 * static_cast<double>(P - 1) * link.transfer_seconds(w.parameter_bytes);
    p.bytes += 2.0 * static_cast<double>(P - 1) * w.parameter_bytes;
    p.messages += 2 * static_cast<std::int64_t>(P - 1);
  }
  p.seconds = seconds;
  if (w.cores > 0 && static_cast<std::size_t>(w.cores) < P)
    p.seconds = std::max(p.seconds, p.compute_seconds / w.cores);
  return p;
}

}  // namespace frugal::pipeline
