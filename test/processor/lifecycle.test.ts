import * as assert from 'node:assert';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { context, trace } from '@opentelemetry/api';
import { InMemoryProfileExporter, ProfilingSpanProcessor } from '../../src';
import { ENGINES, setUpProfiledTracing, spin, spinUntilSampled, type ProfiledTracing } from '../helpers/tracing';

for (const engine of ENGINES)
  describe(`ProfilingSpanProcessor lifecycle [${engine} engine]`, function () {
    let tracing: ProfiledTracing;
    beforeEach(function () {
      tracing = setUpProfiledTracing({ engine });
    });
    afterEach(async function () {
      await tracing.close();
    });

    describe('shutdown', function () {
      it('should stop sampling and export the open roots as truncated profiles', async function () {
        const { tracer, processor, exporter } = tracing;
        const open = tracer.startSpan('still open');
        context.with(trace.setSpan(context.active(), open), () => spinUntilSampled(processor, 2));
        await processor.shutdown();
        const [profile] = exporter.getFinishedProfiles();
        assert.ok(profile, 'the open root was lost at shutdown');
        assert.strictEqual(profile.rootSpanId, open.spanContext().spanId);
        assert.strictEqual(profile.truncated, true);
        assert.ok(profile.samples.length >= 2);
        const probes = processor.stats.engine.samplesTaken;
        assert.strictEqual(processor.stats.engine.active, false);
        spin(200);
        await new Promise((r) => setTimeout(r, 50));
        assert.strictEqual(processor.stats.engine.samplesTaken, probes, 'probes ran after shutdown');
      });

      it('should release every file descriptor it opened (the sampling thread, the /proc state file)', async function () {
        if (process.platform !== 'linux') this.skip();
        const openDescriptors = (): number => fs.readdirSync('/proc/self/fd').length;
        await tracing.processor.shutdown();
        const before = openDescriptors();
        for (let i = 0; i < 10; i++) {
          const processor = new ProfilingSpanProcessor({ engine, exporter: new InMemoryProfileExporter() });
          // Shut down while the worker is still starting, and once it ticks.
          if (i % 2 === 1) await new Promise((r) => setTimeout(r, 100));
          await processor.shutdown();
        }
        assert.strictEqual(openDescriptors(), before, 'descriptors leaked over ten processors');
      });

      it('should run once and make later calls of every hook no-ops', async function () {
        const { tracer, processor } = tracing;
        await Promise.all([processor.shutdown(), processor.shutdown()]);
        const span = tracer.startSpan('after shutdown');
        span.end();
        await processor.forceFlush();
        await processor.shutdown();
        assert.strictEqual(processor.stats.profiledRoots, 0);
      });
    });

    describe('forceFlush', function () {
      it('should export ended roots and leave open roots open', async function () {
        const { tracer, processor, exporter } = tracing;
        const open = tracer.startSpan('open');
        tracer.startActiveSpan('ended', (span) => {
          spinUntilSampled(processor);
          span.end();
        });
        await processor.forceFlush();
        assert.deepStrictEqual(
          exporter.getFinishedProfiles().map((p) => p.rootSpanName),
          ['ended'],
        );
        assert.strictEqual(processor.stats.openRoots, 1);
        open.end();
      });
    });

    describe('hooks', function () {
      it('should never throw, whatever they are given', function () {
        const { processor } = tracing;
        const broken = {
          spanContext() {
            throw new Error('broken span');
          },
        };
        assert.doesNotThrow(() => processor.onStart(broken as never, context.active()));
        assert.doesNotThrow(() => processor.onStart(undefined as never, undefined as never));
        assert.doesNotThrow(() => processor.onEnding(undefined as never));
        assert.doesNotThrow(() => processor.onEnd(undefined));
        assert.doesNotThrow(() => processor.onEnd({} as never));
      });
    });

    describe('pyroscopeProfileIdAttribute', function () {
      it('should set pyroscope.profile.id on roots with samples only', async function () {
        const { tracer, processor } = tracing;
        const sampled = tracer.startActiveSpan('with samples', (span) => {
          spinUntilSampled(processor);
          span.end();
          return span;
        });
        const empty = tracer.startSpan('without samples');
        empty.end();
        const attrs = (s: unknown) => (s as { attributes: Record<string, unknown> }).attributes;
        assert.strictEqual(attrs(sampled)['pyroscope.profile.id'], sampled.spanContext().spanId);
        assert.strictEqual(attrs(empty)['pyroscope.profile.id'], undefined);
      });

      it('should set nothing when turned off', async function () {
        await tracing.close();
        tracing = setUpProfiledTracing({ engine, pyroscopeProfileIdAttribute: false });
        const { tracer, processor } = tracing;
        const span = tracer.startActiveSpan('with samples', (s) => {
          spinUntilSampled(processor);
          s.end();
          return s;
        });
        assert.strictEqual((span as unknown as { attributes: Record<string, unknown> }).attributes['pyroscope.profile.id'], undefined);
      });
    });

    describe('profile names', function () {
      it('should name a profile after its root as the root ended, not as it started', async function () {
        const { tracer, processor, exporter } = tracing;
        tracer.startActiveSpan('GET', (span) => {
          // As the HTTP instrumentation's server span is renamed once the route is known.
          span.updateName('GET /parse');
          spinUntilSampled(processor);
          span.end();
        });
        await processor.forceFlush();
        assert.deepStrictEqual(
          exporter.getFinishedProfiles().map((p) => p.rootSpanName),
          ['GET /parse'],
        );
      });
    });

    describe('linkSamplesTo', function () {
      it("should default to 'local-root' and keep each sample's active span in ProfileSample.spanId", async function () {
        const { tracer, processor, exporter } = tracing;
        const childId = tracer.startActiveSpan('root', (root) => {
          const id = tracer.startActiveSpan('child', (child) => {
            spinUntilSampled(processor, 3);
            child.end();
            return child.spanContext().spanId;
          });
          root.end();
          return id;
        });
        await processor.forceFlush();
        const [profile] = exporter.getFinishedProfiles();
        assert.strictEqual(profile.sampleLinks, 'local-root');
        assert.ok(profile.samples.length >= 3);
        assert.deepStrictEqual(new Set(profile.samples.map((s) => s.spanId)), new Set([childId]));
      });

      it("should mark profiles 'active-span' with that option", async function () {
        await tracing.close();
        tracing = setUpProfiledTracing({ engine, linkSamplesTo: 'active-span' });
        const { tracer, processor, exporter } = tracing;
        tracer.startActiveSpan('root', (root) => {
          spinUntilSampled(processor);
          root.end();
        });
        await processor.forceFlush();
        assert.deepStrictEqual(
          exporter.getFinishedProfiles().map((p) => p.sampleLinks),
          ['active-span'],
        );
      });
    });

    /** Runs a fixture in a child process; resolves to its exit code, signal and output. */
    async function runFixture(name: string): Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }> {
      const repo = path.join(__dirname, '..', '..', '..');
      const child = spawn(
        process.execPath,
        [
          path.join(repo, 'test', 'fixtures', name),
          require.resolve('../../src/processor/processor'),
          require.resolve('../../src/exporter/in-memory-profile-exporter'),
          engine,
        ],
        { cwd: repo, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      // A guard, not a timing claim: a process held open by the worker would never exit.
      const guard = setTimeout(() => child.kill('SIGKILL'), 30_000);
      const [code, signal] = await new Promise<[number | null, string | null]>((resolve) => child.on('exit', (c, s) => resolve([c, s])));
      clearTimeout(guard);
      return { code, signal, stdout, stderr };
    }

    it('should let the process exit by itself with a root still open and no shutdown', async function () {
      const { code, signal, stdout, stderr } = await runFixture('exit-with-open-root.js');
      assert.strictEqual(signal, null, `the process did not exit by itself; output: ${stdout}${stderr}`);
      assert.strictEqual(code, 0, stdout + stderr);
      assert.match(stdout, /probes=[1-9]/, 'the fixture took no sample, so it proved nothing');
    });

    it('should leave no inspector session behind when the application calls process.exit() while sampling', async function () {
      const { code, stdout, stderr } = await runFixture('process-exit-while-sampling.js');
      assert.strictEqual(code, 0, stdout + stderr);
      assert.match(stdout, /samples=[3-9]/, 'the fixture was not sampling when it exited');
      assert.strictEqual(stderr, '');
    });
  });
