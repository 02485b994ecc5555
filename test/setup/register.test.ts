import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { profilesExporterName } from '../../src/auto/profile-exporter-from-env';
import { loadInstrumentations } from '../../src/auto/start-from-env';
import { DiagRecorder } from '../helpers/diag-recorder';
import { AppProcess, type AppExit } from './app-process';
import { OtlpSink } from '../helpers/otlp-sink';
import { spansOf, summarizeProfiles } from './otlp-json-summary';

// build/test/setup/ -> the repository root; the fixtures stay in the source tree.
const repo = path.join(__dirname, '..', '..', '..');
const fixtures = path.join(repo, 'test', 'setup', 'fixtures');
const HOT_FUNCTION = 'spinInSetupTestRoute';
const REQUESTS = 12;
const MAX_ROUNDS = 8;

/** Resolves when `condition()` holds or `millis` have passed, whichever comes first. */
async function waitFor(condition: () => boolean, millis: number): Promise<void> {
  const deadline = Date.now() + millis;
  while (!condition() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
}

/** The parent's environment without OTEL_* variables, plus `extra`. */
function appEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith('OTEL_')) env[key] = value;
  return { ...env, OTEL_METRICS_EXPORTER: 'none', ...extra };
}

/** The parts of an OTLP JSON profiles request read here. */
interface ProfilesBody {
  dictionary?: { stringTable?: string[]; attributeTable?: Array<{ keyStrindex?: number }> };
  resourceProfiles?: Array<{
    scopeProfiles?: Array<{ profiles?: Array<{ attributeIndices?: number[]; samples?: Array<{ linkIndex?: number }> }> }>;
  }>;
}

interface Run {
  readonly exit: AppExit;
  readonly statuses: number[];
}

