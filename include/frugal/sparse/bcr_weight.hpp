#pragma once
/// \file
/// `bcr_weight`: a weight policy for `nn::linear` and `nn::conv2d` that stores and multiplies the
/// weight as a `bcr_matrix`. The registry sees the true parameters — the kept values only — so
/// optimizers, checkpoints and ADMM work on exactly what is stored; the pattern stays fixed
/// (masked training without the masked-out zeros ever being touched).

#include <cstdint>
#include <span>
#include <string>
#include <utility>

#include "../core/execution.hpp"
#include "../core/rng.hpp"
#include "../nn/concepts.hpp"
#include "../nn/parameter.hpp"
#include "bcr_matrix.hpp"

namespace frugal::sparse {

/// BCR weight policy. Registers one parameter, `<prefix>.weight`, of shape 1 x nonzeros: the
/// kept values in `bcr_matrix::values()` order.
/// The products run on the execution space of the layer that holds the policy.
/// \tparam S float or double
template <nn::Scalar S>
class bcr_weight {
 public:
  using scalar_type = S;

  /// Wraps `m` (its values become the trainable parameter).
  explicit bcr_weight(bcr_matrix<S> m) : m_matrix(std::move(m)) {
    check(m_matrix.rows() > 0 && m_matrix.cols() > 0, "frugal::sparse::bcr_weight: the matrix is empty (",
          m_matrix.rows(), "x", m_matrix.cols(), ")");
    m_weight.resize(1, m_matrix.nonzeros());
    m_weight.layout = nn::parameter_layout::packed;
    const auto v = m_matrix.values();
    for (std::size_t i = 0; i < v.size(); ++i) m_weight.value.data()[i] = v[i];
  }

  /// Prunes a dense weight (out x in) with `sparsity` and wraps the result.
  bcr_weight(const nn::matrix<S>& dense, const bcr_sparsity& sparsity)
      : bcr_weight(bcr_matrix<S>::from_dense(dense, sparsity)) {}

  [[nodiscard]] index_t out_features() const noexcept { return m_matrix.rows(); }
  [[nodiscard]] index_t in_features() const noexcept { return m_matrix.cols(); }

  /// y = W x.
  template <HostExecutionSpace Exec>
  void forward(const Exec& exec, const_column_map<S> x, column_map<S> y) const {
    sync();
    m_matrix.multiply(x, y, exec);
  }

  /// Gradient of the kept values += dy xᵀ (kept entries only); dx = Wᵀ dy when requested.
  template <HostExecutionSpace Exec>
  void backward(const Exec& exec, const_column_map<S> x, const_column_map<S> dy, column_map<S>* dx) {
    sync();
    m_matrix.accumulate_gradient(
        x, dy, std::span<S>(m_weight.grad.data(), static_cast<std::size_t>(m_weight.grad.size())), exec);
    if (dx) m_matrix.multiply_transposed(dy, *dx, exec);
  }

  /// Patch-major input (`nn::PatchMajorPolicy`): conv2d builds its patches as rows of stride
  /// input_stride(n) and the products skip transposing the batch.
  [[nodiscard]] static constexpr bool prefers_patch_major(index_t) noexcept { return true; }
  /// The patch features (input columns) the products read; conv2d builds only these rows.
  [[nodiscard]] std::span<const std::int32_t> used_inputs() const noexcept { return m_matrix.used_columns(); }
  [[nodiscard]] index_t input_stride(index_t n) const noexcept { return bcr_matrix<S>::input_stride(n); }
  template <HostExecutionSpace Exec>
  void forward_rows(const Exec& exec, const S* xt, index_t ld, column_map<S> y) const {
    sync();
    m_matrix.multiply_rows(xt, ld, y, exec);
  }
  template <HostExecutionSpace Exec>
  void backward_rows(const Exec& exec, const S* xt, index_t ld, const_column_map<S> dy, column_map<S>* dx) {
    sync();
    m_matrix.accumulate_gradient_rows(
        xt, ld, dy, std::span<S>(m_weight.grad.data(), static_cast<std::size_t>(m_weight.grad.size())), exec);
    if (dx) m_matrix.multiply_transposed(dy, *dx, exec);
  }

  void register_parameters(nn::parameter_registry<S>& registry, const std::string& prefix) {
    registry.add(nn::join_name(prefix, "weight"), m_weight);
  }

  /// Draws every kept value uniformly from [-bound, bound].
  void reset_parameters(rng& gen, S bound) {
    for (index_t i = 0; i < m_weight.value.size(); ++i)
      m_weight.value.data()[i] = static_cast<S>(gen.uniform(-bound, bound));
  }

  /// The matrix with the parameter's current values.
  [[nodiscard]] const bcr_matrix<S>& matrix() const {
    sync();
    return m_matrix;
  }
  /// Chooses the micro-kernel (see `bcr_autotuner`).
  void set_kernel(const bcr_kernel_config& k) { m_matrix.set_kernel(k); }
  [[nodiscard]] nn::matrix<S> to_dense() const { return matrix().to_dense(); }
  [[nodiscard]] nn::parameter<S>& weight() noexcept { return m_weight; }
  [[nodiscard]] const nn::parameter<S>& weight() const noexcept { return m_weight; }

 private:
  /// Copies the parameter into the matrix (optimizers update the parameter).
  void sync() const {
    auto v = m_matrix.values();
    const S* src = m_weight.value.data();
    std::copy(src, src + v.size(), v.begin());
  }

  mutable bcr_matrix<S> m_matrix;
  nn::parameter<S> m_weight;
};

static_assert(nn::WeightPolicy<bcr_weight<float>>);
static_assert(nn::WeightPolicy<bcr_weight<double>>);
static_assert(nn::PatchMajorPolicy<bcr_weight<float>>);

/// Weight factory (`nn::WeightFactory`) of BCR policies for training a sparse layer from
/// scratch on a fixed pattern: each call draws a dense out × in weight uniformly from [−1, 1]
/// (from `seed`, a new stream per call, so layers of one shape get different patterns) and
/// keeps what `sparsity` selects from it — a random pattern of the given block shape and keep
/// fractions. The kept values are then re-drawn by the layer's `reset_parameters`.
template <nn::Scalar S>
class bcr_factory {
 public:
  explicit bcr_factory(bcr_sparsity sparsity, std::uint64_t seed = 1) : m_sparsity(sparsity), m_seed(seed) {}

  [[nodiscard]] bcr_weight<S> operator()(index_t out_features, index_t in_features) {
    check(out_features > 0 && in_features > 0, "frugal::sparse::bcr_factory: shape ", out_features, "x", in_features,
          " must be positive");
    rng gen = rng(m_seed).split(m_calls++);
    nn::matrix<S> w(out_features, in_features);
    for (index_t i = 0; i < w.size(); ++i) w.data()[i] = static_cast<S>(gen.uniform(-1.0, 1.0));
    return bcr_weight<S>(w, m_sparsity);
  }

  [[nodiscard]] const bcr_sparsity& sparsity() const noexcept { return m_sparsity; }

 private:
  bcr_sparsity m_sparsity;
  std::uint64_t m_seed;
  std::uint64_t m_calls = 0;
};

static_assert(nn::WeightFactory<bcr_factory<float>>);

}  // namespace frugal::sparse
