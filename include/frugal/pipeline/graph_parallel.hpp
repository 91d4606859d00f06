#pragma once
/// \file
/// Graph parallelism, the baseline GNNPipe is measured against: each worker owns a partition of
/// the nodes and every layer of the model; before each layer's aggregation the workers exchange
/// the halo rows their owned rows read (and, backward, the gradients of those rows go back to
/// their owners); the weight gradients are summed over the workers once per epoch. The result is
/// full-graph training's, to rounding (the tests check it), with the communication of every layer
/// that GNNPipe avoids.

#include <chrono>
#include <cmath>
#include <cstdint>
#include <deque>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "../core/error.hpp"
#include "../core/execution.hpp"
#include "../graph/halo.hpp"
#include "../graph/spmm.hpp"
#include "../nn/tensor.hpp"
#include "detail/allreduce_gradients.hpp"
#include "detail/row_loss.hpp"
#include "gnn_block.hpp"
#include "transport.hpp"

namespace frugal::pipeline {

/// Compute seconds of one worker's last epoch per layer (exchanges excluded).
struct graph_parallel_timing {
  std::vector<double> forward, backward;
};

/// Worker `transport.rank()` of a `transport.size()`-worker graph-parallel model.
template <Scalar S, HostExecutionSpace Exec, Transport T>
class graph_parallel_worker {
 public:
  using scalar_type = S;

  /// \param blocks every layer of the model (each worker holds all of them, with equal weights)
  /// \param halo this worker's share of `graph::plan_halos(Â, partition)`
  graph_parallel_worker(std::vector<gnn_block<S, Exec>> blocks, graph::worker_halo<S> halo, T& transport,
                        Exec exec = Exec{})
      : m_blocks(std::move(blocks)), m_halo(std::move(halo)), m_transport(&transport), m_exec(std::move(exec)) {
    constexpr auto where = "frugal::pipeline::graph_parallel_worker";
    check(!m_blocks.empty(), where, ": no layers");
    check(static_cast<int>(m_halo.send.size()) == transport.size(), where, ": the halo plan has ", m_halo.send.size(),
          " workers, the transport ", transport.size());
    check(2 * static_cast<index_t>(m_blocks.size()) < collective_tag_base, where, ": too many layers");
    m_local_transpose = m_halo.local.transposed();
    for (int q = 0; q < transport.size(); ++q) m_send_positions.push_back(m_halo.send_positions(q));
    const std::size_t K = m_blocks.size();
    m_in.resize(K + 1);
    m_agg.resize(K);
    m_dout.resize(K);
    m_timing.forward.assign(K, 0.0);
    m_timing.backward.assign(K, 0.0);
  }

  [[nodiscard]] int index() const { return m_transport->rank(); }
  [[nodiscard]] const graph::worker_halo<S>& halo() const noexcept { return m_halo; }
  [[nodiscard]] const graph_parallel_timing& timing() const noexcept { return m_timing; }

  [[nodiscard]] nn::parameter_registry<S> parameters() {
    nn::parameter_registry<S> registry;
    for (std::size_t k = 0; k < m_blocks.size(); ++k) m_blocks[k].register_parameters(registry, std::to_string(k));
    return registry;
  }

  /// Forward and backward over the owned nodes with halo exchanges, then the weight gradients and
  /// the loss summed over the workers: every worker ends with the full-graph gradients.
  /// \param features, labels, train the whole graph's (each worker reads its owned rows)
  /// \returns the mean cross-entropy over `train`, on every worker
  S train_epoch(const nn::tensor<S>& features, std::span<const std::int32_t> labels, std::span<const index_t> train) {
    prepare_loss(labels, train);
    std::fill(m_timing.forward.begin(), m_timing.forward.end(), 0.0);
    std::fill(m_timing.backward.begin(), m_timing.backward.end(), 0.0);
    forward(features);
    double loss = loss_owned(m_in.back());
    const std::size_t K = m_blocks.size();
    for (std::size_t k = K; k-- > 0;) backward_layer(k);
    return static_cast<S>(detail::allreduce_gradients(*m_transport, parameters(), loss));
  }

  /// Bytes this worker holds: activations kept for backward, the [owned; halo] blocks, the
  /// parameters and their gradients.
  [[nodiscard]] std::int64_t memory_bytes() {
    std::int64_t n = 0;
    for (const auto* list : {&m_in, &m_agg, &m_dout})
      for (const auto& t : *list) n += static_cast<std::int64_t>(t.size());
    n += static_cast<std::int64_t>(m_local.size() + m_local_grad.size() + m_pre_grad.size());
    for (const auto& e : parameters()) n += static_cast<std::int64_t>(e.param->value.size() + e.param->grad.size());
    return n * static_cast<std::int64_t>(sizeof(S));
  }

