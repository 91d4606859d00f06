# Shared by scripts/demo.sh, scripts/test.sh and scripts/bench.sh: makes sure the Debian packages
# frugal needs are installed, then configures and builds one CMake preset.
# Usage (sourced): frugal_setup PRESET [extra packages...]; frugal_build PRESET [targets...]
set -euo pipefail

FRUGAL_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
FRUGAL_PACKAGES=(cmake ninja-build g++ pkg-config libeigen3-dev libxsimd-dev xtl-dev libtrilinos-kokkos-dev doctest-dev
                 libfftw3-dev libcli11-dev zlib1g-dev nlohmann-json3-dev libmetis-dev liblbfgspp-dev libnlopt-dev dataset-fashion-mnist)

frugal_missing_packages() {
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  echo "${missing[@]:-}"
}

frugal_setup() {
  local extra=("$@")
  local missing
  missing=$(frugal_missing_packages "${FRUGAL_PACKAGES[@]}" "${extra[@]}")
  if [ -n "${missing// /}" ]; then
    if [ "$(id -u)" -eq 0 ]; then
      echo "frugal: installing Debian packages: $missing"
      export DEBIAN_FRONTEND=noninteractive
      apt-get update -qq
      # shellcheck disable=SC2086
      apt-get install -y -qq --no-install-recommends $missing
    else
      echo "frugal: missing Debian packages. Run as root:"
      echo "  sudo apt-get install -y --no-install-recommends $missing"
      exit 1
    fi
  fi
}

# Presets built against the OpenMP Kokkos that scripts/kokkos_openmp.sh builds once per machine.
frugal_preset_needs_openmp() {
  case "$1" in openmp | release) return 0 ;; *) return 1 ;; esac
}

frugal_build() {
  local preset=$1
  shift
  local extra=()
  command -v ccache >/dev/null 2>&1 && extra=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  if frugal_preset_needs_openmp "$preset"; then
    local kokkos
    kokkos=$("$FRUGAL_ROOT/scripts/kokkos_openmp.sh")
    extra+=("-DKokkos_ROOT=$kokkos")
  fi
  cd "$FRUGAL_ROOT"
  cmake --preset "$preset" "${extra[@]}" >/dev/null
  if [ $# -gt 0 ]; then
    cmake --build --preset "$preset" --target "$@"
  else
    cmake --build --preset "$preset"
  fi
}
