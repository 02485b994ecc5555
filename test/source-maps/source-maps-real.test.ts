import * as assert from 'node:assert';
import { execFileSync, spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import * as esbuild from 'esbuild';
import type { ProfileFrame } from '../../src/profile/span-profile';
import type { SourceMapStats } from '../../src/source-maps/source-maps';

// Issue #13: a TypeScript app, built for real by tsc and by esbuild, sampled for real in a child
// process; the hot function's frames must name the .ts file and the line of its hot loop.

const repo = path.join(__dirname, '..', '..', '..');
const appSources = path.join(repo, 'test', 'fixtures', 'source-maps', 'app');
const driver = path.join(repo, 'test', 'fixtures', 'source-maps', 'run-app.js');
const GENERATED_POSITION = 'otel_span_profiler.generated_position';
const HOT_TS = path.join('src', 'hot.ts');

interface Run {
  samples: number;
  sourceMaps: SourceMapStats | null;
  stacks: ProfileFrame[][];
  /** The last OTLP JSON request the FileProfileExporter wrote. */
  otlp: Otlp;
}

interface Otlp {
  dictionary: {
    stringTable: string[];
    functionTable: Array<{ nameStrindex?: number; systemNameStrindex?: number; filenameStrindex?: number }>;
    locationTable: Array<{ lines?: Array<{ functionIndex?: number; line?: string }>; attributeIndices?: number[] }>;
    attributeTable: Array<{ keyStrindex?: number; value?: { stringValue?: string } }>;
  };
}

/** The line of `marker` in `text`, 1-based. */
function lineOf(text: string, marker: string): number {
  const at = text.indexOf(marker);
  assert.ok(at >= 0, `${marker} not found`);
  return text.slice(0, at).split('\n').length;
}

function mostCommon(values: number[]): number {
  const counts = new Map<number, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1])[0][0];
}

/** Each location of the OTLP request as `name|systemName|file:line` plus its generated position. */
function otlpLocations(otlp: Otlp): Array<{ name: string; systemName: string; file: string; line: number; generated: string | undefined }> {
  const d = otlp.dictionary;
  const s = (i: number | undefined) => d.stringTable[i ?? 0];
  return d.locationTable.slice(1).map((location) => {
    const line = location.lines![0];
    const fn = d.functionTable[line.functionIndex ?? 0];
    const generated = (location.attributeIndices ?? []).map((i) => d.attributeTable[i]).find((a) => s(a.keyStrindex) === GENERATED_POSITION)
      ?.value?.stringValue;
    return {
      name: s(fn.nameStrindex),
      systemName: s(fn.systemNameStrindex),
      file: s(fn.filenameStrindex),
      line: Number(line.line ?? 0),
      generated,
    };
  });
}

