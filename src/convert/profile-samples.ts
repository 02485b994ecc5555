/*
 * Flattens OTLP profiles requests (any number, from any source) into one list of samples, each
 * with its own span, its stack as frame ids (outermost first) and its weight, so converters and
 * the viewer never touch dictionary indices.
 */
import { ACTIVE_SPAN_ID_ATTRIBUTE, CONTINUOUS_ATTRIBUTE, SERVICE_NAME_ATTRIBUTE, SPAN_NAME_ATTRIBUTE } from '../otlp/attribute-names';
import { anyValueText, asArray, asBigInt, asHexId, asInt, asRecord, keyValues, type Json } from './otlp-values';

/** One stack frame: a function at a position. Lines and columns are 1-based (0 = unknown). */
export interface Frame {
  readonly name: string;
  readonly file: string;
  readonly line: number;
  readonly column: number;
}

/** The profile a sample came from: one object per profile, shared by its samples (so identity tells profiles apart). */
export interface ProfileInfo {
  /**
   * True for continuous mode's process profiles (profile attribute `otel_span_profiler.continuous`
   * = true): every sample of the process for one period, with or without a span.
   */
  readonly continuous: boolean;
  /** The profile's `time_unix_nano` (0n when absent). */
  readonly timeUnixNano: bigint;
  /** The profile's `duration_nano` (0n when absent or negative). */
  readonly durationNanos: bigint;
}

/** One OTLP sample, resolved. */
export interface FlatSample {
  /** 32 lowercase hex chars, or '' when the sample has no link. */
  readonly traceId: string;
  /** The sample's own span: the active-span attribute if present, else the link's span ('' = none). */
  readonly spanId: string;
  /** The link's span (the local root by default). */
  readonly linkSpanId: string;
  /** The `span_name` sample attribute (the local root's name), or ''. */
  readonly rootSpanName: string;
  /** `service.name` of the resource, or ''. */
  readonly serviceName: string;
  /** Frame ids into {@link SampleSet.frames}, outermost caller first. */
  readonly stack: readonly number[];
  /** One entry per sampling instant (may be empty when the producer sent values only). */
  readonly timestampsUnixNano: readonly bigint[];
  /** How many samples this stands for. */
  readonly count: number;
  /** CPU nanoseconds: measured (`cpu`/`nanoseconds` values) or estimated as count x period. */
  readonly cpuNanos: number;
  /** CPU nanoseconds per timestamp, parallel to timestampsUnixNano. */
  readonly weightsNanos: readonly number[];
  /** The profile the sample is part of. */
  readonly profile: ProfileInfo;
}

/** An error in the content of an OTLP request: says what is wrong, the caller adds where. */
export class OtlpContentError extends Error {}

/** Samples and the frame table they index, interned across every request added. */
export class SampleSet {
  readonly frames: Frame[] = [];
  readonly samples: FlatSample[] = [];
  /** True when every profile added carried measured CPU time. */
  cpuMeasured = true;
  private readonly _frameIds = new Map<string, number>();

  /** Adds every sample of one `ExportProfilesServiceRequest` (JSON-shaped); throws OtlpContentError. */
  addRequest(request: unknown): number {
    const req = asRecord(request);
    if (!('resourceProfiles' in req) && !('dictionary' in req)) {
      throw new OtlpContentError('not an OTLP profiles request (no resourceProfiles or dictionary)');
    }
    const dict = asRecord(req.dictionary);
    const strings = asArray(dict.stringTable).map((s) => (typeof s === 'string' ? s : ''));
    const functions = asArray(dict.functionTable).map(asRecord);
    const locations = asArray(dict.locationTable).map(asRecord);
    const stacks = asArray(dict.stackTable).map(asRecord);
    const links = asArray(dict.linkTable).map(asRecord);
    const attributes = asArray(dict.attributeTable).map(asRecord);
    const str = (index: unknown, what: string): string => {
      const i = asInt(index);
      if (i < 0 || (i >= strings.length && i !== 0))
        throw new OtlpContentError(`${what} ${i} is outside string_table (${strings.length} entries)`);
      return strings[i] ?? '';
    };
    const at = <T>(table: readonly T[], index: unknown, what: string): T | undefined => {
      const i = asInt(index);
      if (i === 0 && table.length === 0) return undefined;
      if (i < 0 || i >= table.length) throw new OtlpContentError(`${what} ${i} is outside its table (${table.length} entries)`);
      return table[i];
    };
    // Frames per location, outermost first within the location (OTLP lists inlined lines callee first).
    const locationFrames = new Map<number, number[]>();
    const framesOfLocation = (index: number): number[] => {
      let ids = locationFrames.get(index);
      if (ids === undefined) {
        const location = at(locations, index, 'location index') ?? {};
        ids = [];
        for (const lineValue of asArray(location.lines)) {
          const line = asRecord(lineValue);
          const fn = at(functions, line.functionIndex, 'function_index') ?? {};
          ids.unshift(
            this._frame({
              name: str(fn.nameStrindex, 'function name_strindex') || str(fn.systemNameStrindex, 'function system_name_strindex'),
              file: str(fn.filenameStrindex, 'function filename_strindex'),
              line: asInt(line.line),
              column: asInt(line.column),
            }),
          );
        }
        if (ids.length === 0) ids.push(this._frame({ name: `(unknown location ${index})`, file: '', line: 0, column: 0 }));
        locationFrames.set(index, ids);
      }
      return ids;
    };
    let added = 0;
    for (const resourceValue of asArray(req.resourceProfiles)) {
      const resource = asRecord(resourceValue);
      const serviceName = keyValues(asRecord(resource.resource).attributes, strings).get(SERVICE_NAME_ATTRIBUTE) ?? '';
      for (const scopeValue of asArray(resource.scopeProfiles)) {
        for (const profileValue of asArray(asRecord(scopeValue).profiles)) {
          added += this._addProfile(asRecord(profileValue), { serviceName, str, at, framesOfLocation, stacks, links, attributes, strings });
        }
      }
    }
    return added;
  }

