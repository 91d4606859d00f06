#pragma once
/// \file
/// Forwarding header: the click-log dataset moved to `frugal/io/click_data.hpp` (every dataset
/// reader and its data live in io). Its names stay reachable in `frugal::embedding`.

#include "../io/click_data.hpp"

namespace frugal::embedding {

using io::click_dataset;
using io::criteo_dense_features;
using io::criteo_sparse_features;

}  // namespace frugal::embedding
