'use strict';
// Issue 19's "Sixth pass": the two engines side by side in one run, each in processes of its own
// (the native engine keeps V8's profiler running between roots, so it cannot be toggled on and
// off inside one process the way in-process-overhead.bench.js toggles the probe).
//
// Each run is a fresh process: the OpenTelemetry SDK, `--concurrency` requests of a workload in
// flight under root spans (no HTTP), warm-up, then a measured window. Configurations run in
// rounds, in an order rotated every round, so drift of the host spreads over all of them; every
// figure is a ratio to the `off` run (the SDK without the profiler) of the same round and the
// same workload and placement, reported as min / median / max over rounds.
//
// Placement: `spare` leaves the process free on both cores (V8's profiler thread and the probe's
// sampling thread can use the other one); `one-core` pins the whole process to CPU 0.
// Serialization is real: the exporter encodes each batch to OTLP protobuf as the OTLP exporter
// does, timed, and drops the bytes. Rotations of the native engine are timed one by one.
//
// Needs `npm run build` at the repository root first.
// Run: node bench/engines-side-by-side.bench.js [--rounds 5] [--seconds 8] [--warmup-seconds 3]
//      [--concurrency 16] [--placements spare,one-core] [--workloads mixed,async,deep]
//      [--node <binary>] [--tag <name>]

const path = require('node:path');
const fs = require('node:fs');
const { spawn } = require('node:child_process');
const { parseArgs, save, machine, log, summary } = require('./lib/harness');

/** Every configuration, and the workloads it runs on (the rate variants on the reference workload). */
const CONFIGS = {
  off: { profiler: false },
  probe: { profiler: true, engine: 'probe' },
  native: { profiler: true, engine: 'native' },
  'probe-99': { profiler: true, engine: 'probe', hz: 99, maxOverheadPercent: Infinity, only: ['mixed'] },
  'native-1000': { profiler: true, engine: 'native', hz: 1000, maxOverheadPercent: Infinity, only: ['mixed'] },
};

async function parent() {
  const opts = parseArgs({
    rounds: 5,
    seconds: 8,
    warmupSeconds: 3,
    concurrency: 16,
    placements: 'spare,one-core',
    workloads: 'mixed,async,deep',
    node: process.execPath,
    tag: '',
  });
  const placements = String(opts.placements).split(',');
  const workloadNames = String(opts.workloads).split(',');
  const cells = [];
  for (const placement of placements)
    for (const workload of workloadNames)
      for (const [config, c] of Object.entries(CONFIGS))
        if (!c.only || c.only.includes(workload)) cells.push({ placement, workload, config });
  const runs = [];
  const total = cells.length * opts.rounds;
  for (let round = 0; round < opts.rounds; round++) {
    // Rotate the order each round: no configuration always runs first or after the same one.
    const order = cells.map((_, i) => cells[(i + round * 7) % cells.length]);
    for (const cell of order) {
      const result = await runChild(opts, cell);
      runs.push({ round, ...cell, ...result });
      log(
        `[${runs.length}/${total}] round ${round} ${cell.placement} ${cell.workload} ${cell.config}: ` +
          `${result.requestsPerSecond.toFixed(0)} req/s, ${result.samplesPerSecond.toFixed(1)} samples/s, main ${result.mainMicrosPerRequest.toFixed(0)} us/req`,
      );
    }
  }
  const report = summarize(runs);
  const name = `engines-side-by-side${opts.tag ? `-${opts.tag}` : ''}`;
  save(name, { name, date: new Date().toISOString(), machine: machine(), node: opts.node, options: opts, report, runs });
  printReport(report);
}

function runChild(opts, { placement, workload, config }) {
  const args = [__filename, '--child', '1', '--workload', workload, '--config', config];
  for (const k of ['seconds', 'warmupSeconds', 'concurrency'])
    args.push(`--${k.replace(/[A-Z]/g, (m) => `-${m.toLowerCase()}`)}`, String(opts[k]));
  const [cmd, argv] = placement === 'one-core' ? ['taskset', ['-c', '0', opts.node, ...args]] : [opts.node, args];
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('exit', (code) => {
      const line = out.trim().split('\n').pop();
      if (code !== 0 || !line) reject(new Error(`child ${placement} ${workload} ${config} exited ${code}: ${out}`));
      else resolve(JSON.parse(line));
    });
  });
}

