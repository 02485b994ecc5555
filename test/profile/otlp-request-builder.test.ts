import * as assert from 'node:assert';
import { buildExportRequest } from '../../src/profile/otlp-request-builder';
import { spanProfile } from './synthetic';

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

  it('should fall back to the nominal period when the measured one is unusable', function () {
    for (const periodNanos of [0, -5, Number.NaN, Number.POSITIVE_INFINITY]) {
      const [profile] = buildExportRequest([spanProfile({ periodNanos })]).resourceProfiles[0].scopeProfiles[0].profiles;
      assert.strictEqual(profile.period, 10_101_010, String(periodNanos));
    }
  });
});
