#!/usr/bin/env bash
# Builds the Go gRPC test peer (../shared/peers/grpc-go: `grpcpeer`, `grpcpeer-goclient`) that the
# gRPC plugin tests and bench/grpc_bench.ts talk to. Idempotent and quiet: installs the Debian Go
# toolchain and grpc-go only when missing, rebuilds only when a binary is missing or older than its
# source. The binaries go outside the repository and outside ../shared (which stays read-only):
# $GRPCPEER_DIR, default ${XDG_CACHE_HOME:-$HOME/.cache}/gatehouse/grpcpeer — the same default
# tests/plugins/grpc/peers.ts looks in.
set -euo pipefail
cd "$(dirname "$0")/.."

peer_src=../shared/peers/grpc-go
out=${GRPCPEER_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/gatehouse/grpcpeer}

if [ ! -f "$peer_src/build.sh" ]; then
  echo "setup_grpc: $peer_src/build.sh not found (is ../shared beside the checkout?)" >&2
  exit 1
fi

if ! command -v go >/dev/null 2>&1 || [ ! -d /usr/share/gocode/src/google.golang.org/grpc ]; then
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get -o DPkg::Lock::Timeout=600 update -qq >/dev/null
  $sudo apt-get -o DPkg::Lock::Timeout=600 install -y -qq golang-go golang-google-grpc-dev >/dev/null
fi

stale=0
for bin in grpcpeer grpcpeer-goclient; do
  if [ ! -x "$out/$bin" ]; then stale=1; fi
done
if [ "$stale" -eq 0 ] && [ -n "$(find "$peer_src" -name '*.go' -newer "$out/grpcpeer" -print -quit)" ]; then
  stale=1
fi
if [ "$stale" -eq 1 ]; then
  mkdir -p "$out"
  OUT="$out" sh "$peer_src/build.sh" >/dev/null
fi
echo "setup_grpc: $out/grpcpeer $out/grpcpeer-goclient"
