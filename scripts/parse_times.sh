#!/usr/bin/env bash
# How long the compiler takes to parse each module header and the umbrella (g++ -fsyntax-only, the
# dev flags without optimisation: what an edit-compile cycle pays per translation unit before any
# code generation). Prints a Markdown table; with --check, fails when a module header takes more
# than 10 s or frugal.hpp more than 15 s (the goals in docs/getting-started.md).
# Usage: scripts/parse_times.sh [--check] [--runs N]
set -euo pipefail
cd "$(dirname "$0")/.."
check=0
runs=3
while [ $# -gt 0 ]; do
  case "$1" in
    --check) check=1 ;;
    --runs) runs=$2; shift ;;
    *) echo "usage: $0 [--check] [--runs N]" >&2; exit 2 ;;
  esac
  shift
done
cxx=${CXX:-g++}
flags=(-std=c++20 -fsyntax-only -Iinclude -I/usr/include/eigen3 -isystem /usr/include/trilinos)
headers=(core.hpp io.hpp nn.hpp sparse.hpp admm.hpp embedding.hpp graph.hpp quantum.hpp fpga.hpp frugal.hpp)
echo "| header | parse time, median of $runs (s) | goal (s) |"
echo "|---|---|---|"
failed=0
for h in "${headers[@]}"; do
  times=()
  for ((r = 0; r < runs; ++r)); do
    start=$(date +%s.%N)
    echo "#include <frugal/$h>" | "$cxx" "${flags[@]}" -x c++ -
    end=$(date +%s.%N)
    times+=("$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.3f", b - a }')")
  done
  median=$(printf '%s\n' "${times[@]}" | sort -g | sed -n "$(((runs + 1) / 2))p")
  goal=10
  [ "$h" = frugal.hpp ] && goal=15
  printf '| `frugal/%s` | %.1f | %s |\n' "$h" "$median" "$goal"
  if awk -v m="$median" -v g="$goal" 'BEGIN { exit !(m > g) }'; then failed=1; fi
done
if [ "$check" -eq 1 ] && [ "$failed" -eq 1 ]; then
  echo "parse_times: a header is over its goal" >&2
  exit 1
fi
