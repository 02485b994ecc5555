// An idle process (no spans, no work) with the processor in span or continuous mode: the CPU it
// uses and what the engine did, for issue 20. Usage:
//   node bench/continuous-idle.js <native|probe> <spans|continuous> [millis, default 5000]  (after npm run build)
// Prints one JSON line. Compare modes side by side, on a quiet machine, over several runs.
const path = require('node:path');
const { ProfilingSpanProcessor, InMemoryProfileExporter } = require(process.env.BENCH_DIST || path.join(__dirname, '..', 'dist'));
const engine = process.argv[2];
const exporter = new InMemoryProfileExporter();
const mode = process.argv[3] || 'continuous';
const p = new ProfilingSpanProcessor({ exporter, engine, mode, continuousPeriodMillis: 1000 });
const cpu0 = process.cpuUsage();
const t0 = performance.now();
setTimeout(
  async () => {
    await p.shutdown();
    const cpu = process.cpuUsage(cpu0);
    const s = p.stats;
    console.log(
      JSON.stringify({
        engine: s.engine.name,
        wallMs: Math.round(performance.now() - t0),
        processCpuMs: Math.round((cpu.user + cpu.system) / 1000),
        samplesTaken: s.engine.samplesTaken,
        offCpuTicks: s.engine.offCpuTicks,
        mode,
        kept: s.continuous?.samples,
        idle: s.continuous?.idleSamples,
        periods: s.continuous?.periods,
        exportedSamples: exporter.getFinishedProfiles().reduce((n, x) => n + x.samples.length, 0),
        overheadPercent: s.engine.overheadPercent,
        rotations: s.engine.rotations,
        rotationMillis: Math.round(s.engine.rotationMillis),
      }),
    );
  },
  Number(process.argv[4] || 5000),
);
