#pragma once
/// \file
/// A model whose depth and layer types are chosen at run time: a chain of type-erased layers
/// behind the same `Layer` interface as every other layer, beside the compile-time `sequential`.

#include <memory>
#include <span>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "../core/error.hpp"
#include "../core/execution.hpp"
#include "concepts.hpp"
#include "detail/layer_errors.hpp"

namespace frugal::nn {

namespace detail {
/// What `chain` calls on a link: one virtual call per layer and pass, small beside a layer's work.
template <class S>
class chain_link {
 public:
  virtual ~chain_link() = default;
  virtual const tensor<S>& forward(const tensor<S>& x) = 0;
  virtual const tensor<S>& predict(const tensor<S>& x) = 0;
  virtual const tensor<S>& backward(const tensor<S>& dy, bool need_input_grad) = 0;
  virtual void register_parameters(parameter_registry<S>& registry, const std::string& prefix) = 0;
  virtual void reset_parameters(rng& gen) = 0;
};

template <class S, Layer L>
class chain_link_of final : public chain_link<S> {
 public:
  explicit chain_link_of(L layer) : m_layer(std::move(layer)) {}
  const tensor<S>& forward(const tensor<S>& x) override { return m_layer.forward(x); }
  const tensor<S>& predict(const tensor<S>& x) override {
    if constexpr (InferenceLayer<L>)
      return m_layer.predict(x);
    else
      return m_layer.forward(x);
  }
  const tensor<S>& backward(const tensor<S>& dy, bool need_input_grad) override {
    return m_layer.backward(dy, need_input_grad);
  }
  void register_parameters(parameter_registry<S>& registry, const std::string& prefix) override {
    m_layer.register_parameters(registry, prefix);
  }
  void reset_parameters(rng& gen) override { m_layer.reset_parameters(gen); }
  L& layer() noexcept { return m_layer; }

 private:
  L m_layer;
};
}  // namespace detail

/// A chain of layers of any types, built at run time: forward runs them in order, backward in
/// reverse, like `sequential`, whose depth is fixed at compile time. A `chain` is itself a
/// `Layer`, so chains nest and sit inside a `sequential`.
///
/// Parameters are named "<name>.<local name>" where a layer's name is its position ("0", "1", ...)
/// unless `add` was given one. Move-only: the layers live on the heap, so moving a chain keeps
/// every layer (and any registry entry pointing into one) where it is.
/// \tparam S float or double
/// \tparam Exec the execution space that loops over the model (its loss, say) run on
template <Scalar S, HostExecutionSpace Exec = default_host_space>
class chain {
 public:
  using scalar_type = S;
  using execution_space = Exec;

  chain() = default;
  chain(chain&&) noexcept = default;
  chain& operator=(chain&&) noexcept = default;
  chain(const chain&) = delete;
  chain& operator=(const chain&) = delete;

  /// Appends `layer`, named by its position.
  template <class L>
  chain& add(L layer) {
    return add(std::to_string(m_links.size()), std::move(layer));
  }

  /// Appends `layer` under `name` (unique within the chain, without dots).
  template <class L>
  chain& add(std::string name, L layer) {
    // Unconstrained, so that a wrong type stops here with this message rather than with "no
    // matching function".
    static_assert(Layer<L>,
                  "frugal::nn::chain::add: the type is not an nn::Layer (it needs scalar_type, forward(x), "
                  "backward(dy, need_input_grad), register_parameters(registry, prefix) and reset_parameters(gen))");
    static_assert(std::is_same_v<typename L::scalar_type, S>,
                  "frugal::nn::chain::add: the layer's scalar type differs from the chain's");
    check(!name.empty() && name.find('.') == std::string::npos, "frugal::nn::chain::add: layer name '", name,
          "' must be non-empty and contain no '.'");
    for (const auto& n : m_names)
      check(n != name, "frugal::nn::chain::add: a layer named '", name, "' is already in the chain");
    m_links.push_back(std::make_unique<detail::chain_link_of<S, L>>(std::move(layer)));
    m_names.push_back(std::move(name));
    return *this;
  }

  [[nodiscard]] std::size_t size() const noexcept { return m_links.size(); }
  [[nodiscard]] bool empty() const noexcept { return m_links.empty(); }
  [[nodiscard]] const std::string& name(std::size_t i) const {
    check_index(i);
    return m_names[i];
  }

