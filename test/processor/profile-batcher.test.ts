import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { ExportResultCode, isTracingSuppressed, loggingErrorHandler, setGlobalErrorHandler, type ExportResult } from '@opentelemetry/core';
import { InMemoryProfileExporter } from '../../src/exporter/in-memory-profile-exporter';
import { diag } from '@opentelemetry/api';
import { ProfileBatcher } from '../../src/processor/profile-batcher';
import { DropCounter, type DropExplanations, type DropReason } from '../../src/processor/drop-counter';
import type { ProfileExporter } from '../../src/exporter/profile-exporter';
import type { SpanProfile } from '../../src/profile/span-profile';
import { DiagRecorder } from '../helpers/diag-recorder';
import { makeProfile, makeProfiles } from '../helpers/synthetic-profiles';

/** An exporter double whose callbacks the test controls: succeed, fail, throw, or hold until released. */
class ControlledExporter implements ProfileExporter {
  readonly batches: SpanProfile[][] = [];
  readonly suppressed: boolean[] = [];
  mode: 'succeed' | 'fail' | 'throw' | 'hold' | 'never' = 'succeed';
  shutdowns = 0;
  private readonly _held: Array<(result: ExportResult) => void> = [];
  private readonly _waiters: Array<{ count: number; resolve: () => void }> = [];

  export(profiles: SpanProfile[], resultCallback: (result: ExportResult) => void): void {
    this.batches.push([...profiles]);
    this.suppressed.push(isTracingSuppressed(context.active()));
    for (const waiter of this._waiters.filter((w) => this.batches.length >= w.count)) {
      this._waiters.splice(this._waiters.indexOf(waiter), 1);
      waiter.resolve();
    }
    switch (this.mode) {
      case 'succeed':
        return resultCallback({ code: ExportResultCode.SUCCESS });
      case 'fail':
        return resultCallback({ code: ExportResultCode.FAILED, error: new Error('collector said no') });
      case 'throw':
        throw new Error('exporter bug');
      case 'hold':
        this._held.push(resultCallback);
        return;
      case 'never':
        return;
    }
  }

  /** Calls back every held export with success. */
  release(): void {
    for (const callback of this._held.splice(0)) callback({ code: ExportResultCode.SUCCESS });
  }

  get held(): number {
    return this._held.length;
  }

  waitForBatches(count: number): Promise<void> {
    if (this.batches.length >= count) return Promise.resolve();
    return new Promise((resolve) => this._waiters.push({ count, resolve }));
  }

  shutdown(): Promise<void> {
    this.shutdowns++;
    return Promise.resolve();
  }
}

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
/** Past the zero-delay timer that starts the export of a full batch. */
const soon = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 5));

