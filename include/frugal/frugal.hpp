#pragma once
/// \file
/// Umbrella header: every frugal module.

#include "admm.hpp"
#include "core.hpp"
#include "embedding.hpp"
#include "fpga.hpp"
#include "graph.hpp"
#include "io.hpp"
#include "nn.hpp"
#include "quantum.hpp"
#include "sparse.hpp"
#include "version.hpp"
