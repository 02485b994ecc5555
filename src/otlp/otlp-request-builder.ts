import { randomBytes } from 'node:crypto';
import { basename } from 'node:path';
import type { Attributes } from '@opentelemetry/api';
import { PACKAGE_NAME, PACKAGE_VERSION } from '../version';
import { DictionaryBuilder, toAnyValue } from './dictionary';
import {
  Uint64,
  type PbExportProfilesServiceRequest,
  type PbKeyValue,
  type PbProfile,
  type PbResourceProfiles,
  type PbSample,
} from './otlp-model';
import type { ProfileResource, SpanProfile } from '../profile/span-profile';

/** Profile attribute, `true` when the duration cap closed the profile before its root span ended. */
export const TRUNCATED_ATTRIBUTE = 'otel_span_profiler.truncated';
/** Profile attribute, the number of samples dropped by the per-profile sample cap (only when > 0). */
export const DROPPED_SAMPLES_ATTRIBUTE = 'otel_span_profiler.dropped_samples';
/**
 * Profile attribute, `true` on the profiles of continuous mode: one period of the whole process,
 * whose samples link to their profiled roots one by one (docs/continuous.md).
 */
export const CONTINUOUS_ATTRIBUTE = 'otel_span_profiler.continuous';
/**
 * Sample attribute with the local root span's name, the label Grafana's otel-profiling-go puts on
 * span profiles; Pyroscope turns sample attributes into pprof labels, so flame graphs can be
 * grouped by endpoint.
 */
export const SPAN_NAME_ATTRIBUTE = 'span_name';
/**
 * Sample attribute with the ID of the span that was active when the sample was taken, as an
 * 8-byte `bytes_value`, on every sample of a profile whose Links name the local root
 * (`sampleLinks: 'local-root'`, the processor's default). A consumer finds a sample's own span
 * as: this attribute if present, else the Link's span. Bytes rather than a hex string because
 * Grafana Pyroscope turns every string or integer sample attribute into a series label (one
 * series per span), and ignores bytes; see docs/grafana.md.
 */
export const ACTIVE_SPAN_ID_ATTRIBUTE = 'otel_span_profiler.active_span_id';
/**
 * A resource attribute, and repeated as a sample attribute on every sample: sample attributes
 * live in the dictionary, which the Collector forwards as it came, while it rewrites resource
 * attributes into string-table references that Pyroscope cannot read (docs/grafana.md).
 */
const SERVICE_NAME = 'service.name';
// Used when the sampler could not measure an interval: the sampler's nominal 99 Hz.
const FALLBACK_PERIOD_NANOS = 10_101_010;

/** Options of {@link buildExportRequest}; tests inject randomness to get stable output. */
export interface BuildExportRequestOptions {
  /** Source of the 16-byte profile_ids (called once per batch for all of them); default `crypto.randomBytes`. */
  randomBytes?: (size: number) => Uint8Array;
}

/**
 * Turns a batch of span profiles into one ExportProfilesServiceRequest model: one shared
 * dictionary, one ResourceProfiles per distinct resource, one ScopeProfiles naming this package,
 * one Profile per span profile. Pure apart from the random profile ids.
 */
