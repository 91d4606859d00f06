#pragma once
/// \file
/// Compile-time configuration: the device-callable function macro and internal assertions.

#include <Kokkos_Macros.hpp>

#include "../version.hpp"

/// Marks a function callable from host and device code. Maps to `KOKKOS_FUNCTION`, so a CUDA or
/// HIP build of Kokkos makes it `__host__ __device__`. When a translation unit is compiled by
/// nvcc against a Kokkos without the CUDA back end, the function is still made device-callable so
/// that raw CUDA kernels can use frugal's device-side helpers (rng, small math).
#if (defined(__CUDACC__) || defined(__HIPCC__)) && !defined(KOKKOS_ENABLE_CUDA) && !defined(KOKKOS_ENABLE_HIP)
#define FRUGAL_FUNCTION __host__ __device__
#else
#define FRUGAL_FUNCTION KOKKOS_FUNCTION
#endif

/// Inline variant of FRUGAL_FUNCTION for functions defined in headers outside a class.
#define FRUGAL_INLINE_FUNCTION inline FRUGAL_FUNCTION

/// Hints the processor to fetch the cache line at `p` into the L2 cache (a no-op where
/// unsupported). Not into L1 (`prefetcht0`): the embedding kernels prefetch rows many lookups
/// ahead, and an L1 prefetch holds one of the core's few L1 miss buffers until its line arrives,
/// which caps the lines in flight (measurements in docs/embedding.md).
#if defined(__GNUC__) || defined(__clang__)
#define FRUGAL_PREFETCH(p) __builtin_prefetch(p, 0, 2)
#else
#define FRUGAL_PREFETCH(p) ((void)0)
#endif

/// `FRUGAL_ASSERT(cond, msg)` checks an internal invariant (never user input: that throws a
/// `frugal::error`). Off under `NDEBUG`; define `FRUGAL_ASSERT` before including frugal to
/// replace it, or define `FRUGAL_ENABLE_ASSERTS` to keep it on in release builds.
#ifndef FRUGAL_ASSERT
#if !defined(NDEBUG) || defined(FRUGAL_ENABLE_ASSERTS)
#include "detail/assert_fail.hpp"
#define FRUGAL_ASSERT(cond, msg) \
  ((cond) ? static_cast<void>(0) : ::frugal::detail::assert_fail(#cond, msg, __FILE__, __LINE__))
#else
#define FRUGAL_ASSERT(cond, msg) static_cast<void>(0)
#endif
#endif
