'use strict';
// Per-root bookkeeping: nanoseconds and GC per root span (startSpan + end, no work inside),
// with the processor against the SDK alone, alternating rounds in one process. Sampling runs at
// 1 Hz so probes stay out of the figure: this measures what every root pays, sampled or not.
// Needs `npm run build` first. Run: node bench/per-root.bench.js [--roots 200000] [--rounds 6]
const path = require('node:path');
const { PerformanceObserver } = require('node:perf_hooks');
const { parseArgs, log } = require('./lib/harness');
const ROOT = path.resolve(__dirname, '..');
const api = require(require.resolve('@opentelemetry/api', { paths: [ROOT] }));
const { BasicTracerProvider } = require(require.resolve('@opentelemetry/sdk-trace-base', { paths: [ROOT] }));
const { AsyncLocalStorageContextManager } = require(require.resolve('@opentelemetry/context-async-hooks', { paths: [ROOT] }));
const lib = require(process.env.BENCH_DIST || path.join(ROOT, 'dist'));

const opts = parseArgs({ roots: 200000, rounds: 6 });
api.context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
const plain = new BasicTracerProvider({}).getTracer('plain');
const processor = new lib.ProfilingSpanProcessor({ exporter: new lib.InMemoryProfileExporter(), samplingFrequencyHz: 1 });
const profiled = new BasicTracerProvider({ spanProcessors: [processor] }).getTracer('profiled');

let gcCount = 0;
let gcMillis = 0;
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    gcCount++;
    gcMillis += e.duration;
  }
}).observe({ entryTypes: ['gc'] });

async function round(tracer) {
  await new Promise((res) => setTimeout(res, 20)); // earlier GC entries are delivered first
  const c0 = gcCount;
  const g0 = gcMillis;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < opts.roots; i++) tracer.startSpan('root').end();
  const ns = Number(process.hrtime.bigint() - t0) / opts.roots;
  await new Promise((res) => setTimeout(res, 20)); // this round's GC entries
  return { ns, gcs: gcCount - c0, gcMillis: gcMillis - g0 };
}

(async () => {
  await round(plain);
  await round(profiled);
  const rows = { plain: [], profiled: [] };
  for (let r = 0; r < opts.rounds; r++) {
    for (const [name, tracer] of r % 2
      ? [
          ['profiled', profiled],
          ['plain', plain],
        ]
      : [
          ['plain', plain],
          ['profiled', profiled],
        ]) {
      rows[name].push(await round(tracer));
    }
  }
  await new Promise((res) => setTimeout(res, 50));
  const median = (xs) => xs.slice().sort((a, b) => a - b)[xs.length >> 1];
  const m = (name, k) => median(rows[name].map((x) => x[k]));
  log(
    `per root: SDK alone ${m('plain', 'ns').toFixed(0)} ns, with the processor ${m('profiled', 'ns').toFixed(0)} ns: +${(m('profiled', 'ns') - m('plain', 'ns')).toFixed(0)} ns`,
  );
  log(
    `GCs per round of ${opts.roots} roots (median): ${m('plain', 'gcs')} / ${m('profiled', 'gcs')}; GC ms: ${m('plain', 'gcMillis').toFixed(1)} / ${m('profiled', 'gcMillis').toFixed(1)}`,
  );
  await processor.shutdown();
})();
