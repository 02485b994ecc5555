import * as assert from 'node:assert';
import { DiagRecorder } from '../helpers/diag-recorder';
import { setUpProfiledTracing, spin, type ProfiledTracing } from '../helpers/tracing';

describe('ProbeSampler overhead budget (maxOverheadPercent)', function () {
  this.timeout(60_000);
  let tracing: ProfiledTracing | undefined;
  let recorder: DiagRecorder | undefined;
  afterEach(async function () {
    await tracing?.close();
    tracing = undefined;
    recorder?.uninstall();
    recorder = undefined;
  });

  it('should lower the tick rate below samplingFrequencyHz to stay within the budget, report it in stats and log it at debug level', async function () {
    recorder = new DiagRecorder().install();
    // 0.01% of the main thread: no probe anywhere costs less than 1 us, so 99 Hz (>= 0.0099%
    // at 1 us, in practice 100-300 us: 1-3%) is always over it and the rate must fall.
    tracing = setUpProfiledTracing({ engine: 'probe', samplingFrequencyHz: 99, maxOverheadPercent: 0.01 });
    const { tracer, processor } = tracing;
    const rateLogs = () => recorder!.records.filter((r) => r.level === 'debug' && /tick rate now/.test(r.message));
    await tracer.startActiveSpan('busy', async (span) => {
      // Until the change is logged (the check runs every 5 s), 30 s at most.
      const end = performance.now() + 30_000;
      while (rateLogs().length === 0 && performance.now() < end) {
        spin(20);
        await new Promise((r) => setImmediate(r));
      }
      span.end();
    });
    const stats = processor.stats;
    assert.ok(stats.engine.tickRateHz < 99, `tick rate ${stats.engine.tickRateHz} Hz`);
    assert.strictEqual(typeof stats.engine.overheadPercent, 'number');
    assert.ok(stats.engine.sampleCostMicros !== null && stats.engine.sampleCostMicros > 0, `probe cost ${stats.engine.sampleCostMicros}`);
    assert.ok(stats.engine.samplesTaken > 0);
    const logs = rateLogs();
    assert.ok(logs.length >= 1, 'the rate change was not logged');
    assert.strictEqual(logs[0].namespace, 'otel-span-profiler/sampler');
    // One line per change, not per window or per probe.
    assert.ok(logs.length <= 6, `${logs.length} rate lines`);
    // Stats are plain JSON.
    assert.deepStrictEqual(JSON.parse(JSON.stringify(stats)).engine.tickRateHz, stats.engine.tickRateHz);
  });

  it('should keep the configured rate when the budget is off (Infinity)', async function () {
    tracing = setUpProfiledTracing({ engine: 'probe', samplingFrequencyHz: 99, maxOverheadPercent: Infinity });
    await tracing.tracer.startActiveSpan('busy', async (span) => {
      for (let i = 0; i < 15; i++) {
        spin(100);
        await new Promise((r) => setImmediate(r));
      }
      span.end();
    });
    const stats = tracing.processor.stats;
    assert.strictEqual(stats.engine.tickRateHz, 99);
    assert.strictEqual(typeof stats.engine.overheadPercent, 'number', 'the overhead is measured even without a cap');
  });
});
