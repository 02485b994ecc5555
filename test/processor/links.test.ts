import * as assert from 'node:assert';
import { context, trace, type Span } from '@opentelemetry/api';
import { encodeProtobuf } from '../../src/otlp/otlp-encoding';
import { decodeWithBuf, type Decoded } from '../helpers/decode-buf';
import { dictionaryViolations } from '../helpers/decode-checks';
import { profilesOf } from '../helpers/decode-resolve';
import { ENGINES, namedHotFunction, setUpProfiledTracing, type ProfiledTracing } from '../helpers/tracing';

/*
 * Issue #14.1: Grafana's "Profiles for this span" asks Pyroscope for the samples whose Link span ID
 * is in the span selector, [the span's pyroscope.profile.id]. On a root, that must be the whole
 * request; and each span's own samples must still be found, through the sample attribute
 * otel_span_profiler.active_span_id. Everything here is read back from the encoded request by an
 * independent decoder (buf), as a consumer would.
 */

const REQUESTS = 6;
const KINDS = ['root', 'child', 'grandchild', 'with'] as const;
type Kind = (typeof KINDS)[number];
const HOT = /^links_(\d+)_(root|child|grandchild|with)$/;
const ACTIVE_SPAN_ID = 'otel_span_profiler.active_span_id';

/** One decoded sample timestamp, resolved through the dictionary the way a consumer reads it. */
interface WireSample {
  linkTraceId: string;
  linkSpanId: string;
  /** The active_span_id attribute as hex, if present. */
  activeSpanId: string | undefined;
  attributes: Record<string, unknown>;
  functions: string[];
}

function wireSamples(request: Decoded): WireSample[] {
  const dict = request.dictionary as Decoded;
  const strings = dict.stringTable as string[];
  const table = (name: string) => (dict[name] ?? []) as Decoded[];
  const out: WireSample[] = [];
  for (const profile of profilesOf(request)) {
    for (const sample of (profile.samples ?? []) as Decoded[]) {
      const link = table('linkTable')[(sample.linkIndex as number) ?? 0];
      const attributes: Record<string, unknown> = {};
      for (const index of (sample.attributeIndices ?? []) as number[]) {
        const entry = table('attributeTable')[index];
        attributes[strings[(entry.keyStrindex as number) ?? 0]] = entry.value;
      }
      const active = attributes[ACTIVE_SPAN_ID] as { bytesValue?: string } | undefined;
      const stack = table('stackTable')[(sample.stackIndex as number) ?? 0];
      const functions = ((stack.locationIndices ?? []) as number[]).map((li) => {
        const line = ((table('locationTable')[li].lines ?? []) as Decoded[])[0];
        const fn = table('functionTable')[(line.functionIndex as number) ?? 0];
        return strings[(fn.nameStrindex as number) ?? 0];
      });
      for (let t = 0; t < ((sample.timestampsUnixNano ?? []) as string[]).length; t++) {
        out.push({
          linkTraceId: (link.traceId as string) ?? '',
          linkSpanId: (link.spanId as string) ?? '',
          activeSpanId: active?.bytesValue === undefined ? undefined : Buffer.from(active.bytesValue, 'base64').toString('hex'),
          attributes,
          functions,
        });
      }
    }
  }
  return out;
}

/** The span a consumer charges a sample to: the attribute if present, else the Link's span. */
const ownSpanOf = (s: WireSample): string => s.activeSpanId ?? s.linkSpanId;

interface Request {
  traceId: string;
  root: Span;
  spans: Record<Kind, string>;
}

/** Runs REQUESTS interleaved requests, each with nested spans that burn CPU in functions of their own. */
async function runRequests(tracing: ProfiledTracing): Promise<Request[]> {
  const { tracer, processor } = tracing;
  const pause = () => new Promise((r) => setTimeout(r, 1));
  /**
   * Runs `step` at least 4 times, then on until 3 more samples were taken (at most 200 times):
   * a loaded machine's sampling thread may get little CPU, and fixed work could go unsampled.
   */
  const burn = async (step: () => void): Promise<void> => {
    const start = processor.stats.samples;
    for (let i = 0; i < 200 && (i < 4 || processor.stats.samples < start + 3); i++) {
      step();
      await pause();
    }
  };
  const requests: Request[] = [];
  await Promise.all(
    Array.from({ length: REQUESTS }, (_, i) =>
      tracer.startActiveSpan(`GET /links/${i}`, async (root) => {
        const hot = Object.fromEntries(KINDS.map((k) => [k, namedHotFunction(`links_${i}_${k}`)])) as Record<Kind, (ms: number) => number>;
        const spans = { root: root.spanContext().spanId } as Record<Kind, string>;
        requests.push({ traceId: root.spanContext().traceId, root, spans });
        await burn(() => hot.root(4));
        await tracer.startActiveSpan('child', async (child) => {
          spans.child = child.spanContext().spanId;
          await burn(() => hot.child(4));
          await tracer.startActiveSpan('grandchild', async (grandchild) => {
            spans.grandchild = grandchild.spanContext().spanId;
            await burn(() => hot.grandchild(4));
            grandchild.end();
          });
          child.end();
        });
        // A span started inactive and entered with context.with, as hand-written instrumentation does.
        const withSpan = tracer.startSpan('with');
        spans.with = withSpan.spanContext().spanId;
        const ctx = trace.setSpan(context.active(), withSpan);
        await burn(() => context.with(ctx, () => hot.with(4)));
        withSpan.end();
        root.end();
      }),
    ),
  );
  await tracing.processor.forceFlush();
  return requests;
}

