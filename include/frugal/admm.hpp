#pragma once
/// \file
/// frugal/admm: Euclidean projections for pruning and quantization, the ADMM-NN driver,
/// magnitude pruning, storage accounting and a compact model format.

#include "admm/allocation.hpp"
#include "admm/bcr.hpp"
#include "admm/block_circulant.hpp"
#include "admm/composition.hpp"
#include "admm/compressed.hpp"
#include "admm/concepts.hpp"
#include "admm/driver.hpp"
#include "admm/fine_tune.hpp"
#include "admm/magnitude.hpp"
#include "admm/quantization.hpp"
#include "admm/quantized_matrix.hpp"
#include "admm/sparsity.hpp"
#include "admm/storage.hpp"
