import * as assert from 'node:assert';
import { DictionaryBuilder, NO_JS_FRAME_STACK, toAnyValue } from '../../src/otlp/dictionary';
import { appStacks, copyFrames, frame, ROOT_SPAN_ID, TRACE_ID } from '../helpers/synthetic-profiles';

describe('DictionaryBuilder', function () {
  describe('build', function () {
    it('should start every table with its zero value', function () {
      const dict = new DictionaryBuilder().build();
      assert.deepStrictEqual(dict, {
        mappingTable: [{}],
        locationTable: [{}],
        functionTable: [{}],
        linkTable: [{}],
        stringTable: [''],
        attributeTable: [{}],
        stackTable: [{}],
      });
    });
  });

  describe('string', function () {
    it('should return 0 for the empty string and one index per distinct string', function () {
      const b = new DictionaryBuilder();
      const indices = ['', 'a', 'b', 'a', '', 'A'].map((s) => b.string(s));
      assert.deepStrictEqual(indices, [0, 1, 2, 1, 0, 3]);
      assert.deepStrictEqual(b.build().stringTable, ['', 'a', 'b', 'A']);
    });
  });

  describe('stack', function () {
    it('should give equal stacks one index whether or not they share objects', function () {
      const b = new DictionaryBuilder();
      const { query, render } = appStacks();
      const first = b.stack(query);
      assert.strictEqual(b.stack(query), first);
      assert.strictEqual(b.stack(copyFrames(query)), first);
      assert.strictEqual(b.stack([...query]), first);
      assert.notStrictEqual(b.stack(render), first);
      const dict = b.build();
      assert.strictEqual(dict.stackTable.length, 3);
      // query, handle, main, render: the shared frames are one location each.
      assert.strictEqual(dict.locationTable.length, 5);
    });

    it('should keep stacks leaf first', function () {
      const b = new DictionaryBuilder();
      const { query } = appStacks();
      const dict = (b.stack(query), b.build());
      const names = dict.stackTable[1].locationIndices!.map((li) => {
        const fn = dict.functionTable[dict.locationTable[li].lines![0].functionIndex!];
        return dict.stringTable[fn.nameStrindex!];
      });
      assert.deepStrictEqual(names, ['query', 'handle', 'main']);
    });

    it('should tell apart stacks whose frames differ only in line, column or file', function () {
      const b = new DictionaryBuilder();
      const indices = [
        [frame('f', '/a.js', 1, 1)],
        [frame('f', '/a.js', 2, 1)],
        [frame('f', '/a.js', 1, 2)],
        [frame('f', '/b.js', 1, 1)],
        [frame('f', '/a.js', 1, 1)],
      ].map((s) => b.stack(s));
      assert.deepStrictEqual(indices, [1, 2, 3, 4, 1]);
      assert.strictEqual(b.build().functionTable.length, 3);
    });

    it('should give an empty stack the (program) placeholder frame, never the zero Stack{}', function () {
      const b = new DictionaryBuilder();
      const index = b.stack([]);
      assert.notStrictEqual(index, 0);
      assert.strictEqual(b.stack([]), index);
      assert.strictEqual(b.stack(NO_JS_FRAME_STACK), index);
      const dict = b.build();
      const names = dict.stackTable[index].locationIndices!.map((li) => {
        const location = dict.locationTable[li];
        const fn = dict.functionTable[location.lines![0].functionIndex!];
        return [dict.stringTable[fn.nameStrindex!], dict.stringTable[fn.filenameStrindex ?? 0], location.lines![0].line ?? 0];
      });
      assert.deepStrictEqual(names, [['(program)', '', 0]]);
    });
  });

  describe('location', function () {
    it('should name anonymous functions and keep the raw name as system name', function () {
      const b = new DictionaryBuilder();
      b.location(frame('', '', 0, 0));
      b.location(frame('handler', '/s.js', 3, 4));
      const dict = b.build();
      const strings = dict.stringTable;
      assert.deepStrictEqual(
        dict.functionTable.slice(1).map((f) => [f.nameStrindex, f.systemNameStrindex, f.filenameStrindex].map((i) => strings[i ?? 0])),
        [
          ['(anonymous)', '', ''],
          ['handler', 'handler', '/s.js'],
        ],
      );
      assert.deepStrictEqual(dict.locationTable[1].lines, [{ functionIndex: 1 }]);
      assert.deepStrictEqual(dict.locationTable[2].lines, [{ functionIndex: 2, line: 3, column: 4 }]);
    });

    it('should tag every location with one shared profile.frame.type = v8js attribute', function () {
      const b = new DictionaryBuilder();
      for (const f of appStacks().callback) b.location(f);
      const dict = b.build();
      const tags = new Set(dict.locationTable.slice(1).map((l) => JSON.stringify(l.attributeIndices)));
      assert.deepStrictEqual([...tags], ['[1]']);
      assert.deepStrictEqual(dict.attributeTable[1], {
        keyStrindex: dict.stringTable.indexOf('profile.frame.type'),
        value: { stringValue: 'v8js' },
      });
    });
  });

  describe('link', function () {
    it('should dedupe links and store the ids as 16 and 8 bytes', function () {
      const b = new DictionaryBuilder();
      assert.strictEqual(b.link(TRACE_ID, ROOT_SPAN_ID), 1);
      assert.strictEqual(b.link(TRACE_ID.toUpperCase(), ROOT_SPAN_ID), 1);
      const link = b.build().linkTable[1];
      assert.strictEqual(Buffer.from(link.traceId!).toString('hex'), TRACE_ID);
      assert.strictEqual(Buffer.from(link.spanId!).toString('hex'), ROOT_SPAN_ID);
    });

    const invalid: Array<[string, string, string]> = [
      ['a short trace id', 'abc', ROOT_SPAN_ID],
      ['a short span id', TRACE_ID, 'abc'],
      ['a non-hex span id', TRACE_ID, 'zzzzzzzzzzzzzzzz'],
      ['an all-zero trace id', '0'.repeat(32), ROOT_SPAN_ID],
      ['an all-zero span id', TRACE_ID, '0'.repeat(16)],
    ];
    for (const [what, traceId, spanId] of invalid) {
      it(`should return 0 (no link) for ${what}`, function () {
        const b = new DictionaryBuilder();
        assert.strictEqual(b.link(traceId, spanId), 0);
        assert.strictEqual(b.build().linkTable.length, 1);
      });
    }
  });

  describe('attribute', function () {
    it('should dedupe by key and typed value', function () {
      const b = new DictionaryBuilder();
      const indices = [
        b.attribute('k', '1'),
        b.attribute('k', 1),
        b.attribute('k', true),
        b.attribute('k', 1.5),
        b.attribute('k', '1'),
        b.attribute('j', '1'),
        b.attribute('k', ['1']),
        b.attribute('k', 1),
      ];
      assert.deepStrictEqual(indices, [1, 2, 3, 4, 1, 5, 6, 2]);
    });
  });
});

describe('toAnyValue', function () {
  const cases: Array<[string, Parameters<typeof toAnyValue>[0], ReturnType<typeof toAnyValue>]> = [
    ['a string', 'x', { stringValue: 'x' }],
    ['an empty string', '', { stringValue: '' }],
    ['a boolean', false, { boolValue: false }],
    ['an integer', -3, { intValue: -3 }],
    ['zero', 0, { intValue: 0 }],
    ['a fraction', 0.25, { doubleValue: 0.25 }],
    ['an integer beyond 2^53', 2 ** 60, { doubleValue: 2 ** 60 }],
    ['an array with holes', ['a', null, 2] as unknown as string[], { arrayValue: { values: [{ stringValue: 'a' }, {}, { intValue: 2 }] } }],
    ['undefined', undefined, undefined],
  ];
  for (const [what, input, expected] of cases) {
    it(`should convert ${what}`, function () {
      assert.deepStrictEqual(toAnyValue(input), expected);
    });
  }
});
