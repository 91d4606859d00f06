#pragma once
/// \file
/// nn's name for core's SIMD transpose (`frugal/core/transpose.hpp`), kept so that code written
/// against `frugal::nn::detail::transpose` still compiles.

#include "../../core/transpose.hpp"

namespace frugal::nn::detail {

using frugal::transpose;

}  // namespace frugal::nn::detail
