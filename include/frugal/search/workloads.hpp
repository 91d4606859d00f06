#pragma once
/// \file
/// Layer sets for the co-design search (ResNet-50 and MobileNet-V2 at 224 x 224, as torchvision
/// defines them), their lowering to GEMM workloads and to the tensor IR, and evaluate_design,
/// which costs a whole network on one machine with per-layer mappings from any mapper.
///
/// Lowering (im2col): a convolution is C[M,N] += A[M,K] B[K,N] with M = batch * P * Q output
/// pixels, N = K output channels, K = C * R * S; a fully connected layer is the 1 x 1 case on a
/// 1 x 1 input. A depthwise convolution has no channel reduction (tensor_ir.hpp shows it matches
/// no GEMM), so it runs as C independent products with M = batch * P * Q, N = 1, K = R * S: one
/// GEMV per channel on the GEMM array, which leaves all but one array column idle. That is the
/// real cost of depthwise layers on GEMM arrays, not an artefact.

#include <concepts>
#include <cstdint>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "../core/error.hpp"
#include "accelerator.hpp"
#include "mapping.hpp"
#include "tensor_ir.hpp"

namespace frugal::search {

/// One distinct convolution or fully connected layer shape and how often it occurs.
struct conv_layer {
  std::string name;  ///< the first occurrence, torchvision style ("layer3.1.conv2")
  std::int64_t N = 1, K = 1, C = 1, H = 1, W = 1, R = 1, S = 1, stride = 1, pad = 0;  ///< H, W: input
  bool depthwise = false;  ///< one R x S filter per channel (then K == C)
  std::int64_t count = 1;  ///< occurrences in the network

