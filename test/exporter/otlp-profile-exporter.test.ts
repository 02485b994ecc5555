import * as assert from 'node:assert/strict';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { OTLPProfileExporter } from '../../src/exporter/otlp-profile-exporter';
import type { OTLPProfileExporterOptions } from '../../src/exporter/exporter-options';
import { diag } from '@opentelemetry/api';
import { ProfileBatcher } from '../../src/processor/profile-batcher';
import { DropCounter } from '../../src/processor/drop-counter';
import { decodeWithBuf, encodeWithBuf, type Decoded } from '../helpers/decode-buf';
import { LoopbackServer, neverAnswer, reply, unusedPort, type Responder } from '../helpers/loopback-server';
import { DiagRecorder } from '../helpers/diag-recorder';
import { makeProfile, makeProfiles, START_UNIX_NANO, TRACE_ID } from '../helpers/synthetic-profiles';

const ENV_KEYS = [
  'OTEL_EXPORTER_OTLP_ENDPOINT',
  'OTEL_EXPORTER_OTLP_HEADERS',
  'OTEL_EXPORTER_OTLP_COMPRESSION',
  'OTEL_EXPORTER_OTLP_TIMEOUT',
  'OTEL_EXPORTER_OTLP_PROTOCOL',
  'OTEL_EXPORTER_OTLP_PROFILES_ENDPOINT',
  'OTEL_EXPORTER_OTLP_PROFILES_HEADERS',
  'OTEL_EXPORTER_OTLP_PROFILES_COMPRESSION',
  'OTEL_EXPORTER_OTLP_PROFILES_TIMEOUT',
  'OTEL_EXPORTER_OTLP_PROFILES_PROTOCOL',
];

function exportOnce(exporter: OTLPProfileExporter, count = 3): Promise<ExportResult> {
  return new Promise((resolve) => exporter.export(makeProfiles(count), resolve));
}

/** A google.rpc.Status { code, message }, the body a Collector sends with a protobuf refusal, built by hand. */
function rpcStatus(code: number, message: string): Buffer {
  const text = Buffer.from(message, 'utf8');
  return Buffer.concat([Buffer.from([0x08, code, 0x12, text.length]), text]);
}

/** Answers after `millis`, keeping the request open meanwhile. */
function slowly(millis: number, responder: Responder): Responder {
  return (request, res) => setTimeout(() => responder(request, res), millis);
}

