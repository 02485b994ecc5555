#!/usr/bin/env bash
# Builds Jaeger (v2, the Collector-based all-in-one `jaeger` binary) from Go modules into
# .cache/jaeger/<hash>/ and prints the binary's path on the last line of stdout. The version is
# pinned by the tool dependency in scripts/jaeger/go.mod (go.sum locks every module).
# A no-op when that binary exists: the hash covers go.mod, go.sum, this script and the Go version.
# The binary has no Jaeger UI assets (they are not in the Go module); the e2e tests use its HTTP
# API only. JAEGER_CACHE_DIR (another cache) is for tests.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
MODULE="$ROOT/scripts/jaeger"
CACHE="${JAEGER_CACHE_DIR:-$ROOT/.cache/jaeger}"

command -v go >/dev/null || { echo "build-jaeger: 'go' is not on PATH; Jaeger is built from Go modules" >&2; exit 1; }

HASH="$( { cat "$MODULE/go.mod" "$MODULE/go.sum" "${BASH_SOURCE[0]}"; go env GOVERSION GOOS GOARCH; } | sha256sum | cut -c1-16)"
OUT="$CACHE/$HASH"
BIN="$OUT/jaeger"

if [[ -x "$BIN" && -f "$OUT/.complete" ]]; then
  echo "$BIN"
  exit 0
fi

mkdir -p "$CACHE"
# One build at a time (tests and CI may start several): wait for the lock, then look again.
exec 9>"$CACHE/.build.lock"
flock 9
if [[ -x "$BIN" && -f "$OUT/.complete" ]]; then
  echo "$BIN"
  exit 0
fi

# Build into a fresh folder, then mark it complete, so an interrupted build is never taken as done.
rm -rf "$OUT"
mkdir -p "$OUT"
start=$(date +%s)
echo "build-jaeger: building Jaeger into $OUT (takes many minutes when the Go caches are cold)" >&2
# -mod=readonly: the build fails rather than editing go.mod/go.sum. -trimpath: no local paths inside.
if ! (cd "$MODULE" && go build -mod=readonly -trimpath -o "$BIN.tmp" github.com/jaegertracing/jaeger/cmd/jaeger) >&2; then
  rm -rf "$OUT"
  echo "build-jaeger: go build failed (module $MODULE)" >&2
  exit 1
fi
mv "$BIN.tmp" "$BIN"
touch "$OUT/.complete"
echo "build-jaeger: built in $(( $(date +%s) - start )) s" >&2
echo "$BIN"
