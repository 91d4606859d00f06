#pragma once
/// \file
/// GNNPipe (Chen, Chen and Qian 2023): layer-pipelined full-graph GNN training. Each rank holds a
/// run of consecutive layers over the *whole* graph; the nodes are split into chunks that flow
/// through the ranks like micro-batches, so only chunk activations and their gradients cross
/// between ranks — never the halo exchange of every layer that graph parallelism needs.
///
/// A chunk at layer l aggregates from three kinds of neighbours: its own chunk and earlier chunks
/// (already computed this epoch) and later chunks, not computed yet. With `historical` on, GNNPipe
/// reads the later chunks' rows from the previous epoch (the buffers still hold them), which lets
/// chunk c + 1 enter layer l while chunk c is at layer l + 1. Backward runs the chunks in reverse
/// order, so a chunk's gradient from itself and the chunks after it is complete when it leaves a
/// layer; the gradient that a chunk's stale reads send to later chunks arrives after those chunks
/// have left, so it is dropped, as for any constant (`late_gradients::dropped`, the default, as
/// GNNAutoScale treats its historical embeddings), or kept and added in the next epoch
/// (`late_gradients::deferred`, as PipeGCN does for stale boundary gradients). Staleness is
/// bounded by one epoch. With
/// `historical` off every layer waits for all chunks (layer-synchronous): the result is exactly
/// full-graph training, which the tests check. Weights change once per epoch.
///
/// Chunks are ranges of node ids ([offset[c], offset[c+1])): permute the graph first so that a
/// chunk's nodes are contiguous (`graph` has partitioners and a permutation for that).
///
/// The hybrid of GNNPipe and graph parallelism is the same stage on a grid: ranks are (stage,
/// partition); each partition's stages form one pipeline over that partition's nodes (chunks are
/// ranges of its owned rows), and the stages of one layer range exchange their partitions' halo
/// rows as graph parallelism does. Layer-synchronous, the halo exchange runs at every layer and
/// the result is again full-graph training's. With `historical` on, a partition reads its halo
/// rows from the previous epoch too, exchanged once per layer after the epoch's forward pass, so
/// no chunk ever waits on another partition; their gradients follow `late_gradients`. The weight
/// gradients of one layer range are summed over its partitions once per epoch.

#include <chrono>
#include <cmath>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../core/checkpoint.hpp"
#include "../core/error.hpp"
#include "../core/execution.hpp"
#include "../graph/aggregation.hpp"
#include "../graph/halo.hpp"
#include "../graph/spmm.hpp"
#include "../nn/tensor.hpp"
#include "detail/allreduce_gradients.hpp"
#include "detail/row_loss.hpp"
#include "gnn_block.hpp"
#include "transport.hpp"

namespace frugal::pipeline {

/// What happens to the gradient a chunk's stale reads send to later chunks.
enum class late_gradients {
  dropped,   ///< treated as the gradient of a constant
  deferred,  ///< added to those chunks' gradient in the next epoch
};

struct gnnpipe_options {
  /// Chunk c is the nodes [chunk_offsets[c], chunk_offsets[c + 1]); starts at 0, ends at n,
  /// strictly increasing.
  std::vector<index_t> chunk_offsets;
  late_gradients late = late_gradients::dropped;
  /// Historical-embedding smoothing (as PipeGCN smooths its stale boundary features): stale reads
  /// see h̄ ← γ·h̄ + (1 − γ)·h, an average over the training epochs' rows, instead of the last
  /// epoch's rows; fresh reads are untouched. γ in [0, 1); 0 (the default) reads the last rows.
  double smoothing = 0;
  /// Keep each chunk's forward record (the nn layers' per-call forward state) for its backward,
  /// instead of re-running the chunk's row-wise parts (linear map, ReLU, normalisation) there:
  /// the same bits, less compute, and about as much memory again as the chunks' kept rows.
  bool keep_forward_state = false;
};

/// Compute seconds of one stage's last epoch per (local layer, chunk), receives and sends
/// excluded: what the communication model takes as the cost of each pipeline step.
struct gnnpipe_timing {
  std::vector<std::vector<double>> forward, backward;
};

/// Memory one stage holds, in bytes.
struct gnnpipe_memory {
  std::int64_t buffers = 0;     ///< full-graph normalised-input buffers, their gradients, smoothed rows
  std::int64_t kept = 0;        ///< each chunk's block inputs, aggregates (and forward state), kept for backward
  std::int64_t parameters = 0;  ///< weights and gradients
};

/// Stage `transport.rank()` of a `transport.size()`-stage GNNPipe over its blocks.
template <Scalar S, HostExecutionSpace Exec, Transport T>
class gnnpipe_stage {
 public:
  using scalar_type = S;

