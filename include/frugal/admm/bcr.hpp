#pragma once
/// \file
/// BCR (block-based column-row) sparsity as an ADMM projection. The pattern types and their
/// selection live in `frugal/sparse/bcr_pattern.hpp` (sparse owns the format its kernels
/// execute); this header names them in `frugal::admm`, where ADMM's other projections are.

#include "../sparse/bcr_pattern.hpp"
#include "concepts.hpp"
#include "sparsity.hpp"

namespace frugal::admm {

using sparse::bcr_block;
using sparse::bcr_pattern;
using sparse::bcr_sparsity;

static_assert(SparsityProjectionOn<bcr_sparsity, float, default_host_space>);

}  // namespace frugal::admm
