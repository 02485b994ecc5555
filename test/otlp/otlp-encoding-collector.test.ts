import * as assert from 'node:assert';
import * as http from 'node:http';
import { encodeJson, encodeProtobuf } from '../../src/otlp/otlp-encoding';
import type { SpanProfile } from '../../src/profile/span-profile';
import { dictionaryViolations } from '../helpers/decode-checks';
import { decodeWithBuf, type Decoded } from '../helpers/decode-buf';
import { useForwardingCollector } from '../helpers/forwarding-collector';
import { profilesOf } from '../helpers/decode-resolve';
import { appStacks, CHILD_SPAN_ID, sample, spanProfile } from '../helpers/synthetic-profiles';

/** POSTs a body straight to the receiver (no exporter in between); resolves to the status code. */
function post(url: string, contentType: string, body: Uint8Array | string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', headers: { 'content-type': contentType } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** A batch using every feature of the encoding, its resource named by `marker`. */
function batch(marker: string): SpanProfile[] {
  const stacks = appStacks();
  const resource = { attributes: { 'service.name': marker, 'process.pid': 7, ratio: 0.5, tags: ['a', 'b'] } };
  return [
    spanProfile({ resource, truncated: true, droppedSamples: 4 }),
    spanProfile({
      resource,
      rootSpanName: '',
      startTimeUnixNano: 18446744073709550000n,
      endTimeUnixNano: 18446744073709551000n,
      samples: [
        { ...sample(0n, stacks.callback), timeUnixNano: 18446744073709550615n },
        { ...sample(0n, stacks.query, CHILD_SPAN_ID), timeUnixNano: 18446744073709550999n },
      ],
    }),
  ];
}

/**
 * Undoes the two rewrites the Collector (v0.165.0) makes when it re-encodes a request, so that
 * what remains must equal what we sent: its otlp_http exporter moves Resource attribute keys and
 * string values into the string table (`key_strindex`, `string_value_strindex`, strings appended
 * at the end), and it writes attribute_table[0] with an empty `value` message. Both are valid
 * OTLP; everything else must come back byte-for-byte equivalent.
 */
function undoCollectorRewrites(received: Decoded, sentStringCount: number): Decoded {
  const copy = JSON.parse(JSON.stringify(received)) as Decoded;
  const dict = copy.dictionary as Decoded;
  const strings = dict.stringTable as string[];
  const resolveValue = (value: Decoded) => {
    if (value.stringValueStrindex !== undefined) {
      value.stringValue = strings[value.stringValueStrindex as number];
      delete value.stringValueStrindex;
    }
    for (const item of ((value.arrayValue as Decoded | undefined)?.values ?? []) as Decoded[]) resolveValue(item);
  };
  for (const rp of (copy.resourceProfiles ?? []) as Decoded[]) {
    for (const kv of ((rp.resource as Decoded).attributes ?? []) as Decoded[]) {
      if (kv.keyStrindex !== undefined) {
        // Rebuild in field order (key, value) so the comparison does not depend on key order.
        const value = kv.value as Decoded;
        kv.key = strings[kv.keyStrindex as number];
        delete kv.keyStrindex;
        delete kv.value;
        kv.value = value;
      }
      resolveValue(kv.value as Decoded);
    }
  }
  dict.stringTable = strings.slice(0, sentStringCount);
  const zero = (dict.attributeTable as Decoded[])[0];
  if (JSON.stringify(zero) === '{"value":{}}') (dict.attributeTable as Decoded[])[0] = {};
  return copy;
}

describe('OTLP encoding through the OpenTelemetry Collector', function () {
  const forwarding = useForwardingCollector();
  const forwarded = (marker: string): Promise<Decoded> => forwarding.forwardedProfiles(marker);

  it('should take our protobuf and forward the same request', async function () {
    const marker = `pb-${process.hrtime.bigint()}`;
    const body = encodeProtobuf(batch(marker));
    assert.strictEqual(await post(`${forwarding.collector.endpoint}/v1development/profiles`, 'application/x-protobuf', body), 200);
    const sent = decodeWithBuf(body);
    assert.deepStrictEqual(dictionaryViolations(sent), []);
    const received = await forwarded(marker);
    const sentStrings = ((sent.dictionary as Decoded).stringTable as string[]).length;
    assert.deepStrictEqual(undoCollectorRewrites(received, sentStrings), sent);
    assert.deepStrictEqual(forwarding.collector.errorLines(), []);
  });

  it('should read our JSON (hex ids, string int64s) as the same request, profile ids included', async function () {
    const marker = `json-${process.hrtime.bigint()}`;
    const profiles = batch(marker);
    const json = encodeJson(profiles);
    assert.strictEqual(await post(`${forwarding.collector.endpoint}/v1development/profiles`, 'application/json', json), 200);
    const received = await forwarded(marker);
    // The JSON's own profile ids, as hex, must come back from the Collector's binary re-encoding.
    const sentIds = profilesOf(JSON.parse(json) as Decoded).map((p) => p.profileId);
    assert.deepStrictEqual(
      profilesOf(received).map((p) => p.profileId),
      sentIds,
    );
    const sent = JSON.parse(json) as Decoded;
    const sentStrings = ((sent.dictionary as Decoded).stringTable as string[]).length;
    assert.deepStrictEqual(undoCollectorRewrites(received, sentStrings), sent);
    assert.deepStrictEqual(forwarding.collector.errorLines(), []);
  });
});
