import * as assert from 'node:assert/strict';
import type { ExportResponse, ProfileTransport } from '../../src/exporter/export-response';
import { createHttpTransport, HttpStatusError, parseRetryAfterMillis } from '../../src/exporter/http-transport';
import { LoopbackServer, neverAnswer, reply, unusedPort } from '../helpers/loopback-server';

const NOW = Date.UTC(2026, 10, 26, 12, 0, 0);
const BYTES = new Uint8Array([10, 0]);

describe('parseRetryAfterMillis', () => {
  const cases: Array<{ name: string; value: string | undefined; want: number | undefined }> = [
    { name: 'absent', value: undefined, want: undefined },
    { name: 'delay-seconds', value: '5', want: 5000 },
    { name: 'zero seconds', value: '0', want: 0 },
    { name: 'seconds with spaces', value: ' 3 ', want: 3000 },
    { name: 'an IMF-fixdate in the future', value: 'Thu, 26 Nov 2026 12:00:07 GMT', want: 7000 },
    { name: 'an RFC 850 date', value: 'Thursday, 26-Nov-26 12:00:02 GMT', want: 2000 },
    { name: 'a date in the past', value: 'Thu, 26 Nov 2026 11:00:00 GMT', want: 0 },
    { name: 'a negative number', value: '-1', want: undefined },
    { name: 'a fraction', value: '1.5', want: undefined },
    { name: 'words', value: 'soon', want: undefined },
  ];
  for (const c of cases) {
    it(`should read ${c.name} as ${c.want}`, () => {
      assert.equal(parseRetryAfterMillis(c.value, NOW), c.want);
    });
  }
});

describe('HttpTransport', () => {
  let server: LoopbackServer;
  let transport: ProfileTransport;

  beforeEach(async () => {
    server = await new LoopbackServer().start();
    transport = createHttpTransport({
      url: server.profilesUrl,
      headers: { 'content-type': 'application/x-protobuf' },
      compression: 'none',
    });
  });

  afterEach(async () => {
    transport.shutdown();
    await server.stop();
  });

  describe('send', () => {
    const statuses: Array<{ code: number; want: ExportResponse['status'] }> = [
      { code: 200, want: 'success' },
      { code: 202, want: 'success' },
      { code: 400, want: 'failure' },
      { code: 401, want: 'failure' },
      { code: 404, want: 'failure' },
      { code: 413, want: 'failure' },
      { code: 415, want: 'failure' },
      { code: 429, want: 'retryable' },
      { code: 500, want: 'failure' },
      { code: 502, want: 'retryable' },
      { code: 503, want: 'retryable' },
      { code: 504, want: 'retryable' },
    ];
    for (const { code, want } of statuses) {
      it(`should map HTTP ${code} to '${want}'`, async () => {
        server.fallback(reply(code));
        const response = await transport.send(BYTES, 2000);
        assert.equal(response.status, want);
      });
    }

    it('should pass the body, its length and the headers', async () => {
      await transport.send(BYTES, 2000);
      const [request] = server.requests;
      assert.deepEqual([...request.body], [...BYTES]);
      assert.equal(request.headers['content-length'], String(BYTES.length));
      assert.equal(request.headers['content-type'], 'application/x-protobuf');
    });

    it('should return the success body and content type', async () => {
      server.fallback(reply(200, { headers: { 'content-type': 'application/json' }, body: '{}' }));
      const response = await transport.send(BYTES, 2000);
      assert.deepEqual(response, { status: 'success', body: Buffer.from('{}'), contentType: 'application/json' });
    });

    it('should keep the status, body and Retry-After of a refusal', async () => {
      server.fallback(reply(503, { headers: { 'retry-after': '2', 'content-type': 'text/plain' }, body: 'overloaded' }));
      const response = await transport.send(BYTES, 2000);
      assert.equal(response.status, 'retryable');
      assert.equal(response.status === 'retryable' && response.retryAfterMillis, 2000);
      const error = response.status === 'retryable' ? response.error : undefined;
      assert.ok(error instanceof HttpStatusError);
      assert.equal(error.message, 'HTTP 503 Service Unavailable');
      assert.equal(Buffer.from(error.body).toString(), 'overloaded');
    });

    it('should read no more of the response than maxResponseBodyBytes', async () => {
      const capped = createHttpTransport({ url: server.profilesUrl, headers: {}, compression: 'none', maxResponseBodyBytes: 1024 });
      server.fallback(reply(200, { body: Buffer.alloc(1024 * 1024, 0x61) }));
      try {
        const response = await capped.send(BYTES, 2000);
        assert.equal(response.status, 'success');
        assert.equal(response.status === 'success' && response.body.length, 1024);
      } finally {
        capped.shutdown();
      }
    });

    it('should reuse one keep-alive connection for consecutive sends', async () => {
      await transport.send(BYTES, 2000);
      await transport.send(BYTES, 2000);
      assert.equal(server.requests.length, 2);
      assert.equal(server.connectionCount, 1);
    });

    it('should call a refused connection retryable', async () => {
      const port = await unusedPort();
      const nowhere = createHttpTransport({ url: `http://127.0.0.1:${port}/`, headers: {}, compression: 'none' });
      const response = await nowhere.send(BYTES, 2000);
      assert.equal(response.status, 'retryable');
      assert.equal(response.status === 'retryable' && (response.error as NodeJS.ErrnoException).code, 'ECONNREFUSED');
    });

    it('should call an unanswered request retryable once timeoutMillis has passed', async () => {
      server.fallback(neverAnswer);
      const response = await transport.send(BYTES, 200);
      assert.equal(response.status, 'retryable');
      assert.equal(response.status === 'retryable' && response.error.message, 'request timed out after 200 ms');
    });

    it('should report a header Node refuses as a failure instead of throwing', async () => {
      const broken = createHttpTransport({ url: server.profilesUrl, headers: { 'x-bad': 'a\nb' }, compression: 'none' });
      const response = await broken.send(BYTES, 2000);
      assert.equal(response.status, 'failure');
      assert.equal(server.requests.length, 0);
    });
  });
});
