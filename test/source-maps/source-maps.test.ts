import * as assert from 'node:assert';
import { execFileSync } from 'node:child_process';
import { promises as fs, mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import * as esbuild from 'esbuild';
import * as ts from 'typescript';
import { SourceMapCache } from '../../src/source-maps/source-map-cache';
import { sourceMappingUrl } from '../../src/source-maps/source-map-loader';
import { SourceMapper } from '../../src/source-maps/source-maps';
import type { ProfileFrame, SpanProfile } from '../../src/profile/span-profile';
import { DiagRecorder } from '../helpers/diag-recorder';
import { frame, ROOT_SPAN_ID, TRACE_ID } from '../helpers/synthetic-profiles';

const TS_SOURCE = `export function crunchNumbers(rounds: number): number {
  let total: number = 0;
  for (let i = 0; i < rounds; i++) total += Math.sqrt(i);
  return total;
}
export function handleCheckout(items: number): number {
  return crunchNumbers(items * 1000);
}
`;

/** 1-based line and column of the first `marker` in `text` (after `from`, when given). */
function positionOf(text: string, marker: string, from = ''): { line: number; column: number } {
  const at = text.indexOf(marker, from === '' ? 0 : text.indexOf(from));
  assert.ok(at >= 0, `${marker} not found`);
  const before = text.slice(0, at).split('\n');
  return { line: before.length, column: before[before.length - 1].length + 1 };
}

function profileOf(...stacks: ProfileFrame[][]): SpanProfile {
  return {
    traceId: TRACE_ID,
    rootSpanId: ROOT_SPAN_ID,
    rootSpanName: 'GET /',
    resource: { attributes: {} },
    startTimeUnixNano: 1n,
    endTimeUnixNano: 2n + BigInt(stacks.length),
    periodNanos: 10_101_010,
    samples: stacks.map((stack, i) => ({ timeUnixNano: 2n + BigInt(i), cpuNanos: 0, stack, spanId: ROOT_SPAN_ID })),
    truncated: false,
    droppedSamples: 0,
  };
}

async function mapOne(mapper: SourceMapper, ...stacks: ProfileFrame[][]): Promise<readonly ProfileFrame[][]> {
  const [profile] = await mapper.mapProfiles([profileOf(...stacks)], 10_000);
  return profile.samples.map((s) => [...s.stack]);
}

describe('SourceMapper', function () {
  let dir: string;
  let project: string;
  let mappers: SourceMapper[];

  beforeEach(function () {
    dir = mkdtempSync(path.join(os.tmpdir(), 'otel-span-profiler-maps-'));
    project = path.join(dir, 'project');
    mappers = [];
  });

  afterEach(async function () {
    await Promise.all(mappers.map((m) => m.shutdown()));
    rmSync(dir, { recursive: true, force: true });
  });

  /** A SourceMapper stopped after the test (it owns a thread). */
  function newMapper(projectDir = project): SourceMapper {
    const mapper = new SourceMapper({ projectDir });
    mappers.push(mapper);
    return mapper;
  }

  /** Transpiles TS_SOURCE with TypeScript into project/dist/hot.js; returns the script's text and path. */
  async function tscScript(options: { inline?: boolean; mapComment?: string } = {}): Promise<{ js: string; file: string }> {
    const out = ts.transpileModule(TS_SOURCE, {
      fileName: path.join(project, 'src', 'hot.ts'),
      compilerOptions: {
        target: ts.ScriptTarget.ES2022,
        module: ts.ModuleKind.CommonJS,
        sourceMap: !options.inline,
        inlineSourceMap: options.inline,
      },
    });
    const file = path.join(project, 'dist', 'hot.js');
    await fs.mkdir(path.dirname(file), { recursive: true });
    let js = out.outputText;
    if (options.mapComment !== undefined) js = js.replace(/\/\/# sourceMappingURL=.*$/m, options.mapComment);
    await fs.writeFile(file, js);
    if (out.sourceMapText !== undefined) {
      // transpileModule names the source without its directory; a real tsc build names it from the map's place.
      const map = JSON.parse(out.sourceMapText);
      map.sources = ['../src/hot.ts'];
      await fs.writeFile(`${file}.map`, JSON.stringify(map));
    }
    return { js, file };
  }

  function hotFrame(js: string, file: string, name = 'crunchNumbers'): ProfileFrame {
    const at = positionOf(js, 'total += Math.sqrt');
    return frame(name, file, at.line, at.column);
  }

  describe('mapProfiles', function () {
    it('should map a frame of a tsc build to its .ts file, line and column, keeping V8 frame as generated', async function () {
      const { js, file } = await tscScript();
      const generated = hotFrame(js, file);
      const [[mapped]] = await mapOne(newMapper(), [generated]);
      const original = positionOf(TS_SOURCE, 'total += Math.sqrt');
      assert.deepStrictEqual(mapped, {
        functionName: 'crunchNumbers',
        fileName: path.join('src', 'hot.ts'),
        lineNumber: original.line,
        columnNumber: original.column,
        generated,
      });
    });

    it('should read a map from an inline base64 data URL', async function () {
      const { js, file } = await tscScript({ inline: true });
      assert.match(js, /sourceMappingURL=data:application\/json;base64,/);
      const [[mapped]] = await mapOne(newMapper(), [hotFrame(js, file)]);
      // transpileModule names the source without a directory: it resolves next to the script.
      assert.strictEqual(mapped.fileName, path.join('dist', 'hot.ts'));
      assert.strictEqual(mapped.lineNumber, positionOf(TS_SOURCE, 'total += Math.sqrt').line);
    });

    it('should read a map from an inline URI-encoded data URL', async function () {
      const { js } = await tscScript();
      const mapText = await fs.readFile(path.join(project, 'dist', 'hot.js.map'), 'utf8');
      const file = path.join(project, 'dist', 'uri.js');
      const comment = `//# sourceMappingURL=data:application/json,${encodeURIComponent(mapText)}`;
      await fs.writeFile(file, js.replace(/\/\/# sourceMappingURL=.*$/m, comment));
      const [[mapped]] = await mapOne(newMapper(), [hotFrame(js, file)]);
      assert.strictEqual(mapped.fileName, path.join('src', 'hot.ts'));
    });

    it('should map an ES module named by a file: URL, and a map named by a file: URL', async function () {
      const { js, file } = await tscScript();
      await fs.writeFile(file, js.replace(/\/\/# sourceMappingURL=.*$/m, `//# sourceMappingURL=${pathToFileURL(`${file}.map`).href}`));
      const generated = hotFrame(js, pathToFileURL(file).href);
      const [[mapped]] = await mapOne(newMapper(), [generated]);
      assert.strictEqual(mapped.fileName, path.join('src', 'hot.ts'));
      assert.strictEqual(mapped.generated, generated);
    });

    it('should show an original file outside the project directory as an absolute path', async function () {
      const { js, file } = await tscScript();
      const [[mapped]] = await mapOne(newMapper(path.join(project, 'dist')), [hotFrame(js, file)]);
      assert.strictEqual(mapped.fileName, path.join(project, 'src', 'hot.ts'));
    });

    /** Rewrites project/dist/hot.js.map through `edit`. */
    async function editMap(edit: (map: Record<string, unknown>) => unknown): Promise<void> {
      const file = path.join(project, 'dist', 'hot.js.map');
      await fs.writeFile(file, JSON.stringify(edit(JSON.parse(await fs.readFile(file, 'utf8')))));
    }

    it("should resolve sources against the map's sourceRoot", async function () {
      const { js, file } = await tscScript();
      await editMap((map) => ({ ...map, sourceRoot: '../src/', sources: ['hot.ts'] }));
      const [[mapped]] = await mapOne(newMapper(), [hotFrame(js, file)]);
      assert.strictEqual(mapped.fileName, path.join('src', 'hot.ts'));
    });

    it('should read an index map (sections)', async function () {
      const { js, file } = await tscScript();
      // The script's map as the second section of an index map, after one empty line of another.
      await editMap((map) => ({
        version: 3,
        sections: [
          { offset: { line: 0, column: 0 }, map: { version: 3, sources: ['other.ts'], names: [], mappings: '' } },
          { offset: { line: 0, column: 0 }, map },
        ],
      }));
      const [[mapped]] = await mapOne(newMapper(), [hotFrame(js, file)]);
      assert.strictEqual(mapped.fileName, path.join('src', 'hot.ts'));
      assert.strictEqual(mapped.lineNumber, positionOf(TS_SOURCE, 'total += Math.sqrt').line);
    });

    it('should keep a source that is not a file (webpack://) as a URL', async function () {
      const { js, file } = await tscScript();
      await editMap((map) => ({ ...map, sources: ['webpack://shop/./src/hot.ts'] }));
      const [[mapped]] = await mapOne(newMapper(), [hotFrame(js, file)]);
      // As trace-mapping resolves it: the URL normalized.
      assert.strictEqual(mapped.fileName, 'webpack://shop/src/hot.ts');
    });

    it('should return profiles, samples and stacks with nothing to map as the same objects', async function () {
      const { js, file } = await tscScript({ mapComment: '' });
      const mapper = newMapper();
      const profile = profileOf([
        hotFrame(js, file),
        frame('run', 'node:async_hooks', 346, 14),
        frame('f', 'f.js', 1, 1),
        frame('', '', 0, 0),
      ]);
      const [out] = await mapper.mapProfiles([profile], 10_000);
      assert.strictEqual(out, profile);
      // Only the script on disk was looked at: builtins and scripts named by sourceURL are not.
      assert.deepStrictEqual(mapper.stats, {
        mapsLoaded: 0,
        nodeMapsUsed: 0,
        scriptsWithoutMap: 1,
        mapsFailed: 0,
        framesMapped: 0,
        framesWithoutMapping: 0,
        batchesUnmapped: 0,
      });
    });

    it('should keep the frames of a script whose map file is missing, count it and log it at debug level', async function () {
      const diagRecorder = new DiagRecorder().install();
      try {
        const { js, file } = await tscScript({ mapComment: '//# sourceMappingURL=gone.js.map' });
        const mapper = newMapper();
        const generated = hotFrame(js, file);
        const [[kept]] = await mapOne(mapper, [generated]);
        assert.strictEqual(kept, generated);
        assert.strictEqual(mapper.stats.mapsFailed, 1);
        const debug = diagRecorder.records.filter((r) => r.namespace === 'otel-span-profiler/source-maps');
        assert.strictEqual(debug.length, 1);
        assert.strictEqual(debug[0].level, 'debug');
        assert.match(debug[0].message, /^source map of .*hot\.js not used \(map file unreadable: ENOENT/);
      } finally {
        diagRecorder.uninstall();
      }
    });

    for (const [name, content] of [
      ['invalid JSON', '{"version":3,'],
      ['a map without mappings', '{"version":3,"sources":["a.ts"]}'],
      ['invalid mappings', '{"version":3,"sources":["a.ts"],"names":[],"mappings":"!!!!"}'],
    ]) {
      it(`should keep the frames of a script whose map has ${name}, and count it`, async function () {
        const { js, file } = await tscScript();
        await fs.writeFile(`${file}.map`, content);
        const mapper = newMapper();
        const generated = hotFrame(js, file);
        const [[kept]] = await mapOne(mapper, [generated]);
        assert.strictEqual(kept, generated);
        assert.strictEqual(mapper.stats.mapsFailed, 1);
        assert.strictEqual(mapper.stats.mapsLoaded, 0);
      });
    }

    it('should load each map once and reuse its results across batches', async function () {
      const { js, file } = await tscScript();
      const mapper = newMapper();
      const stack = [hotFrame(js, file)];
      const [first] = await mapOne(mapper, stack);
      await fs.rm(`${file}.map`);
      const [second] = await mapOne(mapper, stack);
      assert.strictEqual(second[0], first[0]);
      assert.deepStrictEqual(mapper.stats, {
        mapsLoaded: 1,
        nodeMapsUsed: 0,
        scriptsWithoutMap: 0,
        mapsFailed: 0,
        framesMapped: 1,
        framesWithoutMapping: 0,
        batchesUnmapped: 0,
      });
    });

    it('should keep and count a frame whose position the map does not cover', async function () {
      const { file } = await tscScript();
      const mapper = newMapper();
      // tsc's CommonJS prologue ("use strict"; Object.defineProperty(exports, ...)) maps to nothing.
      const prologue = frame('', file, 1, 1);
      const [[kept]] = await mapOne(mapper, [prologue]);
      assert.strictEqual(kept, prologue);
      assert.strictEqual(mapper.stats.framesWithoutMapping, 1);
    });

    it("should name a minified function with the map's name for the call in its caller", async function () {
      const bundle = path.join(project, 'dist', 'min.js');
      await fs.mkdir(path.join(project, 'src'), { recursive: true });
      await fs.writeFile(path.join(project, 'src', 'hot.ts'), TS_SOURCE);
      esbuild.buildSync({
        entryPoints: [path.join(project, 'src', 'hot.ts')],
        outfile: bundle,
        bundle: true,
        platform: 'node',
        format: 'cjs',
        minify: true,
        sourcemap: 'linked',
        logLevel: 'silent',
      });
      const js = await fs.readFile(bundle, 'utf8');
      // Find the minified names by running the bundle: V8 names what it runs.
      const names = execFileSync(
        process.execPath,
        ['-e', `const m = require(${JSON.stringify(bundle)}); console.log(m.crunchNumbers.name, m.handleCheckout.name)`],
        { encoding: 'utf8' },
      )
        .trim()
        .split(' ');
      const [hotName, callerName] = names;
      assert.ok(hotName !== 'crunchNumbers' && callerName !== 'handleCheckout', `not minified: ${names.join(' ')}`);
      const hot = positionOf(js, 'Math.sqrt');
      const call = positionOf(js, `${hotName}(`, `function ${callerName}(`);
      const leaf = frame(hotName, bundle, hot.line, hot.column);
      const caller = frame(callerName, bundle, call.line, call.column);
      const outside = frame('main', path.join(dir, 'main.js'), 1, 1);
      const [[mappedLeaf, mappedCaller]] = await mapOne(newMapper(), [leaf, caller, outside]);
      assert.strictEqual(mappedLeaf.functionName, 'crunchNumbers');
      assert.strictEqual(mappedLeaf.fileName, path.join('src', 'hot.ts'));
      assert.strictEqual(mappedLeaf.generated, leaf);
      // Its caller is in another script, whose call site says nothing about it: V8's name stays.
      assert.strictEqual(mappedCaller.functionName, callerName);
      assert.strictEqual(mappedCaller.lineNumber, positionOf(TS_SOURCE, 'crunchNumbers(items').line);
    });

    it('should export a batch unmapped, and count it, when its maps take longer than allowed to load', async function () {
      const { js, file } = await tscScript();
      // A named pipe as the map file: reading it waits until the test writes the map.
      const mapText = await fs.readFile(`${file}.map`, 'utf8');
      await fs.rm(`${file}.map`);
      execFileSync('mkfifo', [`${file}.map`]);
      const mapper = newMapper();
      const profile = profileOf([hotFrame(js, file)]);
      const [unmapped] = await mapper.mapProfiles([profile], 50);
      assert.strictEqual(unmapped, profile);
      assert.strictEqual(mapper.stats.batchesUnmapped, 1);
      // The load goes on: once the map arrives, the next batch is mapped.
      await fs.writeFile(`${file}.map`, mapText);
      const [mapped] = await mapper.mapProfiles([profile], 10_000);
      assert.strictEqual(mapped.samples[0].stack[0].fileName, path.join('src', 'hot.ts'));
      assert.strictEqual(mapper.stats.mapsLoaded, 1);
    });

    it('should export frames unmapped after shutdown, without counting them as failed maps', async function () {
      const { js, file } = await tscScript();
      const mapper = newMapper();
      await mapper.shutdown();
      const profile = profileOf([hotFrame(js, file)]);
      const [out] = await mapper.mapProfiles([profile], 10_000);
      assert.strictEqual(out, profile);
      assert.deepStrictEqual(mapper.stats, {
        mapsLoaded: 0,
        nodeMapsUsed: 0,
        scriptsWithoutMap: 0,
        mapsFailed: 0,
        framesMapped: 0,
        framesWithoutMapping: 0,
        batchesUnmapped: 0,
      });
    });

    it('should keep the other fields of profiles and samples', async function () {
      const { js, file } = await tscScript();
      const profile = profileOf([hotFrame(js, file)]);
      const extended = { ...profile, samples: profile.samples.map((s) => ({ ...s, cpuNanos: 1234 })), extra: 'kept' };
      const [out] = await newMapper().mapProfiles([extended], 10_000);
      assert.strictEqual((out as typeof extended).extra, 'kept');
      assert.strictEqual((out.samples[0] as (typeof extended.samples)[0]).cpuNanos, 1234);
      assert.notStrictEqual(out.samples[0].stack, extended.samples[0].stack);
    });
  });
});

describe('sourceMappingUrl', function () {
  const cases: Array<[string, string, string | undefined]> = [
    ['a line comment', 'x();\n//# sourceMappingURL=app.js.map\n', 'app.js.map'],
    ['the old @ form', 'x();\n//@ sourceMappingURL=old.js.map', 'old.js.map'],
    ['a block comment', 'x();\n/*# sourceMappingURL=app.css.map */', 'app.css.map'],
    ['a data URL', '//# sourceMappingURL=data:application/json;base64,eyJ9', 'data:application/json;base64,eyJ9'],
    ['the last of two comments', '//# sourceMappingURL=first.map\n//# sourceMappingURL=last.map', 'last.map'],
    ['no comment', 'x();\n', undefined],
    ['the key inside a string, not a comment', 'const s = "sourceMappingURL=a.map";', undefined],
  ];
  for (const [name, script, expected] of cases) {
    it(`should find ${expected ?? 'nothing'} in ${name}`, function () {
      assert.strictEqual(sourceMappingUrl(script), expected);
    });
  }
});

describe('SourceMapCache', function () {
  it('should evict the least recently used entries beyond the weight bound', function () {
    const cache = new SourceMapCache<string>({ maxEntries: 10, maxWeight: 100 });
    cache.set('a', 'A', 40);
    cache.set('b', 'B', 40);
    assert.strictEqual(cache.get('a'), 'A');
    cache.set('c', 'C', 40);
    assert.deepStrictEqual([cache.has('a'), cache.has('b'), cache.has('c')], [true, false, true]);
    assert.strictEqual(cache.weight, 80);
  });

  it('should evict the least recently used entries beyond the entry bound', function () {
    const cache = new SourceMapCache<number>({ maxEntries: 2, maxWeight: 1000 });
    cache.set('a', 1, 1);
    cache.set('b', 2, 1);
    cache.set('c', 3, 1);
    assert.deepStrictEqual([cache.has('a'), cache.has('b'), cache.has('c')], [false, true, true]);
    assert.strictEqual(cache.size, 2);
  });

  it('should keep nothing heavier than the weight bound, and forget what the key held', function () {
    const cache = new SourceMapCache<string>({ maxEntries: 10, maxWeight: 100 });
    cache.set('a', 'small', 10);
    assert.strictEqual(cache.set('a', 'huge', 101), false);
    assert.strictEqual(cache.get('a'), undefined);
    assert.strictEqual(cache.weight, 0);
  });

  it('should replace an entry and its weight under the same key', function () {
    const cache = new SourceMapCache<string>({ maxEntries: 10, maxWeight: 100 });
    cache.set('a', 'one', 30);
    cache.set('a', 'two', 50);
    assert.strictEqual(cache.get('a'), 'two');
    assert.strictEqual(cache.weight, 50);
  });
});
