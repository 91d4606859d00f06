#pragma once
/// \file
/// Umbrella header of frugal/search: Gaussian processes, acquisitions, Pareto utilities, search
/// spaces, single- and multi-objective Bayesian optimisation, and HASCO's hardware side (tensor IR
/// and intrinsic matching, the analytical accelerator model, mapping search, layer sets). It needs
/// LBFGS++ (`liblbfgspp-dev`), so `frugal/frugal.hpp` leaves it out.

#include "search/accelerator.hpp"
#include "search/acquisition.hpp"
#include "search/gp.hpp"
#include "search/mapping.hpp"
#include "search/mobo.hpp"
#include "search/optimizer.hpp"
#include "search/pareto.hpp"
#include "search/space.hpp"
#include "search/tensor_ir.hpp"
#include "search/warping.hpp"
#include "search/workloads.hpp"
