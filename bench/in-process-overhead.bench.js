'use strict';
// Sampling overhead without HTTP or a load generator: one process runs the workload's
// requests itself, each under a root span of the OpenTelemetry SDK, and switches profiling of
// new roots on and off in short windows (ABBA). The HTTP benchmarks' windows vary by up to
// +-30% on this host (load generator, sockets); here the only moving parts are the workload
// and the profiler, so many short pairs can resolve a cost of a few percent.
//
// Closed loop (default): `--concurrency` requests always in flight; the claim is requests per
// second, profiling on / off. Open loop (`--rate N`): N requests started per second whatever
// happens; throughput is fixed, the claim is CPU per request (process CPU, all threads), on / off.
//
// Needs `npm run build` at the repository root first.
// Run: node bench/in-process-overhead.bench.js [--workload async|mixed|cpu] [--pairs 60]
//      [--window-millis 1000] [--concurrency 64] [--rate N] [--hz 99] [--no-pin] [--helpers-on-cpu1]
//      [--max-overhead <percent>|Infinity]   (the processor's maxOverheadPercent; default: the library's default)
//      [--engine native|probe|auto]   (the processor's engine; default: the library's default, auto).
//        The native engine keeps V8's profiler running 30 s past the last root, so this bench
//        starts V8's profiler in the settle time before each 'on' window and stops it in the
//        settle time before each 'off' window (the start pause, paid once by a real service, is
//        then outside the windows): the 'off' windows have no sampling and no label hook.
//      [--tag <name>]   (added to the result file's name, e.g. the commit measured)

