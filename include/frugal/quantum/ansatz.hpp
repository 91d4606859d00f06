#pragma once
/// \file
/// Hardware-efficient ansatzes that respect a device's coupling map: entangling gates only on
/// coupled pairs.

#include <utility>
#include <vector>

#include "circuit.hpp"

namespace frugal::quantum {

enum class ansatz_style {
  ry_rz_cx,  ///< per layer: RY and RZ on every qubit, then CX on every pair of the map in order
  u3_cu3,    ///< per layer: U3 on every qubit, then CU3 on every pair of the map in order
};

/// A hardware-efficient ansatz of `layers` layers on `qubits` qubits, entangling the pairs of
/// `coupling` (each (control, target), both < qubits), ending with a final rotation layer.
/// Parameters are numbered in gate order from 0.
[[nodiscard]] inline circuit hardware_efficient_ansatz(int qubits, int layers,
                                                       const std::vector<std::pair<int, int>>& coupling,
                                                       ansatz_style style = ansatz_style::ry_rz_cx) {
  check(layers >= 0, "frugal::quantum::hardware_efficient_ansatz: ", layers, " layers");
  circuit c(qubits);
  for (const auto& [a, b] : coupling) check_qubits("frugal::quantum::hardware_efficient_ansatz", {a, b}, qubits);
  int p = 0;
  auto rotations = [&] {
    for (int q = 0; q < qubits; ++q) {
      if (style == ansatz_style::ry_rz_cx) {
        c.ry(q, angle::parameter(p++));
        c.rz(q, angle::parameter(p++));
      } else {
        c.u3(q, angle::parameter(p), angle::parameter(p + 1), angle::parameter(p + 2));
        p += 3;
      }
    }
  };
  for (int l = 0; l < layers; ++l) {
    rotations();
    for (const auto& [a, b] : coupling) {
      if (style == ansatz_style::ry_rz_cx)
        c.cx(a, b);
      else {
        c.cu3(a, b, angle::parameter(p), angle::parameter(p + 1), angle::parameter(p + 2));
        p += 3;
      }
    }
  }
  rotations();
  return c;
}

/// The pairs (q, q + 1) of a line of n qubits.
[[nodiscard]] inline std::vector<std::pair<int, int>> line_coupling(int n) {
  std::vector<std::pair<int, int>> out;
  for (int q = 0; q + 1 < n; ++q) out.emplace_back(q, q + 1);
  return out;
}

}  // namespace frugal::quantum
