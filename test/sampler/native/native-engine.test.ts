import * as assert from 'node:assert';
import { context, trace, type Span } from '@opentelemetry/api';
import { NativeEngine } from '../../../src/sampler/native/native-engine';
import { loadNativeAddon } from '../../../src/sampler/native/pprof-addon';
import type { SampleSink } from '../../../src/sampler/engine';
import { setUpProfiledTracing, spin, type ProfiledTracing } from '../../helpers/tracing';

/** A sink that keeps every sample's span and leaf function. */
function recordingSink(): SampleSink & { samples: Array<{ span: Span | undefined; leaf: string | undefined }>; deliveries: number } {
  const sink = {
    samples: [] as Array<{ span: Span | undefined; leaf: string | undefined }>,
    deliveries: 0,
    sample(_hrNano: number, _cpuNanos: number, span: Span | undefined, stack: () => readonly { functionName: string }[]) {
      sink.samples.push({ span, leaf: stack()[0]?.functionName });
    },
    delivered() {
      sink.deliveries++;
    },
  };
  return sink;
}

describe('NativeEngine (real sampling)', function () {
  this.timeout(60_000);
  let tracing: ProfiledTracing;
  beforeEach(function () {
    if (process.platform === 'win32') this.skip();
    // For its tracer and context manager only; its own processor never profiles (rate 0).
    tracing = setUpProfiledTracing({ engine: 'probe', profilesSampleRate: 0 });
  });
  afterEach(async function () {
    await tracing?.close();
  });

  function newEngine(sink: SampleSink, lingerMillis: number): NativeEngine {
    const load = loadNativeAddon();
    if ('error' in load) throw new Error(load.error);
    return new NativeEngine(
      load.addon,
      { frequencyHz: 99, maxStackDepth: 64, reason: 'test', keepRunning: false, sampleCostMicros: 20, lingerMillis },
      sink,
      (why) => {
        throw new Error(why);
      },
    );
  }

  it('should stop after the linger and label samples again when it restarts', async function () {
    const sink = recordingSink();
    const engine = newEngine(sink, 50);
    try {
      const first = tracing.tracer.startSpan('first');
      engine.acquire();
      context.with(trace.setSpan(context.active(), first), () => {
        const target = engine.stats.samplesTaken + 5;
        const end = performance.now() + 10_000;
        while (engine.stats.samplesTaken < target && performance.now() < end) spin(2);
      });
      engine.release();
      // The linger (50 ms here) ends and V8's profiler stops, its last samples delivered.
      const end = performance.now() + 10_000;
      while (engine.stats.active && performance.now() < end) await new Promise((r) => setTimeout(r, 20));
      assert.strictEqual(engine.stats.active, false, 'the engine did not stop after its linger');
      assert.ok(
        sink.samples.some((s) => s.span === first),
        'no sample of the first span',
      );

      const second = tracing.tracer.startSpan('second');
      engine.acquire();
      assert.strictEqual(engine.stats.starts, 2);
      context.with(trace.setSpan(context.active(), second), () => {
        const target = engine.stats.samplesTaken + 5;
        const stop = performance.now() + 10_000;
        while (engine.stats.samplesTaken < target && performance.now() < stop) spin(2);
      });
      await engine.collect();
      const ofSecond = sink.samples.filter((s) => s.span === second && s.leaf === 'spin');
      assert.ok(ofSecond.length >= 2, `the restarted engine labelled ${ofSecond.length} samples with the second span`);
      engine.release();
    } finally {
      await engine.shutdown();
    }
  });

  it('should deliver the samples taken before collect() and tell the sink they are in', async function () {
    const sink = recordingSink();
    const engine = newEngine(sink, 30_000);
    try {
      const span = tracing.tracer.startSpan('collected');
      engine.acquire();
      context.with(trace.setSpan(context.active(), span), () => {
        const target = engine.stats.samplesTaken + 3;
        const end = performance.now() + 10_000;
        while (engine.stats.samplesTaken < target && performance.now() < end) spin(2);
      });
      const taken = engine.stats.samplesTaken;
      await engine.collect();
      assert.ok(sink.deliveries >= 1);
      // Every sample taken inside the span before collect() arrived labelled with it.
      assert.ok(sink.samples.filter((s) => s.span === span).length >= taken - 1, `${sink.samples.length} delivered of ${taken}`);
      engine.release();
    } finally {
      await engine.shutdown();
    }
  });
});