  private _addProfile(profile: Json, ctx: RequestContext): number {
    const units = profileUnits(profile, ctx);
    if (!units.valuesAreNanos) this.cpuMeasured = false;
    const info = profileInfo(profile, ctx);
    let added = 0;
    for (const [sampleIndex, sampleValue] of asArray(profile.samples).entries()) {
      this.samples.push(this._flatSample(asRecord(sampleValue), `sample ${sampleIndex}`, units, info, ctx));
      added++;
    }
    return added;
  }

  /** One OTLP sample resolved against its request's tables; `where` names it in errors. */
  private _flatSample(sample: Json, where: string, units: ProfileUnits, profile: ProfileInfo, ctx: RequestContext): FlatSample {
    const stackEntry = ctx.at(ctx.stacks, sample.stackIndex, `${where}: stack_index`) ?? {};
    const stack: number[] = [];
    const locationIndices = asArray(stackEntry.locationIndices).map(asInt);
    // OTLP stacks are leaf first; ours are outermost first.
    for (let i = locationIndices.length - 1; i >= 0; i--) stack.push(...ctx.framesOfLocation(locationIndices[i]));
    if (stack.length === 0) stack.push(this._frame({ name: '(no stack)', file: '', line: 0, column: 0 }));
    const link = ctx.at(ctx.links, sample.linkIndex, `${where}: link_index`) ?? {};
    const traceId = asHexId(link.traceId, 16);
    const linkSpanId = asHexId(link.spanId, 8);
    const { activeSpanId, rootSpanName } = sampleAttributes(sample, where, ctx);
    const timestamps = asArray(sample.timestampsUnixNano).map(asBigInt);
    const values = asArray(sample.values).map((value, i) => int64(value, `${where}: value ${i}`));
    if (timestamps.length === 0 && values.length === 0) throw new OtlpContentError(`${where} has neither values nor timestamps`);
    if (timestamps.length > 0 && values.length > 1 && values.length !== timestamps.length) {
      throw new OtlpContentError(`${where} has ${values.length} values but ${timestamps.length} timestamps`);
    }
    const { count, weights } = sampleWeights(timestamps, values, units);
    return {
      traceId,
      spanId: activeSpanId || linkSpanId,
      linkSpanId,
      rootSpanName,
      serviceName: ctx.serviceName,
      stack,
      timestampsUnixNano: timestamps,
      count,
      cpuNanos: weights.reduce((a, b) => a + b, 0),
      weightsNanos: weights,
      profile,
    };
  }

  /** The id of `frame` in {@link frames}, added if new (the viewer re-interns the frames it keeps). */
  internFrame(frame: Frame): number {
    return this._frame(frame);
  }

  private _frame(frame: Frame): number {
    const key = `${frame.name}\0${frame.file}\0${frame.line}\0${frame.column}`;
    let id = this._frameIds.get(key);
    if (id === undefined) {
      id = this.frames.length;
      this.frames.push(frame);
      this._frameIds.set(key, id);
    }
    return id;
  }
}

/** One request's tables and lookups, checked: a bad index throws OtlpContentError. */
interface RequestContext {
  readonly serviceName: string;
  readonly str: (index: unknown, what: string) => string;
  readonly at: <T>(table: readonly T[], index: unknown, what: string) => T | undefined;
  readonly framesOfLocation: (index: number) => number[];
  readonly stacks: Json[];
  readonly links: Json[];
  readonly attributes: Json[];
  readonly strings: string[];
}

/** What a profile's samples measure. */
interface ProfileUnits {
  /** The values are CPU (or wall) nanoseconds: `sample_type` cpu/nanoseconds or wall/nanoseconds. */
  readonly valuesAreNanos: boolean;
  /** Nanoseconds per counted sample: the period when `period_type` is cpu/nanoseconds, else 0. */
  readonly periodNanos: number;
}

