#!/usr/bin/env bash
# Runs the install-and-consume commands of docs/getting-started.md exactly as written: every fenced
# block preceded by `<!-- docs-test: NAME ... -->` is extracted; NAME ending in .sh is a command
# block, anything else a file of the consumer project. HOME is a scratch folder, so `$HOME/.local`
# in the docs is a fresh prefix. Usage: docs_commands.sh <frugal source dir> <scratch dir>
set -euo pipefail
src=$(cd "$1" && pwd)
work=$2
rm -rf "$work"
mkdir -p "$work/home" "$work/blocks"
export HOME="$work/home"
doc="$src/docs/getting-started.md"

# Extract the tagged blocks: the first fence after a tag opens the block, the next one closes it.
awk -v out="$work/blocks" '
  /^<!-- docs-test: / { name = $3; want = 1; next }
  want && /^```/ { if (inside) { inside = 0; want = 0; close(out "/" file) } else { inside = 1; file = name; gsub("/", "__", file); printf "" > (out "/" file) } next }
  inside { print >> (out "/" file) }
' "$doc"
for block in install.sh my_app__CMakeLists.txt my_app__main.cpp consumer.sh; do
  [ -s "$work/blocks/$block" ] || { echo "docs_commands: block '$block' missing from $doc" >&2; exit 1; }
done
mkdir -p "$HOME/my_app"
cp "$work/blocks/my_app__CMakeLists.txt" "$HOME/my_app/CMakeLists.txt"
cp "$work/blocks/my_app__main.cpp" "$HOME/my_app/main.cpp"

echo "== install.sh (in $src)"
cat "$work/blocks/install.sh"
(cd "$src" && bash -euo pipefail "$work/blocks/install.sh")
echo "== consumer.sh (in $HOME)"
cat "$work/blocks/consumer.sh"
output=$(cd "$HOME" && bash -euo pipefail "$work/blocks/consumer.sh")
echo "$output"
grep -q "output 8 x 2" <<<"$output" || { echo "docs_commands: the consumer did not print 'output 8 x 2'" >&2; exit 1; }
echo "docs_commands: the documented install and consumer build work as written"
