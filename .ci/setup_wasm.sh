#!/usr/bin/env bash
# Installs the WASM plugin toolchains (Debian) and builds the example plugins:
#   plugins/wasm-example/plugin.wasm          (AssemblyScript, compiler from npm)
#   tests/fixtures/wasm/build/c-example.wasm  (clang, wasm32-wasi reactor)
#   tests/fixtures/wasm/build/rust-example.wasm (Debian rustc, wasm32-wasi cdylib)
# Idempotent and quiet; safe to run on a developer machine (needs root or sudo for apt-get).
set -euo pipefail
# shellcheck source=apt_install.sh
source "$(dirname "$0")/apt_install.sh"
cd "$(dirname "$0")/.."

packages=(clang lld wasi-libc libclang-rt-14-dev-wasm32 rustc libstd-rust-dev-wasm32)
apt_install setup_wasm "${packages[@]}"

if ! command -v deno >/dev/null 2>&1; then
  deno() { npx -y deno@2.9.6 "$@"; }
fi

mkdir -p tests/fixtures/wasm/build
deno run --allow-read --allow-write --allow-env plugins/wasm-example/build.ts >/dev/null
bash plugins/c-example/build.sh tests/fixtures/wasm/build/c-example.wasm
bash plugins/rust-example/build.sh tests/fixtures/wasm/build/rust-example.wasm
echo "setup_wasm: built AssemblyScript, C and Rust example plugins"
