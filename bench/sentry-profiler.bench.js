'use strict';
// Scenario 2: Sentry's Node SDK with tracing vs tracing + @sentry/profiling-node profiling every
// transaction (profilesSampleRate 1), reference service, alternating pairs.
// Run: node bench/sentry-profiler.bench.js [--pairs 5] [--requests 8000] [--concurrency 64] [--no-pin]

const { runPairs, parseArgs } = require('./lib/harness');

const opts = parseArgs({ pairs: 5, requests: 8000, warmupRequests: 2000, concurrency: 64, pin: true, workload: 'mixed' });
const { workload, ...harness } = opts;
runPairs({
  name: `sentry-profiler-${workload}${opts.pin ? '' : '-free'}`,
  a: { tracer: 'sentry', workload, profiler: false },
  b: { tracer: 'sentry', workload, profiler: true },
  ...harness,
}).catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
