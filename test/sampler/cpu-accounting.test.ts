import * as assert from 'node:assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { setUpProfiledTracing, spin, type ProfiledTracing } from '../helpers/tracing';

const HZ = 99;
const INTERVAL_NANOS = 1e9 / HZ;

/** The main thread's on-CPU nanoseconds, as the sampler reads them (Linux). */
function mainThreadCpuNanos(): number {
  return Number(readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'utf8').split(' ')[0]);
}

/** Busy-loop processes that compete with this one for the cores; each ends by itself after `millis`. */
function startContention(count: number, millis: number): ChildProcess[] {
  const children: ChildProcess[] = [];
  for (let i = 0; i < count; i++) {
    children.push(spawn(process.execPath, ['-e', `const end = Date.now() + ${millis}; while (Date.now() < end);`], { stdio: 'ignore' }));
  }
  return children;
}

describe('ProbeSampler CPU accounting (real sampling, Linux)', function () {
  this.timeout(120_000);
  let tracing: ProfiledTracing | undefined;
  let children: ChildProcess[] = [];
  before(function () {
    if (process.platform !== 'linux') this.skip();
  });
  afterEach(async function () {
    for (const child of children) if (child.exitCode === null && child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
    children = [];
    await tracing?.close();
    tracing = undefined;
  });

  it('should take no bursts of samples and charge the measured CPU time when the cores are oversubscribed', async function () {
    // Three busy processes per core: the main thread is runnable much of the time but not
    // running. Queued probes used to run back to back when it got the core back.
    children = startContention(3 * availableParallelism(), 60_000);
    await new Promise((r) => setTimeout(r, 300));
    tracing = setUpProfiledTracing({ engine: 'probe', samplingFrequencyHz: HZ });
    const { tracer, processor, exporter } = tracing;
    let measuredCpu = 0;
    for (let i = 0; i < 4; i++) {
      await tracer.startActiveSpan(`contended ${i}`, async (span) => {
        const before = mainThreadCpuNanos();
        // Wall-clock spinning: the thread wants the CPU all the time and gets a share of it.
        spin(1500);
        measuredCpu += mainThreadCpuNanos() - before;
        span.end();
      });
      await new Promise((r) => setTimeout(r, 20));
    }
    await processor.forceFlush();
    const profiles = exporter.getFinishedProfiles();
    const samples = profiles.flatMap((p) => p.samples);
    const stats = processor.stats;
    assert.ok(stats.engine.cpuTimeMeasured, 'the sampler did not measure CPU time on Linux');
    assert.ok(samples.length >= 20, `only ${samples.length} samples (stats ${JSON.stringify(stats)})`);

    // No bursts: at most one probe is in flight, and none goes out within half an interval of
    // the last one that ran. Before, 37-51% of gaps on such a host were under 1 ms.
    const times = samples.map((s) => s.timeUnixNano).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    let shortGaps = 0;
    for (let i = 1; i < times.length; i++) if (times[i] - times[i - 1] < 1_000_000n) shortGaps++;
    assert.ok(shortGaps <= 0.02 * times.length, `${shortGaps} of ${times.length - 1} gaps between samples were under 1 ms`);

    // Conservation: the samples' CPU values sum to the CPU the thread used while the roots were
    // open. What may differ is bounded per root: the CPU of the tick interval around each of
    // its two ends (ACTIVE is read at ticks), and CPU still pending when it closed (at most the
    // interval before the last probe plus one more): four intervals per root, the thread being
    // on the CPU at most all of each.
    const charged = samples.reduce((sum, s) => sum + s.cpuNanos, 0);
    const tolerance = 4 * 4 * INTERVAL_NANOS;
    assert.ok(
      Math.abs(charged - measuredCpu) <= tolerance,
      `samples charge ${(charged / 1e6).toFixed(1)} ms of CPU, the thread used ${(measuredCpu / 1e6).toFixed(1)} ms (tolerance ${(tolerance / 1e6).toFixed(0)} ms)`,
    );
    // And the contention really was there: the thread did not get the CPU all the time.
    assert.ok(measuredCpu < 0.9 * 4 * 1500e6, `the main thread was not contended (${(measuredCpu / 1e6).toFixed(0)} ms of CPU in 6 s)`);
  });

  it('should sum the samples to the CPU time measured without contention too, whatever the rate', async function () {
    tracing = setUpProfiledTracing({ engine: 'probe', samplingFrequencyHz: 37 });
    const { tracer, processor, exporter } = tracing;
    let measuredCpu = 0;
    await tracer.startActiveSpan('alone', async (span) => {
      const before = mainThreadCpuNanos();
      for (let i = 0; i < 10; i++) {
        spin(100);
        await new Promise((r) => setTimeout(r, 10));
      }
      measuredCpu += mainThreadCpuNanos() - before;
      span.end();
    });
    await processor.forceFlush();
    const samples = exporter.getFinishedProfiles().flatMap((p) => p.samples);
    const charged = samples.reduce((sum, s) => sum + s.cpuNanos, 0);
    assert.ok(
      samples.every((s) => s.cpuNanos > 0),
      'a sample without CPU time',
    );
    const tolerance = 4 * (1e9 / 37);
    assert.ok(
      Math.abs(charged - measuredCpu) <= tolerance,
      `samples charge ${(charged / 1e6).toFixed(1)} ms, the thread used ${(measuredCpu / 1e6).toFixed(1)} ms (tolerance ${(tolerance / 1e6).toFixed(0)} ms)`,
    );
  });
});
