/*
 * Reads decoded requests (decode-buf.ts shape) back into per-timestamp samples with their
 * frames, link and attributes resolved through the dictionary, and computes the same view from
 * the SpanProfiles that went in, so a round trip can be compared field by field.
 */
import * as assert from 'node:assert';
import { basename } from 'node:path';
import type { ProfileFrame, SpanProfile } from '../../src/profile/span-profile';
import type { Decoded } from './decode-buf';

type D = Decoded;
const GENERATED_POSITION = 'otel_span_profiler.generated_position';
const list = (v: unknown) => (v ?? []) as D[];

/** One decoded sample timestamp with everything it points to, resolved through the dictionary. */
export interface Resolved {
  time: string;
  /** `displayName|systemName|file:line:column`, then ` @<generated position>` when source-mapped; leaf first. */
  frames: string[];
  traceId: string | undefined;
  spanId: string | undefined;
  attributes: Record<string, unknown>;
  /** The sample's value (CPU nanoseconds) where the profile carries values, as decimal text. */
  cpuNanos: string | undefined;
}

export function attributesOf(dict: D, indices: unknown): Record<string, unknown> {
  const strings = dict.stringTable as string[];
  const out: Record<string, unknown> = {};
  for (const i of (indices ?? []) as number[]) {
    const entry = list(dict.attributeTable)[i];
    out[strings[(entry.keyStrindex as number) ?? 0]] = entry.value;
  }
  return out;
}

export function resolveProfile(dict: D, profile: D): Resolved[] {
  const strings = dict.stringTable as string[];
  const out: Resolved[] = [];
  for (const s of list(profile.samples)) {
    const stack = list(dict.stackTable)[(s.stackIndex as number) ?? 0];
    const frames = ((stack.locationIndices ?? []) as number[]).map((li) => {
      const location = list(dict.locationTable)[li];
      const { [GENERATED_POSITION]: generated, ...attributes } = attributesOf(dict, location.attributeIndices);
      assert.deepStrictEqual(attributes, { 'profile.frame.type': { stringValue: 'v8js' } });
      const line = list(location.lines)[0];
      const fn = list(dict.functionTable)[(line.functionIndex as number) ?? 0];
      const str = (field: string) => strings[(fn[field] as number) ?? 0];
      const at = generated === undefined ? '' : ` @${(generated as D).stringValue as string}`;
      return `${str('nameStrindex')}|${str('systemNameStrindex')}|${str('filenameStrindex')}:${line.line ?? 0}:${line.column ?? 0}${at}`;
    });
    const link = list(dict.linkTable)[(s.linkIndex as number) ?? 0];
    const values = s.values as unknown[] | undefined;
    (s.timestampsUnixNano as string[]).forEach((t, i) => {
      out.push({
        cpuNanos: values === undefined || values.length === 0 ? undefined : String(values[i]),
        time: t,
        frames,
        traceId: link.traceId as string | undefined,
        spanId: link.spanId as string | undefined,
        attributes: attributesOf(dict, s.attributeIndices),
      });
    });
  }
  return sortResolved(out);
}

/**
 * What a SpanProfile's samples should look like after the round trip, computed from the input
 * only: with `sampleLinks: 'local-root'` every Link names the root and the sample's own span is
 * the `otel_span_profiler.active_span_id` attribute (8 bytes; base64 as decoded); every sample
 * carries the root's name and the service name; an empty stack is the `(program)` frame.
 */
export function expectedSamples(profile: SpanProfile): Resolved[] {
  const toRoot = profile.sampleLinks === 'local-root';
  const serviceName = profile.resource.attributes['service.name'] ?? `unknown_service:${basename(process.argv0) || 'node'}`;
  const measured = profile.samples.some((s) => s.cpuNanos > 0);
  // A process profile (continuous mode): each sample has its own root, or none and no Link.
  const perSample = profile.kind === 'process';
  return sortResolved(
    profile.samples.map((s) => {
      const root = perSample ? s.root : { traceId: profile.traceId, spanId: profile.rootSpanId, name: profile.rootSpanName };
      return {
        cpuNanos: measured ? String(Math.round(s.cpuNanos)) : undefined,
        time: s.timeUnixNano.toString(),
        frames: (s.stack.length > 0 ? s.stack : [{ functionName: '(program)', fileName: '', lineNumber: 0, columnNumber: 0 }]).map(
          (f: ProfileFrame) => {
            // A source-mapped frame keeps V8's name as the system name and its position as an attribute.
            const g = f.generated;
            const at = g === undefined ? '' : ` @${g.fileName}:${g.lineNumber}:${g.columnNumber}`;
            return `${f.functionName || '(anonymous)'}|${g?.functionName ?? f.functionName}|${f.fileName}:${f.lineNumber}:${f.columnNumber}${at}`;
          },
        ),
        traceId: root?.traceId,
        spanId: root === undefined ? undefined : toRoot ? root.spanId : s.spanId,
        attributes: {
          ...(root === undefined || root.name === '' ? {} : { span_name: { stringValue: root.name } }),
          'service.name': { stringValue: String(serviceName) },
          ...(toRoot && root !== undefined
            ? { 'otel_span_profiler.active_span_id': { bytesValue: Buffer.from(s.spanId, 'hex').toString('base64') } }
            : {}),
        },
      };
    }),
  );
}

export function profilesOf(request: D): D[] {
  return list(request.resourceProfiles).flatMap((rp) => list(rp.scopeProfiles).flatMap((sp) => list(sp.profiles)));
}

export function resourceAttributes(rp: D): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const kv of list((rp.resource as D).attributes)) out[kv.key as string] = kv.value;
  return out;
}

// Time order, ties broken by contents, so merged samples compare equal to the input order.
function sortResolved(samples: Resolved[]): Resolved[] {
  const key = (r: Resolved) => JSON.stringify(r);
  return samples.sort((a, b) => {
    const ta = BigInt(a.time);
    const tb = BigInt(b.time);
    if (ta !== tb) return ta < tb ? -1 : 1;
    const ka = key(a);
    const kb = key(b);
    return ka < kb ? -1 : ka > kb ? 1 : 0;
  });
}