  /// \param blocks this stage's layers, in order; block k of stage s is layer `first_layer + k`
  ///        (its parameters are named "<layer>.<part>")
  gnnpipe_stage(std::vector<gnn_block<S, Exec>> blocks, index_t first_layer,
                std::shared_ptr<const graph::aggregation<S>> a, T& transport, gnnpipe_options options,
                Exec exec = Exec{})
      : gnnpipe_stage(std::move(blocks), first_layer, &transport, nullptr, std::move(options), std::move(exec)) {
    check(a != nullptr, "frugal::pipeline::gnnpipe_stage: the aggregation is null");
    m_graph = std::move(a);
    setup();
  }

  /// Stage `stage_transport.rank()` of the pipeline of partition `partition_transport.rank()` in
  /// the hybrid (see the file comment).
  /// \param halo this partition's share of `graph::plan_halos(Â, partition)`; the stage keeps a
  ///        clone, so the stages of one partition may be built from one plan on threads at once
  /// \param stage_transport the stages of this partition's pipeline (`split(partition, stage)`)
  /// \param partition_transport the partitions of this stage (`split(stage, partition)`)
  /// \param options chunk offsets into the owned rows of `halo`: from 0 to `halo.num_owned()`
  gnnpipe_stage(std::vector<gnn_block<S, Exec>> blocks, index_t first_layer, const graph::worker_halo<S>& halo,
                T& stage_transport, T& partition_transport, gnnpipe_options options, Exec exec = Exec{})
      : gnnpipe_stage(std::move(blocks), first_layer, &stage_transport, &partition_transport, std::move(options),
                      std::move(exec)) {
    constexpr auto where = "frugal::pipeline::gnnpipe_stage";
    check(static_cast<int>(halo.send.size()) == partition_transport.size(), where, ": the halo plan has ",
          halo.send.size(), " partitions, the partition transport ", partition_transport.size());
    check(2 * static_cast<index_t>(m_blocks.size()) < collective_tag_base, where, ": too many layers");
    m_local = halo.local.clone();
    m_local_transpose = halo.local.transposed();
    m_owned = halo.owned;
    m_halo_offsets = halo.halo_offsets;
    for (int q = 0; q < partition_transport.size(); ++q) m_send_positions.push_back(halo.send_positions(q));
    setup();
  }

  [[nodiscard]] int index() const { return m_transport->rank(); }
  [[nodiscard]] int stages() const { return m_transport->size(); }
  /// This stage's partition in the hybrid (0 otherwise) and the number of partitions.
  [[nodiscard]] int partition() const { return m_partitions ? m_partitions->rank() : 0; }
  [[nodiscard]] int partitions() const { return m_partitions ? m_partitions->size() : 1; }
  [[nodiscard]] bool first() const { return index() == 0; }
  [[nodiscard]] bool last() const { return index() + 1 == stages(); }
  [[nodiscard]] index_t chunks() const { return static_cast<index_t>(m_offsets.size()) - 1; }
  /// Rows this stage computes: the whole graph's, or its partition's owned rows in the hybrid.
  [[nodiscard]] index_t rows() const { return m_offsets.back(); }
  /// Global node ids of `rows()` in order (the identity outside the hybrid).
  [[nodiscard]] std::vector<std::int32_t> nodes() const {
    if (!m_owned.empty()) return m_owned;
    std::vector<std::int32_t> all(static_cast<std::size_t>(rows()));
    for (std::size_t i = 0; i < all.size(); ++i) all[i] = static_cast<std::int32_t>(i);
    return all;
  }

  /// This stage's parameters, named "<layer>.norm.weight", "<layer>.linear.bias", ...
  [[nodiscard]] nn::parameter_registry<S> parameters() {
    nn::parameter_registry<S> registry;
    for (std::size_t k = 0; k < m_blocks.size(); ++k)
      m_blocks[k].register_parameters(registry, std::to_string(m_first_layer + static_cast<index_t>(k)));
    return registry;
  }