describe('otel-span-profiler/register', function () {
  // Each test starts a Node app under the SDK, sends it requests and waits for its export at exit: 7-23 s seen on a busy 2-core machine.
  this.timeout(60_000);
  const sink = OtlpSink.json();
  let app: AppProcess | undefined;

  before(async () => sink.start());
  after(async () => sink.stop());
  afterEach(() => {
    app?.kill();
    app = undefined;
    sink.reset();
  });

  /** Runs a fixture app under `nodeArgs`, sends it requests, stops it with SIGTERM. */
  async function run(nodeArgs: string[], env: Record<string, string> = {}): Promise<Run> {
    app = new AppProcess(process.execPath, nodeArgs, {
      cwd: fixtures,
      env: appEnv({
        OTEL_EXPORTER_OTLP_ENDPOINT: sink.url,
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        OTEL_SERVICE_NAME: 'register-test',
        ...env,
      }),
    });
    await app.ready();
    const statuses = await app.get('/work', REQUESTS);
    return { exit: await app.stop(), statuses };
  }

  /** The profiles and spans one run exported, checked for what every profiling run must show. */
  function assertProfiled(result: Run): void {
    assert.deepEqual(result.statuses, Array(REQUESTS).fill(200));
    assert.deepEqual(sink.problems, []);
    // SIGTERM with no handler of the app's own: flushed, then ended by the signal as without us.
    assert.equal(result.exit.signal, 'SIGTERM', result.exit.stderr);
    const spans = spansOf(sink.traceBodies());
    const traceIds = new Set(spans.map((s) => s.traceId));
    assert.ok(
      spans.some((s) => s.name === 'GET /work'),
      `an HTTP server span, got ${spans.map((s) => s.name).join(', ')}`,
    );
    assert.ok(
      spans.some((s) => s.name.startsWith('request handler')),
      `an Express span, got ${spans.map((s) => s.name).join(', ')}`,
    );
    const profiles = sink.profileBodies().flatMap(summarizeProfiles);
    const hot = profiles.filter((p) => p.sampleCount > 0 && p.functionNames.has(HOT_FUNCTION));
    assert.ok(hot.length > 0, `a profile sampling ${HOT_FUNCTION}, got ${profiles.length} profiles`);
    for (const profile of hot) {
      assert.equal(profile.serviceName, 'register-test');
      for (const traceId of profile.traceIds)
        assert.ok(traceIds.has(traceId), `profile linked to trace ${traceId}, which was not exported`);
    }
  }

  it('should profile an Express app started with --require', async () => {
    assertProfiled(await run(['--require', 'otel-span-profiler/register', 'express-app.js']));
  });

  it('should profile an ES module Express app started with --import', async () => {
    assertProfiled(await run(['--import', 'otel-span-profiler/register', 'express-app.mjs']));
  });

  it('should export traces and no profiles with OTEL_PROFILES_EXPORTER=none', async () => {
    const result = await run(['--require', 'otel-span-profiler/register', 'express-app.js'], { OTEL_PROFILES_EXPORTER: 'none' });
    assert.equal(result.exit.signal, 'SIGTERM', result.exit.stderr);
    assert.ok(spansOf(sink.traceBodies()).length >= REQUESTS);
    assert.deepEqual(sink.profileBodies(), []);
  });

  it('should export profiles and no traces with OTEL_TRACES_EXPORTER=none', async () => {
    await run(['--require', 'otel-span-profiler/register', 'express-app.js'], { OTEL_TRACES_EXPORTER: 'none' });
    assert.deepEqual(sink.traceBodies(), []);
    assert.ok(
      sink
        .profileBodies()
        .flatMap(summarizeProfiles)
        .some((p) => p.functionNames.has(HOT_FUNCTION)),
    );
  });

  it('should print spans with OTEL_TRACES_EXPORTER=console and still export profiles', async function () {
    // Up to MAX_ROUNDS rounds of requests, each followed by the 5 s scheduled export: a busy host
    // may take no sample of the hot route in one round, so the work goes on until one is exported.
    this.timeout(MAX_ROUNDS * 20_000);
    const sampledHot = (): boolean =>
      sink
        .profileBodies()
        .flatMap(summarizeProfiles)
        .some((p) => p.sampleCount > 0 && p.functionNames.has(HOT_FUNCTION));
    app = new AppProcess(process.execPath, ['--require', 'otel-span-profiler/register', 'express-app.js'], {
      cwd: fixtures,
      env: appEnv({
        OTEL_EXPORTER_OTLP_ENDPOINT: sink.url,
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        OTEL_SERVICE_NAME: 'register-test',
        OTEL_TRACES_EXPORTER: 'console',
      }),
    });
    await app.ready();
    let rounds = 0;
    while (rounds < MAX_ROUNDS && !sampledHot()) {
      rounds++;
      assert.deepEqual(await app.get('/work', REQUESTS), Array(REQUESTS).fill(200));
      await waitFor(sampledHot, 7_000);
    }
    const exit = await app.stop();
    assert.match(exit.stdout, /name: 'GET \/work'/);
    assert.deepEqual(sink.traceBodies(), []);
    const profiles = sink.profileBodies().flatMap(summarizeProfiles);
    const samples = profiles.reduce((sum, p) => sum + p.sampleCount, 0);
    const names = [...new Set(profiles.flatMap((p) => [...p.functionNames]))];
    assert.ok(
      sampledHot(),
      `no exported profile sampled ${HOT_FUNCTION} in ${rounds} rounds of ${REQUESTS} requests: ` +
        `${profiles.length} profiles, ${samples} samples, functions ${names.slice(0, 30).join(', ')}`,
    );
  });

  it('should warn on the console about an unknown OTEL_PROFILES_EXPORTER and export OTLP', async () => {
    const result = await run(['--require', 'otel-span-profiler/register', 'express-app.js'], { OTEL_PROFILES_EXPORTER: 'pyroscope' });
    assert.match(
      result.exit.stderr,
      /OTEL_PROFILES_EXPORTER is invalid, expected one of otlp, file, none \(actual: "pyroscope"\); using 'otlp'/,
    );
    assertProfiled(result);
  });

  it('should profile the whole process with OTEL_SPAN_PROFILER_MODE=continuous (issue 20)', async () => {
    const result = await run(['--require', 'otel-span-profiler/register', 'express-app.js'], {
      OTEL_SPAN_PROFILER_MODE: 'continuous',
      OTEL_SPAN_PROFILER_CONTINUOUS_PERIOD_MILLIS: '1000',
    });
    assertProfiled(result);
    // Process profiles only, and they hold samples outside any span too (start-up: loading Express).
    let profiles = 0;
    let unlinked = 0;
    for (const body of sink.profileBodies() as ProfilesBody[]) {
      const strings = body.dictionary?.stringTable ?? [];
      const continuousKeys = new Set(
        (body.dictionary?.attributeTable ?? []).flatMap((a, i) =>
          strings[a.keyStrindex ?? 0] === 'otel_span_profiler.continuous' ? [i] : [],
        ),
      );
      for (const profile of (body.resourceProfiles ?? []).flatMap((rp) => (rp.scopeProfiles ?? []).flatMap((sp) => sp.profiles ?? []))) {
        profiles++;
        assert.ok(
          (profile.attributeIndices ?? []).some((i) => continuousKeys.has(i)),
          'a profile not marked continuous',
        );
        unlinked += (profile.samples ?? []).filter((s) => (s.linkIndex ?? 0) === 0).length;
      }
    }
    assert.ok(profiles > 0);
    assert.ok(unlinked > 0, 'no sample outside a span');
  });

  it('should start nothing with OTEL_SDK_DISABLED=true', async () => {
    const result = await run(['--require', 'otel-span-profiler/register', 'express-app.js'], { OTEL_SDK_DISABLED: 'true' });
    assert.deepEqual(result.statuses, Array(REQUESTS).fill(200));
    assert.deepEqual(sink.exports, []);
  });

  describe('profilesExporterName', () => {
    const recorder = new DiagRecorder();
    beforeEach(() => recorder.install());
    afterEach(() => recorder.uninstall());

    const cases: Array<{ name: string; value: string | undefined; want: string }> = [
      { name: 'unset', value: undefined, want: 'otlp' },
      { name: 'empty', value: '', want: 'otlp' },
      { name: 'otlp', value: 'otlp', want: 'otlp' },
      { name: 'upper case with spaces', value: ' NONE ', want: 'none' },
      { name: 'file', value: 'file', want: 'file' },
    ];
    for (const c of cases) {
      it(`should read ${c.name} as ${c.want}`, () => {
        assert.equal(profilesExporterName({ OTEL_PROFILES_EXPORTER: c.value }), c.want);
        assert.deepEqual(recorder.records, []);
      });
    }

    it('should warn once about an unknown value and use otlp', () => {
      assert.equal(profilesExporterName({ OTEL_PROFILES_EXPORTER: 'console' }), 'otlp');
      assert.deepEqual(recorder.records, [
        {
          level: 'warn',
          namespace: 'otel-span-profiler/register',
          message: `OTEL_PROFILES_EXPORTER is invalid, expected one of otlp, file, none (actual: "console"); using 'otlp'`,
        },
      ]);
    });
  });

  describe('loadInstrumentations', () => {
    const recorder = new DiagRecorder();
    beforeEach(() => recorder.install());
    afterEach(() => recorder.uninstall());

    it('should take the HTTP and Express instrumentations when auto-instrumentations-node is not installed', () => {
      // Stand-in classes: constructing the real ones would patch http in this test process.
      class HttpInstrumentation {}
      class ExpressInstrumentation {}
      const installed: Record<string, unknown> = {
        '@opentelemetry/instrumentation-http': { HttpInstrumentation },
        '@opentelemetry/instrumentation-express': { ExpressInstrumentation },
      };
      const { instrumentations, packages } = loadInstrumentations((name) => installed[name]);
      assert.deepEqual(packages, ['@opentelemetry/instrumentation-http', '@opentelemetry/instrumentation-express']);
      assert.deepEqual(
        instrumentations.map((i) => i.constructor),
        [HttpInstrumentation, ExpressInstrumentation],
      );
      assert.deepEqual(recorder.records, []);
    });

    it('should take only auto-instrumentations-node when it is installed', () => {
      const all = [{}, {}];
      const installed: Record<string, unknown> = {
        '@opentelemetry/auto-instrumentations-node': { getNodeAutoInstrumentations: () => all },
        '@opentelemetry/instrumentation-http': { HttpInstrumentation: class {} },
      };
      const { instrumentations, packages } = loadInstrumentations((name) => installed[name]);
      assert.equal(instrumentations, all);
      assert.deepEqual(packages, ['@opentelemetry/auto-instrumentations-node']);
    });

    it('should warn that nothing will be profiled when no instrumentation is installed', () => {
      const { instrumentations } = loadInstrumentations(() => undefined);
      assert.deepEqual(instrumentations, []);
      assert.deepEqual(
        recorder.records.map((r) => [r.level, r.namespace]),
        [['warn', 'otel-span-profiler/register']],
      );
      assert.match(
        recorder.records[0]!.message,
        /^no instrumentation is installed, so incoming requests create no spans and nothing is profiled/,
      );
    });
  });
});
