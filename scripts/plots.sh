#!/usr/bin/env bash
# Draws every example figure whose CSV is in the given folders (searched recursively): each
# examples/<example>/plot.py runs on its CSV and writes <example>.png beside it.
# Usage: scripts/plots.sh OUT_DIR...        e.g. scripts/plots.sh admm_lenet5_out build/dev/examples
# Python: $PYTHON, else the first of python3 and /usr/bin/python3 that imports matplotlib.
# Exits 77 when none does, 1 when a folder holds no example CSV or a script fails.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
if [ $# -eq 0 ]; then
  echo "usage: $0 OUT_DIR..." >&2
  exit 2
fi
# The CSV each plot.py reads (robuststate's figure comes from its per-step curves).
declare -A script_for=(
  [admm_lenet5.csv]=admm_lenet5
  [compressed_lenet5.csv]=compressed_lenet5
  [fiited_dlrm.csv]=fiited_dlrm
  [robuststate_curves.csv]=robuststate
)
python=${PYTHON:-}
if [ -z "$python" ]; then
  for candidate in python3 /usr/bin/python3; do
    if "$candidate" -c "import matplotlib" >/dev/null 2>&1; then
      python=$candidate
      break
    fi
  done
fi
if [ -z "$python" ]; then
  echo "plots.sh: no python3 with matplotlib; install it with: apt-get install python3-matplotlib"
  exit 77
fi
found=0
failed=0
for dir in "$@"; do
  if [ ! -d "$dir" ]; then
    echo "plots.sh: $dir is not a folder" >&2
    failed=$((failed + 1))
    continue
  fi
  while IFS= read -r -d '' csv; do
    found=$((found + 1))
    "$python" "$root/examples/${script_for[$(basename "$csv")]}/plot.py" "$csv" || failed=$((failed + 1))
  done < <(find "$dir" -type f \( -name admm_lenet5.csv -o -name compressed_lenet5.csv -o -name fiited_dlrm.csv \
    -o -name robuststate_curves.csv \) -print0 | sort -z)
done
if [ "$found" -eq 0 ]; then
  echo "plots.sh: no example CSV (${!script_for[*]}) under $*" >&2
  exit 1
fi
[ "$failed" -eq 0 ]
