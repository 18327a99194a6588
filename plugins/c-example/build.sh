#!/usr/bin/env bash
# Builds the C example plugin: plugins/c-example/build.sh [OUT.wasm]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="${1:-$here/plugin.wasm}"
clang --target=wasm32-wasi -O2 -mexec-model=reactor -Wl,--strip-debug -o "$out" "$here/plugin.c"
