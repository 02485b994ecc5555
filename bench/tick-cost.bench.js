'use strict';
// What one sampling tick costs, measured inside one run rather than as a difference of two
// noisy runs: the reference service under load with every root profiled, `perf` sampling the
// server's main thread (share of its time inside the inspector's dispatch of our probes, and
// inside the probe's own JavaScript), and the sampling thread's CPU and context switches from
// /proc/<pid>/task/<tid>/schedstat. Both are shares of the same window, so the host's speed
// changes, which make throughput ratios swing by +-30% between windows here, cancel out.
//
// Needs `perf` (Debian: linux-perf) and `npm run build` at the repository root first.
// Run: node bench/tick-cost.bench.js [--workload async|mixed|cpu] [--seconds 15] [--hz 99] [--no-pin]
//      [--node <path to another node binary for the server>]

const fs = require('node:fs');
const { execFileSync } = require('node:child_process');
const { spawnServer, startLoad, parseArgs, save, machine, log, pinSelf } = require('./lib/harness');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const schedstat = (pid, tid) => fs.readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ').map(Number);

/** Main-thread samples of `perf script` output, each a list of frame names, leaf first. */
function readStacks(file) {
  const out = execFileSync('perf', ['script', '-i', file, '-F', 'ip,sym'], {
    maxBuffer: 1 << 30,
    stdio: ['ignore', 'pipe', 'ignore'],
  }).toString();
  return out
    .split('\n\n')
    .map((block) =>
      block
        .split('\n')
        .map((l) => l.trim().replace(/^[0-9a-f]+\s+/, ''))
        .filter(Boolean),
    )
    .filter((s) => s.length > 0);
}

async function main() {
  const opts = parseArgs({ workload: 'async', seconds: 15, hz: 99, pin: true, concurrency: 64, node: '' });
  if (opts.pin) pinSelf(1);
  const server = await spawnServer(
    { tracer: 'otel', workload: opts.workload, profiler: true, toggle: true, serverLatency: true, samplingFrequencyHz: opts.hz },
    { pin: opts.pin, execArgv: ['--perf-basic-prof'], nodeBinary: opts.node || undefined },
  );
  const load = startLoad({
    port: server.port,
    requests: 50_000_000,
    concurrency: opts.workload === 'cpu' ? 16 : opts.concurrency,
    pin: opts.pin,
  });
  load.result.catch(() => {});
  const pid = server.child.pid;
  const dataFile = `/tmp/tick-cost-${pid}.perf`;
  try {
    await server.call('profiling-on');
    await sleep(5000); // warm-up
    // Perf's own interrupts would land in the sampling thread's figures: measure it in a window of its own.
    await server.call('reset');
    execFileSync('perf', ['record', '-F', '999', '-g', '--tid', String(pid), '-o', dataFile, '--', 'sleep', String(opts.seconds)], {
      stdio: 'ignore',
    });
    const { stats } = await server.call('stats');
    const threadsBefore = Object.fromEntries(fs.readdirSync(`/proc/${pid}/task`).map((t) => [t, schedstat(pid, t)]));
    await server.call('reset');
    await sleep(opts.seconds * 1000);
    const { stats: quietStats } = await server.call('stats');
    const threads = Object.keys(threadsBefore)
      .filter((t) => t !== String(pid) && fs.existsSync(`/proc/${pid}/task/${t}`))
      .map((t) => {
        const after = schedstat(pid, t);
        return { tid: t, cpuNanos: after[0] - threadsBefore[t][0], switches: after[2] - threadsBefore[t][2] };
      });
    const ticksOf = (st) => st.profiler.probes + (st.profiler.offCpuTicks ?? 0) + st.profiler.skippedTicks;
    const ticks = ticksOf(stats);
    const quietTicks = ticksOf(quietStats);
    // The sampling thread is the one that goes quiet when profiling stops (it sleeps after a
    // second without roots); V8's platform threads keep working for the application.
    await server.call('profiling-off');
    await sleep(2000);
    const quietBefore = Object.fromEntries(threads.map((t) => [t.tid, schedstat(pid, t.tid)]));
    await sleep(2000);
    const sampler = threads.reduce((best, t) => {
      const quiet = schedstat(pid, t.tid)[2] - quietBefore[t.tid][2];
      return best === undefined || t.switches - 1000 * quiet > best.score ? { ...t, score: t.switches - 1000 * quiet } : best;
    }, undefined);

    const stacks = readStacks(dataFile);
    const inDispatch = stacks.filter((s) => s.some((f) => f.includes('MainThreadInterface::DispatchMessages')));
    const inProbe = inDispatch.filter((s) => s.some((f) => /\/dist\/(processor|sampler\/)/.test(f)));
    const inCapture = inDispatch.filter((s) => s.some((f) => f.includes('capture') && f.includes('stack-capture')));
    const perfPeriodMicros = 1e6 / 999;
    const probes = stats.profiler.probes;
    const result = {
      name: `tick-cost-${opts.workload}${opts.pin ? '' : '-no-pin'}${opts.node ? '-' + execFileSync(opts.node, ['--version']).toString().trim() : ''}`,
      date: new Date().toISOString(),
      machine: machine(),
      options: opts,
      probes,
      ticks,
      requestsPerSecond: stats.requests / stats.elapsedSeconds,
      mainThreadSamples: stacks.length,
      dispatchSamples: inDispatch.length,
      probeJsSamples: inProbe.length,
      captureSamples: inCapture.length,
      mainThreadShareInDispatch: inDispatch.length / stacks.length,
      mainMicrosPerProbe: {
        dispatchTotal: (inDispatch.length * perfPeriodMicros) / probes,
        probeJs: (inProbe.length * perfPeriodMicros) / probes,
        capture: (inCapture.length * perfPeriodMicros) / probes,
      },
      samplingThread: {
        tid: sampler.tid,
        microsPerTick: sampler.cpuNanos / 1000 / quietTicks,
        switchesPerTick: sampler.switches / quietTicks,
        shareOfCore: sampler.cpuNanos / 1e9 / quietStats.elapsedSeconds,
      },
    };
    result.threads = threads;
    save(result.name, result);
    log(`== ${result.name}: ${opts.seconds} s at ${result.requestsPerSecond.toFixed(0)} requests/s, ${probes} probes of ${ticks} ticks`);
    log(`  main thread in the inspector's dispatch: ${(100 * result.mainThreadShareInDispatch).toFixed(2)}% of its samples`);
    log(
      `  per probe: ${result.mainMicrosPerProbe.dispatchTotal.toFixed(0)} us on the main thread, of which ${result.mainMicrosPerProbe.probeJs.toFixed(0)} us in the probe's JavaScript (${result.mainMicrosPerProbe.capture.toFixed(0)} us capturing the stack)`,
    );
    log(
      `  sampling thread: ${result.samplingThread.microsPerTick.toFixed(0)} us of CPU and ${result.samplingThread.switchesPerTick.toFixed(1)} context switches per tick, ${(100 * result.samplingThread.shareOfCore).toFixed(2)}% of a core`,
    );
  } finally {
    load.child.kill();
    await server.stop();
    fs.rmSync(dataFile, { force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
