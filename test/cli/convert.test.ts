import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as zlib from 'node:zlib';
import { gunzipSync, gzipSync } from 'node:zlib';
import { Profile } from 'pprof-format';
import { readOtlpFiles } from '../../src/convert/otlp-input';
import { SampleSet } from '../../src/convert/profile-samples';
import { spansOfRequest } from '../../src/convert/trace-spans';
import { encodeRequestProtobuf } from '../../src/otlp/otlp-encoding';
import { runExampleService, type ServiceRun } from '../viewer/example-service-run';
import { nodeBinary } from '../setup/node-binaries';

const BIN = join(__dirname, '..', '..', 'src', 'cli', 'bin.js');

function cli(...args: string[]): { status: number; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8' });
  return { status: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

/** A Node.js with zlib zstd (22.15+, 23.8+): this one, else the Node 24 of .cache (Linux x64); undefined elsewhere. */
function nodeWithZstd(): string | undefined {
  if ((zlib as { zstdCompressSync?: unknown }).zstdCompressSync !== undefined) return process.execPath;
  return nodeBinary(24);
}

/** Each buffer compressed as one zstd frame, by a Node.js that has zstd. */
function zstdFrames(node: string, buffers: Uint8Array[]): Buffer[] {
  const script = `
    const zlib = require('node:zlib');
    const input = JSON.parse(require('node:fs').readFileSync(0, 'utf8'));
    process.stdout.write(JSON.stringify(input.map((b64) => zlib.zstdCompressSync(Buffer.from(b64, 'base64')).toString('base64'))));
  `;
  const result = spawnSync(node, ['-e', script], {
    input: JSON.stringify(buffers.map((b) => Buffer.from(b).toString('base64'))),
    encoding: 'utf8',
  });
  assert.equal(result.status, 0, result.stderr);
  return (JSON.parse(result.stdout) as string[]).map((b64) => Buffer.from(b64, 'base64'));
}

/** The Collector file exporter's framing: each message after its 4-byte big-endian length. */
function framed(messages: Uint8Array[]): Buffer {
  return Buffer.concat(
    messages.flatMap((m) => [
      Buffer.from([(m.length >>> 24) & 255, (m.length >>> 16) & 255, (m.length >>> 8) & 255, m.length & 255]),
      Buffer.from(m),
    ]),
  );
}

function hasGo(): boolean {
  return spawnSync('go', ['version']).status === 0;
}

/** A small profiles request in OTLP JSON with a chosen sample type, built field by field. */
function syntheticRequest(options: { cpuValues: boolean; activeSpanAttribute?: string; activeSpanAsBytes?: boolean }): object {
  const strings = [
    '',
    'samples',
    'count',
    'cpu',
    'nanoseconds',
    'outer',
    'leafA',
    'leafB',
    '/app/a.js',
    'span_name',
    'GET /x',
    'otel_span_profiler.active_span_id',
  ];
  const s = (text: string): number => strings.indexOf(text);
  const ts = (n: number): string => (1_700_000_000_000_000_000n + BigInt(n) * 10_000_000n).toString();
  const attributeTable: object[] = [{}, { keyStrindex: s('span_name'), value: { stringValue: 'GET /x' } }];
  if (options.activeSpanAttribute) {
    // OTLP JSON writes a bytes_value as base64.
    const value = options.activeSpanAsBytes
      ? { bytesValue: Buffer.from(options.activeSpanAttribute, 'hex').toString('base64') }
      : { stringValue: options.activeSpanAttribute };
    attributeTable.push({ keyStrindex: s('otel_span_profiler.active_span_id'), value });
  }
  const attrs = options.activeSpanAttribute ? [1, 2] : [1];
  return {
    resourceProfiles: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'synthetic' } }] },
        scopeProfiles: [
          {
            profiles: [
              {
                sampleType: options.cpuValues
                  ? { typeStrindex: s('cpu'), unitStrindex: s('nanoseconds') }
                  : { typeStrindex: s('samples'), unitStrindex: s('count') },
                periodType: { typeStrindex: s('cpu'), unitStrindex: s('nanoseconds') },
                period: '10000000',
                samples: [
                  // stack 1: outer -> leafA, two timestamps; stack 2: outer -> leafB, one timestamp.
                  {
                    stackIndex: 1,
                    linkIndex: 1,
                    attributeIndices: attrs,
                    timestampsUnixNano: [ts(0), ts(1)],
                    ...(options.cpuValues ? { values: ['3000000', '5000000'] } : {}),
                  },
                  {
                    stackIndex: 2,
                    linkIndex: 1,
                    attributeIndices: attrs,
                    timestampsUnixNano: [ts(2)],
                    ...(options.cpuValues ? { values: ['7000000'] } : {}),
                  },
                ],
              },
            ],
          },
        ],
      },
    ],
    dictionary: {
      stringTable: strings,
      functionTable: [
        {},
        { nameStrindex: s('outer'), filenameStrindex: s('/app/a.js') },
        { nameStrindex: s('leafA'), filenameStrindex: s('/app/a.js') },
        { nameStrindex: s('leafB'), filenameStrindex: s('/app/a.js') },
      ],
      locationTable: [
        {},
        { lines: [{ functionIndex: 1, line: '3' }] },
        { lines: [{ functionIndex: 2, line: '7' }] },
        { lines: [{ functionIndex: 3, line: '9' }] },
      ],
      // Leaf first.
      stackTable: [{}, { locationIndices: [2, 1] }, { locationIndices: [3, 1] }],
      linkTable: [{}, { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331' }],
      attributeTable,
    },
  };
}