  /// Every chunk forward and backward once; parameter gradients accumulate (zero them before and
  /// step the optimizer after, once per epoch).
  /// \param features stage 0: (nodes, in_features); ignored elsewhere
  /// \param labels, train last stage: one label per node and the nodes the loss averages over
  /// \param historical GNNPipe's stale reads (true) or layer-synchronous exact training (false)
  /// \returns the mean cross-entropy over `train` on the last stage
  std::optional<S> train_epoch(const nn::tensor<S>* features, std::span<const std::int32_t> labels,
                               std::span<const index_t> train, bool historical) {
    if (last()) prepare_loss(labels, train);
    m_loss = 0;
    for (std::size_t k = 0; k < m_blocks.size(); ++k) {
      m_timing.forward[k].assign(static_cast<std::size_t>(chunks()), 0.0);
      m_timing.backward[k].assign(static_cast<std::size_t>(chunks()), 0.0);
    }
    forward_pass(features, historical, true);
    // The gradient buffers start from what the previous epoch's stale reads sent (nothing after a
    // synchronous epoch), and collect this epoch's late share afresh.
    for (std::size_t k = 0; k < m_blocks.size(); ++k) {
      std::swap(m_buffer_grad[k], m_late_grad[k]);
      if (!historical) m_buffer_grad[k].set_zero();
      m_late_grad[k].set_zero();
    }
    backward_pass(historical);
    finish_sends();
    if (partitions() > 1) {
      // One sum of this layer range's gradients (and, on the last stage, the loss) over the
      // partitions.
      m_loss = detail::allreduce_gradients(*m_partitions, parameters(), m_loss);
    }
    if (last()) return static_cast<S>(m_loss);
    return std::nullopt;
  }

  /// Exact (layer-synchronous) forward over every chunk with the current weights; on the last
  /// stage, returns the (nodes, classes) output, elsewhere null. It refreshes the buffers the
  /// next epoch's historical reads use.
  const nn::tensor<S>* infer(const nn::tensor<S>* features) {
    forward_pass(features, false, false);
    finish_sends();
    return last() ? &m_logits : nullptr;
  }

  /// Writes what the next epoch needs besides the parameters and the optimizer: the full-graph
  /// buffers (the next historical reads), the deferred late gradients and, when smoothing, the
  /// smoothed rows.
  void save_state(checkpoint_writer& out, std::string_view prefix) const {
    const std::string p(prefix);
    out.put_value<std::int64_t>(p + "/layers", static_cast<std::int64_t>(m_blocks.size()));
    out.put<index_t>(p + "/chunk_offsets", std::span<const index_t>(m_offsets));
    for (std::size_t k = 0; k < m_blocks.size(); ++k) {
      const std::string key = p + "/" + std::to_string(m_first_layer + static_cast<index_t>(k));
      out.put<S>(key + "/buffer", std::span<const S>(m_buffer[k].data(), static_cast<std::size_t>(m_buffer[k].size())));
      out.put<S>(key + "/late_gradient",
                 std::span<const S>(m_late_grad[k].data(), static_cast<std::size_t>(m_late_grad[k].size())));
      if (m_smoothing > 0)
        out.put<S>(key + "/smoothed",
                   std::span<const S>(m_smoothed[k].data(), static_cast<std::size_t>(m_smoothed[k].size())));
    }
    if (m_smoothing > 0) out.put_value<std::int64_t>(p + "/smoothed_epochs", m_smoothed_epochs);
  }

  /// Reads what `save_state` wrote; the stage must have the same layers, widths and chunks.
  /// \throws format_error naming the file when it was written for another stage, or without the
  ///         smoothed rows a smoothing stage needs
  void load_state(const checkpoint_reader& in, std::string_view prefix) {
    const std::string p(prefix);
    const auto fail = [&](const std::string& what) {
      throw format_error(
          frugal::detail::concat("frugal::pipeline::gnnpipe_stage::load_state: '", in.file(), "' ", what), in.file(),
          0);
    };
    if (!in.contains(p + "/layers") ||
        in.get<std::int64_t>(p + "/layers").at(0) != static_cast<std::int64_t>(m_blocks.size()))
      fail("was written for another number of layers on this stage");
    if (in.get<index_t>(p + "/chunk_offsets") != m_offsets) fail("was written for other chunks");
    for (std::size_t k = 0; k < m_blocks.size(); ++k) {
      const std::string key = p + "/" + std::to_string(m_first_layer + static_cast<index_t>(k));
      std::vector<std::pair<nn::tensor<S>*, const char*>> records = {{&m_buffer[k], "/buffer"},
                                                                     {&m_late_grad[k], "/late_gradient"}};
      if (m_smoothing > 0) records.emplace_back(&m_smoothed[k], "/smoothed");
      for (auto [t, suffix] : records) {
        const std::string name = key + suffix;
        if (!in.contains(name) || in.get<S>(name).size() != static_cast<std::size_t>(t->size()))
          fail("has no record '" + name + "' of this layer's size");
        in.get_into<S>(name, std::span<S>(t->data(), static_cast<std::size_t>(t->size())));
      }
    }
    if (m_smoothing > 0) {
      if (!in.contains(p + "/smoothed_epochs")) fail("has no smoothed rows (written without smoothing)");
      m_smoothed_epochs = in.get<std::int64_t>(p + "/smoothed_epochs").at(0);
    }
  }

