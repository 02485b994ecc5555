import * as assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadNativeAddon } from '../../src/sampler/native/pprof-addon';
import { buildCollector, repoRoot, type RunningCollector } from '../helpers/collector';
import {
  buildJaeger,
  rootSpanOf,
  startCollectorInFront,
  startJaeger,
  tagOf,
  type JaegerSpan,
  type JaegerTrace,
  type RunningJaeger,
} from '../helpers/jaeger';
import { driveLoad, ExampleService, exampleServiceEnv, HOT_FUNCTIONS, ROUTES } from './example-service';
import { parseFolded, valueOfFunction, ViewerProcess, type FoldedLine } from './jaeger-viewer';

const LOAD_MILLIS = 4000;
const CONCURRENCY = 8;
const PROFILE_ID = 'pyroscope.profile.id';
/** The viewer origin written in docs/jaeger/jaeger-ui.json; the test swaps in its own viewer's. */
const DOCUMENTED_VIEWER_ORIGIN = 'http://127.0.0.1:8686';

interface LinkPattern {
  type?: string;
  key?: string;
  url: string;
  text: string;
}

/**
 * A link pattern's URL for one tag, as the Jaeger UI computes it: each `#{name}` is replaced by
 * the URL-encoded value of the span tag `name` (jaeger-ui src/model/link-patterns).
 */
function expandLink(pattern: LinkPattern, span: JaegerSpan): string {
  return pattern.url.replace(/#\{([^{}]*)\}/g, (_, name: string) => {
    const value = tagOf(span, name);
    if (value === undefined) throw new Error(`span ${span.spanID} has no tag ${name}`);
    return encodeURIComponent(String(value));
  });
}

/** A `traces` link pattern's URL, as the Jaeger UI computes it: `#{name}` from the trace's own fields. */
function expandTraceLink(pattern: LinkPattern, trace: JaegerTrace): string {
  return pattern.url.replace(/#\{([^{}]*)\}/g, (_, name: string) => {
    const value = (trace as unknown as Record<string, unknown>)[name];
    if (typeof value !== 'string' && typeof value !== 'number') throw new Error(`trace ${trace.traceID} has no field ${name}`);
    return encodeURIComponent(String(value));
  });
}

