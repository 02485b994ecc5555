import * as assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as path from 'node:path';
import { buildCollector, repoRoot, startCollector, type RunningCollector } from '../helpers/collector';
import { decodeWithBuf, type Decoded } from '../helpers/decode-buf';
import { profilesOf, resolveProfile, type Resolved } from '../helpers/decode-resolve';
import { driveLoad, ExampleService, ROUTES } from './example-service';
import { grafanaServiceEnv } from './grafana-service-env';
import { decodeTraces, type DecodedSpan } from './otlp-decode';
import { OtlpSink } from '../helpers/otlp-sink';

/*
 * The recipe without a Collector for profiles (docs/grafana.md, examples/grafana/service-direct.env),
 * run with examples/service.js: traces through a real Collector, profiles straight to the profiles
 * backend as http/protobuf. The recipe through the Collector is collector-pyroscope.e2e.test.ts. Pyroscope itself is
 * AGPL and stays out of this project, so a loopback OTLP receiver that is as strict as Pyroscope
 * about the request (POST, exact Content-Type application/x-protobuf) stands in for it; the checks
 * are on what Pyroscope reads (plain resource keys, each sample's Link, the sample attributes).
 */

/** examples/grafana/service-direct.env, with its hosts pointed at the test's loopback peers. */
function recipeEnv(collector: string, pyroscope: string, serviceName: string): Record<string, string> {
  const env = grafanaServiceEnv(
    'service-direct.env',
    { 'http://collector:4318': collector, 'http://pyroscope:4040': pyroscope },
    serviceName,
  );
  assert.ok(
    env.OTEL_EXPORTER_OTLP_PROFILES_ENDPOINT?.startsWith(pyroscope),
    'service-direct.env names no profiles endpoint on pyroscope:4040',
  );
  return env;
}

describe('The Grafana recipe without a Collector for profiles (examples/grafana/service-direct.env) with the example service', function () {
  const traceSink = OtlpSink.protobuf();
  const pyroscope = OtlpSink.protobuf();
  const serviceName = `recipe-${randomBytes(3).toString('hex')}`;
  let collector: RunningCollector | undefined;
  let service: ExampleService | undefined;
  let spans: DecodedSpan[] = [];
  let requests: Decoded[] = [];

  before(async function () {
    this.timeout(0); // a cold build when run without npm test's pretest step, which builds the Collector
    await buildCollector();
    this.timeout(180_000);
    await traceSink.start();
    await pyroscope.start();
    collector = await startCollector({ forwardTo: traceSink.url, debugVerbosity: 'basic' });
    service = await ExampleService.start(recipeEnv(collector.endpoint, pyroscope.url, serviceName));
    await driveLoad(service.url, ROUTES, 3000, 6);
    assert.equal(await service.stop(), 0, service.stderr);
    await collector.stop();
    spans = traceSink.traceBodies().flatMap((body) => decodeTraces(body));
    requests = pyroscope.profileBodies().map((body) => decodeWithBuf(body));
  });

  after(async function () {
    await service?.stop();
    await collector?.stop();
    await traceSink.stop();
    await pyroscope.stop();
  });

  it("should pass the Collector's own validation of examples/grafana/collector.yaml", async function () {
    const binary = await buildCollector();
    const config = path.join(repoRoot(), 'examples', 'grafana', 'collector.yaml');
    await new Promise<void>((resolve, reject) =>
      execFile(binary, ['validate', '--config', config, '--feature-gates=service.profilesSupport'], (error, stdout, stderr) =>
        error ? reject(new Error(`${stdout}${stderr}`)) : resolve(),
      ),
    );
  });

  it('should send profiles straight to the profiles endpoint as exact application/x-protobuf, and traces through the Collector', function () {
    assert.deepEqual(pyroscope.problems, []);
    assert.deepEqual(traceSink.problems, []);
    assert.ok(requests.length > 0, `no profiles arrived; service stderr: ${service?.stderr}`);
    assert.equal(pyroscope.traceBodies().length, 0);
    assert.equal(traceSink.profileBodies().length, 0, 'profiles went through the Collector');
    assert.ok(spans.length > 0, 'no spans arrived through the Collector');
  });

  it('should give the profiles plain resource keys with service.name, which is what Pyroscope reads', function () {
    for (const request of requests) {
      for (const rp of request.resourceProfiles as Decoded[]) {
        const attributes = (rp.resource as Decoded).attributes as Decoded[];
        assert.ok(attributes.every((kv) => typeof kv.key === 'string' && kv.keyStrindex === undefined));
        assert.deepEqual(attributes.find((kv) => kv.key === 'service.name')?.value, { stringValue: serviceName });
      }
    }
  });

  it("should make each sample findable from its root span's pyroscope.profile.id, and its own span from the attribute", function () {
    const byId = new Map(spans.map((span) => [span.spanId, span]));
    const samples: Resolved[] = requests.flatMap((request) =>
      profilesOf(request).flatMap((p) => resolveProfile(request.dictionary as Decoded, p)),
    );
    assert.ok(samples.length >= 10, `only ${samples.length} samples`);
    const problems: string[] = [];
    for (const sample of samples) {
      const root = byId.get(sample.spanId ?? '');
      if (root === undefined) {
        problems.push(`link ${sample.spanId} names no exported span`);
        continue;
      }
      if (root.parentSpanId !== '' || root.attributes['pyroscope.profile.id'] !== root.spanId)
        problems.push(`link ${sample.spanId} is not a marked root`);
      const active = sample.attributes['otel_span_profiler.active_span_id'] as { bytesValue?: string } | undefined;
      const own = byId.get(Buffer.from(active?.bytesValue ?? '', 'base64').toString('hex'));
      if (own === undefined || own.traceId !== sample.traceId)
        problems.push(`sample of trace ${sample.traceId}: its active span is not among the exported spans`);
      if ((sample.attributes['service.name'] as { stringValue?: string } | undefined)?.stringValue !== serviceName)
        problems.push('a sample lacks service.name');
    }
    assert.deepEqual(problems.slice(0, 10), []);
  });
});
