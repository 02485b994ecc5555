'use strict';
// Where otel-span-profiler's cost goes, on the reference service: CPU per thread (main thread,
// the sampling thread, V8's GC/compiler threads) with and without the profiler, alternating
// pairs; then one profiled run under `node --cpu-prof` with the time spent in or under the
// library's frames on the main thread. The sampling thread is the one thread the profiled
// server has beyond the baseline's (its last-created thread); it is not in the cpuprofile.
// Needs `npm run build` at the repository root first.
// Run: node bench/profile-of-profiler.bench.js [--pairs 3] [--workload mixed|async|cpu]

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { runOnce, parseArgs, save, machine, log, pinSelf, summary } = require('./lib/harness');
const { summarise } = require('./lib/cpuprofile-summary');

function split(run) {
  const pid = Math.min(...Object.keys(run.server.threadCpuSeconds).map((k) => Number(k.split(' ')[0])));
  const entries = Object.entries(run.server.threadCpuSeconds).map(([k, v]) => [Number(k.split(' ')[0]), v]);
  const maxTid = Math.max(...entries.map(([t]) => t));
  const per1k = (s) => (s / run.server.requests) * 1000;
  const main = entries.find(([t]) => t === pid)[1];
  const sampler = run.server.profiler ? entries.find(([t]) => t === maxTid)[1] : 0;
  const others = entries.reduce((a, [, v]) => a + v, 0) - main - sampler;
  return { mainPer1k: per1k(main), samplerPer1k: per1k(sampler), otherThreadsPer1k: per1k(others) };
}

async function main() {
  const opts = parseArgs({ pairs: 3, requests: 15000, warmupRequests: 3000, concurrency: 64, pin: true, workload: 'mixed' });
  pinSelf(1);
  const run = { pin: true, requests: opts.requests, warmupRequests: opts.warmupRequests, concurrency: opts.concurrency };
  const rows = [];
  for (let i = 0; i < opts.pairs; i++) {
    const a = split(await runOnce({ tracer: 'otel', workload: opts.workload, profiler: false }, run));
    const b = split(await runOnce({ tracer: 'otel', workload: opts.workload, profiler: true }, run));
    rows.push({ a, b });
    log(
      `pair ${i + 1}: CPU s/1k requests main ${a.mainPer1k.toFixed(3)} -> ${b.mainPer1k.toFixed(3)}, ` +
        `sampling thread ${b.samplerPer1k.toFixed(4)}, other threads ${a.otherThreadsPer1k.toFixed(3)} -> ${b.otherThreadsPer1k.toFixed(3)}`,
    );
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-cpuprof-'));
  await runOnce({ tracer: 'otel', workload: opts.workload, profiler: true }, { ...run, execArgv: ['--cpu-prof', '--cpu-prof-dir', dir] });
  const file = path.join(
    dir,
    fs.readdirSync(dir).find((f) => f.endsWith('.cpuprofile')),
  );
  const distDir = process.env.BENCH_DIST || path.resolve(__dirname, '..', 'dist');
  const cpuprofile = summarise(file, distDir, 15);
  fs.rmSync(dir, { recursive: true, force: true });
  const result = {
    name: `profile-of-profiler-${opts.workload}`,
    date: new Date().toISOString(),
    machine: machine(),
    options: opts,
    cpuPer1kRequests: {
      mainThread: { a: summary(rows.map((r) => r.a.mainPer1k)), b: summary(rows.map((r) => r.b.mainPer1k)) },
      samplingThread: { b: summary(rows.map((r) => r.b.samplerPer1k)) },
      otherThreads: { a: summary(rows.map((r) => r.a.otherThreadsPer1k)), b: summary(rows.map((r) => r.b.otherThreadsPer1k)) },
    },
    rows,
    cpuprofile: {
      underLibraryShareOfBusy: cpuprofile.underLibraryShareOfBusy,
      underLibraryMillis: cpuprofile.underLibraryMillis,
      totalMillis: cpuprofile.totalMillis,
      idleProgramGcMillis: cpuprofile.idleProgramGcMillis,
      topUnderLibrary: cpuprofile.topUnderLibrary,
    },
  };
  save(result.name, result);
  log(JSON.stringify(result.cpuPer1kRequests));
  log(`main thread under the library's frames (--cpu-prof): ${(cpuprofile.underLibraryShareOfBusy * 100).toFixed(1)}% of busy time`);
  for (const [fn, ms] of cpuprofile.topUnderLibrary) log(`  ${ms.toFixed(1).padStart(8)} ms  ${fn}`);
}
main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
