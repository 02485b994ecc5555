'use strict';
// Issue 2's benchmark: the sampler's cost at 99 Hz on a CPU-bound workload and on an async-heavy
// one (400 awaits and 10 loop turns per request), as throughput with the profiler / without,
// alternating pairs in one session. Also checks the probe rate really was ~99 Hz (processor.stats).
// Needs `npm run build` at the repository root first.
// Run: node bench/sampling-overhead.bench.js [--pairs 5] [--requests 12000] [--concurrency 64 (16 for cpu)] [--no-pin]

const { runPairs, parseArgs, log } = require('./lib/harness');

async function main() {
  const opts = parseArgs({ pairs: 5, requests: 12000, warmupRequests: 3000, concurrency: 64, pin: true, hz: 99, workloads: 'cpu,async' });
  const { hz, workloads, ...harness } = opts;
  for (const workload of String(workloads).split(',')) {
    const r = await runPairs({
      name: `sampling-overhead-${workload}${opts.pin ? '' : '-free'}`,
      a: { tracer: 'otel', workload, profiler: false },
      b: { tracer: 'otel', workload, profiler: true, samplingFrequencyHz: hz },
      ...harness,
      requests: workload === 'cpu' ? Math.round(harness.requests / 4) : harness.requests,
      concurrency: workload === 'cpu' ? 16 : harness.concurrency,
      warmupRequests: workload === 'cpu' ? Math.round(harness.warmupRequests / 4) : harness.warmupRequests,
    });
    const rate = r.absolute.b.probesPerActiveSecond;
    const cost = 1 - r.ratios.throughputPerSecond.median;
    log(
      `${workload}: throughput cost ${(cost * 100).toFixed(2)}% (median of ${r.options.pairs} pairs), ` +
        `probe rate while sampling ${rate ? rate.median.toFixed(1) : 'n/a'} Hz (configured ${hz})`,
    );
  }
}
main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
