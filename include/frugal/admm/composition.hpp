#pragma once
/// \file
/// Compositions of ADMM projections: prune then quantize the kept weights
/// (`prune_then_quantize`), and a fixed mask followed by quantization (`masked_quantization`).

#include <concepts>
#include <sstream>
#include <string>
#include <type_traits>
#include <utility>

#include "../core/error.hpp"
#include "../core/parallel.hpp"
#include "concepts.hpp"
#include "detail/elementwise.hpp"
#include "quantized_matrix.hpp"

namespace frugal::admm {

namespace detail {
/// `p.support(exec, w)` when P has the execution-space form, else its plain `support<S>(w)`
/// (a user's projection written without one).
template <class P, class S, HostExecutionSpace Exec>
[[nodiscard]] matrix<S> support_on(const Exec& exec, const P& p, const matrix<S>& w) {
  if constexpr (requires {
                  { p.support(exec, w) } -> std::same_as<matrix<S>>;
                })
    return p.support(exec, w);
  else
    return p.template support<S>(w);
}

/// `q.quantize(exec, w, mask)` when Q has the execution-space form, else `q.quantize<S>(w, mask)`.
template <class Q, class S, HostExecutionSpace Exec>
[[nodiscard]] quantized_matrix<S> quantize_on(const Exec& exec, const Q& q, const matrix<S>& w, const matrix<S>* mask) {
  if constexpr (requires {
                  { q.quantize(exec, w, mask) } -> std::same_as<quantized_matrix<S>>;
                })
    return q.quantize(exec, w, mask);
  else
    return q.template quantize<S>(w, mask);
}
}  // namespace detail

/// Prune, then quantize the kept weights only: Z = Q(P(W)) with Q fitted on, and applied to,
/// the entries P keeps; pruned entries stay exactly zero. (The projection onto the intersection
/// is intractable in general; this is ADMM-NN's composition.)
template <class Prune, class Quantize>
struct prune_then_quantize {
  static constexpr bool elementwise = elementwise_projection<Prune> && elementwise_projection<Quantize>;
  Prune prune;
  Quantize quantize_with;

  template <HostExecutionSpace Exec, nn::Scalar S>
  [[nodiscard]] quantized_matrix<S> quantize(const Exec& exec, const matrix<S>& w) const {
    const matrix<S> mask = detail::support_on(exec, prune, w);
    return detail::quantize_on(exec, quantize_with, w, &mask);
  }
  template <nn::Scalar S>
  [[nodiscard]] quantized_matrix<S> quantize(const matrix<S>& w) const {
    return quantize(default_host_space{}, w);
  }

  template <HostExecutionSpace Exec, nn::Scalar S>
  [[nodiscard]] matrix<S> support(const Exec& exec, const matrix<S>& w) const {
    return detail::support_on(exec, prune, w);
  }
  template <nn::Scalar S>
  [[nodiscard]] matrix<S> support(const matrix<S>& w) const {
    return support(default_host_space{}, w);
  }

  template <HostExecutionSpace Exec, nn::Scalar S>
  [[nodiscard]] matrix<S> project(const Exec& exec, const matrix<S>& w) const {
    return quantize(exec, w).reconstruct(exec);
  }
  template <nn::Scalar S>
  [[nodiscard]] matrix<S> project(const matrix<S>& w) const {
    return project(default_host_space{}, w);
  }

  [[nodiscard]] std::string describe() const { return prune.describe() + " then " + quantize_with.describe(); }
};

/// A fixed mask followed by quantization of the kept entries: the projection used once pruning
/// is settled and only the values are being quantized.
template <nn::Scalar S, class Quantize>
struct masked_quantization {
  static constexpr bool elementwise = true;  ///< see `elementwise_projection`
  matrix<S> mask;
  Quantize quantize_with;

  template <HostExecutionSpace Exec>
  [[nodiscard]] quantized_matrix<S> quantize(const Exec& exec, const matrix<S>& w) const {
    return detail::quantize_on(exec, quantize_with, w, &mask);
  }
  [[nodiscard]] quantized_matrix<S> quantize(const matrix<S>& w) const { return quantize(default_host_space{}, w); }

  template <HostExecutionSpace Exec>
  [[nodiscard]] matrix<S> project(const Exec& exec, const matrix<S>& w) const {
    return quantize(exec, w).reconstruct(exec);
  }
  template <nn::Scalar T>
  requires std::is_same_v<T, S>
  [[nodiscard]] matrix<T> project(const matrix<T>& w) const { return project(default_host_space{}, w); }

  [[nodiscard]] std::string describe() const { return "fixed mask then " + quantize_with.describe(); }
};

}  // namespace frugal::admm
