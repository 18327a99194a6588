#!/usr/bin/env bash
# Builds the Rust example plugin: plugins/rust-example/build.sh [OUT.wasm]
# Uses Debian's rustc (/usr/bin/rustc with libstd-rust-dev-wasm32), not a rustup toolchain.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="${1:-$here/plugin.wasm}"
/usr/bin/rustc --target wasm32-wasi --crate-type cdylib --edition 2021 -O -C strip=debuginfo \
  -C link-arg=/usr/lib/wasm32-wasi/crt1-reactor.o -o "$out" "$here/plugin.rs"
