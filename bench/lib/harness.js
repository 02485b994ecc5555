'use strict';
// Runs servers and load generators as separate processes and compares variants side by side:
// alternating A/B runs in one session (order flipped every pair to cancel drift), ratios per
// pair, min/median/max over pairs. With `pin`, the server runs on CPU 0 and the load
// generator (and this process) on CPU 1, so the two never compete for one core.

const { fork, execFileSync } = require('node:child_process');
const http = require('node:http');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const SERVER = path.join(__dirname, 'server.js');
const LOAD = path.join(__dirname, 'load-generator.js');
const RESULTS_DIR = path.join(__dirname, '..', 'results');

function pinSelf(cpu) {
  execFileSync('taskset', ['-a', '-p', '-c', String(cpu), String(process.pid)], { stdio: 'ignore' });
}

/**
 * Moves every thread of a process except its main thread to `cpu`: the event loop keeps its
 * core, and the helper threads (V8's platform threads, the profiler's sampling thread) run
 * beside it, as on any machine with a core to spare. Threads started later inherit the
 * affinity of the thread that starts them.
 */
function pinHelperThreads(pid, cpu) {
  for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
    if (tid !== String(pid)) execFileSync('taskset', ['-p', '-c', String(cpu), tid], { stdio: 'ignore' });
  }
}

/** A Datadog agent double: accepts traces and profiles, answers what dd-trace expects. */
function startAgentSink() {
  const counts = { requests: 0, bytes: 0 };
  const server = http.createServer((req, res) => {
    counts.requests++;
    req.on('data', (c) => (counts.bytes += c.length));
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"rate_by_service":{}}');
    });
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      resolve({ url: `http://127.0.0.1:${server.address().port}`, counts, close: () => server.close() });
    });
  });
}

function forkPinned(script, { cpu, env, execArgv = [], nodeBinary, cwd }) {
  // taskset execs node, so every thread the process ever starts (V8 platform, libuv pool,
  // the profiler's worker) inherits the affinity.
  const options = { cwd, env: { ...process.env, ...env }, execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] };
  if (nodeBinary) options.execPath = nodeBinary;
  // BENCH_NICE (e.g. -10) raises the priority of servers and load generators over whatever
  // else runs on the machine (the shared 2-core host runs other work; see RESULTS.md). The
  // kernel groups tasks by session (sched_autogroup), and plain nice only counts inside a
  // group, so each child gets its own session (setsid) and sets that group's nice itself
  // (lib/priority.js).
  const prefix = [];
  if (process.env.BENCH_NICE) prefix.push('setsid', 'nice', '-n', process.env.BENCH_NICE);
  if (cpu !== undefined) prefix.push('taskset', '-c', String(cpu));
  if (prefix.length === 0) return fork(script, [], options);
  return fork(script, [], { ...options, execPath: prefix[0], execArgv: [...prefix.slice(1), nodeBinary || process.execPath, ...execArgv] });
}

