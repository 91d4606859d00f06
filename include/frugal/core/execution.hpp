#pragma once
/// \file
/// The execution-space seam. Parallel kernels take a Kokkos execution space as a template
/// parameter *and* as an instance argument (Kokkos Kernels' `axpby(exec, ...)` pattern); nothing
/// in frugal picks `Kokkos::DefaultExecutionSpace` behind the caller's back.

#include <Kokkos_Core.hpp>

#include <concepts>
#include <cstdint>
#include <string>
#include <type_traits>

#include "config.hpp"

namespace frugal {

/// Signed index type used for sizes and loop bounds throughout frugal.
using index_t = std::int64_t;

/// A Kokkos execution space type (`Kokkos::Serial`, `Kokkos::OpenMP`, `Kokkos::Cuda`, ...).
template <class E>
concept ExecutionSpace = Kokkos::is_execution_space<E>::value;

/// An execution space whose kernels may dereference host pointers (Eigen matrices, std::vector).
template <class E>
concept HostExecutionSpace = ExecutionSpace<E> &&
    static_cast<bool>(Kokkos::SpaceAccessibility<E, Kokkos::HostSpace>::accessible);

/// A Kokkos::View.
template <class V>
concept View = Kokkos::is_view<std::remove_cvref_t<V>>::value;

/// The execution space a View's memory belongs to: the convenience overloads of frugal kernels
/// derive their space from the View they are handed.
template <View V>
using execution_space_of_t = typename std::remove_cvref_t<V>::execution_space;

/// The host execution space frugal's examples and defaults use when the caller names none. It is
/// Kokkos' default *host* space, so an OpenMP build of Kokkos runs host kernels in parallel.
using default_host_space = Kokkos::DefaultHostExecutionSpace;

/// Runs `f(i)` for `i` in `[0, n)` on `exec`.
/// \tparam Exec the execution space; `f` must be callable there
/// \param label name shown by Kokkos profiling tools
template <ExecutionSpace Exec, class F>
inline void parallel_for(const std::string& label, const Exec& exec, index_t n, const F& f) {
  if (n <= 0) return;
  Kokkos::parallel_for(label, Kokkos::RangePolicy<Exec, Kokkos::IndexType<index_t>>(exec, 0, n), f);
}

/// True when called from inside a parallel region of the host space `Exec` (a kernel issued from
/// within another one: an example's job, a user's own parallel loop). Kokkos runs a nested
/// `parallel_for` serially on the calling thread, but its OpenMP `parallel_reduce` (3.x) would
/// reuse the enclosing dispatch's scratch, so frugal's reductions check this first.
template <ExecutionSpace Exec>
[[nodiscard]] inline bool inside_parallel_region([[maybe_unused]] const Exec& exec) {
#if defined(KOKKOS_ENABLE_OPENMP)
  if constexpr (std::is_same_v<Exec, Kokkos::OpenMP>) return Kokkos::OpenMP::in_parallel(exec);
#endif
  return false;
}

/// Sum-reduces `f(i, acc)` over `[0, n)` on `exec` and returns the total. Inside another parallel
/// region it runs serially on the calling thread (see `inside_parallel_region`).
template <class T, ExecutionSpace Exec, class F>
[[nodiscard]] inline T parallel_sum(const std::string& label, const Exec& exec, index_t n, const F& f) {
  T total{};
  if (n <= 0) return total;
  if constexpr (HostExecutionSpace<Exec>) {
    if (inside_parallel_region(exec)) {
      for (index_t i = 0; i < n; ++i) f(i, total);
      return total;
    }
  }
  Kokkos::parallel_reduce(label, Kokkos::RangePolicy<Exec, Kokkos::IndexType<index_t>>(exec, 0, n), f, total);
  return total;
}

/// Convenience: run on the execution space of `view`, derived from its type.
template <View V, class F>
inline void parallel_for(const std::string& label, const V& /*view*/, index_t n, const F& f) {
  parallel_for(label, execution_space_of_t<V>{}, n, f);
}

/// A host array wrapped as an unmanaged rank-1 View, so host kernels run through the same seam.
template <class T>
using host_span_view = Kokkos::View<T*, Kokkos::HostSpace, Kokkos::MemoryTraits<Kokkos::Unmanaged>>;

}  // namespace frugal
