'use strict';
require('./priority').raise();
// One server process of a run: sets up its tracer (before node:http is loaded, so
// instrumentation can patch it), serves the chosen workload on a loopback port and answers
// the harness over IPC: 'reset' starts the measured window, 'stats' ends it.
// Config comes as JSON in BENCH_SERVER_CONFIG.

const config = JSON.parse(process.env.BENCH_SERVER_CONFIG);
const tracing = require(`./tracers/${config.tracer}`).init(config);

const http = require('node:http');
const fs = require('node:fs');
const { monitorEventLoopDelay } = require('node:perf_hooks');
const workloads = require('./workloads');
const { createHotWorkload } = require('./hot-workload');

const hotWorkload = config.workload === 'hot' ? createHotWorkload(config.hotOptions) : undefined;
const handle = hotWorkload ? hotWorkload.handle : workloads[config.workload];
if (!handle) throw new Error(`unknown workload ${config.workload}`);

let completed = 0;
let failed = 0;
// Server-side latency of each request in the current window (the in-process A/B scenario
// has no client-side window boundaries).
let windowLatencies = [];
const server = http.createServer((req, res) => {
  const t0 = process.hrtime.bigint();
  handle(req, tracing).then(
    (body) => {
      completed++;
      if (config.serverLatency) windowLatencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    },
    (err) => {
      failed++;
      res.writeHead(500);
      res.end(String(err && err.message));
    },
  );
});
server.keepAliveTimeout = 60000;

const eld = monitorEventLoopDelay({ resolution: config.eldResolutionMillis ?? 10 });
eld.enable();

let window = startWindow();
function startWindow() {
  eld.reset();
  if (config.workload === 'gaps') workloads.takeGapStats();
  windowLatencies = [];
  return {
    cpu: process.cpuUsage(),
    hr: process.hrtime.bigint(),
    completed,
    profiler: tracing.profilerStats(),
    threads: threadCpu(),
  };
}

// CPU seconds per thread (from /proc), keyed "tid comm", to see where a profiler's cost lands:
// the main thread, its sampling thread, or V8's GC and compiler threads.
function threadCpu() {
  const out = {};
  try {
    for (const tid of fs.readdirSync('/proc/self/task')) {
      const stat = fs.readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out[`${tid} ${comm}`] = (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime, clock ticks
    }
  } catch {
    // not Linux
  }
  return out;
}

function diffStats(now, before) {
  if (!now) return undefined;
  const out = {};
  for (const [k, v] of Object.entries(now)) {
    out[k] = typeof v === 'number' && before && typeof before[k] === 'number' ? v - before[k] : v;
  }
  return out;
}

function serverLatency() {
  const sorted = windowLatencies.slice().sort((a, b) => a - b);
  const at = (p) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
  return sorted.length ? { p50: at(50), p99: at(99) } : undefined;
}

function windowStats() {
  const cpu = process.cpuUsage(window.cpu);
  const mem = process.memoryUsage();
  return {
    tracer: tracing.name,
    elapsedSeconds: Number(process.hrtime.bigint() - window.hr) / 1e9,
    requests: completed - window.completed,
    failed,
    cpuUserSeconds: cpu.user / 1e6,
    cpuSystemSeconds: cpu.system / 1e6,
    maxRssBytes: process.resourceUsage().maxRSS * 1024,
    rssBytes: mem.rss,
    heapUsedBytes: mem.heapUsed,
    serverLatencyMillis: serverLatency(),
    eventLoopDelayMillis: {
      p50: eld.percentile(50) / 1e6,
      p99: eld.percentile(99) / 1e6,
      max: eld.max / 1e6,
      mean: eld.mean / 1e6,
    },
    profiler: diffStats(tracing.profilerStats(), window.profiler),
    gaps: config.workload === 'gaps' ? workloads.takeGapStats() : undefined,
    threadCpuSeconds: diffStats(threadCpu(), window.threads),
  };
}

// Memory soak: one CSV line per interval, written by the server itself (cheap, append-only).
if (config.memoryCsvPath) {
  const t0 = process.hrtime.bigint();
  fs.writeFileSync(
    config.memoryCsvPath,
    'elapsed_s,requests,rss_bytes,heap_used_bytes,heap_total_bytes,external_bytes,array_buffers_bytes\n',
  );
  setInterval(() => {
    const m = process.memoryUsage();
    const t = Number(process.hrtime.bigint() - t0) / 1e9;
    fs.appendFileSync(
      config.memoryCsvPath,
      `${t.toFixed(1)},${completed},${m.rss},${m.heapUsed},${m.heapTotal},${m.external},${m.arrayBuffers}\n`,
    );
  }, config.memorySampleMillis ?? 5000).unref();
}

function reduceHotSamples(samples) {
  const out = [];
  let total = 0;
  for (const s of samples) {
    total++;
    const hot = s.functions.find((f) => /^hotRequest\d+$/.test(f));
    if (!hot) continue;
    out.push({ spanId: s.spanId, traceId: s.traceId, k: Number(hot.slice(10)), inChild: s.functions.includes('inChildSpan') });
  }
  return { total, hot: out };
}

process.on('message', async (msg) => {
  try {
    if (msg.type === 'reset') {
      window = startWindow();
      process.send({ type: 'reset', ok: true });
    } else if (msg.type === 'profiling-on' || msg.type === 'profiling-off') {
      tracing.setProfiling(msg.type === 'profiling-on');
      process.send({ type: msg.type });
    } else if (msg.type === 'stats') {
      process.send({ type: 'stats', stats: windowStats() });
    } else if (msg.type === 'collect') {
      // Only samples whose stack holds a request-unique hot function matter; reduce them here
      // (Sentry repeats each sample in every overlapping transaction: too much to ship whole).
      const samples = reduceHotSamples(await tracing.collectSamples());
      const truth = hotWorkload ? [...hotWorkload.truth.entries()] : [];
      process.send({ type: 'collect', samples, truth, profiler: tracing.profilerStats() });
    } else if (msg.type === 'exit') {
      server.close();
      await Promise.race([tracing.shutdown(), new Promise((r) => setTimeout(r, 3000))]);
      process.exit(0);
    }
  } catch (err) {
    process.send({ type: 'error', message: String(err && err.stack) });
  }
});

// If the harness dies (or is killed by a timeout), don't linger.
process.on('disconnect', () => process.exit(0));

server.listen(0, '127.0.0.1', () => {
  process.send({ type: 'ready', port: server.address().port, pid: process.pid });
});
