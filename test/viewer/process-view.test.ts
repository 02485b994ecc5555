/*
 * The viewer's process view (issue 20 §4): continuous mode's process profiles, sampled for real by
 * the ProfilingSpanProcessor and encoded by the library's encoders, read back by the TraceStore and
 * served by GET /api/process; then its bound, its frame-table trim and hostile profile attributes
 * with hand-made requests.
 */
import * as assert from 'node:assert/strict';
import { context, ROOT_CONTEXT } from '@opentelemetry/api';
import { request as httpRequest } from 'node:http';
import { decodeProfilesRequest } from '../../src/convert/otlp-protobuf';
import { OtlpContentError } from '../../src/convert/profile-samples';
import { encodeJson, encodeProtobuf } from '../../src/otlp/otlp-encoding';
import type { ProfileSample, SpanProfile } from '../../src/profile/span-profile';
import { TraceStore, type ProcessView } from '../../src/viewer/trace-store';
import { startViewer, type RunningViewer } from '../../src/viewer/viewer-server';
import { burnOutsideSpansUntilSampled, namedHotFunction, setUpProfiledTracing, waitUntilSampled } from '../helpers/tracing';
import { CONTINUOUS, profilesRequest, type HandMadeProfile } from './hostile-profile';

const BACKGROUND = 'proc_view_background';
const REQUESTS = 8;

/** GET with the headers exactly as given (fetch would not let a test set Host). */
function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** Two periods of continuous mode: requests with spans and background work with none, then background work alone. */
async function sampleTwoPeriods(): Promise<SpanProfile[]> {
  const tracing = setUpProfiledTracing({ mode: 'continuous', continuousPeriodMillis: 3_600_000 });
  const { tracer, processor } = tracing;
  try {
    const burn = namedHotFunction(BACKGROUND);
    // Started outside any span: its callbacks run with no active span.
    const background = context.with(ROOT_CONTEXT, () => setInterval(() => burn(4), 10));
    const pause = () => new Promise((r) => setTimeout(r, 2));
    try {
      await Promise.all(
        Array.from({ length: REQUESTS }, (_, i) =>
          tracer.startActiveSpan(`GET /proc/${i % 2}`, async (root) => {
            const hot = namedHotFunction(`proc_view_req_${i}`);
            for (let step = 0; step < 6; step++) {
              hot(4);
              await pause();
            }
            root.end();
          }),
        ),
      );
      await burnOutsideSpansUntilSampled(processor, burn, 10);
      await processor.forceFlush();
      await waitUntilSampled(processor, 20);
      // The second period: samples outside spans for certain.
      await burnOutsideSpansUntilSampled(processor, burn, 10);
    } finally {
      clearInterval(background);
    }
    // Shut down, not flushed: the exported profiles then hold still.
    await processor.shutdown();
    return tracing.exporter.getFinishedProfiles();
  } finally {
    await tracing.close();
  }
}

function processSamples(profiles: readonly SpanProfile[]): ProfileSample[] {
  return profiles.flatMap((p) => (p.kind === 'process' ? p.samples : []));
}

/** The leaf function's name as the OTLP encoding writes it. */
function leafName(sample: ProfileSample): string {
  return sample.stack.length === 0 ? '(program)' : sample.stack[0].functionName || '(anonymous)';
}

function countBy<T>(items: readonly T[], key: (item: T) => string, weight: (item: T) => number = () => 1): Map<string, number> {
  const out = new Map<string, number>();
  for (const item of items) out.set(key(item), (out.get(key(item)) ?? 0) + weight(item));
  return out;
}