describe('OTLPProfileExporter', () => {
  let recorder: DiagRecorder;
  let server: LoopbackServer;
  const exporters: OTLPProfileExporter[] = [];

  function exporterFor(options: OTLPProfileExporterOptions = {}): OTLPProfileExporter {
    const exporter = new OTLPProfileExporter({ url: server.profilesUrl, ...options });
    exporters.push(exporter);
    return exporter;
  }

  beforeEach(async () => {
    recorder = new DiagRecorder().install();
    server = await new LoopbackServer().start();
  });

  afterEach(async () => {
    for (const key of ENV_KEYS) delete process.env[key];
    await Promise.all(exporters.splice(0).map((e) => e.shutdown()));
    await server.stop();
    recorder.uninstall();
  });

  describe('export', () => {
    it('should POST binary protobuf to /v1development/profiles by default', async () => {
      const result = await exportOnce(exporterFor());
      assert.equal(result.code, ExportResultCode.SUCCESS);
      assert.equal(server.requests.length, 1);
      const [request] = server.requests;
      assert.equal(request.method, 'POST');
      assert.equal(request.path, '/v1development/profiles');
      assert.equal(request.headers['content-type'], 'application/x-protobuf');
      assert.equal(request.headers['content-encoding'], undefined);
      assert.match(request.headers['user-agent'] ?? '', /^otel-span-profiler\/\d+\.\d+\.\d+/);
      const decoded = decodeWithBuf(request.body);
      const profiles = ((decoded.resourceProfiles as Decoded[])[0].scopeProfiles as Decoded[])[0].profiles as Decoded[];
      assert.equal(profiles.length, 3);
      const timestamps = (profiles[0].samples as Decoded[]).flatMap((s) => s.timestampsUnixNano as string[]);
      assert.ok(timestamps.includes(START_UNIX_NANO.toString()), `timestamps ${timestamps.join(',')}`);
    });

    it('should POST OTLP JSON with protocol http/json', async () => {
      const result = await exportOnce(exporterFor({ protocol: 'http/json' }));
      assert.equal(result.code, ExportResultCode.SUCCESS);
      const [request] = server.requests;
      assert.equal(request.headers['content-type'], 'application/json');
      const body = JSON.parse(request.body.toString('utf8')) as {
        resourceProfiles: unknown[];
        dictionary: { linkTable: Array<{ traceId?: string }> };
      };
      assert.equal(body.resourceProfiles.length, 1);
      assert.ok(body.dictionary.linkTable.some((link) => link.traceId === TRACE_ID));
    });

    it('should take protocol http/json from OTEL_EXPORTER_OTLP_PROFILES_PROTOCOL', async () => {
      process.env.OTEL_EXPORTER_OTLP_PROFILES_PROTOCOL = 'http/json';
      await exportOnce(exporterFor());
      assert.equal(server.requests[0].headers['content-type'], 'application/json');
    });

    it('should gzip the body with compression gzip', async () => {
      const result = await exportOnce(exporterFor({ compression: 'gzip' }));
      assert.equal(result.code, ExportResultCode.SUCCESS);
      const [request] = server.requests;
      assert.equal(request.headers['content-encoding'], 'gzip');
      assert.deepEqual([...request.rawBody.subarray(0, 2)], [0x1f, 0x8b]);
      assert.equal((decodeWithBuf(request.body).resourceProfiles as Decoded[]).length, 1);
    });

    it('should take compression from OTEL_EXPORTER_OTLP_COMPRESSION', async () => {
      process.env.OTEL_EXPORTER_OTLP_COMPRESSION = 'gzip';
      await exportOnce(exporterFor());
      assert.equal(server.requests[0].headers['content-encoding'], 'gzip');
    });

    it('should send headers from env, signal-specific over generic, and from code over both', async () => {
      process.env.OTEL_EXPORTER_OTLP_HEADERS = 'x-tenant=t1,x-api-key=generic,x-both=generic';
      process.env.OTEL_EXPORTER_OTLP_PROFILES_HEADERS = 'x-api-key=secret%20value,x-both=signal';
      await exportOnce(exporterFor({ headers: { 'X-Both': 'code', 'Content-Type': 'text/plain' } }));
      const { headers } = server.requests[0];
      assert.equal(headers['x-tenant'], 't1');
      assert.equal(headers['x-api-key'], 'secret value');
      assert.equal(headers['x-both'], 'code');
      assert.equal(headers['content-type'], 'application/x-protobuf');
    });

    it('should send a batch of no profiles nowhere', async () => {
      const result = await new Promise<ExportResult>((resolve) => exporterFor().export([], resolve));
      assert.equal(result.code, ExportResultCode.SUCCESS);
      assert.equal(server.requests.length, 0);
    });
  });

  describe('endpoint from env', () => {
    let other: LoopbackServer;
    beforeEach(async () => {
      other = await new LoopbackServer().start();
    });
    afterEach(() => other.stop());

    function envExporter(options: OTLPProfileExporterOptions = {}): OTLPProfileExporter {
      const exporter = new OTLPProfileExporter(options);
      exporters.push(exporter);
      return exporter;
    }

    it('should append /v1development/profiles to OTEL_EXPORTER_OTLP_ENDPOINT', async () => {
      process.env.OTEL_EXPORTER_OTLP_ENDPOINT = server.origin;
      await exportOnce(envExporter());
      assert.equal(server.requests[0].path, '/v1development/profiles');
    });

    it('should use OTEL_EXPORTER_OTLP_PROFILES_ENDPOINT as is, over the generic one', async () => {
      process.env.OTEL_EXPORTER_OTLP_ENDPOINT = other.origin;
      process.env.OTEL_EXPORTER_OTLP_PROFILES_ENDPOINT = `${server.origin}/custom/profiles`;
      await exportOnce(envExporter());
      assert.equal(server.requests[0].path, '/custom/profiles');
      assert.equal(other.requests.length, 0);
    });

    it('should prefer the url option over env', async () => {
      process.env.OTEL_EXPORTER_OTLP_PROFILES_ENDPOINT = other.profilesUrl;
      await exportOnce(envExporter({ url: server.profilesUrl }));
      assert.equal(server.requests.length, 1);
      assert.equal(other.requests.length, 0);
    });
  });

  describe('responses', () => {
    it('should succeed quietly on 200 with an empty body', async () => {
      const result = await exportOnce(exporterFor());
      assert.equal(result.code, ExportResultCode.SUCCESS);
      assert.deepEqual(recorder.messages(), []);
    });

    it('should log a protobuf partial_success with diag.warn and still succeed', async () => {
      const body = encodeWithBuf(
        'partial_success { rejected_profiles: 2 error_message: "2 profiles too old" }',
        'ExportProfilesServiceResponse',
      );
      server.script(reply(200, { headers: { 'content-type': 'application/x-protobuf' }, body }));
      const exporter = exporterFor();
      const result = await exportOnce(exporter);
      assert.equal(result.code, ExportResultCode.SUCCESS);
      assert.deepEqual(recorder.messages('warn'), [`${exporter.url} rejected 2 of 3 profiles: 2 profiles too old`]);
    });

    it('should log a JSON partial_success with diag.warn', async () => {
      const body = JSON.stringify({ partialSuccess: { rejectedProfiles: '1', errorMessage: 'unknown sample type' } });
      server.script(reply(200, { headers: { 'content-type': 'application/json' }, body }));
      const exporter = exporterFor({ protocol: 'http/json' });
      await exportOnce(exporter, 2);
      assert.deepEqual(recorder.messages('warn'), [`${exporter.url} rejected 1 of 2 profiles: unknown sample type`]);
    });

    it('should fail on 400 without retrying, quoting the server reason', async () => {
      server.fallback(
        reply(400, { headers: { 'content-type': 'application/x-protobuf' }, body: rpcStatus(3, 'proto: illegal wireType 7') }),
      );
      const exporter = exporterFor();
      const result = await exportOnce(exporter);
      assert.equal(result.code, ExportResultCode.FAILED);
      assert.equal(
        result.error?.message,
        `OTLPProfileExporter: ${exporter.url} refused 3 profiles: HTTP 400 Bad Request: proto: illegal wireType 7; not retrying`,
      );
      assert.equal(server.requests.length, 1);
    });

    it('should report a 400 exactly once through the batcher', async () => {
      server.fallback(reply(400, { headers: { 'content-type': 'application/json' }, body: '{"code":3,"message":"bad profile"}' }));
      const drops = new DropCounter(diag.createComponentLogger({ namespace: 'otel-span-profiler/processor' }));
      const batcher = new ProfileBatcher(exporterFor(), { scheduledDelayMillis: 0 }, drops);
      batcher.add(makeProfile());
      await batcher.forceFlush();
      const reports = recorder.records.filter((r) => r.message.includes('HTTP 400'));
      assert.equal(reports.length, 1, JSON.stringify(recorder.records));
      assert.ok(reports[0].message.includes('HTTP 400 Bad Request: bad profile; not retrying'), reports[0].message);
      assert.equal(server.requests.length, 1);
      assert.equal(drops.snapshot().exportFailed, 1);
    });

    it('should retry 429 with Retry-After in seconds, and wait for it', async () => {
      server.script(reply(429, { headers: { 'retry-after': '1' } }));
      const result = await exportOnce(exporterFor({ timeoutMillis: 5000 }));
      assert.equal(result.code, ExportResultCode.SUCCESS);
      assert.equal(server.requests.length, 2);
      // A lower bound only: the retry did not come before the second the server asked for.
      const waitedMillis = server.requests[1].atMillis - server.requests[0].atMillis;
      assert.ok(waitedMillis >= 990, `retried after ${waitedMillis} ms`);
    });

    it('should retry 503 with Retry-After as an HTTP date', async () => {
      server.script(reply(503, { headers: { 'retry-after': new Date(Date.now() + 1000).toUTCString() } }));
      const result = await exportOnce(exporterFor({ timeoutMillis: 5000 }));
      assert.equal(result.code, ExportResultCode.SUCCESS);
      assert.equal(server.requests.length, 2);
    });

    it('should give up at once when Retry-After is past the timeout', async () => {
      server.fallback(reply(503, { headers: { 'retry-after': '60' } }));
      const exporter = exporterFor({ timeoutMillis: 2000 });
      const result = await exportOnce(exporter);
      assert.equal(result.code, ExportResultCode.FAILED);
      assert.equal(
        result.error?.message,
        `OTLPProfileExporter: could not send 3 profiles to ${exporter.url}: HTTP 503 Service Unavailable ` +
          '(gave up after 1 attempt; Retry-After in 60000 ms is past the export timeout of 2000 ms)',
      );
      assert.equal(server.requests.length, 1);
    });

    it('should retry while the collector is down and deliver once it is up', async () => {
      const port = await unusedPort();
      const exporter = new OTLPProfileExporter({ url: `http://127.0.0.1:${port}/v1development/profiles`, timeoutMillis: 8000 });
      exporters.push(exporter);
      const late = new LoopbackServer();
      const result = exportOnce(exporter);
      await new Promise((resolve) => setTimeout(resolve, 200));
      await late.start(port);
      try {
        assert.equal((await result).code, ExportResultCode.SUCCESS);
        assert.equal(late.requests.length, 1);
      } finally {
        await late.stop();
      }
    });

    it('should fail, not hang, when the collector never answers', async function () {
      this.timeout(4000);
      server.fallback(neverAnswer);
      const exporter = exporterFor({ timeoutMillis: 500 });
      const result = await exportOnce(exporter);
      assert.equal(result.code, ExportResultCode.FAILED);
      assert.match(
        result.error?.message ?? '',
        /request timed out after 500 ms \(gave up after 1 attempt; next retry in \d+ ms is past the export timeout of 500 ms\)$/,
      );
    });

    it('should fail with the network error when nothing ever listens', async () => {
      const port = await unusedPort();
      const exporter = new OTLPProfileExporter({ url: `http://127.0.0.1:${port}/v1development/profiles`, timeoutMillis: 1500 });
      exporters.push(exporter);
      const result = await exportOnce(exporter);
      assert.equal(result.code, ExportResultCode.FAILED);
      assert.match(result.error?.message ?? '', /ECONNREFUSED/);
    });

    it('should keep the event loop serving the application while the collector is slow', async () => {
      server.fallback(slowly(1500, reply(200)));
      const app = http.createServer((_req, res) => res.end('ok'));
      await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', () => resolve()));
      const appUrl = `http://127.0.0.1:${(app.address() as AddressInfo).port}/`;
      let ticks = 0;
      const interval = setInterval(() => ticks++, 5);
      try {
        let exportDone = false;
        const result = exportOnce(exporterFor()).then((r) => {
          exportDone = true;
          return r;
        });
        await server.waitForRequests(1);
        const answers: string[] = [];
        for (let i = 0; i < 5; i++) {
          answers.push(await fetchText(appUrl));
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
        const ticksWhilePending = ticks;
        assert.equal(exportDone, false, 'the slow collector answered before the app was tested');
        assert.deepEqual(answers, ['ok', 'ok', 'ok', 'ok', 'ok']);
        assert.ok(ticksWhilePending > 0, 'setInterval did not tick while the export was pending');
        assert.equal((await result).code, ExportResultCode.SUCCESS);
      } finally {
        clearInterval(interval);
        app.closeAllConnections();
        await new Promise((resolve) => app.close(resolve));
      }
    });
  });

  describe('configuration', () => {
    it('should warn about a malformed env endpoint and use the default', () => {
      process.env.OTEL_EXPORTER_OTLP_PROFILES_ENDPOINT = 'collector:4318';
      const exporter = new OTLPProfileExporter();
      exporters.push(exporter);
      assert.equal(exporter.url, 'http://localhost:4318/v1development/profiles');
      assert.deepEqual(recorder.messages('warn'), [
        "Configuration: OTEL_EXPORTER_OTLP_PROFILES_ENDPOINT is invalid, expected an absolute http: or https: URL (actual: 'collector:4318'); using 'http://localhost:4318/v1development/profiles'",
      ]);
    });

    it('should throw from the constructor on a bad code option, naming it, and log nothing', () => {
      assert.throws(() => new OTLPProfileExporter({ url: server.profilesUrl, timeoutMillis: -1 }), {
        name: 'RangeError',
        message: 'OTLPProfileExporter: option "timeoutMillis" must be a number greater than 0, got -1',
      });
      assert.throws(() => new OTLPProfileExporter({ compression: 'br' as never }), {
        name: 'RangeError',
        message: `OTLPProfileExporter: option "compression" must be 'gzip' or 'none', got "br"`,
      });
      assert.deepEqual(recorder.messages(), []);
    });

    it('should export with the safe defaults after a bad timeout and compression in env', async () => {
      process.env.OTEL_EXPORTER_OTLP_TIMEOUT = '-5';
      process.env.OTEL_EXPORTER_OTLP_COMPRESSION = 'lz4';
      const result = await exportOnce(exporterFor());
      assert.equal(result.code, ExportResultCode.SUCCESS);
      assert.equal(server.requests[0].headers['content-encoding'], undefined);
      assert.equal(recorder.messages('warn').length, 2);
    });
  });

  describe('forceFlush and shutdown', () => {
    it('should wait in forceFlush for exports in flight', async () => {
      server.fallback(slowly(300, reply(200)));
      const exporter = exporterFor();
      let called = false;
      exporter.export(makeProfiles(1), () => (called = true));
      await exporter.forceFlush();
      assert.equal(called, true);
    });

    it('should finish exports in flight on shutdown, then refuse new ones', async () => {
      server.fallback(slowly(300, reply(200)));
      const exporter = exporterFor();
      const inFlight = exportOnce(exporter);
      await exporter.shutdown();
      assert.equal((await inFlight).code, ExportResultCode.SUCCESS);
      const after = await exportOnce(exporter);
      assert.equal(after.code, ExportResultCode.FAILED);
      assert.equal(after.error?.message, 'OTLPProfileExporter is shut down');
      assert.equal(server.requests.length, 1);
    });

    it('should allow concurrent exports', async () => {
      server.fallback(slowly(200, reply(200)));
      const exporter = exporterFor();
      const results = await Promise.all([exportOnce(exporter), exportOnce(exporter), exportOnce(exporter)]);
      assert.deepEqual(
        results.map((r) => r.code),
        [ExportResultCode.SUCCESS, ExportResultCode.SUCCESS, ExportResultCode.SUCCESS],
      );
      assert.equal(server.requests.length, 3);
    });
  });
});

function fetchText(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent: false }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk) => (text += chunk));
        res.on('end', () => resolve(text));
      })
      .on('error', reject);
  });
}
