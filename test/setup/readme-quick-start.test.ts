import * as assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { AppProcess, type AppExit } from './app-process';
import { CACHE, nodeBinary, npmCli, REPO } from './node-binaries';
import { OtlpSink } from '../helpers/otlp-sink';
import { spansOf, summarizeProfiles } from './otlp-json-summary';
import { codeBlocksUnder, readQuickStart, type QuickStart } from './readme-snippets';

// The README's quick start, run as a user would run it: its `npm install` line in an empty project
// (with this package from `npm pack` instead of the registry, plus express for the app), its
// instrumentation.js as written, its run command on a small Express app; then real requests and a
// SIGTERM. The zero-code entry point is run in the same projects. Installed projects are kept in .cache/setup-tests, keyed by the install line and this
// package's dependency ranges; a kept project only gets the fresh tarball.

const HOT_FUNCTION = 'spinInSetupTestRoute';
const REQUESTS = 12;
const PROJECTS = path.join(CACHE, 'setup-tests');

interface Variant {
  readonly heading: string;
  /** Node majors to run the app on; npm runs on the first (it picks versions whose engines fit). */
  readonly nodeMajors: readonly number[];
  /** Installed versions the variant must have resolved to. */
  readonly expectVersions: Readonly<Record<string, RegExp>>;
  /** The file that shows the variant, from the repository root. */
  readonly file: string;
}

const VARIANTS: readonly Variant[] = [
  {
    heading: 'OpenTelemetry JS 2.x',
    nodeMajors: [0], // 0: the Node running the tests (20 in CI)
    expectVersions: { '@opentelemetry/sdk-node': /^0\.2\d\d\./, '@opentelemetry/sdk-trace-base': /^2\./, '@opentelemetry/core': /^2\./ },
    file: 'README.md',
  },
  {
    heading: 'OpenTelemetry JS 3.x',
    nodeMajors: [22, 24],
    expectVersions: { '@opentelemetry/sdk-node': /^0\.3\d\d\./, '@opentelemetry/sdk-trace': /^3\./, '@opentelemetry/core': /^3\./ },
    // Moved out of the README to keep it short (issue 21 §5); run as written all the same.
    file: 'docs/getting-started.md',
  },
];

