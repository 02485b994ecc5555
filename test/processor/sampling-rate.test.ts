import * as assert from 'node:assert';
import { spin, setUpProfiledTracing, type ProfiledTracing } from '../helpers/tracing';

const HZ = 99;

/**
 * Ticks per second of profiling (time with at least one profiled root open), and probes per
 * wall second. A tick is a probe, or a tick that found the main thread asleep and sent none.
 */
async function measure(tracing: ProfiledTracing, run: () => Promise<void>) {
  const before = tracing.processor.stats;
  const wallStart = process.hrtime.bigint();
  await run();
  const wallNanos = Number(process.hrtime.bigint() - wallStart);
  const after = tracing.processor.stats;
  const probes = after.probes - before.probes;
  const ticks = probes + after.offCpuTicks - before.offCpuTicks + after.skippedTicks - before.skippedTicks;
  const activeSeconds = Number(after.activeNanos - before.activeNanos) / 1e9;
  return { probes, ticks, perActiveSecond: ticks / activeSeconds, perWallSecond: probes / (wallNanos / 1e9), activeSeconds };
}

describe('ProfilingSpanProcessor sampling rate (counted probes)', function () {
  let tracing: ProfiledTracing;
  beforeEach(function () {
    tracing = setUpProfiledTracing({ samplingFrequencyHz: HZ });
  });
  afterEach(async function () {
    await tracing.close();
  });

  it('should hold the configured rate when roots open and close constantly, one at a time', async function () {
    let roots = 0;
    const result = await measure(tracing, async () => {
      const end = performance.now() + 3000;
      while (performance.now() < end) {
        await tracing.tracer.startActiveSpan('one at a time', async (span) => {
          spin(0.3);
          await new Promise((r) => setImmediate(r));
          spin(0.2);
          span.end();
        });
        roots++;
        // Sampling stops here and restarts with the next root, often within one period.
        await new Promise((r) => setImmediate(r));
      }
    });
    assert.ok(roots > 1000, `only ${roots} roots: the churn this test is about did not happen`);
    assert.ok(
      Math.abs(result.perActiveSecond - HZ) <= 0.2 * HZ,
      `${result.ticks} ticks (${result.probes} probes) in ${result.activeSeconds.toFixed(2)} s of profiling = ${result.perActiveSecond.toFixed(1)} Hz, want ${HZ} Hz ±20%`
    );
    assert.ok(result.perWallSecond <= 1.2 * HZ, `${result.perWallSecond.toFixed(1)} probes per wall second: the rate ran away`);
  });

  it('should hold the configured rate with 1000 roots open at once', async function () {
    const result = await measure(tracing, async () => {
      const spans = Array.from({ length: 1000 }, (_, i) => tracing.tracer.startSpan(`open ${i}`));
      const end = performance.now() + 3000;
      while (performance.now() < end) {
        spin(2);
        await new Promise((r) => setTimeout(r, 1));
      }
      for (const span of spans) span.end();
    });
    assert.strictEqual(tracing.processor.stats.profiledRoots, 1000);
    assert.ok(
      Math.abs(result.perActiveSecond - HZ) <= 0.2 * HZ,
      `${result.ticks} ticks (${result.probes} probes) in ${result.activeSeconds.toFixed(2)} s = ${result.perActiveSecond.toFixed(1)} Hz, want ${HZ} Hz ±20%`
    );
    assert.ok(result.perWallSecond <= 1.2 * HZ, `${result.perWallSecond.toFixed(1)} probes per wall second: the rate ran away`);
  });

  it('should send no probe to a sleeping main thread, and count its ticks as off-CPU', async function () {
    if (process.platform !== 'linux') this.skip();
    const before = tracing.processor.stats;
    let periodNanos = 0;
    await tracing.tracer.startActiveSpan('mostly asleep', async (span) => {
      // Busy, asleep, busy: the profile needs samples, the sleep must take none.
      spin(150);
      await new Promise((r) => setTimeout(r, 600));
      spin(150);
      span.end();
    });
    const after = tracing.processor.stats;
    await tracing.processor.forceFlush();
    periodNanos = tracing.exporter.getFinishedProfiles()[0]?.periodNanos ?? 0;
    const offCpu = after.offCpuTicks - before.offCpuTicks;
    const probes = after.probes - before.probes;
    // 600 ms asleep is ~59 ticks; 300 ms busy is ~30 probes.
    assert.ok(offCpu >= 40, `only ${offCpu} ticks found the main thread asleep`);
    assert.ok(probes >= 20 && probes <= 45, `${probes} probes for ~300 ms on the CPU`);
    // Each sample still stands for one tick: the period is the tick interval, not the gap between probes.
    assert.ok(Math.abs(periodNanos - 1e9 / HZ) <= 0.2 * (1e9 / HZ), `period ${periodNanos} ns`);
  });

  it('should keep sampling across the sampling thread\'s session renewals (one per 1024 probes)', async function () {
    await tracing.close();
    tracing = setUpProfiledTracing({ samplingFrequencyHz: 1000 });
    const before = tracing.processor.stats;
    await tracing.tracer.startActiveSpan('long and busy', async (span) => {
      // ~3000 ticks: two renewals, each of which retires a session and its pending probes.
      for (let i = 0; i < 30; i++) {
        spin(100);
        await new Promise((r) => setImmediate(r));
      }
      span.end();
    });
    const after = tracing.processor.stats;
    const probes = after.probes - before.probes;
    const samples = after.samples - before.samples;
    assert.ok(probes >= 2100, `${probes} probes in ~3 s at 1000 Hz: sampling stalled`);
    assert.ok(samples >= 0.9 * probes, `${samples} of ${probes} probes charged to the open root`);
    const skipped = after.skippedTicks - before.skippedTicks;
    assert.ok(skipped <= 0.05 * probes, `${skipped} ticks skipped: probes stopped coming back`);
  });

  it('should take no probe while no profiled root is open', async function () {
    await tracing.tracer.startActiveSpan('warm up', async (span) => {
      spin(50);
      span.end();
    });
    const before = tracing.processor.stats.probes;
    spin(300);
    await new Promise((r) => setTimeout(r, 100));
    const after = tracing.processor.stats;
    // A probe posted just before the last root closed may still land: at most one.
    assert.ok(after.probes - before <= 1, `${after.probes - before} probes while nothing was profiled`);
    assert.strictEqual(after.openRoots, 0);
  });
});
