'use strict';
// Scenario 1: OpenTelemetry tracing only vs tracing + otel-span-profiler (ProfilingSpanProcessor
// at 99 Hz, every root span profiled), reference service, alternating pairs. Profiles go to a
// counting exporter that drops them (export cost is the Encoding section's subject).
// Needs `npm run build` at the repository root first (uses ../dist).
// Run: node bench/otel-profiler.bench.js [--pairs 5] [--requests 15000] [--concurrency 64] [--workload mixed|cpu|async] [--no-pin]

const { runPairs, parseArgs } = require('./lib/harness');

const opts = parseArgs({ pairs: 5, requests: 15000, warmupRequests: 3000, concurrency: 64, pin: true, workload: 'mixed', hz: 99 });
const { workload, hz, ...harness } = opts;
runPairs({
  name: `otel-profiler-${workload}${opts.pin ? '' : '-free'}`,
  a: { tracer: 'otel', workload, profiler: false },
  b: { tracer: 'otel', workload, profiler: true, samplingFrequencyHz: hz },
  ...harness,
}).catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
