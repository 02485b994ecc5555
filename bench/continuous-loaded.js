// A busy process: sequential root spans each doing a fixed amount of CPU work (a fixed loop, not
// a duration), with the processor in span or continuous mode, or absent. Prints the process CPU
// per root, for issue 20. Usage (after npm run build):
//   node bench/continuous-loaded.js <native|probe|off> <spans|continuous> [roots, default 600]
// Compare side by side, alternating, over several runs; report ratios to 'off', never absolutes.
const path = require('node:path');
const { context } = require('@opentelemetry/api');
const { AsyncLocalStorageContextManager } = require('@opentelemetry/context-async-hooks');
const { BasicTracerProvider } = require('@opentelemetry/sdk-trace-base');
const { ProfilingSpanProcessor, InMemoryProfileExporter } = require(process.env.BENCH_DIST || path.join(__dirname, '..', 'dist'));

const [engine, mode, rootsArg] = process.argv.slice(2);
const roots = Number(rootsArg || 600);
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
const processor = engine === 'off' ? undefined : new ProfilingSpanProcessor({ exporter: new InMemoryProfileExporter(), engine, mode });
const tracer = new BasicTracerProvider({ spanProcessors: processor ? [processor] : [] }).getTracer('bench');

function work() {
  let x = 0;
  for (let i = 0; i < 400_000; i++) x += Math.sqrt(i);
  return x;
}

(async () => {
  // Warm-up: the engine starts (native: V8's profiler start pause) and the JIT settles.
  for (let i = 0; i < 50; i++)
    await tracer.startActiveSpan('warm', async (s) => {
      work();
      await new Promise((r) => setImmediate(r));
      s.end();
    });
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < roots; i++) {
    await tracer.startActiveSpan('GET /bench', async (span) => {
      work();
      await new Promise((r) => setImmediate(r));
      span.end();
    });
  }
  const cpu = process.cpuUsage(cpu0);
  const wallMs = performance.now() - t0;
  const stats = processor?.stats;
  await processor?.shutdown();
  console.log(
    JSON.stringify({
      engine,
      mode,
      roots,
      wallMs: Math.round(wallMs),
      cpuMicrosPerRoot: Math.round((cpu.user + cpu.system) / roots),
      samples: stats?.engine.samplesTaken,
      tickRateHz: stats?.engine.tickRateHz,
    }),
  );
})();