function profileUnits(profile: Json, ctx: RequestContext): ProfileUnits {
  const sampleType = asRecord(profile.sampleType);
  const type = ctx.str(sampleType.typeStrindex, 'sample_type type_strindex');
  const unit = ctx.str(sampleType.unitStrindex, 'sample_type unit_strindex');
  const periodType = asRecord(profile.periodType);
  const periodIsCpuNanos =
    ctx.str(periodType.typeStrindex, 'period_type type_strindex') === 'cpu' &&
    ctx.str(periodType.unitStrindex, 'period_type unit_strindex') === 'nanoseconds';
  return {
    valuesAreNanos: unit === 'nanoseconds' && (type === 'cpu' || type === 'wall'),
    periodNanos: periodIsCpuNanos ? Math.max(0, int64(profile.period, 'period')) : 0,
  };
}

/**
 * What a profile says about itself. Only a `bool_value` of true marks a process profile: the
 * attribute's value is never trusted to be of the type this package writes.
 */
function profileInfo(profile: Json, ctx: RequestContext): ProfileInfo {
  let continuous = false;
  for (const attributeIndex of asArray(profile.attributeIndices)) {
    const attribute = ctx.at(ctx.attributes, attributeIndex, 'profile attribute index') ?? {};
    const key = ctx.str(attribute.keyStrindex, 'profile attribute key_strindex');
    if (key === CONTINUOUS_ATTRIBUTE) continuous = asRecord(attribute.value).boolValue === true;
  }
  const duration = asBigInt(profile.durationNano);
  return { continuous, timeUnixNano: asBigInt(profile.timeUnixNano), durationNanos: duration > 0n ? duration : 0n };
}

/** The sample attributes this package writes: the active span's ID and the local root's name ('' when absent). */
function sampleAttributes(sample: Json, where: string, ctx: RequestContext): { activeSpanId: string; rootSpanName: string } {
  let activeSpanId = '';
  let rootSpanName = '';
  for (const attributeIndex of asArray(sample.attributeIndices)) {
    const attribute = ctx.at(ctx.attributes, attributeIndex, `${where}: attribute index`) ?? {};
    const key = ctx.str(attribute.keyStrindex, `${where}: attribute key_strindex`);
    if (key === ACTIVE_SPAN_ID_ATTRIBUTE) activeSpanId = spanIdValue(attribute.value, ctx.strings);
    else if (key === SPAN_NAME_ATTRIBUTE) rootSpanName = anyValueText(attribute.value, ctx.strings);
  }
  return { activeSpanId, rootSpanName };
}

/**
 * How many samples one OTLP sample stands for, and the CPU nanoseconds of each timestamp:
 * measured values where the profile has them, else count x period.
 */
function sampleWeights(timestamps: readonly bigint[], values: number[], units: ProfileUnits): { count: number; weights: number[] } {
  if (units.valuesAreNanos && values.length > 0) {
    const count = Math.max(timestamps.length, values.length);
    if (values.length === timestamps.length || timestamps.length === 0) return { count, weights: values };
    // One aggregated value for several timestamps: spread it evenly.
    const total = values.reduce((a, b) => a + b, 0);
    return { count, weights: timestamps.map(() => total / timestamps.length) };
  }
  const count = values.length > 0 ? values.reduce((a, b) => a + b, 0) : timestamps.length;
  const weights =
    timestamps.length > 0
      ? timestamps.map((_, i) => (values.length === timestamps.length ? values[i] : count / timestamps.length) * units.periodNanos)
      : [count * units.periodNanos];
  return { count, weights };
}

/**
 * The active-span attribute's value: 8 bytes in `bytes_value` (bytes from protobuf, base64 in
 * OTLP JSON), or 16 hex characters in `string_value`.
 */
function spanIdValue(value: unknown, strings: readonly string[]): string {
  const v = asRecord(value);
  if (v.bytesValue !== undefined) return asHexId(v.bytesValue, 8);
  return asHexId(anyValueText(v, strings), 8);
}

/**
 * An int64 field as a number. A JSON number or string outside int64 (`1e308`, `1e400` parsed as
 * Infinity) is refused here: sums of such values reach Infinity, which no timestamp arithmetic takes.
 */
function int64(value: unknown, what: string): number {
  const n = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : undefined;
  // Absent (0), a BigInt or protobufjs' { low, high }: always in range.
  if (n === undefined) return asInt(value);
  if (!Number.isFinite(n) || Math.abs(n) > 2 ** 63) throw new OtlpContentError(`${what} is not an int64: ${String(value).slice(0, 40)}`);
  return Math.trunc(n);
}

/** A frame's function as one label: `name (file)`, for flame graphs and folded stacks. */
export function functionLabel(frame: Frame): string {
  const name = frame.name || '(anonymous)';
  return frame.file ? `${name} (${frame.file})` : name;
}
