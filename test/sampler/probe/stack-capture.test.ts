import * as assert from 'node:assert';
import type { ProfileStack } from '../../../src/profile/span-profile';
import { namedHotFunction, setUpProfiledTracing, spin, type ProfiledTracing } from '../../helpers/tracing';

/**
 * How long a loop waits for the samples it needs. Every such loop is bounded: mocha cannot time
 * out synchronous code, and a root open past maxProfileDurationMillis (30 s), or a sampler that
 * stopped, takes no more samples, so an unbounded loop spins until the run is killed (issue #21
 * §1: a first run on a busy machine ended in this suite with no summary line). A loop that gives
 * up leaves too few samples, which the assertions report.
 */
const SAMPLE_WAIT_MILLIS = 20_000;

describe('StackCapturer (through real sampling)', function () {
  let tracing: ProfiledTracing;
  afterEach(async function () {
    await tracing.close();
  });

  async function stacksOf(run: () => void | Promise<void>): Promise<ProfileStack[]> {
    await tracing.tracer.startActiveSpan('root', async (span) => {
      await run();
      span.end();
    });
    await tracing.processor.forceFlush();
    return tracing.exporter.getFinishedProfiles().flatMap((p) => p.samples.map((s) => s.stack));
  }

  it('should give stacks leaf first, with 1-based positions and the probe left out', async function () {
    tracing = setUpProfiledTracing({ engine: 'probe' });
    const hot = namedHotFunction('leafFirstHot');
    function callerOfHot(): void {
      const target = tracing.processor.stats.samples + 5;
      const end = performance.now() + SAMPLE_WAIT_MILLIS;
      while (tracing.processor.stats.samples < target && performance.now() < end) hot(2);
    }
    const stacks = await stacksOf(() => callerOfHot());
    const withHot = stacks.filter((s) => s.some((f) => f.functionName === 'leafFirstHot'));
    assert.ok(withHot.length >= 3, `only ${withHot.length} samples in the hot function`);
    for (const stack of withHot) {
      const hotAt = stack.findIndex((f) => f.functionName === 'leafFirstHot');
      const callerAt = stack.findIndex((f) => f.functionName === 'callerOfHot');
      // Above the hot function (toward the leaf) only what it calls: the clock it reads, which is
      // the helper's arrow and Node's performance.now internals.
      // The helper is tracing.js as V8 runs it, tracing.ts once source-mapped (the default).
      const above = stack
        .slice(0, hotAt)
        .filter((f) => !f.fileName.startsWith('node:') && !/tracing\.[jt]s$/.test(f.fileName) && f.fileName !== '');
      assert.deepStrictEqual(above, [], `frames above the hot function that it does not call`);
      assert.ok(callerAt > hotAt, 'the caller is not below the hot function');
      const frame = stack[hotAt];
      assert.strictEqual(frame.fileName, 'leafFirstHot.js');
      assert.ok(frame.lineNumber >= 1 && frame.columnNumber >= 1, `position ${frame.lineNumber}:${frame.columnNumber}`);
      assert.ok(!stack.some((f) => f.fileName.startsWith('otel-span-profiler-probe')), 'the probe frame leaked into the stack');
    }
  });

  it('should leave out async frames (the await chain is not on the CPU)', async function () {
    tracing = setUpProfiledTracing({ engine: 'probe' });
    const hot = namedHotFunction('afterAwaitHot');
    async function resumedWorker(): Promise<void> {
      await new Promise((r) => setImmediate(r));
      const target = tracing.processor.stats.samples + 5;
      const end = performance.now() + SAMPLE_WAIT_MILLIS;
      while (tracing.processor.stats.samples < target && performance.now() < end) hot(2);
    }
    async function awaitingCaller(): Promise<void> {
      await resumedWorker();
    }
    const stacks = await stacksOf(() => awaitingCaller());
    const withHot = stacks.filter((s) => s.some((f) => f.functionName === 'afterAwaitHot'));
    assert.ok(withHot.length >= 3);
    for (const stack of withHot) {
      assert.ok(
        stack.some((f) => f.functionName === 'resumedWorker'),
        'the running async function is missing',
      );
      assert.ok(!stack.some((f) => f.functionName === 'awaitingCaller'), 'an awaiting (async) frame was kept');
    }
  });

  it('should tell apart closures of one piece of code that carry different names', async function () {
    // Regression: frames were once keyed by position alone, so every closure below showed the
    // name of the first one sampled (found by the OpenTelemetry JS 3.x smoke test).
    tracing = setUpProfiledTracing({ engine: 'probe' });
    const spinners = ['spinAlpha', 'spinBravo'].map((name) => {
      const holder = {
        [name](millis: number): number {
          return spin(millis);
        },
      };
      return holder[name];
    });
    const stacks = await stacksOf(() => {
      for (const spinner of spinners) {
        const target = tracing.processor.stats.samples + 4;
        const end = performance.now() + SAMPLE_WAIT_MILLIS;
        while (tracing.processor.stats.samples < target && performance.now() < end) spinner(2);
      }
    });
    const names = new Set(stacks.flatMap((s) => s.map((f) => f.functionName)).filter((n) => n.startsWith('spin')));
    assert.ok(names.has('spinAlpha') && names.has('spinBravo'), `names seen: ${[...names].join(', ')}`);
  });

  it('should keep at most maxStackDepth frames', async function () {
    tracing = setUpProfiledTracing({ engine: 'probe', maxStackDepth: 3 });
    const stacks = await stacksOf(() => {
      const target = tracing.processor.stats.samples + 5;
      const end = performance.now() + SAMPLE_WAIT_MILLIS;
      const deep = (n: number): void => (n === 0 ? void spin(2) : deep(n - 1));
      while (tracing.processor.stats.samples < target && performance.now() < end) deep(20);
    });
    assert.ok(stacks.length >= 5);
    for (const stack of stacks) assert.ok(stack.length <= 3, `a stack of ${stack.length} frames`);
    assert.ok(stacks.some((s) => s.length === 3));
  });

  it('should leave Error.prepareStackTrace and Error.stackTraceLimit as the application set them', async function () {
    tracing = setUpProfiledTracing({ engine: 'probe' });
    const savedPrepare = Error.prepareStackTrace;
    const savedLimit = Error.stackTraceLimit;
    const custom = (): string => 'custom stack';
    Error.prepareStackTrace = custom;
    Error.stackTraceLimit = 7;
    const seen = new Set<string>();
    try {
      await stacksOf(() => {
        const target = tracing.processor.stats.samples + 10;
        const end = performance.now() + SAMPLE_WAIT_MILLIS;
        while (tracing.processor.stats.samples < target && performance.now() < end) {
          seen.add(String(new Error('user').stack));
          seen.add(`limit ${Error.stackTraceLimit}`);
          seen.add(Error.prepareStackTrace === custom ? 'same prepare' : 'other prepare');
        }
      });
    } finally {
      Error.prepareStackTrace = savedPrepare;
      Error.stackTraceLimit = savedLimit;
    }
    assert.deepStrictEqual([...seen].sort(), ['custom stack', 'limit 7', 'same prepare']);
  });
});
