import { randomBytes } from 'node:crypto';
import { basename } from 'node:path';
import type { Attributes } from '@opentelemetry/api';
import { PACKAGE_NAME, PACKAGE_VERSION } from '../version';
import {
  ACTIVE_SPAN_ID_ATTRIBUTE,
  CONTINUOUS_ATTRIBUTE,
  DROPPED_SAMPLES_ATTRIBUTE,
  SERVICE_NAME_ATTRIBUTE,
  SPAN_NAME_ATTRIBUTE,
  TRUNCATED_ATTRIBUTE,
} from './attribute-names';
import { DictionaryBuilder, toAnyValue } from './dictionary';
import {
  Uint64,
  type PbExportProfilesServiceRequest,
  type PbKeyValue,
  type PbProfile,
  type PbResourceProfiles,
  type PbSample,
} from './otlp-model';
import type { ProfileResource, ProfileSample, SpanProfile } from '../profile/span-profile';

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
        serviceNames.set(bucket, attributes.find((kv) => kv.key === SERVICE_NAME_ATTRIBUTE)?.value.stringValue ?? '');
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

function buildProfile(profile: SpanProfile, dictionary: DictionaryBuilder, profileId: Uint8Array, serviceName: string): PbProfile {
  // Where the sampler measured CPU time (Linux), each sample carries its CPU nanoseconds and the
  // profile's sample_type is cpu/nanoseconds; elsewhere samples are counts (timestamps only).
  const measured = profile.samples.some((sample) => sample.cpuNanos > 0);
  const { samples, first, last } = buildSamples(profile, dictionary, serviceName, measured);
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
  if (profile.kind === 'process') attributeIndices.push(dictionary.attribute(CONTINUOUS_ATTRIBUTE, true)!);
  if (profile.truncated) attributeIndices.push(dictionary.attribute(TRUNCATED_ATTRIBUTE, true)!);
  if (profile.droppedSamples > 0) {
    attributeIndices.push(dictionary.attribute(DROPPED_SAMPLES_ATTRIBUTE, profile.droppedSamples)!);
  }
  if (attributeIndices.length > 0) pbProfile.attributeIndices = attributeIndices;
  return pbProfile;
}

/**
 * A profile's Samples, and the first and last timestamps among them and the profile's window.
 * Identical (stack, link, attributes) samples merge into one Sample with several timestamps.
 * Samples with values (`measured`) stay one timestamp each: Pyroscope's OTLP ingest accepts
 * exactly one value per Sample when the profile has a period (it rejects the profile otherwise).
 */
function buildSamples(
  profile: SpanProfile,
  dictionary: DictionaryBuilder,
  serviceName: string,
  measured: boolean,
): { samples: PbSample[]; first: bigint; last: bigint } {
  const groups = new SpanGroups(profile, dictionary, serviceName);
  const samples: PbSample[] = [];
  let first = profile.startTimeUnixNano;
  let last = profile.endTimeUnixNano - 1n;
  for (const sample of profile.samples) {
    const span = groups.of(sample);
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
  return { samples, first, last };
}

/** The samples of one span in a profile: their Link, attributes and Samples by stack. */
interface SpanSamples {
  readonly linkIndex: number;
  readonly attributeIndices: readonly number[] | undefined;
  readonly byStack: Map<number, PbSample>;
}

/**
 * The Link and attributes of each span's samples in one profile. They depend only on the span
 * (the rest is the same for the whole profile), so spans that get the same ones share a group:
 * (group, stack) is a Sample's merge key.
 */
class SpanGroups {
  private readonly _linkToRoot: boolean;
  private readonly _processProfile: boolean;
  private readonly _common: readonly number[];
  private readonly _rootLinkIndex: number;
  private readonly _bySpanId = new Map<string, SpanSamples>();
  private readonly _byKey = new Map<string, SpanSamples>();

  constructor(
    private readonly _profile: SpanProfile,
    private readonly _dictionary: DictionaryBuilder,
    serviceName: string,
  ) {
    this._linkToRoot = _profile.sampleLinks === 'local-root';
    this._processProfile = _profile.kind === 'process';
    this._common = profileSampleAttributes(_profile, _dictionary, serviceName);
    this._rootLinkIndex = this._linkToRoot ? _dictionary.link(_profile.traceId, _profile.rootSpanId) : 0;
  }

  /** The group of a sample: its Link and attributes, which depend on its span (and, in a process profile, its root). */
  of(sample: ProfileSample): SpanSamples {
    const spanId = sample.spanId;
    // A process profile (continuous mode): each sample names its own root, or none.
    const root = this._processProfile ? sample.root : undefined;
    const spanKey = !this._processProfile ? spanId : root === undefined ? '' : `${root.traceId}:${root.spanId}:${spanId}`;
    let span = this._bySpanId.get(spanKey);
    if (span !== undefined) return span;
    let attributeIndices = this._common;
    let linkIndex = 0;
    if (!this._processProfile) {
      if (this._linkToRoot) {
        const active = this._dictionary.spanIdAttribute(ACTIVE_SPAN_ID_ATTRIBUTE, spanId);
        if (active !== undefined) attributeIndices = Object.freeze([...this._common, active]);
      }
      linkIndex = this._linkToRoot ? this._rootLinkIndex : this._dictionary.link(this._profile.traceId, spanId);
    } else if (root !== undefined) {
      if (root.name !== '')
        attributeIndices = Object.freeze([this._dictionary.attribute(SPAN_NAME_ATTRIBUTE, root.name)!, ...attributeIndices]);
      if (this._linkToRoot) {
        const active = this._dictionary.spanIdAttribute(ACTIVE_SPAN_ID_ATTRIBUTE, spanId);
        if (active !== undefined) attributeIndices = Object.freeze([...attributeIndices, active]);
      }
      linkIndex = this._dictionary.link(root.traceId, this._linkToRoot ? root.spanId : spanId);
    }
    // Malformed span IDs all map to no link (and no attribute): one group for them.
    const key = `${linkIndex}:${attributeIndices.join(',')}`;
    span = this._byKey.get(key);
    if (span === undefined) {
      span = { linkIndex, attributeIndices: attributeIndices.length > 0 ? attributeIndices : undefined, byStack: new Map() };
      this._byKey.set(key, span);
    }
    this._bySpanId.set(spanKey, span);
    return span;
  }
}

/** The attributes every sample of a profile carries: the root's name and the service name. */
function profileSampleAttributes(profile: SpanProfile, dictionary: DictionaryBuilder, serviceName: string): readonly number[] {
  const indices: number[] = [];
  if (profile.rootSpanName !== '') indices.push(dictionary.attribute(SPAN_NAME_ATTRIBUTE, profile.rootSpanName)!);
  if (serviceName !== '') indices.push(dictionary.attribute(SERVICE_NAME_ATTRIBUTE, serviceName)!);
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
    if (key === SERVICE_NAME_ATTRIBUTE) hasServiceName = true;
    out.push({ key, value });
  }
  if (!hasServiceName) {
    out.push({ key: SERVICE_NAME_ATTRIBUTE, value: { stringValue: `unknown_service:${basename(process.argv0) || 'node'}` } });
  }
  return out;
}
