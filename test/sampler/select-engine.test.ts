import * as assert from 'node:assert';
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { context, trace } from '@opentelemetry/api';
import { engineFromEnv } from '../../src/auto/processor-options-from-env';
import { InMemoryProfileExporter } from '../../src/exporter/in-memory-profile-exporter';
import { ProfilingSpanProcessor } from '../../src/processor/processor';
import type { EngineStats, SampleSink, SamplingEngine } from '../../src/sampler/engine';
import { ProbeEngine } from '../../src/sampler/probe/probe-engine';
import { DiagRecorder } from '../helpers/diag-recorder';
import { nodeBinary } from '../setup/node-binaries';
import { setUpProfiledTracing, spin, spinUntilSampled, type ProfiledTracing } from '../helpers/tracing';

const BUILD_SRC = path.resolve(__dirname, '../../src');
const FIXTURES = path.resolve(__dirname, '../../../test/fixtures');

interface EngineAppResult {
  engine: string;
  reason: string;
  profiles: number;
  samples: number;
  hotFrames: number;
  logs: Array<{ level: string; message: string }>;
}

/** Runs test/fixtures/engine-app.js with `engine`, optionally with a preload; resolves to its JSON report. */
function runEngineApp(engine: string, preload?: string, node = process.execPath, nodeArgs: string[] = []): Promise<EngineAppResult> {
  const args = [
    ...nodeArgs,
    ...(preload === undefined ? [] : ['--require', path.join(FIXTURES, preload)]),
    path.join(FIXTURES, 'engine-app.js'),
    path.join(BUILD_SRC, 'processor/processor.js'),
    path.join(BUILD_SRC, 'exporter/in-memory-profile-exporter.js'),
    engine,
  ];
  return new Promise((resolve, reject) => {
    execFile(node, args, { timeout: 60_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${err.message}\n${stdout}\n${stderr}`));
      else resolve(JSON.parse(stdout) as EngineAppResult);
    });
  });
}

describe('engine selection (issue 19)', function () {
  this.timeout(90_000);
  let tracing: ProfiledTracing | undefined;
  let recorder: DiagRecorder | undefined;
  afterEach(async function () {
    await tracing?.close();
    tracing = undefined;
    recorder?.uninstall();
    recorder = undefined;
  });

  describe("engine: 'auto'", function () {
    it('should pick the native engine where its addon loads, and say so once at info level', async function () {
      if (process.platform === 'win32') this.skip();
      recorder = new DiagRecorder().install();
      tracing = setUpProfiledTracing();
      assert.strictEqual(tracing.processor.stats.engine.name, 'native', tracing.processor.stats.engine.reason);
      assert.strictEqual(tracing.processor.stats.engine.reason, 'the native engine loads and can label samples');
      const chosen = recorder.records.filter((r) => r.namespace === 'otel-span-profiler/engine');
      assert.strictEqual(chosen.length, 1, JSON.stringify(chosen));
      assert.strictEqual(chosen[0].level, 'info');
      assert.match(chosen[0].message, /^engine: native \(the native engine loads and can label samples; /);
    });
  });

  describe('when @datadog/pprof cannot load (a --require preload makes it throw)', function () {
    it("should profile a real app with the probe engine under 'auto', without a warning", async function () {
      const result = await runEngineApp('auto', 'block-native-addon.js');
      assert.strictEqual(result.engine, 'probe');
      assert.match(result.reason, /^the native engine cannot load: Error: No native build was found/);
      assert.ok(result.profiles >= 1 && result.hotFrames >= 1, JSON.stringify(result));
      assert.deepStrictEqual(
        result.logs.filter((l) => l.level !== 'info'),
        [],
      );
    });

    it("should profile with the probe engine under 'native', with one warning that says why", async function () {
      const result = await runEngineApp('native', 'block-native-addon.js');
      assert.strictEqual(result.engine, 'probe');
      assert.ok(result.profiles >= 1 && result.hotFrames >= 1, JSON.stringify(result));
      const warnings = result.logs.filter((l) => l.level === 'warn');
      assert.strictEqual(warnings.length, 1, JSON.stringify(result.logs));
      assert.match(
        warnings[0].message,
        /engine 'native' asked for, using the probe engine instead: the native engine cannot load: Error: No native build was found/,
      );
    });

    it('should profile the same app with the native engine when nothing blocks it', async function () {
      if (process.platform === 'win32') this.skip();
      const result = await runEngineApp('native');
      assert.strictEqual(result.engine, 'native');
      assert.ok(result.profiles >= 1 && result.hotFrames >= 1, JSON.stringify(result));
      assert.deepStrictEqual(
        result.logs.filter((l) => l.level !== 'info'),
        [],
      );
    });
  });

  describe('the permission model (Node 22+ --permission)', function () {
    const node22 = nodeBinary(22);
    const flags = ['--permission', '--allow-fs-read=*', '--allow-worker'];
    it('should pass spans through with one warning, not abort, when addons and the inspector are refused', async function () {
      if (node22 === undefined) this.skip();
      const result = await runEngineApp('auto', undefined, node22, flags);
      assert.strictEqual(result.engine, 'probe');
      assert.match(result.reason, /^the native engine cannot load: ERR_DLOPEN_DISABLED/);
      assert.strictEqual(result.profiles, 0);
      const warnings = result.logs.filter((l) => l.level === 'warn');
      assert.strictEqual(warnings.length, 1, JSON.stringify(result.logs));
      assert.match(warnings[0].message, /profiling is off: .*the permission model refuses the inspector/);
    });

    it('should profile with the native engine when addons are allowed', async function () {
      if (node22 === undefined) this.skip();
      const result = await runEngineApp('auto', undefined, node22, [...flags, '--allow-addons']);
      assert.strictEqual(result.engine, 'native');
      assert.ok(result.profiles >= 1 && result.hotFrames >= 1, JSON.stringify(result));
    });
  });

  describe('a second processor while the first runs the native engine', function () {
    it('should move the second one to the probe engine, with the reason in its stats', async function () {
      if (process.platform === 'win32') this.skip();
      tracing = setUpProfiledTracing({ engine: 'native' });
      const { tracer, processor } = tracing;
      const second = new ProfilingSpanProcessor({ exporter: new InMemoryProfileExporter(), engine: 'auto', maxOverheadPercent: Infinity });
      try {
        tracer.startActiveSpan('first', (span) => {
          spinUntilSampled(processor);
          span.end();
        });
        const root = tracer.startSpan('second');
        second.onStart(root as never, context.active());
        context.with(trace.setSpan(context.active(), root), () => spinUntilSampled(second));
        assert.strictEqual(second.stats.engine.name, 'probe');
        assert.match(second.stats.engine.reason, /the native engine cannot start: another ProfilingSpanProcessor/);
        assert.ok(second.stats.engine.samplesTaken >= 1);
        second.onEnd(root as never);
      } finally {
        await second.shutdown();
      }
    });
  });

  describe('option and environment variable', function () {
    it('should throw on an unknown engine, naming the option and the value', function () {
      assert.throws(() => new ProfilingSpanProcessor({ exporter: new InMemoryProfileExporter(), engine: 'fast' as never }), {
        name: 'TypeError',
        message: `ProfilingSpanProcessor: option "engine" must be 'auto', 'native' or 'probe', got "fast"`,
      });
    });

    const cases: Array<[string | undefined, string, boolean]> = [
      [undefined, 'auto', false],
      ['', 'auto', false],
      ['native', 'native', false],
      [' Probe ', 'probe', false],
      ['auto', 'auto', false],
      ['v8', 'auto', true],
    ];
    for (const [value, want, warns] of cases) {
      it(`should read OTEL_SPAN_PROFILER_ENGINE=${JSON.stringify(value)} as '${want}'${warns ? ' with a warning' : ''}`, function () {
        recorder = new DiagRecorder().install();
        assert.strictEqual(engineFromEnv(value === undefined ? {} : { OTEL_SPAN_PROFILER_ENGINE: value }), want);
        const warnings = recorder.records.filter((r) => r.level === 'warn').map((r) => r.message);
        assert.deepStrictEqual(
          warnings,
          warns ? [`OTEL_SPAN_PROFILER_ENGINE is invalid, expected one of auto, native, probe (actual: "v8"); using 'auto'`] : [],
        );
      });
    }
  });

  describe('shutdown (issue 21 §4)', function () {
    it('should still export the queued profiles when the engine fails to shut down', async function () {
      let sink: SampleSink | undefined;
      const failing: SamplingEngine = {
        name: 'probe',
        enabled: true,
        live: true,
        acquire() {},
        release() {},
        collect: () => Promise.resolve(),
        sampleMark: () => 0,
        sampledSince: () => true,
        measuredIntervalNanos: 10_101_010,
        stats: {} as EngineStats,
        shutdown: () => Promise.reject(new Error('engine shutdown failed on purpose')),
      };
      const exporter = new InMemoryProfileExporter();
      // A long delay: the profile is exported at shutdown or never.
      const processor = new ProfilingSpanProcessor(
        { exporter, batch: { scheduledDelayMillis: 600_000 } },
        { createEngine: (_settings, s) => ((sink = s), failing) },
      );
      tracing = setUpProfiledTracing({ engine: 'probe' });
      const root = tracing.tracer.startSpan('root');
      processor.onStart(root as never, context.active());
      sink!.sample(performance.now() * 1e6, 1000, root, () => [{ functionName: 'f', fileName: 'f.js', lineNumber: 1, columnNumber: 1 }]);
      processor.onEnd(root as never);
      await processor.shutdown();
      assert.deepStrictEqual(
        exporter.getFinishedProfiles().map((p) => p.rootSpanId),
        [root.spanContext().spanId],
      );
    });
  });

  describe('probe engine handler errors (issue 21 §4)', function () {
    it('should count exceptions thrown by the sample handler inside the probe', async function () {
      const engine = new ProbeEngine(
        { frequencyHz: 99, maxOverheadPercent: Infinity, maxStackDepth: 64, reason: 'test' },
        {
          sample() {
            throw new Error('handler failed on purpose');
          },
          delivered() {},
        },
      );
      try {
        engine.acquire();
        const end = performance.now() + 10_000;
        while (engine.stats.samplesTaken < 3 && performance.now() < end) spin(2);
        const stats = engine.stats;
        assert.ok(stats.samplesTaken >= 3, 'no probe ran');
        assert.strictEqual(stats.handlerErrors, stats.samplesTaken);
      } finally {
        engine.release();
        await engine.shutdown();
      }
    });
  });
});
