#!/usr/bin/env bash
# Builds Kokkos and Kokkos Kernels with the OpenMP (and Serial) back ends from Debian's own
# `trilinos` source package into a per-machine cache, once; later calls only print the prefix.
# Debian's binary packages (libtrilinos-kokkos-dev) are Serial-only, so this is how frugal's
# `openmp` preset gets a genuinely parallel host space.
#
# Usage: scripts/kokkos_openmp.sh            builds if needed, prints the install prefix
#        FRUGAL_KOKKOS_OPENMP=DIR ...        installs into DIR instead of the default cache
#
# Default prefix: ${XDG_CACHE_HOME:-$HOME/.cache}/frugal/kokkos-3.4.1-openmp (the openmp preset
# looks there). Needs a deb-src entry for `apt-get source`; run as root, the script derives one
# from the machine's own apt source file.
set -euo pipefail

prefix=${FRUGAL_KOKKOS_OPENMP:-${XDG_CACHE_HOME:-$HOME/.cache}/frugal/kokkos-3.4.1-openmp}
if [ -f "$prefix/.frugal-complete" ]; then
  echo "$prefix"
  exit 0
fi

log() { echo "frugal: $*" >&2; }

# Tools the build needs (also installed by scripts/common.sh for the other presets).
need=()
for p in cmake ninja-build g++ dpkg-dev; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    log "missing Debian packages; run as root: apt-get install -y --no-install-recommends ${need[*]}"
    exit 1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >&2
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/frugal-kokkos.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work"

# A deb-src entry derived from the machine's existing apt sources (no mirror address is written
# here): deb822 files get a copy with "Types: deb-src", one-line files a copy with "deb-src".
has_deb_src() {
  grep -rqsE '^(Types:.*deb-src|deb-src )' /etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null
}
if ! has_deb_src; then
  if [ "$(id -u)" -ne 0 ]; then
    log "apt has no deb-src entry; as root, add one mirroring your 'deb' lines, run apt-get update, then rerun"
    exit 1
  fi
  if [ -f /etc/apt/sources.list.d/debian.sources ]; then
    sed 's/^Types: deb$/Types: deb-src/' /etc/apt/sources.list.d/debian.sources \
      > /etc/apt/sources.list.d/frugal-deb-src.sources
  elif [ -f /etc/apt/sources.list ]; then
    grep -E '^deb ' /etc/apt/sources.list | sed 's/^deb /deb-src /' > /etc/apt/sources.list.d/frugal-deb-src.list
  else
    log "no apt source file found to derive a deb-src entry from"
    exit 1
  fi
  log "added a deb-src entry derived from the system's apt sources"
  apt-get update -qq >&2
fi

log "downloading Debian's trilinos source package (Kokkos and Kokkos Kernels live inside it)"
if ! apt-get source --download-only trilinos >&2 2>"$work/apt.err"; then
  # A deb-src entry may exist without its index: refresh once.
  if [ "$(id -u)" -eq 0 ]; then apt-get update -qq >&2; fi
  apt-get source --download-only trilinos >&2
fi
orig=$(ls trilinos_*.orig.tar.* | head -n 1)
tar xf "$orig" --wildcards '*/packages/kokkos/*' '*/packages/kokkos-kernels/*'
src=$(ls -d */packages | head -n 1)

jobs=$(nproc)
log "building Kokkos (Serial + OpenMP) into $prefix"
cmake -S "$src/kokkos" -B build-kokkos -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_INSTALL_PREFIX="$prefix" -DCMAKE_CXX_STANDARD=17 -DCMAKE_CXX_EXTENSIONS=OFF \
  -DCMAKE_POSITION_INDEPENDENT_CODE=ON -DKokkos_ENABLE_SERIAL=ON -DKokkos_ENABLE_OPENMP=ON \
  -DKokkos_ENABLE_TESTS=OFF -DKokkos_ENABLE_EXAMPLES=OFF >&2
cmake --build build-kokkos -j "$jobs" >&2
cmake --install build-kokkos >&2

# Without explicit template instantiation the library is a few files and the kernels are
# instantiated where frugal uses them, so this takes minutes instead of hours.
log "building Kokkos Kernels (no explicit instantiation) into $prefix"
cmake -S "$src/kokkos-kernels" -B build-kernels -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_INSTALL_PREFIX="$prefix" -DKokkos_ROOT="$prefix" -DCMAKE_CXX_EXTENSIONS=OFF \
  -DCMAKE_POSITION_INDEPENDENT_CODE=ON -DKokkosKernels_ADD_DEFAULT_ETI=OFF \
  -DKokkosKernels_INST_DOUBLE=OFF -DKokkosKernels_INST_FLOAT=OFF \
  -DKokkosKernels_INST_ORDINAL_INT=OFF -DKokkosKernels_INST_OFFSET_INT=OFF -DKokkosKernels_INST_OFFSET_SIZE_T=OFF \
  -DKokkosKernels_INST_LAYOUTLEFT=OFF -DKokkosKernels_ENABLE_TESTS=OFF -DKokkosKernels_ENABLE_EXAMPLES=OFF \
  -DKokkosKernels_ENABLE_PERFTESTS=OFF >&2
cmake --build build-kernels -j "$jobs" >&2
cmake --install build-kernels >&2

touch "$prefix/.frugal-complete"
log "Kokkos with OpenMP installed in $prefix"
echo "$prefix"