  /// Moves layers [first, last) into a new chain, names kept (so their parameters keep their
  /// names too); this chain keeps the rest, in order. A pipeline stage is such a run of layers.
  [[nodiscard]] chain take(std::size_t first, std::size_t last) {
    check(first <= last && last <= m_links.size(), "frugal::nn::chain::take: layers [", first, ", ", last,
          ") of a chain of ", m_links.size());
    chain part;
    for (std::size_t i = first; i < last; ++i) {
      part.m_links.push_back(std::move(m_links[i]));
      part.m_names.push_back(std::move(m_names[i]));
    }
    m_links.erase(m_links.begin() + static_cast<std::ptrdiff_t>(first),
                  m_links.begin() + static_cast<std::ptrdiff_t>(last));
    m_names.erase(m_names.begin() + static_cast<std::ptrdiff_t>(first),
                  m_names.begin() + static_cast<std::ptrdiff_t>(last));
    m_forwarded = false;
    return part;
  }

  /// Splits the chain into consecutive parts at `boundaries` (strictly increasing, each in
  /// (0, size())): part k holds layers [b_{k−1}, b_k), the first from 0, the last to size().
  /// The chain is left empty.
  [[nodiscard]] std::vector<chain> split(std::span<const std::size_t> boundaries) {
    std::size_t previous = 0;
    for (std::size_t b : boundaries) {
      check(b > previous && b < m_links.size(), "frugal::nn::chain::split: boundary ", b, " after ", previous,
            " in a chain of ", m_links.size(), " layers; boundaries must increase within (0, size)");
      previous = b;
    }
    std::vector<chain> parts;
    std::size_t taken = 0;
    for (std::size_t b : boundaries) {
      parts.push_back(take(0, b - taken));
      taken = b;
    }
    parts.push_back(take(0, m_links.size()));
    return parts;
  }

  /// Layer `i` as its concrete type `L`; `invalid_argument` when layer i is not an `L`.
  template <Layer L>
  [[nodiscard]] L& layer(std::size_t i) {
    check_index(i);
    auto* link = dynamic_cast<detail::chain_link_of<S, L>*>(m_links[i].get());
    check(link != nullptr, "frugal::nn::chain::layer: layer ", i, " ('", m_names[i], "') is not of the requested type");
    return link->layer();
  }

  /// Runs every layer; returns the last layer's output buffer (`x` itself for an empty chain).
  const tensor<S>& forward(const tensor<S>& x) {
    const tensor<S>* h = &x;
    for (std::size_t i = 0; i < m_links.size(); ++i)
      h = &detail::in_layer(
          "frugal::nn::chain::forward", i, m_names[i], [&]() -> auto& { return m_links[i]->forward(*h); });
    m_forwarded = true;
    return *h;
  }

  /// Inference: every layer's `predict` where it has one (see `InferenceLayer`), else `forward`.
  const tensor<S>& predict(const tensor<S>& x) {
    const tensor<S>* h = &x;
    for (std::size_t i = 0; i < m_links.size(); ++i)
      h = &detail::in_layer(
          "frugal::nn::chain::predict", i, m_names[i], [&]() -> auto& { return m_links[i]->predict(*h); });
    m_forwarded = false;
    return *h;
  }

  /// Back-propagates `dy` through the last `forward`; parameter gradients accumulate. The first
  /// layer skips its input gradient unless `need_input_grad`.
  const tensor<S>& backward(const tensor<S>& dy, bool need_input_grad = false) {
    check(m_forwarded, "frugal::nn::chain::backward: no forward since construction or the last predict");
    const tensor<S>* g = &dy;
    for (std::size_t i = m_links.size(); i-- > 0;)
      g = &detail::in_layer(
          "frugal::nn::chain::backward", i,
          m_names[i], [&]() -> auto& { return m_links[i]->backward(*g, i > 0 || need_input_grad); });
    return *g;
  }

  /// Adds every layer's parameters to `registry` under `prefix.<layer name>`.
  void register_parameters(parameter_registry<S>& registry, const std::string& prefix = "") {
    for (std::size_t i = 0; i < m_links.size(); ++i)
      m_links[i]->register_parameters(registry, join_name(prefix, m_names[i]));
  }

  /// A fresh registry of this chain's parameters.
  [[nodiscard]] parameter_registry<S> parameters() {
    parameter_registry<S> registry;
    register_parameters(registry);
    return registry;
  }

  /// Re-initialises every layer from `gen`, in layer order (deterministic per seed).
  void reset_parameters(rng& gen) {
    for (auto& link : m_links) link->reset_parameters(gen);
  }

 private:
  void check_index(std::size_t i) const {
    check(i < m_links.size(), "frugal::nn::chain: layer index ", i, " out of range (", m_links.size(), " layers)");
  }

  std::vector<std::unique_ptr<detail::chain_link<S>>> m_links;
  std::vector<std::string> m_names;
  bool m_forwarded = false;
};

}  // namespace frugal::nn