function run(node: string, args: string[], cwd: string): string {
  const result = spawnSync(node, args, { cwd, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (result.status !== 0) throw new Error(`${args.join(' ')} failed (${result.status}):\n${result.stdout}\n${result.stderr}`);
  return result.stdout;
}

function installedVersion(project: string, name: string): string {
  return JSON.parse(readFileSync(path.join(project, 'node_modules', name, 'package.json'), 'utf8')).version;
}

/** The parent's environment without OTEL_* variables. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith('OTEL_') && !key.startsWith('npm_')) env[key] = value;
  return env;
}

describe('README quick start, installed from the packed package', function () {
  /** With the sink emptied: waits until `app` listens, asserts REQUESTS answers of 200 on /work, stops it (kills it on failure). */
  async function serveRequests(app: AppProcess): Promise<AppExit> {
    sink.reset();
    try {
      await app.ready();
      assert.deepEqual(await app.get('/work', REQUESTS), Array(REQUESTS).fill(200));
    } catch (error) {
      app.kill();
      throw error;
    }
    return app.stop();
  }

  /** The sink got an Express span and a profile of HOT_FUNCTION, linked to exported traces. */
  function assertExported(serviceName: string): void {
    assert.deepEqual(sink.problems, []);
    const spans = spansOf(sink.traceBodies());
    assert.ok(
      spans.some((s) => s.name.startsWith('request handler')),
      `an Express span, got ${spans.map((s) => s.name).join(', ')}`,
    );
    const traceIds = new Set(spans.map((s) => s.traceId));
    const hot = sink
      .profileBodies()
      .flatMap(summarizeProfiles)
      .filter((p) => p.sampleCount > 0 && p.functionNames.has(HOT_FUNCTION));
    assert.ok(hot.length > 0, `a profile sampling ${HOT_FUNCTION}`);
    for (const profile of hot) {
      assert.equal(profile.serviceName, serviceName);
      for (const traceId of profile.traceIds)
        assert.ok(traceIds.has(traceId), `profile linked to trace ${traceId}, which was not exported`);
    }
  }

  this.timeout(600_000);
  const sink = OtlpSink.json();
  let tarball = '';
  let packDir = '';

  before(async () => {
    packDir = mkdtempSync(path.join(tmpdir(), 'otel-span-profiler-pack-'));
    const out = execFileSync(process.execPath, [npmCli(), 'pack', '--pack-destination', packDir], {
      cwd: REPO,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    tarball = path.join(packDir, out.trim().split('\n').pop()!);
    assert.ok(existsSync(tarball), tarball);
    await sink.start();
  });

  after(async () => {
    await sink.stop();
    rmSync(packDir, { recursive: true, force: true });
  });

  for (const variant of VARIANTS) {
    describe(variant.heading, () => {
      let quickStart: QuickStart;
      let project = '';
      let npmNode = '';

      before(function () {
        const first = variant.nodeMajors[0]!;
        const node = first === 0 ? process.execPath : nodeBinary(first);
        if (node === undefined) this.skip(); // the Node 22/24 packages used here are Linux x64 builds
        npmNode = node;
        quickStart = readQuickStart(path.join(REPO, 'README.md'), variant.heading, path.join(REPO, variant.file));
        assert.equal(quickStart.install.program, 'npm');
        assert.equal(quickStart.install.args[0], 'install');
        const pkg = JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8'));
        const key = createHash('sha256')
          // npm picks versions by the Node it runs on, so that Node is part of the key.
          .update(
            JSON.stringify([
              quickStart.install.args,
              pkg.dependencies,
              pkg.peerDependencies,
              pkg.peerDependenciesMeta,
              run(npmNode, ['--version'], REPO),
            ]),
          )
          .digest('hex')
          .slice(0, 16);
        const prefix = `${variant.heading.replace(/\W+/g, '-')}-`;
        project = path.join(PROJECTS, `${prefix}${key}`);
        const npm = (args: string[]): string => run(npmNode, [npmCli(), ...args, '--no-audit', '--no-fund', '--strict-peer-deps'], project);
        if (!existsSync(path.join(project, 'node_modules'))) {
          // Projects of this variant under other keys are stale: this run replaces them.
          if (existsSync(PROJECTS))
            for (const dir of readdirSync(PROJECTS))
              if (dir.startsWith(prefix)) rmSync(path.join(PROJECTS, dir), { recursive: true, force: true });
          mkdirSync(project, { recursive: true });
          writeFileSync(
            path.join(project, 'package.json'),
            JSON.stringify({ name: 'readme-quick-start', version: '1.0.0', private: true }),
          );
          // The README's packages as written, ours from the tarball; express is the app's own.
          const packages = quickStart.install.args.slice(1).map((p) => (p === 'otel-span-profiler' ? tarball : p));
          npm(['install', ...packages, 'express@^5.1.0']);
        } else {
          npm(['install', '--prefer-offline', tarball]);
        }
      });

      it('should install with strict peer dependencies and a clean npm ls --all', () => {
        // --strict-peer-deps above; npm ls exits non-zero on any invalid, missing or extraneous package.
        run(npmNode, [npmCli(), 'ls', '--all'], project);
        for (const [name, want] of Object.entries(variant.expectVersions)) assert.match(installedVersion(project, name), want, name);
        // One copy of @opentelemetry/core for us and the app (ours is a peer dependency).
        assert.ok(!existsSync(path.join(project, 'node_modules', 'otel-span-profiler', 'node_modules', '@opentelemetry')));
      });

      for (const major of variant.nodeMajors) {
        const nodeName = `Node ${major === 0 ? process.versions.node.split('.')[0] : major}`;

        it(`should profile an ES module Express app under node --import otel-span-profiler/register on ${nodeName}`, async function () {
          const node = major === 0 ? process.execPath : nodeBinary(major);
          if (node === undefined) this.skip();
          copyFileSync(path.join(REPO, 'test', 'setup', 'fixtures', 'express-app.mjs'), path.join(project, 'app.mjs'));
          const app = new AppProcess(node!, ['--import', 'otel-span-profiler/register', 'app.mjs'], {
            cwd: project,
            env: {
              ...cleanEnv(),
              OTEL_SERVICE_NAME: 'zero-code',
              OTEL_EXPORTER_OTLP_ENDPOINT: sink.url,
              OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
              OTEL_METRICS_EXPORTER: 'none',
            },
          });
          const exit = await serveRequests(app);
          assert.equal(exit.signal, 'SIGTERM', exit.stderr);
          assertExported('zero-code');
        });

        it(`should instrument an ES module app with getting-started's hook.mjs and the README's instrumentation.js on ${nodeName}`, async function () {
          const node = major === 0 ? process.execPath : nodeBinary(major);
          if (node === undefined) this.skip();
          const guide = readFileSync(path.join(REPO, 'docs', 'getting-started.md'), 'utf8');
          const hook = codeBlocksUnder(guide, 'ES module applications').find((b) => b.lang === 'js' && b.code.includes('hook.mjs'));
          assert.ok(hook, 'docs/getting-started.md shows hook.mjs');
          writeFileSync(path.join(project, 'hook.mjs'), hook.code);
          writeFileSync(path.join(project, 'instrumentation.js'), quickStart.instrumentation);
          copyFileSync(path.join(REPO, 'test', 'setup', 'fixtures', 'express-app.mjs'), path.join(project, 'app.mjs'));
          const app = new AppProcess(node!, ['--import', './hook.mjs', '--require', './instrumentation.js', 'app.mjs'], {
            cwd: project,
            env: {
              ...cleanEnv(),
              OTEL_SERVICE_NAME: 'esm-hook',
              OTEL_EXPORTER_OTLP_ENDPOINT: sink.url,
              OTEL_EXPORTER_OTLP_PROFILES_PROTOCOL: 'http/json',
            },
          });
          const exit = await serveRequests(app);
          assert.equal(exit.code, 0, `exit ${exit.code} ${exit.signal}\n${exit.stderr}`);
          assertExported('esm-hook');
        });

        it(`should export profiles of an Express app's requests on ${nodeName}`, async function () {
          const node = major === 0 ? process.execPath : nodeBinary(major);
          if (node === undefined) this.skip();
          writeFileSync(path.join(project, 'instrumentation.js'), quickStart.instrumentation);
          copyFileSync(path.join(REPO, 'test', 'setup', 'fixtures', 'express-app.js'), path.join(project, 'app.js'));
          assert.equal(quickStart.run.program, 'node');
          const app = new AppProcess(node!, quickStart.run.args, {
            cwd: project,
            // The README's variables, then where the sink is; it reads JSON, so profiles are sent as http/json.
            env: {
              ...cleanEnv(),
              ...quickStart.run.env,
              OTEL_EXPORTER_OTLP_ENDPOINT: sink.url,
              OTEL_EXPORTER_OTLP_PROFILES_PROTOCOL: 'http/json',
            },
          });
          const exit = await serveRequests(app);
          assert.equal(exit.code, 0, `exit ${exit.code} ${exit.signal}\n${exit.stderr}`);
          assert.equal(exit.stderr, '', 'a clean run prints no warning');
          assertExported(quickStart.run.env.OTEL_SERVICE_NAME!);
        });
      }
    });
  }
});
