#pragma once
/// \file
/// `bcr_reference`: the plain serial products of a `bcr_matrix`, straight from its group lists —
/// the oracle the kernels are tested against, and documentation of what they compute.

#include <cstddef>
#include <span>

#include "bcr_matrix.hpp"

namespace frugal::sparse {

/// Plain serial products straight from the group lists, for tests and as documentation of what
/// the kernels compute.
namespace bcr_reference {

template <nn::Scalar S>
void multiply(const bcr_matrix<S>& w, const_column_map<S> x, column_map<S> y) {
  y.setZero();
  const auto v = w.values();
  for (index_t s = 0; s < x.cols(); ++s)
    for (const auto& g : w.groups())
      for (std::size_t i = 0; i < g.rows.size(); ++i)
        for (std::size_t j = 0; j < g.cols.size(); ++j)
          y(g.rows[i], s) += v[static_cast<std::size_t>(g.offset) + i * g.cols.size() + j] * x(g.cols[j], s);
}

template <nn::Scalar S>
void multiply_transposed(const bcr_matrix<S>& w, const_column_map<S> dy, column_map<S> dx) {
  dx.setZero();
  const auto v = w.values();
  for (index_t s = 0; s < dy.cols(); ++s)
    for (const auto& g : w.groups())
      for (std::size_t i = 0; i < g.rows.size(); ++i)
        for (std::size_t j = 0; j < g.cols.size(); ++j)
          dx(g.cols[j], s) += v[static_cast<std::size_t>(g.offset) + i * g.cols.size() + j] * dy(g.rows[i], s);
}

template <nn::Scalar S>
void accumulate_gradient(const bcr_matrix<S>& w, const_column_map<S> x, const_column_map<S> dy, std::span<S> grad) {
  for (const auto& g : w.groups())
    for (std::size_t i = 0; i < g.rows.size(); ++i)
      for (std::size_t j = 0; j < g.cols.size(); ++j)
        for (index_t s = 0; s < x.cols(); ++s)
          grad[static_cast<std::size_t>(g.offset) + i * g.cols.size() + j] += dy(g.rows[i], s) * x(g.cols[j], s);
}

}  // namespace bcr_reference

}  // namespace frugal::sparse
