#pragma once
/// \file
/// Umbrella header of frugal/search: Gaussian processes, acquisitions, Pareto utilities, search
/// spaces, single- and multi-objective Bayesian optimisation, HASCO's hardware side (tensor IR and
/// intrinsic matching, the analytical accelerator model, mapping search, layer sets) and its
/// co-design driver. It needs LBFGS++ (`liblbfgspp-dev`), so `frugal/frugal.hpp` leaves it out.

#include "search/accelerator.hpp"
#include "search/acquisition.hpp"
#include "search/gp.hpp"
#include "search/hasco.hpp"
#include "search/mapping.hpp"
#include "search/measured.hpp"
#include "search/mobo.hpp"
#include "search/optimizer.hpp"
#include "search/pareto.hpp"
#include "search/space.hpp"
#include "search/tensor_ir.hpp"
#include "search/test_functions.hpp"
#include "search/warping.hpp"
#include "search/workloads.hpp"
