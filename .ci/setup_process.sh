#!/usr/bin/env bash
# Builds the Go process plugin example (plugins/process-go-example) that
# tests/plugins/process/examples_test.ts runs. Idempotent and quiet: installs the Debian Go toolchain
# and msgpack library only when missing (the Go module proxy is not reachable from CI, so the
# build is GOPATH mode over /usr/share/gocode), rebuilds only when the binary is missing or older
# than its source. The binary goes to plugins/process-go-example/bin/guard (gitignored), where the
# test and the dev config look for it.
set -euo pipefail
cd "$(dirname "$0")/.."

src=plugins/process-go-example
bin=$src/bin/guard

if ! command -v go >/dev/null 2>&1 ||
  [ ! -d /usr/share/gocode/src/github.com/vmihailenco/msgpack/v5 ]; then
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get -o DPkg::Lock::Timeout=600 update -qq >/dev/null
  $sudo apt-get -o DPkg::Lock::Timeout=600 install -y -qq golang-go \
    golang-github-vmihailenco-msgpack.v5-dev >/dev/null
fi

if [ ! -x "$bin" ] || [ -n "$(find "$src" -name '*.go' -newer "$bin" -print -quit)" ]; then
  sh "$src/build.sh" >/dev/null
fi
echo "setup_process: $bin"
