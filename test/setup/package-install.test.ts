import * as assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { CACHE, npmCli, REPO } from './node-binaries';

// Issue 21 §4 and §5: the package as other installers and other sources give it to users.
// - pnpm installs strictly: a package sees only what it declares, so an optional peer the project
//   does not list (here @opentelemetry/core) is not there. The package must load and run anyway.
// - Until it is published, users install it from a clone or a git URL: npm then clones it, installs
//   its devDependencies and runs its `prepare` script, which must build dist/.

/** Loads the package as a user's CommonJS and ES module code would, and runs an export. */
const USE_IT = `
  const lib = require('otel-span-profiler');
  const exporter = new lib.InMemoryProfileExporter();
  const processor = new lib.ProfilingSpanProcessor({ exporter });
  exporter.export([], (result) => {
    if (result.code !== 0) throw new Error('export failed');
    import('otel-span-profiler').then((esm) => {
      if (esm.ProfilingSpanProcessor !== lib.ProfilingSpanProcessor) throw new Error('ESM and CommonJS differ');
      return processor.shutdown();
    }).then(() => process.stdout.write('ok'));
  });
`;

function run(file: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): string {
  const result = spawnSync(file, args, { cwd, env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (result.status !== 0)
    throw new Error(`${path.basename(file)} ${args.join(' ')} failed (${result.status}):\n${result.stdout}\n${result.stderr}`);
  return result.stdout;
}

/** The parent's environment without npm_* variables (they would point npm at this repository). */
function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith('npm_') && !key.startsWith('OTEL_')) env[key] = value;
  return env;
}

function newProject(name: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), `osp-${name}-`));
  writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name, version: '1.0.0', private: true }));
  return dir;
}

describe('installing the package', function () {
  this.timeout(900_000);
  const cleanup: string[] = [];
  after(() => {
    for (const dir of cleanup) rmSync(dir, { recursive: true, force: true });
  });

  it('should load and export when installed with pnpm, without @opentelemetry/core (an optional peer)', () => {
    const packDir = mkdtempSync(path.join(tmpdir(), 'osp-pack-'));
    cleanup.push(packDir);
    const out = execFileSync(process.execPath, [npmCli(), 'pack', '--pack-destination', packDir], {
      cwd: REPO,
      encoding: 'utf8',
      env: cleanEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const tarball = path.join(packDir, out.trim().split('\n').pop()!);
    const project = newProject('pnpm-project');
    cleanup.push(project);
    const pnpm = path.join(REPO, 'node_modules', 'pnpm', 'bin', 'pnpm.cjs'); // a devDependency
    const store = path.join(CACHE, 'pnpm-store');
    mkdirSync(store, { recursive: true });
    run(
      process.execPath,
      [
        pnpm,
        'add',
        tarball,
        '@opentelemetry/api@~1.9.0',
        '--store-dir',
        store,
        '--config.auto-install-peers=false',
        '--reporter=append-only',
      ],
      project,
      cleanEnv(),
    );
    assert.equal(existsSync(path.join(project, 'node_modules', '@opentelemetry', 'core')), false, 'the project lists no core');
    // pnpm links each package's own dependencies beside it, in its virtual store: no core there either.
    assert.equal(
      spawnSync(process.execPath, ['-e', "require.resolve('@opentelemetry/core', { paths: [require.resolve('otel-span-profiler')] })"], {
        cwd: project,
      }).status !== 0,
      true,
    );
    assert.equal(run(process.execPath, ['-e', USE_IT], project, cleanEnv()), 'ok');
  });

  it('should build on install from a git URL (prepare) and then load, run and answer the CLI', () => {
    // A clone of this repository's HEAD, as a user's git URL would give (uncommitted changes are not in it).
    const clone = mkdtempSync(path.join(tmpdir(), 'osp-clone-'));
    cleanup.push(clone);
    run('git', ['clone', '--quiet', '--no-hardlinks', REPO, clone], tmpdir(), cleanEnv());
    assert.equal(existsSync(path.join(clone, 'dist')), false, 'dist/ is not committed');
    const project = newProject('git-url-project');
    cleanup.push(project);
    run(
      process.execPath,
      [npmCli(), 'install', '--no-audit', '--no-fund', `git+file://${clone}`, '@opentelemetry/api@~1.9.0'],
      project,
      cleanEnv(),
    );
    const installed = path.join(project, 'node_modules', 'otel-span-profiler');
    assert.ok(existsSync(path.join(installed, 'dist', 'index.js')), 'prepare built dist/');
    assert.ok(existsSync(path.join(installed, 'dist', 'register.mjs')));
    assert.equal(existsSync(path.join(installed, 'src')), false, 'only the files in "files" are installed');
    assert.equal(run(process.execPath, ['-e', USE_IT], project, cleanEnv()), 'ok');
    const help = run(process.execPath, [path.join(installed, 'dist', 'cli', 'bin.js'), 'view', '--help'], project, cleanEnv());
    assert.match(help, /Usage: otel-span-profiler view/);
  });
});
