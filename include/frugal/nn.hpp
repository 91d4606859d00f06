#pragma once
/// \file
/// frugal/nn: tensors, layers, losses, optimizers and the parameter registry.

#include "nn/adam_update.hpp"
#include "nn/concepts.hpp"
#include "nn/conv2d.hpp"
#include "nn/dense_weight.hpp"
#include "nn/flatten.hpp"
#include "nn/lenet5.hpp"
#include "nn/linear.hpp"
#include "nn/loss.hpp"
#include "nn/max_pool2d.hpp"
#include "nn/optimizer.hpp"
#include "nn/parameter.hpp"
#include "nn/relu.hpp"
#include "nn/sequential.hpp"
#include "nn/serialization.hpp"
#include "nn/tensor.hpp"
#include "nn/training.hpp"
