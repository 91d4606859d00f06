#pragma once
/// \file
/// Pipeline schedules: the order in which each stage runs the forward and backward passes of a
/// step's micro-batches, with a flush at the end of every step (all gradients of the step are in
/// before the optimizer runs, so pipelined training computes the same update as unpipelined).
///
/// - GPipe (Huang et al. 2019): every forward, then every backward. Simple; a stage holds all M
///   micro-batches' activations at the peak.
/// - 1F1B (PipeDream-Flush, Narayanan et al. 2021): stage s runs S − s − 1 warm-up forwards, then
///   alternates one forward and one backward, then drains. Same bubble as GPipe, but a stage holds
///   at most S − s micro-batches in flight.

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "../core/error.hpp"

namespace frugal::pipeline {

enum class schedule_kind { gpipe, one_f_one_b };

/// One operation of a stage: the forward or backward pass of one micro-batch.
struct stage_op {
  enum class kind : std::uint8_t { forward, backward };
  kind what = kind::forward;
  std::int32_t micro_batch = 0;

  friend bool operator==(const stage_op&, const stage_op&) = default;
};

/// "gpipe" or "1f1b".
[[nodiscard]] inline std::string to_string(schedule_kind k) { return k == schedule_kind::gpipe ? "gpipe" : "1f1b"; }

/// The ordered operations of stage `stage` (0-based) of `stages` for `micro_batches` micro-batches.
/// \throws invalid_argument unless 0 ≤ stage < stages and micro_batches ≥ 1
[[nodiscard]] inline std::vector<stage_op> stage_schedule(schedule_kind kind, int stages, int stage,
                                                          int micro_batches) {
  check(stages >= 1 && stage >= 0 && stage < stages && micro_batches >= 1, "frugal::pipeline::stage_schedule: stage ",
        stage, " of ", stages, " with ", micro_batches, " micro-batches");
  using k = stage_op::kind;
  std::vector<stage_op> ops;
  ops.reserve(2 * static_cast<std::size_t>(micro_batches));
  if (kind == schedule_kind::gpipe) {
    for (int m = 0; m < micro_batches; ++m) ops.push_back({k::forward, m});
    for (int m = 0; m < micro_batches; ++m) ops.push_back({k::backward, m});
    return ops;
  }
  const int warmup = std::min(stages - stage - 1, micro_batches);
  for (int m = 0; m < warmup; ++m) ops.push_back({k::forward, m});
  for (int m = 0; m < micro_batches - warmup; ++m) {
    ops.push_back({k::forward, warmup + m});
    ops.push_back({k::backward, m});
  }
  for (int m = micro_batches - warmup; m < micro_batches; ++m) ops.push_back({k::backward, m});
  return ops;
}

/// The largest number of micro-batches whose forward has run and backward has not, at any point
/// of `ops`: the activations a stage must keep.
[[nodiscard]] inline int peak_in_flight(const std::vector<stage_op>& ops) {
  int now = 0, peak = 0;
  for (const auto& op : ops) {
    now += op.what == stage_op::kind::forward ? 1 : -1;
    peak = std::max(peak, now);
  }
  return peak;
}

/// Time of one step when every forward takes `forward_time[s]` and every backward
/// `backward_time[s]` on stage s and messages are free: each operation starts once its stage is
/// idle and its input has arrived (a forward from the stage before, a backward from the stage
/// after). The bubble fraction is 1 − Σ work / (stages × makespan).
[[nodiscard]] inline double simulate_makespan(schedule_kind kind, int micro_batches,
                                              const std::vector<double>& forward_time,
                                              const std::vector<double>& backward_time) {
  const int stages = static_cast<int>(forward_time.size());
  check(stages >= 1 && backward_time.size() == forward_time.size(),
        "frugal::pipeline::simulate_makespan: one forward and one backward time per stage");
  const auto M = static_cast<std::size_t>(micro_batches);
  std::vector<std::vector<double>> f_done(static_cast<std::size_t>(stages), std::vector<double>(M, -1)),
      b_done = f_done;
  std::vector<std::vector<stage_op>> ops;
  for (int s = 0; s < stages; ++s) ops.push_back(stage_schedule(kind, stages, s, micro_batches));
  std::vector<std::size_t> next(static_cast<std::size_t>(stages), 0);
  std::vector<double> clock(static_cast<std::size_t>(stages), 0);
  // Repeatedly run any stage whose next operation's input is ready; schedules never deadlock, so
  // every sweep makes progress.
  for (bool progress = true; progress;) {
    progress = false;
    for (int s = 0; s < stages; ++s) {
      const auto su = static_cast<std::size_t>(s);
      while (next[su] < ops[su].size()) {
        const auto& op = ops[su][next[su]];
        const auto m = static_cast<std::size_t>(op.micro_batch);
        double ready;
        if (op.what == stage_op::kind::forward) {
          ready = s == 0 ? 0 : f_done[su - 1][m];
        } else {
          ready = s + 1 == stages ? f_done[su][m] : b_done[su + 1][m];
        }
        if (ready < 0) break;
        const double start = std::max(clock[su], ready);
        clock[su] = start + (op.what == stage_op::kind::forward ? forward_time[su] : backward_time[su]);
        (op.what == stage_op::kind::forward ? f_done : b_done)[su][m] = clock[su];
        ++next[su];
        progress = true;
      }
    }
  }
  for (int s = 0; s < stages; ++s)
    check(next[static_cast<std::size_t>(s)] == ops[static_cast<std::size_t>(s)].size(),
          "frugal::pipeline::simulate_makespan: the schedule deadlocked at stage ", s);
  return *std::max_element(clock.begin(), clock.end());
}

}  // namespace frugal::pipeline
