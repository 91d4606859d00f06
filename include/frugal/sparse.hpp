#pragma once
/// \file
/// frugal/sparse: BCR-sparse and block-circulant weight operators with fast kernels, weight
/// policies for nn::linear and nn::conv2d, and a BCR autotuner.

#include "sparse/bcr_autotune.hpp"
#include "sparse/bcr_group.hpp"
#include "sparse/bcr_kernels.hpp"
#include "sparse/bcr_matrix.hpp"
#include "sparse/bcr_pattern.hpp"
#include "sparse/bcr_reference.hpp"
#include "sparse/bcr_weight.hpp"
#include "sparse/block_circulant_matrix.hpp"
#include "sparse/circulant_weight.hpp"
#include "sparse/fft.hpp"
