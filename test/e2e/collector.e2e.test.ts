import * as assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { buildCollector, startCollector, type RunningCollector } from '../helpers/collector';
import { driveLoad, ExampleService, exampleServiceEnv, HOT_FUNCTIONS, ROUTES } from './example-service';
import { decodeProfiles, decodeTraces, type DecodedProfile, type DecodedSpan } from './otlp-decode';
import { OtlpSink } from '../helpers/otlp-sink';
import { loadNativeAddon } from '../../src/sampler/native/pprof-addon';

const LOAD_MILLIS = 4000;
const CONCURRENCY = 8;

describe('End to end through the OpenTelemetry Collector', function () {
  const serviceName = `e2e-shop-${randomBytes(3).toString('hex')}`;
  const sink = OtlpSink.protobuf();
  let collector: RunningCollector | undefined;
  let service: ExampleService | undefined;
  let serviceExitCode: number | null = null;
  let statuses = new Map<string, number[]>();
  let spans: DecodedSpan[] = [];
  let profiles: DecodedProfile[] = [];
  const spansById = new Map<string, DecodedSpan>();

  before(async function () {
    // npm test's pretest step builds the Collector; run alone, a cold build (a few hundred Go
    // packages, 22 min seen on 2 busy cores) happens here with no time limit, and fails (never skips) if it breaks.
    this.timeout(0);
    await buildCollector();
    this.timeout(180_000);
    await sink.start();
    collector = await startCollector({ forwardTo: sink.url, debugVerbosity: 'detailed' });
    service = await ExampleService.start(exampleServiceEnv(collector.endpoint, serviceName));
    statuses = await driveLoad(service.url, ROUTES, LOAD_MILLIS, CONCURRENCY);
    serviceExitCode = await service.stop();
    // The Collector drains its exporters' queues on shutdown, so after it exits the sink has everything.
    await collector.stop();
    spans = sink.traceBodies().flatMap((body) => decodeTraces(body));
    profiles = sink.profileBodies().flatMap((body) => decodeProfiles(body));
    for (const span of spans) spansById.set(span.spanId, span);
  });

  after(async function () {
    await service?.stop();
    await collector?.stop();
    await sink.stop();
  });

  /** The local root of a span's trace, found by walking parent ids through the exported spans. */
  function rootOf(span: DecodedSpan): DecodedSpan {
    let current = span;
    for (let hops = 0; current.parentSpanId !== '' && hops < 100; hops++) {
      const parent = spansById.get(current.parentSpanId);
      if (parent === undefined) break;
      current = parent;
    }
    return current;
  }

  function context(): string {
    return `service stderr:\n${service?.stderr}\ncollector log (tail):\n${collector?.stderr.slice(-3000)}\nsink problems: ${sink.problems.join('; ')}`;
  }

  describe('example service', function () {
    it('should answer every request of the load with 200', function () {
      for (const route of ROUTES) {
        const codes = statuses.get(route) ?? [];
        assert.ok(codes.length >= 10, `only ${codes.length} requests to ${route}`);
        assert.deepEqual(
          codes.filter((code) => code !== 200),
          [],
          `non-200 answers on ${route}`,
        );
      }
    });

    it('should exit with code 0 after SIGTERM, having flushed its telemetry', function () {
      assert.equal(serviceExitCode, 0, context());
      assert.match(service!.stdout, /telemetry flushed/);
      assert.equal(service!.stderr.trim(), '', 'the service logged errors');
    });
  });

  describe('Collector otlp_http forwarding', function () {
    it('should deliver both traces and profiles, as protobuf on the OTLP paths', function () {
      assert.deepEqual(sink.problems, []);
      assert.ok(spans.length > 0, `no spans arrived. ${context()}`);
      assert.ok(profiles.length > 0, `no profiles arrived. ${context()}`);
      assert.ok(
        profiles.some((profile) => profile.samples.length > 0),
        'every profile is empty',
      );
    });

    it("should keep service.name on the profiles' resource and name our scope", function () {
      for (const profile of profiles) {
        assert.equal(profile.resource['service.name'], serviceName);
        assert.equal(profile.scope.name, 'otel-span-profiler');
      }
    });

    it('should link every sample to a trace and span present in the exported traces', function () {
      const missing: string[] = [];
      for (const sample of profiles.flatMap((profile) => profile.samples)) {
        const span = spansById.get(sample.spanId);
        if (span === undefined || span.traceId !== sample.traceId) missing.push(`${sample.traceId}/${sample.spanId}`);
      }
      assert.deepEqual(missing, [], `${missing.length} sample links name no exported span`);
    });

    it("should find each route's hot function only under that route's spans", function () {
      const seen = new Map<string, number>();
      const misplaced: string[] = [];
      for (const sample of profiles.flatMap((profile) => profile.samples)) {
        const span = spansById.get(sample.spanId);
        if (span === undefined) continue;
        const route = String(rootOf(span).attributes['http.route'] ?? '');
        for (const [hotRoute, fn] of Object.entries(HOT_FUNCTIONS)) {
          if (!sample.functions.includes(fn)) continue;
          seen.set(fn, (seen.get(fn) ?? 0) + sample.count);
          if (route !== hotRoute) misplaced.push(`${fn} under ${route || 'no route'} (span ${span.name})`);
        }
      }
      assert.deepEqual(misplaced, []);
      for (const fn of Object.values(HOT_FUNCTIONS)) {
        assert.ok((seen.get(fn) ?? 0) >= 3, `${fn} in only ${seen.get(fn) ?? 0} samples`);
      }
    });

    it('should mark each profiled root span with pyroscope.profile.id = its span id', function () {
      const profiledTraces = new Set(profiles.flatMap((profile) => profile.samples.map((sample) => sample.traceId)));
      const roots = spans.filter((span) => span.parentSpanId === '');
      for (const root of roots.filter((span) => profiledTraces.has(span.traceId))) {
        const stacks = profiles
          .flatMap((profile) => profile.samples)
          .filter((sample) => sample.traceId === root.traceId)
          .map((sample) => sample.functions.slice(0, 6).join(' < '));
        assert.equal(
          root.attributes['pyroscope.profile.id'],
          root.spanId,
          `root ${root.name} of trace ${root.traceId}, whose samples' stacks are:\n  ${stacks.join('\n  ')}`,
        );
      }
      // And the other way: a root that offers a profile link has its profile delivered. Not with
      // the native engine (the service's default where the addon loads): it decides at the root's
      // end, before the root's samples arrive, and sets the attribute when any sample was taken in
      // the root's window (docs/configuration.md, pyroscopeProfileIdAttribute).
      if (!('error' in loadNativeAddon())) return;
      for (const root of roots.filter((span) => span.attributes['pyroscope.profile.id'] !== undefined)) {
        assert.ok(profiledTraces.has(root.traceId), `root ${root.spanId} has pyroscope.profile.id but no profile`);
      }
    });
  });

  describe('Collector', function () {
    it('should log no error', function () {
      assert.ok(collector!.stderr.includes('Everything is ready'), 'no Collector log captured');
      assert.deepEqual(collector!.errorLines(), []);
    });

    it('should print our function names with the debug exporter at detailed verbosity', function () {
      assert.match(collector!.stdout, /InstrumentationScope otel-span-profiler /, 'debug exporter printed no profile of ours');
      for (const fn of Object.values(HOT_FUNCTIONS)) {
        assert.ok(collector!.stdout.includes(fn), `debug exporter output lacks ${fn}`);
      }
      assert.ok(collector!.stdout.includes(serviceName), 'debug exporter output lacks the service name');
    });
  });
});