  /// Compute time of the last `train_epoch`, per local layer and chunk.
  [[nodiscard]] const gnnpipe_timing& timing() const noexcept { return m_timing; }

  [[nodiscard]] gnnpipe_memory memory() {
    gnnpipe_memory m;
    for (std::size_t k = 0; k < m_blocks.size(); ++k) {
      m.buffers +=
          static_cast<std::int64_t>((m_buffer[k].size() + m_buffer_grad[k].size() + m_late_grad[k].size()) * sizeof(S));
      if (m_smoothing > 0) m.buffers += static_cast<std::int64_t>(m_smoothed[k].size() * sizeof(S));
      for (index_t c = 0; c < chunks(); ++c) {
        m.kept += static_cast<std::int64_t>((in(k, c).size() + agg(k, c).size()) * sizeof(S));
        if (m_keep) m.kept += static_cast<std::int64_t>(state(k, c).bytes());
      }
    }
    for (const auto& e : parameters())
      m.parameters += static_cast<std::int64_t>((e.param->value.size() + e.param->grad.size()) * sizeof(S));
    return m;
  }

 private:
  /// What both public constructors set alike; they then add their graph and call `setup`.
  gnnpipe_stage(std::vector<gnn_block<S, Exec>> blocks, index_t first_layer, T* transport, T* partitions,
                gnnpipe_options options, Exec exec)
      : m_blocks(std::move(blocks)),
        m_first_layer(first_layer),
        m_transport(transport),
        m_partitions(partitions),
        m_offsets(std::move(options.chunk_offsets)),
        m_late(options.late),
        m_smoothing(options.smoothing),
        m_keep(options.keep_forward_state),
        m_exec(std::move(exec)) {}

  /// Checks the layers and chunks and sizes the buffers (after the graph is set).
  void setup() {
    constexpr auto where = "frugal::pipeline::gnnpipe_stage";
    check(m_smoothing >= 0 && m_smoothing < 1, where, ": smoothing ", m_smoothing, " outside [0, 1)");
    check(!m_blocks.empty(), where, ": stage ", m_transport->rank(), " has no layers");
    const index_t owned = m_owned.empty() ? matrix().num_nodes() : static_cast<index_t>(m_owned.size());
    check(m_offsets.size() >= 2 && m_offsets.front() == 0 && m_offsets.back() == owned, where,
          ": chunk offsets must run from 0 to the node count ", owned);
    const index_t n = matrix().num_nodes();
    for (std::size_t c = 0; c + 1 < m_offsets.size(); ++c)
      check(m_offsets[c] < m_offsets[c + 1], where, ": chunk ", c, " is empty or the offsets decrease");
    check(chunks() < (collective_tag_base >> 1), where, ": too many chunks");
    for (std::size_t k = 0; k + 1 < m_blocks.size(); ++k)
      check(m_blocks[k].out_features() == m_blocks[k + 1].in_features(), where, ": layer ", m_first_layer + k,
            " outputs ", m_blocks[k].out_features(), " features, layer ", m_first_layer + k + 1, " takes ",
            m_blocks[k + 1].in_features());
    const std::size_t K = m_blocks.size(), C = static_cast<std::size_t>(chunks());
    m_buffer.resize(K);
    m_smoothed.resize(m_smoothing > 0 ? K : 0);
    m_buffer_grad.resize(K);
    m_late_grad.resize(K);
    m_in.assign(K, std::vector<nn::tensor<S>>(C));
    m_agg.assign(K, std::vector<nn::tensor<S>>(C));
    m_dout.assign(K, std::vector<nn::tensor<S>>(C));
    if (m_keep) m_state.assign(K, std::vector<typename gnn_block<S, Exec>::state>(C));
    m_timing.forward.assign(K, std::vector<double>(C, 0.0));
    m_timing.backward.assign(K, std::vector<double>(C, 0.0));
    for (std::size_t k = 0; k < K; ++k) {
      m_buffer[k].resize({n, m_blocks[k].in_features()});
      m_buffer[k].set_zero();  // historical rows before any epoch has written them
      m_buffer_grad[k].resize({n, m_blocks[k].in_features()});
      m_late_grad[k].resize({n, m_blocks[k].in_features()});
      m_late_grad[k].set_zero();
      if (m_smoothing > 0) m_smoothed[k].resize({n, m_blocks[k].in_features()});
    }
  }

