#pragma once
/// \file
/// frugal/fpga: fixed-point models of the block-circulant and BCR kernels and generators of
/// synthesizable Verilog that computes exactly what the models compute.

#include "fpga/bcr_model.hpp"
#include "fpga/bcr_verilog.hpp"
#include "fpga/circulant_model.hpp"
#include "fpga/circulant_verilog.hpp"
#include "fpga/fixed_point.hpp"
