import * as assert from 'node:assert/strict';
import { context, ROOT_CONTEXT } from '@opentelemetry/api';
import { OTLPProfileExporter } from '../../src/exporter/otlp-profile-exporter';
import { buildCollector, startCollector, type RunningCollector } from '../helpers/collector';
import { decodeWithBuf, type Decoded } from '../helpers/decode-buf';
import { attributesOf, profilesOf } from '../helpers/decode-resolve';
import { OtlpSink } from '../helpers/otlp-sink';
import { ENGINES, namedHotFunction, setUpProfiledTracing, waitUntilSampled } from '../helpers/tracing';
import { decodeProfiles, type DecodedProfile } from './otlp-decode';

const BACKGROUND = 'e2e_cont_background';
const HOT = /^e2e_cont_req_(\d+)$/;

// Issue 20: continuous mode's process profiles through the real Collector (OTLP/HTTP in, otlp_http out).
for (const engine of ENGINES)
  describe(`Continuous mode through the OpenTelemetry Collector [${engine} engine]`, function () {
    const sink = OtlpSink.protobuf();
    let collector: RunningCollector | undefined;
    let profiles: DecodedProfile[] = [];
    let bodies: Uint8Array[] = [];
    /** The root span of each request-unique function. */
    const rootOf = new Map<string, { traceId: string; spanId: string }>();

    before(async function () {
      this.timeout(30 * 60_000);
      await buildCollector();
      this.timeout(180_000);
      await sink.start();
      collector = await startCollector({ forwardTo: sink.url });
      const exporter = new OTLPProfileExporter({ url: `${collector.endpoint}/v1development/profiles` });
      const tracing = setUpProfiledTracing({ engine, exporter, mode: 'continuous', continuousPeriodMillis: 500 });
      const burn = namedHotFunction(BACKGROUND);
      const background = context.with(ROOT_CONTEXT, () => setInterval(() => burn(4), 10));
      try {
        await Promise.all(
          Array.from({ length: 8 }, (_, i) =>
            tracing.tracer.startActiveSpan(`GET /e2e/${i}`, async (root) => {
              const hot = namedHotFunction(`e2e_cont_req_${i}`);
              rootOf.set(hot.name, { traceId: root.spanContext().traceId, spanId: root.spanContext().spanId });
              for (let step = 0; step < 8; step++) {
                hot(5);
                await new Promise((r) => setTimeout(r, 3));
              }
              root.end();
            }),
          ),
        );
        // A cut between the two phases: the run spans two periods at least, however fast the machine.
        await tracing.processor.forceFlush();
        // Background work alone for a while, so its share does not hang on the request mix.
        await waitUntilSampled(tracing.processor, 60);
      } finally {
        clearInterval(background);
      }
      await tracing.close();
      // The Collector drains its exporters' queues on shutdown, so after it exits the sink has everything.
      await collector.stop();
      bodies = sink.profileBodies();
      profiles = bodies.flatMap((body) => decodeProfiles(body));
    });

    after(async function () {
      await collector?.stop();
      await sink.stop();
    });

    it('should deliver process profiles, still marked as continuous', function () {
      assert.deepEqual(sink.problems, []);
      assert.ok(profiles.length >= 2, `${profiles.length} profiles arrived`);
      for (const body of bodies) {
        const decoded = decodeWithBuf(body);
        for (const profile of profilesOf(decoded)) {
          assert.deepEqual(attributesOf(decoded.dictionary as Decoded, profile.attributeIndices)['otel_span_profiler.continuous'], {
            boolValue: true,
          });
        }
      }
    });

    it('should keep the background work without a Link', function () {
      const background = profiles.flatMap((p) => p.samples).filter((s) => s.functions.includes(BACKGROUND));
      assert.ok(background.length >= 3, `only ${background.length} background samples`);
      for (const s of background) assert.equal(s.traceId, '', `background sample linked to ${s.traceId}/${s.spanId}`);
    });

    it('should link each request-unique function to its root', function () {
      let linked = 0;
      const wrong: string[] = [];
      for (const s of profiles.flatMap((p) => p.samples)) {
        const name = s.functions.find((f) => HOT.test(f));
        if (name === undefined) continue;
        const want = rootOf.get(name)!;
        if (s.traceId === want.traceId && s.spanId === want.spanId) linked++;
        else wrong.push(`${name} -> ${s.traceId}/${s.spanId}`);
      }
      assert.ok(linked >= 10, `only ${linked} linked samples`);
      assert.ok(wrong.length <= Math.floor((linked + wrong.length) / 100), wrong.slice(0, 5).join('; '));
    });
  });
