#pragma once
/// \file
/// One stage of a pipelined model: a run of consecutive layers on one rank, driven by a schedule
/// over the micro-batches of each step and talking to its neighbours through a transport.
///
/// Rank s of the transport runs stage s. Stage 0 reads the batch, the last stage holds the labels
/// and the loss; activations flow forward from rank to rank and gradients back. A step ends with
/// every stage's parameter gradients equal (to rounding) to those of the same batch through the
/// unpipelined model, so the caller's optimizer step is the ordinary one.
///
/// A layer keeps the state of its *last* forward only. When a backward comes for a micro-batch
/// that is not the stage's last forward, the stage runs that micro-batch's forward again from the
/// input it kept (GPipe's re-materialisation): it stores one input per micro-batch in flight
/// rather than every layer's activations, at the cost of the extra forwards it counts.

#include <algorithm>
#include <array>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "../core/error.hpp"
#include "../core/execution.hpp"
#include "../nn/chain.hpp"
#include "../nn/tensor.hpp"
#include "schedule.hpp"
#include "transport.hpp"

namespace frugal::pipeline {

struct stage_options {
  schedule_kind schedule = schedule_kind::one_f_one_b;
  /// Micro-batches per step; the batch's rows are dealt into this many near-equal runs.
  int micro_batches = 4;
};

/// What a stage did in its steps so far.
struct stage_statistics {
  std::int64_t steps = 0;
  std::int64_t forwards = 0;
  /// Forwards run again before a backward (see the file comment).
  std::int64_t recomputed_forwards = 0;
  /// Most bytes of kept micro-batch inputs at one time.
  std::int64_t peak_kept_bytes = 0;
};

/// A loss the last stage can use: `forward(logits, labels)` returns the mean over the rows,
/// `backward()` its gradient with respect to the logits.
template <class L, class S>
concept StageLoss = requires(L& loss, const nn::tensor<S>& logits, std::span<const std::int32_t> labels) {
  { loss.forward(logits, labels) } -> std::convertible_to<S>;
  { loss.backward() } -> std::convertible_to<const nn::tensor<S>&>;
};

/// Stage `transport.rank()` of a `transport.size()`-stage pipeline over the layers it was given.
template <Scalar S, HostExecutionSpace Exec, Transport T>
class stage {
 public:
  using scalar_type = S;

  stage(nn::chain<S, Exec> layers, T& transport, stage_options options = {})
      : m_layers(std::move(layers)), m_transport(&transport), m_options(options) {
    check(m_options.micro_batches >= 1 && m_options.micro_batches < (collective_tag_base >> 2),
          "frugal::pipeline::stage: micro_batches = ", m_options.micro_batches);
    m_ops = stage_schedule(m_options.schedule, stages(), index(), m_options.micro_batches);
  }

  [[nodiscard]] int index() const { return m_transport->rank(); }
  [[nodiscard]] int stages() const { return m_transport->size(); }
  [[nodiscard]] bool first() const { return index() == 0; }
  [[nodiscard]] bool last() const { return index() + 1 == stages(); }
  [[nodiscard]] nn::chain<S, Exec>& layers() noexcept { return m_layers; }
  [[nodiscard]] nn::parameter_registry<S> parameters() { return m_layers.parameters(); }
  [[nodiscard]] const stage_statistics& statistics() const noexcept { return m_stats; }

  /// Runs the forward and backward passes of one batch; parameter gradients accumulate (zero them
  /// and step the optimizer around it, as in unpipelined training).
  /// \param input stage 0: the batch, rows = samples; other stages: ignored (may be null)
  /// \param labels last stage: one label per row of the batch; other stages: ignored
  /// \param loss last stage: the loss; its micro-batch gradients are weighted by their share of
  ///        the batch, so they add up to the gradient of the batch's mean loss
  /// \returns the batch's mean loss on the last stage, nothing elsewhere
  template <class Loss>
  requires StageLoss<Loss, S> std::optional<S> step(const nn::tensor<S>* input, std::span<const std::int32_t> labels,
                                                    Loss& loss) {
    constexpr auto where = "frugal::pipeline::stage::step";
    if (first()) check(input != nullptr && input->rank() >= 1, where, ": stage 0 needs the batch");
    const int M = m_options.micro_batches;
    m_kept.clear();
    m_current = -1;
    m_rows = first() ? input->extent(0) : -1;
    if (last() && first()) check_extent(where, "labels vs batch rows", static_cast<index_t>(labels.size()), m_rows);
    double total_loss = 0;
    for (const stage_op& op : m_ops) {
      const int m = op.micro_batch;
      if (op.what == stage_op::kind::forward) {
        nn::tensor<S>& in = m_kept[m];
        if (first()) {
          check(m_rows >= M, where, ": a batch of ", m_rows, " rows cannot be dealt into ", M, " micro-batches");
          slice_rows(*input, m, in);
        } else {
          receive(index() - 1, tag(m, 0), in);
          if (m_rows < 0) m_rows = m_incoming_rows;
        }
        track_kept();
        const nn::tensor<S>& out = run_forward(m);
        if (last()) {
          if (m == 0 && !first())
            check_extent(where, "labels vs batch rows", static_cast<index_t>(labels.size()), m_rows);
          const auto [begin, count] = micro_range(m);
          const S value =
              loss.forward(out, labels.subspan(static_cast<std::size_t>(begin), static_cast<std::size_t>(count)));
          total_loss += static_cast<double>(value) * static_cast<double>(count) / static_cast<double>(m_rows);
          // The loss gradient of micro-batch m, scaled to its share of the batch's mean.
          const nn::tensor<S>& g = loss.backward();
          nn::tensor<S>& dy = m_loss_grads[m];
          dy = g;
          const S share = static_cast<S>(static_cast<double>(count) / static_cast<double>(m_rows));
          for (index_t i = 0; i < dy.size(); ++i) dy.data()[i] *= share;
        } else {
          send(index() + 1, tag(m, 0), out);
        }
      } else {
        const nn::tensor<S>* dy;
        if (last()) {
          dy = &m_loss_grads[m];
        } else {
          receive(index() + 1, tag(m, 2), m_grad_in);
          dy = &m_grad_in;
        }
        if (m_current != m) {
          ++m_stats.recomputed_forwards;
          run_forward(m);
        }
        const nn::tensor<S>& dx = m_layers.backward(*dy, !first());
        m_current = -1;  // the layers' state is spent
        if (!first()) send(index() - 1, tag(m, 2), dx);
        m_kept.erase(m);
      }
    }
    finish_sends();
    ++m_stats.steps;
    if (last()) return static_cast<S>(total_loss);
    return std::nullopt;
  }

