#!/usr/bin/env bash
# Run by `npm test` (as its pretest step): what the full test suite needs besides npm packages, and
# the Go binaries its end-to-end suites run, built here so that no test waits minutes on a build.
# - Go (required): the OpenTelemetry Collector and Jaeger are built from Go modules into .cache/
#   (scripts/build-collector.sh, scripts/build-jaeger.sh); cached, each returns at once. A cold
#   build prints a progress line every PROGRESS_SECONDS (default 20) while it runs.
# - Chromium (optional): the viewer's browser tests skip themselves without it, and say so here.
# The wire tests' independent decoder, buf, is an npm devDependency: `npm ci` installs it.
# Installs nothing and asks nothing. `npm run test:unit` needs none of this (only `npm ci`).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PROGRESS_SECONDS=${PROGRESS_SECONDS:-20}
UNIT_HINT="npm run test:unit runs every suite that needs neither Go nor a browser"

say() { echo "test prerequisites: $*" >&2; }

if ! command -v go >/dev/null; then
  say "Go is missing. The end-to-end tests build the OpenTelemetry Collector and Jaeger from Go"
  say "  modules; install Go 1.26 or newer (https://go.dev/dl/, or your package manager) and rerun."
  say "  ($UNIT_HINT.)"
  exit 1
fi
# The Collector v0.165 modules need Go 1.26 (Jaeger's, 1.24.6). An older go fetches a 1.26
# toolchain from the Go module proxy by itself unless GOTOOLCHAIN=local forbids it.
GO_VERSION="$(go env GOVERSION)"
if [[ $GO_VERSION =~ ^go1\.([0-9]+) ]] && ((BASH_REMATCH[1] < 26)); then
  if [[ $(go env GOTOOLCHAIN) == local ]]; then
    say "$GO_VERSION is too old and GOTOOLCHAIN=local: the Collector's modules need Go 1.26 or newer ($UNIT_HINT)."
    exit 1
  fi
  say "$GO_VERSION is older than the Go 1.26 the Collector's modules need: go fetches that toolchain itself."
fi

# The browser suite (test/viewer/browser.test.ts) looks for the same file.
CHROMIUM="${CHROMIUM_PATH:-/usr/bin/chromium}"
if [[ ! -x $CHROMIUM ]]; then
  say "Chromium ($CHROMIUM) is not installed: the viewer's browser tests will be skipped"
  say "  (optional; Debian/Ubuntu: apt-get install chromium, or CHROMIUM_PATH=<a Chromium binary>)."
fi

# Runs scripts/<script> (which prints the binary's path last), printing every PROGRESS_SECONDS how
# long it has run and what Go is doing (GOFLAGS=-v makes go build name each package it compiles).
build() {
  local what=$1 script=$2
  local log out status=0 start elapsed pid
  log="$(mktemp)"
  out="$(mktemp)"
  start=$(date +%s)
  GOFLAGS="${GOFLAGS:+$GOFLAGS }-v" bash "$ROOT/scripts/$script" >"$out" 2>"$log" &
  pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    for ((i = 0; i < PROGRESS_SECONDS * 2; i++)); do
      kill -0 "$pid" 2>/dev/null || break 2
      sleep 0.5
    done
    elapsed=$(($(date +%s) - start))
    local modules cache_mb packages last
    # What the Go caches hold (the builder runs go quietly, so its log alone may say nothing for minutes).
    modules=$(find "$GO_MODCACHE/cache/download" -name '*.zip' 2>/dev/null | wc -l)
    cache_mb=$(du -sm "$GO_BUILDCACHE" 2>/dev/null | cut -f1)
    packages=$(grep -Ec '^[A-Za-z0-9_.-]+(/[^ ]+)?$' "$log" || true)
    last=$( (grep -Ev '^\s*$' "$log" || true) | tail -1 | cut -c1-100)
    local built=""
    if ((packages > 0)); then built=", $packages packages built (go -v)"; fi
    say "building $what (first run only, cached in .cache/): $((elapsed / 60)) min $((elapsed % 60)) s;" \
      "Go caches: $modules modules, ${cache_mb:-0} MB compiled$built; last output: ${last:-none yet}"
  done
  wait "$pid" || status=$?
  elapsed=$(($(date +%s) - start))
  if [[ $status -ne 0 ]]; then
    say "building $what failed (exit $status) after $elapsed s; its output:"
    (grep -Ev '^[A-Za-z0-9_.-]+(/[^ ]+)?$' "$log" || true) | tail -40 >&2
    rm -f "$log" "$out"
    exit 1
  fi
  if grep -q 'built in' "$log"; then say "built $what in $elapsed s: $(tail -1 "$out")"; fi
  rm -f "$log" "$out"
}

GO_MODCACHE="$(go env GOMODCACHE)"
GO_BUILDCACHE="$(go env GOCACHE)"
build "the OpenTelemetry Collector" build-collector.sh
build "Jaeger" build-jaeger.sh
