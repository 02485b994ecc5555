import * as assert from 'node:assert';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { decodeExportResponse, encodeJson, encodeProtobuf } from '../../src/otlp/otlp-encoding';
import { PACKAGE_NAME, PACKAGE_VERSION } from '../../src/version';
import { dictionaryViolations } from '../helpers/decode-checks';
import { decodeWithBuf, encodeWithBuf, protoDir, reencodeWithBuf, type Decoded } from '../helpers/decode-buf';
import { attributesOf, expectedSamples, profilesOf, resolveProfile, resourceAttributes } from '../helpers/decode-resolve';
import { appStacks, CHILD_SPAN_ID, copyFrames, ROOT_SPAN_ID, sample, spanProfile, TRACE_ID } from '../helpers/synthetic-profiles';

type D = Decoded;
const list = (v: unknown) => (v ?? []) as D[];

describe('otlp-encoding', () => {
  describe('encodeProtobuf', () => {
    it('should round-trip every sample stack, link and timestamp through buf (Go protobuf)', () => {
      const profile = spanProfile();
      const decoded = decodeWithBuf(encodeProtobuf([profile]));
      const [decodedProfile] = profilesOf(decoded);
      assert.deepStrictEqual(resolveProfile(decoded.dictionary as D, decodedProfile), expectedSamples(profile));
    });

    it('should keep all 64 bits of sample and profile timestamps', () => {
      const max = 18446744073709551615n;
      const precise = spanProfile({
        startTimeUnixNano: 1755000000123456000n,
        endTimeUnixNano: 1755000000223456000n,
        samples: [sample(0n, appStacks().query)].map((s) => ({ ...s, timeUnixNano: 1755000000123456789n })),
      });
      const top = spanProfile({
        startTimeUnixNano: max - 1000n,
        endTimeUnixNano: max,
        samples: [{ ...sample(0n, appStacks().render), timeUnixNano: max - 1n }],
      });
      const [p1, p2] = profilesOf(decodeWithBuf(encodeProtobuf([precise, top])));
      assert.deepStrictEqual(list(p1.samples)[0].timestampsUnixNano, ['1755000000123456789']);
      assert.strictEqual(p1.timeUnixNano, '1755000000123456000');
      assert.deepStrictEqual(list(p2.samples)[0].timestampsUnixNano, ['18446744073709551614']);
      assert.strictEqual(p2.timeUnixNano, '18446744073709550615');
      assert.strictEqual(p2.durationNano, '1000');
    });

    it('should write sample type, period type, rounded period, window, a random 16-byte id and flags', () => {
      const profile = spanProfile({ truncated: true, droppedSamples: 17, periodNanos: 9_999_999.5 });
      const decoded = decodeWithBuf(encodeProtobuf([profile, spanProfile()]));
      const dict = decoded.dictionary as D;
      const strings = dict.stringTable as string[];
      const [p, other] = profilesOf(decoded);
      const valueType = (v: unknown) => [(v as D).typeStrindex, (v as D).unitStrindex].map((i) => strings[i as number]);
      assert.deepStrictEqual(valueType(p.sampleType), ['samples', 'count']);
      assert.deepStrictEqual(valueType(p.periodType), ['cpu', 'nanoseconds']);
      assert.strictEqual(p.period, '10000000');
      assert.strictEqual(p.timeUnixNano, profile.startTimeUnixNano.toString());
      assert.strictEqual(p.durationNano, (profile.endTimeUnixNano - profile.startTimeUnixNano).toString());
      assert.match(p.profileId as string, /^[0-9a-f]{32}$/);
      assert.notStrictEqual(p.profileId, other.profileId);
      assert.deepStrictEqual(attributesOf(dict, p.attributeIndices), {
        'otel_span_profiler.truncated': { boolValue: true },
        'otel_span_profiler.dropped_samples': { intValue: '17' },
      });
      assert.strictEqual(other.attributeIndices, undefined);
    });

    it('should widen the window to cover samples outside it', () => {
      const profile = spanProfile();
      const late = { ...profile, endTimeUnixNano: profile.startTimeUnixNano + 1n };
      const [p] = profilesOf(decodeWithBuf(encodeProtobuf([late])));
      const last = profile.samples[profile.samples.length - 1].timeUnixNano;
      assert.strictEqual(p.durationNano, (last + 1n - profile.startTimeUnixNano).toString());
    });

    it('should merge samples with the same stack and span into one sample with several timestamps', () => {
      const profile = spanProfile();
      const [p] = profilesOf(decodeWithBuf(encodeProtobuf([profile])));
      // handle, query (child span, x2), render (x2), callback
      assert.deepStrictEqual(
        list(p.samples).map((s) => (s.timestampsUnixNano as string[]).length),
        [1, 2, 2, 1],
      );
    });

    it('should keep the same stack under two spans as two samples', () => {
      const stacks = appStacks();
      const profile = spanProfile({ samples: [sample(1n, stacks.query), sample(2n, stacks.query, CHILD_SPAN_ID)] });
      const decoded = decodeWithBuf(encodeProtobuf([profile]));
      const samples = list(profilesOf(decoded)[0].samples);
      assert.strictEqual(samples.length, 2);
      assert.strictEqual(samples[0].stackIndex, samples[1].stackIndex);
      const spanIds = samples.map((s) => list((decoded.dictionary as D).linkTable)[s.linkIndex as number].spanId);
      assert.deepStrictEqual(spanIds, [ROOT_SPAN_ID, CHILD_SPAN_ID]);
    });

    it('should group profiles by resource object, then by equal attributes', () => {
      const shared = { attributes: { 'service.name': 'a', 'deployment.environment.name': 'prod' } };
      const equalCopy = { attributes: { 'service.name': 'a', 'deployment.environment.name': 'prod' } };
      const other = { attributes: { 'service.name': 'b' } };
      const profiles = [shared, other, equalCopy, shared].map((resource) => spanProfile({ resource }));
      const decoded = decodeWithBuf(encodeProtobuf(profiles));
      const groups = list(decoded.resourceProfiles).map((rp) => ({
        attributes: resourceAttributes(rp),
        profiles: list(rp.scopeProfiles).map((sp) => list(sp.profiles).length),
      }));
      assert.deepStrictEqual(groups, [
        {
          attributes: { 'service.name': { stringValue: 'a' }, 'deployment.environment.name': { stringValue: 'prod' } },
          profiles: [3],
        },
        { attributes: { 'service.name': { stringValue: 'b' } }, profiles: [1] },
      ]);
    });

    it('should write resource attributes of every kind as plain key/value pairs', () => {
      const resource = {
        attributes: { 'service.name': 'svc', 'process.pid': 7, offset: -3, ratio: 0.5, ok: false, tags: ['x', 'y'], gone: undefined },
      };
      const [rp] = list(decodeWithBuf(encodeProtobuf([spanProfile({ resource })])).resourceProfiles);
      assert.deepStrictEqual(resourceAttributes(rp), {
        'service.name': { stringValue: 'svc' },
        'process.pid': { intValue: '7' },
        offset: { intValue: '-3' },
        ratio: { doubleValue: 0.5 },
        ok: { boolValue: false },
        tags: { arrayValue: { values: [{ stringValue: 'x' }, { stringValue: 'y' }] } },
      });
      for (const kv of list((rp.resource as D).attributes)) assert.strictEqual(kv.keyStrindex, undefined);
    });

    it('should add service.name when the resource lacks it', () => {
      const [rp] = list(decodeWithBuf(encodeProtobuf([spanProfile({ resource: { attributes: {} } })])).resourceProfiles);
      const attributes = resourceAttributes(rp);
      assert.match((attributes['service.name'] as D).stringValue as string, /^unknown_service:./);
    });

    it('should name the scope after this package, once per resource', () => {
      const [rp] = list(decodeWithBuf(encodeProtobuf([spanProfile(), spanProfile()])).resourceProfiles);
      assert.deepStrictEqual(
        list(rp.scopeProfiles).map((sp) => sp.scope),
        [{ name: PACKAGE_NAME, version: PACKAGE_VERSION }],
      );
    });

    it('should share one dictionary across profiles and dedupe frames that are distinct objects', () => {
      const a = spanProfile();
      const b = spanProfile({ samples: a.samples.map((s) => ({ ...s, stack: copyFrames(s.stack) })) });
      const decoded = decodeWithBuf(encodeProtobuf([a, b]));
      const dict = decoded.dictionary as D;
      // 4 distinct stacks and 5 distinct frames, each once, plus the zero entries.
      assert.strictEqual(list(dict.stackTable).length, 5);
      assert.strictEqual(list(dict.locationTable).length, 6);
      assert.deepStrictEqual(dictionaryViolations(decoded), []);
      const [pa, pb] = profilesOf(decoded);
      assert.deepStrictEqual(resolveProfile(dict, pb), expectedSamples(b));
      assert.deepStrictEqual(resolveProfile(dict, pa), resolveProfile(dict, pb));
    });

    it('should not write zero-valued scalar fields', () => {
      // Go's protobuf drops a zero scalar it reads and packs repeated scalars when it writes the
      // message again, so any such field we wrote makes its encoding shorter than ours.
      const bytes = encodeProtobuf([spanProfile()]);
      assert.strictEqual(reencodeWithBuf(bytes).length, bytes.length);
    });

    it('should link no span when a sample carries a malformed or zero span id', () => {
      const stacks = appStacks();
      const profile = spanProfile({ samples: [sample(1n, stacks.query, ''), sample(2n, stacks.query, '0000000000000000')] });
      const decoded = decodeWithBuf(encodeProtobuf([profile]));
      const samples = list(profilesOf(decoded)[0].samples);
      assert.deepStrictEqual(
        samples.map((s) => s.linkIndex),
        [undefined],
      );
      assert.deepStrictEqual(dictionaryViolations(decoded), []);
    });

    it('should encode from the built package (dist/) with the generated schema, never reading proto/ (issue #9.4)', function () {
      const encoder = join(dirname(protoDir()), 'dist', 'otlp', 'otlp-encoding.js');
      assert.ok(existsSync(encoder), `${encoder} is missing: run npm run build first (npm test does)`);
      assert.ok(existsSync(join(dirname(encoder), 'otlp-schema.json')), 'dist/otlp/otlp-schema.json was not generated');
      // Any read under a proto/ folder fails, so only the generated schema can serve.
      const script = `
        const fs = require('node:fs');
        for (const name of ['readFileSync', 'existsSync', 'openSync', 'readdirSync', 'statSync']) {
          const original = fs[name];
          fs[name] = function (file, ...rest) {
            if (String(file).includes('/proto/')) throw new Error('read proto/ at run time: ' + file);
            return original.call(this, file, ...rest);
          };
        }
        const { encodeProtobuf } = require(${JSON.stringify(encoder)});
        const frame = { functionName: 'f', fileName: '/f.js', lineNumber: 1, columnNumber: 1 };
        const bytes = encodeProtobuf([{ traceId: '${TRACE_ID}', rootSpanId: '${ROOT_SPAN_ID}', rootSpanName: 'r',
          resource: { attributes: {} }, startTimeUnixNano: 1n, endTimeUnixNano: 100n, periodNanos: 10,
          samples: [{ timeUnixNano: 50n, stack: [frame], spanId: '${ROOT_SPAN_ID}' }], truncated: false, droppedSamples: 0 }]);
        process.stdout.write(Buffer.from(bytes).toString('base64'));`;
      const out = execFileSync(process.execPath, ['-e', script], { cwd: tmpdir() }).toString();
      const decoded = decodeWithBuf(Buffer.from(out, 'base64'));
      assert.deepStrictEqual(list(profilesOf(decoded)[0].samples)[0].timestampsUnixNano, ['50']);
    });

    it('should load protobufjs only when encoding is first needed (or loadEncoding is called)', function () {
      const encoder = join(dirname(protoDir()), 'dist', 'otlp', 'otlp-encoding.js');
      const script = `
        const loaded = () => Object.keys(require.cache).some((f) => f.includes('/node_modules/protobufjs/'));
        const { loadEncoding } = require(${JSON.stringify(encoder)});
        const before = loaded();
        loadEncoding();
        process.stdout.write(JSON.stringify([before, loaded()]));`;
      assert.deepStrictEqual(JSON.parse(execFileSync(process.execPath, ['-e', script]).toString()), [false, true]);
    });

    it('should encode an empty batch as a request with only the zero-value dictionary', () => {
      const decoded = decodeWithBuf(encodeProtobuf([]));
      assert.strictEqual(decoded.resourceProfiles, undefined);
      assert.deepStrictEqual(dictionaryViolations(decoded), []);
    });
  });

  describe('encodeJson', () => {
    const withoutProfileIds = (request: D): D => {
      for (const p of profilesOf(request)) delete p.profileId;
      return request;
    };

    it('should carry the same request as the protobuf encoding, as buf decodes it', () => {
      const profiles = [spanProfile({ truncated: true }), spanProfile({ resource: { attributes: { 'service.name': 'x' } } })];
      const fromJson = JSON.parse(encodeJson(profiles)) as D;
      const fromProtobuf = decodeWithBuf(encodeProtobuf(profiles));
      assert.deepStrictEqual(withoutProfileIds(fromJson), withoutProfileIds(fromProtobuf));
    });

    it('should write one line with no trailing newline', () => {
      const json = encodeJson([spanProfile({ rootSpanName: 'GET /a\nb' })]);
      assert.ok(!json.includes('\n'));
      assert.ok(json.endsWith('}'));
    });

    it('should use lowerCamelCase keys only', () => {
      const keys = new Set<string>();
      const walk = (v: unknown): void => {
        if (Array.isArray(v)) v.forEach(walk);
        else if (v !== null && typeof v === 'object') {
          for (const [k, child] of Object.entries(v)) {
            keys.add(k);
            walk(child);
          }
        }
      };
      walk(JSON.parse(encodeJson([spanProfile({ truncated: true, droppedSamples: 2 })])));
      for (const key of keys) assert.match(key, /^[a-z][a-zA-Z]*$/);
      for (const key of ['resourceProfiles', 'scopeProfiles', 'timestampsUnixNano', 'stackIndex', 'linkIndex', 'keyStrindex']) {
        assert.ok(keys.has(key), key);
      }
    });

    it('should write trace, span and profile ids as hex and 64-bit integers as decimal strings', () => {
      const request = JSON.parse(encodeJson([spanProfile()])) as D;
      const dict = request.dictionary as D;
      assert.deepStrictEqual(list(dict.linkTable).slice(1), [
        { traceId: TRACE_ID, spanId: ROOT_SPAN_ID },
        { traceId: TRACE_ID, spanId: CHILD_SPAN_ID },
      ]);
      const [p] = profilesOf(request);
      assert.match(p.profileId as string, /^[0-9a-f]{32}$/);
      assert.strictEqual(p.timeUnixNano, '1764150000123456789');
      assert.strictEqual(p.period, '10101011');
      assert.strictEqual(typeof p.durationNano, 'string');
      assert.strictEqual(list(p.samples)[0].stackIndex, 1);
      assert.deepStrictEqual(list(p.samples)[0].timestampsUnixNano, ['1764150000124456789']);
      assert.strictEqual(typeof list(list(dict.locationTable)[1].lines)[0].line, 'string');
    });
  });

  describe('decodeExportResponse', () => {
    const RESPONSE = 'ExportProfilesServiceResponse';

    it('should read partial success from a protobuf body', () => {
      const body = encodeWithBuf('partial_success { rejected_profiles: 3 error_message: "too old" }', RESPONSE);
      assert.deepStrictEqual(decodeExportResponse(body, 'application/x-protobuf'), {
        rejectedProfiles: 3,
        errorMessage: 'too old',
      });
    });

    it('should read a protobuf response without partial success as full success', () => {
      const body = Buffer.from([0x0a, 0x00]); // partial_success present but empty
      assert.deepStrictEqual(decodeExportResponse(body, 'application/x-protobuf'), { rejectedProfiles: 0, errorMessage: '' });
    });

    it('should read partial success from a JSON body, with int64 as string or number', () => {
      const body = (s: string) => Buffer.from(s, 'utf8');
      assert.deepStrictEqual(
        decodeExportResponse(body('{"partialSuccess":{"rejectedProfiles":"2","errorMessage":"x"}}'), 'application/json; charset=utf-8'),
        { rejectedProfiles: 2, errorMessage: 'x' },
      );
      assert.deepStrictEqual(decodeExportResponse(body('{"partialSuccess":{"rejectedProfiles":5}}'), 'application/json'), {
        rejectedProfiles: 5,
        errorMessage: '',
      });
      assert.deepStrictEqual(decodeExportResponse(body('{}'), 'application/json'), { rejectedProfiles: 0, errorMessage: '' });
    });

    it('should return undefined for empty, unparseable or foreign bodies', () => {
      assert.strictEqual(decodeExportResponse(new Uint8Array(0), 'application/x-protobuf'), undefined);
      assert.strictEqual(decodeExportResponse(Buffer.from('{not json'), 'application/json'), undefined);
      assert.strictEqual(decodeExportResponse(Buffer.from([0x0a, 0x05, 0x01]), 'application/x-protobuf'), undefined);
      assert.strictEqual(decodeExportResponse(Buffer.from('<html>'), 'text/html'), undefined);
    });
  });

  it('should hold 1000 samples of 4 stacks as 4 samples and 4 stacks', () => {
    const stacks = Object.values(appStacks());
    const samples = Array.from({ length: 1000 }, (_, i) => sample(BigInt(i) * 1000n, stacks[i % 4]));
    const decoded = decodeWithBuf(encodeProtobuf([spanProfile({ samples })]));
    assert.strictEqual(list((decoded.dictionary as D).stackTable).length, 5);
    const decodedSamples = list(profilesOf(decoded)[0].samples);
    assert.deepStrictEqual(
      decodedSamples.map((s) => (s.timestampsUnixNano as string[]).length),
      [250, 250, 250, 250],
    );
    assert.deepStrictEqual(dictionaryViolations(decoded), []);
  });
});
