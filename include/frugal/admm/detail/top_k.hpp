#pragma once
/// \file
/// admm's names for core's top-k helpers (`frugal/core/top_k.hpp`).

#include "../../core/top_k.hpp"

namespace frugal::admm::detail {

using frugal::kept_count;
using frugal::top_k_indices;

}  // namespace frugal::admm::detail
