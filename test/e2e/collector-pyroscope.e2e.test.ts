import * as assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import * as path from 'node:path';
import { buildCollector, repoRoot, RunningCollector } from '../helpers/collector';
import { decodeWithBuf, type Decoded } from '../helpers/decode-buf';
import { attributesOf as sampleAttributesOf, profilesOf, resolveProfile, type Resolved } from '../helpers/decode-resolve';
import { launchWithConfig } from '../helpers/go-binary';
import { OtlpSink } from '../helpers/otlp-sink';
import { driveLoad, ExampleService, exampleServiceEnv, ROUTES } from './example-service';
import { grafanaServiceEnv } from './grafana-service-env';
import { attributesOf, decodeTraces, type DecodedSpan } from './otlp-decode';

/*
 * Issue 22: the Collector configs we ship (examples/grafana/collector.yaml with
 * examples/grafana/service.env, and examples/collector-config.yaml), run by the real Collector
 * (v0.165, built by scripts/build-collector.sh) between examples/service.js (the NodeSDK with its
 * default resource, which has the integer process.pid) and a loopback receiver standing in for
 * Grafana Pyroscope (AGPL, so not in our tests) and the traces backend. The checks read what the
 * Collector forwards the way Pyroscope v1.21 turns it into labels (read in its
 * pkg/ingester/otlp: resource and scope attributes by their plain `key`, string and integer
 * values or a one-element array of them; the service name from the sample attribute
 * service.name). Without the configs' transform processor the label check fails: process.pid
 * arrives as an integer whose key is in the string table, a label without a name.
 */

/** A label Pyroscope v1.21 makes of a resource or scope attribute (none for an empty value). */
interface PyroscopeLabel {
  readonly name: string;
  readonly value: string;
}

/** The value Pyroscope reads from an AnyValue: strings, integers, or a one-element array of them. */
function pyroscopeValue(value: Decoded | undefined): string {
  if (value === undefined) return '';
  const single = (v: Decoded | undefined): string =>
    typeof v?.stringValue === 'string' ? v.stringValue : v?.intValue !== undefined ? String(v.intValue) : '';
  const read = single(value);
  if (read !== '') return read;
  const values = ((value.arrayValue as Decoded | undefined)?.values ?? []) as Decoded[];
  return values.length === 1 ? single(values[0]) : '';
}

/** The labels Pyroscope v1.21 makes of a resource's or scope's attributes, as forwarded. */
function pyroscopeLabels(attributes: Decoded[]): PyroscopeLabel[] {
  return attributes
    .map((kv) => ({ name: typeof kv.key === 'string' ? kv.key : '', value: pyroscopeValue(kv.value as Decoded | undefined) }))
    .filter((label) => label.value !== '');
}

/** A shipped Collector config and the environment the example service is given with it. */
interface Recipe {
  /** The config, relative to the repository root. */
  readonly config: string;
  readonly serviceEnv: (collectorEndpoint: string, serviceName: string) => Record<string, string>;
}

/** examples/grafana/service.env, its Collector host pointed at the test's Collector. */
function recipeServiceEnv(collectorEndpoint: string, serviceName: string): Record<string, string> {
  const env = grafanaServiceEnv('service.env', { 'http://collector:4318': collectorEndpoint }, serviceName);
  assert.equal(env.OTEL_EXPORTER_OTLP_ENDPOINT, collectorEndpoint, 'service.env does not send to the Collector');
  return env;
}

const RECIPES: readonly Recipe[] = [
  { config: 'examples/grafana/collector.yaml', serviceEnv: recipeServiceEnv },
  { config: 'examples/collector-config.yaml', serviceEnv: exampleServiceEnv },
];

/**
 * Starts the Collector with the shipped `config`, unchanged but for where it listens and sends:
 * OTLP in on loopback, profiles out to `sinkUrl` by the config's own otlp_http/pyroscope exporter,
 * traces out to `sinkUrl` by an otlp_http exporter added in place of the config's OTLP/gRPC one.
 */
async function startShippedCollector(config: string, sinkUrl: string): Promise<RunningCollector> {
  const binary = await buildCollector();
  // The first config; the shipped one merges over it (it has no telemetry section) and --set over both.
  // No internal metrics server (its fixed port would clash between runs); JSON logs for errorLines().
  const base = { service: { telemetry: { metrics: { level: 'none' }, logs: { level: 'info', encoding: 'json' } } } };
  const extraArgs = [
    '--config',
    path.join(repoRoot(), config),
    '--set=receivers::otlp::protocols::grpc::endpoint=127.0.0.1:0',
    '--set=receivers::otlp::protocols::http::endpoint=127.0.0.1:0',
    `--set=exporters::otlp_http/pyroscope::profiles_endpoint=${sinkUrl}/v1development/profiles`,
    `--set=exporters::otlp_http/test-traces::traces_endpoint=${sinkUrl}/v1/traces`,
    '--set=service::pipelines::traces::exporters=[otlp_http/test-traces]',
    '--feature-gates=service.profilesSupport',
  ];
  return launchWithConfig(
    binary,
    base,
    { tmpPrefix: 'otelcol-pyroscope-', extraArgs, startTimeoutMillis: 60_000 },
    (child, configPath) => new RunningCollector(child, configPath),
  );
}