export function buildExportRequest(
  profiles: readonly SpanProfile[],
  options: BuildExportRequestOptions = {},
): PbExportProfilesServiceRequest {
  const random = options.randomBytes ?? randomBytes;
  const dictionary = new DictionaryBuilder();
  const resourceProfiles: PbResourceProfiles[] = [];
  const byResourceObject = new Map<ProfileResource, PbProfile[]>();
  const byResourceKey = new Map<string, PbProfile[]>();
  const serviceNames = new Map<PbProfile[], string>();

  // One call for all profile ids: randomBytes costs microseconds per call, whatever the size.
  const profileIds = profiles.length > 0 ? random(16 * profiles.length) : new Uint8Array(0);
  for (let p = 0; p < profiles.length; p++) {
    const profile = profiles[p];
    let bucket = byResourceObject.get(profile.resource);
    if (bucket === undefined) {
      // Distinct Resource objects with equal attributes (several SDK instances, or a copied
      // resource) still share one ResourceProfiles.
      const attributes = resourceAttributes(profile.resource.attributes);
      const key = JSON.stringify([...attributes].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)));
      bucket = byResourceKey.get(key);
      if (bucket === undefined) {
        bucket = [];
        serviceNames.set(bucket, attributes.find((kv) => kv.key === SERVICE_NAME)?.value.stringValue ?? '');
        byResourceKey.set(key, bucket);
        resourceProfiles.push({
          resource: { attributes },
          scopeProfiles: [{ scope: { name: PACKAGE_NAME, version: PACKAGE_VERSION }, profiles: bucket }],
        });
      }
      byResourceObject.set(profile.resource, bucket);
    }
    bucket.push(buildProfile(profile, dictionary, profileIds.subarray(16 * p, 16 * p + 16), serviceNames.get(bucket) ?? ''));
  }
  return { resourceProfiles, dictionary: dictionary.build() };
}

/** The samples of one span in a profile: their Link, attributes and Samples by stack. */
interface SpanSamples {
  readonly linkIndex: number;
  readonly attributeIndices: readonly number[] | undefined;
  readonly byStack: Map<number, PbSample>;
}

function buildProfile(
  profile: SpanProfile,
  dictionary: DictionaryBuilder,
  profileId: Uint8Array,
  serviceName: string,
): PbProfile {
  // Where the sampler measured CPU time (Linux), each sample carries its CPU nanoseconds and the
  // profile's sample_type is cpu/nanoseconds; elsewhere samples are counts (timestamps only).
  let measured = false;
  for (const sample of profile.samples) {
    if (sample.cpuNanos > 0) {
      measured = true;
      break;
    }
  }
  // Identical (stack, link, attributes) samples merge into one Sample with several timestamps.
  // Link and attributes depend only on the sample's span (the rest is the same for the whole
  // profile), so (span, stack) is the key. Samples with values stay one timestamp each:
  // Pyroscope's OTLP ingest accepts exactly one value per Sample when the profile has a period
  // (it rejects the profile otherwise).
  const linkToRoot = profile.sampleLinks === 'local-root';
  // A process profile (continuous mode): each sample names its own root, or none.
  const processProfile = profile.kind === 'process';
  const common = profileSampleAttributes(profile, dictionary, serviceName);
  const bySpanId = new Map<string, SpanSamples>();
  const byKey = new Map<string, SpanSamples>();
  const samples: PbSample[] = [];
  let first = profile.startTimeUnixNano;
  let last = profile.endTimeUnixNano - 1n;

  for (const sample of profile.samples) {
    const root = processProfile ? sample.root : undefined;
    // A span's group depends on its root too in a process profile (Link and span_name).
    const spanKey = !processProfile ? sample.spanId : root === undefined ? '' : `${root.traceId}:${root.spanId}:${sample.spanId}`;
    let span = bySpanId.get(spanKey);
    if (span === undefined) {
      let attributeIndices = common;
      let linkIndex = 0;
      if (!processProfile || root !== undefined) {
        const traceId = root?.traceId ?? profile.traceId;
        if (root !== undefined && root.name !== '') {
          attributeIndices = Object.freeze([dictionary.attribute(SPAN_NAME_ATTRIBUTE, root.name)!, ...common]);
        }
        if (linkToRoot) {
          const active = dictionary.spanIdAttribute(ACTIVE_SPAN_ID_ATTRIBUTE, sample.spanId);
          if (active !== undefined) attributeIndices = Object.freeze([...attributeIndices, active]);
        }
        linkIndex = dictionary.link(traceId, linkToRoot ? (root?.spanId ?? profile.rootSpanId) : sample.spanId);
      }
      // Malformed span IDs all map to no link (and no attribute): one group for them.
      const key = `${linkIndex}:${attributeIndices.join(',')}`;
      span = byKey.get(key);
      if (span === undefined) {
        span = { linkIndex, attributeIndices: attributeIndices.length > 0 ? attributeIndices : undefined, byStack: new Map() };
        byKey.set(key, span);
      }
      bySpanId.set(spanKey, span);
    }
    const stackIndex = dictionary.stack(sample.stack);
    let pbSample = measured ? undefined : span.byStack.get(stackIndex);
    if (pbSample === undefined) {
      pbSample = { timestampsUnixNano: [] };
      if (stackIndex !== 0) pbSample.stackIndex = stackIndex;
      if (span.linkIndex !== 0) pbSample.linkIndex = span.linkIndex;
      if (span.attributeIndices !== undefined) pbSample.attributeIndices = span.attributeIndices;
      if (measured) pbSample.values = [];
      else span.byStack.set(stackIndex, pbSample);
      samples.push(pbSample);
    }
    const t = sample.timeUnixNano;
    pbSample.timestampsUnixNano.push(Uint64.fromBigInt(t));
    if (measured) pbSample.values!.push(Math.max(0, Math.round(sample.cpuNanos)));
    if (t < first) first = t;
    if (t > last) last = t;
  }

  // Sample timestamps must lie in [time, time + duration): widen the window rather than emit
  // samples outside it (the ebpf-profiler reporter moves its start back the same way).
  const duration = last + 1n - first;
  const pbProfile: PbProfile = {
    sampleType: measured
      ? { typeStrindex: dictionary.string('cpu'), unitStrindex: dictionary.string('nanoseconds') }
      : { typeStrindex: dictionary.string('samples'), unitStrindex: dictionary.string('count') },
    samples,
    periodType: { typeStrindex: dictionary.string('cpu'), unitStrindex: dictionary.string('nanoseconds') },
    period: periodNanos(profile.periodNanos),
    profileId,
  };
  if (first !== 0n) pbProfile.timeUnixNano = Uint64.fromBigInt(first);
  if (duration > 0n) pbProfile.durationNano = Uint64.fromBigInt(duration);
  const attributeIndices: number[] = [];
  if (processProfile) attributeIndices.push(dictionary.attribute(CONTINUOUS_ATTRIBUTE, true)!);
  if (profile.truncated) attributeIndices.push(dictionary.attribute(TRUNCATED_ATTRIBUTE, true)!);
  if (profile.droppedSamples > 0) {
    attributeIndices.push(dictionary.attribute(DROPPED_SAMPLES_ATTRIBUTE, profile.droppedSamples)!);
  }
  if (attributeIndices.length > 0) pbProfile.attributeIndices = attributeIndices;
  return pbProfile;
}

