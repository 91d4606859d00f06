#pragma once
/// \file
/// Where in a model a layer refused its input: `chain` and `sequential` run each layer through
/// `in_layer`, which rethrows a layer's `invalid_argument` or `shape_error` as the same type with
/// the model, the layer's position and its name in front, so "input features mismatch" says which
/// layer of which model (nested models add one prefix each).

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>

#include "../../core/error.hpp"

namespace frugal::nn::detail {

/// "<model>: layer <index> ('<name>'): " (no name part when `name` is empty).
inline std::string layer_context(std::string_view model, std::size_t index, std::string_view name) {
  return name.empty() ? frugal::detail::concat(model, ": layer ", index, ": ")
                      : frugal::detail::concat(model, ": layer ", index, " ('", name, "'): ");
}

/// Returns `f()`; rethrows its `shape_error` / `invalid_argument` with `layer_context` in front.
template <class F>
decltype(auto) in_layer(std::string_view model, std::size_t index, std::string_view name, F&& f) {
  try {
    return std::forward<F>(f)();
  } catch (const shape_error& e) {
    throw shape_error(layer_context(model, index, name) + e.what());
  } catch (const invalid_argument& e) {
    throw invalid_argument(layer_context(model, index, name) + e.what());
  }
}

}  // namespace frugal::nn::detail
