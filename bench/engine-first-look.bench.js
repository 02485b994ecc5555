'use strict';
// A first look at an engine at its default settings (issue 19), in one process, no HTTP:
// `--concurrency` requests in flight, each under its own root span, each burning CPU in a function
// of its own (hot_<i>) between awaits. Reports the rate of samples in hot code, how many of those
// samples were charged to the span that ran the function (exactness), and for the native engine
// the start pause (with express and the NodeSDK loaded, as in a small service) and the rotations'
// main-thread time as a share of the run.
//
// Needs `npm run build` at the repository root first.
// Run: node bench/engine-first-look.bench.js [--engine native|probe] [--seconds 20] [--concurrency 16] [--hz 99]

const path = require('node:path');
const { parseArgs, log } = require('./lib/harness');

async function main() {
  const opts = parseArgs({ engine: 'native', seconds: 20, concurrency: 16, hz: 99 });
  // The hot functions read the clock once per 2,000 iterations: a sample that lands inside
  // performance.now() (a call into C++) may come without the JavaScript frames above it.
  // Code that a real service has loaded before its first request: V8's profiler logs all of it at start.
  require('express');
  require('@opentelemetry/sdk-node');
  const { context } = require('@opentelemetry/api');
  const { AsyncLocalStorageContextManager } = require('@opentelemetry/context-async-hooks');
  const { BasicTracerProvider } = require('@opentelemetry/sdk-trace-base');
  const lib = require(process.env.BENCH_DIST || path.join(__dirname, '..', 'dist'));
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  const exporter = new lib.InMemoryProfileExporter();
  const processor = new lib.ProfilingSpanProcessor({ exporter, engine: opts.engine, samplingFrequencyHz: opts.hz });
  const tracer = new BasicTracerProvider({ spanProcessors: [processor] }).getTracer('first-look');

  const expected = new Map();
  const hot = (i) =>
    new Function(
      `return function hot_${i}(ms) { const e = performance.now() + ms; let x = 0; while (performance.now() < e) for (let j = 0; j < 2000; j++) x += Math.sqrt(x + j); return x; }`,
    )();
  let next = 0;
  // Time spent in the hot functions: the rate of samples while hot code runs is what a profile of it gets.
  let hotMillis = 0;
  const end = Date.now() + opts.seconds * 1000;
  const wallStart = performance.now();
  const cpuStart = process.cpuUsage();
  async function worker() {
    while (Date.now() < end) {
      const i = next++;
      const fn = hot(i);
      await tracer.startActiveSpan(`request ${i}`, async (span) => {
        expected.set(fn.name, span.spanContext().spanId);
        for (let step = 0; step < 4; step++) {
          const t = performance.now();
          fn(2);
          hotMillis += performance.now() - t;
          await new Promise((r) => setImmediate(r));
        }
        span.end();
      });
    }
  }
  await Promise.all(Array.from({ length: opts.concurrency }, worker));
  const wallMillis = performance.now() - wallStart;
  await processor.forceFlush();
  const stats = processor.stats;
  let inHot = 0;
  let exact = 0;
  for (const profile of exporter.getFinishedProfiles()) {
    for (const sample of profile.samples) {
      const frame = sample.stack.find((f) => /^hot_\d+$/.test(f.functionName));
      if (frame === undefined) continue;
      inHot++;
      if (expected.get(frame.functionName) === sample.spanId) exact++;
    }
  }
  const cpu = process.cpuUsage(cpuStart);
  await processor.shutdown();
  log(
    JSON.stringify({
      node: process.version,
      engine: stats.engine.name,
      hz: opts.hz,
      seconds: +(wallMillis / 1000).toFixed(1),
      requests: next,
      samplesTaken: stats.engine.samplesTaken,
      samplesPerSecond: +(stats.engine.samplesTaken / (wallMillis / 1000)).toFixed(1),
      hotSamplesPerSecond: +(inHot / (wallMillis / 1000)).toFixed(1),
      hotSamples: inHot,
      samplesPerHotSecond: +(inHot / (hotMillis / 1000)).toFixed(1),
      exactPercent: inHot ? +((100 * exact) / inHot).toFixed(2) : null,
      startPauseMillis: stats.engine.startPauseMillis === null ? null : +stats.engine.startPauseMillis.toFixed(1),
      rotations: stats.engine.rotations,
      rotationMillisEach: stats.engine.rotations ? +(stats.engine.rotationMillis / stats.engine.rotations).toFixed(2) : null,
      rotationSharePercent: +((100 * stats.engine.rotationMillis) / wallMillis).toFixed(3),
      processCpuPercent: +((100 * (cpu.user + cpu.system)) / 1000 / wallMillis).toFixed(1),
    }),
  );
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
