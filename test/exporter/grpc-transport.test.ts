import * as assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import * as http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import * as zlib from 'node:zlib';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { GRPC_EXPORT_PATH } from '../../src/exporter/exporter-options';
import { createGrpcTransport, type GrpcTransportOptions } from '../../src/exporter/grpc-transport';
import { OTLPProfileExporter } from '../../src/exporter/otlp-profile-exporter';
import { createRetryingTransport } from '../../src/exporter/retrying-transport';
import { DiagRecorder } from '../helpers/diag-recorder';
import { decodeWithBuf, encodeWithBuf } from '../helpers/decode-buf';
import { makeProfiles, START_UNIX_NANO } from '../helpers/synthetic-profiles';
import { LoopbackGrpcServer } from './loopback-grpc-server';

/** Protobuf wire helpers for a google.rpc.Status with a RetryInfo detail, written by hand. */
function varint(value: number): Buffer {
  const bytes: number[] = [];
  while (value >= 0x80) {
    bytes.push((value % 0x80) | 0x80);
    value = Math.floor(value / 0x80);
  }
  bytes.push(value);
  return Buffer.from(bytes);
}
function lengthDelimited(field: number, body: Buffer): Buffer {
  return Buffer.concat([varint(field * 8 + 2), varint(body.length), body]);
}
function statusWithRetryInfo(code: number, seconds: number, nanos: number): Buffer {
  const duration = Buffer.concat([varint(8), varint(seconds), varint(16), varint(nanos)]);
  const any = Buffer.concat([
    lengthDelimited(1, Buffer.from('type.googleapis.com/google.rpc.RetryInfo')),
    lengthDelimited(2, lengthDelimited(1, duration)),
  ]);
  return Buffer.concat([varint(8), varint(code), lengthDelimited(2, Buffer.from('slow down')), lengthDelimited(3, any)]);
}
function trailer(details: Buffer): grpc.Metadata {
  const metadata = new grpc.Metadata();
  metadata.set('grpc-status-details-bin', details);
  return metadata;
}

