#!/usr/bin/env bash
# Builds the OpenTelemetry Collector described by scripts/otelcol-builder.yaml with the collector
# builder (ocb) into .cache/otelcol/<hash>/ and prints the binary's path on the last line of stdout
# (always named otelcol-span-profiler there, whatever the manifest's dist.name).
# A no-op when that binary exists: the hash covers the manifest, this script and the Go version, so
# editing any of them builds a fresh Collector next to the old one.
# OTELCOL_BUILDER_CONFIG (another manifest) and OTELCOL_CACHE_DIR (another cache) are for tests.
set -euo pipefail

BUILDER_VERSION=v0.165.0
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
MANIFEST="${OTELCOL_BUILDER_CONFIG:-$ROOT/scripts/otelcol-builder.yaml}"
CACHE="${OTELCOL_CACHE_DIR:-$ROOT/.cache/otelcol}"

command -v go >/dev/null || { echo "build-collector: 'go' is not on PATH; the Collector is built from Go modules" >&2; exit 1; }

HASH="$( { cat "$MANIFEST" "${BASH_SOURCE[0]}"; go env GOVERSION GOOS GOARCH; } | sha256sum | cut -c1-16)"
OUT="$CACHE/$HASH"
BIN="$OUT/otelcol-span-profiler"

if [[ -x "$BIN" && -f "$OUT/.complete" ]]; then
  echo "$BIN"
  exit 0
fi

mkdir -p "$CACHE/bin"
# One build at a time (tests and CI may start several): wait for the lock, then look again.
exec 9>"$CACHE/.build.lock"
flock 9
if [[ -x "$BIN" && -f "$OUT/.complete" ]]; then
  echo "$BIN"
  exit 0
fi

BUILDER="$CACHE/bin/builder-$BUILDER_VERSION"
if [[ ! -x "$BUILDER" ]]; then
  echo "build-collector: installing go.opentelemetry.io/collector/cmd/builder@$BUILDER_VERSION" >&2
  tmp_bin="$(mktemp -d)"
  GOBIN="$tmp_bin" go install "go.opentelemetry.io/collector/cmd/builder@$BUILDER_VERSION" >&2
  mv "$tmp_bin/builder" "$BUILDER"
  rmdir "$tmp_bin"
fi

# Build into a fresh folder, then mark it complete, so an interrupted build is never taken as done.
rm -rf "$OUT"
mkdir -p "$OUT"
sed "s|^dist:|dist:\n  output_path: $OUT/src|" "$MANIFEST" > "$OUT/manifest.yaml"
start=$(date +%s)
echo "build-collector: building the Collector into $OUT (takes minutes when the Go module cache is cold)" >&2
if ! "$BUILDER" --config "$OUT/manifest.yaml" >&2; then
  rm -rf "$OUT"
  echo "build-collector: the collector builder failed (manifest $MANIFEST)" >&2
  exit 1
fi
# The builder names the binary after the manifest's dist.name; whatever that is, it is the one
# executable file the builder leaves in output_path (beside its generated Go sources).
built=()
while IFS= read -r -d '' file; do built+=("$file"); done < <(find "$OUT/src" -maxdepth 1 -type f -perm -u+x -print0)
if [[ ${#built[@]} -ne 1 ]]; then
  echo "build-collector: expected one executable in $OUT/src after the build, found ${#built[@]}: ${built[*]:-none}" >&2
  rm -rf "$OUT"
  exit 1
fi
mv "${built[0]}" "$BIN"
touch "$OUT/.complete"
rm -rf "$OUT/src"
echo "build-collector: built in $(( $(date +%s) - start )) s" >&2
echo "$BIN"