describe('Correlation in Jaeger, end to end (service -> Collector -> Jaeger, profiles -> viewer)', function () {
  const serviceName = `jaeger-e2e-${randomBytes(3).toString('hex')}`;
  const docsDir = path.join(repoRoot(), 'docs', 'jaeger');
  let jaeger: RunningJaeger | undefined;
  let collector: RunningCollector | undefined;
  let service: ExampleService | undefined;
  let viewer: ViewerProcess | undefined;
  let viewerError: unknown;
  let uiConfigPath = '';
  let statuses = new Map<string, number[]>();
  let serviceExitCode: number | null = null;
  let traces: JaegerTrace[] = [];
  /** Root spans found in Jaeger, per route. */
  const rootsByRoute = new Map<string, { trace: JaegerTrace; root: JaegerSpan }[]>();

  before(async function () {
    // npm test's pretest step builds both; run alone, a cold Jaeger build (~2300 Go packages, 28 min
    // on 2 busy cores) happens here with no time limit, and fails (never skips) if it breaks.
    this.timeout(0);
    await buildCollector();
    await buildJaeger();
    this.timeout(180_000);

    // The viewer is optional for the Jaeger half of this suite: when it does not start, the tests
    // that need it fail with its error, and profiles go to the Collector's debug exporter only.
    try {
      viewer = await ViewerProcess.start();
    } catch (error) {
      viewerError = error;
    }
    // The documented UI config, pointed at this test's viewer.
    const documented = fs.readFileSync(path.join(docsDir, 'jaeger-ui.json'), 'utf8');
    uiConfigPath = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'jaeger-ui-')), 'jaeger-ui.json');
    fs.writeFileSync(uiConfigPath, documented.split(DOCUMENTED_VIEWER_ORIGIN).join(viewer?.url ?? DOCUMENTED_VIEWER_ORIGIN));

    jaeger = await startJaeger({ uiConfigFile: uiConfigPath });
    collector = await startCollectorInFront({
      traces: viewer ? [jaeger.otlpEndpoint, viewer.otlpUrl] : [jaeger.otlpEndpoint],
      profiles: viewer ? [viewer.otlpUrl] : [],
    });
    service = await ExampleService.start(exampleServiceEnv(collector.endpoint, serviceName));
    statuses = await driveLoad(service.url, ROUTES, LOAD_MILLIS, CONCURRENCY);
    serviceExitCode = await service.stop();
    // The Collector drains its exporters' queues on shutdown: after it exits, Jaeger and the viewer have everything.
    await collector.stop();

    const requests = [...statuses.values()].reduce((sum, codes) => sum + codes.length, 0);
    traces = await jaeger.findTraces(serviceName, requests + 100);
    for (const trace of traces) {
      const root = rootSpanOf(trace);
      const route = root === undefined ? undefined : tagOf(root, 'http.route');
      if (typeof route !== 'string') continue;
      rootsByRoute.set(route, [...(rootsByRoute.get(route) ?? []), { trace, root: root! }]);
    }
  });

  after(async function () {
    this.timeout(60_000);
    await service?.stop();
    await collector?.stop();
    await jaeger?.stop();
    await viewer?.stop();
  });

  function context(): string {
    return `service stderr:\n${service?.stderr}\ncollector log (tail):\n${collector?.stderr.slice(-2000)}\njaeger log (tail):\n${jaeger?.logs.slice(-2000)}`;
  }

  /** The profiled roots (with pyroscope.profile.id) of a route's traces in Jaeger. */
  function profiledRoots(route: string): { trace: JaegerTrace; root: JaegerSpan }[] {
    return (rootsByRoute.get(route) ?? []).filter(({ root }) => tagOf(root, PROFILE_ID) !== undefined);
  }

  function linkPatterns(): LinkPattern[] {
    return (JSON.parse(fs.readFileSync(uiConfigPath, 'utf8')) as { linkPatterns: LinkPattern[] }).linkPatterns;
  }

  describe('Jaeger', function () {
    it('should accept docs/jaeger/jaeger.yaml (jaeger validate)', async function () {
      const binary = await buildJaeger();
      await new Promise<void>((resolve, reject) => {
        execFile(binary, ['validate', '--config', path.join(docsDir, 'jaeger.yaml')], { cwd: docsDir }, (error, stdout, stderr) => {
          if (error) reject(new Error(`jaeger validate failed: ${error.message}\n${stdout}\n${stderr}`));
          else resolve();
        });
      });
    });

    it('should store one trace per request, its root span named after the route', function () {
      assert.equal(serviceExitCode, 0, context());
      for (const route of ROUTES) {
        const codes = statuses.get(route) ?? [];
        assert.ok(codes.length >= 10, `only ${codes.length} requests to ${route}`);
        assert.deepEqual(
          codes.filter((code) => code !== 200),
          [],
          `non-200 answers on ${route}`,
        );
        const roots = rootsByRoute.get(route) ?? [];
        assert.equal(roots.length, codes.length, `${codes.length} requests to ${route}, ${roots.length} traces in Jaeger. ${context()}`);
        for (const { trace, root } of roots) {
          assert.equal(root.operationName, `GET ${route}`);
          assert.equal(trace.processes[root.processID]?.serviceName, serviceName);
        }
      }
    });

    it('should give pyroscope.profile.id = the root span id on profiled roots, read back by trace id', async function () {
      for (const route of ROUTES) {
        const profiled = profiledRoots(route);
        assert.ok(profiled.length > 0, `no root of ${route} carries ${PROFILE_ID} in Jaeger`);
        // Read each back the way a user's link does: by trace id.
        for (const { trace } of profiled.slice(0, 5)) {
          const stored = await jaeger!.trace(trace.traceID);
          assert.equal(stored.traceID, trace.traceID);
          const root = rootSpanOf(stored);
          assert.ok(root !== undefined, `trace ${trace.traceID} has no root span`);
          assert.match(root.spanID, /^[0-9a-f]{16}$/);
          assert.equal(tagOf(root, PROFILE_ID), root.spanID);
        }
      }
      // Only local roots carry it.
      const childrenWithId = traces
        .flatMap((trace) => trace.spans)
        .filter((span) => span.references.length > 0 && tagOf(span, PROFILE_ID) !== undefined);
      assert.deepEqual(
        childrenWithId.map((span) => span.operationName),
        [],
      );
    });

    it('should serve the documented linkPatterns to its UI', async function () {
      const { status, body } = await jaeger!.get('/');
      assert.equal(status, 200);
      const match = /JAEGER_CONFIG = (\{.*\});/.exec(body);
      assert.ok(match !== null, `no JAEGER_CONFIG in the UI page:\n${body.slice(0, 2000)}`);
      const served = JSON.parse(match[1]) as { linkPatterns: LinkPattern[] };
      assert.deepEqual(served.linkPatterns, linkPatterns());
      const spanLink = served.linkPatterns.find((pattern) => pattern.type === 'tags' && pattern.key === PROFILE_ID);
      assert.ok(spanLink !== undefined, 'no linkPattern on the pyroscope.profile.id tag');
      assert.ok(spanLink.url.includes('/span/#{pyroscope.profile.id}'), spanLink.url);
    });

    it('should log no error', function () {
      assert.ok(jaeger!.logs.includes('Everything is ready'), 'no Jaeger log captured');
      assert.deepEqual(jaeger!.errorLines(), []);
      assert.deepEqual(collector!.errorLines(), []);
    });
  });

  describe('viewer, reached from Jaeger', function () {
    before(function () {
      if (viewerError !== undefined) throw viewerError instanceof Error ? viewerError : new Error(String(viewerError));
    });

    /** The folded stacks the viewer serves for a span id (`?self=1`: the span's own samples only). */
    /**
     * A span's folded stacks. With `missingIsEmpty`, a span the viewer never saw (404) reads as no
     * samples: under the native engine a root may be tagged profiled and have no profile (below).
     */
    async function folded(spanIdHex: string, self = false, missingIsEmpty = false): Promise<FoldedLine[]> {
      const { status, body } = await viewer!.get(`/api/spans/${spanIdHex}/folded${self ? '?self=1' : ''}`);
      if (missingIsEmpty && status === 404) return [];
      assert.equal(status, 200, `GET /api/spans/${spanIdHex}/folded: ${status} ${body.slice(0, 300)}`);
      return parseFolded(body);
    }

    it('should open the viewer pages the Jaeger links of each profiled trace point to', async function () {
      const spanPattern = linkPatterns().find((p) => p.type === 'tags' && p.key === PROFILE_ID)!;
      const tracePattern = linkPatterns().find((p) => p.type === 'traces')!;
      for (const route of ROUTES) {
        for (const { trace, root } of profiledRoots(route).slice(0, 5)) {
          const spanLink = expandLink(spanPattern, root);
          assert.equal(spanLink, `${viewer!.url}/span/${root.spanID}`);
          const traceLink = expandTraceLink(tracePattern, trace);
          assert.equal(traceLink, `${viewer!.url}/trace/${trace.traceID}`);
          for (const link of [spanLink, traceLink]) {
            const page = await fetch(link);
            await page.arrayBuffer();
            assert.equal(page.status, 200, `GET ${link}`);
          }
          // The data behind the trace page: the spans Jaeger has, under the same ids.
          const { status, body } = await viewer!.get(`/api/traces/${trace.traceID}`);
          assert.equal(status, 200, `GET /api/traces/${trace.traceID}: ${body.slice(0, 300)}`);
          for (const span of trace.spans)
            assert.ok(body.includes(span.spanID), `the viewer's trace ${trace.traceID} lacks span ${span.spanID}`);
        }
      }
    });

    it('should list every root Jaeger shows as profiled, under the same trace id, name and service', async function () {
      const { status, body } = await viewer!.get('/api/traces');
      assert.equal(status, 200);
      const listed = new Map(
        (JSON.parse(body) as { roots: { traceId: string; rootSpanId: string; service: string; name: string }[] }).roots.map((root) => [
          root.rootSpanId,
          root,
        ]),
      );
      // The native engine (the service's default where the addon loads) decides pyroscope.profile.id
      // at the root's end, before the root's samples arrive: a root with samples in its window but
      // none of its own carries the tag and has no profile (docs/configuration.md,
      // pyroscopeProfileIdAttribute; a known gap of issue 19). Every root the viewer lists is still checked.
      const native = !('error' in loadNativeAddon());
      let checked = 0;
      for (const route of ROUTES) {
        for (const { trace, root } of profiledRoots(route)) {
          const entry = listed.get(root.spanID);
          if (native && entry === undefined) continue;
          checked++;
          assert.ok(entry !== undefined, `the viewer does not list ${route} root ${root.spanID}`);
          assert.deepEqual(
            { traceId: entry.traceId, name: entry.name, service: entry.service },
            { traceId: trace.traceID, name: root.operationName, service: serviceName },
          );
        }
      }
      assert.ok(checked > 0, 'no root that Jaeger shows as profiled is listed by the viewer');
    });

    it("should give each profiled root's flame graph, with its route's own function and no other route's", async function () {
      const native = !('error' in loadNativeAddon());
      for (const [route, own] of Object.entries(HOT_FUNCTIONS)) {
        let ownValue = 0;
        for (const { root } of profiledRoots(route)) {
          const lines = await folded(String(tagOf(root, PROFILE_ID)), false, native);
          // pyroscope.profile.id is only set on roots that received samples, exactly with the probe
          // engine; the native engine may tag a root whose window had samples of others (see above).
          if (native && lines.length === 0) continue;
          assert.ok(lines.length > 0, `the viewer has no samples for ${route} root ${root.spanID}`);
          ownValue += valueOfFunction(lines, own);
          for (const other of Object.values(HOT_FUNCTIONS).filter((fn) => fn !== own)) {
            assert.equal(valueOfFunction(lines, other), 0, `${other} in the flame graph of ${route} root ${root.spanID}`);
          }
        }
        assert.ok(ownValue > 0, `${own} is in no flame graph of a ${route} root`);
      }
    });

    it('should narrow to a child span by the span id Jaeger shows for it', async function () {
      // /report renders in a child span "render report", the only code that runs
      // buildInventoryReport: the root's whole-request flame graph is the root's own samples plus
      // the child's, and the child's holds the function.
      const native = !('error' in loadNativeAddon());
      let rootWhole = 0;
      let rootOwn = 0;
      let child = 0;
      for (const { trace, root } of profiledRoots('/report')) {
        const render = trace.spans.find((span) => span.operationName === 'render report');
        assert.ok(render !== undefined, `trace ${trace.traceID} has no "render report" span in Jaeger`);
        const whole = await folded(root.spanID, false, native);
        // Native: a root tagged profiled with no profile of its own (see the listing test).
        if (native && whole.length === 0) continue;
        rootWhole += valueOfFunction(whole, 'buildInventoryReport');
        rootOwn += valueOfFunction(await folded(root.spanID, true), 'buildInventoryReport');
        const { status, body } = await viewer!.get(`/api/spans/${render.spanID}/folded`);
        // A span the viewer knows without samples may answer 404 or an empty 200.
        if (status === 200) child += valueOfFunction(parseFolded(body), 'buildInventoryReport');
        else assert.equal(status, 404, `GET /api/spans/${render.spanID}/folded: ${status}`);
      }
      assert.ok(child > 0, "buildInventoryReport is in no render report span's flame graph");
      assert.equal(rootOwn + child, rootWhole, "the /report roots' own and child flame graphs do not add up to the whole request");
      assert.ok(child > rootOwn, `buildInventoryReport charged to the root (${rootOwn}) more than to its child (${child})`);
    });

    it('should answer 404 for a span id it never saw', async function () {
      const { status } = await viewer!.get(`/api/spans/${randomBytes(8).toString('hex')}/folded`);
      assert.equal(status, 404);
    });
  });
});