  index_t begin(index_t c) const { return m_offsets[static_cast<std::size_t>(c)]; }
  /// The global id of local row i.
  index_t node(index_t i) const { return m_owned.empty() ? i : m_owned[static_cast<std::size_t>(i)]; }
  index_t end(index_t c) const { return m_offsets[static_cast<std::size_t>(c) + 1]; }
  nn::tensor<S>& in(std::size_t k, index_t c) { return m_in[k][static_cast<std::size_t>(c)]; }
  nn::tensor<S>& agg(std::size_t k, index_t c) { return m_agg[k][static_cast<std::size_t>(c)]; }
  nn::tensor<S>& dout(std::size_t k, index_t c) { return m_dout[k][static_cast<std::size_t>(c)]; }
  typename gnn_block<S, Exec>::state& state(std::size_t k, index_t c) {
    return m_state[k][static_cast<std::size_t>(c)];
  }

  static graph::features_view<S> rows(nn::tensor<S>& t) {
    return graph::features_view<S>(t.data(), static_cast<std::size_t>(t.extent(0)),
                                   static_cast<std::size_t>(t.extent(1)));
  }
  static graph::features_view<const S> rows(const nn::tensor<S>& t) {
    return graph::features_view<const S>(t.data(), static_cast<std::size_t>(t.extent(0)),
                                         static_cast<std::size_t>(t.extent(1)));
  }

  void forward_pass(const nn::tensor<S>* features, bool historical, bool training) {
    const std::size_t K = m_blocks.size();
    if (first()) {
      check(features != nullptr && features->rank() == 2,
            "frugal::pipeline::gnnpipe_stage: stage 0 needs the features");
      if (m_owned.empty())
        check_extent("frugal::pipeline::gnnpipe_stage", "feature rows vs nodes", features->extent(0), rows());
      else
        check(m_owned.back() < features->extent(0), "frugal::pipeline::gnnpipe_stage: node ", m_owned.back(),
              " beyond the ", features->extent(0), " feature rows");
      check_extent("frugal::pipeline::gnnpipe_stage", "feature columns vs layer input", features->extent(1),
                   m_blocks[0].in_features());
    }
    if (last() && !training) m_logits.resize({rows(), m_blocks.back().out_features()});
    // Stale reads take the smoothed rows: the buffers start from them and chunks overwrite their
    // own rows with fresh ones as they go.
    if (historical && training && m_smoothing > 0 && m_smoothed_epochs > 0)
      for (std::size_t k = 0; k < K; ++k) std::copy_n(m_smoothed[k].data(), m_smoothed[k].size(), m_buffer[k].data());
    if (historical) {
      for (index_t c = 0; c < chunks(); ++c) {
        input(features, c);
        for (std::size_t k = 0; k < K; ++k) {
          forward_pre(k, c);
          forward_post(k, c, training);
        }
      }
      // The halo rows the next epoch's reads take.
      for (std::size_t k = 0; k < K; ++k) exchange_rows(k);
    } else {
      for (index_t c = 0; c < chunks(); ++c) input(features, c);
      for (std::size_t k = 0; k < K; ++k) {
        for (index_t c = 0; c < chunks(); ++c) forward_pre(k, c);
        exchange_rows(k);
        for (index_t c = 0; c < chunks(); ++c) forward_post(k, c, training);
      }
    }
    if (training && m_smoothing > 0) {
      const S g = static_cast<S>(m_smoothing);
      for (std::size_t k = 0; k < K; ++k) {
        S* avg = m_smoothed[k].data();
        const S* now = m_buffer[k].data();
        if (m_smoothed_epochs == 0)
          std::copy_n(now, m_buffer[k].size(), avg);
        else
          for (index_t i = 0; i < m_buffer[k].size(); ++i) avg[i] = g * avg[i] + (1 - g) * now[i];
      }
      ++m_smoothed_epochs;
    }
  }

