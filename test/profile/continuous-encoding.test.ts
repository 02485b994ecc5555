import * as assert from 'node:assert';
import { context, ROOT_CONTEXT } from '@opentelemetry/api';
import { encodeProtobuf } from '../../src/otlp/otlp-encoding';
import { decodeWithBuf, type Decoded } from '../helpers/decode-buf';
import { attributesOf, profilesOf } from '../helpers/decode-resolve';
import {
  burnOutsideSpansUntilSampled,
  ENGINES,
  namedHotFunction,
  setUpProfiledTracing,
  waitUntilSampled,
  type ProfiledTracing,
} from '../helpers/tracing';
import { itShouldPassTheWireRules } from '../helpers/wire-rules';

// Issue 20: the process profiles of continuous mode on the wire, decoded by buf.
for (const engine of ENGINES)
  describe(`OTLP encoding of real process profiles (continuous mode) [${engine} engine]`, function () {
    let tracing: ProfiledTracing;
    const rootIds = new Set<string>();

    before(async function () {
      tracing = setUpProfiledTracing({ engine, mode: 'continuous', continuousPeriodMillis: 3_600_000 });
      const { tracer, processor } = tracing;
      const burn = namedHotFunction('wire_background');
      const background = context.with(ROOT_CONTEXT, () => setInterval(() => burn(4), 10));
      const pause = () => new Promise((r) => setTimeout(r, 2));
      try {
        await Promise.all(
          Array.from({ length: 6 }, (_, i) =>
            tracer.startActiveSpan(`GET /wire/${i % 3}`, async (root) => {
              rootIds.add(root.spanContext().spanId);
              const hot = namedHotFunction(`wire_hot_${i}`);
              for (let step = 0; step < 8; step++) {
                hot(5);
                await pause();
              }
              await tracer.startActiveSpan(`child ${i}`, async (child) => {
                for (let step = 0; step < 4; step++) {
                  hot(5);
                  await pause();
                }
                child.end();
              });
              root.end();
            }),
          ),
        );
        await waitUntilSampled(processor, 30);
        await burnOutsideSpansUntilSampled(processor, burn, 10);
      } finally {
        clearInterval(background);
      }
      await processor.forceFlush();
    });

    after(async function () {
      await tracing.close();
    });

    it('should sample enough to make the checks below meaningful', function () {
      const samples = tracing.exporter.getFinishedProfiles().flatMap((p) => p.samples);
      const linked = samples.filter((s) => s.root !== undefined).length;
      const counts = `${linked} linked, ${samples.length - linked} unlinked`;
      assert.ok(linked >= 10, `too few linked samples: ${counts}`);
      assert.ok(samples.length - linked >= 3, `too few unlinked samples: ${counts}`);
    });

    itShouldPassTheWireRules(() => tracing.exporter.getFinishedProfiles());

    it('should link only to the roots that ran, and mark the profile as continuous', function () {
      const decoded = decodeWithBuf(encodeProtobuf(tracing.exporter.getFinishedProfiles()));
      const dictionary = decoded.dictionary as Decoded;
      const links = (dictionary.linkTable as Decoded[]).slice(1);
      assert.ok(links.length > 0);
      for (const link of links) assert.ok(rootIds.has(link.spanId as string), `a Link to ${String(link.spanId)}, not a root`);
      for (const profile of profilesOf(decoded)) {
        assert.deepStrictEqual(attributesOf(dictionary, profile.attributeIndices)['otel_span_profiler.continuous'], { boolValue: true });
        const unlinked = (profile.samples as Decoded[]).filter((s) => s.linkIndex === undefined);
        assert.ok(unlinked.length > 0, 'no sample without a Link');
        for (const s of unlinked) {
          const attributes = attributesOf(dictionary, s.attributeIndices);
          assert.deepStrictEqual(Object.keys(attributes), ['service.name'], 'an unlinked sample with span attributes');
        }
      }
    });
  });
