#pragma once
/// \file
/// LeNet-5 (LeCun et al. 1998) for 28x28 single-channel images, with ReLU and max pooling as
/// in modern reproductions: conv 5x5 (6, padding 2) → pool 2 → conv 5x5 (16) → pool 2 →
/// fc 400→120 → fc 120→84 → fc 84→10. Input NHWC (n, 28, 28, 1). 61,706 parameters. Also the
/// Caffe variant that the ADMM-NN papers prune (`make_lenet5_caffe`, 431,080 parameters).

#include <cstdint>

#include "conv2d.hpp"
#include "flatten.hpp"
#include "linear.hpp"
#include "max_pool2d.hpp"
#include "relu.hpp"
#include "sequential.hpp"

namespace frugal::nn {

/// The LeNet-5 type with pluggable weight policies for its convolutions and its fully connected
/// layers. Parameters: "0.*" conv1, "3.*" conv2, "7.*" fc1, "9.*" fc2, "11.*" fc3.
template <Scalar S, class ConvPolicy = dense_weight<S>, class LinearPolicy = dense_weight<S>,
          HostExecutionSpace Exec = default_host_space>
using lenet5 = sequential<conv2d<S, ConvPolicy, Exec>, relu<S, Exec>, max_pool2d<S, Exec>, conv2d<S, ConvPolicy, Exec>,
                          relu<S, Exec>, max_pool2d<S, Exec>, flatten<S, Exec>, linear<S, LinearPolicy, Exec>,
                          relu<S, Exec>, linear<S, LinearPolicy, Exec>, relu<S, Exec>, linear<S, LinearPolicy, Exec>>;

/// A dense LeNet-5 initialised from `seed` (PyTorch's default initialisation rule).
template <Scalar S, HostExecutionSpace Exec = default_host_space>
[[nodiscard]] lenet5<S, dense_weight<S>, dense_weight<S>, Exec> make_lenet5(std::uint64_t seed,
                                                                            const Exec& exec = Exec{}) {
  lenet5<S, dense_weight<S>, dense_weight<S>, Exec> model(
      conv2d<S, dense_weight<S>, Exec>({.in_channels = 1, .out_channels = 6, .kernel = 5, .stride = 1, .padding = 2},
                                       exec),
      relu<S, Exec>(exec), max_pool2d<S, Exec>(2, 2, exec),
      conv2d<S, dense_weight<S>, Exec>({.in_channels = 6, .out_channels = 16, .kernel = 5, .stride = 1, .padding = 0},
                                       exec),
      relu<S, Exec>(exec), max_pool2d<S, Exec>(2, 2, exec), flatten<S, Exec>(exec),
      linear<S, dense_weight<S>, Exec>(400, 120, exec), relu<S, Exec>(exec),
      linear<S, dense_weight<S>, Exec>(120, 84, exec), relu<S, Exec>(exec),
      linear<S, dense_weight<S>, Exec>(84, 10, exec));
  rng gen(seed);
  model.reset_parameters(gen);
  return model;
}

/// The LeNet-5 of Caffe's MNIST example, the network the ADMM-NN papers prune (and Han et al.'s
/// "LeNet-5"): conv 5x5 (20, no padding) → pool 2 → conv 5x5 (50) → pool 2 → fc 800→500 → ReLU
/// → fc 500→10, with no ReLU after the convolutions, as in Caffe's `lenet_train_test.prototxt`.
/// Input NHWC (n, 28, 28, 1). 431,080 parameters (430,500 weights). Parameters: "0.*" conv1,
/// "2.*" conv2, "5.*" fc1, "7.*" fc2.
template <Scalar S, class ConvPolicy = dense_weight<S>, class LinearPolicy = dense_weight<S>,
          HostExecutionSpace Exec = default_host_space>
using lenet5_caffe =
    sequential<conv2d<S, ConvPolicy, Exec>, max_pool2d<S, Exec>, conv2d<S, ConvPolicy, Exec>, max_pool2d<S, Exec>,
               flatten<S, Exec>, linear<S, LinearPolicy, Exec>, relu<S, Exec>, linear<S, LinearPolicy, Exec>>;

/// A dense Caffe LeNet-5 initialised from `seed` (PyTorch's default initialisation rule; Caffe's
/// example uses Xavier, which differs only in the uniform bound).
template <Scalar S, HostExecutionSpace Exec = default_host_space>
[[nodiscard]] lenet5_caffe<S, dense_weight<S>, dense_weight<S>, Exec> make_lenet5_caffe(std::uint64_t seed,
                                                                                        const Exec& exec = Exec{}) {
  lenet5_caffe<S, dense_weight<S>, dense_weight<S>, Exec> model(
      conv2d<S, dense_weight<S>, Exec>({.in_channels = 1, .out_channels = 20, .kernel = 5, .stride = 1, .padding = 0},
                                       exec),
      max_pool2d<S, Exec>(2, 2, exec),
      conv2d<S, dense_weight<S>, Exec>({.in_channels = 20, .out_channels = 50, .kernel = 5, .stride = 1, .padding = 0},
                                       exec),
      max_pool2d<S, Exec>(2, 2, exec), flatten<S, Exec>(exec), linear<S, dense_weight<S>, Exec>(800, 500, exec),
      relu<S, Exec>(exec), linear<S, dense_weight<S>, Exec>(500, 10, exec));
  rng gen(seed);
  model.reset_parameters(gen);
  return model;
}

}  // namespace frugal::nn
