#!/usr/bin/env bash
# Benchmarks: installs what is missing (as root; PyTorch for the baselines), builds the release
# preset and runs every benchmark, or those whose names contain the first argument.
source "$(dirname "$0")/common.sh"
frugal_setup python3-torch
frugal_build release
cd "$FRUGAL_ROOT/build/release"
for b in bench/*/bench_*; do
  [ -x "$b" ] || continue
  case "$b" in *"${1:-}"*) echo "== $b"; "$b" ;; esac
done
