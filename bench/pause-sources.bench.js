'use strict';
// Who makes the pauses that running code sees, with every thread of the process on one core.
// A child process runs requests that spin reading the clock (the `gaps` workload: every gap over
// 20 us between two reads is a pause) under a root span, with or without otel-span-profiler at
// its default settings. After a warm-up, `perf record -e sched:sched_switch` watches the core
// for the measuring window, and each stretch in which the main thread was runnable but another
// thread held the core is charged to the thread that held it longest. Preemptions also happen
// between requests, outside the spinning code, so they can outnumber the pauses that code saw.
// The child names its threads by when they
// appeared: V8/libuv threads at start-up, the sampling thread at the first profiled root, later
// ones (the source-map thread at the first export, libuv's pool).
//
// Linux only; needs perf with access to sched tracepoints (root, or perf_event_paranoid <= -1),
// and `npm run build` at the repository root first.
// Run: node bench/pause-sources.bench.js [--profiler on|off] [--warmup-seconds 8] [--seconds 10]

const { spawn, execFileSync, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { parseArgs, save, machine, log } = require('./lib/harness');

const CHILD = `
const fs = require('node:fs');
const { execFileSync } = require('node:child_process');
execFileSync('taskset', ['-a', '-p', '-c', '0', String(process.pid)], { stdio: 'ignore' });
const otel = require(${JSON.stringify(path.join(__dirname, 'lib', 'tracers', 'otel'))});
const workloads = require(${JSON.stringify(path.join(__dirname, 'lib', 'workloads'))});
const on = process.env.PROFILER === 'on';
const tids = () => fs.readdirSync('/proc/self/task').map(Number);
const roles = Object.fromEntries(tids().filter((t) => t !== process.pid).map((t) => [t, 'runtime (V8, libuv)']));
roles[process.pid] = 'main';
const tracing = otel.init({ profiler: on, toggle: false, samplingFrequencyHz: 99 });
let stop = false;
let requests = 0;
const tag = () => {
  for (const t of tids()) if (!(t in roles)) roles[t] = requests <= 1 ? 'sampling thread' : 'started later (source-map thread, libuv pool)';
};
(async () => {
  while (!stop) {
    await tracing.withSpan('request', () => workloads.gaps({ url: '/' }, tracing));
    requests++;
    tag();
    await new Promise((r) => setImmediate(r));
  }
})();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
(async () => {
  await sleep(Number(process.env.WARMUP_SECONDS) * 1000);
  workloads.takeGapStats();
  process.send({ measuring: true });
  await sleep(Number(process.env.SECONDS) * 1000);
  const gaps = workloads.takeGapStats();
  tag();
  stop = true;
  const stats = tracing.profilerStats();
  process.send({ gaps, roles, probes: stats && stats.engine.samplesTaken, tickRateHz: stats && stats.engine.tickRateHz });
  await tracing.shutdown();
  process.exit(0);
})();
`;

async function main() {
  const opts = parseArgs({ profiler: 'on', warmupSeconds: 8, seconds: 10 });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pause-sources-'));
  const data = path.join(dir, 'sched.data');
  const child = spawn(process.execPath, ['-e', CHILD], {
    env: { ...process.env, PROFILER: opts.profiler, WARMUP_SECONDS: String(opts.warmupSeconds), SECONDS: String(opts.seconds) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let perf;
  const report = await new Promise((resolve, reject) => {
    child.on('message', (m) => {
      if (m.measuring) {
        perf = spawn('perf', ['record', '-q', '-e', 'sched:sched_switch', '-C', '0', '-o', data, '--', 'sleep', String(opts.seconds)], {
          stdio: 'ignore',
        });
      } else {
        resolve(m);
      }
    });
    child.on('exit', (code) => code !== 0 && reject(new Error(`child exited with ${code}`)));
  });
  await new Promise((r) => (perf.exitCode !== null ? r() : perf.on('exit', r)));
  const pid = child.pid;
  const script = spawnSync('perf', ['script', '-i', data, '-F', 'time,trace'], { encoding: 'utf8', maxBuffer: 1 << 28 }).stdout;
  fs.rmSync(dir, { recursive: true, force: true });

  // Each switch: time, the thread leaving and its state, the thread coming in.
  const switches = [];
  for (const line of script.split('\n')) {
    const m = /([\d.]+):\s+prev_comm=.*? prev_pid=(\d+) .*?prev_state=(\S+) ==> next_comm=.*? next_pid=(\d+)/.exec(line);
    if (m) switches.push({ t: Number(m[1]), prev: Number(m[2]), state: m[3], next: Number(m[4]) });
  }
  const roleOf = (tid) => (tid === 0 ? 'idle' : (report.roles[tid] ?? (tid === pid ? 'main' : 'other processes')));
  const preemptions = [];
  let out;
  for (let i = 0; i < switches.length; i++) {
    const s = switches[i];
    if (s.prev === pid) out = { start: s.t, preempted: s.state.startsWith('R'), index: i };
    if (s.next === pid && out !== undefined) {
      if (out.preempted) {
        const byRole = {};
        for (let j = out.index; j < i; j++) {
          const who = roleOf(switches[j].next);
          byRole[who] = (byRole[who] ?? 0) + (switches[j + 1].t - switches[j].t) * 1000;
        }
        preemptions.push({ millis: (s.t - out.start) * 1000, byRole });
      }
      out = undefined;
    }
  }
  const over1 = preemptions.filter((p) => p.millis > 1);
  const charged = {};
  for (const p of over1) {
    const [who] = Object.entries(p.byRole).sort((a, b) => b[1] - a[1])[0];
    charged[who] = (charged[who] ?? 0) + 1;
  }
  const gapsOver1 = Math.round(report.gaps.gapsOver1MillisPerSecond * report.gaps.busySeconds);
  const result = {
    name: `pause-sources-${opts.profiler === 'on' ? 'profiler' : 'baseline'}`,
    date: new Date().toISOString(),
    machine: machine(),
    kernel: execFileSync('uname', ['-r'], { encoding: 'utf8' }).trim(),
    options: opts,
    gaps: report.gaps,
    probes: report.probes,
    tickRateHz: report.tickRateHz,
    pausesOver1Millis: gapsOver1,
    preemptionsOver1Millis: over1.length,
    preemptionsOver1MillisByLongestRunner: charged,
    preemptionsOver1MillisList: over1.map((p) => ({
      millis: +p.millis.toFixed(2),
      byRole: Object.fromEntries(Object.entries(p.byRole).map(([k, v]) => [k, +v.toFixed(2)])),
    })),
  };
  save(result.name, result);
  log(`== ${result.name}: ${opts.seconds} s after ${opts.warmupSeconds} s of warm-up, every thread on CPU 0`);
  log(
    `  pauses > 1 ms seen by running code: ${gapsOver1} (${report.gaps.gapsOver1MillisPerSecond.toFixed(2)}/s), longest ${report.gaps.gapMaxMillis.toFixed(2)} ms; > 200 us: ${report.gaps.gapsOver200MicrosPerSecond.toFixed(1)}/s`,
  );
  log(
    `  the main thread preempted for > 1 ms (in or between requests): ${over1.length}, by (the thread that ran longest): ${JSON.stringify(charged)}`,
  );
  if (report.probes !== undefined) log(`  probes: ${report.probes}, tick rate ${report.tickRateHz} Hz`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