/** Per placement, workload and config: ratios to `off` of the same round, and absolute figures. */
function summarize(runs) {
  const report = [];
  const key = (r) => `${r.placement}|${r.workload}`;
  const groups = new Map();
  for (const r of runs) {
    const k = key(r);
    if (!groups.has(k)) groups.set(k, []);
    groups.get(k).push(r);
  }
  for (const [k, group] of groups) {
    const [placement, workload] = k.split('|');
    const offByRound = new Map(group.filter((r) => r.config === 'off').map((r) => [r.round, r]));
    for (const config of Object.keys(CONFIGS)) {
      if (config === 'off') continue;
      const mine = group.filter((r) => r.config === config);
      if (mine.length === 0) continue;
      const ratio = (f) => summary(mine.map((r) => (offByRound.has(r.round) ? f(r) / f(offByRound.get(r.round)) : NaN)));
      const abs = (f) => summary(mine.map(f));
      // What each sample costs: the extra CPU per request over the off run, per sample taken.
      const perSample = (f) =>
        summary(
          mine.map((r) => {
            const off = offByRound.get(r.round);
            if (!off || r.samplesPerRequest === 0) return NaN;
            return (f(r) - f(off)) / r.samplesPerRequest;
          }),
        );
      report.push({
        placement,
        workload,
        config,
        throughput: ratio((r) => r.requestsPerSecond),
        mainCpuPerRequest: ratio((r) => r.mainMicrosPerRequest),
        processCpuPerRequest: ratio((r) => r.processMicrosPerRequest),
        samplesPerSecond: abs((r) => r.samplesPerSecond),
        mainMicrosPerSample: perSample((r) => r.mainMicrosPerRequest),
        offMainMicrosPerSample: perSample((r) => r.processMicrosPerRequest - r.mainMicrosPerRequest),
        startPauseMillis: abs((r) => r.startPauseMillis ?? NaN),
        rotation: pooled(mine.map((r) => r.rotationMillis)),
        serialization: pooled(mine.map((r) => r.serializationMillis)),
        rotationSharePercent: abs((r) => r.rotationSharePercent),
        serializationSharePercent: abs((r) => r.serializationSharePercent),
      });
    }
  }
  return report;
}

/** p50 / p99 / max over every timed event of every run. */
function pooled(lists) {
  const all = lists.flat().sort((a, b) => a - b);
  if (all.length === 0) return null;
  const at = (p) => all[Math.min(all.length - 1, Math.ceil((p / 100) * all.length) - 1)];
  return { count: all.length, p50: at(50), p99: at(99), max: all[all.length - 1] };
}

function printReport(report) {
  const f = (s, d = 3) => (s ? `${s.min.toFixed(d)} / ${s.median.toFixed(d)} / ${s.max.toFixed(d)}` : '-');
  const p = (s) => (s ? `${s.p50.toFixed(2)} / ${s.p99.toFixed(2)} / ${s.max.toFixed(2)} (${s.count})` : '-');
  log('placement | workload | config | throughput | main CPU/req | process CPU/req | samples/s | main us/sample | off-main us/sample');
  for (const r of report)
    log(
      `${r.placement} | ${r.workload} | ${r.config} | ${f(r.throughput)} | ${f(r.mainCpuPerRequest)} | ${f(r.processCpuPerRequest)} | ${f(r.samplesPerSecond, 1)} | ${f(r.mainMicrosPerSample, 1)} | ${f(r.offMainMicrosPerSample, 1)}`,
    );
  log(
    'placement | workload | config | start pause ms | rotation ms p50/p99/max | serialization ms p50/p99/max | rotation share % | serialization share %',
  );
  for (const r of report)
    log(
      `${r.placement} | ${r.workload} | ${r.config} | ${f(r.startPauseMillis, 1)} | ${p(r.rotation)} | ${p(r.serialization)} | ${f(r.rotationSharePercent)} | ${f(r.serializationSharePercent)}`,
    );
}

// --- child: one process, one configuration ----------------------------------------------------

