/*
 * The wire checks every suite of real profiles runs: decoded by buf, the request satisfies the
 * dictionary rules, every sample round-trips, and the JSON encoding carries the same request.
 */
import * as assert from 'node:assert';
import { encodeJson, encodeProtobuf } from '../../src/otlp/otlp-encoding';
import type { SpanProfile } from '../../src/profile/span-profile';
import { dictionaryViolations } from './decode-checks';
import { decodeWithBuf, type Decoded } from './decode-buf';
import { expectedSamples, profilesOf, resolveProfile } from './decode-resolve';

/** Defines the three `it`s, inside the caller's `describe`, over the profiles `exported()` returns when they run. */
export function itShouldPassTheWireRules(exported: () => SpanProfile[]): void {
  it('should satisfy every dictionary rule when decoded by buf', function () {
    const decoded = decodeWithBuf(encodeProtobuf(exported()));
    assert.deepStrictEqual(dictionaryViolations(decoded), []);
  });

  it('should round-trip every sample of every profile', function () {
    const profiles = exported();
    const decoded = decodeWithBuf(encodeProtobuf(profiles));
    const decodedProfiles = profilesOf(decoded);
    assert.strictEqual(decodedProfiles.length, profiles.length);
    profiles.forEach((profile, i) => {
      assert.deepStrictEqual(resolveProfile(decoded.dictionary as Decoded, decodedProfiles[i]), expectedSamples(profile));
    });
  });

  it('should carry the same request in JSON as in protobuf', function () {
    const profiles = exported();
    const strip = (request: Decoded) => {
      for (const p of profilesOf(request)) delete p.profileId;
      return request;
    };
    assert.deepStrictEqual(strip(JSON.parse(encodeJson(profiles)) as Decoded), strip(decodeWithBuf(encodeProtobuf(profiles))));
  });
}