function once(child, type) {
  return new Promise((resolve, reject) => {
    const onMessage = (msg) => {
      if (msg.type === type) {
        cleanup();
        resolve(msg);
      } else if (msg.type === 'error') {
        cleanup();
        reject(new Error(msg.message));
      }
    };
    const onExit = (code) => {
      cleanup();
      reject(new Error(`child exited with ${code} while waiting for ${type}`));
    };
    const cleanup = () => {
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    child.on('message', onMessage);
    child.on('exit', onExit);
  });
}

async function spawnServer(serverConfig, { pin, execArgv, nodeBinary, cwd } = {}) {
  const child = forkPinned(SERVER, {
    cpu: pin ? 0 : undefined,
    env: { BENCH_SERVER_CONFIG: JSON.stringify(serverConfig) },
    execArgv,
    nodeBinary,
    cwd,
  });
  const ready = await once(child, 'ready');
  return {
    port: ready.port,
    child,
    async call(type) {
      const reply = once(child, type);
      child.send({ type });
      return reply;
    },
    async stop() {
      const exited = new Promise((r) => child.once('exit', r));
      child.send({ type: 'exit' });
      const timer = setTimeout(() => child.kill('SIGKILL'), 10000);
      await exited;
      clearTimeout(timer);
    },
  };
}

function startLoad({ port, requests, concurrency, pathPrefix, ratePerSecond, pin }) {
  const child = forkPinned(LOAD, { cpu: pin ? 1 : undefined, env: {} });
  const result = once(child, 'result').then((msg) => msg.result);
  child.send({ port, requests, concurrency, pathPrefix, ratePerSecond });
  return { child, result };
}

async function runLoad(opts) {
  return startLoad(opts).result;
}

/** Busy CPU seconds of the whole machine so far, from /proc/stat (all CPUs). */
function machineBusySeconds() {
  try {
    const f = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    const [user, nice, system, , , irq, softirq, steal] = f;
    return (user + nice + system + irq + softirq + steal) / 100;
  } catch {
    return NaN;
  }
}

/** One run: start the server, warm it up, measure a fixed number of requests, stop it. */
async function runOnce(serverConfig, opts) {
  const server = await spawnServer(serverConfig, opts);
  try {
    const load = { port: server.port, concurrency: opts.concurrency, pathPrefix: opts.pathPrefix, pin: opts.pin };
    if (opts.warmupRequests) await runLoad({ ...load, requests: opts.warmupRequests });
    await server.call('reset');
    const before = machineBusySeconds();
    const client = await runLoad({ ...load, requests: opts.requests, ratePerSecond: opts.ratePerSecond });
    const { stats } = await server.call('stats');
    const busy = machineBusySeconds() - before;
    // CPU that neither the server nor the load generator used: other work on the shared host.
    const foreign = busy - stats.cpuUserSeconds - stats.cpuSystemSeconds - client.cpuSeconds;
    const metrics = metricsOf(client, stats);
    metrics.foreignCpuCores = Math.max(0, foreign) / stats.elapsedSeconds;
    metrics.serverCpuUtilization = (stats.cpuUserSeconds + stats.cpuSystemSeconds) / stats.elapsedSeconds;
    return { client, server: stats, metrics };
  } finally {
    await server.stop();
  }
}

function metricsOf(client, server) {
  const cpuSeconds = server.cpuUserSeconds + server.cpuSystemSeconds;
  const m = {
    throughputPerSecond: client.throughputPerSecond,
    latencyP50Millis: client.latencyMillis.p50,
    latencyP99Millis: client.latencyMillis.p99,
    cpuSecondsPer1kRequests: (cpuSeconds / server.requests) * 1000,
    peakRssMiB: server.maxRssBytes / 2 ** 20,
    eventLoopDelayP99Millis: server.eventLoopDelayMillis.p99,
    eventLoopDelayMaxMillis: server.eventLoopDelayMillis.max,
  };
  if (server.gaps) {
    m.pauseP99Millis = server.gaps.gapP99Millis;
    m.pauseMaxMillis = server.gaps.gapMaxMillis;
    m.pausesOver1MillisPerSecond = server.gaps.gapsOver1MillisPerSecond;
    m.pausesOver200MicrosPerSecond = server.gaps.gapsOver200MicrosPerSecond;
  }
  const p = server.profiler;
  if (p && typeof p.probes === 'number') {
    m.probesPerSecond = p.probes / server.elapsedSeconds;
    // The rate while at least one profiled root was open (sampling is off when none is).
    if (p.activeNanos > 0) m.probesPerActiveSecond = p.probes / (p.activeNanos / 1e9);
  }
  return m;
}

function summary(values) {
  const sorted = values.filter((v) => typeof v === 'number' && !Number.isNaN(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return undefined;
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  return { min: sorted[0], median, max: sorted[sorted.length - 1] };
}

/**
 * Alternating A/B pairs. Returns per-run metrics and, per metric, min/median/max of the
 * B/A ratio over pairs, and writes everything to bench/results/<name>.json.
 */
async function runPairs({ name, a, b, pairs = 5, ...opts }) {
  if (opts.pin) pinSelf(1);
  const runs = [];
  for (let i = 0; i < pairs; i++) {
    const order = i % 2 === 0 ? ['a', 'b'] : ['b', 'a'];
    const pair = {};
    for (const which of order) {
      const cfg = which === 'a' ? a : b;
      pair[which] = await runOnce(cfg, opts);
      const m = pair[which].metrics;
      log(
        `${name} pair ${i + 1}/${pairs} ${which.toUpperCase()} (${pair[which].server.tracer}): ` +
          `${m.throughputPerSecond.toFixed(0)} req/s, p50 ${m.latencyP50Millis.toFixed(2)} ms, p99 ${m.latencyP99Millis.toFixed(2)} ms, ` +
          `${m.cpuSecondsPer1kRequests.toFixed(3)} CPU s/1k, RSS ${m.peakRssMiB.toFixed(0)} MiB` +
          (m.probesPerActiveSecond !== undefined ? `, ${m.probesPerActiveSecond.toFixed(1)} probes/s while sampling` : '') +
          `, server CPU ${(m.serverCpuUtilization * 100).toFixed(0)}%, other work ${m.foreignCpuCores.toFixed(2)} cores`,
      );
    }
    runs.push(pair);
  }
  const metricNames = Object.keys(runs[0].a.metrics);
  const ratios = {};
  const absolute = { a: {}, b: {} };
  for (const k of metricNames) {
    ratios[k] = summary(runs.map((p) => p.b.metrics[k] / p.a.metrics[k]));
    absolute.a[k] = summary(runs.map((p) => p.a.metrics[k]));
    absolute.b[k] = summary(runs.map((p) => p.b.metrics[k]));
  }
  for (const k of Object.keys(runs[0].b.metrics)) {
    if (!(k in absolute.b)) absolute.b[k] = summary(runs.map((p) => p.b.metrics[k]));
  }
  const result = {
    name,
    date: new Date().toISOString(),
    machine: machine(),
    options: { pairs, ...opts },
    a: { tracer: runs[0].a.server.tracer, config: a },
    b: { tracer: runs[0].b.server.tracer, config: b },
    ratios,
    absolute,
    runs,
  };
  save(name, result);
  printSummary(result);
  return result;
}

/**
 * Per-metric summaries of alternating windows: pair i is windows.a[i] and windows.b[i],
 * adjacent in time, and its ratio b/a cancels what drifted slowly on the host.
 */
function summarizePairs(windows) {
  const ratios = {};
  const absolute = { a: {}, b: {} };
  for (const k of Object.keys(windows.a[0])) {
    ratios[k] = summary(windows.a.map((a, i) => windows.b[i][k] / a[k]));
    absolute.a[k] = summary(windows.a.map((w) => w[k]));
    absolute.b[k] = summary(windows.b.map((w) => w[k]));
  }
  return { ratios, absolute };
}

function machine() {
  return { nproc: os.cpus().length, cpuModel: os.cpus()[0].model, node: process.version, platform: `${os.platform()} ${os.release()}` };
}

function save(name, result) {
  fs.mkdirSync(RESULTS_DIR, { recursive: true });
  fs.writeFileSync(path.join(RESULTS_DIR, `${name}.json`), JSON.stringify(result, null, 2) + '\n');
}

function fmt(s, digits = 3) {
  return s ? `${s.min.toFixed(digits)} / ${s.median.toFixed(digits)} / ${s.max.toFixed(digits)}` : 'n/a';
}

function printSummary(r) {
  log(`\n== ${r.name}: ${r.b.tracer} vs ${r.a.tracer}, ${r.options.pairs} pairs, ratio B/A min / median / max`);
  for (const [k, s] of Object.entries(r.ratios)) log(`  ${k.padEnd(26)} ${fmt(s)}`);
  log(
    `  absolute medians A: ${Object.entries(r.absolute.a)
      .map(([k, s]) => `${k}=${s ? s.median.toFixed(3) : 'n/a'}`)
      .join(' ')}`,
  );
  log(
    `  absolute medians B: ${Object.entries(r.absolute.b)
      .map(([k, s]) => `${k}=${s ? s.median.toFixed(3) : 'n/a'}`)
      .join(' ')}`,
  );
}

function log(line) {
  process.stdout.write(line + '\n');
}

/**
 * Command-line flags shared by every scenario: --pairs N --requests N --concurrency N --no-pin,
 * and --engine native|probe|auto (the processor's engine option, passed to spawned servers and
 * the in-process tracer through BENCH_ENGINE).
 */
function parseArgs(defaults) {
  const out = { ...defaults };
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--no-pin') out.pin = false;
    else if (a === '--pin') out.pin = true;
    else if (a === '--helpers-on-cpu1') out.helpersOnCpu1 = true;
    else if (a === '--engine') {
      out.engine = argv[++i];
      process.env.BENCH_ENGINE = out.engine;
    } else if (a.startsWith('--')) {
      const key = a.slice(2).replace(/-([a-z])/g, (_, c) => c.toUpperCase());
      const v = argv[++i];
      out[key] = Number.isNaN(Number(v)) ? v : Number(v);
    }
  }
  return out;
}

module.exports = {
  runPairs,
  runOnce,
  spawnServer,
  runLoad,
  startLoad,
  startAgentSink,
  pinSelf,
  pinHelperThreads,
  parseArgs,
  summary,
  summarizePairs,
  save,
  machine,
  log,
  RESULTS_DIR,
};
