#pragma once
/// \file
/// The block-circulant weight policy: `nn::linear` (or any layer over a `WeightPolicy`) trains
/// and infers with W stored as the defining vectors of a `block_circulant_matrix`.

#include <cstring>
#include <string>
#include <utility>

#include "../core/rng.hpp"
#include "../nn/concepts.hpp"
#include "../nn/parameter.hpp"
#include "block_circulant_matrix.hpp"

namespace frugal::sparse {

/// Block-circulant weight storage (CirCNN) for an out_features × in_features weight with block
/// size k. Registers one parameter, `<prefix>.weight`, of shape (p·q) × k: the defining vectors
/// (row i·q + j defines block (i, j), W_blk(a, b) = v[(a − b) mod k]), so optimizers, masks and
/// checkpoints see the true p·q·k trainable values, not a dense copy.
///
/// The FFT spectra of the vectors are a cache. Before every product the policy compares the
/// parameter's value with the copy the spectra were computed from (a memcmp of p·q·k values,
/// small beside the product) and recomputes them when anything changed, so an optimizer step,
/// a checkpoint load or a direct write can never leave them stale.
///
/// Complexity: forward and each half of backward are (p + q) FFTs of length k plus ≈ 4·p·q·k
/// flops per sample (dense: 2·out·in). Memory: the parameter, its copy and the spectra,
/// ≈ 3·p·q·k values.
///
/// Thread safety: `forward` is const but refreshes the cache and uses scratch buffers, so one
/// policy object must not run products from two threads at once.
/// \tparam S float or double
template <nn::Scalar S>
class circulant_weight {
 public:
  using scalar_type = S;

  /// \param out_features, in_features the weight's shape, both positive
  /// \param block_size k, a power of two ≥ 2 (`invalid_argument` otherwise)
  circulant_weight(index_t out_features, index_t in_features, index_t block_size,
                   fft_planning planning = fft_planning::estimate)
      : m_matrix(out_features, in_features, block_size, planning) {
    m_weight.resize(m_matrix.vectors().rows(), m_matrix.vectors().cols());
    m_weight.layout = nn::parameter_layout::packed;
  }

  [[nodiscard]] index_t out_features() const noexcept { return m_matrix.rows(); }
  [[nodiscard]] index_t in_features() const noexcept { return m_matrix.cols(); }
  /// Block size k.
  [[nodiscard]] index_t block_size() const noexcept { return m_matrix.block_size(); }

  /// y = W x, on the layer's execution space `exec`.
  template <HostExecutionSpace Exec>
  void forward(const Exec& exec, nn::const_column_map<S> x, nn::column_map<S> y) const {
    synchronise();
    m_matrix.multiply(exec, x, y);
  }

  /// d(vectors) += the gradient of the loss for dL/dy = dy; dx = Wᵀ dy when requested.
  template <HostExecutionSpace Exec>
  void backward(const Exec& exec, nn::const_column_map<S> x, nn::const_column_map<S> dy, nn::column_map<S>* dx) {
    synchronise();
    m_matrix.backward(exec, x, dy, m_weight.grad, dx);
  }

  void register_parameters(nn::parameter_registry<S>& registry, const std::string& prefix) {
    registry.add(nn::join_name(prefix, "weight"), m_weight);
  }

  /// Draws every entry of every defining vector uniformly from [-bound, bound] (so every entry of
  /// W has the distribution a dense weight would).
  void reset_parameters(rng& gen, S bound) {
    for (index_t i = 0; i < m_weight.value.size(); ++i)
      m_weight.value.data()[i] = static_cast<S>(gen.uniform(-bound, bound));
    m_weight.apply_mask();
  }

  /// The parameter: value and gradient of the defining vectors, (p·q) × k.
  [[nodiscard]] nn::parameter<S>& weight() noexcept { return m_weight; }
  [[nodiscard]] const nn::parameter<S>& weight() const noexcept { return m_weight; }

  /// The operator, brought up to date with the parameter's current value.
  [[nodiscard]] const block_circulant_matrix<S>& matrix() const {
    synchronise();
    return m_matrix;
  }

 private:
  /// Copies the parameter into the matrix when it differs from what the spectra were built from.
  void synchronise() const {
    const nn::matrix<S>& current = std::as_const(m_matrix).vectors();
    const bool same_shape = current.rows() == m_weight.value.rows() && current.cols() == m_weight.value.cols();
    if (same_shape &&
        std::memcmp(current.data(), m_weight.value.data(), static_cast<std::size_t>(current.size()) * sizeof(S)) == 0)
      return;
    m_matrix.set_vectors(m_weight.value);  // throws shape_error if the parameter was reshaped
  }

  mutable block_circulant_matrix<S> m_matrix;
  nn::parameter<S> m_weight;
};

/// Weight factory (`nn::WeightFactory`) of block-circulant policies with one block size, so a
/// generic builder makes a circulant layer from its widths:
/// `nn::make_mlp<float>({in, 64, 1}, circulant_factory<float>{.block_size = 8})`.
template <nn::Scalar S>
struct circulant_factory {
  index_t block_size = 8;  ///< k, a power of two ≥ 2
  fft_planning planning = fft_planning::estimate;

  [[nodiscard]] circulant_weight<S> operator()(index_t out_features, index_t in_features) const {
    return circulant_weight<S>(out_features, in_features, block_size, planning);
  }
};

static_assert(nn::WeightPolicy<circulant_weight<float>>);
static_assert(nn::WeightPolicy<circulant_weight<double>>);
static_assert(nn::WeightFactory<circulant_factory<float>>);

}  // namespace frugal::sparse
