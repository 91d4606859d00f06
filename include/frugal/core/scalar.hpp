#pragma once
/// \file
/// The floating-point scalar types frugal's numeric code is instantiated for, shared by every
/// module (nn, sparse, admm, quantum) so that each names the same notion.

#include <type_traits>

namespace frugal {

/// Scalar types frugal's kernels, layers and simulators are instantiated for: float or double.
template <class S>
concept Scalar = std::is_same_v<S, float> || std::is_same_v<S, double>;

}  // namespace frugal
