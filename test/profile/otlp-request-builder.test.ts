import * as assert from 'node:assert';
import { buildExportRequest } from '../../src/profile/otlp-request-builder';
import { appStacks, sample, spanProfile } from './synthetic';

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
      assert.deepStrictEqual(ids, [0, 16, 32].map((o) => Buffer.from(Array.from({ length: 16 }, (_, i) => o + i)).toString('hex')));
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
      const samples = [sample(0n, query, undefined, 8_000_000), sample(10_000_000n, query, undefined, 3_500_000), sample(20_000_000n, query, undefined, 0)];
      const request = buildExportRequest([spanProfile({ samples })]);
      const [profile] = request.resourceProfiles[0].scopeProfiles[0].profiles;
      const table = strings(request);
      assert.deepStrictEqual([table[profile.sampleType.typeStrindex ?? 0], table[profile.sampleType.unitStrindex ?? 0]], ['cpu', 'nanoseconds']);
      assert.deepStrictEqual([table[profile.periodType.typeStrindex ?? 0], table[profile.periodType.unitStrindex ?? 0]], ['cpu', 'nanoseconds']);
      // Equal stacks are not merged: Pyroscope takes exactly one value per Sample.
      assert.deepStrictEqual(profile.samples.map((s) => [s.timestampsUnixNano.length, s.values]), [[1, [8_000_000]], [1, [3_500_000]], [1, [0]]]);
    });

    it('should send samples/count with timestamps only, equal stacks merged, where CPU time was not measured', function () {
      const { query } = appStacks();
      const request = buildExportRequest([spanProfile({ samples: [sample(0n, query), sample(10_000_000n, query)] })]);
      const [profile] = request.resourceProfiles[0].scopeProfiles[0].profiles;
      const table = strings(request);
      assert.deepStrictEqual([table[profile.sampleType.typeStrindex ?? 0], table[profile.sampleType.unitStrindex ?? 0]], ['samples', 'count']);
      assert.deepStrictEqual(profile.samples.map((s) => [s.timestampsUnixNano.length, s.values]), [[2, undefined]]);
    });
  });

  it('should fall back to the nominal period when the measured one is unusable', function () {
    for (const periodNanos of [0, -5, Number.NaN, Number.POSITIVE_INFINITY]) {
      const [profile] = buildExportRequest([spanProfile({ periodNanos })]).resourceProfiles[0].scopeProfiles[0].profiles;
      assert.strictEqual(profile.period, 10_101_010, String(periodNanos));
    }
  });
});
