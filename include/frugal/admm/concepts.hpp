#pragma once
/// \file
/// The projection seam of frugal/admm: a constraint set is a value type whose `project` returns
/// the Euclidean projection of a weight matrix onto it, on the caller's execution space.

#include <concepts>
#include <string>

#include "../core/execution.hpp"
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

/// A projection that also runs on a given host execution space: `p.project(exec, w)` (Kokkos
/// Kernels' `axpby(exec, ...)` pattern). Every frugal projection is one for every host space;
/// the form without `exec` runs on `default_host_space`.
template <class P, class S, class Exec>
concept ProjectionOn = Projection<P, S> && HostExecutionSpace<Exec> &&
    requires(const P& p, const Exec& exec, const matrix<S>& w) {
  { p.project(exec, w) } -> std::same_as<matrix<S>>;
};

/// A projection onto a sparsity pattern that can also say which entries it keeps (1) and prunes
/// (0): the mask installed on a parameter after hard pruning.
template <class P, class S>
concept SparsityProjection = Projection<P, S> && requires(const P& p, const matrix<S>& w) {
  { p.template support<S>(w) } -> std::same_as<matrix<S>>;
};

/// A sparsity projection whose support is also computed on a given host execution space.
template <class P, class S, class Exec>
concept SparsityProjectionOn = SparsityProjection<P, S> && ProjectionOn<P, S, Exec> &&
    requires(const P& p, const Exec& exec, const matrix<S>& w) {
  { p.support(exec, w) } -> std::same_as<matrix<S>>;
};

/// Whether a projection treats the matrix as a plain list of values, so that its result does not
/// depend on the matrix's shape (magnitude pruning, quantization): `P::elementwise`, false where
/// a projection does not say. Only such projections apply to a parameter whose layout is
/// `nn::parameter_layout::packed` (a BCR or circulant layer's own values).
template <class P>
inline constexpr bool elementwise_projection = requires {
  requires P::elementwise;
};

}  // namespace frugal::admm
