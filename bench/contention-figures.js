// Figures behind the contention test, for the report: run from the worktree root.
// ENGINE=native|probe picks the engine (default: the library's default, auto).
const { spawn } = require('node:child_process');
const { readFileSync } = require('node:fs');
const { context } = require('@opentelemetry/api');
const { AsyncLocalStorageContextManager } = require('@opentelemetry/context-async-hooks');
const { BasicTracerProvider } = require('@opentelemetry/sdk-trace-base');
const { ProfilingSpanProcessor, InMemoryProfileExporter } = require(process.env.LIB || process.cwd() + '/dist/index.js');
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
const cpu = () => Number(readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'utf8').split(' ')[0]);
const kids = Array.from({ length: 6 }, () =>
  spawn(process.execPath, ['-e', 'const e=Date.now()+20000; while(Date.now()<e);'], { stdio: 'ignore' }),
);
const exporter = new InMemoryProfileExporter();
const processor = new ProfilingSpanProcessor({
  exporter,
  maxOverheadPercent: Infinity,
  ...(process.env.ENGINE ? { engine: process.env.ENGINE } : {}),
});
const tracer = new BasicTracerProvider({ spanProcessors: [processor] }).getTracer('c');
function spin(ms) {
  const e = performance.now() + ms;
  let x = 0;
  while (performance.now() < e) for (let i = 0; i < 1000; i++) x += Math.sqrt(i);
  return x;
}
(async () => {
  await new Promise((r) => setTimeout(r, 300));
  let measured = 0;
  let wall = 0;
  for (let i = 0; i < 4; i++) {
    await tracer.startActiveSpan('r', async (s) => {
      const b = cpu();
      const w = performance.now();
      spin(1500);
      measured += cpu() - b;
      wall += performance.now() - w;
      s.end();
    });
    await new Promise((r) => setTimeout(r, 20));
  }
  await processor.forceFlush();
  const samples = exporter.getFinishedProfiles().flatMap((p) => p.samples);
  const t = samples.map((s) => s.timeUnixNano).sort((a, b) => (a < b ? -1 : 1));
  let short = 0;
  for (let i = 1; i < t.length; i++) if (t[i] - t[i - 1] < 1000000n) short++;
  const charged = samples.reduce((a, s) => a + (s.cpuNanos || 0), 0);
  const st = processor.stats;
  console.log(
    JSON.stringify({
      engine: st.engine.name,
      samples: samples.length,
      samplesPerWallSecond: samples.length / (wall / 1000),
      shortGaps: short,
      chargedMs: charged / 1e6,
      measuredMs: measured / 1e6,
      countTimesPeriodMs: (samples.length * 1000) / 99,
      skipped: st.engine.skippedTicks,
      noCpu: st.engine.noCpuTicks,
      offCpu: st.engine.offCpuTicks,
    }),
  );
  for (const k of kids) process.kill(k.pid, 'SIGKILL');
  await processor.shutdown();
})();