describe('gRPC transport (loopback gRPC server)', () => {
  let server: LoopbackGrpcServer;
  let recorder: DiagRecorder;
  const transports: Array<{ shutdown(): void }> = [];

  function transport(overrides: Partial<GrpcTransportOptions> = {}) {
    const created = createGrpcTransport({
      address: server.address,
      secure: false,
      tls: {},
      methodPath: GRPC_EXPORT_PATH,
      metadata: {},
      compression: 'none',
      userAgent: 'otel-span-profiler/test',
      ...overrides,
    });
    transports.push(created);
    return created;
  }

  beforeEach(async () => {
    recorder = new DiagRecorder().install();
    server = await new LoopbackGrpcServer().start();
  });

  afterEach(async () => {
    for (const t of transports.splice(0)) t.shutdown();
    await server.stop();
    recorder.uninstall();
  });

  describe('send', () => {
    it('should send the bytes, the metadata and our user agent, and return the response', async () => {
      server.answer(() => ({ response: Buffer.from([0x0a, 0x00]) }));
      const response = await transport({ metadata: { authorization: 'Bearer t', 'x-tenant': 'a' } }).send(Buffer.from('hello'), 5000);
      assert.deepEqual(response, { status: 'success', body: Buffer.from([0x0a, 0x00]), contentType: 'application/x-protobuf' });
      assert.equal(server.calls[0].body.toString(), 'hello');
      assert.equal(server.calls[0].metadata.authorization, 'Bearer t');
      assert.equal(server.calls[0].metadata['x-tenant'], 'a');
      assert.match(String(server.calls[0].metadata['user-agent']), /^otel-span-profiler\/test grpc-node-js\//);
    });

    const codes: Array<[string, grpc.status, 'retryable' | 'failure']> = [
      ['UNAVAILABLE', grpc.status.UNAVAILABLE, 'retryable'],
      ['CANCELLED', grpc.status.CANCELLED, 'retryable'],
      ['DEADLINE_EXCEEDED', grpc.status.DEADLINE_EXCEEDED, 'retryable'],
      ['ABORTED', grpc.status.ABORTED, 'retryable'],
      ['OUT_OF_RANGE', grpc.status.OUT_OF_RANGE, 'retryable'],
      ['DATA_LOSS', grpc.status.DATA_LOSS, 'retryable'],
      ['RESOURCE_EXHAUSTED without RetryInfo', grpc.status.RESOURCE_EXHAUSTED, 'failure'],
      ['INVALID_ARGUMENT', grpc.status.INVALID_ARGUMENT, 'failure'],
      ['UNAUTHENTICATED', grpc.status.UNAUTHENTICATED, 'failure'],
      ['UNIMPLEMENTED', grpc.status.UNIMPLEMENTED, 'failure'],
    ];
    for (const [name, code, want] of codes) {
      it(`should map ${name} to '${want}'`, async () => {
        server.answer(() => ({ error: { code, details: 'because' } }));
        const response = await transport().send(Buffer.from('x'), 5000);
        assert.equal(response.status, want);
        assert.match((response as { error: Error }).error.message, new RegExp(`^gRPC status ${grpc.status[code]} \\(${code}\\): because$`));
      });
    }

    it("should retry RESOURCE_EXHAUSTED that carries RetryInfo, after the server's delay", async () => {
      server.answer(() => ({
        error: { code: grpc.status.RESOURCE_EXHAUSTED, details: 'slow down', metadata: trailer(statusWithRetryInfo(8, 1, 500_000_000)) },
      }));
      const response = await transport().send(Buffer.from('x'), 5000);
      assert.equal(response.status, 'retryable');
      assert.equal((response as { retryAfterMillis?: number }).retryAfterMillis, 1500);
    });

    it('should resolve with an unsuccessful response, not throw, when the TLS material is not PEM', async () => {
      const response = await transport({ secure: true, tls: { ca: Buffer.from('not a certificate') } }).send(Buffer.from('x'), 2000);
      assert.notEqual(response.status, 'success');
      assert.equal(server.calls.length, 0);
    });

    it('should call a server that is not listening retryable', async () => {
      const address = server.address;
      await server.stop();
      const response = await createRetryingTransport(transport({ address }), { maxAttempts: 1 }).send(Buffer.from('x'), 2000);
      assert.equal(response.status, 'retryable');
      assert.match((response as { error: Error }).error.message, /gRPC status UNAVAILABLE \(14\)/);
    });

    it('should retry until the server recovers, through the retrying transport', async () => {
      server.answer(
        () => ({ error: { code: grpc.status.UNAVAILABLE, details: 'starting' } }),
        () => ({ error: { code: grpc.status.UNAVAILABLE, details: 'starting' } }),
      );
      const retrying = createRetryingTransport(transport(), { initialBackoffMillis: 10, random: () => 0.5 });
      const response = await retrying.send(Buffer.from('x'), 10_000);
      assert.equal(response.status, 'success');
      assert.equal(server.calls.length, 3);
    });
  });

  describe('through OTLPProfileExporter', () => {
    function exportOnce(options: ConstructorParameters<typeof OTLPProfileExporter>[0]): Promise<ExportResult> {
      const exporter = new OTLPProfileExporter({ protocol: 'grpc', url: `http://${server.address}`, ...options });
      return new Promise<ExportResult>((resolve) => exporter.export(makeProfiles(3), resolve)).finally(() => exporter.shutdown());
    }

    it('should send a protobuf request that buf decodes, with headers as metadata', async () => {
      const result = await exportOnce({ headers: { 'x-scope-orgid': 'tenant-1' } });
      assert.equal(result.code, ExportResultCode.SUCCESS, result.error?.message);
      const decoded = decodeWithBuf(server.calls[0].body);
      assert.ok(JSON.stringify(decoded).includes(`"${START_UNIX_NANO}"`));
      assert.equal(server.calls[0].metadata['x-scope-orgid'], 'tenant-1');
    });

    describe('binary metadata names (-bin), issue 21 §4', () => {
      afterEach(() => {
        delete process.env.OTEL_EXPORTER_OTLP_HEADERS;
      });

      it('should warn at construction about a -bin header from the environment, ignore it, and export', async () => {
        process.env.OTEL_EXPORTER_OTLP_HEADERS = 'x-foo-bin=c2VjcmV0,x-scope-orgid=tenant-1';
        const exporter = new OTLPProfileExporter({ protocol: 'grpc', url: `http://${server.address}` });
        assert.deepEqual(recorder.messages('warn'), [
          'Configuration: OTEL_EXPORTER_OTLP_HEADERS has x-foo-bin, binary gRPC metadata (a name ending in -bin), which a variable cannot carry; ignoring it',
        ]);
        const result = await new Promise<ExportResult>((resolve) => exporter.export(makeProfiles(1), resolve)).finally(() =>
          exporter.shutdown(),
        );
        assert.equal(result.code, ExportResultCode.SUCCESS, result.error?.message);
        assert.equal(server.calls[0].metadata['x-scope-orgid'], 'tenant-1');
        assert.equal(server.calls[0].metadata['x-foo-bin'], undefined);
      });

      it('should throw at construction for a -bin header given in code', () => {
        assert.throws(
          () => new OTLPProfileExporter({ protocol: 'grpc', url: `http://${server.address}`, headers: { 'X-Foo-Bin': 'c2VjcmV0' } }),
          (error: Error) =>
            error instanceof RangeError &&
            /^OTLPProfileExporter: option "headers\['x-foo-bin'\]" is binary gRPC metadata/.test(error.message),
        );
      });

      it('should keep a -bin header over OTLP/HTTP, where it is an ordinary header', () => {
        process.env.OTEL_EXPORTER_OTLP_HEADERS = 'x-foo-bin=abc';
        const exporter = new OTLPProfileExporter({
          protocol: 'http/protobuf',
          url: 'http://127.0.0.1:9/v1development/profiles',
          headers: { 'x-bar-bin': '1' },
        });
        assert.deepEqual(recorder.messages('warn'), []);
        return exporter.shutdown();
      });
    });

    it('should log a partial success with diag.warn and still succeed', async () => {
      server.answer(() => ({
        response: encodeWithBuf('partial_success { rejected_profiles: 2 error_message: "too old" }', 'ExportProfilesServiceResponse'),
      }));
      const result = await exportOnce({});
      assert.equal(result.code, ExportResultCode.SUCCESS);
      assert.deepEqual(recorder.messages('warn'), [`http://${server.address} rejected 2 of 3 profiles: too old`]);
    });

    it('should fail at once on INVALID_ARGUMENT, quoting the reason, without retrying', async () => {
      server.answer(() => ({ error: { code: grpc.status.INVALID_ARGUMENT, details: 'bad dictionary' } }));
      const result = await exportOnce({});
      assert.equal(result.code, ExportResultCode.FAILED);
      assert.equal(
        result.error?.message,
        `OTLPProfileExporter: http://${server.address} refused 3 profiles: gRPC status INVALID_ARGUMENT (3): bad dictionary; not retrying`,
      );
      assert.equal(server.calls.length, 1);
    });

    it('should give up within the export timeout when the server stays UNAVAILABLE', async () => {
      for (let i = 0; i < 10; i++) server.answer(() => ({ error: { code: grpc.status.UNAVAILABLE, details: 'down' } }));
      const result = await exportOnce({ timeoutMillis: 1500 });
      assert.equal(result.code, ExportResultCode.FAILED);
      assert.match(
        result.error!.message,
        /gRPC status UNAVAILABLE \(14\): down \(gave up after \d+ attempts?; next retry in \d+ ms is past the export timeout of 1500 ms\)$/,
      );
    });

    it('should compress each message with gzip when asked (seen on the HTTP/2 wire)', async () => {
      // A bare HTTP/2 server, since grpc-js hides the message framing: 1 byte compressed flag,
      // 4 bytes length, then the message.
      const h2 = http2.createServer();
      const seen: Array<{ headers: http2.IncomingHttpHeaders; frame: Buffer }> = [];
      h2.on('stream', (stream, headers) => {
        const chunks: Buffer[] = [];
        stream.on('data', (chunk: Buffer) => chunks.push(chunk));
        stream.on('end', () => {
          seen.push({ headers, frame: Buffer.concat(chunks) });
          stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
          stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
          stream.end(Buffer.from([0, 0, 0, 0, 0]));
        });
      });
      await new Promise<void>((resolve) => h2.listen(0, '127.0.0.1', resolve));
      try {
        const port = (h2.address() as AddressInfo).port;
        const exporter = new OTLPProfileExporter({ protocol: 'grpc', url: `http://127.0.0.1:${port}`, compression: 'gzip' });
        const result = await new Promise<ExportResult>((resolve) => exporter.export(makeProfiles(3), resolve)).finally(() =>
          exporter.shutdown(),
        );
        assert.equal(result.code, ExportResultCode.SUCCESS, result.error?.message);
        const [{ headers, frame }] = seen;
        assert.equal(headers[':path'], GRPC_EXPORT_PATH);
        assert.equal(headers['grpc-encoding'], 'gzip');
        assert.equal(frame[0], 1, 'the compressed flag');
        assert.equal(frame.readUInt32BE(1), frame.length - 5);
        const decoded = decodeWithBuf(zlib.gunzipSync(frame.subarray(5)));
        assert.ok(JSON.stringify(decoded).includes(`"${START_UNIX_NANO}"`));
      } finally {
        h2.close();
      }
    });
  });
});
