import * as assert from 'node:assert';
import { DiagRecorder } from '../helpers/diag-recorder';
import { setUpProfiledTracing, spin, spinUntilSampled, type ProfiledTracing } from '../helpers/tracing';

describe('ProfilingSpanProcessor caps', function () {
  let tracing: ProfiledTracing | undefined;
  const diagRecorder = new DiagRecorder();
  beforeEach(function () {
    diagRecorder.install();
  });
  afterEach(async function () {
    await tracing?.close();
    tracing = undefined;
    diagRecorder.uninstall();
  });

  describe('maxProfileDurationMillis', function () {
    it('should close an open profile at the cap, mark it truncated and export it before the root ends', async function () {
      tracing = setUpProfiledTracing({ maxProfileDurationMillis: 200 });
      const { tracer, processor, exporter } = tracing;
      const root = tracer.startSpan('long');
      const rootId = root.spanContext().spanId;
      const { trace, context } = await import('@opentelemetry/api');
      const ctx = trace.setSpan(context.active(), root);
      // Busy well past the cap, in slices, so the sweep (every second) gets to run.
      const end = performance.now() + 1600;
      while (performance.now() < end) {
        context.with(ctx, () => spin(20));
        await new Promise((r) => setTimeout(r, 1));
      }
      await processor.forceFlush();
      const profiles = exporter.getFinishedProfiles();
      assert.strictEqual(profiles.length, 1, 'the truncated profile was not exported while its root was open');
      const [profile] = profiles;
      assert.strictEqual(profile.rootSpanId, rootId);
      assert.strictEqual(profile.truncated, true);
      assert.strictEqual(profile.endTimeUnixNano - profile.startTimeUnixNano, 200_000_000n);
      assert.ok(profile.samples.length > 0);
      for (const sample of profile.samples) {
        assert.ok(sample.timeUnixNano >= profile.startTimeUnixNano && sample.timeUnixNano <= profile.endTimeUnixNano, 'sample outside the window');
      }
      root.end();
      await processor.forceFlush();
      assert.strictEqual(exporter.getFinishedProfiles().length, 1, 'the root produced a second profile when it ended');
      assert.strictEqual(processor.stats.truncatedProfiles, 1);
      assert.strictEqual(processor.stats.openRoots, 0);
      assert.strictEqual(processor.stats.samplingActive, false);
    });
  });

  describe('maxOpenProfiles', function () {
    it('should not profile roots beyond the cap, count them and warn once', async function () {
      tracing = setUpProfiledTracing({ maxOpenProfiles: 3 });
      const spans = Array.from({ length: 6 }, (_, i) => tracing!.tracer.startSpan(`root ${i}`));
      const stats = tracing.processor.stats;
      assert.strictEqual(stats.profiledRoots, 3);
      assert.strictEqual(stats.openRoots, 3);
      assert.strictEqual(stats.dropped.maxOpenProfiles, 3);
      assert.deepStrictEqual(diagRecorder.records.filter((r) => r.message.includes('maxOpenProfiles')), [
        {
          level: 'warn',
          namespace: 'otel-span-profiler/processor',
          message: '3 profiled roots are open; more roots are not profiled (cap maxOpenProfiles); further drops are counted in stats.dropped.maxOpenProfiles',
        },
      ]);
      for (const span of spans) span.end();
      assert.strictEqual(tracing.processor.stats.openRoots, 0);
    });
  });

  describe('maxSamplesPerProfile', function () {
    it('should keep the first samples up to the cap and count the rest', async function () {
      tracing = setUpProfiledTracing({ maxSamplesPerProfile: 5 });
      const { tracer, processor, exporter } = tracing;
      tracer.startActiveSpan('busy', (span) => {
        spinUntilSampled(processor, 5);
        // Every probe from here on is refused by the cap.
        const dropsBefore = processor.stats.dropped.maxSamplesPerProfile;
        const end = performance.now() + 10_000;
        while (processor.stats.dropped.maxSamplesPerProfile < dropsBefore + 3 && performance.now() < end) spin(2);
        span.end();
      });
      await processor.forceFlush();
      const [profile] = exporter.getFinishedProfiles();
      assert.strictEqual(profile.samples.length, 5);
      assert.ok(profile.droppedSamples >= 3, `droppedSamples ${profile.droppedSamples}`);
      assert.strictEqual(processor.stats.dropped.maxSamplesPerProfile, profile.droppedSamples);
      assert.strictEqual(diagRecorder.messages('warn').filter((m) => m.includes('maxSamplesPerProfile')).length, 1);
    });
  });
});
