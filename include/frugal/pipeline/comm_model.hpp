#pragma once
/// \file
/// A communication model: the epoch time of GNNPipe, graph parallelism and their hybrid predicted from the
/// compute each worker does (measured) and the messages it sends (counted or computed), for a
/// link of given bandwidth and latency. It is how the example answers "what would this take on
/// 4 machines over 10 Gb/s" from a run on one machine.
///
/// Messages cost latency + bytes / bandwidth and queue on their link (one per direction between
/// neighbouring stages; one per worker for halo exchanges). Work runs as soon as its inputs have
/// arrived and its worker is free. When the workers share fewer cores than there are workers (the
/// local runs here), the busy workers share the cores equally at every moment, as an operating
/// system's scheduler shares them among runnable threads (`simulate_tasks`).

#include <algorithm>
#include <cstdint>
#include <limits>
#include <numeric>
#include <utility>
#include <vector>

#include "../core/error.hpp"

namespace frugal::pipeline {

struct link_model {
  double bytes_per_second = 10e9 / 8;
  double latency_seconds = 20e-6;
  /// The workers' own cores move the bytes (the in-process transport copies each message in and
  /// out; MPI's shared-memory path does too): where workers share cores, a message's transfer is
  /// then work of its sender, competing with compute, instead of a delay on a wire.
  bool copies_on_cores = false;