describe('otel-span-profiler convert', function () {
  // Tests run the CLI as child processes, several per test (up to 10 s for one test seen on a busy 2-core machine).
  this.timeout(180_000);
  let run: ServiceRun;
  let work: string;

  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'osp-convert-'));
    run = await runExampleService({ seconds: 3 });
  });

  describe('--to pprof', () => {
    it("should write gzipped pprof that go tool pprof -top reads, with the routes' functions", function () {
      if (!hasGo()) this.skip();
      const out = join(work, 'all.pb.gz');
      const result = cli('convert', '--to', 'pprof', run.profilesFile, '-o', out);
      assert.equal(result.status, 0, result.stderr);
      const top = spawnSync('go', ['tool', 'pprof', '-top', out], { encoding: 'utf8' });
      assert.equal(top.status, 0, top.stderr);
      for (const fn of ['deriveKeyChain', 'parseAccessLogDates']) assert.match(top.stdout, new RegExp(fn), `${fn} in:\n${top.stdout}`);
      assert.match(top.stdout, /Type: cpu/);
    });

    it('should label each sample with its span id, trace id and root span name', function () {
      const out = join(work, 'labels.pb.gz');
      assert.equal(cli('convert', '--to', 'pprof', run.profilesFile, '-o', out).status, 0);
      const profile = Profile.decode(gunzipSync(readFileSync(out)));
      const strings = profile.stringTable.strings;
      const input = new SampleSet();
      for (const { request } of readOtlpFiles([run.profilesFile]).profiles) input.addRequest(request);
      const spanIds = new Set(input.samples.map((s) => s.spanId));
      assert.equal(profile.sample.length, input.samples.length);
      for (const sample of profile.sample) {
        const labels = new Map(sample.label.map((l) => [strings[Number(l.key)], strings[Number(l.str)]]));
        assert.ok(spanIds.has(labels.get('span_id')!), `span_id label ${labels.get('span_id')}`);
        assert.match(labels.get('trace_id')!, /^[0-9a-f]{32}$/);
        assert.match(labels.get('span_name')!, /^GET \//);
      }
      if (hasGo()) {
        const tags = spawnSync('go', ['tool', 'pprof', '-tags', out], { encoding: 'utf8' });
        assert.equal(tags.status, 0, tags.stderr);
        assert.match(tags.stdout, /span_id/);
      }
    });
  });

  describe('--to folded', () => {
    it('should keep only the samples of one root span name with --root-name', () => {
      const out = join(work, 'hash.folded');
      const result = cli('convert', '--to', 'folded', '--root-name', 'GET /hash', run.profilesFile, '-o', out);
      assert.equal(result.status, 0, result.stderr);
      const text = readFileSync(out, 'utf8');
      assert.match(text, /deriveKeyChain/);
      assert.doesNotMatch(text, /parseAccessLogDates|buildInventoryReport/);
      for (const line of text.trim().split('\n')) assert.match(line, /^[^;]+(;[^;]+)* \d+$/);
    });

    it("should keep one trace's samples with --trace and one span's (with its children) with --span", () => {
      const traces = readOtlpFiles([run.tracesFile]).traces.flatMap(({ request }) => spansOfRequest(request));
      const input = new SampleSet();
      for (const { request } of readOtlpFiles([run.profilesFile]).profiles) input.addRequest(request);
      // A /report request whose child span "render report" has samples in the route's function.
      const inReport = (s: (typeof input.samples)[number]): boolean =>
        s.stack.some((id) => input.frames[id].name === 'buildInventoryReport');
      const child = traces.find(
        (span) => span.name === 'render report' && input.samples.some((s) => s.spanId === span.spanId && inReport(s)),
      )!;
      assert.ok(child, 'a render report span with samples in buildInventoryReport');
      const root = traces.find((span) => span.spanId === child.parentSpanId)!;
      const expected = input.samples.filter((s) => s.traceId === root.traceId).reduce((sum, s) => sum + s.count, 0);
      const byTrace = cli('convert', '--to', 'folded', '--value', 'samples', '--trace', root.traceId, run.profilesFile, '-o', '-');
      assert.equal(byTrace.status, 0, byTrace.stderr);
      const total = (text: string): number =>
        text
          .trim()
          .split('\n')
          .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
      assert.equal(total(byTrace.stdout), expected);
      // The root with its descendants (known from the traces file) is the whole request.
      const bySpan = cli(
        'convert',
        '--to',
        'folded',
        '--value',
        'samples',
        '--span',
        root.spanId,
        run.profilesFile,
        run.tracesFile,
        '-o',
        '-',
      );
      assert.equal(bySpan.status, 0, bySpan.stderr);
      assert.equal(total(bySpan.stdout), expected);
      assert.match(bySpan.stdout, /buildInventoryReport/);
      const childOnly = cli(
        'convert',
        '--to',
        'folded',
        '--value',
        'samples',
        '--span',
        child.spanId,
        '--self',
        run.profilesFile,
        '-o',
        '-',
      );
      assert.equal(
        total(childOnly.stdout),
        input.samples.filter((s) => s.spanId === child.spanId).reduce((sum, s) => sum + s.count, 0),
      );
    });

    it('should weigh samples by their CPU values (cpu/nanoseconds) or by count x period (samples/count)', () => {
      const measured = join(work, 'measured.jsonl');
      const counted = join(work, 'counted.jsonl');
      writeFileSync(measured, JSON.stringify(syntheticRequest({ cpuValues: true })) + '\n');
      writeFileSync(counted, JSON.stringify(syntheticRequest({ cpuValues: false })) + '\n');
      const lines = (file: string, ...extra: string[]): Map<string, number> => {
        const result = cli('convert', '--to', 'folded', ...extra, file, '-o', '-');
        assert.equal(result.status, 0, result.stderr);
        return new Map(
          result.stdout
            .trim()
            .split('\n')
            .map((line) => [line.slice(0, line.lastIndexOf(' ')), Number(line.slice(line.lastIndexOf(' ') + 1))]),
        );
      };
      assert.deepEqual(
        lines(measured),
        new Map([
          ['outer (/app/a.js);leafA (/app/a.js)', 8_000_000],
          ['outer (/app/a.js);leafB (/app/a.js)', 7_000_000],
        ]),
      );
      assert.deepEqual(
        lines(counted),
        new Map([
          ['outer (/app/a.js);leafA (/app/a.js)', 20_000_000],
          ['outer (/app/a.js);leafB (/app/a.js)', 10_000_000],
        ]),
      );
      assert.deepEqual([...lines(measured, '--value', 'samples').values()], [2, 1]);
    });

    for (const asBytes of [false, true]) {
      it(`should charge a sample to its active-span attribute (${asBytes ? 'bytes' : 'hex string'}) rather than its link's span`, () => {
        const file = join(work, `active-${asBytes}.jsonl`);
        writeFileSync(
          file,
          JSON.stringify(syntheticRequest({ cpuValues: true, activeSpanAttribute: '00f067aa0ba902b7', activeSpanAsBytes: asBytes })) + '\n',
        );
        const own = cli('convert', '--to', 'folded', '--span', '00f067aa0ba902b7', '--self', file, '-o', '-');
        assert.equal(own.status, 0, own.stderr);
        assert.match(own.stdout, /leafA/);
        // The link's span (the local root) still gets them as its descendants' samples...
        assert.equal(cli('convert', '--to', 'folded', '--span', 'b7ad6b7169203331', file, '-o', '-').status, 0);
        // ...but none as its own.
        assert.equal(cli('convert', '--to', 'folded', '--span', 'b7ad6b7169203331', '--self', file, '-o', '-').status, 4);
      });
    }
  });

  describe('--to cpuprofile', () => {
    it("should write a .cpuprofile whose time adds up to the profiles' CPU time", () => {
      const out = join(work, 'all.cpuprofile');
      assert.equal(cli('convert', '--to', 'cpuprofile', run.profilesFile, '-o', out).status, 0);
      const profile = JSON.parse(readFileSync(out, 'utf8')) as {
        nodes: { id: number; callFrame: { functionName: string }; hitCount: number; children: number[] }[];
        samples: number[];
        timeDeltas: number[];
        startTime: number;
        endTime: number;
      };
      const input = new SampleSet();
      for (const { request } of readOtlpFiles([run.profilesFile]).profiles) input.addRequest(request);
      const cpuMicros = input.samples.reduce((sum, s) => sum + s.cpuNanos, 0) / 1000;
      assert.ok(Math.abs(profile.endTime - profile.startTime - cpuMicros) <= 1, `${profile.endTime - profile.startTime} vs ${cpuMicros}`);
      assert.equal(profile.samples.length, profile.timeDeltas.length);
      assert.equal(
        profile.samples.length,
        input.samples.reduce((sum, s) => sum + s.timestampsUnixNano.length, 0),
      );
      const ids = new Set(profile.nodes.map((n) => n.id));
      for (const id of profile.samples) assert.ok(ids.has(id));
      const names = new Set(profile.nodes.map((n) => n.callFrame.functionName));
      for (const fn of ['(root)', 'deriveKeyChain', 'parseAccessLogDates', 'buildInventoryReport']) assert.ok(names.has(fn), fn);
    });
  });

  describe('inputs', () => {
    it("should read the Collector file exporter's protobuf framing and a gzipped raw protobuf body", () => {
      // Two messages in the file, whatever the number of export lines the service wrote.
      const lines = readOtlpFiles([run.profilesFile]).profiles;
      const json = [lines[0], lines[lines.length - 1]];
      // The same requests as protobuf, encoded by the exporter's encoder.
      const pbBodies = json.map(({ request }) => encodeRequestProtobuf(jsonToModel(request)));
      const framed = Buffer.concat(
        pbBodies.flatMap((body) => [
          Buffer.from([(body.length >>> 24) & 255, (body.length >>> 16) & 255, (body.length >>> 8) & 255, body.length & 255]),
          Buffer.from(body),
        ]),
      );
      const framedFile = join(work, 'collector.pb');
      writeFileSync(framedFile, framed);
      const rawFile = join(work, 'body.pb.gz');
      writeFileSync(rawFile, gzipSync(pbBodies[0]));
      const fromJson = new SampleSet();
      for (const { request } of json) fromJson.addRequest(request);
      const fromFramed = new SampleSet();
      for (const { request } of readOtlpFiles([framedFile]).profiles) fromFramed.addRequest(request);
      assert.equal(fromFramed.samples.length, fromJson.samples.length);
      assert.deepEqual(
        fromFramed.samples.map((s) => [s.traceId, s.spanId, s.count, s.stack.map((id) => fromFramed.frames[id].name).join(';')]),
        fromJson.samples.map((s) => [s.traceId, s.spanId, s.count, s.stack.map((id) => fromJson.frames[id].name).join(';')]),
      );
      const result = cli('convert', '--to', 'folded', rawFile, '-o', '-');
      assert.equal(result.status, 0, result.stderr);
      assert.ok(result.stdout.length > 0);
    });
    it("should read the Collector file exporter's compression: zstd output (JSON and protobuf messages) where Node.js has zstd, and say so elsewhere (issue 21 §5)", function () {
      const zstdNode = nodeWithZstd();
      if (zstdNode === undefined) this.skip(); // no Node.js with zstd on this platform
      const lines = readOtlpFiles([run.profilesFile]).profiles;
      const json = [lines[0], lines[lines.length - 1]];
      const plainFile = join(work, 'plain.jsonl');
      writeFileSync(plainFile, json.map(({ request }) => JSON.stringify(request)).join('\n') + '\n');
      // format: json and format: proto, both with compression: zstd: one zstd frame per message.
      const messages = [Buffer.from(JSON.stringify(json[0].request)), Buffer.from(encodeRequestProtobuf(jsonToModel(json[1].request)))];
      const zstdFile = join(work, 'collector-zstd.pb');
      writeFileSync(zstdFile, framed(zstdFrames(zstdNode!, messages)));
      // A whole file compressed with the zstd tool.
      const wholeFile = join(work, 'plain.jsonl.zst');
      writeFileSync(wholeFile, zstdFrames(zstdNode!, [readFileSync(plainFile)])[0]);
      const convert = (node: string, file: string) =>
        spawnSync(node, [BIN, 'convert', '--to', 'folded', file, '-o', '-'], { encoding: 'utf8' });
      const expected = convert(process.execPath, plainFile);
      assert.equal(expected.status, 0, expected.stderr);
      assert.ok(expected.stdout.length > 0);
      for (const file of [zstdFile, wholeFile]) {
        const result = convert(zstdNode!, file);
        assert.equal(result.status, 0, result.stderr);
        assert.equal(result.stdout, expected.stdout, file);
      }
      if (zstdNode === process.execPath) return; // this Node.js has zstd: the message below is for older ones
      const refused = convert(process.execPath, zstdFile);
      assert.equal(refused.status, 3);
      assert.match(
        refused.stderr,
        /collector-zstd\.pb: message 1: is zstd-compressed, which this Node\.js \(v\d+[.\d]*\) cannot decompress \(Node\.js 22\.15 or newer can\)/,
      );
    });
  });

  describe('errors and exit codes', () => {
    it('should name the file and line of bad JSON and exit 3', () => {
      const file = join(work, 'bad.jsonl');
      writeFileSync(file, readFileSync(run.profilesFile, 'utf8').split('\n')[0] + '\n{"resourceProfiles": [\n');
      const result = cli('convert', '--to', 'folded', file, '-o', join(work, 'x'));
      assert.equal(result.status, 3);
      assert.match(result.stderr, new RegExp(`bad\\.jsonl:2: not valid JSON`));
    });

    it('should say what is wrong with a JSON line that is not OTLP, and with a bad index', () => {
      const file = join(work, 'nototlp.jsonl');
      writeFileSync(file, '{"hello": 1}\n');
      const result = cli('convert', '--to', 'folded', file, '-o', '-');
      assert.equal(result.status, 3);
      assert.match(result.stderr, /nototlp\.jsonl:1: not an OTLP profiles or traces request .*keys: hello/);
      const bad = syntheticRequest({ cpuValues: true }) as {
        resourceProfiles: { scopeProfiles: { profiles: { samples: { stackIndex: number }[] }[] }[] }[];
      };
      bad.resourceProfiles[0].scopeProfiles[0].profiles[0].samples[1].stackIndex = 9;
      const badIndex = join(work, 'badindex.jsonl');
      writeFileSync(badIndex, JSON.stringify(bad) + '\n');
      const indexResult = cli('convert', '--to', 'folded', badIndex, '-o', '-');
      assert.equal(indexResult.status, 3);
      assert.match(indexResult.stderr, /badindex\.jsonl:1: sample 1: stack_index 9 is outside its table \(3 entries\)/);
    });

    it('should exit 2 on a bad command line and 4 when no sample matches', () => {
      assert.equal(cli('convert', run.profilesFile, '-o', '-').status, 2);
      assert.equal(cli('convert', '--to', 'svg', run.profilesFile, '-o', '-').status, 2);
      assert.equal(cli('convert', '--to', 'folded', '--bogus', run.profilesFile, '-o', '-').status, 2);
      assert.equal(cli('convert', '--to', 'folded', '--span', 'xyz', run.profilesFile, '-o', '-').status, 2);
      assert.equal(cli('frobnicate').status, 2);
      assert.equal(cli('convert', '--to', 'folded', join(work, 'missing.jsonl'), '-o', '-').status, 3);
      const none = cli('convert', '--to', 'folded', '--root-name', 'no such route', run.profilesFile, '-o', '-');
      assert.equal(none.status, 4);
      assert.match(none.stderr, /no sample matched/);
    });

    it('should print help for each command with exit 0', () => {
      for (const args of [['--help'], ['convert', '--help'], ['view', '--help'], ['help', 'view']]) {
        const result = cli(...args);
        assert.equal(result.status, 0, args.join(' '));
        assert.match(result.stdout, /Usage: otel-span-profiler/);
      }
    });
  });
});

/** OTLP JSON (as read) to the exporter's model (ids as bytes, the rest as-is) for re-encoding. */
function jsonToModel(value: unknown, key = ''): any {
  if (Array.isArray(value)) return value.map((item) => jsonToModel(item, key));
  if (typeof value === 'string' && (key === 'traceId' || key === 'spanId')) return Buffer.from(value, 'hex');
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, jsonToModel(v, k)]));
  }
  return value;
}
