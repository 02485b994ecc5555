import * as assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { readOtlpFiles } from '../../src/convert/otlp-input';
import { encodeRequestProtobuf } from '../../src/otlp/otlp-encoding';
import { TraceStore, type ProfiledRoot } from '../../src/viewer/trace-store';
import { startViewer, type RunningViewer } from '../../src/viewer/viewer-server';
import { runExampleService, type ServiceRun } from './example-service-run';

interface TraceResponse {
  traceId: string;
  spans: { spanId: string; parentSpanId: string; name: string; selfCpuNanos: number; totalCpuNanos: number; inferred: boolean }[];
  roots: ProfiledRoot[];
}

async function get(url: string): Promise<{ status: number; text: string }> {
  const res = await fetch(url);
  return { status: res.status, text: await res.text() };
}

function storeFrom(run: ServiceRun, options: { maxTraces?: number } = {}): TraceStore {
  const store = new TraceStore(options);
  const requests = readOtlpFiles([run.dir]);
  for (const { request } of requests.traces) store.addTraces(request);
  for (const { request } of requests.profiles) store.addProfiles(request);
  return store;
}

describe('viewer API', function () {
  this.timeout(180_000);
  let run: ServiceRun;
  let viewer: RunningViewer;

  before(async () => {
    run = await runExampleService({ seconds: 3 });
    viewer = await startViewer({ store: storeFrom(run), port: 0 });
  });
  after(() => viewer?.close());

  it('should serve on 127.0.0.1 by default', () => {
    assert.match(viewer.url, /^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it('should list the profiled roots with their CPU time and an aggregate per root span name', async () => {
    const { roots, aggregates } = JSON.parse((await get(`${viewer.url}/api/traces`)).text) as {
      roots: ProfiledRoot[];
      aggregates: { name: string; count: number; cpuNanos: number }[];
    };
    assert.ok(roots.length > 10, `${roots.length} roots`);
    assert.deepEqual(new Set(roots.map((r) => r.name)), new Set(['GET /report', 'GET /parse', 'GET /hash']));
    for (const root of roots) {
      assert.equal(root.service, 'viewer-test-service');
      assert.ok(root.cpuNanos > 0 && root.samples > 0 && root.hasSpan);
    }
    const hash = aggregates.find((a) => a.name === 'GET /hash')!;
    assert.equal(hash.count, roots.filter((r) => r.name === 'GET /hash').length);
    assert.equal(
      hash.cpuNanos,
      roots.filter((r) => r.name === 'GET /hash').reduce((sum, r) => sum + r.cpuNanos, 0),
    );
  });

  it("should give a trace's spans with each span's own CPU, summing to the root's CPU", async () => {
    const { roots } = JSON.parse((await get(`${viewer.url}/api/traces`)).text) as { roots: ProfiledRoot[] };
    for (const root of roots.filter((r) => r.name === 'GET /report').slice(0, 10)) {
      const trace = JSON.parse((await get(`${viewer.url}/api/traces/${root.traceId}`)).text) as TraceResponse;
      const names = trace.spans.map((s) => s.name);
      assert.equal(names[0], 'GET /report');
      assert.ok(names.includes('render report'), names.join(', '));
      const selfSum = trace.spans.reduce((sum, s) => sum + s.selfCpuNanos, 0);
      assert.ok(Math.abs(selfSum - root.cpuNanos) < 1, `${selfSum} vs ${root.cpuNanos}`);
      assert.ok(Math.abs(trace.spans[0].totalCpuNanos - root.cpuNanos) < 1);
    }
  });

  it('should give folded stacks of a span with its descendants, or its own with ?self=1, and 404 for an unknown span', async () => {
    const { roots } = JSON.parse((await get(`${viewer.url}/api/traces`)).text) as { roots: ProfiledRoot[] };
    // A /report request whose "render report" child holds samples.
    let found = false;
    for (const root of roots.filter((r) => r.name === 'GET /report')) {
      const trace = JSON.parse((await get(`${viewer.url}/api/traces/${root.traceId}`)).text) as TraceResponse;
      const child = trace.spans.find((s) => s.name === 'render report' && s.selfCpuNanos > 0);
      if (!child) continue;
      // Its samples may all be in the file read; look for one in the route's function.
      if (!(await get(`${viewer.url}/api/spans/${child.spanId}/folded?self=1`)).text.includes('buildInventoryReport')) continue;
      found = true;
      const whole = await get(`${viewer.url}/api/spans/${root.rootSpanId}/folded`);
      assert.equal(whole.status, 200);
      assert.match(whole.text, /buildInventoryReport/);
      const total = whole.text
        .trim()
        .split('\n')
        .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
      assert.ok(Math.abs(total - root.cpuNanos) <= whole.text.trim().split('\n').length, `${total} vs ${root.cpuNanos}`);
      const own = await get(`${viewer.url}/api/spans/${root.rootSpanId}/folded?self=1`);
      assert.equal(own.status, 200);
      const childFolded = await get(`${viewer.url}/api/spans/${child.spanId}/folded?self=1`);
      assert.match(childFolded.text, /buildInventoryReport/);
      // The root's own samples and its child's make up the whole request.
      const sum = (text: string): number =>
        text
          .trim()
          .split('\n')
          .filter(Boolean)
          .reduce((acc, line) => acc + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
      assert.ok(Math.abs(sum(own.text) + sum(childFolded.text) - total) <= 2, `${sum(own.text)} + ${sum(childFolded.text)} vs ${total}`);
      break;
    }
    assert.ok(found, 'a /report request with samples of buildInventoryReport in its render report span');
    assert.equal((await get(`${viewer.url}/api/spans/0123456789abcdef/folded`)).status, 404);
    assert.equal((await get(`${viewer.url}/api/spans/nothex/folded`)).status, 400);
    assert.equal((await get(`${viewer.url}/api/traces/0123456789abcdef0123456789abcdef`)).status, 404);
  });

  it('should serve the pages and deep links', async () => {
    const { roots } = JSON.parse((await get(`${viewer.url}/api/traces`)).text) as { roots: ProfiledRoot[] };
    for (const path of ['/', `/trace/${roots[0].traceId}`, `/span/${roots[0].rootSpanId}`]) {
      const page = await get(viewer.url + path);
      assert.equal(page.status, 200, path);
      assert.match(page.text, /d3-flamegraph\.min\.js/);
    }
    assert.equal((await get(`${viewer.url}/vendor/d3-flamegraph.min.js`)).status, 200);
    assert.equal((await get(`${viewer.url}/static/../package.json`)).status, 404);
  });

  it('should keep only the last maxTraces traces', () => {
    const store = storeFrom(run, { maxTraces: 5 });
    const traces = new Set(store.roots().map((r) => r.traceId));
    assert.ok(traces.size <= 5 && traces.size > 0, `${traces.size}`);
    assert.ok(store.stats.tracesEvicted > 0);
    assert.throws(() => new TraceStore({ maxTraces: 0 }), /maxTraces must be a positive integer, got 0/);
  });

  describe('OTLP endpoint', () => {
    let endpoint: RunningViewer;
    let store: TraceStore;
    let outDir: string;

    before(async () => {
      store = new TraceStore();
      outDir = join(mkdtempSync(join(tmpdir(), 'osp-viewer-out-')), 'received');
      endpoint = await startViewer({ store, port: 0, otlpPort: 0, outputDir: outDir });
    });
    after(() => endpoint?.close());

    it("should receive the example service's traces (JSON) and profiles (protobuf, gzip) over OTLP/HTTP", async () => {
      const sent = await runExampleService({ seconds: 2, otlpEndpoint: endpoint.otlpUrl });
      assert.equal(existsSync(sent.profilesFile), false, 'the service wrote to a file instead of the endpoint');
      const roots = store.roots();
      assert.ok(roots.length > 5, `${roots.length} roots`);
      assert.ok(roots.every((r) => r.hasSpan && r.service === 'viewer-test-service'));
      const api = JSON.parse((await get(`${endpoint.url}/api/traces`)).text) as { roots: ProfiledRoot[] };
      assert.equal(api.roots.length, roots.length);
      // A request may hold a single sample; all /hash requests together hold the route's function.
      let hashFolded = '';
      for (const root of roots.filter((r) => r.name === 'GET /hash'))
        hashFolded += (await get(`${endpoint.url}/api/spans/${root.rootSpanId}/folded`)).text;
      assert.match(hashFolded, /deriveKeyChain/);
      // What arrived was appended to the output folder, readable as input again.
      assert.deepEqual(readdirSync(outDir).sort(), ['profiles.jsonl', 'traces.jsonl']);
      const again = new TraceStore();
      const requests = readOtlpFiles([outDir]);
      for (const { request } of requests.traces) again.addTraces(request);
      for (const { request } of requests.profiles) again.addProfiles(request);
      assert.deepEqual(
        again
          .roots()
          .map((r) => [r.traceId, r.cpuNanos])
          .sort(),
        roots.map((r) => [r.traceId, r.cpuNanos]).sort(),
      );
    });

    it("should take profiles as OTLP JSON and answer in the request's encoding", async () => {
      const before = store.stats.samplesReceived;
      const { request } = readOtlpFiles([run.profilesFile]).profiles[0];
      const res = await fetch(`${endpoint.otlpUrl}/v1development/profiles`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(request),
      });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-type'), 'application/json');
      assert.equal(await res.text(), '{}');
      assert.ok(store.stats.samplesReceived > before);
    });

    it('should refuse other content types (415), undecodable bodies (400) and other methods (405)', async () => {
      const post = (body: Uint8Array | string, headers: Record<string, string>): Promise<Response> =>
        fetch(`${endpoint.otlpUrl}/v1development/profiles`, { method: 'POST', headers, body });
      assert.equal((await post('x', { 'content-type': 'text/plain' })).status, 415);
      assert.equal((await post(Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f]), { 'content-type': 'application/x-protobuf' })).status, 400);
      assert.equal((await post('{not json', { 'content-type': 'application/json' })).status, 400);
      assert.equal((await fetch(`${endpoint.otlpUrl}/v1/traces`)).status, 405);
      const body = gzipSync(encodeRequestProtobuf({ resourceProfiles: [], dictionary: { stringTable: [''] } } as never));
      assert.equal((await post(body, { 'content-type': 'application/x-protobuf', 'content-encoding': 'gzip' })).status, 200);
    });
  });
});
