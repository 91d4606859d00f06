#!/usr/bin/env bash
# The main demo: installs what is missing (as root), builds the release preset and trains LeNet-5
# on Fashion-MNIST. Extra arguments go to the demo (try --help, or --epochs 1).
source "$(dirname "$0")/common.sh"
frugal_setup
frugal_build release lenet5_fashion_mnist
mkdir -p "$FRUGAL_ROOT/build/release/runs"
cd "$FRUGAL_ROOT/build/release/runs"
exec "$FRUGAL_ROOT/build/release/examples/lenet5_fashion_mnist/lenet5_fashion_mnist" "$@"
