#!/bin/sh
# Builds the Go process plugin example from Debian-packaged Go libraries in GOPATH mode, as
# ../shared/peers/grpc-go/build.sh does: the Go module proxy is not reachable from CI.
# Prereq (root): apt-get install -y golang-go golang-github-vmihailenco-msgpack.v5-dev
# Output: $OUT/guard, default plugins/process-go-example/bin/guard (gitignored).
set -e
here=$(cd "$(dirname "$0")" && pwd)
OUT=${OUT:-$here/bin}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$OUT" "$work/src/guard"
cp "$here"/*.go "$work/src/guard/"
export GO111MODULE=off GOPATH=/usr/share/gocode:$work GOCACHE=$work/.gocache GOFLAGS=
cd "$work/src/guard"
go build -o "$OUT/guard" .
echo "built $OUT/guard"