 private:
  static int tag(int m, int kind) { return 4 * m + kind; }

  /// Rows [begin, begin + count) of the batch are micro-batch m: the first rows % M runs get one
  /// extra row.
  [[nodiscard]] std::pair<index_t, index_t> micro_range(int m) const {
    const index_t M = m_options.micro_batches, base = m_rows / M, extra = m_rows % M;
    const index_t begin = m * base + std::min<index_t>(m, extra);
    return {begin, base + (m < extra ? 1 : 0)};
  }

  void slice_rows(const nn::tensor<S>& x, int m, nn::tensor<S>& out) const {
    const auto [begin, count] = micro_range(m);
    std::vector<index_t> extents(x.extents().begin(), x.extents().end());
    extents[0] = count;
    out.resize(extents);
    const index_t row = x.size() / x.extent(0);
    std::copy_n(x.data() + begin * row, count * row, out.data());
  }

  const nn::tensor<S>& run_forward(int m) {
    ++m_stats.forwards;
    m_current = m;
    return m_layers.forward(m_kept.at(m));
  }

  void track_kept() {
    std::int64_t bytes = 0;
    for (const auto& [m, t] : m_kept) bytes += static_cast<std::int64_t>(t.size() * sizeof(S));
    m_stats.peak_kept_bytes = std::max(m_stats.peak_kept_bytes, bytes);
  }

  /// A tensor goes as two messages: its header (batch rows, rank, extents) and its values.
  void send(int peer, int t, const nn::tensor<S>& x) {
    pending& p = m_sends.emplace_back();
    p.header = {m_rows, static_cast<std::int64_t>(x.rank()), 0, 0, 0, 0};
    for (int d = 0; d < x.rank(); ++d) p.header[static_cast<std::size_t>(2 + d)] = x.extent(d);
    p.values.assign(x.data(), x.data() + x.size());
    p.requests[0] = isend(*m_transport, peer, t, std::span<const std::int64_t>(p.header));
    p.requests[1] = isend(*m_transport, peer, t + 1, std::span<const S>(p.values));
  }

  void receive(int peer, int t, nn::tensor<S>& x) {
    std::array<std::int64_t, 6> header{};
    recv(*m_transport, peer, t, std::span<std::int64_t>(header));
    check(header[1] >= 1 && header[1] <= nn::tensor<S>::max_rank, "frugal::pipeline::stage: stage ", index(),
          " received a tensor header of rank ", header[1], " from stage ", peer);
    m_incoming_rows = header[0];
    std::vector<index_t> extents(header.begin() + 2, header.begin() + 2 + header[1]);
    x.resize(extents);
    recv(*m_transport, peer, t + 1, std::span<S>(x.data(), static_cast<std::size_t>(x.size())));
  }

  void finish_sends() {
    for (auto& p : m_sends)
      for (auto& r : p.requests) m_transport->wait(r);
    m_sends.clear();
  }

  struct pending {
    std::array<std::int64_t, 6> header{};
    std::vector<S> values;
    std::array<typename T::request, 2> requests{};
  };

  nn::chain<S, Exec> m_layers;
  T* m_transport;
  stage_options m_options;
  std::vector<stage_op> m_ops;
  std::map<int, nn::tensor<S>> m_kept;
  std::map<int, nn::tensor<S>> m_loss_grads;
  nn::tensor<S> m_grad_in;
  std::deque<pending> m_sends;  // a deque: elements stay put while a transport reads them
  index_t m_rows = -1, m_incoming_rows = -1;
  int m_current = -1;
  stage_statistics m_stats;
};

}  // namespace frugal::pipeline
