#pragma once
/// \file
/// frugal/quantum: state-vector and density-matrix simulation with noise channels, measurement
/// and analysis.

#include "core.hpp"
#include "quantum/ansatz.hpp"
#include "quantum/calibration.hpp"
#include "quantum/channels.hpp"
#include "quantum/circuit.hpp"
#include "quantum/concepts.hpp"
#include "quantum/device.hpp"
#include "quantum/gates.hpp"
#include "quantum/gradients.hpp"
#include "quantum/kernels.hpp"
#include "quantum/measurement.hpp"
#include "quantum/noise_model.hpp"
#include "quantum/operations.hpp"
#include "quantum/registers.hpp"
#include "quantum/robuststate.hpp"
#include "quantum/simulate.hpp"
#include "quantum/types.hpp"
