#!/usr/bin/env bash
# Reproduces every figure in RESULTS.md (except the Encoding section): builds the library,
# snapshots dist/ (so a rebuild during the run can't change what is measured), runs each
# scenario in turn, then draws the charts. About 75 minutes with the memory soak.
# Usage: bash bench/run-all.sh [--skip-soak] [--with-baseline-soak]
set -euo pipefail
cd "$(dirname "$0")/.."
npm run build >/dev/null
snap=".cache/bench-dist"
rm -rf "$snap" && mkdir -p .cache bench/results && cp -r dist "$snap"
export BENCH_DIST="$PWD/$snap"
export BENCH_NICE="${BENCH_NICE:--10}"
{ git rev-parse HEAD; git status --porcelain src | sed 's/^/dirty: /'; } > bench/results/library-commit.txt || true
cd bench
node otel-profiler.bench.js --pairs 7
node sampling-overhead.bench.js --pairs 7
node otel-profiler-interleaved.bench.js --pairs 30 --workload mixed
node otel-profiler-interleaved.bench.js --pairs 30 --workload async
node otel-profiler-interleaved.bench.js --pairs 30 --workload cpu
node profile-of-profiler.bench.js --pairs 3
node sentry-profiler.bench.js --pairs 5
node dd-trace-profiler.bench.js --pairs 5
node accuracy.bench.js
node event-loop.bench.js --pairs 5
node event-loop.bench.js --pairs 5 --cases pauses --no-pin
node otel-profiler.bench.js --pairs 5 --no-pin
if [ "${1:-}" != "--skip-soak" ]; then
  node memory-soak.bench.js --max-minutes 40
  if [ "${1:-}" = "--with-baseline-soak" ]; then node memory-soak.bench.js --baseline --max-minutes 40; fi
fi
python3 charts.py
