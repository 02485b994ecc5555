import * as assert from 'node:assert';
import { context, ROOT_CONTEXT, trace, TraceFlags } from '@opentelemetry/api';
import { AlwaysOnSampler, SamplingDecision, type IdGenerator, type Sampler } from '@opentelemetry/sdk-trace-base';
import { ENGINES, setUpProfiledTracing, spin, spinUntilSampled, type ProfiledTracing } from '../helpers/tracing';

/** Trace IDs from a list, span IDs counting up: lets a test choose each root's trace ID. */
function idGenerator(traceIds: string[]): IdGenerator {
  let span = 0;
  return {
    generateTraceId: () => traceIds.shift() ?? 'ffffffffffffffffffffffffffffffff',
    generateSpanId: () => (++span).toString(16).padStart(16, '0'),
  };
}

/** Records spans but does not sample them (trace flags without SAMPLED). */
const recordOnly: Sampler = {
  shouldSample: () => ({ decision: SamplingDecision.RECORD }),
  toString: () => 'RecordOnly',
};

for (const engine of ENGINES)
  describe(`ProfilingSpanProcessor root selection [${engine} engine]`, function () {
    let tracing: ProfiledTracing | undefined;
    afterEach(async function () {
      await tracing?.close();
      tracing = undefined;
    });

    it('should profile a span with a remote parent as a local root', async function () {
      tracing = setUpProfiledTracing({ engine });
      const remote = trace.setSpanContext(ROOT_CONTEXT, {
        traceId: '0af7651916cd43dd8448eb211c80319c',
        spanId: 'b7ad6b7169203331',
        traceFlags: TraceFlags.SAMPLED,
        isRemote: true,
      });
      const processor = tracing.processor;
      tracing.tracer.startActiveSpan('server', {}, remote, (span) => {
        spinUntilSampled(processor);
        span.end();
      });
      await tracing.processor.forceFlush();
      const [profile] = tracing.exporter.getFinishedProfiles();
      assert.ok(profile, 'no profile for a root with a remote parent');
      assert.strictEqual(profile.traceId, '0af7651916cd43dd8448eb211c80319c');
      assert.strictEqual(tracing.processor.stats.profiledRoots, 1);
    });

    it('should not start a new profile for a local child span', async function () {
      tracing = setUpProfiledTracing({ engine });
      const { tracer, processor } = tracing;
      tracer.startActiveSpan('root', (root) => {
        tracer.startActiveSpan('child', (child) => {
          spinUntilSampled(processor);
          child.end();
        });
        root.end();
      });
      await tracing.processor.forceFlush();
      assert.strictEqual(tracing.processor.stats.profiledRoots, 1);
      const profiles = tracing.exporter.getFinishedProfiles();
      assert.strictEqual(profiles.length, 1);
      assert.strictEqual(profiles[0].rootSpanName, 'root');
    });

    it('should not profile a root that is recorded but not sampled', async function () {
      tracing = setUpProfiledTracing({ engine }, { sampler: recordOnly });
      tracing.tracer.startActiveSpan('unsampled', (span) => {
        assert.ok(span.isRecording());
        spin(60);
        span.end();
      });
      await tracing.processor.forceFlush();
      assert.strictEqual(tracing.processor.stats.profiledRoots, 0);
      assert.strictEqual(tracing.processor.stats.engine.samplesTaken, 0, 'the sampler ran for an unsampled root');
      assert.deepStrictEqual(tracing.exporter.getFinishedProfiles(), []);
    });

    describe('profilesSampleRate', function () {
      it('should decide from the trace ID, the same way for every process', async function () {
        // Low 52 bits / 2^52: ...0001 is far below 0.5, ...f000 far above it.
        const low = '4bf92f3577b34da6a3c0000000000001';
        const high = '4bf92f3577b34da6a3cf000000000000';
        const decisions: string[] = [];
        for (const run of [0, 1]) {
          tracing = setUpProfiledTracing(
            { engine, profilesSampleRate: 0.5 },
            { sampler: new AlwaysOnSampler(), idGenerator: idGenerator([low, high]) },
          );
          const processor = tracing.processor;
          for (const name of ['low', 'high']) {
            tracing.tracer.startActiveSpan(name, (span) => {
              if (name === 'low') spinUntilSampled(processor);
              else spin(40);
              span.end();
            });
          }
          await tracing.processor.forceFlush();
          decisions.push(
            `run ${run}: ${tracing.exporter
              .getFinishedProfiles()
              .map((p) => p.traceId)
              .join(',')}`,
          );
          assert.strictEqual(tracing.processor.stats.profiledRoots, 1);
          await tracing.close();
          tracing = undefined;
        }
        assert.deepStrictEqual(decisions, [`run 0: ${low}`, `run 1: ${low}`]);
      });

      it('should profile about the configured share of random trace IDs', async function () {
        tracing = setUpProfiledTracing({ engine, profilesSampleRate: 0.25 });
        for (let i = 0; i < 2000; i++) tracing.tracer.startSpan(`root ${i}`).end();
        const share = tracing.processor.stats.profiledRoots / 2000;
        assert.ok(share > 0.2 && share < 0.3, `profiled share ${share} for a rate of 0.25`);
      });

      it('should profile nothing at 0 and never start sampling', async function () {
        tracing = setUpProfiledTracing({ engine, profilesSampleRate: 0 });
        tracing.tracer.startActiveSpan('root', (span) => {
          spin(60);
          span.end();
        });
        await tracing.processor.forceFlush();
        assert.strictEqual(tracing.processor.stats.profiledRoots, 0);
        assert.strictEqual(tracing.processor.stats.engine.samplesTaken, 0);
      });
    });

    it('should leave the active context of the application untouched', async function () {
      tracing = setUpProfiledTracing({ engine });
      const before = context.active();
      tracing.tracer.startSpan('root').end();
      assert.strictEqual(context.active(), before);
    });
  });