for (const engine of ENGINES)
  describe(`ProfilingSpanProcessor sample links (real sampling, read back from the wire) [${engine} engine]`, function () {
    describe("linkSamplesTo: 'local-root' (default)", function () {
      let tracing: ProfiledTracing;
      let requests: Request[];
      let decoded: Decoded;
      let samples: WireSample[];

      before(async function () {
        tracing = setUpProfiledTracing({ engine });
        requests = await runRequests(tracing);
        decoded = decodeWithBuf(encodeProtobuf(tracing.exporter.getFinishedProfiles()));
        samples = wireSamples(decoded);
      });
      after(async function () {
        await tracing.close();
      });

      it('should sample every kind of span, so the checks below mean something', function () {
        assert.deepStrictEqual(dictionaryViolations(decoded), []);
        const kinds = new Set(samples.flatMap((s) => s.functions.map((f) => HOT.exec(f)?.[2]).filter((k) => k !== undefined)));
        assert.deepStrictEqual([...kinds].sort(), [...KINDS].sort(), `hot functions seen: ${[...kinds].join(', ')}`);
      });

      it("should find all of a request's samples by selecting on the root's pyroscope.profile.id, as Pyroscope does", function () {
        let covered = 0;
        for (const { traceId, root } of requests) {
          const profileId = (root as unknown as { attributes: Record<string, unknown> }).attributes['pyroscope.profile.id'];
          const ofRequest = samples.filter((s) => s.linkTraceId === traceId);
          if (ofRequest.length === 0) continue;
          assert.strictEqual(profileId, root.spanContext().spanId, 'a root with samples lacks pyroscope.profile.id');
          // Pyroscope's span selector: the samples whose link span ID is in [profileId].
          const selected = samples.filter((s) => s.linkSpanId === profileId);
          assert.strictEqual(
            selected.length,
            ofRequest.length,
            `trace ${traceId}: the selector found ${selected.length} of ${ofRequest.length} samples`,
          );
          assert.ok(selected.every((s) => s.linkTraceId === traceId));
          covered += selected.length;
        }
        const inMemory = tracing.exporter.getFinishedProfiles().reduce((n, p) => n + p.samples.length, 0);
        assert.strictEqual(covered, samples.length, 'some samples belong to no root selector');
        assert.strictEqual(samples.length, inMemory);
      });

      it("should still find each span's own samples through the active_span_id attribute", function () {
        const spanOf = new Map<string, string>();
        for (const [i, request] of requests.entries()) for (const kind of KINDS) spanOf.set(`links_${i}_${kind}`, request.spans[kind]);
        let checked = 0;
        const wrong: string[] = [];
        for (const sample of samples) {
          assert.ok(sample.activeSpanId !== undefined, 'a sample lacks the active_span_id attribute');
          // The innermost request-unique function is the span's own code.
          const hot = sample.functions.find((f) => HOT.test(f));
          if (hot === undefined) continue;
          checked++;
          if (ownSpanOf(sample) !== spanOf.get(hot)) wrong.push(`${hot} charged to ${ownSpanOf(sample)}`);
        }
        assert.ok(checked >= 12, `only ${checked} samples in hot functions`);
        assert.ok(wrong.length <= checked / 100, `${wrong.length} of ${checked} wrong: ${wrong.slice(0, 5).join('; ')}`);
        // And the attribute says exactly what the processor recorded as each sample's active span.
        const recorded = tracing.exporter
          .getFinishedProfiles()
          .flatMap((p) => p.samples.map((s) => s.spanId))
          .sort();
        assert.deepStrictEqual(samples.map((s) => s.activeSpanId!).sort(), recorded);
      });

      it('should carry the service name and the root span name on every sample', function () {
        for (const sample of samples) {
          assert.deepStrictEqual(
            (sample.attributes['service.name'] as { stringValue?: string }).stringValue?.startsWith('unknown_service'),
            true,
          );
          assert.match(String((sample.attributes.span_name as { stringValue?: string }).stringValue), /^GET \/links\/\d$/);
        }
      });
    });

    describe("linkSamplesTo: 'active-span'", function () {
      let tracing: ProfiledTracing;
      let requests: Request[];
      let samples: WireSample[];

      before(async function () {
        tracing = setUpProfiledTracing({ engine, linkSamplesTo: 'active-span' });
        requests = await runRequests(tracing);
        samples = wireSamples(decodeWithBuf(encodeProtobuf(tracing.exporter.getFinishedProfiles())));
      });
      after(async function () {
        await tracing.close();
      });

      it('should link each sample to its active span and add no active_span_id attribute', function () {
        assert.ok(samples.length >= 12, `only ${samples.length} samples`);
        assert.ok(samples.every((s) => s.activeSpanId === undefined && !(ACTIVE_SPAN_ID in s.attributes)));
        const recorded = tracing.exporter
          .getFinishedProfiles()
          .flatMap((p) => p.samples.map((s) => s.spanId))
          .sort();
        assert.deepStrictEqual(samples.map((s) => s.linkSpanId).sort(), recorded);
        // So a root's selector finds only the samples taken while the root itself was innermost.
        const childIds = new Set(requests.flatMap((r) => [r.spans.child, r.spans.grandchild, r.spans.with]));
        assert.ok(
          samples.some((s) => childIds.has(s.linkSpanId)),
          'no sample linked to a child span',
        );
      });
    });
  });
