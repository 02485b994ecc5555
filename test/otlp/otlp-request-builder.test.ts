import * as assert from 'node:assert';
import { buildExportRequest } from '../../src/otlp/otlp-request-builder';
import { ACTIVE_SPAN_ID_ATTRIBUTE } from '../../src/otlp/attribute-names';
import type { PbExportProfilesServiceRequest } from '../../src/otlp/otlp-model';
import { appStacks, CHILD_SPAN_ID, ROOT_SPAN_ID, sample, spanProfile } from '../helpers/synthetic-profiles';

function counterBytes(): { calls: number[]; random: (size: number) => Uint8Array } {
  const calls: number[] = [];
  return {
    calls,
    random: (size) => {
      calls.push(size);
      return Uint8Array.from({ length: size }, (_, i) => i % 251);
    },
  };
}

describe('buildExportRequest', function () {
  describe('options.randomBytes', function () {
    it('should draw all profile ids of a batch in one call, 16 bytes each', function () {
      const { calls, random } = counterBytes();
      const request = buildExportRequest([spanProfile(), spanProfile(), spanProfile()], { randomBytes: random });
      assert.deepStrictEqual(calls, [48]);
      const ids = request.resourceProfiles[0].scopeProfiles[0].profiles.map((p) => Buffer.from(p.profileId).toString('hex'));
      assert.deepStrictEqual(
        ids,
        [0, 16, 32].map((o) => Buffer.from(Array.from({ length: 16 }, (_, i) => o + i)).toString('hex')),
      );
    });

    it('should not draw randomness for an empty batch', function () {
      const { calls, random } = counterBytes();
      buildExportRequest([], { randomBytes: random });
      assert.deepStrictEqual(calls, []);
    });
  });

  it('should build the same request from the same input', function () {
    const input = [spanProfile(), spanProfile({ rootSpanName: 'other' })];
    const a = buildExportRequest(input, { randomBytes: counterBytes().random });
    const b = buildExportRequest(input, { randomBytes: counterBytes().random });
    assert.deepStrictEqual(a, b);
  });

  it('should group resources whose attributes differ only in order', function () {
    const one = spanProfile({ resource: { attributes: { 'service.name': 's', 'host.name': 'h' } } });
    const two = spanProfile({ resource: { attributes: { 'host.name': 'h', 'service.name': 's' } } });
    const request = buildExportRequest([one, two]);
    assert.strictEqual(request.resourceProfiles.length, 1);
    assert.strictEqual(request.resourceProfiles[0].scopeProfiles[0].profiles.length, 2);
  });

  describe('sample values', function () {
    const strings = (request: ReturnType<typeof buildExportRequest>) => request.dictionary.stringTable;

    it('should send cpu/nanoseconds with one timestamp and its CPU value per Sample where CPU time was measured', function () {
      const { query } = appStacks();
      const samples = [
        sample(0n, query, undefined, 8_000_000),
        sample(10_000_000n, query, undefined, 3_500_000),
        sample(20_000_000n, query, undefined, 0),
      ];
      const request = buildExportRequest([spanProfile({ samples })]);
      const [profile] = request.resourceProfiles[0].scopeProfiles[0].profiles;
      const table = strings(request);
      assert.deepStrictEqual(
        [table[profile.sampleType.typeStrindex ?? 0], table[profile.sampleType.unitStrindex ?? 0]],
        ['cpu', 'nanoseconds'],
      );
      assert.deepStrictEqual(
        [table[profile.periodType.typeStrindex ?? 0], table[profile.periodType.unitStrindex ?? 0]],
        ['cpu', 'nanoseconds'],
      );
      // Equal stacks are not merged: Pyroscope takes exactly one value per Sample.
      assert.deepStrictEqual(
        profile.samples.map((s) => [s.timestampsUnixNano.length, s.values]),
        [
          [1, [8_000_000]],
          [1, [3_500_000]],
          [1, [0]],
        ],
      );
    });

    it('should send samples/count with timestamps only, equal stacks merged, where CPU time was not measured', function () {
      const { query } = appStacks();
      const request = buildExportRequest([spanProfile({ samples: [sample(0n, query), sample(10_000_000n, query)] })]);
      const [profile] = request.resourceProfiles[0].scopeProfiles[0].profiles;
      const table = strings(request);
      assert.deepStrictEqual(
        [table[profile.sampleType.typeStrindex ?? 0], table[profile.sampleType.unitStrindex ?? 0]],
        ['samples', 'count'],
      );
      assert.deepStrictEqual(
        profile.samples.map((s) => [s.timestampsUnixNano.length, s.values]),
        [[2, undefined]],
      );
    });
  });

  it('should fall back to the nominal period when the measured one is unusable', function () {
    for (const periodNanos of [0, -5, Number.NaN, Number.POSITIVE_INFINITY]) {
      const [profile] = buildExportRequest([spanProfile({ periodNanos })]).resourceProfiles[0].scopeProfiles[0].profiles;
      assert.strictEqual(profile.period, 10_101_010, String(periodNanos));
    }
  });

  describe('sample links and attributes', function () {
    /** Each Sample as (link span hex, attributes by key, function names), resolved through the dictionary. */
    function resolved(request: PbExportProfilesServiceRequest) {
      const d = request.dictionary;
      return request.resourceProfiles[0].scopeProfiles[0].profiles[0].samples.map((s) => ({
        link: Buffer.from(d.linkTable[s.linkIndex ?? 0].spanId ?? []).toString('hex'),
        attributes: Object.fromEntries(
          (s.attributeIndices ?? []).map((i) => [d.stringTable[d.attributeTable[i].keyStrindex!], d.attributeTable[i].value]),
        ),
        functions: (d.stackTable[s.stackIndex ?? 0].locationIndices ?? []).map(
          (li) => d.stringTable[d.functionTable[d.locationTable[li].lines![0].functionIndex!].nameStrindex!],
        ),
        timestamps: s.timestampsUnixNano.length,
      }));
    }
    const stacks = appStacks();
    const samples = [
      sample(1n, stacks.query),
      sample(2n, stacks.query, CHILD_SPAN_ID),
      sample(3n, stacks.query, CHILD_SPAN_ID),
      sample(4n, [], CHILD_SPAN_ID),
    ];
    const common = { span_name: { stringValue: 'GET /items' }, 'service.name': { stringValue: 'shop' } };
    const resource = { attributes: { 'service.name': 'shop' } };
    const bytes = (hex: string) => ({ bytesValue: Buffer.from(hex, 'hex') });

    const cases: Array<{ name: string; sampleLinks: 'local-root' | 'active-span' | undefined; want: ReturnType<typeof resolved> }> = [
      {
        name: "should link every sample to the root and name its active span in a bytes attribute with 'local-root'",
        sampleLinks: 'local-root',
        want: [
          {
            link: ROOT_SPAN_ID,
            attributes: { ...common, [ACTIVE_SPAN_ID_ATTRIBUTE]: bytes(ROOT_SPAN_ID) },
            functions: ['query', 'handle', 'main'],
            timestamps: 1,
          },
          {
            link: ROOT_SPAN_ID,
            attributes: { ...common, [ACTIVE_SPAN_ID_ATTRIBUTE]: bytes(CHILD_SPAN_ID) },
            functions: ['query', 'handle', 'main'],
            timestamps: 2,
          },
          {
            link: ROOT_SPAN_ID,
            attributes: { ...common, [ACTIVE_SPAN_ID_ATTRIBUTE]: bytes(CHILD_SPAN_ID) },
            functions: ['(program)'],
            timestamps: 1,
          },
        ],
      },
      {
        name: "should link each sample to its own span and add no active span attribute with 'active-span'",
        sampleLinks: 'active-span',
        want: [
          { link: ROOT_SPAN_ID, attributes: common, functions: ['query', 'handle', 'main'], timestamps: 1 },
          { link: CHILD_SPAN_ID, attributes: common, functions: ['query', 'handle', 'main'], timestamps: 2 },
          { link: CHILD_SPAN_ID, attributes: common, functions: ['(program)'], timestamps: 1 },
        ],
      },
      {
        name: 'should treat a profile without sampleLinks as active-span (hand-made profiles keep their meaning)',
        sampleLinks: undefined,
        want: [
          { link: ROOT_SPAN_ID, attributes: common, functions: ['query', 'handle', 'main'], timestamps: 1 },
          { link: CHILD_SPAN_ID, attributes: common, functions: ['query', 'handle', 'main'], timestamps: 2 },
          { link: CHILD_SPAN_ID, attributes: common, functions: ['(program)'], timestamps: 1 },
        ],
      },
    ];
    for (const { name, sampleLinks, want } of cases) {
      it(name, function () {
        const profile = spanProfile({ rootSpanName: 'GET /items', resource, samples, ...(sampleLinks ? { sampleLinks } : {}) });
        assert.deepStrictEqual(resolved(buildExportRequest([profile])), want);
      });
    }
  });
});
