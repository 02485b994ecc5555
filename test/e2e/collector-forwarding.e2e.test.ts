import * as assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { context, trace, type Tracer } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { InMemoryProfileExporter } from '../../src/exporter/in-memory-profile-exporter';
import { OTLPProfileExporter } from '../../src/exporter/otlp-profile-exporter';
import { ProfilingSpanProcessor } from '../../src/processor/processor';
import type { SpanProfile } from '../../src/profile/span-profile';
import { dictionaryViolations } from '../helpers/decode-checks';
import type { Decoded } from '../helpers/decode-buf';
import { expectedSamples, profilesOf, resolveProfile, type Resolved } from '../helpers/decode-resolve';
import { useForwardingCollector } from '../helpers/forwarding-collector';
import { namedHotFunction } from '../helpers/tracing';

/*
 * Issue #14.4: what the real Collector (v0.165, built by scripts/build-collector.sh) forwards of
 * real, sampled profiles: every sample's stack, Link and attributes, resolved through the
 * forwarded dictionary, equal what went in, and the rewrite of resource attributes that the
 * docs (docs/grafana.md) describe is still what it does. A change in the Collector shows up here.
 */

const ACTIVE_SPAN_ID = 'otel_span_profiler.active_span_id';

/** Real profiles of nested spans, under a resource shaped like the Node SDK's (an int attribute included). */
async function sampledProfiles(serviceName: string): Promise<SpanProfile[]> {
  const contextManager = new AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(contextManager);
  const exporter = new InMemoryProfileExporter();
  const processor = new ProfilingSpanProcessor({ exporter, batch: { scheduledDelayMillis: 50 } });
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': serviceName, 'process.pid': process.pid, 'host.name': 'e2e-host' }),
    spanProcessors: [processor as unknown as SpanProcessor],
  });
  const tracer: Tracer = provider.getTracer('e2e');
  // At least 5 steps, then on until 3 more samples were taken: a loaded machine may sample little.
  const burn = async (step: () => void): Promise<void> => {
    const start = processor.stats.samples;
    for (let i = 0; i < 200 && (i < 5 || processor.stats.samples < start + 3); i++) {
      step();
      await new Promise((r) => setTimeout(r, 1));
    }
  };
  try {
    await Promise.all(
      Array.from({ length: 4 }, (_, i) =>
        tracer.startActiveSpan(`GET /fwd/${i}`, async (root) => {
          const hotRoot = namedHotFunction(`fwd_${i}_root`);
          const hotChild = namedHotFunction(`fwd_${i}_child`);
          await burn(() => hotRoot(5));
          await tracer.startActiveSpan('child', async (child) => {
            await burn(() => hotChild(5));
            child.end();
          });
          root.end();
        }),
      ),
    );
    await processor.forceFlush();
    return exporter.getFinishedProfiles();
  } finally {
    await provider.shutdown();
    context.disable();
    trace.disable();
  }
}

function sortedSamples(samples: Resolved[]): Resolved[] {
  return samples
    .map((s) => JSON.stringify(s))
    .sort()
    .map((s) => JSON.parse(s) as Resolved);
}