  /// Output height (H + 2 pad - R) / stride + 1.
  [[nodiscard]] std::int64_t out_h() const { return (H + 2 * pad - R) / stride + 1; }
  /// Output width (W + 2 pad - S) / stride + 1.
  [[nodiscard]] std::int64_t out_w() const { return (W + 2 * pad - S) / stride + 1; }
  /// Multiply-accumulates of one occurrence.
  [[nodiscard]] double macs() const {
    const double pixels = static_cast<double>(N * out_h() * out_w());
    return pixels * static_cast<double>(K) * static_cast<double>(depthwise ? 1 : C) * static_cast<double>(R * S);
  }
  void validate() const {
    check(N >= 1 && K >= 1 && C >= 1 && H >= 1 && W >= 1 && R >= 1 && S >= 1 && stride >= 1 && pad >= 0 && count >= 1,
          "frugal::search::conv_layer::validate: '", name, "' needs positive sizes, stride, count and pad >= 0");
    check(H + 2 * pad >= R && W + 2 * pad >= S, "frugal::search::conv_layer::validate: '", name, "' filter ", R, "x", S,
          " is larger than its padded ", H, "x", W, " input");
    check(!depthwise || K == C, "frugal::search::conv_layer::validate: depthwise '", name, "' has K = ", K,
          " != C = ", C);
  }
  friend bool operator==(const conv_layer&, const conv_layer&) = default;
};

/// The layer as GEMM work (see the file comment).
inline gemm_workload lower_to_gemm(const conv_layer& l) {
  l.validate();
  const std::int64_t pixels = l.N * l.out_h() * l.out_w();
  if (l.depthwise) return gemm_workload{pixels, 1, l.R * l.S, l.C};
  return gemm_workload{pixels, l.K, l.C * l.R * l.S, 1};
}

/// The layer in the tensor IR, for intrinsic matching (padding changes no index structure).
inline tensor_computation to_tensor_computation(const conv_layer& l) {
  l.validate();
  if (l.depthwise) return depthwise_conv2d(l.N, l.C, l.out_h(), l.out_w(), l.R, l.S, l.stride);
  return conv2d(l.N, l.K, l.C, l.out_h(), l.out_w(), l.R, l.S, l.stride);
}

/// Occurrence-weighted multiply-accumulates of a layer set.
inline double total_macs(const std::vector<conv_layer>& layers) {
  double total = 0;
  for (const auto& l : layers) total += l.macs() * static_cast<double>(l.count);
  return total;
}

namespace detail {

/// Appends `l`, or counts one more occurrence of an equal shape already there.
inline void add_layer(std::vector<conv_layer>& layers, conv_layer l) {
  for (auto& have : layers) {
    auto same = have;
    same.name = l.name;
    same.count = l.count;
    if (same == l) {
      have.count += l.count;
      return;
    }
  }
  layers.push_back(std::move(l));
}

}  // namespace detail

/// ResNet-50 (torchvision's v1.5: the stride of a downsampling bottleneck on its 3 x 3
/// convolution) at 224 x 224: the distinct shapes of its 53 convolutions and the classifier,
/// 4.09 GMACs per image in all.
inline std::vector<conv_layer> resnet50_layers(std::int64_t batch = 1) {
  check(batch >= 1, "frugal::search::resnet50_layers: batch ", batch, " must be positive");
  std::vector<conv_layer> layers;
  auto conv = [&](std::string name, std::int64_t cin, std::int64_t cout, std::int64_t size, std::int64_t r,
                  std::int64_t stride, std::int64_t pad) {
    conv_layer l{std::move(name), batch, cout, cin, size, size, r, r, stride, pad, false, 1};
    l.validate();
    detail::add_layer(layers, l);
    return l.out_h();
  };
  conv("conv1", 3, 64, 224, 7, 2, 3);
  std::int64_t size = 56, cin = 64;  // after the 3 x 3, stride-2 max pool
  const std::int64_t widths[] = {64, 128, 256, 512}, blocks[] = {3, 4, 6, 3};
  for (int stage = 0; stage < 4; ++stage) {
    for (std::int64_t b = 0; b < blocks[stage]; ++b) {
      const std::int64_t width = widths[stage], stride = (stage > 0 && b == 0) ? 2 : 1;
      const auto prefix = "layer" + std::to_string(stage + 1) + "." + std::to_string(b) + ".";
      conv(prefix + "conv1", cin, width, size, 1, 1, 0);
      const auto out = conv(prefix + "conv2", width, width, size, 3, stride, 1);
      conv(prefix + "conv3", width, 4 * width, out, 1, 1, 0);
      if (b == 0) conv(prefix + "downsample", cin, 4 * width, size, 1, stride, 0);
      cin = 4 * width;
      size = out;
    }
  }
  conv("fc", 2048, 1000, 1, 1, 1, 0);
  return layers;
}

/// MobileNet-V2 (width 1.0, torchvision) at 224 x 224: the distinct shapes of its 52
/// convolutions (17 of them depthwise) and the classifier, 300.8 MMACs per image in all.
inline std::vector<conv_layer> mobilenet_v2_layers(std::int64_t batch = 1) {
  check(batch >= 1, "frugal::search::mobilenet_v2_layers: batch ", batch, " must be positive");
  std::vector<conv_layer> layers;
  auto conv = [&](std::string name, std::int64_t cin, std::int64_t cout, std::int64_t size, std::int64_t r,
                  std::int64_t stride, std::int64_t pad, bool depthwise) {
    conv_layer l{std::move(name), batch, cout, cin, size, size, r, r, stride, pad, depthwise, 1};
    l.validate();
    detail::add_layer(layers, l);
    return l.out_h();
  };
  std::int64_t size = conv("features.0", 3, 32, 224, 3, 2, 1, false), cin = 32;
  // (expansion t, output channels c, repeats n, first stride s), the paper's table 2.
  const std::int64_t settings[7][4] = {{1, 16, 1, 1}, {6, 24, 2, 2},  {6, 32, 3, 2}, {6, 64, 4, 2},
                                       {6, 96, 3, 1}, {6, 160, 3, 2}, {6, 320, 1, 1}};
  int block = 1;
  for (const auto& s : settings) {
    for (std::int64_t i = 0; i < s[2]; ++i, ++block) {
      const std::int64_t hidden = cin * s[0], stride = i == 0 ? s[3] : 1;
      const auto prefix = "features." + std::to_string(block) + ".";
      if (s[0] != 1) conv(prefix + "expand", cin, hidden, size, 1, 1, 0, false);
      const auto out = conv(prefix + "depthwise", hidden, hidden, size, 3, stride, 1, true);
      conv(prefix + "project", hidden, s[1], out, 1, 1, 0, false);
      cin = s[1];
      size = out;
    }
  }
  conv("features.18", 320, 1280, size, 1, 1, 0, false);
  conv("classifier", 1280, 1000, 1, 1, 1, 0, false);
  return layers;
}

// ---------------------------------------------------------------------------------------------
// Whole-network cost

/// A callable that picks a mapping for a workload on a machine (default_mapper,
/// exhaustive_mapper, annealing_mapper, q_learning_mapper, or a user's).
template <class F>
concept Mapper = std::invocable<const F&, const gemm_workload&, const hardware_config&> &&
    std::convertible_to<std::invoke_result_t<const F&, const gemm_workload&, const hardware_config&>, mapping>;

/// A network's cost on one machine.
struct design_cost {
  bool valid = false;
  std::string why_invalid;  ///< names the first layer no mapping fits
  double cycles = 0, latency_s = 0, energy_j = 0;
  double power_w = 0;  ///< average: total energy / total latency
  double area_mm2 = 0;
  std::vector<mapping> mappings;              ///< per layer, in the order of `layers`
  std::vector<accelerator_cost> layer_costs;  ///< per layer, one occurrence
};

/// Costs `layers` run one after another on `hw`: each distinct layer mapped once by `mapper`,
/// its cycles and energy counted `count` times. Invalid (with the layer named) as soon as one
/// layer's mapping does not fit. Cost: one mapper call and one model call per distinct layer.
template <Mapper F>
design_cost evaluate_design(const hardware_config& hw, const std::vector<conv_layer>& layers, const F& mapper,
                            const cost_constants& constants = {}) {
  hw.validate();
  check(!layers.empty(), "frugal::search::evaluate_design: no layers");
  design_cost d;
  d.mappings.reserve(layers.size());
  d.layer_costs.reserve(layers.size());
  d.area_mm2 = accelerator_area_mm2(hw, constants);
  for (const auto& l : layers) {
    const auto w = lower_to_gemm(l);
    const mapping m = mapper(w, hw);
    auto c = evaluate(w, hw, m, constants);
    if (!c.valid) {
      d.why_invalid = "layer '" + l.name + "': " + c.why_invalid;
      return d;
    }
    d.cycles += static_cast<double>(l.count) * c.cycles;
    d.energy_j += static_cast<double>(l.count) * c.energy_j;
    d.mappings.push_back(m);
    d.layer_costs.push_back(std::move(c));
  }
  d.valid = true;
  d.latency_s = d.cycles / hw.clock_hz;
  d.power_w = d.energy_j / d.latency_s;
  return d;
}

}  // namespace frugal::search
