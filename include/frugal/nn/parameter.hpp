#pragma once
/// \file
/// Trainable parameters and the registry through which ADMM, pruning, quantization, optimizers
/// and checkpoints reach them without knowing any layer's type.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "../core/error.hpp"
#include "tensor.hpp"

namespace frugal::nn {

/// What a parameter's matrix shape means, for code that reads structure from it (ADMM's block,
/// row and circulant projections).
enum class parameter_layout {
  matrix,  ///< the weight itself, rows × columns as the layer multiplies with it
  packed,  ///< a structured operator's own values (a BCR layer's kept values, a circulant layer's
           ///< defining vectors): only elementwise operations (magnitude, quantization) mean anything
};

/// One trainable tensor: its value, the gradient accumulated by backward passes, and an optional
/// mask (1 keeps an entry, 0 pins it at zero: optimizers zero masked gradients and re-apply the
/// mask after every step, so a masked weight is never revived).
template <Scalar S>
struct parameter {
  matrix<S> value;
  matrix<S> grad;
  std::optional<matrix<S>> mask;
  parameter_layout layout = parameter_layout::matrix;

  /// A zero value and gradient of the given shape, no mask.
  void resize(index_t rows, index_t cols) {
    value.setZero(rows, cols);
    grad.setZero(rows, cols);
    mask.reset();
  }

  /// Installs a mask (same shape as `value`, entries 0 or 1) and applies it to the value.
  void set_mask(matrix<S> m) {
    check_extent("frugal::nn::parameter::set_mask", "mask rows", m.rows(), value.rows());
    check_extent("frugal::nn::parameter::set_mask", "mask cols", m.cols(), value.cols());
    for (index_t i = 0; i < m.size(); ++i)
      check(m.data()[i] == S(0) || m.data()[i] == S(1), "frugal::nn::parameter::set_mask: entry ", i, " is ",
            m.data()[i], ", masks hold 0 or 1");
    mask = std::move(m);
    apply_mask();
  }

  /// Multiplies value (and gradient) by the mask, if any.
  void apply_mask() {
    if (!mask) return;
    // select, not multiply: a pruned entry becomes +0, never -0, so masked values are bit-exact zeros.
    const auto keep = mask->array() != S(0);
    value = keep.select(value, S(0));
    grad = keep.select(grad, S(0));
  }

  [[nodiscard]] index_t size() const noexcept { return value.size(); }
};

/// Non-owning list of named parameters. Names are unique and hierarchical ("3.weight").
/// Entries point into the model: rebuild the registry after moving the model.
template <Scalar S>
class parameter_registry {
 public:
  struct entry {
    std::string name;
    parameter<S>* param;
  };

  /// Adds `p` under `name`. Throws if the name is already taken.
  void add(std::string name, parameter<S>& p) {
    check(!name.empty(), "frugal::nn::parameter_registry::add: empty parameter name");
    check(find(name) == nullptr, "frugal::nn::parameter_registry::add: duplicate parameter name '", name, "'");
    m_entries.push_back({std::move(name), &p});
  }

  /// The parameter called `name`, or nullptr.
  [[nodiscard]] parameter<S>* find(std::string_view name) const {
    for (const auto& e : m_entries)
      if (e.name == name) return e.param;
    return nullptr;
  }

  /// The parameter called `name`; throws `invalid_argument` listing the known names if absent.
  [[nodiscard]] parameter<S>& at(std::string_view name) const {
    if (auto* p = find(name)) return *p;
    std::string known;
    for (const auto& e : m_entries) known += (known.empty() ? "" : ", ") + e.name;
    throw invalid_argument(
        frugal::detail::concat("frugal::nn::parameter_registry::at: no parameter '", name, "' (have: ", known, ")"));
  }

  [[nodiscard]] std::size_t size() const noexcept { return m_entries.size(); }
  [[nodiscard]] auto begin() const noexcept { return m_entries.begin(); }
  [[nodiscard]] auto end() const noexcept { return m_entries.end(); }
  [[nodiscard]] const entry& operator[](std::size_t i) const { return m_entries[i]; }

  /// Total number of scalar values over all parameters.
  [[nodiscard]] index_t element_count() const noexcept {
    index_t n = 0;
    for (const auto& e : m_entries) n += e.param->size();
    return n;
  }

  /// Zeroes every gradient.
  void zero_grad() const {
    for (const auto& e : m_entries) e.param->grad.setZero();
  }

 private:
  std::vector<entry> m_entries;
};

/// Joins a prefix and a local name with a dot ("" + "weight" = "weight").
[[nodiscard]] inline std::string join_name(std::string_view prefix, std::string_view local) {
  if (prefix.empty()) return std::string(local);
  return std::string(prefix) + "." + std::string(local);
}

}  // namespace frugal::nn
