#pragma once
/// \file
/// The seams of the quantum module, as concepts: the real type of a register, what a register
/// is, and what a device (simulated or real hardware) provides.

#include <concepts>
#include <cstdint>
#include <vector>

#include "registers.hpp"
#include "types.hpp"

namespace frugal::quantum {

class circuit;

/// True for the two register templates.
template <class T>
inline constexpr bool is_state_vector_v = false;
template <class R, class S>
inline constexpr bool is_state_vector_v<state_vector<R, S>> = true;
template <class T>
inline constexpr bool is_density_matrix_v = false;
template <class R, class S>
inline constexpr bool is_density_matrix_v<density_matrix<R, S>> = true;

/// A state vector or density matrix.
template <class T>
concept Register = is_state_vector_v<T> || is_density_matrix_v<T>;

/// A device: runs a circuit (every qubit measured in the computational basis at the end) for a
/// number of shots and returns the count of each outcome (index bit q = qubit q's result).
template <class D>
concept Device = requires(D& d, const circuit& c, const std::vector<double>& theta, std::int64_t shots) {
  { d.qubits() } -> std::convertible_to<int>;
  { d.run(c, theta, shots) } -> std::same_as<std::vector<std::int64_t>>;
};

}  // namespace frugal::quantum
