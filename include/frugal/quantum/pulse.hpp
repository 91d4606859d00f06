#pragma once
/// \file
/// frugal/quantum's pulse level: transmon devices, pulse schedules, Schrödinger and Lindblad
/// evolution with exact pulse gradients, calibration in simulation, and variational algorithms
/// with gate-level and native-pulse (NAPA) ansatzes. The backend-configuration reader is apart,
/// in `<frugal/quantum/pulse/configuration.hpp>` (it needs the JSON library), as are the H2 and
/// MaxCut Hamiltonians in `<frugal/quantum/molecules.hpp>`. NLopt's optimisers are available when
/// the target links `frugal::nlopt` (FRUGAL_HAVE_NLOPT).

#include "pulse/calibrate.hpp"
#include "pulse/device.hpp"
#include "pulse/evolve.hpp"
#include "pulse/optimize.hpp"
#include "pulse/schedule.hpp"
#include "pulse/vqe.hpp"
