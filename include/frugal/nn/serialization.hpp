#pragma once
/// \file
/// Saving and loading a parameter registry (values and masks) through core checkpoint files.
/// Values round-trip bit-exactly.

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>

#include "../core/checkpoint.hpp"
#include "parameter.hpp"

namespace frugal::nn {

/// Writes every parameter's value (record "<prefix>/<name>"), shape ("...#shape") and mask, if
/// any ("...#mask") into `out`.
template <Scalar S>
void save_parameters(checkpoint_writer& out, const parameter_registry<S>& registry, std::string_view prefix = "param") {
  for (const auto& [name, p] : registry) {
    const std::string key = std::string(prefix) + "/" + name;
    out.put<S>(key, std::span<const S>(p->value.data(), static_cast<std::size_t>(p->value.size())));
    const std::int64_t shape[2] = {p->value.rows(), p->value.cols()};
    out.put<std::int64_t>(key + "#shape", shape);
    if (p->mask)
      out.put<S>(key + "#mask", std::span<const S>(p->mask->data(), static_cast<std::size_t>(p->mask->size())));
  }
}

/// Loads every parameter of `registry` from `in`. Throws `format_error` when a parameter is
/// missing or its stored shape differs; a stored mask is installed, and a parameter saved
/// without one loses any mask it had.
template <Scalar S>
void load_parameters(const checkpoint_reader& in, const parameter_registry<S>& registry,
                     std::string_view prefix = "param") {
  for (const auto& [name, p] : registry) {
    const std::string key = std::string(prefix) + "/" + name;
    if (!in.contains(key))
      throw format_error(
          frugal::detail::concat("frugal::nn::load_parameters: '", in.file(), "' has no parameter '", name, "'"),
          in.file(), 0);
    const auto shape = in.get<std::int64_t>(key + "#shape");
    if (shape.size() != 2 || shape[0] != p->value.rows() || shape[1] != p->value.cols())
      throw format_error(
          frugal::detail::concat("frugal::nn::load_parameters: parameter '", name, "' in '", in.file(), "' has shape ",
                                 shape.size() == 2 ? shape[0] : -1, "x", shape.size() == 2 ? shape[1] : -1,
                                 ", the model expects ", p->value.rows(), "x", p->value.cols()),
          in.file(), 0);
    in.get_into<S>(key, std::span<S>(p->value.data(), static_cast<std::size_t>(p->value.size())));
    if (in.contains(key + "#mask")) {
      matrix<S> m(p->value.rows(), p->value.cols());
      in.get_into<S>(key + "#mask", std::span<S>(m.data(), static_cast<std::size_t>(m.size())));
      p->mask = std::move(m);
    } else {
      p->mask.reset();
    }
  }
}

/// Saves a registry to `path` atomically.
template <Scalar S>
void save_parameters(const std::filesystem::path& path, const parameter_registry<S>& registry) {
  checkpoint_writer out;
  save_parameters(out, registry);
  out.write(path);
}

/// Loads a registry from `path`.
template <Scalar S>
void load_parameters(const std::filesystem::path& path, const parameter_registry<S>& registry) {
  load_parameters(checkpoint_reader(path), registry);
}

}  // namespace frugal::nn