function sorted(map: Map<string, number>): [string, number][] {
  return [...map].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

describe('viewer process view (issue 20 §4)', function () {
  this.timeout(60_000);

  describe('from real process profiles', () => {
    let profiles: SpanProfile[];
    let samples: ProfileSample[];
    let store: TraceStore;
    let view: ProcessView;

    before(async () => {
      profiles = await sampleTwoPeriods();
      samples = processSamples(profiles);
      store = new TraceStore();
      store.addProfiles(decodeProfilesRequest(encodeProtobuf(profiles)));
      view = store.processView({ top: 1000 });
    });

    it('should sample enough, inside and outside spans, in more than one period, for the checks below', () => {
      assert.ok(profiles.length >= 2, `${profiles.length} profiles with samples (a period with none is not exported)`);
      assert.ok(
        profiles.every((p) => p.kind === 'process'),
        'a profile that is not a process profile',
      );
      const inside = samples.filter((s) => s.root !== undefined).length;
      const counts = `${inside} samples inside spans, ${samples.length - inside} outside, in ${profiles.length} profiles`;
      assert.ok(inside >= 10, `too few samples inside spans: ${counts}`);
      assert.ok(samples.length - inside >= 5, `too few samples outside spans: ${counts}`);
    });

    it('should count every process sample once, split by whether it has a Link, and give the share inside spans', () => {
      const linked = samples.filter((s) => s.root !== undefined);
      assert.equal(view.totalSamples, samples.length);
      assert.equal(view.inSpansSamples, linked.length);
      assert.equal(view.outsideSpansSamples, samples.length - linked.length);
      assert.equal(view.periods, profiles.filter((p) => p.samples.length > 0).length);
      assert.equal(store.stats.processSamplesReceived, store.stats.samplesReceived);
      assert.equal(store.stats.processSamplesDropped, 0);
      assert.ok(view.inSpansCpuNanos > 0 && view.outsideSpansCpuNanos > 0);
      assert.ok(Math.abs(view.inSpansCpuNanos + view.outsideSpansCpuNanos - view.totalCpuNanos) < 1);
      assert.ok(Math.abs(view.inSpansPercent - (100 * view.inSpansCpuNanos) / view.totalCpuNanos) < 1e-9);
      assert.ok(view.inSpansPercent > 0 && view.inSpansPercent < 100, `${view.inSpansPercent}%`);
      if (samples.every((s) => s.cpuNanos > 0)) {
        // Measured CPU (Linux): each sample's value is its CPU time.
        const cpu = (list: ProfileSample[]) => list.reduce((sum, s) => sum + s.cpuNanos, 0);
        assert.ok(Math.abs(view.inSpansCpuNanos - cpu(linked)) < 1, `${view.inSpansCpuNanos} vs ${cpu(linked)}`);
        assert.ok(Math.abs(view.totalCpuNanos - cpu(samples)) < 1);
      }
    });

    it('should span the periods from the first sample to the last', () => {
      const times = samples.map((s) => s.timeUnixNano);
      const first = times.reduce((a, b) => (b < a ? b : a));
      const last = times.reduce((a, b) => (b > a ? b : a));
      assert.ok(BigInt(view.startUnixNano) > 0n && BigInt(view.startUnixNano) <= first, `${view.startUnixNano} vs ${first}`);
      assert.ok(BigInt(view.endUnixNano) >= last, `${view.endUnixNano} vs ${last}`);
    });

    it('should rank the functions outside spans by their leaf samples, exactly as sampled', () => {
      const outside = samples.filter((s) => s.root === undefined);
      const shown = countBy(
        view.topOutsideSpans,
        (f) => f.name,
        (f) => f.selfSamples,
      );
      assert.deepEqual(sorted(shown), sorted(countBy(outside, leafName)));
      for (let i = 1; i < view.topOutsideSpans.length; i++) {
        assert.ok(view.topOutsideSpans[i].selfCpuNanos <= view.topOutsideSpans[i - 1].selfCpuNanos, `row ${i} is out of order`);
      }
      // The background work is outside spans, under its own function.
      const background = outside.filter((s) => s.stack.some((f) => f.functionName === BACKGROUND));
      assert.ok(background.length > 0, `no sample of ${BACKGROUND} outside spans`);
      // The default table is the top 20.
      assert.equal(store.processView().topOutsideSpans.length, Math.min(20, view.topOutsideSpans.length));
    });

    it('should merge every process sample into the flame graph', () => {
      assert.equal(view.flame.samples, samples.length);
      assert.ok(Math.abs(view.flame.value - view.totalCpuNanos) < 1);
      const names = new Set<string>();
      const walk = (node: ProcessView['flame']): void => {
        names.add(node.name.replace(/ \(.*\)$/, ''));
        node.children.forEach(walk);
      };
      walk(view.flame);
      assert.ok(names.has(BACKGROUND), `no ${BACKGROUND} frame`);
      assert.ok(
        [...names].some((n) => n.startsWith('proc_view_req_')),
        'no request frame',
      );
    });

    it('should still charge the linked samples to their traces', () => {
      const linked = samples.filter((s) => s.root !== undefined);
      const perRoot = countBy(linked, (s) => s.root!.spanId);
      const roots = store.roots();
      assert.deepEqual(sorted(new Map(roots.map((r) => [r.rootSpanId, r.samples]))), sorted(perRoot));
    });

    it('should read the same view from OTLP JSON', () => {
      const fromJson = new TraceStore();
      fromJson.addProfiles(JSON.parse(encodeJson(profiles)));
      assert.deepEqual(JSON.parse(JSON.stringify(fromJson.processView({ top: 1000 }))), JSON.parse(JSON.stringify(view)));
    });

    it('should narrow the view to one service, and give an empty view for another', () => {
      assert.equal(view.services.length, 1);
      const [service] = view.services;
      const narrowed = store.processView({ service, top: 1000 });
      assert.equal(narrowed.service, service);
      assert.equal(narrowed.totalSamples, view.totalSamples);
      const other = store.processView({ service: 'no-such-service' });
      assert.equal(other.totalSamples, 0);
      assert.equal(other.inSpansPercent, 0);
      assert.equal(other.periods, 0);
      assert.deepEqual(other.topOutsideSpans, []);
      assert.deepEqual(other.services, view.services);
    });

    describe('GET /api/process', () => {
      let viewer: RunningViewer;

      before(async () => {
        viewer = await startViewer({ store, port: 0 });
      });
      after(() => viewer?.close());

      it('should answer the process view as JSON, with the store counters', async () => {
        const answer = await get(`${viewer.url}/api/process`);
        assert.equal(answer.status, 200);
        const body = JSON.parse(answer.text) as ProcessView & { cpuMeasured: boolean; stats: TraceStore['stats'] };
        const { cpuMeasured, stats, ...rest } = body;
        assert.deepEqual(rest, JSON.parse(JSON.stringify(store.processView())));
        assert.equal(cpuMeasured, store.cpuMeasured);
        assert.equal(stats.processSamplesReceived, store.stats.processSamplesReceived);
        assert.ok(body.topOutsideSpans.length > 0);
      });

      it('should narrow to ?service=, percent-encoded', async () => {
        const service = store.processView().services[0];
        const one = JSON.parse((await get(`${viewer.url}/api/process?service=${encodeURIComponent(service)}`)).text) as ProcessView;
        assert.equal(one.totalSamples, samples.length);
        const none = JSON.parse(
          (await get(`${viewer.url}/api/process?service=${encodeURIComponent('<none> & more')}`)).text,
        ) as ProcessView;
        assert.equal(none.service, '<none> & more');
        assert.equal(none.totalSamples, 0);
      });

      it('should serve the page at /process, refuse other hosts and stay read-only', async () => {
        const page = await get(`${viewer.url}/process?service=x`);
        assert.equal(page.status, 200);
        assert.match(page.text, /d3-flamegraph\.min\.js/);
        const port = new URL(viewer.url).port;
        assert.equal((await get(`${viewer.url}/api/process`, { host: `rebind.example:${port}` })).status, 403);
        assert.equal((await fetch(`${viewer.url}/api/process`, { method: 'POST', body: '{}' })).status, 405);
      });
    });
  });

  describe('hand-made process profiles', () => {
    /** One continuous-mode profile of one sample outside any span, its leaf named `leaf`. */
    function outsideSample(leaf: string, extra: Partial<HandMadeProfile> = {}): object {
      return profilesRequest({ functions: ['main', leaf], values: [1_000_000], unlinked: true, profileAttributes: [CONTINUOUS], ...extra })
        .request;
    }

    it('should keep span profiles out of the process view', () => {
      const store = new TraceStore();
      store.addProfiles(profilesRequest({ functions: ['handler'], values: [1_000_000] }).request);
      store.addProfiles(profilesRequest({ functions: ['idle'], values: [1_000_000], unlinked: true }).request);
      assert.equal(store.stats.samplesReceived, 2);
      assert.equal(store.stats.processSamplesReceived, 0);
      assert.equal(store.processView().totalSamples, 0);
      assert.equal(store.roots().length, 1);
    });

    it('should keep the last maxProcessSamples samples, dropping the oldest first and counting them', () => {
      const store = new TraceStore({ maxProcessSamples: 3 });
      for (let i = 0; i < 5; i++) store.addProfiles(outsideSample(`leaf_${i}`));
      const view = store.processView();
      assert.equal(view.totalSamples, 3);
      assert.equal(view.periods, 3);
      assert.deepEqual(view.topOutsideSpans.map((f) => f.name).sort(), ['leaf_2', 'leaf_3', 'leaf_4']);
      assert.equal(store.stats.processSamplesReceived, 5);
      assert.equal(store.stats.processSamplesDropped, 2);
      assert.throws(() => new TraceStore({ maxProcessSamples: 0 }), /maxProcessSamples must be a positive integer, got 0/);
    });

    it('should count a linked process sample inside spans, and keep it in its trace too', () => {
      const store = new TraceStore();
      const made = profilesRequest({ functions: ['handler'], values: [3_000_000], profileAttributes: [CONTINUOUS] });
      store.addProfiles(made.request);
      store.addProfiles(outsideSample('timer', { values: [1_000_000] }));
      const view = store.processView();
      assert.equal(view.inSpansCpuNanos, 3_000_000);
      assert.equal(view.outsideSpansCpuNanos, 1_000_000);
      assert.equal(view.inSpansPercent, 75);
      assert.deepEqual(
        view.topOutsideSpans.map((f) => [f.name, f.file, f.selfCpuNanos, f.totalCpuNanos]),
        [['timer', '/srv/app.js', 1_000_000, 1_000_000]],
      );
      assert.equal(store.spanSamples(made.spanId, false)?.length, 1);
    });

    it('should renumber the process samples when the frame table is trimmed, a sample in a trace too', () => {
      const store = new TraceStore({ maxProcessSamples: 50 });
      const linked = profilesRequest({ functions: ['kept_handler'], values: [1_000_000], profileAttributes: [CONTINUOUS] });
      // Requests of 2 distinct frames each, until the table passes 4 096 frames and is rebuilt; the
      // linked sample comes shortly before, so it is in the process view and its trace at the trim.
      let i = 0;
      for (let trimmed = false; !trimmed; i++) {
        assert.ok(i < 5000, 'the frame table was never trimmed');
        if (i === 2030) store.addProfiles(linked.request);
        const before = store.frames.length;
        const functions = [`outer_${i}`, `leaf_${i}`];
        store.addProfiles(profilesRequest({ functions, values: [1_000_000], unlinked: true, profileAttributes: [CONTINUOUS] }).request);
        trimmed = store.frames.length < before;
      }
      assert.ok(i > 2030 + 1 && i < 2030 + 49, `trimmed after request ${i - 1}: the linked sample is not among the last 50`);
      const view = store.processView({ top: 100 });
      assert.equal(view.totalSamples, 50);
      assert.equal(view.inSpansSamples, 1);
      // The 49 outside spans are the last 49 requests', each stack still outermost first.
      assert.deepEqual(view.topOutsideSpans.map((f) => f.name).sort(), Array.from({ length: 49 }, (_, k) => `leaf_${i - 49 + k}`).sort());
      for (const child of view.flame.children) {
        if (child.name === 'kept_handler (app.js)') continue;
        assert.match(child.name, /^outer_\d+ \(app\.js\)$/);
        assert.deepEqual(
          child.children.map((c) => c.name),
          [child.name.replace('outer_', 'leaf_')],
        );
      }
      assert.ok(view.flame.children.some((c) => c.name === 'kept_handler (app.js)'));
      const traceSamples = store.spanSamples(linked.spanId, false)!;
      assert.equal(store.frames[traceSamples[0].stack[0]].name, 'kept_handler');
    });

    it('should read a profile attribute of the wrong type as "not a process profile", and never throw for a value', () => {
      const store = new TraceStore();
      const wrong: unknown[] = [
        { boolValue: 'true' },
        { stringValue: 'true' },
        { intValue: '1e400' },
        { doubleValue: Number.MAX_VALUE },
        { arrayValue: { values: [{ boolValue: true }] } },
        { kvlistValue: 'x' },
        null,
        [],
        'true',
        { boolValue: false },
      ];
      for (const value of wrong) {
        store.addProfiles(outsideSample('odd', { profileAttributes: [{ key: CONTINUOUS.key, value }] }));
      }
      assert.equal(store.stats.samplesReceived, wrong.length);
      assert.equal(store.processView().totalSamples, 0);
    });

    it('should take hostile profile windows and names without throwing', () => {
      const store = new TraceStore();
      const windows: [unknown, unknown][] = [
        ['not a number', '-5'],
        [1e300, 1e300],
        [{ low: -1, high: -1 }, 'abc'],
        [-1, -1],
      ];
      for (const [timeUnixNano, durationNano] of windows) store.addProfiles(outsideSample('w', { timeUnixNano, durationNano }));
      store.addProfiles(outsideSample('<img src=x onerror=alert(1)>', { serviceName: '<script>' }));
      const view = store.processView();
      assert.equal(view.totalSamples, windows.length + 1);
      assert.ok(BigInt(view.endUnixNano) >= BigInt(view.startUnixNano));
      assert.deepEqual(view.services, ['<script>', 'hostile-input']);
      assert.ok(JSON.stringify(view).includes('<img src=x onerror=alert(1)>'));
    });

    it('should refuse a profile attribute index outside the table as content, keeping nothing of the request', () => {
      const store = new TraceStore();
      const request = outsideSample('x') as { resourceProfiles: { scopeProfiles: { profiles: { attributeIndices: number[] }[] }[] }[] };
      request.resourceProfiles[0].scopeProfiles[0].profiles[0].attributeIndices = [99];
      assert.throws(() => store.addProfiles(request), OtlpContentError);
      assert.throws(() => store.addProfiles(request), /profile attribute index 99 is outside its table/);
      assert.equal(store.processView().totalSamples, 0);
      assert.equal(store.stats.samplesReceived, 0);
    });
  });
});