  /// A link of `gigabits` Gb/s with `microseconds` of latency per message.
  [[nodiscard]] static link_model gbit(double gigabits, double microseconds = 20) {
    return {gigabits * 1e9 / 8, microseconds * 1e-6};
  }
  [[nodiscard]] double transfer_seconds(double bytes) const { return latency_seconds + bytes / bytes_per_second; }
};

/// One piece of work of `simulate_tasks`: it runs on `worker` after the worker's previous task,
/// once every dependency has finished and its delay (a message's transfer) has passed.
struct sim_task {
  int worker = 0;
  double work = 0;                                    ///< seconds on a core of its own
  std::vector<std::pair<std::size_t, double>> after;  ///< (task, delay after it finishes)
};

/// Finish time of a set of tasks, each worker running its tasks in the order given, the busy
/// workers sharing `cores` cores equally (0: a core each). Tasks must be listed so that every
/// dependency comes before its dependents.
[[nodiscard]] inline double simulate_tasks(const std::vector<sim_task>& tasks, int workers, int cores) {
  const auto W = static_cast<std::size_t>(workers);
  std::vector<std::vector<std::size_t>> queue(W);
  for (std::size_t i = 0; i < tasks.size(); ++i) {
    check(tasks[i].worker >= 0 && tasks[i].worker < workers, "frugal::pipeline::simulate_tasks: task ", i,
          " names worker ", tasks[i].worker);
    for (const auto& [dep, delay] : tasks[i].after)
      check(dep < i && delay >= 0, "frugal::pipeline::simulate_tasks: task ", i, " depends on task ", dep,
            " listed after it");
    queue[static_cast<std::size_t>(tasks[i].worker)].push_back(i);
  }
  std::vector<double> finish(tasks.size(), -1), remaining(tasks.size());
  for (std::size_t i = 0; i < tasks.size(); ++i) remaining[i] = tasks[i].work;
  std::vector<std::size_t> next(W, 0);
  double now = 0;
  std::size_t done = 0;
  const auto ready_at = [&](std::size_t i) {  // -1 while a dependency is unfinished
    double t = 0;
    for (const auto& [dep, delay] : tasks[i].after) {
      if (finish[dep] < 0) return -1.0;
      t = std::max(t, finish[dep] + delay);
    }
    return t;
  };
  while (done < tasks.size()) {
    // Workers whose next task can run now, and the earliest time a waiting one can start.
    std::vector<std::size_t> running;
    double wake = std::numeric_limits<double>::infinity();
    for (std::size_t w = 0; w < W; ++w) {
      if (next[w] == queue[w].size()) continue;
      const std::size_t i = queue[w][next[w]];
      const double r = ready_at(i);
      if (r < 0) continue;
      if (r <= now)
        running.push_back(i);
      else
        wake = std::min(wake, r);
    }
    check(!running.empty() || wake < std::numeric_limits<double>::infinity(),
          "frugal::pipeline::simulate_tasks: the tasks wait on each other (a cycle)");
    const double rate =
        cores > 0 && running.size() > static_cast<std::size_t>(cores) ? double(cores) / double(running.size()) : 1.0;
    double step = wake - now;
    for (std::size_t i : running) step = std::min(step, remaining[i] / rate);
    now += step;
    for (std::size_t i : running) {
      remaining[i] -= step * rate;
      if (remaining[i] <= 1e-15 * std::max(1.0, tasks[i].work)) {
        finish[i] = now;
        ++next[static_cast<std::size_t>(tasks[i].worker)];
        ++done;
      }
    }
  }
  return now;
}

namespace detail {

/// Task `t` receives a message that task `from` sends after it finishes and that takes `seconds`
/// to move: a delay on the edge, or, when the link's transfers run on the workers' cores, work
/// added to the sender (call once per message).
inline void message(std::vector<sim_task>& tasks, sim_task& t, std::size_t from, double seconds,
                    const link_model& link) {
  if (link.copies_on_cores) {
    tasks[from].work += seconds;
    t.after.push_back({from, 0.0});
  } else {
    t.after.push_back({from, seconds});
  }
}

}  // namespace detail

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
  if (w.cores > 0 && static_cast<std::size_t>(w.cores) < S) {
    // Shared cores: the same schedule as tasks on stages that share them (messages are delays
    // here, or their sender's work with `copies_on_cores`, without link queues: a local link is
    // rarely the bottleneck).
    std::vector<sim_task> tasks;
    const auto total = [](const std::vector<double>& v) { return std::accumulate(v.begin(), v.end(), 0.0); };
    const auto transfers = [&](const std::vector<double>& bytes) {
      return std::accumulate(bytes.begin(), bytes.end(), 0.0,
                             [&](double a, double b) { return a + link.transfer_seconds(b); });
    };
    if (historical) {
      // Forward: stage by stage, chunks in order; task id s·C + c.
      for (std::size_t s = 0; s < S; ++s)
        for (std::size_t c = 0; c < C; ++c) {
          sim_task t{static_cast<int>(s), w.forward[s][c], {}};
          if (s > 0)
            detail::message(tasks, t, (s - 1) * C + c, link.transfer_seconds(w.boundary_bytes[s - 1][c]), link);
          tasks.push_back(t);
        }
      // Backward: from the last stage, chunks in reverse; the task of (s, c) follows that of
      // (s + 1, c), listed just before this stage's tasks.
      std::vector<std::size_t> back_id(S * C);
      for (std::size_t s = S; s-- > 0;)
        for (std::size_t c = C; c-- > 0;) {
          sim_task t{static_cast<int>(s), w.backward[s][c], {}};
          if (s + 1 < S)
            detail::message(tasks, t, back_id[(s + 1) * C + c], link.transfer_seconds(w.boundary_bytes[s][c]), link);
          back_id[s * C + c] = tasks.size();
          tasks.push_back(t);
        }
    } else {
      for (std::size_t s = 0; s < S; ++s) {
        sim_task t{static_cast<int>(s), total(w.forward[s]), {}};
        if (s > 0) detail::message(tasks, t, s - 1, transfers(w.boundary_bytes[s - 1]), link);
        tasks.push_back(t);
      }
      for (std::size_t s = S; s-- > 0;) {
        sim_task t{static_cast<int>(s), total(w.backward[s]), {}};
        if (s + 1 < S) detail::message(tasks, t, tasks.size() - 1, transfers(w.boundary_bytes[s]), link);
        tasks.push_back(t);
      }
    }
    p.seconds = simulate_tasks(tasks, static_cast<int>(S), w.cores);
  }
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
/// and halo exchange, forward and backward, then one all-reduce. With shared cores, each layer's
/// compute phase takes at least its total compute divided by the cores (the workers meet at every
/// layer, so time-sharing cannot be made up elsewhere).
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
  if (w.cores > 0 && static_cast<std::size_t>(w.cores) < P) {
    // Shared cores: every layer's compute as tasks that share them; a phase waits for the
    // previous one and for the halos the workers sent (each sender's exchange time), and the
    // all-reduce follows the last.
    const auto halo_time = [&](std::size_t q, std::size_t l) {
      return static_cast<double>(w.halo_messages[q][l]) * link.latency_seconds +
             w.halo_bytes[q][l] / link.bytes_per_second;
    };
    std::vector<sim_task> tasks;
    std::size_t previous = 0;
    auto phase = [&](const std::vector<std::vector<double>>& work, std::size_t l) {
      const std::size_t begin = tasks.size();
      // Each worker's exchange, after its previous phase: a delay for the others, or its own work.
      if (begin > 0 && link.copies_on_cores)
        for (std::size_t r = 0; r < P; ++r) tasks[previous + r].work += halo_time(r, l);
      for (std::size_t q = 0; q < P; ++q) {
        sim_task t{static_cast<int>(q), work[q][l], {}};
        if (begin > 0)
          for (std::size_t r = 0; r < P; ++r)
            t.after.push_back({previous + r, link.copies_on_cores ? 0.0 : halo_time(r, l)});
        tasks.push_back(t);
      }
      previous = begin;
    };
    for (std::size_t l = 0; l < L; ++l) phase(w.forward, l);
    for (std::size_t l = L; l-- > 0;) phase(w.backward, l);
    double first_halo = 0;  // the first layer's exchange precedes it
    for (std::size_t q = 0; q < P; ++q) first_halo = std::max(first_halo, halo_time(q, 0));
    const double reduce = P > 1 ? 2.0 * static_cast<double>(P - 1) * link.transfer_seconds(w.parameter_bytes) : 0.0;
    p.seconds = first_halo + simulate_tasks(tasks, static_cast<int>(P), w.cores) + reduce;
  }
  return p;
}

