import * as assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { decodeRequestJson } from '../helpers/otlp-decoding';
import { encodeRequestProtobuf } from '../../src/otlp/otlp-encoding';
import { dictionaryViolations } from '../helpers/decode-checks';
import { decodeWithBuf, type Decoded } from '../helpers/decode-buf';
import { LoopbackServer } from '../helpers/loopback-server';
import { LoopbackGrpcServer } from '../exporter/loopback-grpc-server';

/*
 * Issue #9.4: applications bundled with esbuild or webpack must sample AND export. The package is
 * packed (npm pack) and unpacked into a scratch project, a small traced app (fixtures/app.js) is
 * bundled from it, then the package is deleted, so the bundle can only use what it carries: no
 * proto/ on disk, no node_modules. Each bundle runs with the real sampler and sends to a loopback
 * OTLP/HTTP server, a loopback gRPC server and a file; the profiles are decoded and checked.
 */

const repo = path.join(__dirname, '..', '..', '..');

type Bundler = 'esbuild' | 'esbuild-esm' | 'webpack';

interface Scratch {
  readonly dir: string;
  readonly bundles: Record<Bundler, string>;
}

function packInto(dir: string): string {
  const tarball = execFileSync('npm', ['pack', '--silent', '--ignore-scripts', '--pack-destination', dir], { cwd: repo, encoding: 'utf8' })
    .trim()
    .split('\n')
    .pop()!;
  const listing = execFileSync('tar', ['tzf', path.join(dir, tarball)], { encoding: 'utf8' });
  assert.ok(listing.includes('package/dist/otlp/otlp-schema.json'), 'the packed package lacks the generated schema');
  fs.mkdirSync(path.join(dir, 'node_modules'), { recursive: true });
  execFileSync('tar', ['xzf', path.join(dir, tarball), '-C', dir]);
  fs.renameSync(path.join(dir, 'package'), path.join(dir, 'node_modules', 'otel-span-profiler'));
  return tarball;
}

async function bundleWithEsbuild(dir: string, format: 'cjs' | 'esm'): Promise<string> {
  const esbuild = require('esbuild') as typeof import('esbuild');
  const outfile = path.join(dir, 'out', format === 'esm' ? 'esbuild-app.mjs' : 'esbuild-app.js');
  await esbuild.build({
    entryPoints: [path.join(dir, 'app.js')],
    bundle: true,
    platform: 'node',
    target: 'node20',
    format,
    // ESM output needs a real require for the CommonJS code inside (esbuild's documented recipe);
    // without it any bundle of CommonJS packages stops at 'Dynamic require of "..." is not supported'.
    ...(format === 'esm' && {
      banner: { js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" },
    }),
    outfile,
    // The package's own dependencies (and the app's OpenTelemetry SDK) come from this repository.
    nodePaths: [path.join(repo, 'node_modules')],
    logLevel: 'error',
  });
  return outfile;
}

async function bundleWithWebpack(dir: string): Promise<string> {
  const webpack = require('webpack') as typeof import('webpack');
  const output = path.join(dir, 'out');
  await new Promise<void>((resolve, reject) => {
    webpack(
      {
        mode: 'production', // minified, as applications ship
        target: 'node',
        entry: path.join(dir, 'app.js'),
        output: { path: output, filename: 'webpack-app.js' },
        resolve: { modules: ['node_modules', path.join(repo, 'node_modules')] },
        infrastructureLogging: { level: 'error' },
      },
      (error, stats) => {
        if (error) return reject(error);
        if (stats?.hasErrors()) return reject(new Error(stats.toString({ all: false, errors: true })));
        resolve();
      },
    );
  });
  return path.join(output, 'webpack-app.js');
}

function runBundle(bundle: string, env: Record<string, string>): Promise<unknown> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [bundle],
      // Outside the repository, so nothing but the bundle and Node's built-ins can be loaded.
      { cwd: path.dirname(bundle), timeout: 90_000, env: { PATH: process.env.PATH ?? '', OTEL_LOG_LEVEL: 'warn', ...env } },
      (error, stdout, stderr) => {
        if (error) return reject(new Error(`${path.basename(bundle)} failed: ${error.message}\n${stderr}`));
        try {
          resolve(JSON.parse(stdout.trim().split('\n').pop()!));
        } catch {
          reject(new Error(`${path.basename(bundle)} printed no stats:\n${stdout}\n${stderr}`));
        }
      },
    );
  });
}

