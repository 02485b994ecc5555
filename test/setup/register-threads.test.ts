import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { AppProcess } from './app-process';
import { OtlpSink } from '../helpers/otlp-sink';
import { summarizeProfiles } from './otlp-json-summary';

// build/test/setup/ -> the repository root; the fixtures stay in the source tree.
const repo = path.join(__dirname, '..', '..', '..');
const fixtures = path.join(repo, 'test', 'setup', 'fixtures');
const REQUESTS = 12;

/** The parent's environment without OTEL_* and NODE_OPTIONS, plus `extra`. */
function appEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith('OTEL_') && key !== 'NODE_OPTIONS') env[key] = value;
  return { ...env, OTEL_METRICS_EXPORTER: 'none', ...extra };
}

// Issue 21 §4: the source-map thread inherited the application's --require/--import preloads (and
// NODE_OPTIONS), so the zero-code entry started a second NodeSDK inside it, whose processor then
// warned "created in a worker thread: it profiles nothing there" in every run that exported.
describe("otel-span-profiler/register and the library's own threads", function () {
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

  const cases = [
    { name: '--require', nodeArgs: ['--require', 'otel-span-profiler/register', 'express-app.js'], env: {} as Record<string, string> },
    { name: '--import', nodeArgs: ['--import', 'otel-span-profiler/register', 'express-app.mjs'], env: {} },
    { name: 'NODE_OPTIONS=--require', nodeArgs: ['express-app.js'], env: { NODE_OPTIONS: '--require otel-span-profiler/register' } },
  ];
  for (const c of cases) {
    it(`should start the SDK in the main thread only, with ${c.name}, and warn about nothing`, async () => {
      app = new AppProcess(process.execPath, c.nodeArgs, {
        cwd: fixtures,
        env: appEnv({
          OTEL_EXPORTER_OTLP_ENDPOINT: sink.url,
          OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
          OTEL_SERVICE_NAME: 'register-threads-test',
          OTEL_LOG_LEVEL: 'warn',
          ...c.env,
        }),
      });
      await app.ready();
      assert.deepEqual(await app.get('/work', REQUESTS), Array(REQUESTS).fill(200));
      const exit = await app.stop();
      // Exported, so the source-map thread ran (source maps are on by default).
      const profiles = sink.profileBodies().flatMap(summarizeProfiles);
      assert.ok(
        profiles.some((p) => p.sampleCount > 0),
        `profiles were exported; stderr:\n${exit.stderr}`,
      );
      assert.doesNotMatch(exit.stderr, /worker thread/, exit.stderr);
      assert.doesNotMatch(exit.stderr, /otel-span-profiler|OpenTelemetry|warn/i, `no warning expected:\n${exit.stderr}`);
    });
  }
});
