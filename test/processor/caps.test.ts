import * as assert from 'node:assert';
import { context, diag, DiagLogLevel, trace } from '@opentelemetry/api';
import { DiagRecorder } from '../helpers/diag-recorder';
import { ENGINES, setUpProfiledTracing, spin, spinUntilSampled, type ProfiledTracing } from '../helpers/tracing';

for (const engine of ENGINES)
  describe(`ProfilingSpanProcessor caps [${engine} engine]`, function () {
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
        tracing = setUpProfiledTracing({ engine, maxProfileDurationMillis: 400 });
        const { tracer, processor, exporter } = tracing;
        // Sampling already running, so the long root's first samples come well within its cap even
        // on a loaded machine (the sampling thread keeps ticking a second after the last root ends).
        tracer.startActiveSpan('warm-up', (span) => {
          spinUntilSampled(processor);
          span.end();
        });
        const root = tracer.startSpan('long');
        const rootId = root.spanContext().spanId;
        const ctx = trace.setSpan(context.active(), root);
        // Busy well past the cap, in slices, so the sweep (every second) gets to run.
        const end = performance.now() + 1800;
        while (performance.now() < end) {
          context.with(ctx, () => spin(20));
          await new Promise((r) => setTimeout(r, 1));
        }
        await processor.forceFlush();
        const ofRoot = () => exporter.getFinishedProfiles().filter((p) => p.rootSpanId === rootId);
        const profiles = ofRoot();
        assert.strictEqual(profiles.length, 1, 'the truncated profile was not exported while its root was open');
        const [profile] = profiles;
        assert.strictEqual(profile.truncated, true);
        assert.strictEqual(profile.endTimeUnixNano - profile.startTimeUnixNano, 400_000_000n);
        assert.ok(profile.samples.length > 0);
        for (const sample of profile.samples) {
          assert.ok(
            sample.timeUnixNano >= profile.startTimeUnixNano && sample.timeUnixNano <= profile.endTimeUnixNano,
            'sample outside the window',
          );
        }
        root.end();
        await processor.forceFlush();
        assert.strictEqual(ofRoot().length, 1, 'the root produced a second profile when it ended');
        assert.strictEqual(processor.stats.truncatedProfiles, 1);
        assert.strictEqual(processor.stats.openRoots, 0);
        // The native engine keeps V8's profiler running past the last root (its start pauses the app).
        if (engine === 'probe') assert.strictEqual(processor.stats.engine.active, false);
      });
    });

    describe('maxOpenProfiles', function () {
      it('should not profile roots beyond the cap, count them and warn once', async function () {
        tracing = setUpProfiledTracing({ engine, maxOpenProfiles: 3 });
        const spans = Array.from({ length: 6 }, (_, i) => tracing!.tracer.startSpan(`root ${i}`));
        const stats = tracing.processor.stats;
        assert.strictEqual(stats.profiledRoots, 3);
        assert.strictEqual(stats.openRoots, 3);
        assert.strictEqual(stats.dropped.maxOpenProfiles, 3);
        assert.deepStrictEqual(
          diagRecorder.records.filter((r) => r.message.includes('maxOpenProfiles')),
          [
            {
              level: 'warn',
              namespace: 'otel-span-profiler/processor',
              message:
                '3 profiled roots are open; more roots are not profiled (maxOpenProfiles); further drops are counted in stats.dropped.maxOpenProfiles',
            },
          ],
        );
        for (const span of spans) span.end();
        assert.strictEqual(tracing.processor.stats.openRoots, 0);
      });
    });

    describe('maxSamplesPerProfile', function () {
      it('should keep the first samples up to the cap and count the rest', async function () {
        tracing = setUpProfiledTracing({ engine, maxSamplesPerProfile: 5 });
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
      });
    });

    // Issue #9.11: one drop counter for the processor's caps and the export queue's drops.
    describe('stats.dropped', function () {
      it("should count the export queue's drops in the same record, with one warning in the processor's words", async function () {
        const failing = {
          export: (_profiles: unknown, done: (result: { code: number; error?: Error }) => void) =>
            done({ code: 1, error: new Error('backend said no') }),
          shutdown: () => Promise.resolve(),
        };
        tracing = setUpProfiledTracing({ engine, exporter: failing as never });
        const { tracer, processor } = tracing;
        for (let i = 0; i < 2; i++) {
          tracer.startActiveSpan(`root ${i}`, (span) => {
            spinUntilSampled(processor);
            span.end();
          });
          await processor.forceFlush();
        }
        assert.deepStrictEqual(processor.stats.dropped, {
          maxOpenProfiles: 0,
          maxSamplesPerProfile: 0,
          maxQueueSize: 0,
          maxQueuedSamples: 0,
          afterShutdown: 0,
          exportFailed: 2,
          maxSamplesPerPeriod: 0,
          maxStacksPerPeriod: 0,
        });
        assert.deepStrictEqual(
          diagRecorder.records.filter((r) => r.level === 'warn'),
          [
            {
              level: 'warn',
              namespace: 'otel-span-profiler/processor',
              message: 'an export failed; its profiles are dropped (exportFailed); further drops are counted in stats.dropped.exportFailed',
            },
          ],
        );
        await tracing.close();
        tracing = undefined;
        assert.ok(diagRecorder.messages('warn').includes('dropped in total: 2 exportFailed'), diagRecorder.messages('warn').join('\n'));
      });
    });

    // Issue #9.7: the probe runs inside whatever code it interrupted, so a diag call from it could
    // re-enter the application's logger in the middle of a write.
    describe('logging', function () {
      it('should never call the diag logger from inside a sample: a drop in the probe is logged by the sweep', async function () {
        // The native engine delivers its samples from a timer of its own, never inside the application's code.
        if (engine === 'native') this.skip();
        diagRecorder.uninstall();
        const calls: Array<{ level: string; message: string; inProbe: boolean }> = [];
        const record =
          (level: string) =>
          (...args: unknown[]) => {
            const limit = Error.stackTraceLimit;
            Error.stackTraceLimit = 500;
            const stack = new Error().stack ?? '';
            Error.stackTraceLimit = limit;
            // The sample handler, or the probe expression the inspector evaluates (its sourceURL).
            calls.push({ level, message: args.map(String).join(' '), inProbe: /_onSample|otel-span-profiler-probe-/.test(stack) });
          };
        diag.setLogger(
          { error: record('error'), warn: record('warn'), info: record('info'), debug: record('debug'), verbose: record('verbose') },
          { logLevel: DiagLogLevel.ALL, suppressOverrideMessage: true },
        );
        tracing = setUpProfiledTracing({ engine, maxSamplesPerProfile: 2 });
        const { tracer, processor } = tracing;
        tracer.startActiveSpan('busy', (span) => {
          spinUntilSampled(processor, 2);
          const end = performance.now() + 10_000;
          while (processor.stats.dropped.maxSamplesPerProfile < 3 && performance.now() < end) spin(2);
          span.end();
        });
        assert.ok(processor.stats.dropped.maxSamplesPerProfile >= 3, 'the probe dropped no sample, so the test proved nothing');
        const warning =
          'otel-span-profiler/processor a profile reached 2 samples; later samples are dropped (maxSamplesPerProfile); further drops are counted in stats.dropped.maxSamplesPerProfile';
        // The sweep runs once a second; a guard, not a timing claim.
        const deadline = performance.now() + 10_000;
        while (!calls.some((c) => c.message === warning) && performance.now() < deadline) await new Promise((r) => setTimeout(r, 50));
        assert.deepStrictEqual(
          calls.filter((c) => c.inProbe),
          [],
        );
        assert.deepStrictEqual(
          calls.filter((c) => c.message.includes('maxSamplesPerProfile')),
          [{ level: 'warn', message: warning, inProbe: false }],
        );
      });
    });

    // Issue #9.8: the slowest requests are the ones the duration cap truncates.
    describe('pyroscope.profile.id on truncated roots', function () {
      it('should set it when a root whose profile the duration cap closed and exported ends', async function () {
        // Long enough for the samples to land before the cap even on a loaded machine.
        tracing = setUpProfiledTracing({ engine, maxProfileDurationMillis: 2000 });
        const { tracer, processor, exporter } = tracing;
        const root = tracer.startSpan('slow request');
        const ctx = trace.setSpan(context.active(), root);
        context.with(ctx, () => spinUntilSampled(processor, 2));
        // Past the cap, until the sweep (once a second) closes the profile.
        const deadline = performance.now() + 10_000;
        while (processor.stats.truncatedProfiles === 0 && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
        assert.strictEqual(processor.stats.truncatedProfiles, 1);
        root.end();
        await processor.forceFlush();
        const [profile] = exporter.getFinishedProfiles();
        assert.strictEqual(profile.truncated, true);
        assert.strictEqual(profile.rootSpanId, root.spanContext().spanId);
        const attributes = (root as unknown as { attributes: Record<string, unknown> }).attributes;
        assert.strictEqual(attributes['pyroscope.profile.id'], root.spanContext().spanId);
      });

      it('should not set it on a truncated root that had no sample', async function () {
        tracing = setUpProfiledTracing({ engine, maxProfileDurationMillis: 100 });
        const { tracer, processor } = tracing;
        const root = tracer.startSpan('idle slow request');
        const deadline = performance.now() + 10_000;
        while (processor.stats.truncatedProfiles === 0 && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
        assert.strictEqual(processor.stats.truncatedProfiles, 1);
        root.end();
        assert.strictEqual((root as unknown as { attributes: Record<string, unknown> }).attributes['pyroscope.profile.id'], undefined);
      });
    });
  });
