import * as assert from 'node:assert';
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { DiagRecorder } from '../helpers/diag-recorder';
import { setUpProfiledTracing, spin, spinUntilSampled, type ProfiledTracing } from '../helpers/tracing';

const BUILD_SRC = path.resolve(__dirname, '../../src');
const INDEX = path.join(BUILD_SRC, 'index.js');
const MEMORY_EXPORTER = path.join(BUILD_SRC, 'exporter/in-memory-profile-exporter.js');

/** The library loaded again as a separate copy (as a second version in node_modules would be). */
function loadSecondCopy(): typeof import('../../src/index') {
  const saved = new Map<string, NodeModule>();
  for (const key of Object.keys(require.cache)) {
    if (key.startsWith(BUILD_SRC + path.sep)) {
      saved.set(key, require.cache[key]!);
      delete require.cache[key];
    }
  }
  try {
    return require(INDEX) as typeof import('../../src/index');
  } finally {
    for (const key of Object.keys(require.cache)) if (key.startsWith(BUILD_SRC + path.sep)) delete require.cache[key];
    for (const [key, module] of saved) require.cache[key] = module;
  }
}

describe('ProbeSampler environments', function () {
  this.timeout(60_000);
  let tracing: ProfiledTracing | undefined;
  let recorder: DiagRecorder | undefined;
  afterEach(async function () {
    await tracing?.close();
    tracing = undefined;
    recorder?.uninstall();
    recorder = undefined;
  });

  it('should keep two copies of the library in one process apart (each copy probes only itself)', async function () {
    const copy = loadSecondCopy();
    const { ProfilingSpanProcessor: FirstCopy } = await import('../../src/index');
    assert.notStrictEqual(copy.ProfilingSpanProcessor, FirstCopy, 'the second copy is the same module');
    tracing = setUpProfiledTracing({ engine: 'probe' });
    const other = new copy.ProfilingSpanProcessor({ exporter: new copy.InMemoryProfileExporter(), maxOverheadPercent: Infinity });
    try {
      // Both samplers running at once: the second copy's first instance used to take the same
      // Symbol.for key as the first copy's, and every probe of one ran the other's handler.
      // The second copy's processor is handed a root of its own directly (it has no provider).
      const { ROOT_CONTEXT } = await import('@opentelemetry/api');
      const otherRoot = tracing.tracer.startSpan('other copy root');
      other.onStart(otherRoot as never, ROOT_CONTEXT);
      await tracing.tracer.startActiveSpan('first copy root', async (span) => {
        spinUntilSampled(tracing!.processor, 10);
        const end = performance.now() + 10_000;
        while (other.stats.engine.samplesTaken < 10 && performance.now() < end) spin(5);
        span.end();
      });
      other.onEnd(otherRoot as never);
      otherRoot.end();
      const first = tracing.processor.stats;
      const second = other.stats;
      assert.ok(first.samples >= 10, `the first copy took ${first.samples} samples`);
      assert.ok(second.engine.samplesTaken >= 10, `the second copy's probes ran ${second.engine.samplesTaken} times`);
      // Each copy's probes ran its own handler: the second copy never saw the first's root as its own.
      assert.strictEqual(second.samples, 0, `the second copy charged ${second.samples} samples of the first copy's root`);
    } finally {
      await other.shutdown();
    }
  });

  it('should stay inert, with one warning, when created inside a worker thread', async function () {
    const result = await new Promise<{ warnings: string[]; probes: number; ended: boolean; samplingActive: boolean }>((resolve, reject) => {
      const worker = new Worker(
        `
        const { workerData, parentPort } = require('node:worker_threads');
        const { context, diag, DiagLogLevel } = require('@opentelemetry/api');
        const { AsyncLocalStorageContextManager } = require('@opentelemetry/context-async-hooks');
        const { BasicTracerProvider } = require('@opentelemetry/sdk-trace-base');
        const { ProfilingSpanProcessor, InMemoryProfileExporter } = require(workerData.index);
        const warnings = [];
        diag.setLogger({ error: (...a) => warnings.push(a.join(' ')), warn: (...a) => warnings.push(a.join(' ')), info() {}, debug() {}, verbose() {} }, { logLevel: DiagLogLevel.ALL, suppressOverrideMessage: true });
        context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
        const processor = new ProfilingSpanProcessor({ engine: 'probe', exporter: new InMemoryProfileExporter() });
        const tracer = new BasicTracerProvider({ spanProcessors: [processor] }).getTracer('in a worker');
        let ended = false;
        tracer.startActiveSpan('root', (span) => { const end = Date.now() + 300; while (Date.now() < end); span.end(); ended = true; });
        setTimeout(() => parentPort.postMessage({ warnings, probes: processor.stats.engine.samplesTaken, ended, samplingActive: processor.stats.engine.active }), 100);
        `,
        { eval: true, workerData: { index: INDEX } },
      );
      worker.once('message', (m) => {
        resolve(m);
        void worker.terminate();
      });
      worker.once('error', reject);
    });
    // Meanwhile the main thread must not have been probed on the worker's behalf.
    assert.strictEqual(result.ended, true);
    assert.strictEqual(result.probes, 0);
    assert.strictEqual(result.samplingActive, false);
    assert.strictEqual(result.warnings.length, 1, result.warnings.join('\n'));
    assert.match(result.warnings[0], /worker thread/);
  });

  it('should pass spans through with one warning and leak nothing where the permission model refuses worker threads', async function () {
    if (process.platform !== 'linux') this.skip();
    const major = Number(process.versions.node.split('.')[0]);
    const flag = major >= 22 ? '--permission' : '--experimental-permission';
    const stdout = await new Promise<string>((resolve, reject) => {
      execFile(
        process.execPath,
        [flag, '--allow-fs-read=*', path.resolve(__dirname, '../../../test/fixtures/refused-environment.js'), INDEX, MEMORY_EXPORTER],
        { timeout: 30_000 },
        (err, out, errOut) => (err ? reject(new Error(`${String(err)}\n${errOut}`)) : resolve(out)),
      );
    });
    const result = JSON.parse(stdout) as {
      threw: string | null;
      ended: boolean;
      warnings: string[];
      stats: { engine: { samplesTaken: number }; profiledRoots: number };
      exitListenersAdded: number;
      fdsAdded: number;
      probeKeys: number;
    };
    assert.strictEqual(result.threw, null);
    assert.strictEqual(result.ended, true);
    assert.strictEqual(result.warnings.length, 1, result.warnings.join('\n'));
    assert.match(result.warnings[0], /profiling is off/);
    assert.strictEqual(result.stats.engine.samplesTaken, 0);
    assert.strictEqual(result.exitListenersAdded, 0, 'an exit listener was left behind');
    assert.strictEqual(result.fdsAdded, 0, 'a descriptor was left open');
    assert.strictEqual(result.probeKeys, 0, 'a global probe was left behind');
  });

  for (const [name, flags] of [
    ['--cpu-prof', ['--cpu-prof']],
    ['--inspect (a debugger port open on 127.0.0.1)', ['--inspect=127.0.0.1:0']],
  ] as const) {
    it(`should sample and let the process exit by itself under ${name}`, async function () {
      const dir = mkdtempSync(path.join(tmpdir(), 'otel-span-profiler-'));
      try {
        const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
          const child = execFile(
            process.execPath,
            [...flags, path.resolve(__dirname, '../../../test/fixtures/exit-with-open-root.js'), INDEX, MEMORY_EXPORTER],
            { cwd: dir, timeout: 30_000 },
            (_err, out, errOut) => resolve({ code: child.exitCode, stdout: out, stderr: errOut }),
          );
        });
        assert.strictEqual(code, 0, stdout + stderr);
        assert.match(stdout, /probes=[1-9]/, `no sample under ${name}`);
        if (name === '--cpu-prof') {
          const [file] = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
          assert.ok(file !== undefined, 'no CPU profile was written');
          // V8's profile is intact (parses) next to ours.
          assert.ok(Array.isArray((JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as { nodes: unknown[] }).nodes));
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }

  it('should start nothing while no root is profiled (profilesSampleRate 0)', async function () {
    tracing = setUpProfiledTracing({ engine: 'probe', profilesSampleRate: 0 });
    const before = Object.getOwnPropertySymbols(globalThis).length;
    await tracing.tracer.startActiveSpan('not profiled', async (span) => {
      spin(50);
      span.end();
    });
    assert.strictEqual(Object.getOwnPropertySymbols(globalThis).length, before, 'a probe was installed');
    assert.strictEqual(tracing.processor.stats.engine.samplesTaken, 0);
    assert.strictEqual(tracing.processor.stats.engine.overheadPercent, null);
  });

  it('should keep sampling alongside another inspector session with the Debugger enabled, one unlisted script per probe at most', async function () {
    recorder = new DiagRecorder().install();
    // Another client (a debugger, --inspect) on the main thread, counting scriptParsed.
    const observer = new Worker(
      `
      const { parentPort } = require('node:worker_threads');
      const inspector = require('node:inspector');
      const session = new inspector.Session();
      session.connectToMainThread();
      let counting = false;
      const parsed = [];
      session.on('Debugger.scriptParsed', (m) => { if (counting) parsed.push(m.params.url); });
      session.post('Debugger.enable', () => parentPort.postMessage('ready'));
      parentPort.on('message', (m) => {
        if (m === 'start') { counting = true; parentPort.postMessage('started'); }
        else { parentPort.postMessage(parsed); session.disconnect(); process.exit(0); }
      });
      setInterval(() => {}, 1000);
      `,
      { eval: true },
    );
    const next = () => new Promise<unknown>((resolve) => observer.once('message', resolve));
    await next();
    tracing = setUpProfiledTracing({ engine: 'probe' });
    observer.postMessage('start');
    await next();
    const before = tracing.processor.stats.engine.samplesTaken;
    await tracing.tracer.startActiveSpan('debugged', async (span) => {
      spinUntilSampled(tracing!.processor, 20);
      span.end();
    });
    await new Promise((r) => setTimeout(r, 50));
    const probes = tracing.processor.stats.engine.samplesTaken - before;
    observer.postMessage('stop');
    const urls = (await next()) as string[];
    assert.ok(probes >= 20, `${probes} probes`);
    // Runtime.evaluate compiles one script per probe (see docs/where-it-runs.md): no more than
    // that, and none with a URL, so debuggers do not list them.
    const unlisted = urls.filter((u) => u === '').length;
    assert.ok(unlisted <= probes + 2, `${unlisted} scripts for ${probes} probes`);
    assert.deepStrictEqual(
      urls.filter((u) => u.includes('otel-span-profiler')),
      [],
    );
  });
});