for (const recipe of RECIPES)
  describe(`Profiles to Pyroscope through ${recipe.config}, from the NodeSDK with its default resource`, function () {
    // Stands in for Pyroscope (profiles) and Tempo (traces).
    const sink = OtlpSink.protobuf();
    const serviceName = `pyro-${randomBytes(3).toString('hex')}`;
    let collector: RunningCollector | undefined;
    let service: ExampleService | undefined;
    let requests: Decoded[] = [];
    let spans: DecodedSpan[] = [];

    before(async function () {
      this.timeout(30 * 60_000);
      await buildCollector();
      this.timeout(180_000);
      await sink.start();
      collector = await startShippedCollector(recipe.config, sink.url);
      service = await ExampleService.start(recipe.serviceEnv(collector.endpoint, serviceName));
      await driveLoad(service.url, ROUTES, 3000, 6);
      assert.equal(await service.stop(), 0, service.stderr);
      // Stopping the Collector drains its exporters' queues into the sink.
      await collector.stop();
      requests = sink.profileBodies().map((body) => decodeWithBuf(body));
      spans = sink.traceBodies().flatMap((body) => decodeTraces(body));
    });

    after(async function () {
      this.timeout(60_000);
      await service?.stop();
      await collector?.stop();
      await sink.stop();
    });

    it('should forward the profiles, with no error in the Collector log', function () {
      assert.deepEqual(sink.problems, []);
      assert.ok(requests.length > 0, `the Collector forwarded no profiles; its log:\n${collector?.stderr}`);
      assert.ok(spans.length > 0, 'no spans arrived through the Collector');
      assert.deepEqual(collector?.errorLines(), []);
    });

    it('should give Pyroscope no resource or scope label without a name (its HTTP 400 "invalid label name \'\'")', function () {
      const nameless: PyroscopeLabel[] = [];
      for (const request of requests) {
        for (const rp of request.resourceProfiles as Decoded[]) {
          nameless.push(
            ...pyroscopeLabels(((rp.resource as Decoded | undefined)?.attributes ?? []) as Decoded[]).filter((l) => l.name === ''),
          );
          for (const sp of (rp.scopeProfiles ?? []) as Decoded[]) {
            nameless.push(
              ...pyroscopeLabels(((sp.scope as Decoded | undefined)?.attributes ?? []) as Decoded[]).filter((l) => l.name === ''),
            );
          }
        }
      }
      assert.deepEqual(nameless, []);
    });

    it('should give every sample the service.name Pyroscope names the series by, as a plain string', function () {
      const names = new Set<unknown>();
      let samples = 0;
      for (const request of requests) {
        const dict = request.dictionary as Decoded;
        for (const profile of profilesOf(request)) {
          for (const sample of (profile.samples ?? []) as Decoded[]) {
            samples++;
            names.add(JSON.stringify(sampleAttributesOf(dict, sample.attributeIndices)['service.name']));
          }
        }
      }
      assert.ok(samples >= 10, `only ${samples} samples`);
      assert.deepEqual([...names], [JSON.stringify({ stringValue: serviceName })]);
    });

    it("should keep every attribute of the SDK's resource as a resource attribute, non-strings as their string form", function () {
      // The same resource, as the Collector forwarded it with the traces (process.pid an integer).
      const sent = spans[0].resource;
      assert.equal(typeof sent['process.pid'], 'string', 'the trace decoder gives integers as decimal text');
      assert.match(String(sent['process.pid']), /^[1-9][0-9]*$/);
      for (const request of requests) {
        const strings = (request.dictionary as Decoded).stringTable as string[];
        for (const rp of request.resourceProfiles as Decoded[]) {
          const forwarded = attributesOf((rp.resource as Decoded).attributes, strings);
          assert.deepEqual(Object.keys(forwarded).sort(), Object.keys(sent).sort());
          for (const [key, value] of Object.entries(sent)) {
            const got = forwarded[key];
            assert.equal(typeof got, 'string', `${key} is not a string: ${JSON.stringify(got)}`);
            // Arrays (process.command_args) become their JSON text.
            if (Array.isArray(value)) assert.deepEqual(JSON.parse(got as string), value, key);
            else assert.equal(got, String(value), key);
          }
        }
      }
    });

    it("should keep each sample's Link on a root span the trace exporter sent, with pyroscope.profile.id", function () {
      const byId = new Map(spans.map((span) => [span.spanId, span]));
      const samples: Resolved[] = requests.flatMap((r) => profilesOf(r).flatMap((p) => resolveProfile(r.dictionary as Decoded, p)));
      const problems = samples
        .filter((s) => byId.get(s.spanId ?? '')?.attributes['pyroscope.profile.id'] !== s.spanId)
        .map((s) => `link ${s.traceId}/${s.spanId} names no root span with a matching pyroscope.profile.id`);
      assert.deepEqual(problems.slice(0, 5), []);
    });
  });