  void backward_pass(bool historical) {
    const std::size_t K = m_blocks.size();
    if (historical) {
      for (index_t c = chunks(); c-- > 0;) {
        output_gradient(c);
        for (std::size_t k = K; k-- > 0;) {
          backward_post(k, c, historical);
          backward_pre(k, c);
        }
      }
      // The halo rows' deferred share goes to their owners for the next epoch.
      if (m_late == late_gradients::deferred)
        for (std::size_t k = K; k-- > 0;) exchange_gradients(k, m_late_grad[k]);
    } else {
      for (index_t c = chunks(); c-- > 0;) output_gradient(c);
      for (std::size_t k = K; k-- > 0;) {
        for (index_t c = chunks(); c-- > 0;) backward_post(k, c, historical);
        exchange_gradients(k, m_buffer_grad[k]);
        for (index_t c = chunks(); c-- > 0;) backward_pre(k, c);
      }
    }
  }

  /// Hybrid: the owned rows of buffer k that the other partitions read go out; their rows this
  /// partition reads arrive in the halo rows. Tag 2k on the partition transport.
  void exchange_rows(std::size_t k) {
    if (partitions() == 1) return;
    const index_t f = m_blocks[k].in_features(), owned = rows();
    const int tag = static_cast<int>(2 * k);
    std::vector<typename T::request> sends;
    std::deque<std::vector<S>> out;
    for (int q = 0; q < partitions(); ++q) {
      const auto& positions = m_send_positions[static_cast<std::size_t>(q)];
      if (q == partition() || positions.empty()) continue;
      auto& rows_out = out.emplace_back(positions.size() * static_cast<std::size_t>(f));
      for (std::size_t r = 0; r < positions.size(); ++r)
        std::copy_n(m_buffer[k].data() + positions[r] * f, f, rows_out.data() + static_cast<index_t>(r) * f);
      sends.push_back(isend(*m_partitions, q, tag, std::span<const S>(rows_out)));
    }
    for (int q = 0; q < partitions(); ++q) {
      const index_t b = m_halo_offsets[static_cast<std::size_t>(q)],
                    e = m_halo_offsets[static_cast<std::size_t>(q) + 1];
      if (q == partition() || b == e) continue;
      recv(*m_partitions, q, tag,
           std::span<S>(m_buffer[k].data() + (owned + b) * f, static_cast<std::size_t>((e - b) * f)));
    }
    for (auto& r : sends) m_partitions->wait(r);
  }

  /// Hybrid: the gradient rows of `g`'s halo go back to their owners; what the other partitions
  /// computed for this partition's rows is added to them. Tag 2k + 1 on the partition transport.
  void exchange_gradients(std::size_t k, nn::tensor<S>& g) {
    if (partitions() == 1) return;
    const index_t f = m_blocks[k].in_features(), owned = rows();
    const int tag = static_cast<int>(2 * k + 1);
    std::vector<typename T::request> sends;
    for (int q = 0; q < partitions(); ++q) {
      const index_t b = m_halo_offsets[static_cast<std::size_t>(q)],
                    e = m_halo_offsets[static_cast<std::size_t>(q) + 1];
      if (q == partition() || b == e) continue;
      sends.push_back(isend(*m_partitions, q, tag,
                            std::span<const S>(g.data() + (owned + b) * f, static_cast<std::size_t>((e - b) * f))));
    }
    std::vector<S> incoming;
    for (int q = 0; q < partitions(); ++q) {
      const auto& positions = m_send_positions[static_cast<std::size_t>(q)];
      if (q == partition() || positions.empty()) continue;
      incoming.resize(positions.size() * static_cast<std::size_t>(f));
      recv(*m_partitions, q, tag, std::span<S>(incoming));
      for (std::size_t r = 0; r < positions.size(); ++r) {
        S* row = g.data() + positions[r] * f;
        const S* add = incoming.data() + r * static_cast<std::size_t>(f);
        for (index_t t = 0; t < f; ++t) row[t] += add[t];
      }
    }
    for (auto& r : sends) m_partitions->wait(r);
  }

  /// The input rows of chunk c for the first block: the features, or the previous stage's output.
  void input(const nn::tensor<S>* features, index_t c) {
    nn::tensor<S>& x = in(0, c);
    const index_t f = m_blocks[0].in_features();
    x.resize({end(c) - begin(c), f});
    if (first() && m_owned.empty())
      std::copy_n(features->data() + begin(c) * f, x.size(), x.data());
    else if (first())
      for (index_t i = begin(c); i < end(c); ++i)
        std::copy_n(features->data() + node(i) * f, f, x.data() + (i - begin(c)) * f);
    else
      recv(*m_transport, index() - 1, static_cast<int>(c), std::span<S>(x.data(), static_cast<std::size_t>(x.size())));
  }