describe('Source-mapped frames of real builds (issue #13)', function () {
  let project: string;
  let hotSource: string;
  let hotLoopLine: number;

  before(function () {
    // Three tsc builds and two esbuild bundles of the app: over the 20 s unit default on a busy 2-core machine (load ~35).
    this.timeout(120_000);
    project = mkdtempSync(path.join(os.tmpdir(), 'otel-span-profiler-app-'));
    cpSync(appSources, project, { recursive: true });
    hotSource = readFileSync(path.join(project, 'src', 'hot.ts'), 'utf8');
    hotLoopLine = lineOf(hotSource, '// HOT LOOP');
    const tsc = path.join(repo, 'node_modules', 'typescript', 'bin', 'tsc');
    const build = (...args: string[]) =>
      execFileSync(process.execPath, [tsc, '-p', 'tsconfig.json', ...args], { cwd: project, stdio: 'pipe' });
    build();
    build('--outDir', 'dist-node');
    build('--outDir', 'dist-plain', '--sourceMap', 'false');
    const bundle = (outfile: string, options: esbuild.BuildOptions) =>
      esbuild.buildSync({
        entryPoints: [path.join(project, 'src', 'index.ts')],
        outfile: path.join(project, outfile),
        bundle: true,
        platform: 'node',
        logLevel: 'silent',
        ...options,
      });
    bundle('bundle/app.js', { format: 'cjs', sourcemap: 'linked' });
    bundle('bundle-min/app.mjs', { format: 'esm', minify: true, sourcemap: 'inline' });
  });

  after(function () {
    rmSync(project, { recursive: true, force: true });
  });

  /** Runs the app build `app` in a child process with the processor sampling for real. */
  async function run(app: string, options: { nodeArgs?: string[]; sourceMaps?: boolean; noShutdown?: boolean } = {}): Promise<Run> {
    const outFile = path.join(project, `profiles-${path.basename(path.dirname(app))}-${Date.now()}.jsonl`);
    const config = {
      processor: require.resolve('../../src/processor/processor'),
      exporters: require.resolve('../../src/index'),
      app: path.join(project, app),
      outFile,
      samples: 20,
      // The probe: these tests check the line of the hot loop, and the native engine reports
      // each frame at its function's start (V8's profiler gives no lines when samples carry labels).
      engine: 'probe',
      sourceMaps: options.sourceMaps,
      noShutdown: options.noShutdown,
    };
    const child = spawn(process.execPath, [...(options.nodeArgs ?? []), driver, JSON.stringify(config)], {
      cwd: project,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    // A guard, not a timing claim: a child that hangs fails the test instead of the whole run.
    const guard = setTimeout(() => child.kill('SIGKILL'), 60_000);
    const [code, signal] = await new Promise<[number | null, string | null]>((resolve) => child.on('exit', (c, s) => resolve([c, s])));
    clearTimeout(guard);
    assert.strictEqual(signal, null, `the child did not exit by itself: ${stderr}`);
    assert.strictEqual(code, 0, `child failed: ${stderr}`);
    const result = JSON.parse(stdout) as Omit<Run, 'otlp'>;
    assert.ok(result.samples >= 20, `only ${result.samples} samples: the run proves nothing`);
    const lines = readFileSync(outFile, 'utf8').trim().split('\n');
    return { ...result, otlp: JSON.parse(lines[lines.length - 1]) as Otlp };
  }

  /** The frames of the hot function (by its original name) in every sampled stack. */
  function hotFrames(r: Run): ProfileFrame[] {
    const frames = r.stacks.flatMap((stack) => stack.filter((f) => f.functionName === 'crunchNumbers'));
    // 20 samples taken while the app ran almost only the hot loop: nearly all hold the hot function.
    assert.ok(frames.length >= 10, `only ${frames.length} of ${r.stacks.length} samples ran crunchNumbers: ${JSON.stringify(r.stacks[0])}`);
    return frames;
  }

  function assertMappedToHotLoop(r: Run, generatedFile: string): void {
    const frames = hotFrames(r);
    const firstLine = lineOf(hotSource, 'export function crunchNumbers');
    for (const f of frames) {
      assert.strictEqual(f.fileName, HOT_TS);
      assert.ok(f.lineNumber >= firstLine && f.lineNumber <= firstLine + 4, `line ${f.lineNumber} is outside crunchNumbers`);
      assert.strictEqual(f.generated?.fileName, generatedFile);
    }
    assert.strictEqual(mostCommon(frames.map((f) => f.lineNumber)), hotLoopLine);
    // And on the wire: the Function names the .ts file, the Location keeps where V8 ran it.
    const onWire = otlpLocations(r.otlp).filter((l) => l.name === 'crunchNumbers');
    assert.ok(onWire.length > 0, 'no crunchNumbers location in the OTLP request');
    for (const l of onWire) {
      assert.strictEqual(l.file, HOT_TS);
      assert.ok(l.generated?.startsWith(`${generatedFile}:`), `generated position ${String(l.generated)}`);
    }
    assert.ok(onWire.some((l) => l.line === hotLoopLine));
  }

  it('should name the .ts file and the hot loop line for a tsc build with .map files', async function () {
    const r = await run('dist/index.js');
    assertMappedToHotLoop(r, path.join(project, 'dist', 'hot.js'));
    assert.strictEqual(r.sourceMaps?.mapsFailed, 0);
    assert.ok((r.sourceMaps?.mapsLoaded ?? 0) >= 2, JSON.stringify(r.sourceMaps));
    // The caller is mapped too.
    assert.ok(
      r.stacks.some((stack) => stack.some((f) => f.functionName === 'handleCheckout' && f.fileName === path.join('src', 'checkout.ts'))),
    );
  });

  it('should name the .ts file and the hot loop line for an esbuild bundle', async function () {
    const r = await run('bundle/app.js');
    assertMappedToHotLoop(r, path.join(project, 'bundle', 'app.js'));
    assert.strictEqual(r.sourceMaps?.mapsFailed, 0);
  });

  it('should give a minified ES module bundle with an inline map its original names', async function () {
    const r = await run('bundle-min/app.mjs');
    const bundleUrl = pathToFileURL(path.join(project, 'bundle-min', 'app.mjs')).href;
    assertMappedToHotLoop(r, bundleUrl);
    // V8 ran a minified name: it stays as the Function's system name.
    const onWire = otlpLocations(r.otlp).filter((l) => l.name === 'crunchNumbers');
    for (const l of onWire) assert.ok(l.systemName !== 'crunchNumbers' && l.systemName.length <= 2, `system name ${l.systemName}`);
  });

  it("should use Node's own maps under --enable-source-maps, reading none from disk", async function () {
    const r = await run('dist-node/index.js', { nodeArgs: ['--enable-source-maps'] });
    assertMappedToHotLoop(r, path.join(project, 'dist-node', 'hot.js'));
    assert.strictEqual(r.sourceMaps?.mapsFailed, 0);
    assert.strictEqual(r.sourceMaps?.mapsLoaded, 0, JSON.stringify(r.sourceMaps));
    assert.ok((r.sourceMaps?.nodeMapsUsed ?? 0) >= 2, JSON.stringify(r.sourceMaps));
  });

  it('should leave the frames of an app without source maps as V8 reported them', async function () {
    const r = await run('dist-plain/index.js');
    const compiled = readFileSync(path.join(project, 'dist-plain', 'hot.js'), 'utf8');
    const frames = hotFrames(r);
    for (const f of frames) {
      assert.strictEqual(f.fileName, path.join(project, 'dist-plain', 'hot.js'));
      assert.strictEqual(f.generated, undefined);
    }
    // tsc puts the loop body on a line of its own; V8 reports the loop's back-edge, at the for.
    assert.strictEqual(mostCommon(frames.map((f) => f.lineNumber)), lineOf(compiled, 'for (let i'));
    const appLocations = otlpLocations(r.otlp).filter((l) => l.file.startsWith(path.join(project, 'dist-plain')));
    assert.ok(appLocations.length > 0);
    for (const l of appLocations) {
      assert.strictEqual(l.generated, undefined);
      assert.strictEqual(l.systemName, l.name);
    }
    // Looked for, found none, nothing failed.
    assert.ok((r.sourceMaps?.scriptsWithoutMap ?? 0) >= 2, JSON.stringify(r.sourceMaps));
    assert.strictEqual(r.sourceMaps?.mapsFailed, 0);
  });

  it('should let the process exit by itself after exporting mapped frames, with no shutdown()', async function () {
    // The source-map thread ran for this export: it must not hold the process open.
    const r = await run('dist/index.js', { noShutdown: true });
    assertMappedToHotLoop(r, path.join(project, 'dist', 'hot.js'));
  });

  it('should export frames unmapped when the sourceMaps option is false', async function () {
    const r = await run('dist/index.js', { sourceMaps: false });
    for (const f of hotFrames(r)) {
      assert.strictEqual(f.fileName, path.join(project, 'dist', 'hot.js'));
      assert.strictEqual(f.generated, undefined);
    }
    assert.strictEqual(r.sourceMaps, null);
    assert.ok(otlpLocations(r.otlp).every((l) => l.generated === undefined));
  });
});
