import * as assert from 'node:assert/strict';
import { decodeRequestJson, decodeRequestProtobuf } from '../helpers/otlp-decoding';
import { encodeRequestJson, encodeRequestProtobuf } from '../../src/otlp/otlp-encoding';
import { buildExportRequest } from '../../src/otlp/otlp-request-builder';
import { Uint64, type PbExportProfilesServiceRequest } from '../../src/otlp/otlp-model';
import { encodeWithBuf } from '../helpers/decode-buf';
import { makeProfile, START_UNIX_NANO, TRACE_ID, ROOT_SPAN_ID, CHILD_SPAN_ID } from '../helpers/synthetic-profiles';

/** A request with two resources, truncation and dropped-sample attributes, and fixed profile ids. */
function request(): PbExportProfilesServiceRequest {
  const profiles = [
    makeProfile(0, 5),
    {
      ...makeProfile(1, 2),
      truncated: true,
      droppedSamples: 3,
      resource: { attributes: { 'service.name': 'other', 'process.pid': 42, ratio: 0.5, ok: true } },
    },
  ];
  let next = 1;
  return buildExportRequest(profiles, { randomBytes: (size) => Uint8Array.from({ length: size }, () => next++ % 256) });
}

describe('otlp-decoding', () => {
  describe('decodeRequestProtobuf', () => {
    it('should decode our protobuf into a model that encodes to the same bytes', () => {
      const bytes = encodeRequestProtobuf(request());
      const decoded = decodeRequestProtobuf(bytes);
      assert.deepEqual(Buffer.from(encodeRequestProtobuf(decoded)), Buffer.from(bytes));
    });

    it('should give exact 64-bit timestamps, bytes ids and model field names', () => {
      const decoded = decodeRequestProtobuf(encodeRequestProtobuf(request()));
      const profile = decoded.resourceProfiles[0].scopeProfiles[0].profiles[0];
      const first = profile.samples[0].timestampsUnixNano[0];
      assert.ok(first instanceof Uint64);
      assert.equal(first.toBigInt(), START_UNIX_NANO);
      assert.equal(profile.timeUnixNano?.toBigInt(), START_UNIX_NANO);
      assert.equal(profile.period, 10_101_010);
      const links = decoded.dictionary.linkTable
        .slice(1)
        .map((link) => [Buffer.from(link.traceId!).toString('hex'), Buffer.from(link.spanId!).toString('hex')]);
      assert.deepEqual(links, [
        [TRACE_ID, CHILD_SPAN_ID],
        [TRACE_ID, ROOT_SPAN_ID],
      ]);
      assert.deepEqual(decoded.dictionary.stringTable[0], '');
      assert.deepEqual(decoded.resourceProfiles[1].resource.attributes.find((a) => a.key === 'process.pid')?.value, { intValue: 42 });
    });

    it('should read what buf, an independent encoder, writes (snake_case fields, values, key_strindex)', () => {
      const bytes = encodeWithBuf(
        `resource_profiles { scope_profiles { profiles { period: 7 samples { stack_index: 1 values: 250 values: -3 timestamps_unix_nano: 18446744073709551615 } } } }
         dictionary { string_table: "" string_table: "cpu" attribute_table { key_strindex: 1 value { int_value: -9 } } }`,
        'ExportProfilesServiceRequest',
      );
      const decoded = decodeRequestProtobuf(bytes) as unknown as Record<string, any>;
      const sample = decoded.resourceProfiles[0].scopeProfiles[0].profiles[0].samples[0];
      assert.deepEqual(sample.values, [250, -3]);
      assert.equal(sample.timestampsUnixNano[0].toBigInt(), 2n ** 64n - 1n);
      assert.equal(sample.stackIndex, 1);
      assert.deepEqual(decoded.dictionary.attributeTable, [{ keyStrindex: 1, value: { intValue: -9 } }]);
    });

    it('should throw on bytes that are not a request', () => {
      assert.throws(() => decodeRequestProtobuf(Buffer.from([0x0a, 0x05, 0x01])));
    });
  });

  describe('decodeRequestJson', () => {
    it('should decode our OTLP JSON into a model that encodes to the same protobuf', () => {
      const model = request();
      const decoded = decodeRequestJson(encodeRequestJson(model));
      assert.deepEqual(Buffer.from(encodeRequestProtobuf(decoded)), Buffer.from(encodeRequestProtobuf(model)));
    });

    it('should accept snake_case keys, 64-bit integers as numbers, hex ids and base64 bytes', () => {
      const decoded = decodeRequestJson(
        JSON.stringify({
          resource_profiles: [
            {
              scope_profiles: [
                {
                  profiles: [
                    {
                      time_unix_nano: 1000,
                      period: '5',
                      profile_id: '000102030405060708090a0b0c0d0e0f',
                      samples: [{ timestamps_unix_nano: ['18446744073709551615'] }],
                    },
                  ],
                },
              ],
            },
          ],
          dictionary: {
            link_table: [{}, { trace_id: TRACE_ID, span_id: ROOT_SPAN_ID }],
            string_table: [''],
            attribute_table: [{}, { key_strindex: 0, value: { bytes_value: 'AAEC' } }],
          },
        }),
      );
      const profile = decoded.resourceProfiles[0].scopeProfiles[0].profiles[0];
      assert.equal(profile.timeUnixNano?.toBigInt(), 1000n);
      assert.equal(profile.period, 5);
      assert.deepEqual(
        [...profile.profileId],
        Array.from({ length: 16 }, (_, i) => i),
      );
      assert.equal(profile.samples[0].timestampsUnixNano[0].toBigInt(), 2n ** 64n - 1n);
      assert.equal(Buffer.from(decoded.dictionary.linkTable[1].spanId!).toString('hex'), ROOT_SPAN_ID);
      assert.deepEqual(decoded.dictionary.linkTable[0], {});
      assert.deepEqual([...(decoded.dictionary.attributeTable[1].value!.bytesValue as Uint8Array)], [0, 1, 2]);
    });

    it('should name the field that has the wrong shape', () => {
      assert.throws(() => decodeRequestJson('{"resourceProfiles": 5}'), {
        name: 'TypeError',
        message: 'OTLP JSON: request.resourceProfiles must be an array',
      });
      assert.throws(() => decodeRequestJson('{"dictionary": {"stringTable": [1]}}'), {
        name: 'TypeError',
        message: 'OTLP JSON: request.dictionary.stringTable[0] must be a string',
      });
      assert.throws(
        () => decodeRequestJson('{"resourceProfiles": [{"scopeProfiles": [{"profiles": [{"period": "ten"}]}]}]}'),
        /period must be an integer, got "ten"/,
      );
      assert.throws(() => decodeRequestJson('[]'), { name: 'TypeError', message: 'OTLP JSON: request must be an object, got an array' });
    });
  });
});