  /// Forward only; returns the owned nodes' outputs (rows in `halo().owned` order).
  const nn::tensor<S>& infer(const nn::tensor<S>& features) {
    forward(features);
    return m_in.back();
  }

 private:
  template <class F>
  static void timed(double& slot, F&& f) {
    const auto start = std::chrono::steady_clock::now();
    f();
    slot += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }

  void forward(const nn::tensor<S>& features) {
    constexpr auto where = "frugal::pipeline::graph_parallel_worker";
    check(features.rank() == 2 && features.extent(1) == m_blocks[0].in_features(), where, ": features of shape ",
          features.shape_string(), " for a first layer of ", m_blocks[0].in_features(), " inputs");
    const index_t owned = m_halo.num_owned(), f0 = features.extent(1);
    m_in[0].resize({owned, f0});
    for (index_t r = 0; r < owned; ++r) {
      const index_t g = m_halo.owned[static_cast<std::size_t>(r)];
      check(g < features.extent(0), where, ": node ", g, " beyond the ", features.extent(0), " feature rows");
      std::copy_n(features.data() + g * f0, f0, m_in[0].data() + r * f0);
    }
    for (std::size_t k = 0; k < m_blocks.size(); ++k) forward_layer(k);
  }

  void forward_layer(std::size_t k) {
    const index_t owned = m_halo.num_owned(), f = m_blocks[k].in_features();
    m_local.resize({m_halo.num_local(), f});
    timed(m_timing.forward[k], [&] {
      const nn::tensor<S>& pre = m_blocks[k].pre_forward(m_in[k]);
      std::copy_n(pre.data(), pre.size(), m_local.data());
    });
    // Halo exchange: my rows others read go out; the rows I read arrive in owner order.
    std::vector<typename T::request> sends;
    std::deque<std::vector<S>> buffers;
    for (int q = 0; q < m_transport->size(); ++q) {
      const auto& positions = m_send_positions[static_cast<std::size_t>(q)];
      if (q == index() || positions.empty()) continue;
      auto& out = buffers.emplace_back(positions.size() * static_cast<std::size_t>(f));
      for (std::size_t r = 0; r < positions.size(); ++r)
        std::copy_n(m_local.data() + positions[r] * f, f, out.data() + static_cast<index_t>(r) * f);
      sends.push_back(isend(*m_transport, q, static_cast<int>(2 * k), std::span<const S>(out)));
    }
    for (int q = 0; q < m_transport->size(); ++q) {
      const index_t begin = m_halo.halo_offsets[static_cast<std::size_t>(q)],
                    end = m_halo.halo_offsets[static_cast<std::size_t>(q) + 1];
      if (q == index() || begin == end) continue;
      recv(*m_transport, q, static_cast<int>(2 * k),
           std::span<S>(m_local.data() + (owned + begin) * f, static_cast<std::size_t>((end - begin) * f)));
    }
    for (auto& r : sends) m_transport->wait(r);
    timed(m_timing.forward[k], [&] {
      nn::tensor<S>& a = m_agg[k];
      a.resize({owned, f});
      graph::spmm_rows(m_exec, m_halo.local, 0, owned, view(std::as_const(m_local)), view(a));
      m_in[k + 1] = m_blocks[k].post_forward(a, m_in[k]);
    });
  }