  /// Adds the seconds `f()` takes to `slot`.
  template <class F>
  static void timed(double& slot, F&& f) {
    const auto start = std::chrono::steady_clock::now();
    f();
    slot += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }

  void forward_pre(std::size_t k, index_t c) {
    timed(m_timing.forward[k][static_cast<std::size_t>(c)], [&] { forward_pre_work(k, c); });
  }
  void forward_post(std::size_t k, index_t c, bool training) {
    // The send to the next stage is inside; with a buffered or non-blocking transport it is a copy.
    timed(m_timing.forward[k][static_cast<std::size_t>(c)], [&] { forward_post_work(k, c, training); });
  }
  void backward_post(std::size_t k, index_t c, bool historical) {
    timed(m_timing.backward[k][static_cast<std::size_t>(c)], [&] { backward_post_work(k, c, historical); });
  }
  void backward_pre(std::size_t k, index_t c) {
    timed(m_timing.backward[k][static_cast<std::size_t>(c)], [&] { backward_pre_work(k, c); });
  }

  void forward_pre_work(std::size_t k, index_t c) {
    const nn::tensor<S>& pre =
        m_keep ? m_blocks[k].pre_forward(in(k, c), state(k, c)) : m_blocks[k].pre_forward(in(k, c));
    const index_t f = pre.extent(1);
    std::copy_n(pre.data(), pre.size(), m_buffer[k].data() + begin(c) * f);
  }

  void forward_post_work(std::size_t k, index_t c, bool training) {
    nn::tensor<S>& a = agg(k, c);
    a.resize({end(c) - begin(c), m_blocks[k].in_features()});
    graph::spmm_rows(m_exec, matrix(), begin(c), end(c), rows(std::as_const(m_buffer[k])), rows(a));
    const nn::tensor<S>& out =
        m_keep ? m_blocks[k].post_forward(a, in(k, c), state(k, c)) : m_blocks[k].post_forward(a, in(k, c));
    if (k + 1 < m_blocks.size()) {
      in(k + 1, c) = out;
    } else if (!last()) {
      send(index() + 1, static_cast<int>(c), out);
    } else if (training) {
      loss_chunk(c, out);
    } else {
      std::copy_n(out.data(), out.size(), m_logits.data() + begin(c) * out.extent(1));
    }
  }

  /// The gradient arriving at the last block's output for chunk c.
  void output_gradient(index_t c) {
    if (last()) return;  // loss_chunk left it in dout(K − 1, c)
    nn::tensor<S>& d = dout(m_blocks.size() - 1, c);
    d.resize({end(c) - begin(c), m_blocks.back().out_features()});
    recv(*m_transport, index() + 1, static_cast<int>(chunks() + c),
         std::span<S>(d.data(), static_cast<std::size_t>(d.size())));
  }

  void backward_post_work(std::size_t k, index_t c, bool historical) {
    const nn::tensor<S>& da = m_keep ? m_blocks[k].post_backward(dout(k, c), state(k, c))
                                     : m_blocks[k].post_backward(agg(k, c), in(k, c), dout(k, c));
    const index_t n = matrix().num_nodes();
    const auto& at = transpose();
    if (!historical) {
      graph::spmm_transpose_accumulate(m_exec, at, begin(c), end(c), rows(da), rows(m_buffer_grad[k]), 0, n);
      return;
    }
    graph::spmm_transpose_accumulate(m_exec, at, begin(c), end(c), rows(da), rows(m_buffer_grad[k]), 0, end(c));
    if (m_late == late_gradients::deferred)
      graph::spmm_transpose_accumulate(m_exec, at, begin(c), end(c), rows(da), rows(m_late_grad[k]), end(c), n);
  }

  void backward_pre_work(std::size_t k, index_t c) {
    const index_t f = m_blocks[k].in_features();
    m_pre_grad.resize({end(c) - begin(c), f});
    std::copy_n(m_buffer_grad[k].data() + begin(c) * f, m_pre_grad.size(), m_pre_grad.data());
    const nn::tensor<S>& din = m_keep ? m_blocks[k].pre_backward(in(k, c), m_pre_grad, dout(k, c), state(k, c))
                                      : m_blocks[k].pre_backward(in(k, c), m_pre_grad, dout(k, c));
    if (k > 0)
      dout(k - 1, c) = din;
    else if (!first())
      send(index() - 1, static_cast<int>(chunks() + c), din);
  }