/// The hybrid's work per epoch (stages × partitions): per partition, the compute of each layer on
/// each of its chunks, forward and backward, and the bytes of each chunk crossing each stage
/// boundary; per partition and layer the halo it sends (the layer-synchronous backward sends as
/// many gradient rows back; with historical reads the halo moves once per layer and epoch and its
/// gradients are dropped, `late_gradients::dropped`); per stage the bytes of its gradients,
/// summed over the partitions once per epoch.
struct hybrid_workload {
  std::vector<std::vector<std::vector<double>>> forward, backward;  ///< [partition][layer][chunk] seconds
  std::vector<std::size_t> stage_offsets;                           ///< stage s holds layers [o[s], o[s + 1])
  std::vector<std::vector<std::vector<double>>> boundary_bytes;     ///< [partition][boundary][chunk] bytes
  std::vector<std::vector<double>> halo_bytes;                      ///< [partition][layer] bytes sent
  std::vector<std::vector<std::int64_t>> halo_messages;             ///< [partition][layer] messages sent
  std::vector<double> parameter_bytes;                              ///< [stage]
  int cores = 0;  ///< cores the stages × partitions workers share (0: one each)
};

/// Predicted epoch time of the hybrid, as tasks on stages × partitions workers (`simulate_tasks`;
/// messages are delays, without link queues). Layer-synchronous: one task per partition and
/// layer, after the previous layer's tasks of every partition (the halo exchange) and, at a stage
/// boundary, the previous stage's. Historical: each partition a GNNPipe pipeline of chunk tasks,
/// a stage's backward after the forward passes of its layer range in every partition (the halo
/// for the next epoch). Then the gradient sum over the partitions.
[[nodiscard]] inline epoch_prediction predict_hybrid(const hybrid_workload& w, const link_model& link,
                                                     bool historical) {
  constexpr auto where = "frugal::pipeline::predict_hybrid";
  const std::size_t P = w.forward.size();
  check(P >= 1 && w.backward.size() == P && w.boundary_bytes.size() == P && w.halo_bytes.size() == P &&
            w.halo_messages.size() == P,
        where, ": one entry per partition in every table");
  check(w.stage_offsets.size() >= 2 && w.stage_offsets.front() == 0, where, ": stage offsets must start at 0");
  const std::size_t S = w.stage_offsets.size() - 1, L = w.stage_offsets.back();
  check(w.parameter_bytes.size() == S, where, ": one parameter size per stage");
  std::vector<std::size_t> stage_of(L);
  for (std::size_t s = 0; s < S; ++s) {
    check(w.stage_offsets[s] < w.stage_offsets[s + 1], where, ": stage ", s, " has no layers");
    for (std::size_t l = w.stage_offsets[s]; l < w.stage_offsets[s + 1]; ++l) stage_of[l] = s;
  }
  for (std::size_t p = 0; p < P; ++p) {
    check(w.forward[p].size() == L && w.backward[p].size() == L && w.halo_bytes[p].size() == L &&
              w.halo_messages[p].size() == L && w.boundary_bytes[p].size() == S - 1,
          where, ": partition ", p, " needs one entry per layer and per stage boundary");
    for (std::size_t l = 0; l < L; ++l)
      check(w.forward[p][l].size() == w.forward[p][0].size() && w.backward[p][l].size() == w.forward[p][0].size(),
            where, ": partition ", p, " has a different chunk count at layer ", l);
    for (const auto& b : w.boundary_bytes[p])
      check(b.size() == w.forward[p][0].size(), where, ": partition ", p, " boundary without one entry per chunk");
  }
  const auto sum = [](const std::vector<double>& v) { return std::accumulate(v.begin(), v.end(), 0.0); };
  const auto halo_time = [&](std::size_t p, std::size_t l) {
    return static_cast<double>(w.halo_messages[p][l]) * link.latency_seconds +
           w.halo_bytes[p][l] / link.bytes_per_second;
  };
  const auto boundary_time = [&](std::size_t p, std::size_t b) {
    double t = 0;
    for (double bytes : w.boundary_bytes[p][b]) t += link.transfer_seconds(bytes);
    return t;
  };
  epoch_prediction out;
  for (std::size_t p = 0; p < P; ++p) {
    for (std::size_t l = 0; l < L; ++l) {
      out.compute_seconds += sum(w.forward[p][l]) + sum(w.backward[p][l]);
      const double ways = historical ? 1 : 2;
      out.bytes += ways * w.halo_bytes[p][l];
      out.messages += static_cast<std::int64_t>(ways) * w.halo_messages[p][l];
    }
    for (const auto& b : w.boundary_bytes[p]) {
      out.bytes += 2 * sum(b);
      out.messages += 2 * static_cast<std::int64_t>(b.size());
    }
  }
  const auto worker = [&](std::size_t p, std::size_t s) { return static_cast<int>(p * S + s); };
  std::vector<sim_task> tasks;
  double start = 0;
  const bool on_cores = link.copies_on_cores;
  // The halo every partition sends after task `from(q)`: each sender pays it once.
  const auto halo_edges = [&](sim_task& t, auto from, std::size_t l) {
    for (std::size_t q = 0; q < P; ++q) t.after.push_back({from(q), on_cores ? 0.0 : halo_time(q, l)});
  };
  if (!historical) {
    // Forward, layer by layer; task id l·P + p.
    for (std::size_t l = 0; l < L; ++l) {
      if (l > 0 && on_cores)
        for (std::size_t q = 0; q < P; ++q) tasks[(l - 1) * P + q].work += halo_time(q, l);
      for (std::size_t p = 0; p < P; ++p) {
        sim_task t{worker(p, stage_of[l]), sum(w.forward[p][l]), {}};
        if (l > 0) {
          halo_edges(
              t, [&](std::size_t q) { return (l - 1) * P + q; }, l);
          if (stage_of[l] != stage_of[l - 1])
            detail::message(tasks, t, (l - 1) * P + p, boundary_time(p, stage_of[l - 1]), link);
        }
        tasks.push_back(t);
      }
    }
    // Backward from the last layer; task id L·P + (L − 1 − l)·P + p.
    const auto back_id = [&](std::size_t l, std::size_t p) { return L * P + (L - 1 - l) * P + p; };
    for (std::size_t l = L; l-- > 0;) {
      if (l + 1 < L && on_cores)
        for (std::size_t q = 0; q < P; ++q) tasks[back_id(l + 1, q)].work += halo_time(q, l + 1);
      for (std::size_t p = 0; p < P; ++p) {
        sim_task t{worker(p, stage_of[l]), sum(w.backward[p][l]), {}};
        if (l + 1 < L) {
          halo_edges(
              t, [&](std::size_t q) { return back_id(l + 1, q); }, l + 1);
          if (stage_of[l] != stage_of[l + 1])
            detail::message(tasks, t, back_id(l + 1, p), boundary_time(p, stage_of[l]), link);
        } else {
          t.after.push_back({(L - 1) * P + p, 0.0});
        }
        tasks.push_back(t);
      }
    }
    for (std::size_t p = 0; p < P; ++p) start = std::max(start, halo_time(p, 0));  // the first layer's exchange
  } else {
    // Per partition, GNNPipe's chunk tasks: forward (s, c) after (s − 1, c); backward in reverse.
    std::vector<std::vector<std::size_t>> last_forward(P, std::vector<std::size_t>(S));
    for (std::size_t p = 0; p < P; ++p) {
      const std::size_t C = w.forward[p][0].size();
      const std::size_t base = tasks.size();
      for (std::size_t s = 0; s < S; ++s)
        for (std::size_t c = 0; c < C; ++c) {
          double work = 0;
          for (std::size_t l = w.stage_offsets[s]; l < w.stage_offsets[s + 1]; ++l) work += w.forward[p][l][c];
          sim_task t{worker(p, s), work, {}};
          if (s > 0)
            detail::message(tasks, t, base + (s - 1) * C + c, link.transfer_seconds(w.boundary_bytes[p][s - 1][c]),
                            link);
          tasks.push_back(t);
          last_forward[p][s] = tasks.size() - 1;
        }
    }
    const auto stage_halo = [&](std::size_t q, std::size_t s) {
      double halo = 0;
      for (std::size_t l = w.stage_offsets[s]; l < w.stage_offsets[s + 1]; ++l) halo += halo_time(q, l);
      return halo;
    };
    if (on_cores)
      for (std::size_t q = 0; q < P; ++q)
        for (std::size_t s = 0; s < S; ++s) tasks[last_forward[q][s]].work += stage_halo(q, s);
    for (std::size_t p = 0; p < P; ++p) {
      const std::size_t C = w.forward[p][0].size();
      std::vector<std::size_t> id(S * C);
      for (std::size_t s = S; s-- > 0;)
        for (std::size_t c = C; c-- > 0;) {
          double work = 0;
          for (std::size_t l = w.stage_offsets[s]; l < w.stage_offsets[s + 1]; ++l) work += w.backward[p][l][c];
          sim_task t{worker(p, s), work, {}};
          if (s + 1 < S)
            detail::message(tasks, t, id[(s + 1) * C + c], link.transfer_seconds(w.boundary_bytes[p][s][c]), link);
          if (c + 1 == C)  // the halo of every layer of this stage, from every partition
            for (std::size_t q = 0; q < P; ++q)
              t.after.push_back({last_forward[q][s], on_cores ? 0.0 : stage_halo(q, s)});
          id[s * C + c] = tasks.size();
          tasks.push_back(t);
        }
    }
  }
  double reduce = 0;
  if (P > 1)
    for (std::size_t s = 0; s < S; ++s) {
      reduce = std::max(reduce, 2.0 * static_cast<double>(P - 1) * link.transfer_seconds(w.parameter_bytes[s]));
      out.bytes += 2.0 * static_cast<double>(P - 1) * w.parameter_bytes[s];
      out.messages += 2 * static_cast<std::int64_t>(P - 1);
    }
  out.seconds = start + simulate_tasks(tasks, static_cast<int>(P * S), w.cores) + reduce;
  return out;
}

}  // namespace frugal::pipeline