/** The attributes every sample of a profile carries: the root's name and the service name. */
function profileSampleAttributes(profile: SpanProfile, dictionary: DictionaryBuilder, serviceName: string): readonly number[] {
  const indices: number[] = [];
  if (profile.rootSpanName !== '') indices.push(dictionary.attribute(SPAN_NAME_ATTRIBUTE, profile.rootSpanName)!);
  if (serviceName !== '') indices.push(dictionary.attribute(SERVICE_NAME, serviceName)!);
  return Object.freeze(indices);
}

function periodNanos(measured: number): number {
  const period = Math.round(measured);
  return Number.isSafeInteger(period) && period > 0 ? period : FALLBACK_PERIOD_NANOS;
}

/**
 * Resource attributes as plain key/value pairs (Pyroscope ignores the string-table forms), with
 * `service.name` always present: the semantic conventions' fallback is
 * `unknown_service:<process.executable.name>`.
 */
function resourceAttributes(attributes: Attributes): PbKeyValue[] {
  const out: PbKeyValue[] = [];
  let hasServiceName = false;
  for (const key of Object.keys(attributes)) {
    const value = toAnyValue(attributes[key]);
    if (value === undefined) continue;
    if (key === SERVICE_NAME) hasServiceName = true;
    out.push({ key, value });
  }
  if (!hasServiceName) {
    out.push({ key: SERVICE_NAME, value: { stringValue: `unknown_service:${basename(process.argv0) || 'node'}` } });
  }
  return out;
}
