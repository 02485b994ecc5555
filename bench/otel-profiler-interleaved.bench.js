'use strict';
// In-process A/B for otel-span-profiler on the reference service: one server, one steady
// closed-loop load, and profiling of new root spans switched on and off every few seconds
// (ABBA order). Slow changes in what else runs on the host then hit both sides alike, which
// separate server processes (otel-profiler.bench.js) cannot promise on a shared machine.
// Per window: requests completed, server CPU per request, server-side p50/p99 latency.
// Needs `npm run build` at the repository root first.
// Run: node bench/otel-profiler-interleaved.bench.js [--pairs 30] [--window-seconds 3] [--workload mixed|async|cpu]
//      [--helpers-on-cpu1]: the server's main thread alone on CPU 0, its other threads (the
//      sampling thread among them) on CPU 1 with the load generator, instead of all on CPU 0.

const { spawnServer, startLoad, parseArgs, summarizePairs, save, machine, log, pinSelf, pinHelperThreads } = require('./lib/harness');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function main() {
  const opts = parseArgs({
    pairs: 30,
    windowSeconds: 3,
    settleMillis: 500,
    concurrency: 64,
    pin: true,
    helpersOnCpu1: false,
    workload: 'mixed',
    hz: 99,
  });
  if (opts.pin) pinSelf(1);
  const server = await spawnServer(
    { tracer: 'otel', workload: opts.workload, profiler: true, toggle: true, serverLatency: true, samplingFrequencyHz: opts.hz },
    { pin: opts.pin },
  );
  // The sampling thread starts with the processor, before the server reports ready.
  if (opts.pin && opts.helpersOnCpu1) pinHelperThreads(server.child.pid, 1);
  const load = startLoad({
    port: server.port,
    requests: 50_000_000,
    concurrency: opts.workload === 'cpu' ? 16 : opts.concurrency,
    pin: opts.pin,
  });
  load.result.catch(() => {}); // it is killed at the end, never finishes
  const windows = { a: [], b: [] };
  try {
    await sleep(5000); // warm-up
    for (let i = 0; i < opts.pairs * 2; i++) {
      // ABBA: A B B A A B ...
      const which = [0, 3].includes(i % 4) ? 'a' : 'b';
      await server.call(which === 'b' ? 'profiling-on' : 'profiling-off');
      await sleep(opts.settleMillis); // roots opened before the switch finish
      await server.call('reset');
      await sleep(opts.windowSeconds * 1000);
      const { stats } = await server.call('stats');
      const cpu = stats.cpuUserSeconds + stats.cpuSystemSeconds;
      windows[which].push({
        throughputPerSecond: stats.requests / stats.elapsedSeconds,
        cpuSecondsPer1kRequests: (cpu / stats.requests) * 1000,
        serverLatencyP50Millis: stats.serverLatencyMillis.p50,
        serverLatencyP99Millis: stats.serverLatencyMillis.p99,
        probesPerSecond: stats.profiler.probes / stats.elapsedSeconds,
      });
    }
  } finally {
    load.child.kill();
    await server.stop();
  }
  const { ratios, absolute } = summarizePairs(windows);
  const suffix = opts.helpersOnCpu1 ? '-helpers-on-cpu1' : opts.hz !== 99 ? `-${opts.hz}hz` : '';
  const result = {
    name: `otel-profiler-interleaved-${opts.workload}${suffix}`,
    date: new Date().toISOString(),
    machine: machine(),
    options: opts,
    ratios,
    absolute,
    windows,
  };
  save(result.name, result);
  log(`== ${result.name}: ${opts.pairs} adjacent pairs of ${opts.windowSeconds} s windows, ratio profiling on / off, min / median / max`);
  for (const [k, s] of Object.entries(ratios))
    if (k !== 'probesPerSecond') log(`  ${k.padEnd(26)} ${s.min.toFixed(3)} / ${s.median.toFixed(3)} / ${s.max.toFixed(3)}`);
  log(
    `  probes/s with profiling on: median ${absolute.b.probesPerSecond.median.toFixed(1)}; off: ${absolute.a.probesPerSecond.median.toFixed(1)}`,
  );
}
main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
