#pragma once
/// \file
/// The dense weight policy: W stored as a row-major out x in matrix, products through Eigen GEMM.

#include <string>

#include "../core/rng.hpp"
#include "concepts.hpp"
#include "parameter.hpp"

namespace frugal::nn {

/// Dense weight storage. Registers one parameter, `<prefix>.weight`, of shape out x in.
/// Complexity: forward and each half of backward are one GEMM of 2·out·in·n flops.
template <Scalar S>
class dense_weight {
 public:
  using scalar_type = S;

  dense_weight(index_t out_features, index_t in_features) {
    check(out_features > 0 && in_features > 0, "frugal::nn::dense_weight: out_features = ", out_features,
          " and in_features = ", in_features, " must be positive");
    m_weight.resize(out_features, in_features);
  }

  [[nodiscard]] index_t out_features() const noexcept { return m_weight.value.rows(); }
  [[nodiscard]] index_t in_features() const noexcept { return m_weight.value.cols(); }

  /// y = W x.
  void forward(const_column_map<S> x, column_map<S> y) const { y.noalias() = m_weight.value * x; }

  /// dW += dy xᵀ; dx = Wᵀ dy when requested.
  void backward(const_column_map<S> x, const_column_map<S> dy, column_map<S>* dx) {
    m_weight.grad.noalias() += dy * x.transpose();
    if (dx) dx->noalias() = m_weight.value.transpose() * dy;
  }

  /// Patch-major input (`PatchMajorPolicy`), which `conv2d` uses for one input channel only:
  /// there the patch rows are plain copies of image rows (~4× cheaper than im2col's 25 small
  /// copies per patch) and Eigen multiplies them as a row-major operand just as fast; with
  /// several channels im2col + GEMM measured faster.
  [[nodiscard]] static constexpr bool prefers_patch_major(index_t in_channels) noexcept { return in_channels == 1; }
  [[nodiscard]] static constexpr index_t input_stride(index_t n) noexcept { return n; }
  /// y = W x with x(k, s) at xt[k·ld + s].
  void forward_rows(const S* xt, index_t ld, column_map<S> y) const {
    y.noalias() = m_weight.value * rows_map(xt, ld, y.cols());
  }
  /// `backward` with x patch-major.
  void backward_rows(const S* xt, index_t ld, const_column_map<S> dy, column_map<S>* dx) {
    m_weight.grad.noalias() += dy * rows_map(xt, ld, dy.cols()).transpose();
    if (dx) dx->noalias() = m_weight.value.transpose() * dy;
  }

  void register_parameters(parameter_registry<S>& registry, const std::string& prefix) {
    registry.add(join_name(prefix, "weight"), m_weight);
  }

  void reset_parameters(rng& gen, S bound) {
    for (index_t i = 0; i < m_weight.value.size(); ++i)
      m_weight.value.data()[i] = static_cast<S>(gen.uniform(-bound, bound));
    m_weight.apply_mask();
  }

  /// Direct access for code that knows it holds a dense weight (tests, conversions).
  [[nodiscard]] parameter<S>& weight() noexcept { return m_weight; }
  [[nodiscard]] const parameter<S>& weight() const noexcept { return m_weight; }

 private:
  using rows_type =
      Eigen::Map<const Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>, 0, Eigen::OuterStride<>>;
  [[nodiscard]] rows_type rows_map(const S* xt, index_t ld, index_t n) const {
    return rows_type(xt, in_features(), n, Eigen::OuterStride<>(ld));
  }

  parameter<S> m_weight;
};

static_assert(WeightPolicy<dense_weight<float>>);
static_assert(WeightPolicy<dense_weight<double>>);
static_assert(PatchMajorPolicy<dense_weight<float>>);

}  // namespace frugal::nn
