#!/usr/bin/env bash
# Regenerates the committed man pages and shell completions from the tools' own option
# tables (`sds-x --generate man|bash|zsh|fish`). Usage: scripts/gen-docs.sh [BUILD_DIR]
# tests/cli/test_docs.py fails when the committed files are stale.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build/release}
mkdir -p "$root/man" "$root/completions/bash" "$root/completions/zsh" "$root/completions/fish"
for bin in "$build"/sds-*; do
  [[ -x $bin && -f $bin ]] || continue
  t=$(basename "$bin")
  "$bin" --generate man > "$root/man/$t.1"
  "$bin" --generate bash > "$root/completions/bash/$t"
  "$bin" --generate zsh > "$root/completions/zsh/_$t"
  "$bin" --generate fish > "$root/completions/fish/$t.fish"
done
