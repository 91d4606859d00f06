#!/usr/bin/env bash
# The whole test suite: installs what is missing (as root), builds the dev preset (or the preset
# named by --preset, e.g. asan) and runs ctest.
source "$(dirname "$0")/common.sh"
preset=dev
if [ "${1:-}" = "--preset" ]; then
  preset=$2
  shift 2
fi
frugal_setup
frugal_build "$preset"
cd "$FRUGAL_ROOT"
ctest --preset "$preset" "$@"
