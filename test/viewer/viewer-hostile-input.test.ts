/*
 * The viewer under hostile input (issue 21 §3), over real HTTP: requests a web page could send
 * through DNS rebinding, writes to the read-only UI port, values no profiler sends, malformed paths,
 * decompression bombs, files that fail to read, and a frame table that must not grow forever.
 */
import * as assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { TraceStore } from '../../src/viewer/trace-store';
import { MAX_BODY_BYTES } from '../../src/viewer/otlp-receiver';
import { startViewer, type RunningViewer } from '../../src/viewer/viewer-server';
import { profilesRequest } from './hostile-profile';

const REPO = join(__dirname, '..', '..', '..');

interface Answer {
  readonly status: number;
  readonly text: string;
}

/** One request with the headers exactly as given (fetch would not let a test set Host). */
function send(url: string, options: { method?: string; headers?: Record<string, string>; body?: Buffer | string } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: options.method ?? 'GET', headers: options.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

function postJson(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Answer> {
  return send(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
}

describe('viewer under hostile input (issue 21 §3)', function () {
  this.timeout(60_000);
  let store: TraceStore;
  let viewer: RunningViewer;

  beforeEach(async () => {
    store = new TraceStore({ maxTraces: 5 });
    viewer = await startViewer({ store, port: 0, otlpPort: 0 });
  });
  afterEach(() => viewer?.close());

  describe('Host header (DNS rebinding)', () => {
    it('should refuse a request for another host name with 403', async () => {
      const port = new URL(viewer.url).port;
      const refused = await send(`${viewer.url}/api/traces`, { headers: { host: `rebind.example:${port}` } });
      assert.equal(refused.status, 403);
      assert.match(refused.text, /DNS rebinding/);
      assert.equal((await send(`${viewer.url}/`, { headers: { host: 'rebind.example' } })).status, 403);
    });

    it('should answer requests for loopback names and IP addresses', async () => {
      const port = new URL(viewer.url).port;
      for (const host of [
        `localhost:${port}`,
        `127.0.0.1:${port}`,
        'LOCALHOST',
        `app.localhost:${port}`,
        `[::1]:${port}`,
        `192.168.1.20:${port}`,
      ]) {
        assert.equal((await send(`${viewer.url}/api/traces`, { headers: { host } })).status, 200, host);
      }
    });

    it('should answer the name it was told to bind', async () => {
      const named = await startViewer({ store, port: 0, host: 'localhost' });
      try {
        const port = new URL(named.url).port;
        assert.equal((await send(`${named.url}/api/traces`, { headers: { host: `LocalHost:${port}` } })).status, 200);
        assert.equal((await send(`${named.url}/api/traces`, { headers: { host: `other.example:${port}` } })).status, 403);
      } finally {
        await named.close();
      }
    });

    it('should refuse OTLP writes from a web page of another origin, and take them from an SDK (no Origin)', async () => {
      const { request } = profilesRequest({ functions: ['handler'], values: [1_000_000] });
      const fromPage = await postJson(`${viewer.otlpUrl}/v1development/profiles`, request, { origin: 'http://rebind.example:4318' });
      assert.equal(fromPage.status, 403);
      assert.equal(store.stats.samplesReceived, 0);
      assert.equal((await postJson(`${viewer.otlpUrl}/v1development/profiles`, request)).status, 200);
      assert.equal((await postJson(`${viewer.otlpUrl}/v1development/profiles`, request, { origin: 'http://127.0.0.1:5173' })).status, 200);
      assert.equal(store.stats.samplesReceived, 2);
    });
  });

  it('should take no OTLP on the UI port (405), as `view --help` says', async () => {
    const { request } = profilesRequest({ functions: ['handler'], values: [1_000_000] });
    const answer = await postJson(`${viewer.url}/v1development/profiles`, request);
    assert.equal(answer.status, 405);
    assert.match(answer.text, /--otlp-port/);
    assert.equal((await postJson(`${viewer.url}/v1/traces`, { resourceSpans: [] })).status, 405);
    assert.equal(store.stats.samplesReceived, 0);
  });

  it('should refuse sample values that are not int64 (1e308, 1e400) with 400 and keep answering /api/traces', async () => {
    for (const values of [[1e308, 1e308], ['1e400'], ['12abc']]) {
      const { request } = profilesRequest({ functions: ['handler'], values });
      const text = JSON.stringify(request).replace('"1e400"', '1e400');
      const answer = await send(`${viewer.otlpUrl}/v1development/profiles`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: text,
      });
      assert.equal(answer.status, 400, JSON.stringify(values));
      assert.match(answer.text, /value 0 is not an int64/);
    }
    const traces = await send(`${viewer.url}/api/traces`);
    assert.equal(traces.status, 200, traces.text);
    assert.deepEqual((JSON.parse(traces.text) as { roots: unknown[] }).roots, []);
    // The largest int64 CPU value is still a number the page can show.
    const { request, traceId } = profilesRequest({ functions: ['handler'], values: ['9223372036854775807', 1] });
    assert.equal((await postJson(`${viewer.otlpUrl}/v1development/profiles`, request)).status, 200);
    assert.equal((await send(`${viewer.url}/api/traces`)).status, 200);
    assert.equal((await send(`${viewer.url}/api/traces/${traceId}`)).status, 200);
  });

  it('should answer 400 to a malformed root span name', async () => {
    for (const name of ['%E0%A4%A', '%', '%ZZ']) {
      assert.equal((await send(`${viewer.url}/api/names/${name}`)).status, 400, name);
    }
    assert.equal((await send(`${viewer.url}/api/names/${encodeURIComponent('GET /a%b')}`)).status, 200);
  });

  it('should refuse a body that decompresses past the limit with 413, and keep serving', async () => {
    // Valid JSON of ~30 MB that gzips to ~30 kB.
    const bomb = gzipSync(
      Buffer.concat([Buffer.from('{"resourceSpans":['), Buffer.alloc(MAX_BODY_BYTES + 10 * 1024 * 1024, ' '), Buffer.from(']}')]),
    );
    assert.ok(bomb.length < 100_000, `${bomb.length}`);
    const answer = await send(`${viewer.otlpUrl}/v1/traces`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
      body: bomb,
    });
    assert.equal(answer.status, 413);
    assert.match(answer.text, /once decompressed/);
    assert.equal((await send(`${viewer.url}/api/traces`)).status, 200);
  });

  it('should keep the frame table to the frames of the kept traces', async () => {
    const FUNCTIONS = 40;
    const REQUESTS = 300;
    let last = { traceId: '', spanId: '' };
    for (let r = 0; r < REQUESTS; r++) {
      const functions = Array.from({ length: FUNCTIONS }, (_, f) => `fn_${r}_${f}`);
      const made = profilesRequest({ functions, values: [1_000_000] });
      assert.equal((await postJson(`${viewer.otlpUrl}/v1development/profiles`, made.request)).status, 200);
      last = made;
    }
    assert.equal(store.roots().length, 5);
    // 12 000 distinct frames were received; 200 are in use. Trimming happens when the table doubles.
    assert.ok(store.frames.length < 4096 + 2 * FUNCTIONS, `${store.frames.length} frames kept`);
    // Renumbered stacks still name their own functions, outermost first.
    const folded = await send(`${viewer.url}/api/spans/${last.spanId}/folded?value=samples`);
    assert.equal(folded.status, 200);
    const expected = Array.from({ length: FUNCTIONS }, (_, f) => `fn_${REQUESTS - 1}_${f} (/srv/app.js)`).join(';');
    assert.equal(folded.text.trim(), `${expected} 1`);
  });

  describe('files that fail', () => {
    let webDir: string;
    let custom: RunningViewer;

    before(() => {
      webDir = join(mkdtempSync(join(tmpdir(), 'osp-web-')), 'web');
      cpSync(join(REPO, 'web'), webDir, { recursive: true });
      mkdirSync(join(webDir, 'a-folder.js'));
      // Opens, then fails at the first read (EIO): an error after the headers are out.
      if (existsSync('/proc/self/mem')) symlinkSync('/proc/self/mem', join(webDir, 'unreadable.js'));
    });
    beforeEach(async () => {
      custom = await startViewer({ store, port: 0, webDir });
    });
    afterEach(() => custom?.close());
    after(() => rmSync(join(webDir, '..'), { recursive: true, force: true }));

    it('should answer 404 for a folder under web/', async () => {
      assert.equal((await send(`${custom.url}/static/a-folder.js`)).status, 404);
      assert.equal((await send(`${custom.url}/api/traces`)).status, 200);
    });

    it('should end the response on a read error and keep serving', async function () {
      if (!existsSync(join(webDir, 'unreadable.js'))) this.skip(); // Linux: /proc/self/mem
      const failed = await send(`${custom.url}/static/unreadable.js`).then(
        (answer) => answer,
        (error: Error) => error,
      );
      // Either the socket was cut (the headers were out) or a 500 came back: never a hang or a crash.
      if (!(failed instanceof Error)) assert.notEqual(failed.status, 200);
      assert.equal((await send(`${custom.url}/api/traces`)).status, 200);
    });
  });
});
