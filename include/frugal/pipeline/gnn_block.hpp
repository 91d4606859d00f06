#pragma once
/// \file
/// One layer of a deep GCN split at its aggregation, so that it can run on a chunk of nodes at a
/// time: out = [in +] act(Â · norm(in) · Wᵀ + b).
///
/// Everything but the aggregation is row-wise (LayerNorm, the linear map, ReLU, the residual
/// add), so a chunk's rows go through those parts alone; the aggregation reads every node's
/// normalised row from a full-graph buffer that the caller keeps. For many chunks in flight at
/// once, either the caller keeps a `state` per chunk (the nn layers' per-call forward state) and
/// passes it to both passes, or the chunk-wise backward re-runs the row-wise parts from the
/// chunk's kept input and aggregate (the overloads without a state): less memory, more compute.

#include <string>
#include <utility>

#include "../core/error.hpp"
#include "../core/execution.hpp"
#include "../core/parallel.hpp"
#include "../nn/layer_norm.hpp"
#include "../nn/linear.hpp"
#include "../nn/relu.hpp"
#include "../nn/tensor.hpp"

namespace frugal::pipeline {

struct gnn_block_options {
  bool layer_norm = true;  ///< normalise the input rows before aggregating
  bool relu = true;        ///< ReLU after the linear map
  bool residual = true;    ///< add the input (needs in == out)
};

/// A GCN layer in three row-wise parts around the aggregation. Parameters: `norm.weight`,
/// `norm.bias` (with `layer_norm`), `linear.weight`, `linear.bias`.
template <Scalar S, HostExecutionSpace Exec = default_host_space>
class gnn_block {
 public:
  using scalar_type = S;

  gnn_block(index_t in_features, index_t out_features, gnn_block_options options = {}, Exec exec = Exec{})
      : m_options(options),
        m_norm(in_features, {}, exec),
        m_linear(in_features, out_features, exec),
        m_relu(exec),
        m_exec(std::move(exec)) {
    check(!options.residual || in_features == out_features, "frugal::pipeline::gnn_block: a residual block maps ",
          in_features, " to ", out_features, " features; it needs equal widths");
  }

  [[nodiscard]] index_t in_features() const noexcept { return m_linear.in_features(); }
  [[nodiscard]] index_t out_features() const noexcept { return m_linear.out_features(); }
  [[nodiscard]] const gnn_block_options& options() const noexcept { return m_options; }

  /// What the backward of one chunk reads of its forward (see the overloads taking it).
  struct state {
    typename nn::layer_norm<S, Exec>::forward_state norm;
    typename nn::linear<S, nn::dense_weight<S>, Exec>::forward_state linear;
    typename nn::relu<S, Exec>::forward_state relu;
    [[nodiscard]] std::size_t bytes() const noexcept { return norm.bytes() + linear.bytes() + relu.bytes(); }
  };

  /// The rows the aggregation reads: norm(in), or `in` itself; the chunk's forward record goes to
  /// `s`. The overloads with a state never recompute; `agg` must stay where it is until
  /// `post_backward(…, s)`.
  const nn::tensor<S>& pre_forward(const nn::tensor<S>& in, state& s) {
    return m_options.layer_norm ? m_norm.forward(in, s.norm) : in;
  }

  /// out = [in +] act(agg Wᵀ + b) for a chunk's aggregated rows `agg` and its input rows `in`.
  const nn::tensor<S>& post_forward(const nn::tensor<S>& agg, const nn::tensor<S>& in, state& s) {
    const nn::tensor<S>* h = &m_linear.forward(agg, s.linear);
    if (m_options.relu) h = &m_relu.forward(*h, s.relu);
    if (!m_options.residual) return *h;
    m_out.resize_like(*h);
    add(m_out, *h, in);
    return m_out;
  }

  /// Back-propagates `dout` through the row-wise tail recorded in `s`: returns d agg; linear
  /// gradients accumulate.
  const nn::tensor<S>& post_backward(const nn::tensor<S>& dout, state& s) {
    const nn::tensor<S>* g = &dout;
    if (m_options.relu) g = &m_relu.backward(*g, s.relu, true);
    return m_linear.backward(*g, s.linear, true);
  }

  /// d in for a chunk: the normalisation's backward of `dpre` (the gradient its normalised rows
  /// received from the aggregation), plus `dout` when the block is residual.
  const nn::tensor<S>& pre_backward(const nn::tensor<S>& in, const nn::tensor<S>& dpre, const nn::tensor<S>& dout,
                                    state& s) {
    const nn::tensor<S>* g = &dpre;
    if (m_options.layer_norm) g = &m_norm.backward(dpre, s.norm, true);
    m_din.resize_like(in);
    if (m_options.residual)
      add(m_din, *g, dout);
    else
      std::copy_n(g->data(), g->size(), m_din.data());
    return m_din;
  }

  /// The same steps keeping no record per chunk: the backward passes re-run the chunk's row-wise
  /// parts from (agg, in) first, into one scratch record.
  const nn::tensor<S>& pre_forward(const nn::tensor<S>& in) { return pre_forward(in, m_scratch); }
  const nn::tensor<S>& post_forward(const nn::tensor<S>& agg, const nn::tensor<S>& in) {
    return post_forward(agg, in, m_scratch);
  }
  const nn::tensor<S>& post_backward(const nn::tensor<S>& agg, const nn::tensor<S>& in, const nn::tensor<S>& dout) {
    post_forward(agg, in, m_scratch);
    return post_backward(dout, m_scratch);
  }
  const nn::tensor<S>& pre_backward(const nn::tensor<S>& in, const nn::tensor<S>& dpre, const nn::tensor<S>& dout) {
    pre_forward(in, m_scratch);
    return pre_backward(in, dpre, dout, m_scratch);
  }

  void register_parameters(nn::parameter_registry<S>& registry, const std::string& prefix) {
    if (m_options.layer_norm) m_norm.register_parameters(registry, nn::join_name(prefix, "norm"));
    m_linear.register_parameters(registry, nn::join_name(prefix, "linear"));
  }
  void reset_parameters(rng& gen) {
    if (m_options.layer_norm) m_norm.reset_parameters(gen);
    m_linear.reset_parameters(gen);
  }

 private:
  void add(nn::tensor<S>& y, const nn::tensor<S>& a, const nn::tensor<S>& b) const {
    check_extent("frugal::pipeline::gnn_block", "residual operand size", b.size(), a.size());
    S* yd = y.data();
    const S* ad = a.data();
    const S* bd = b.data();
    parallel_for("frugal::pipeline::gnn_block::add", m_exec, a.size(), [=](index_t i) { yd[i] = ad[i] + bd[i]; });
  }

  gnn_block_options m_options;
  nn::layer_norm<S, Exec> m_norm;
  nn::linear<S, nn::dense_weight<S>, Exec> m_linear;
  nn::relu<S, Exec> m_relu;
  Exec m_exec;
  nn::tensor<S> m_out, m_din;
  state m_scratch;  // the record of the overloads without a state
};

}  // namespace frugal::pipeline
