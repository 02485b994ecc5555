import * as assert from 'node:assert/strict';
import {
  resolveExporterOptions,
  type Environment,
  type OTLPProfileExporterOptions,
  type ResolvedExporterOptions,
} from '../../src/exporter/exporter-options';
import { DiagRecorder } from '../helpers/diag-recorder';

const DEFAULT_URL = 'http://localhost:4318/v1development/profiles';

describe('resolveExporterOptions', () => {
  let recorder: DiagRecorder;
  beforeEach(() => {
    recorder = new DiagRecorder().install();
  });
  afterEach(() => recorder.uninstall());

  function resolve(options: OTLPProfileExporterOptions, env: Environment = {}): ResolvedExporterOptions {
    return resolveExporterOptions(options, env);
  }

  it('should use the defaults when nothing is configured', () => {
    assert.deepEqual(resolve({}), {
      url: DEFAULT_URL,
      protocol: 'http/protobuf',
      headers: {},
      compression: 'none',
      timeoutMillis: 10000,
    });
    assert.deepEqual(recorder.messages(), []);
  });

  describe('url', () => {
    const cases: Array<{ name: string; options?: OTLPProfileExporterOptions; env?: Environment; want: string }> = [
      { name: 'code url as is', options: { url: 'https://collector:4318/custom/path' }, want: 'https://collector:4318/custom/path' },
      {
        name: 'signal-specific env as is',
        env: { OTEL_EXPORTER_OTLP_PROFILES_ENDPOINT: 'http://signal:4318/ingest' },
        want: 'http://signal:4318/ingest',
      },
      {
        name: 'signal-specific env with only a root path added, like the trace exporters',
        env: { OTEL_EXPORTER_OTLP_PROFILES_ENDPOINT: 'http://signal:4318' },
        want: 'http://signal:4318/',
      },
      {
        name: 'generic env with the profiles path appended',
        env: { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://generic:4318' },
        want: 'http://generic:4318/v1development/profiles',
      },
      {
        name: 'generic env ending in a slash without a double slash',
        env: { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://generic:4318/' },
        want: 'http://generic:4318/v1development/profiles',
      },
      {
        name: 'generic env with a path prefix kept',
        env: { OTEL_EXPORTER_OTLP_ENDPOINT: 'https://gateway/otlp' },
        want: 'https://gateway/otlp/v1development/profiles',
      },
      {
        name: 'signal-specific env over generic env',
        env: { OTEL_EXPORTER_OTLP_PROFILES_ENDPOINT: 'http://signal/p', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://generic' },
        want: 'http://signal/p',
      },
      {
        name: 'code over both env variables',
        options: { url: 'http://code/p' },
        env: { OTEL_EXPORTER_OTLP_PROFILES_ENDPOINT: 'http://signal/p', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://generic' },
        want: 'http://code/p',
      },
      { name: 'the default for a blank env variable', env: { OTEL_EXPORTER_OTLP_ENDPOINT: '  ' }, want: DEFAULT_URL },
    ];
    for (const c of cases) {
      it(`should take the ${c.name}`, () => {
        assert.equal(resolve(c.options ?? {}, c.env).url, c.want);
        assert.deepEqual(recorder.messages(), []);
      });
    }
  });

  describe('headers', () => {
    it('should merge generic < signal-specific < code, URL-decoded, names lower-cased', () => {
      const resolved = resolve(
        { headers: { 'X-Code': 'c', 'X-Shared': 'from-code' } },
        {
          OTEL_EXPORTER_OTLP_HEADERS: 'x-generic=g,x-shared=from-generic,x-signal-over=generic',
          OTEL_EXPORTER_OTLP_PROFILES_HEADERS: 'Authorization=Basic%20dXNlcjpwYXNz,x-signal-over=signal',
        },
      );
      assert.deepEqual(resolved.headers, {
        'x-generic': 'g',
        'x-shared': 'from-code',
        'x-signal-over': 'signal',
        authorization: 'Basic dXNlcjpwYXNz',
        'x-code': 'c',
      });
      assert.deepEqual(recorder.messages(), []);
    });
  });

  describe('protocol, compression and timeoutMillis', () => {
    it('should prefer signal-specific env over generic env', () => {
      const resolved = resolve(
        {},
        {
          OTEL_EXPORTER_OTLP_PROFILES_PROTOCOL: 'http/json',
          OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
          OTEL_EXPORTER_OTLP_PROFILES_COMPRESSION: 'gzip',
          OTEL_EXPORTER_OTLP_COMPRESSION: 'none',
          OTEL_EXPORTER_OTLP_PROFILES_TIMEOUT: '2500',
          OTEL_EXPORTER_OTLP_TIMEOUT: '7000',
        },
      );
      assert.equal(resolved.protocol, 'http/json');
      assert.equal(resolved.compression, 'gzip');
      assert.equal(resolved.timeoutMillis, 2500);
    });

    it('should fall back to generic env', () => {
      const resolved = resolve({}, { OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_EXPORTER_OTLP_COMPRESSION: 'gzip', OTEL_EXPORTER_OTLP_TIMEOUT: '7000' });
      assert.deepEqual([resolved.protocol, resolved.compression, resolved.timeoutMillis], ['http/json', 'gzip', 7000]);
    });

    it('should prefer code over env', () => {
      const resolved = resolve(
        { protocol: 'http/protobuf', compression: 'none', timeoutMillis: 1234 },
        { OTEL_EXPORTER_OTLP_PROFILES_PROTOCOL: 'http/json', OTEL_EXPORTER_OTLP_PROFILES_COMPRESSION: 'gzip', OTEL_EXPORTER_OTLP_PROFILES_TIMEOUT: '99' },
      );
      assert.deepEqual([resolved.protocol, resolved.compression, resolved.timeoutMillis], ['http/protobuf', 'none', 1234]);
    });
  });

  describe('bad values', () => {
    const cases: Array<{
      name: string;
      options?: OTLPProfileExporterOptions;
      env?: Environment;
      field: keyof ResolvedExporterOptions;
      want: unknown;
      warn?: string[];
      error?: string[];
    }> = [
      {
        name: 'a malformed code url, falling back to env',
        options: { url: 'not a url' },
        env: { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://generic:4318' },
        field: 'url',
        want: 'http://generic:4318/v1development/profiles',
        error: [
          "Configuration: url is invalid, expected an absolute http: or https: URL (actual: 'not a url'); using 'http://generic:4318/v1development/profiles'",
        ],
      },
      {
        name: 'a signal endpoint without a scheme',
        env: { OTEL_EXPORTER_OTLP_PROFILES_ENDPOINT: 'localhost:4318' },
        field: 'url',
        want: DEFAULT_URL,
        warn: [
          `Configuration: OTEL_EXPORTER_OTLP_PROFILES_ENDPOINT is invalid, expected an absolute http: or https: URL (actual: 'localhost:4318'); using '${DEFAULT_URL}'`,
        ],
      },
      {
        name: 'a generic endpoint that does not parse',
        env: { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://[::1' },
        field: 'url',
        want: DEFAULT_URL,
        warn: [`Configuration: OTEL_EXPORTER_OTLP_ENDPOINT is invalid, expected an absolute http: or https: URL (actual: 'http://[::1'); using '${DEFAULT_URL}'`],
      },
      {
        name: 'an unknown compression in env',
        env: { OTEL_EXPORTER_OTLP_COMPRESSION: 'brotli' },
        field: 'compression',
        want: 'none',
        warn: ["Configuration: OTEL_EXPORTER_OTLP_COMPRESSION is invalid, expected 'gzip' or 'none' (actual: 'brotli'); using 'none'"],
      },
      {
        name: 'an unknown compression in code',
        options: { compression: 'zstd' as never },
        field: 'compression',
        want: 'none',
        error: ["Configuration: compression is invalid, expected 'gzip' or 'none' (actual: 'zstd'); using 'none'"],
      },
      {
        name: 'a bad signal compression, falling back to the generic one',
        env: { OTEL_EXPORTER_OTLP_PROFILES_COMPRESSION: 'GZIP!', OTEL_EXPORTER_OTLP_COMPRESSION: 'gzip' },
        field: 'compression',
        want: 'gzip',
        warn: ["Configuration: OTEL_EXPORTER_OTLP_PROFILES_COMPRESSION is invalid, expected 'gzip' or 'none' (actual: 'GZIP!'); using 'gzip'"],
      },
      {
        name: 'a negative timeout in env',
        env: { OTEL_EXPORTER_OTLP_TIMEOUT: '-5' },
        field: 'timeoutMillis',
        want: 10000,
        warn: ["Configuration: OTEL_EXPORTER_OTLP_TIMEOUT is invalid, expected a number greater than 0 (actual: '-5'); using 10000"],
      },
      {
        name: 'a timeout that is not a number in env',
        env: { OTEL_EXPORTER_OTLP_PROFILES_TIMEOUT: 'ten seconds' },
        field: 'timeoutMillis',
        want: 10000,
        warn: ["Configuration: OTEL_EXPORTER_OTLP_PROFILES_TIMEOUT is invalid, expected a number greater than 0 (actual: 'ten seconds'); using 10000"],
      },
      {
        name: 'a NaN timeout in code, falling back to env',
        options: { timeoutMillis: NaN },
        env: { OTEL_EXPORTER_OTLP_TIMEOUT: '2000' },
        field: 'timeoutMillis',
        want: 2000,
        error: ['Configuration: timeoutMillis is invalid, expected a number greater than 0 (actual: NaN); using 2000'],
      },
      {
        name: 'a negative timeout in code',
        options: { timeoutMillis: -1 },
        field: 'timeoutMillis',
        want: 10000,
        error: ['Configuration: timeoutMillis is invalid, expected a number greater than 0 (actual: -1); using 10000'],
      },
      {
        name: 'grpc, which this exporter cannot speak',
        env: { OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' },
        field: 'protocol',
        want: 'http/protobuf',
        warn: ["Configuration: OTEL_EXPORTER_OTLP_PROTOCOL is invalid, expected 'http/protobuf' or 'http/json' (actual: 'grpc'); using 'http/protobuf'"],
      },
      {
        name: 'malformed env header entries, keeping the good ones',
        env: { OTEL_EXPORTER_OTLP_HEADERS: 'x-good=1,no-equals-sign,x-bad=%E0%A4%A,bad name=2' },
        field: 'headers',
        want: { 'x-good': '1' },
        warn: [
          'Configuration: OTEL_EXPORTER_OTLP_HEADERS has 3 malformed entries, expected comma-separated key=value pairs with URL-encoded values; ignoring them',
        ],
      },
      {
        name: 'bad code headers, keeping the good ones',
        options: { headers: { 'x-good': 'yes', 'bad name': 'v', 'x-number': 5 as never, 'x-newline': 'a\r\nb' } },
        field: 'headers',
        want: { 'x-good': 'yes' },
        error: [
          "Configuration: headers has an invalid header name, expected an HTTP token (actual: 'bad name'); ignoring it",
          "Configuration: headers['x-number'] is invalid, expected a string without control characters; ignoring it",
          "Configuration: headers['x-newline'] is invalid, expected a string without control characters; ignoring it",
        ],
      },
    ];
    for (const c of cases) {
      it(`should log and use a safe value for ${c.name}`, () => {
        const resolved = resolve(c.options ?? {}, c.env);
        assert.deepEqual(resolved[c.field], c.want);
        assert.deepEqual(recorder.messages('warn'), c.warn ?? []);
        assert.deepEqual(recorder.messages('error'), c.error ?? []);
        for (const record of recorder.records) assert.equal(record.namespace, 'otel-span-profiler/exporter-options');
      });
    }

    it('should not read env for an option given validly in code', () => {
      resolve({ timeoutMillis: 5 }, { OTEL_EXPORTER_OTLP_TIMEOUT: 'garbage' });
      assert.deepEqual(recorder.messages(), []);
    });
  });
});
