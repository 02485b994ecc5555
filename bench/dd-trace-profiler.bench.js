'use strict';
// Scenario 3: dd-trace tracing vs dd-trace + its profiler (wall profiler from @datadog/pprof with
// code hotspots, i.e. span ids on samples, and CPU time), reference service, alternating pairs.
// No Datadog agent runs here: traces and profiles go to an agent double in this process, which
// answers 200 to everything. Profiles upload every 10 s (DD_PROFILING_UPLOAD_PERIOD) so that
// serialization happens inside the measured window (the default is 65 s).
// Run: node bench/dd-trace-profiler.bench.js [--pairs 5] [--requests 15000] [--concurrency 64] [--no-pin]

const { runPairs, parseArgs, startAgentSink } = require('./lib/harness');

async function main() {
  const opts = parseArgs({ pairs: 5, requests: 15000, warmupRequests: 3000, concurrency: 64, pin: true, workload: 'mixed' });
  const { workload, ...harness } = opts;
  const sink = await startAgentSink();
  try {
    await runPairs({
      name: `dd-trace-profiler-${workload}${opts.pin ? '' : '-free'}`,
      a: { tracer: 'dd-trace', workload, profiler: false, agentUrl: sink.url },
      b: { tracer: 'dd-trace', workload, profiler: true, agentUrl: sink.url },
      ...harness,
    });
    console.log(`agent double received ${sink.counts.requests} requests, ${sink.counts.bytes} bytes`);
  } finally {
    sink.close();
  }
}
main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