  void prepare_loss(std::span<const std::int32_t> labels, std::span<const index_t> train) {
    constexpr auto where = "frugal::pipeline::gnnpipe_stage::train_epoch";
    const index_t classes = m_blocks.back().out_features();
    if (m_owned.empty())
      check_extent(where, "labels vs nodes", static_cast<index_t>(labels.size()), rows());
    else
      check(m_owned.back() < static_cast<index_t>(labels.size()), where, ": node ", m_owned.back(), " has no label");
    const auto n = static_cast<index_t>(labels.size());
    check(!train.empty(), where, ": no training nodes");
    m_is_train.assign(static_cast<std::size_t>(n), 0);
    for (index_t i : train) {
      check(i >= 0 && i < n, where, ": training node ", i, " outside [0, ", n, ")");
      const std::int32_t y = labels[static_cast<std::size_t>(i)];
      check(y >= 0 && y < classes, where, ": node ", i, " has label ", y, ", outside [0, ", classes, ")");
      m_is_train[static_cast<std::size_t>(i)] = 1;
    }
    m_labels = labels;
    m_train_count = static_cast<index_t>(train.size());
  }

  /// Softmax cross-entropy of chunk c's training nodes, each weighted 1/|train| so the chunks add
  /// up to the epoch's mean; its gradient goes to dout(K − 1, c).
  void loss_chunk(index_t c, const nn::tensor<S>& logits) {
    const index_t classes = logits.extent(1);
    nn::tensor<S>& d = dout(m_blocks.size() - 1, c);
    d.resize({end(c) - begin(c), classes});
    d.set_zero();
    const double scale = 1.0 / static_cast<double>(m_train_count);
    for (index_t i = begin(c); i < end(c); ++i) {
      const auto global = static_cast<std::size_t>(node(i));
      if (!m_is_train[global]) continue;
      const S* z = logits.data() + (i - begin(c)) * classes;
      S* g = d.data() + (i - begin(c)) * classes;
      m_loss += detail::softmax_cross_entropy_row(z, classes, m_labels[global], scale, g);
    }
  }

  void send(int peer, int tag, const nn::tensor<S>& x) {
    auto& p = m_sends.emplace_back();
    p.values.assign(x.data(), x.data() + x.size());
    p.request = isend(*m_transport, peer, tag, std::span<const S>(p.values));
  }

  void finish_sends() {
    for (auto& p : m_sends) m_transport->wait(p.request);
    m_sends.clear();
  }

  struct pending {
    std::vector<S> values;
    typename T::request request{};
  };

  std::vector<gnn_block<S, Exec>> m_blocks;
  index_t m_first_layer;
  // Â and Âᵀ: the aggregation's (read in place: in-process ranks share it, and copying its Views
  // from several threads at once is not safe in a Serial-only Kokkos), or the hybrid's own
  // clone of its partition's local rows.
  std::shared_ptr<const graph::aggregation<S>> m_graph;
  graph::csr_graph<S> m_local, m_local_transpose;
  const graph::csr_graph<S>& matrix() const { return m_graph ? m_graph->matrix() : m_local; }
  const graph::csr_graph<S>& transpose() const { return m_graph ? m_graph->transpose() : m_local_transpose; }
  T* m_transport;
  T* m_partitions = nullptr;          // the hybrid's partitions of this stage
  std::vector<std::int32_t> m_owned;  // hybrid: global ids of the rows
  std::vector<index_t> m_halo_offsets;
  std::vector<std::vector<std::int32_t>> m_send_positions;
  std::vector<index_t> m_offsets;
  late_gradients m_late = late_gradients::dropped;
  double m_smoothing = 0;
  std::int64_t m_smoothed_epochs = 0;  // training forwards averaged into m_smoothed
  bool m_keep = false;
  std::vector<std::vector<typename gnn_block<S, Exec>::state>> m_state;  // [layer][chunk], with m_keep
  Exec m_exec;
  std::vector<nn::tensor<S>> m_buffer, m_buffer_grad, m_late_grad, m_smoothed;
  std::vector<std::vector<nn::tensor<S>>> m_in, m_agg, m_dout;
  nn::tensor<S> m_pre_grad, m_logits;
  std::deque<pending> m_sends;
  gnnpipe_timing m_timing;
  std::vector<char> m_is_train;
  std::span<const std::int32_t> m_labels;
  index_t m_train_count = 0;
  double m_loss = 0;
};

}  // namespace frugal::pipeline
