#!/usr/bin/env bash
# Reproduces every figure in RESULTS.md (except the Encoding section): builds the library,
# snapshots dist/ (so a rebuild during the run can't change what is measured), runs each
# scenario in turn, then draws the charts. About an hour with the memory soak.
# Usage: bash bench/run-all.sh [--skip-soak]
set -euo pipefail
cd "$(dirname "$0")/.."
npm run build >/dev/null
snap=".cache/bench-dist"
rm -rf "$snap" && mkdir -p .cache && cp -r dist "$snap"
export BENCH_DIST="$PWD/$snap"
export BENCH_NICE="${BENCH_NICE:--10}"
git rev-parse HEAD > bench/results/library-commit.txt 2>/dev/null || true
git status --porcelain src | sed 's/^/dirty: /' >> bench/results/library-commit.txt || true
cd bench
node otel-profiler.bench.js --pairs 9
node sampling-overhead.bench.js --pairs 9
node sentry-profiler.bench.js --pairs 5
node dd-trace-profiler.bench.js --pairs 5
node accuracy.bench.js
node event-loop.bench.js --pairs 5
node otel-profiler.bench.js --pairs 5 --no-pin
if [ "${1:-}" != "--skip-soak" ]; then
  node memory-soak.bench.js --max-minutes 40
  node memory-soak.bench.js --baseline --max-minutes 40
fi
python3 charts.py
