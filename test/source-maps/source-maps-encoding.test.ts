import * as assert from 'node:assert';
import { ExportResultCode } from '@opentelemetry/core';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as ts from 'typescript';
import { encodeProtobuf } from '../../src/otlp/otlp-encoding';
import { ProfileBatcher } from '../../src/processor/profile-batcher';
import { GENERATED_POSITION_ATTRIBUTE } from '../../src/otlp/attribute-names';
import { DictionaryBuilder } from '../../src/otlp/dictionary';
import { SourceMapper } from '../../src/source-maps/source-maps';
import type { ProfileFrame, SpanProfile } from '../../src/profile/span-profile';
import { dictionaryViolations } from '../helpers/decode-checks';
import { decodeWithBuf, type Decoded } from '../helpers/decode-buf';
import { expectedSamples, profilesOf, resolveProfile } from '../helpers/decode-resolve';
import { frame, ROOT_SPAN_ID, sample, spanProfile } from '../helpers/synthetic-profiles';

function mapped(original: ProfileFrame, generated: ProfileFrame): ProfileFrame {
  return { ...original, generated };
}

describe('Encoding of source-mapped frames', function () {
  const minified = frame('n', '/app/dist/bundle.js', 1, 23);
  const hot = mapped(frame('crunchNumbers', 'src/hot.ts', 7, 3), minified);
  const handler = mapped(frame('o', 'src/checkout.ts', 10, 28), frame('o', '/app/dist/bundle.js', 1, 118));
  const plain = frame('main', '/app/main.js', 3, 1);

  describe('DictionaryBuilder.location', function () {
    it("should keep the original name, file and line, V8's name as system name and its position as an attribute", function () {
      const b = new DictionaryBuilder();
      const index = b.location(hot);
      const dict = b.build();
      const location = dict.locationTable[index];
      const line = location.lines![0];
      const fn = dict.functionTable[line.functionIndex!];
      const s = (i: number | undefined) => dict.stringTable[i ?? 0];
      assert.deepStrictEqual(
        [s(fn.nameStrindex), s(fn.systemNameStrindex), s(fn.filenameStrindex), line.line, line.column],
        ['crunchNumbers', 'n', 'src/hot.ts', 7, 3],
      );
      const attributes = location.attributeIndices!.map((i) => [s(dict.attributeTable[i].keyStrindex), dict.attributeTable[i].value]);
      assert.deepStrictEqual(attributes, [
        ['profile.frame.type', { stringValue: 'v8js' }],
        [GENERATED_POSITION_ATTRIBUTE, { stringValue: '/app/dist/bundle.js:1:23' }],
      ]);
    });

    it('should give two generated positions of one original position two locations, and one function', function () {
      const b = new DictionaryBuilder();
      // The same .ts line loaded twice: from tsc's output and from a bundle.
      const fromTsc = mapped(frame('crunchNumbers', 'src/hot.ts', 7, 3), frame('crunchNumbers', '/app/dist/hot.js', 9, 5));
      const fromBundle = mapped(frame('crunchNumbers', 'src/hot.ts', 7, 3), frame('crunchNumbers', '/app/bundle/app.js', 30, 3));
      const indices = [
        b.location(fromTsc),
        b.location(fromBundle),
        b.location({ ...fromTsc }),
        b.location(frame('crunchNumbers', 'src/hot.ts', 7, 3)),
      ];
      assert.deepStrictEqual(indices, [1, 2, 1, 3]);
      const dict = b.build();
      assert.deepStrictEqual(new Set(dict.locationTable.slice(1).map((l) => l.lines![0].functionIndex)).size, 1);
    });

    it('should tell apart functions of one generated name that the map names differently', function () {
      const b = new DictionaryBuilder();
      const a = mapped(frame('parse', 'src/a.ts', 1, 1), frame('t', '/app/bundle.js', 1, 10));
      const c = mapped(frame('render', 'src/a.ts', 2, 1), frame('t', '/app/bundle.js', 1, 90));
      b.location(a);
      b.location(c);
      const dict = b.build();
      assert.deepStrictEqual(
        dict.functionTable.slice(1).map((f) => [dict.stringTable[f.nameStrindex!], dict.stringTable[f.systemNameStrindex!]]),
        [
          ['parse', 't'],
          ['render', 't'],
        ],
      );
    });
  });

  describe('the wire', function () {
    it('should satisfy every dictionary rule and round-trip mapped and unmapped frames', function () {
      const profile = spanProfile({
        samples: [sample(1n, [hot, handler, plain]), sample(2n, [hot, handler, plain]), sample(3n, [plain])],
      });
      const decoded = decodeWithBuf(encodeProtobuf([profile]));
      assert.deepStrictEqual(dictionaryViolations(decoded), []);
      assert.deepStrictEqual(resolveProfile(decoded.dictionary as Decoded, profilesOf(decoded)[0]), expectedSamples(profile));
    });
  });

  describe('ProfileBatcher with a SourceMapper', function () {
    let dir: string;

    beforeEach(function () {
      dir = mkdtempSync(path.join(os.tmpdir(), 'otel-span-profiler-batch-'));
    });

    afterEach(function () {
      rmSync(dir, { recursive: true, force: true });
    });

    it('should hand the exporter the mapped profiles', async function () {
      const source = 'export function work(n: number): number {\n  let x = 0;\n  for (let i = 0; i < n; i++) x += i;\n  return x;\n}\n';
      const out = ts.transpileModule(source, { fileName: 'work.ts', compilerOptions: { sourceMap: true, module: ts.ModuleKind.CommonJS } });
      const script = path.join(dir, 'work.js');
      writeFileSync(script, out.outputText);
      writeFileSync(`${script}.map`, out.sourceMapText!);
      const lines = out.outputText.split('\n');
      const line = lines.findIndex((l) => l.includes('x += i')) + 1;
      const generated = frame('work', script, line, lines[line - 1].indexOf('x += i') + 1);
      const received: SpanProfile[][] = [];
      const exporter = {
        export(profiles: SpanProfile[], done: (r: { code: ExportResultCode }) => void) {
          received.push(profiles);
          done({ code: ExportResultCode.SUCCESS });
        },
        shutdown: () => Promise.resolve(),
      };
      const mapper = new SourceMapper({ projectDir: dir });
      const batcher = new ProfileBatcher(exporter, { scheduledDelayMillis: 0 }, undefined, mapper);
      batcher.add(spanProfile({ samples: [sample(1n, [generated], ROOT_SPAN_ID)] }));
      await batcher.forceFlush();
      assert.strictEqual(received.length, 1);
      assert.deepStrictEqual(received[0][0].samples[0].stack[0], {
        functionName: 'work',
        fileName: 'work.ts',
        lineNumber: 3,
        columnNumber: source.split('\n')[2].indexOf('x += i') + 1,
        generated,
      });
      assert.strictEqual(batcher.stats.exported, 1);
      await batcher.shutdown();
      await mapper.shutdown();
    });
  });
});