describe('Profiles forwarded by the OpenTelemetry Collector (real sampling, real Collector)', function () {
  const forwarding = useForwardingCollector();
  const serviceName = `fwd-${randomBytes(4).toString('hex')}`;
  let profiles: SpanProfile[] = [];
  let forwarded: Decoded;

  before(async function () {
    this.timeout(120_000);
    profiles = await sampledProfiles(serviceName);
    const exporter = new OTLPProfileExporter({ url: `${forwarding.collector.endpoint}/v1development/profiles`, protocol: 'http/protobuf' });
    const result = await new Promise<ExportResult>((resolve) => exporter.export(profiles, resolve));
    await exporter.shutdown();
    assert.equal(result.code, ExportResultCode.SUCCESS, result.error?.message);
    forwarded = await forwarding.forwardedProfiles(serviceName);
  });

  it('should have sampled both spans of several requests, so the checks below mean something', function () {
    const samples = profiles.flatMap((p) => p.samples);
    assert.ok(profiles.length >= 2 && samples.length >= 10, `${profiles.length} profiles, ${samples.length} samples`);
    assert.ok(
      samples.some((s) => s.spanId !== profiles.find((p) => p.samples.includes(s))!.rootSpanId),
      'no sample in a child span',
    );
  });

  it('should forward a valid dictionary, apart from its two known rewrites, and log no error', function () {
    // Known and harmless: attribute_table[0] comes back with an empty value message, and the
    // strings the resource now refers to by key_strindex look like orphans to a dictionary-only check.
    const strings = (forwarded.dictionary as Decoded).stringTable as string[];
    const resourceStrings = new Set(
      (forwarded.resourceProfiles as Decoded[]).flatMap((rp) =>
        (((rp.resource as Decoded).attributes ?? []) as Decoded[]).flatMap((kv) => [
          kv.keyStrindex,
          (kv.value as Decoded).stringValueStrindex,
        ]),
      ),
    );
    const unexpected = dictionaryViolations(forwarded).filter((v) => {
      if (v === 'attributeTable[0] is {"value":{}}, not the zero value') return false;
      const orphan = /^stringTable\[(\d+)\] is an orphan/.exec(v);
      return !(orphan && resourceStrings.has(Number(orphan[1])) && strings[Number(orphan[1])] !== undefined);
    });
    assert.deepEqual(unexpected, []);
    assert.deepEqual(forwarding.collector.errorLines(), []);
  });

  it('should forward every sample with the stack, Link and attributes we sent, resolved through its dictionary', function () {
    const dict = forwarded.dictionary as Decoded;
    const got = sortedSamples(profilesOf(forwarded).flatMap((profile) => resolveProfile(dict, profile)));
    const want = sortedSamples(profiles.flatMap((profile) => expectedSamples(profile)));
    assert.equal(got.length, want.length);
    assert.deepEqual(got, want);
  });

  it('should keep each Link on the local root and the active span in the bytes attribute', function () {
    const dict = forwarded.dictionary as Decoded;
    const rootOf = new Map(profiles.map((p) => [p.traceId, p.rootSpanId]));
    const activeIds = new Set(profiles.flatMap((p) => p.samples.map((s) => s.spanId)));
    for (const sample of profilesOf(forwarded).flatMap((profile) => resolveProfile(dict, profile))) {
      assert.equal(sample.spanId, rootOf.get(sample.traceId!));
      const active = sample.attributes[ACTIVE_SPAN_ID] as { bytesValue?: string };
      assert.ok(active?.bytesValue !== undefined, 'the active span attribute lost its bytes value');
      assert.ok(activeIds.has(Buffer.from(active.bytesValue, 'base64').toString('hex')));
    }
  });

  it('should forward the per-sample service.name as a plain string value (what Pyroscope reads)', function () {
    const dict = forwarded.dictionary as Decoded;
    const strings = dict.stringTable as string[];
    const entries = (dict.attributeTable as Decoded[]).filter((kv) => strings[(kv.keyStrindex as number) ?? 0] === 'service.name');
    assert.deepEqual(entries, [{ keyStrindex: strings.indexOf('service.name'), value: { stringValue: serviceName } }]);
  });

  // The fact docs/grafana.md builds the pipeline recipe on: if this starts failing, the Collector
  // changed its rewrite, and the docs (and perhaps the recipe) must change with it.
  it('should still rewrite resource attributes into string-table references (which Pyroscope v1.x cannot read)', function () {
    const strings = (forwarded.dictionary as Decoded).stringTable as string[];
    const [resourceProfiles] = forwarded.resourceProfiles as Decoded[];
    const attributes = ((resourceProfiles.resource as Decoded).attributes ?? []) as Decoded[];
    assert.ok(attributes.length >= 3);
    for (const kv of attributes) {
      assert.equal(kv.key, undefined, `resource attribute ${JSON.stringify(kv)} kept its plain key`);
      assert.equal(typeof kv.keyStrindex, 'number');
    }
    const byKey = new Map(attributes.map((kv) => [strings[kv.keyStrindex as number], kv.value as Decoded]));
    assert.deepEqual(byKey.get('service.name'), { stringValueStrindex: strings.indexOf(serviceName) });
    // Integers stay int_value with an empty plain key: Pyroscope v1.21 answers 400 "invalid label name ''".
    assert.deepEqual(byKey.get('process.pid'), { intValue: String(process.pid) });
  });
});