/** Checks one decoded request: a valid dictionary, the bundled root's profile, samples with stacks. */
function checkProfiles(request: Decoded, bundler: string): void {
  assert.deepEqual(dictionaryViolations(request), [], `${bundler}: dictionary`);
  const text = JSON.stringify(request);
  assert.ok(text.includes('"bundled-root"'), `${bundler}: the root span's name is missing`);
  const strings = (request.dictionary as Decoded).stringTable as string[];
  const scopeProfiles = ((request.resourceProfiles as Decoded[])[0].scopeProfiles as Decoded[])[0];
  assert.equal((scopeProfiles.scope as Decoded).name, 'otel-span-profiler', `${bundler}: scope`);
  const profiles = scopeProfiles.profiles as Decoded[];
  const samples = profiles.flatMap((p) => (p.samples ?? []) as Decoded[]);
  assert.ok(samples.length > 0, `${bundler}: no samples`);
  assert.ok(
    samples.every((s) => typeof s.stackIndex === 'number' && s.stackIndex > 0),
    `${bundler}: a sample without a stack`,
  );
  // esbuild keeps function names; webpack's minifier renames the app's functions.
  if (bundler.startsWith('esbuild')) assert.ok(strings.includes('busyLoopInBundle'), `${bundler}: the busy function is not in any stack`);
}

describe('bundled applications (esbuild CommonJS and ESM, webpack) export valid profiles (issue #9.4)', function () {
  // Packs the package and bundles an app three ways (esbuild CJS and ESM, webpack) in its hooks.
  this.timeout(240_000);
  let scratch: Scratch | undefined;
  const http = new LoopbackServer();
  const grpc = new LoopbackGrpcServer();

  before(async function () {
    assert.ok(fs.existsSync(path.join(repo, 'dist', 'otlp', 'otlp-schema.json')), 'run npm run build first (npm test does)');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'otel-span-profiler-bundling-'));
    packInto(dir);
    fs.copyFileSync(path.join(repo, 'test', 'bundling', 'fixtures', 'app.js'), path.join(dir, 'app.js'));
    const bundles = {
      esbuild: await bundleWithEsbuild(dir, 'cjs'),
      'esbuild-esm': await bundleWithEsbuild(dir, 'esm'),
      webpack: await bundleWithWebpack(dir),
    };
    // From here on only the bundles exist: no package, no proto/ files to read at run time.
    fs.rmSync(path.join(dir, 'node_modules'), { recursive: true, force: true });
    scratch = { dir, bundles };
    await http.start();
    await grpc.start();
  });

  after(async () => {
    await http.stop();
    await grpc.stop();
    if (scratch) fs.rmSync(scratch.dir, { recursive: true, force: true });
  });

  for (const bundler of ['esbuild', 'esbuild-esm', 'webpack'] as const) {
    describe(bundler, () => {
      it('should sample and send profiles over OTLP/HTTP (protobuf)', async () => {
        const before = http.requests.length;
        await runBundle(scratch!.bundles[bundler], { OTEL_EXPORTER_OTLP_PROFILES_ENDPOINT: http.profilesUrl });
        const requests = http.requests.slice(before).filter((r) => r.path === '/v1development/profiles');
        assert.equal(requests.length, 1);
        checkProfiles(decodeWithBuf(requests[0].body), bundler);
      });

      it('should send profiles over OTLP/gRPC', async () => {
        const before = grpc.calls.length;
        await runBundle(scratch!.bundles[bundler], {
          OTEL_EXPORTER_OTLP_PROFILES_PROTOCOL: 'grpc',
          OTEL_EXPORTER_OTLP_PROFILES_ENDPOINT: `http://${grpc.address}`,
        });
        const calls = grpc.calls.slice(before);
        assert.equal(calls.length, 1);
        checkProfiles(decodeWithBuf(calls[0].body), bundler);
      });

      it('should write profiles with FileProfileExporter', async () => {
        const file = path.join(scratch!.dir, `${bundler}-profiles.jsonl`);
        await runBundle(scratch!.bundles[bundler], { BUNDLE_EXPORTER: 'file', BUNDLE_FILE: file });
        const lines = fs.readFileSync(file, 'utf8').trim().split('\n');
        assert.equal(lines.length, 1);
        // The JSON line read back by our decoder, then checked by buf's reading of the same request.
        checkProfiles(decodeWithBuf(encodeRequestProtobuf(decodeRequestJson(lines[0]))), bundler);
      });
    });
  }
});
