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
  parameter<S> m_weight;
};

static_assert(WeightPolicy<dense_weight<float>>);
static_assert(WeightPolicy<dense_weight<double>>);

}  // namespace frugal::nn
