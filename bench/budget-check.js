// Run from the repository root after npm run build: node bench/budget-check.js [nocap]
// Prints the sampler's stats after 8 s of 2-ms CPU-bound roots, one at a time.
const { context } = require('@opentelemetry/api');
const { AsyncLocalStorageContextManager } = require('@opentelemetry/context-async-hooks');
const { BasicTracerProvider } = require('@opentelemetry/sdk-trace-base');
const { ProfilingSpanProcessor, InMemoryProfileExporter } = require(process.cwd() + '/dist/index.js');
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
const opts = process.argv[2] === 'nocap' ? { maxOverheadPercent: Infinity } : {};
const processor = new ProfilingSpanProcessor({ exporter: new InMemoryProfileExporter(), ...opts });
const tracer = new BasicTracerProvider({ spanProcessors: [processor] }).getTracer('b');
function work(d) {
  if (d === 0) {
    let x = 0;
    for (let i = 0; i < 2e4; i++) x += Math.sqrt(i);
    return x;
  }
  return work(d - 1);
}
(async () => {
  const end = Date.now() + 8000;
  while (Date.now() < end) {
    await tracer.startActiveSpan('req', async (s) => {
      const e = performance.now() + 2;
      while (performance.now() < e) work(20);
      s.end();
    });
    await new Promise((r) => setImmediate(r));
  }
  const st = processor.stats;
  console.log(
    JSON.stringify({
      probes: st.engine.samplesTaken,
      tickRateHz: st.engine.tickRateHz,
      overheadPercent: st.engine.overheadPercent,
      probeCostMicros: st.engine.sampleCostMicros,
      skipped: st.engine.skippedTicks,
      offCpu: st.engine.offCpuTicks,
      noCpu: st.engine.noCpuTicks,
      probesPerSec: st.engine.samplesTaken / (st.engine.activeNanos / 1e9),
    }),
  );
  await processor.shutdown();
})();
