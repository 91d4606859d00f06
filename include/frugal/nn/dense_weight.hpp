#pragma once
/// \file
/// The dense weight policy: W stored as a row-major out x in matrix, products through Eigen's GEMM
/// kernel on shape-determined chunks run in parallel on the caller's execution space.

#include <string>
#include <vector>

#include "../core/rng.hpp"
#include "concepts.hpp"
#include "detail/gemm.hpp"
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

  /// y = W x, chunks of samples in parallel on `exec`.
  template <HostExecutionSpace Exec>
  void forward(const Exec& exec, const_column_map<S> x, column_map<S> y) const {
    detail::gemm(exec, out_features(), x.cols(), in_features(), weight_operand(), {x.data(), x.rows(), false}, y.data(),
                 y.rows());
  }

  /// dW += dy xᵀ; dx = Wᵀ dy when requested. The weight gradient's sum over samples is split in
  /// shape-determined chunks (see `detail::gemm_reduce`): the same bits on any thread count.
  template <HostExecutionSpace Exec>
  void backward(const Exec& exec, const_column_map<S> x, const_column_map<S> dy, column_map<S>* dx) {
    detail::gemm_reduce(exec, out_features(), in_features(), dy.cols(), {dy.data(), dy.rows(), false},
                        {x.data(), x.rows(), true}, m_weight.grad.data(), in_features(), m_partials);
    if (dx) input_gradient(exec, dy, *dx);
  }

  /// Patch-major input (`PatchMajorPolicy`), which `conv2d` uses for one input channel only:
  /// there the patch rows are plain copies of image rows (one contiguous copy instead of im2col's
  /// 25 small copies per patch) and the GEMM takes them as a row-major operand just as fast; with several
  /// channels im2col + GEMM is faster.
  [[nodiscard]] static constexpr bool prefers_patch_major(index_t in_channels) noexcept { return in_channels == 1; }
  [[nodiscard]] static constexpr index_t input_stride(index_t n) noexcept { return n; }
  /// y = W x with x(k, s) at xt[k·ld + s].
  template <HostExecutionSpace Exec>
  void forward_rows(const Exec& exec, const S* xt, index_t ld, column_map<S> y) const {
    detail::gemm(exec, out_features(), y.cols(), in_features(), weight_operand(), {xt, ld, true}, y.data(), y.rows());
  }
  /// `backward` with x patch-major.
  template <HostExecutionSpace Exec>
  void backward_rows(const Exec& exec, const S* xt, index_t ld, const_column_map<S> dy, column_map<S>* dx) {
    detail::gemm_reduce(exec, out_features(), in_features(), dy.cols(), {dy.data(), dy.rows(), false}, {xt, ld, false},
                        m_weight.grad.data(), in_features(), m_partials);
    if (dx) input_gradient(exec, dy, *dx);
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
  [[nodiscard]] detail::dense_operand<S> weight_operand() const noexcept {
    return {m_weight.value.data(), in_features(), true};
  }

  /// dx = Wᵀ dy.
  template <HostExecutionSpace Exec>
  void input_gradient(const Exec& exec, const_column_map<S> dy, column_map<S> dx) const {
    detail::gemm(exec, in_features(), dy.cols(), out_features(), weight_operand().transposed(),
                 {dy.data(), dy.rows(), false}, dx.data(), dx.rows());
  }

  parameter<S> m_weight;
  std::vector<S> m_partials;  // per-chunk weight-gradient partials (detail::gemm_reduce)
};

static_assert(WeightPolicy<dense_weight<float>>);
static_assert(WeightPolicy<dense_weight<double>>);
static_assert(PatchMajorPolicy<dense_weight<float>>);

/// Weight factory (`WeightFactory`) of dense policies: `dense_factory<S>{}(out, in)`.
template <Scalar S>
struct dense_factory {
  [[nodiscard]] dense_weight<S> operator()(index_t out_features, index_t in_features) const {
    return dense_weight<S>(out_features, in_features);
  }
};

}  // namespace frugal::nn