  void backward_layer(std::size_t k) {
    const index_t owned = m_halo.num_owned(), f = m_blocks[k].in_features();
    m_local_grad.resize({m_halo.num_local(), f});
    timed(m_timing.backward[k], [&] {
      const nn::tensor<S>& da = m_blocks[k].post_backward(m_agg[k], m_in[k], m_dout[k]);
      m_local_grad.set_zero();
      graph::spmm_transpose_accumulate(m_exec, m_local_transpose, 0, owned, view(da), view(m_local_grad), 0,
                                       m_halo.num_local());
    });
    // The halo rows' gradients go back to their owners; what others computed for my rows arrives.
    std::vector<typename T::request> sends;
    for (int q = 0; q < m_transport->size(); ++q) {
      const index_t begin = m_halo.halo_offsets[static_cast<std::size_t>(q)],
                    end = m_halo.halo_offsets[static_cast<std::size_t>(q) + 1];
      if (q == index() || begin == end) continue;
      sends.push_back(isend(
          *m_transport, q, static_cast<int>(2 * k + 1),
          std::span<const S>(m_local_grad.data() + (owned + begin) * f, static_cast<std::size_t>((end - begin) * f))));
    }
    std::vector<S> incoming;
    for (int q = 0; q < m_transport->size(); ++q) {
      const auto& positions = m_send_positions[static_cast<std::size_t>(q)];
      if (q == index() || positions.empty()) continue;
      incoming.resize(positions.size() * static_cast<std::size_t>(f));
      recv(*m_transport, q, static_cast<int>(2 * k + 1), std::span<S>(incoming));
      for (std::size_t r = 0; r < positions.size(); ++r) {
        S* row = m_local_grad.data() + positions[r] * f;
        for (index_t t = 0; t < f; ++t)
          row[t] += incoming[r * static_cast<std::size_t>(f) + static_cast<std::size_t>(t)];
      }
    }
    for (auto& r : sends) m_transport->wait(r);
    timed(m_timing.backward[k], [&] {
      m_pre_grad.resize({owned, f});
      std::copy_n(m_local_grad.data(), m_pre_grad.size(), m_pre_grad.data());
      const nn::tensor<S>& din = m_blocks[k].pre_backward(m_in[k], m_pre_grad, m_dout[k]);
      if (k > 0) m_dout[k - 1] = din;
    });
  }

  void prepare_loss(std::span<const std::int32_t> labels, std::span<const index_t> train) {
    constexpr auto where = "frugal::pipeline::graph_parallel_worker::train_epoch";
    check(!train.empty(), where, ": no training nodes");
    const index_t classes = m_blocks.back().out_features();
    m_train_count = static_cast<index_t>(train.size());
    std::vector<char> is_train(labels.size(), 0);
    for (index_t i : train) {
      check(i >= 0 && static_cast<std::size_t>(i) < labels.size(), where, ": training node ", i, " outside [0, ",
            labels.size(), ")");
      is_train[static_cast<std::size_t>(i)] = 1;
    }
    m_owned_train.clear();
    for (index_t r = 0; r < m_halo.num_owned(); ++r) {
      const auto g = static_cast<std::size_t>(m_halo.owned[static_cast<std::size_t>(r)]);
      check(g < labels.size(), where, ": node ", g, " has no label entry");
      if (!is_train[g]) continue;
      check(labels[g] >= 0 && labels[g] < classes, where, ": node ", g, " has label ", labels[g]);
      m_owned_train.emplace_back(r, labels[g]);
    }
  }

  /// Cross-entropy of the owned training nodes, each weighted 1/|train| (the workers' shares add
  /// up to the mean); its gradient goes to the last layer's dout.
  double loss_owned(const nn::tensor<S>& logits) {
    const index_t classes = logits.extent(1);
    nn::tensor<S>& d = m_dout.back();
    d.resize({logits.extent(0), classes});
    d.set_zero();
    const double scale = 1.0 / static_cast<double>(m_train_count);
    double loss = 0;
    for (const auto& [r, y] : m_owned_train) {
      const S* z = logits.data() + r * classes;
      S* g = d.data() + r * classes;
      loss += detail::softmax_cross_entropy_row(z, classes, y, scale, g);
    }
    return loss;
  }

  static graph::features_view<S> view(nn::tensor<S>& t) {
    return graph::features_view<S>(t.data(), static_cast<std::size_t>(t.extent(0)),
                                   static_cast<std::size_t>(t.extent(1)));
  }
  static graph::features_view<const S> view(const nn::tensor<S>& t) {
    return graph::features_view<const S>(t.data(), static_cast<std::size_t>(t.extent(0)),
                                         static_cast<std::size_t>(t.extent(1)));
  }

  std::vector<gnn_block<S, Exec>> m_blocks;
  graph::worker_halo<S> m_halo;
  graph::csr_graph<S> m_local_transpose;
  std::vector<std::vector<std::int32_t>> m_send_positions;
  T* m_transport;
  Exec m_exec;
  std::vector<nn::tensor<S>> m_in, m_agg, m_dout;
  nn::tensor<S> m_local, m_local_grad, m_pre_grad;
  std::vector<std::pair<index_t, std::int32_t>> m_owned_train;
  index_t m_train_count = 0;
  graph_parallel_timing m_timing;
};

}  // namespace frugal::pipeline
