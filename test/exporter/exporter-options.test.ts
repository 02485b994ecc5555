import * as assert from 'node:assert/strict';
import type { Environment } from '../../src/exporter/exporter-env';
import { resolveExporterOptions, type OTLPProfileExporterOptions, type ResolvedExporterOptions } from '../../src/exporter/exporter-options';
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
      tls: {},
      httpAgentOptions: { keepAlive: true },
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
      const resolved = resolve(
        {},
        { OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_EXPORTER_OTLP_COMPRESSION: 'gzip', OTEL_EXPORTER_OTLP_TIMEOUT: '7000' },
      );
      assert.deepEqual([resolved.protocol, resolved.compression, resolved.timeoutMillis], ['http/json', 'gzip', 7000]);
    });

    it('should prefer code over env', () => {
      const resolved = resolve(
        { protocol: 'http/protobuf', compression: 'none', timeoutMillis: 1234 },
        {
          OTEL_EXPORTER_OTLP_PROFILES_PROTOCOL: 'http/json',
          OTEL_EXPORTER_OTLP_PROFILES_COMPRESSION: 'gzip',
          OTEL_EXPORTER_OTLP_PROFILES_TIMEOUT: '99',
        },
      );
      assert.deepEqual([resolved.protocol, resolved.compression, resolved.timeoutMillis], ['http/protobuf', 'none', 1234]);
    });
  });

  describe('bad values in env', () => {
    const cases: Array<{
      name: string;
      options?: OTLPProfileExporterOptions;
      env?: Environment;
      field: keyof ResolvedExporterOptions;
      want: unknown;
      warn?: string[];
    }> = [
      {
        name: 'an unknown protocol in env',
        env: { OTEL_EXPORTER_OTLP_PROTOCOL: 'http/thrift' },
        field: 'protocol',
        want: 'http/protobuf',
        warn: [
          "Configuration: OTEL_EXPORTER_OTLP_PROTOCOL is invalid, expected 'http/protobuf', 'http/json' or 'grpc' (actual: 'http/thrift'); using 'http/protobuf'",
        ],
      },
      {
        name: 'a gRPC endpoint that does not parse',
        env: { OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://[::1' },
        field: 'url',
        want: 'http://localhost:4317',
        warn: [
          "Configuration: OTEL_EXPORTER_OTLP_ENDPOINT is invalid, expected an http: or https: URL, or host:port (actual: 'http://[::1'); using 'http://localhost:4317'",
        ],
      },
      {
        name: 'an INSECURE that is not a boolean',
        env: { OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc', OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4317', OTEL_EXPORTER_OTLP_INSECURE: 'yes' },
        field: 'grpc',
        want: { address: 'collector:4317', secure: true },
        warn: ["Configuration: OTEL_EXPORTER_OTLP_INSECURE is invalid, expected 'true' or 'false' (actual: 'yes'); ignoring it"],
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
        warn: [
          `Configuration: OTEL_EXPORTER_OTLP_ENDPOINT is invalid, expected an absolute http: or https: URL (actual: 'http://[::1'); using '${DEFAULT_URL}'`,
        ],
      },
      {
        name: 'an unknown compression in env',
        env: { OTEL_EXPORTER_OTLP_COMPRESSION: 'brotli' },
        field: 'compression',
        want: 'none',
        warn: ["Configuration: OTEL_EXPORTER_OTLP_COMPRESSION is invalid, expected 'gzip' or 'none' (actual: 'brotli'); using 'none'"],
      },
      {
        name: 'a bad signal compression, falling back to the generic one',
        env: { OTEL_EXPORTER_OTLP_PROFILES_COMPRESSION: 'GZIP!', OTEL_EXPORTER_OTLP_COMPRESSION: 'gzip' },
        field: 'compression',
        want: 'gzip',
        warn: [
          "Configuration: OTEL_EXPORTER_OTLP_PROFILES_COMPRESSION is invalid, expected 'gzip' or 'none' (actual: 'GZIP!'); using 'gzip'",
        ],
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
        warn: [
          "Configuration: OTEL_EXPORTER_OTLP_PROFILES_TIMEOUT is invalid, expected a number greater than 0 (actual: 'ten seconds'); using 10000",
        ],
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
    ];
    for (const c of cases) {
      it(`should warn once and use a safe value for ${c.name}`, () => {
        const resolved = resolve(c.options ?? {}, c.env);
        assert.deepEqual(resolved[c.field], c.want);
        assert.deepEqual(recorder.messages('warn'), c.warn ?? []);
        assert.deepEqual(recorder.messages('error'), []);
        for (const record of recorder.records) assert.equal(record.namespace, 'otel-span-profiler/exporter-options');
      });
    }

    it('should not read env for an option given validly in code', () => {
      resolve({ timeoutMillis: 5 }, { OTEL_EXPORTER_OTLP_TIMEOUT: 'garbage' });
      assert.deepEqual(recorder.messages(), []);
    });
  });

  describe('bad values in code', () => {
    const cases: Array<{ name: string; options: unknown; error: RegExp; type: typeof TypeError | typeof RangeError }> = [
      {
        name: 'options that are not an object',
        options: 'http://x',
        type: TypeError,
        error: /^OTLPProfileExporter: expected an options object or nothing, got "http:\/\/x"$/,
      },
      {
        name: 'a malformed url',
        options: { url: 'not a url' },
        type: RangeError,
        error: /^OTLPProfileExporter: option "url" must be an http: or https: URL \(or host:port for gRPC\), got "not a url"$/,
      },
      {
        name: 'a url without a scheme for OTLP/HTTP',
        options: { url: 'collector:4318', protocol: 'http/protobuf' },
        type: RangeError,
        error: /^OTLPProfileExporter: option "url" must be an absolute http: or https: URL, got "collector:4318"$/,
      },
      {
        name: 'a url that is not a string',
        options: { url: 42 },
        type: TypeError,
        error: /^OTLPProfileExporter: option "url" must be a string, got 42$/,
      },
      {
        name: 'an unknown protocol',
        options: { protocol: 'http' },
        type: RangeError,
        error: /^OTLPProfileExporter: option "protocol" must be 'http\/protobuf', 'http\/json' or 'grpc', got "http"$/,
      },
      {
        name: 'an unknown compression',
        options: { compression: 'zstd' },
        type: RangeError,
        error: /^OTLPProfileExporter: option "compression" must be 'gzip' or 'none', got "zstd"$/,
      },
      {
        name: 'a NaN timeout',
        options: { timeoutMillis: NaN },
        type: RangeError,
        error: /^OTLPProfileExporter: option "timeoutMillis" must be a number greater than 0, got NaN$/,
      },
      {
        name: 'a negative timeout',
        options: { timeoutMillis: -1 },
        type: RangeError,
        error: /^OTLPProfileExporter: option "timeoutMillis" must be a number greater than 0, got -1$/,
      },
      { name: 'a timeout given as a string', options: { timeoutMillis: '500' }, type: RangeError, error: /got "500"$/ },
      {
        name: 'headers that are not an object',
        options: { headers: 'a=b' },
        type: TypeError,
        error: /^OTLPProfileExporter: option "headers" must be an object of header names to strings, got "a=b"$/,
      },
      {
        name: 'an invalid header name',
        options: { headers: { 'bad name': 'v' } },
        type: RangeError,
        error: /^OTLPProfileExporter: option "headers" has an invalid header name, expected an HTTP token, got "bad name"$/,
      },
      {
        name: 'a header value that is not a string',
        options: { headers: { 'x-number': 5 } },
        type: TypeError,
        error: /^OTLPProfileExporter: option "headers\['x-number'\]" must be a string without control characters, got number$/,
      },
      // The value itself is not shown: header values are often credentials.
      {
        name: 'a header value with a newline',
        options: { headers: { authorization: 'secret\r\nx' } },
        type: TypeError,
        error:
          /^OTLPProfileExporter: option "headers\['authorization'\]" must be a string without control characters, got a string with control characters$/,
      },
      {
        name: 'agent options that are not an object',
        options: { httpAgentOptions: true },
        type: TypeError,
        error: /^OTLPProfileExporter: option "httpAgentOptions" must be an object of http.Agent options, got true$/,
      },
    ];
    for (const c of cases) {
      it(`should throw a ${c.type.name} naming the option for ${c.name}`, () => {
        assert.throws(
          () => resolve(c.options as OTLPProfileExporterOptions, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://generic:4318' }),
          (error: Error) => {
            assert.ok(error instanceof c.type, `${error.name}: ${error.message}`);
            assert.match(error.message, c.error);
            return true;
          },
        );
        assert.deepEqual(recorder.messages(), []);
      });
    }
  });

  describe('grpc', () => {
    const cases: Array<{
      name: string;
      options?: OTLPProfileExporterOptions;
      env?: Environment;
      url: string;
      grpc: { address: string; secure: boolean };
    }> = [
      {
        name: 'the default endpoint, plaintext',
        options: { protocol: 'grpc' },
        url: 'http://localhost:4317',
        grpc: { address: 'localhost:4317', secure: false },
      },
      {
        name: 'both endpoint variables as they are, signal-specific first, without the profiles path',
        env: { OTEL_EXPORTER_OTLP_PROFILES_PROTOCOL: 'grpc', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://generic:4317' },
        url: 'http://generic:4317',
        grpc: { address: 'generic:4317', secure: false },
      },
      {
        name: 'TLS for https://',
        env: {
          OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
          OTEL_EXPORTER_OTLP_PROFILES_ENDPOINT: 'https://signal:4317',
          OTEL_EXPORTER_OTLP_INSECURE: 'true',
        },
        url: 'https://signal:4317',
        grpc: { address: 'signal:4317', secure: true },
      },
      {
        name: 'TLS for host:port without INSECURE',
        options: { protocol: 'grpc', url: 'collector:4317' },
        url: 'collector:4317',
        grpc: { address: 'collector:4317', secure: true },
      },
      {
        name: 'plaintext for host:port with OTEL_EXPORTER_OTLP_PROFILES_INSECURE=true',
        options: { protocol: 'grpc', url: 'collector:4317' },
        env: { OTEL_EXPORTER_OTLP_PROFILES_INSECURE: ' TRUE ', OTEL_EXPORTER_OTLP_INSECURE: 'false' },
        url: 'collector:4317',
        grpc: { address: 'collector:4317', secure: false },
      },
      {
        name: 'a bare host:port from code when env picks grpc',
        options: { url: '127.0.0.1:4317' },
        env: { OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc', OTEL_EXPORTER_OTLP_INSECURE: 'true' },
        url: '127.0.0.1:4317',
        grpc: { address: '127.0.0.1:4317', secure: false },
      },
    ];
    for (const c of cases) {
      it(`should take ${c.name}`, () => {
        const resolved = resolve(c.options ?? {}, c.env);
        assert.equal(resolved.protocol, 'grpc');
        assert.equal(resolved.url, c.url);
        assert.deepEqual(resolved.grpc, c.grpc);
        assert.deepEqual(recorder.messages(), []);
      });
    }

    it('should warn that a path in a gRPC endpoint is ignored', () => {
      const resolved = resolve({ protocol: 'grpc', url: 'http://collector:4317/v1development/profiles' });
      assert.deepEqual(resolved.grpc, { address: 'collector:4317', secure: false });
      assert.deepEqual(recorder.messages('warn'), [
        "Configuration: the gRPC endpoint 'http://collector:4317/v1development/profiles' has a path, which gRPC does not use; ignoring '/v1development/profiles'",
      ]);
    });

    it('should not use a bare host:port from code when env picks OTLP/HTTP, and say so', () => {
      const resolved = resolve({ url: 'collector:4318' }, { OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' });
      assert.equal(resolved.url, DEFAULT_URL);
      assert.deepEqual(recorder.messages('warn'), [
        `Configuration: url 'collector:4318' needs a scheme for http/json (chosen by the environment); using '${DEFAULT_URL}'`,
      ]);
    });
  });

  describe('certificates', () => {
    const pem = (label: string): string => `-----BEGIN ${label}-----`;
    const files: Record<string, string> = {
      '/certs/ca.pem': pem('CA'),
      '/certs/client.pem': pem('CERT'),
      '/certs/client.key': pem('KEY'),
      '/certs/profiles-ca.pem': pem('PROFILES-CA'),
      '/certs/readme.txt': 'not a certificate',
    };
    const readFile = (file: string): Buffer => {
      if (!(file in files)) throw new Error(`ENOENT: no such file or directory, open '${file}'`);
      return Buffer.from(files[file]);
    };
    const text = (tls: object): Record<string, string> =>
      Object.fromEntries(Object.entries(tls).map(([k, v]) => [k, (v as Buffer).toString()]));

    it('should read the files the variables name, signal-specific first, into agent options and tls', () => {
      const resolved = resolveExporterOptions(
        { httpAgentOptions: { maxSockets: 4 } },
        {
          OTEL_EXPORTER_OTLP_CERTIFICATE: '/certs/ca.pem',
          OTEL_EXPORTER_OTLP_PROFILES_CERTIFICATE: '/certs/profiles-ca.pem',
          OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE: '/certs/client.pem',
          OTEL_EXPORTER_OTLP_PROFILES_CLIENT_KEY: '/certs/client.key',
        },
        readFile,
      );
      assert.deepEqual(text(resolved.tls), { ca: pem('PROFILES-CA'), cert: pem('CERT'), key: pem('KEY') });
      const { ca, cert, key, ...rest } = resolved.httpAgentOptions as Record<string, unknown>;
      assert.deepEqual(text({ ca, cert, key }), { ca: pem('PROFILES-CA'), cert: pem('CERT'), key: pem('KEY') });
      assert.deepEqual(rest, { keepAlive: true, maxSockets: 4 });
      assert.deepEqual(recorder.messages(), []);
    });

    it('should let agent options from code override the certificate files', () => {
      const resolved = resolveExporterOptions(
        { httpAgentOptions: { ca: 'FROM-CODE', keepAlive: false } },
        { OTEL_EXPORTER_OTLP_CERTIFICATE: '/certs/ca.pem' },
        readFile,
      );
      assert.equal((resolved.httpAgentOptions as { ca: unknown }).ca, 'FROM-CODE');
      assert.equal(resolved.httpAgentOptions.keepAlive, false);
    });

    it('should warn about a file that cannot be read and go on without it', () => {
      const resolved = resolveExporterOptions({}, { OTEL_EXPORTER_OTLP_CERTIFICATE: '/certs/missing.pem' }, readFile);
      assert.deepEqual(resolved.tls, {});
      assert.deepEqual(recorder.messages('warn'), [
        "Configuration: OTEL_EXPORTER_OTLP_CERTIFICATE names a file that cannot be read (actual: '/certs/missing.pem': ENOENT: no such file or directory, open '/certs/missing.pem'); not using it",
      ]);
    });

    it('should warn about a file that is not PEM and go on without it', () => {
      const resolved = resolveExporterOptions(
        {},
        { OTEL_EXPORTER_OTLP_PROFILES_CLIENT_KEY: '/certs/readme.txt', OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE: '/certs/client.pem' },
        readFile,
      );
      assert.deepEqual(resolved.tls, {});
      assert.deepEqual(recorder.messages('warn'), [
        "Configuration: OTEL_EXPORTER_OTLP_PROFILES_CLIENT_KEY is invalid, expected a PEM file (actual: '/certs/readme.txt', no -----BEGIN line); not using it",
        'Configuration: a client certificate needs both OTEL_EXPORTER_OTLP_[PROFILES_]CLIENT_CERTIFICATE and ..._CLIENT_KEY, but only the certificate was given; not using it',
      ]);
    });

    it('should drop a client certificate without its key, with a warning', () => {
      const resolved = resolveExporterOptions(
        {},
        { OTEL_EXPORTER_OTLP_CERTIFICATE: '/certs/ca.pem', OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE: '/certs/client.pem' },
        readFile,
      );
      assert.deepEqual(text(resolved.tls), { ca: pem('CA') });
      assert.deepEqual(recorder.messages('warn'), [
        'Configuration: a client certificate needs both OTEL_EXPORTER_OTLP_[PROFILES_]CLIENT_CERTIFICATE and ..._CLIENT_KEY, but only the certificate was given; not using it',
      ]);
    });
  });
});
