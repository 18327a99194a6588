#!/usr/bin/env bash
# Installs the WASM plugin toolchains (Debian) and builds the example plugins:
#   plugins/wasm-example/plugin.wasm          (AssemblyScript, compiler from npm)
#   tests/fixtures/wasm/build/c-example.wasm  (clang, wasm32-wasi reactor)
#   tests/fixtures/wasm/build/rust-example.wasm (Debian rustc, wasm32-wasi cdylib)
# Idempotent and quiet; safe to run on a developer machine (needs root or sudo for apt-get).
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(clang lld wasi-libc libclang-rt-14-dev-wasm32 rustc libstd-rust-dev-wasm32)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "setup_wasm: installing ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null
fi

if ! command -v deno >/dev/null 2>&1; then
  deno() { npx -y deno@2.9.6 "$@"; }
fi

mkdir -p tests/fixtures/wasm/build
deno run --allow-read --allow-write --allow-env plugins/wasm-example/build.ts >/dev/null
bash plugins/c-example/build.sh tests/fixtures/wasm/build/c-example.wasm
bash plugins/rust-example/build.sh tests/fixtures/wasm/build/rust-example.wasm
echo "setup_wasm: built AssemblyScript, C and Rust example plugins"