describe('ProfileBatcher', () => {
  let recorder: DiagRecorder;
  let errors: Error[];
  const batchers: ProfileBatcher[] = [];
  const counters = new Map<ProfileBatcher, DropCounter>();
  const explanations = Object.fromEntries(
    ['maxOpenProfiles', 'maxSamplesPerProfile', 'maxQueueSize', 'maxQueuedSamples', 'afterShutdown', 'exportFailed'].map((r) => [
      r,
      `explained ${r}`,
    ]),
  ) as unknown as DropExplanations;

  /** A batcher counting its drops in a DropCounter of the test's own, as the processor's shared one. */
  function batcherFor(exporter: ProfileExporter, options: ConstructorParameters<typeof ProfileBatcher>[1] = {}): ProfileBatcher {
    const drops = new DropCounter(diag.createComponentLogger({ namespace: 'otel-span-profiler/processor' }), explanations);
    const batcher = new ProfileBatcher(exporter, options, drops);
    batchers.push(batcher);
    counters.set(batcher, drops);
    return batcher;
  }

  const dropped = (batcher: ProfileBatcher): Record<DropReason, number> => counters.get(batcher)!.snapshot();
  const droppedTotal = (batcher: ProfileBatcher): number => Object.values(dropped(batcher)).reduce((a, b) => a + b, 0);

  beforeEach(() => {
    recorder = new DiagRecorder().install();
    errors = [];
    setGlobalErrorHandler((error) => errors.push(error as Error));
  });

  afterEach(async () => {
    await Promise.all(batchers.splice(0).map((b) => b.shutdown()));
    setGlobalErrorHandler(loggingErrorHandler());
    recorder.uninstall();
  });

  describe('add', () => {
    it('should export a full batch right after add() returns, without waiting for the delay', async () => {
      const exporter = new ControlledExporter();
      const batcher = batcherFor(exporter, { maxExportBatchSize: 3, scheduledDelayMillis: 60_000 });
      for (const profile of makeProfiles(3)) batcher.add(profile);
      // Not inside add(): that runs in the application's span.end().
      assert.equal(exporter.batches.length, 0);
      await soon();
      assert.deepEqual(
        exporter.batches.map((b) => b.length),
        [3],
      );
      assert.equal(batcher.stats.exported, 3);
    });

    it('should export outside the context of the request that queued the profile, with tracing suppressed', async () => {
      const seen: Array<[unknown, boolean]> = [];
      const exporter: ProfileExporter = {
        export: (_profiles, done) => {
          seen.push([trace.getSpan(context.active()), isTracingSuppressed(context.active())]);
          done({ code: ExportResultCode.SUCCESS });
        },
        shutdown: async () => {},
      };
      const batcher = batcherFor(exporter, { maxExportBatchSize: 1, scheduledDelayMillis: 60_000 });
      const requestSpan = trace.wrapSpanContext({ traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: 1 });
      const contextManager = new AsyncLocalStorageContextManager().enable();
      context.setGlobalContextManager(contextManager);
      try {
        context.with(trace.setSpan(context.active(), requestSpan), () => batcher.add(makeProfile(1)));
        await soon();
      } finally {
        context.disable();
      }
      assert.deepEqual(seen, [[undefined, true]]);
    });

    it('should export a partial batch after scheduledDelayMillis', async () => {
      const exporter = new InMemoryProfileExporter();
      const batcher = batcherFor(exporter, { scheduledDelayMillis: 10 });
      batcher.add(makeProfile(7));
      assert.equal(exporter.getFinishedProfiles().length, 0);
      await new Promise((resolve) => setTimeout(resolve, 100));
      assert.deepEqual(
        exporter.getFinishedProfiles().map((p) => p.rootSpanName),
        ['GET /items/7'],
      );
    });

    it('should run one export at a time', async () => {
      const exporter = new ControlledExporter();
      exporter.mode = 'hold';
      const batcher = batcherFor(exporter, { maxExportBatchSize: 2, scheduledDelayMillis: 60_000 });
      for (const profile of makeProfiles(6)) batcher.add(profile);
      await soon();
      assert.equal(exporter.batches.length, 1);
      exporter.release();
      await exporter.waitForBatches(2);
      assert.equal(exporter.held, 1);
      exporter.release();
      await exporter.waitForBatches(3);
      exporter.release();
      await tick();
      assert.deepEqual(
        exporter.batches.map((b) => b.length),
        [2, 2, 2],
      );
      assert.equal(batcher.stats.exported, 6);
    });

    it('should drop and count profiles when the queue is full, warning once', async () => {
      const exporter = new ControlledExporter();
      exporter.mode = 'hold';
      const batcher = batcherFor(exporter, { maxQueueSize: 4, maxExportBatchSize: 2, scheduledDelayMillis: 60_000 });
      // Two go out and are held; four fill the queue; three more find it full.
      const profiles = makeProfiles(9);
      for (const profile of profiles.slice(0, 2)) batcher.add(profile);
      await soon();
      for (const profile of profiles.slice(2)) batcher.add(profile);
      assert.equal(batcher.stats.queued, 4);
      assert.equal(droppedTotal(batcher), 3);
      assert.equal(dropped(batcher).maxQueueSize, 3);
      assert.deepEqual(recorder.messages('warn'), [
        'explained maxQueueSize (maxQueueSize); further drops are counted in stats.dropped.maxQueueSize',
      ]);
      exporter.mode = 'succeed';
      exporter.release();
      await batcher.forceFlush();
      assert.equal(batcher.stats.exported, 6);
    });

    it('should drop a profile that would pass maxQueuedSamples', () => {
      const batcher = batcherFor(new ControlledExporter(), { maxQueuedSamples: 5, scheduledDelayMillis: 60_000 });
      batcher.add(makeProfile(0, 3));
      batcher.add(makeProfile(1, 3));
      batcher.add(makeProfile(2, 2));
      assert.equal(batcher.stats.queued, 2);
      assert.equal(batcher.stats.queuedSamples, 5);
      assert.equal(dropped(batcher).maxQueuedSamples, 1);
    });

    it('should take a profile bigger than maxQueuedSamples when the queue is empty', () => {
      const batcher = batcherFor(new ControlledExporter(), { maxQueuedSamples: 5, scheduledDelayMillis: 60_000 });
      batcher.add(makeProfile(0, 50));
      assert.equal(batcher.stats.queued, 1);
      assert.equal(droppedTotal(batcher), 0);
    });

    it('should export under suppressed tracing', async () => {
      const manager = new AsyncLocalStorageContextManager().enable();
      context.setGlobalContextManager(manager);
      try {
        const exporter = new ControlledExporter();
        const batcher = batcherFor(exporter, { scheduledDelayMillis: 0 });
        batcher.add(makeProfile());
        await batcher.forceFlush();
        assert.deepEqual(exporter.suppressed, [true]);
      } finally {
        context.disable();
      }
    });
  });

  describe('export failures', () => {
    it('should hand a failed export to the global error handler and count its profiles', async () => {
      const exporter = new ControlledExporter();
      exporter.mode = 'fail';
      const batcher = batcherFor(exporter, { scheduledDelayMillis: 60_000 });
      for (const profile of makeProfiles(3)) batcher.add(profile);
      await batcher.forceFlush();
      assert.deepEqual(
        errors.map((e) => e.message),
        ['collector said no'],
      );
      assert.equal(dropped(batcher).exportFailed, 3);
      assert.equal(batcher.stats.exported, 0);
    });

    it('should survive an exporter that throws', async () => {
      const exporter = new ControlledExporter();
      exporter.mode = 'throw';
      const batcher = batcherFor(exporter, { maxExportBatchSize: 1 });
      assert.doesNotThrow(() => batcher.add(makeProfile()));
      await batcher.forceFlush();
      assert.deepEqual(
        errors.map((e) => e.message),
        ['exporter bug'],
      );
      assert.equal(dropped(batcher).exportFailed, 1);
    });

    it('should give up on an export that never calls back after exportTimeoutMillis', async () => {
      const exporter = new ControlledExporter();
      exporter.mode = 'never';
      const batcher = batcherFor(exporter, { exportTimeoutMillis: 100, scheduledDelayMillis: 0 });
      batcher.add(makeProfile());
      await exporter.waitForBatches(1);
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.deepEqual(
        errors.map((e) => e.message),
        ['export of 1 profile timed out after 100 ms'],
      );
      assert.equal(dropped(batcher).exportFailed, 1);
    });
  });

  describe('forceFlush', () => {
    it('should export everything queued, in batches of maxExportBatchSize', async () => {
      const exporter = new ControlledExporter();
      const batcher = batcherFor(exporter, { maxExportBatchSize: 2, scheduledDelayMillis: 60_000 });
      exporter.mode = 'hold';
      for (const profile of makeProfiles(5)) batcher.add(profile);
      exporter.mode = 'succeed';
      exporter.release();
      await batcher.forceFlush();
      assert.deepEqual(
        exporter.batches.map((b) => b.length),
        [2, 2, 1],
      );
      assert.deepEqual(batcher.stats, {
        queued: 0,
        queuedSamples: 0,
        exported: 5,
      });
      assert.equal(droppedTotal(batcher), 0);
    });

    it('should resolve within exportTimeoutMillis when the exporter is stuck, and say so', async () => {
      const exporter = new ControlledExporter();
      exporter.mode = 'never';
      // The export call itself may take 200 ms, but the whole flush only 150 ms.
      const batcher = batcherFor(exporter, { exportTimeoutMillis: 150, scheduledDelayMillis: 60_000 });
      for (const profile of makeProfiles(2)) batcher.add(profile);
      await batcher.forceFlush();
      assert.ok(recorder.messages('warn').includes('forceFlush did not finish within exportTimeoutMillis (150 ms)'));
    });
  });

  describe('shutdown', () => {
    it('should flush, shut the exporter down once, and refuse later profiles', async () => {
      const exporter = new ControlledExporter();
      const batcher = batcherFor(exporter, { scheduledDelayMillis: 60_000 });
      for (const profile of makeProfiles(3)) batcher.add(profile);
      const first = batcher.shutdown();
      assert.equal(batcher.shutdown(), first);
      await first;
      assert.deepEqual(
        exporter.batches.map((b) => b.length),
        [3],
      );
      assert.equal(exporter.shutdowns, 1);
      batcher.add(makeProfile());
      assert.equal(dropped(batcher).afterShutdown, 1);
      assert.equal(exporter.batches.length, 1);
    });

    it('should log the drops in total when it shuts down, used on its own (no processor counter)', async () => {
      const exporter = new ControlledExporter();
      exporter.mode = 'hold';
      const held = new ProfileBatcher(exporter, { maxQueueSize: 1, maxExportBatchSize: 1, scheduledDelayMillis: 60_000 });
      batchers.push(held);
      const profiles = makeProfiles(4);
      held.add(profiles[0]);
      await soon();
      for (const profile of profiles.slice(1)) held.add(profile);
      exporter.mode = 'succeed';
      exporter.release();
      await held.shutdown();
      assert.deepEqual(recorder.messages('warn'), [
        'the export queue is full; finished profiles are dropped (maxQueueSize); further drops are counted in stats.dropped.maxQueueSize',
        'dropped in total: 2 maxQueueSize',
      ]);
    });

    it('should not keep the process alive with its timer', () => {
      const batcherModule = path.resolve(__dirname, '../../src/processor/profile-batcher.js');
      const script = `
        const { ProfileBatcher } = require(${JSON.stringify(batcherModule)});
        const exporter = { export: (p, cb) => cb({ code: 0 }), shutdown: async () => {} };
        const batcher = new ProfileBatcher(exporter, { scheduledDelayMillis: 600000 });
        batcher.add({ samples: [] });
        console.log('queued ' + batcher.stats.queued);
      `;
      const child = spawnSync(process.execPath, ['-e', script], { timeout: 20_000, encoding: 'utf8' });
      assert.equal(child.error, undefined, 'the process did not exit on its own');
      assert.equal(child.status, 0, child.stderr);
      assert.equal(child.stdout.trim(), 'queued 1');
    });
  });

  describe('options', () => {
    const bad: Array<[string, unknown, string, string]> = [
      ['maxQueueSize', -1, 'RangeError', 'an integer from 1 to 9007199254740991, got -1'],
      ['maxExportBatchSize', 2.5, 'RangeError', 'an integer from 1 to 9007199254740991, got 2.5'],
      ['scheduledDelayMillis', NaN, 'RangeError', 'a number from 0 to 9007199254740991, got NaN'],
      ['exportTimeoutMillis', 0, 'RangeError', 'a number from 1 to 9007199254740991, got 0'],
      ['maxQueuedSamples', '10', 'TypeError', 'an integer from 1 to 9007199254740991, got "10"'],
    ];
    for (const [name, value, type, expected] of bad) {
      it(`should throw a ${type} for ${name} = ${String(value)}, naming the option, what it expects and the value`, () => {
        assert.throws(() => new ProfileBatcher(new ControlledExporter(), { [name]: value }), {
          name: type,
          message: `ProfilingSpanProcessor: option "batch.${name}" must be ${expected}`,
        });
        assert.deepEqual(recorder.messages(), []);
      });
    }

    it('should lower maxExportBatchSize to maxQueueSize with a warning', async () => {
      const exporter = new ControlledExporter();
      const batcher = batcherFor(exporter, { maxQueueSize: 10, maxExportBatchSize: 600, scheduledDelayMillis: 60_000 });
      assert.deepEqual(recorder.messages('warn'), ['Configuration: maxExportBatchSize (600) is larger than maxQueueSize (10); using 10']);
      for (const profile of makeProfiles(10)) batcher.add(profile);
      await soon();
      assert.deepEqual(
        exporter.batches.map((b) => b.length),
        [10],
      );
    });
  });
});
