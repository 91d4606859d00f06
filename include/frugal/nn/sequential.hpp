#pragma once
/// \file
/// A model as a compile-time chain of layers: no virtual calls, every layer type known.

#include <string>
#include <tuple>
#include <utility>

#include "../core/execution.hpp"
#include "concepts.hpp"
#include "detail/layer_errors.hpp"

namespace frugal::nn {

/// Chains layers; forward runs them in order, backward in reverse. Parameters are named
/// "<position>.<local name>" ("0.weight", "0.bias", "3.weight", ...), like PyTorch's Sequential.
namespace detail {
/// `L::execution_space`, or frugal's default host space for a layer that names none.
template <class L>
struct layer_space {
  using type = default_host_space;
};
template <class L>
requires requires { typename L::execution_space; }
struct layer_space<L> {
  using type = typename L::execution_space;
};
}  // namespace detail

template <Layer... Layers>
requires(sizeof...(Layers) > 0) class sequential {
 public:
  using scalar_type = typename std::tuple_element_t<0, std::tuple<Layers...>>::scalar_type;
  /// The first layer's execution space (what loops over the model, such as its loss, run on).
  using execution_space = typename detail::layer_space<std::tuple_element_t<0, std::tuple<Layers...>>>::type;
  static_assert((std::is_same_v<typename Layers::scalar_type, scalar_type> && ...),
                "frugal::nn::sequential: every layer must use the same scalar type");

  explicit sequential(Layers... layers) : m_layers(std::move(layers)...) {}

  /// Runs every layer; returns the last layer's output buffer.
  const tensor<scalar_type>& forward(const tensor<scalar_type>& x) { return forward_from<0>(x); }

  /// Inference: runs every layer's `predict` (`forward` for layers without one, see
  /// `InferenceLayer`); returns the last layer's output buffer. `backward` must follow a `forward`.
  const tensor<scalar_type>& predict(const tensor<scalar_type>& x) { return predict_from<0>(x); }

  /// Back-propagates `dy` (gradient of the loss with respect to the output). Parameter gradients
  /// accumulate; the first layer skips its input gradient unless `need_input_grad`.
  const tensor<scalar_type>& backward(const tensor<scalar_type>& dy, bool need_input_grad = false) {
    return backward_from<sizeof...(Layers) - 1>(dy, need_input_grad);
  }

  /// Adds every layer's parameters to `registry` under `prefix`.
  void register_parameters(parameter_registry<scalar_type>& registry, const std::string& prefix = "") {
    register_from<0>(registry, prefix);
  }

  /// A fresh registry of this model's parameters.
  [[nodiscard]] parameter_registry<scalar_type> parameters() {
    parameter_registry<scalar_type> registry;
    register_parameters(registry);
    return registry;
  }

  /// Re-initialises every layer from `gen`, in layer order (deterministic per seed).
  void reset_parameters(rng& gen) {
    std::apply([&](auto&... layer) { (layer.reset_parameters(gen), ...); }, m_layers);
  }

  /// Layer `I`.
  template <std::size_t I>
  [[nodiscard]] auto& layer() noexcept {
    return std::get<I>(m_layers);
  }

  static constexpr std::size_t size() noexcept { return sizeof...(Layers); }

 private:
  template <std::size_t I>
  const tensor<scalar_type>& forward_from(const tensor<scalar_type>& x) {
    const auto& y = detail::in_layer(
        "frugal::nn::sequential::forward", I, "", [&]() -> auto& { return std::get<I>(m_layers).forward(x); });
    if constexpr (I + 1 < sizeof...(Layers))
      return forward_from<I + 1>(y);
    else
      return y;
  }

  template <std::size_t I>
  const tensor<scalar_type>& predict_from(const tensor<scalar_type>& x) {
    auto& layer = std::get<I>(m_layers);
    const tensor<scalar_type>* y = &detail::in_layer(
        "frugal::nn::sequential::predict", I, "", [&]() -> auto& {
          if constexpr (InferenceLayer<std::remove_cvref_t<decltype(layer)>>)
            return layer.predict(x);
          else
            return layer.forward(x);
        });
    if constexpr (I + 1 < sizeof...(Layers))
      return predict_from<I + 1>(*y);
    else
      return *y;
  }

  template <std::size_t I>
  const tensor<scalar_type>& backward_from(const tensor<scalar_type>& dy, bool need_input_grad) {
    if constexpr (I == 0) {
      return detail::in_layer(
          "frugal::nn::sequential::backward", 0,
          "", [&]() -> auto& { return std::get<0>(m_layers).backward(dy, need_input_grad); });
    } else {
      const auto& dx = detail::in_layer(
          "frugal::nn::sequential::backward", I,
          "", [&]() -> auto& { return std::get<I>(m_layers).backward(dy, true); });
      return backward_from<I - 1>(dx, need_input_grad);
    }
  }

  template <std::size_t I>
  void register_from(parameter_registry<scalar_type>& registry, const std::string& prefix) {
    std::get<I>(m_layers).register_parameters(registry, join_name(prefix, std::to_string(I)));
    if constexpr (I + 1 < sizeof...(Layers)) register_from<I + 1>(registry, prefix);
  }

  std::tuple<Layers...> m_layers;
};

}  // namespace frugal::nn
