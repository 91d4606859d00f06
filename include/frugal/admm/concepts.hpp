#pragma once
/// \file
/// The projection seam of frugal/admm: a constraint set is a value type whose `project` returns
/// the Euclidean projection of a weight matrix onto it.

#include <concepts>
#include <string>

#include "../nn/tensor.hpp"

namespace frugal::admm {

using nn::matrix;

/// Π_S: returns argmin_{Z ∈ S} ‖Z − W‖_F (or a documented approximation where the exact problem
/// is intractable), and says what S is in words for reports.
template <class P, class S>
concept Projection = nn::Scalar<S> && requires(const P& p, const matrix<S>& w) {
  { p.template project<S>(w) } -> std::same_as<matrix<S>>;
  { p.describe() } -> std::convertible_to<std::string>;
};

/// A projection onto a sparsity pattern that can also say which entries it keeps (1) and prunes
/// (0): the mask installed on a parameter after hard pruning.
template <class P, class S>
concept SparsityProjection = Projection<P, S> && requires(const P& p, const matrix<S>& w) {
  { p.template support<S>(w) } -> std::same_as<matrix<S>>;
};

}  // namespace frugal::admm
