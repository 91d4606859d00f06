#!/usr/bin/env bash
# The whole test suite: installs what is missing (as root), builds the dev preset (or the preset
# named by --preset, e.g. asan) and runs ctest.
source "$(dirname "$0")/common.sh"
preset=dev
if [ "${1:-}" = "--preset" ]; then
  preset=$2
  shift 2
fi
# Optional packages, installed where this script can install (as root, as in CI) so that what
# needs them runs there: matplotlib for the plot tests (the example figures; elsewhere they skip),
# Open MPI for the MPI transport's tests, METIS for graph partitioning and pagmo for the NSGA-II
# baselines of the search examples, Verilator for the fpga module's hardware simulation, Boost
# for the pulse level's adaptive integrator (Odeint) (elsewhere what needs them is not built or
# skips).
if [ "$(id -u)" -eq 0 ]; then
  frugal_setup python3-matplotlib libopenmpi-dev openmpi-bin libmetis-dev libpagmo-dev verilator libboost-dev
else
  frugal_setup
fi
frugal_build "$preset"
cd "$FRUGAL_ROOT"
ctest --preset "$preset" "$@"