const fs = require('node:fs');
const { performance } = require('node:perf_hooks');
const { parseArgs, summarizePairs, save, machine, log, pinSelf, pinHelperThreads, summary } = require('./lib/harness');
const workloads = require('./lib/workloads');
const otel = require('./lib/tracers/otel');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const threadCpuNanos = (tid) => Number(fs.readFileSync(`/proc/self/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
const processCpuNanos = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) * 1000;
};

async function main() {
  const opts = parseArgs({
    workload: 'async',
    pairs: 60,
    windowMillis: 1000,
    settleMillis: 200,
    concurrency: 64,
    rate: 0,
    hz: 99,
    pin: true,
    helpersOnCpu1: false,
    maxOverhead: '',
    tag: '',
    engine: '',
  });
  if (opts.pin) pinSelf(0);
  const processorOptions = {
    ...(opts.maxOverhead === '' ? {} : { maxOverheadPercent: Number(opts.maxOverhead) }),
    ...(opts.engine ? { engine: opts.engine } : {}),
  };
  const tracing = otel.init({ profiler: true, toggle: true, samplingFrequencyHz: opts.hz, processorOptions });
  if (opts.pin && opts.helpersOnCpu1) pinHelperThreads(process.pid, 1);
  const handler = workloads[opts.workload];
  const req = { url: '/' };

  let completed = 0;
  let stopping = false;
  const oneRequest = () => tracing.withSpan('request', () => handler(req, tracing)).then(() => completed++);
  const inFlight = new Set();
  const start = (p) => {
    inFlight.add(p);
    p.finally(() => inFlight.delete(p));
  };
  if (opts.rate > 0) {
    // Open loop on a 10 ms grid: a late timer starts the requests it owes, so the rate holds.
    const t0 = performance.now();
    let started = 0;
    const tick = () => {
      if (stopping) return;
      const owed = Math.floor(((performance.now() - t0) / 1000) * opts.rate) - started;
      for (let i = 0; i < owed; i++) start(oneRequest());
      started += Math.max(0, owed);
      setTimeout(tick, 10);
    };
    tick();
  } else {
    for (let i = 0; i < opts.concurrency; i++) {
      start(
        (async () => {
          while (!stopping) await oneRequest();
        })(),
      );
    }
  }

  const windows = { a: [], b: [] };
  await sleep(3000); // warm-up: JIT, caches
  for (let i = 0; i < opts.pairs * 2; i++) {
    const which = [0, 3].includes(i % 4) ? 'a' : 'b';
    tracing.setProfiling(which === 'b');
    await sleep(opts.settleMillis); // roots opened before the switch finish
    const native = nativeEngineOf(tracing);
    if (native !== undefined) {
      if (which === 'b') native.warmUp();
      else native._stopProfiler(true);
      await sleep(opts.settleMillis);
    }
    const before = {
      completed,
      wall: performance.now(),
      cpu: processCpuNanos(),
      main: threadCpuNanos(process.pid),
      stats: tracing.profilerStats(),
    };
    await sleep(opts.windowMillis);
    const after = {
      completed,
      wall: performance.now(),
      cpu: processCpuNanos(),
      main: threadCpuNanos(process.pid),
      stats: tracing.profilerStats(),
    };
    const requests = after.completed - before.completed;
    const seconds = (after.wall - before.wall) / 1000;
    windows[which].push({
      requestsPerSecond: requests / seconds,
      cpuMillisPerRequest: (after.cpu - before.cpu) / 1e6 / requests,
      mainThreadMillisPerRequest: (after.main - before.main) / 1e6 / requests,
      probesPerSecond: (after.stats['engine.samplesTaken'] - before.stats['engine.samplesTaken']) / seconds,
      offCpuTicksPerSecond: ((after.stats['engine.offCpuTicks'] ?? 0) - (before.stats['engine.offCpuTicks'] ?? 0)) / seconds,
      ...(which === 'b'
        ? {
            tickRateHz: after.stats['engine.tickRateHz'],
            overheadPercent: after.stats['engine.overheadPercent'],
            probeCostMicros: after.stats['engine.sampleCostMicros'],
          }
        : {}),
    });
  }
  stopping = true;
  await Promise.allSettled([...inFlight]);
  await tracing.shutdown();

  const { ratios, absolute } = summarizePairs(windows);
  const mode = opts.rate > 0 ? `rate${opts.rate}` : `closed${opts.concurrency}`;
  const suffix = `${opts.helpersOnCpu1 ? '-helpers-on-cpu1' : ''}${opts.pin ? '' : '-no-pin'}${opts.hz !== 99 ? `-${opts.hz}hz` : ''}${opts.maxOverhead !== '' ? `-budget${opts.maxOverhead}` : ''}${opts.engine ? `-${opts.engine}` : ''}${opts.tag ? `-${opts.tag}` : ''}`;
  const result = {
    name: `in-process-${opts.workload}-${mode}${suffix}`,
    date: new Date().toISOString(),
    machine: machine(),
    options: opts,
    ratios,
    absolute,
    windows,
  };
  save(result.name, result);
  log(`== ${result.name}: ${opts.pairs} adjacent pairs of ${opts.windowMillis} ms windows, ratio profiling on / off, min / median / max`);
  for (const k of ['requestsPerSecond', 'cpuMillisPerRequest', 'mainThreadMillisPerRequest']) {
    const s = ratios[k];
    log(
      `  ${k.padEnd(28)} ${s.min.toFixed(3)} / ${s.median.toFixed(3)} / ${s.max.toFixed(3)}   (off median ${absolute.a[k].median.toFixed(3)}, on ${absolute.b[k].median.toFixed(3)})`,
    );
  }
  log(
    `  probes/s on: median ${absolute.b.probesPerSecond.median.toFixed(1)}; off-CPU ticks/s on: ${absolute.b.offCpuTicksPerSecond.median.toFixed(1)}`,
  );
  const rates = windows.b.map((w) => w.tickRateHz).filter((v) => typeof v === 'number');
  if (rates.length > 0) {
    const med = (k) => summary(windows.b.map((w) => w[k]).filter((v) => typeof v === 'number'));
    log(
      `  sampler while on: tick rate median ${med('tickRateHz').median.toFixed(1)} Hz, measured overhead median ${med('overheadPercent')?.median?.toFixed(2)}%, probe cost median ${med('probeCostMicros')?.median?.toFixed(0)} us`,
    );
  }
  log(
    `  95% bootstrap interval of the median ratio: requests/s ${bootstrap(windows, 'requestsPerSecond')}, main-thread ms/request ${bootstrap(windows, 'mainThreadMillisPerRequest')}`,
  );
  process.exit(0);
}

/** The processor's native engine when it runs one (reached through private fields: a bench only). */
function nativeEngineOf(tracing) {
  const engine = tracing.processor?._engine?._engine;
  return engine?.name === 'native' ? engine : undefined;
}

/** 95% bootstrap interval of the median of the pairs' on/off ratios (2000 resamples). */
function bootstrap(windows, key) {
  const ratios = windows.a.map((a, i) => windows.b[i][key] / a[key]).filter(Number.isFinite);
  const median = (xs) => {
    const s = xs.slice().sort((x, y) => x - y);
    return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  };
  const medians = [];
  for (let r = 0; r < 2000; r++) medians.push(median(ratios.map(() => ratios[Math.floor(Math.random() * ratios.length)])));
  medians.sort((x, y) => x - y);
  return `${median(ratios).toFixed(3)} (${medians[50].toFixed(3)}-${medians[1949].toFixed(3)})`;
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