async function child() {
  const opts = parseArgs({ child: 0, workload: 'mixed', config: 'off', seconds: 8, warmupSeconds: 3, concurrency: 16 });
  const c = CONFIGS[opts.config];
  const dist = process.env.BENCH_DIST || path.join(__dirname, '..', 'dist');
  const serializationMillis = [];
  const rotationMillis = [];
  if (c.profiler) timeRotations(dist, rotationMillis);
  // An experiment's knob: another rotation period for the native engine (the library's constant).
  if (process.env.BENCH_ROTATION_MILLIS)
    require(path.join(dist, 'sampler', 'native', 'native-engine.js')).ROTATION_MILLIS = Number(process.env.BENCH_ROTATION_MILLIS);
  const otel = require('./lib/tracers/otel');
  const workloads = require('./lib/workloads');
  const { encodeProtobuf, loadEncoding } = require(path.join(dist, 'otlp', 'otlp-encoding.js'));
  // As the OTLP exporter's constructor does: schema and encoders ready before the first export.
  loadEncoding();
  const { ExportResultCode } = require(require.resolve('@opentelemetry/core', { paths: [path.join(__dirname, '..')] }));
  // Encodes each batch as the OTLP exporter does before it sends, and drops the bytes.
  const exporter = {
    export(profiles, done) {
      const t = performance.now();
      encodeProtobuf(profiles);
      serializationMillis.push(performance.now() - t);
      done({ code: ExportResultCode.SUCCESS });
    },
    shutdown: () => Promise.resolve(),
    forceFlush: () => Promise.resolve(),
  };
  const tracing = otel.init({
    profiler: c.profiler,
    samplingFrequencyHz: c.hz ?? 99,
    processorOptions: {
      exporter,
      engine: c.engine,
      ...(c.maxOverheadPercent !== undefined ? { maxOverheadPercent: c.maxOverheadPercent } : {}),
    },
  });
  const handler = workloads[opts.workload];
  const req = { url: '/' };
  let completed = 0;
  let stopping = false;
  const loops = Array.from({ length: opts.concurrency }, async () => {
    while (!stopping) {
      await tracing.withSpan('request', () => handler(req, tracing));
      completed++;
    }
  });
  await sleep(opts.warmupSeconds * 1000);
  const statsBefore = tracing.profilerStats();
  serializationMillis.length = 0;
  rotationMillis.length = 0;
  const before = snapshot(completed);
  await sleep(opts.seconds * 1000);
  const after = snapshot(completed);
  const statsAfter = tracing.profilerStats();
  // Events of the window only: the final rotation at shutdown is not a pause of a running service.
  const rotations = rotationMillis.slice();
  const serializations = serializationMillis.slice();
  stopping = true;
  await Promise.all(loops);
  const takenBeforeShutdown = c.profiler ? tracing.profilerStats()['engine.samplesTaken'] : 0;
  await tracing.shutdown();
  const requests = after.completed - before.completed;
  const wallMillis = after.wall - before.wall;
  const samples = c.profiler ? statsAfter['engine.samplesTaken'] - statsBefore['engine.samplesTaken'] : 0;
  const sum = (xs) => xs.reduce((a, b) => a + b, 0);
  process.stdout.write(
    `${JSON.stringify({
      node: process.version,
      requests,
      requestsPerSecond: requests / (wallMillis / 1000),
      mainMicrosPerRequest: (after.main - before.main) / 1e3 / requests,
      processMicrosPerRequest: (after.cpu - before.cpu) / 1e3 / requests,
      samplesPerSecond: samples / (wallMillis / 1000),
      samplesPerRequest: samples / requests,
      startPauseMillis: c.profiler ? statsAfter['engine.startPauseMillis'] : null,
      engine: c.profiler ? statsAfter['engine.name'] : null,
      tickRateHz: c.profiler ? statsAfter['engine.tickRateHz'] : null,
      // Native: share of V8's samples that never reached a profile (lost at a rotation); the final
      // stop drains V8's queue, so every sample taken before it is counted once.
      lostPercent:
        c.engine === 'native' && takenBeforeShutdown > 0 ? (100 * (takenBeforeShutdown - delivered.count)) / takenBeforeShutdown : null,
      rotationMillis: rotations,
      serializationMillis: serializations,
      rotationSharePercent: (100 * sum(rotations)) / wallMillis,
      serializationSharePercent: (100 * sum(serializations)) / wallMillis,
    })}\n`,
  );
  process.exit(0);
}

/** Times each rotation of the native engine (stop, conversion of V8's tree, delivery to the processor). */
function timeRotations(dist, out) {
  const { NativeSampleReader } = require(path.join(dist, 'sampler', 'native', 'native-samples.js'));
  const read = NativeSampleReader.prototype.readSamples;
  NativeSampleReader.prototype.readSamples = function (...args) {
    const samples = read.apply(this, args);
    delivered.count += samples.length;
    return samples;
  };
  const { NativeEngine } = require(path.join(dist, 'sampler', 'native', 'native-engine.js'));
  const rotate = NativeEngine.prototype._rotate;
  NativeEngine.prototype._rotate = function (...args) {
    const t = performance.now();
    try {
      return rotate.apply(this, args);
    } finally {
      out.push(performance.now() - t);
    }
  };
}

/** Samples the native engine read out of V8's profiles (taken minus these were lost at rotations). */
const delivered = { count: 0 };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const threadCpuNanos = (tid) => Number(fs.readFileSync(`/proc/self/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
function snapshot(completed) {
  const u = process.cpuUsage();
  return { completed, wall: performance.now(), cpu: (u.user + u.system) * 1000, main: threadCpuNanos(process.pid) };
}

(process.argv.includes('--child') ? child() : parent()).catch((err) => {
  console.error(err);
  process.exit(1);
});
