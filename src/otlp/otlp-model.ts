/*
 * The in-memory form of an OTLP `ExportProfilesServiceRequest` (profiles v1development), shaped
 * so protobufjs can encode it directly and the JSON writer can walk it: lowerCamelCase field
 * names, zero-valued scalars left out (protobufjs writes every field that is present, zeros
 * included), 64-bit values that may exceed 2^53 held as `Uint64`, bytes as `Uint8Array`.
 * Field meanings: the comments of proto/opentelemetry/proto/profiles/v1development/profiles.proto
 * (written for this package from the OTLP v1.11.0 field tables; see proto/README.md).
 */

/**
 * An unsigned 64-bit integer as two 32-bit halves: exact, and readable by protobufjs's writer
 * (which takes any `{ low, high }` for 64-bit fields) without the `long` package.
 */
const SCRATCH = new DataView(new ArrayBuffer(8));

export class Uint64 {
  constructor(
    readonly low: number,
    readonly high: number,
  ) {}

  /** Exact for 0 <= value < 2^64; other values wrap modulo 2^64. */
  static fromBigInt(value: bigint): Uint64 {
    // A DataView splits the value without allocating intermediate BigInts (one per sample
    // timestamp adds up); setBigUint64 wraps modulo 2^64 like BigInt.asUintN.
    SCRATCH.setBigUint64(0, value, true);
    return new Uint64(SCRATCH.getUint32(0, true), SCRATCH.getUint32(4, true));
  }

  toBigInt(): bigint {
    return (BigInt(this.high >>> 0) << 32n) | BigInt(this.low >>> 0);
  }

  /** Decimal digits, as OTLP JSON writes 64-bit integers. */
  toString(): string {
    return this.toBigInt().toString();
  }
}

export interface PbAnyValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: number;
  doubleValue?: number;
  arrayValue?: { values: PbAnyValue[] };
  bytesValue?: Uint8Array;
}

export interface PbKeyValue {
  key: string;
  value: PbAnyValue;
}

export interface PbKeyValueAndUnit {
  keyStrindex?: number;
  value?: PbAnyValue;
  unitStrindex?: number;
}

export interface PbValueType {
  typeStrindex?: number;
  unitStrindex?: number;
}

export interface PbLink {
  traceId?: Uint8Array;
  spanId?: Uint8Array;
}

export interface PbFunction {
  nameStrindex?: number;
  systemNameStrindex?: number;
  filenameStrindex?: number;
  startLine?: number;
}

export interface PbLine {
  functionIndex?: number;
  line?: number;
  column?: number;
}

export interface PbLocation {
  mappingIndex?: number;
  lines?: PbLine[];
  attributeIndices?: readonly number[];
}

export interface PbStack {
  locationIndices?: number[];
}

// The library never emits mappings (JS frames have none); only the zero entry exists.
export type PbMapping = Record<string, never>;

export interface PbSample {
  stackIndex?: number;
  attributeIndices?: readonly number[];
  linkIndex?: number;
  /** One per timestamp, in the profile's sample_type unit; absent for timestamps-only (count) samples. */
  values?: number[];
  timestampsUnixNano: Uint64[];
}

export interface PbProfile {
  sampleType: PbValueType;
  samples: PbSample[];
  timeUnixNano?: Uint64;
  durationNano?: Uint64;
  periodType: PbValueType;
  period: number;
  profileId: Uint8Array;
  attributeIndices?: number[];
}

export interface PbScopeProfiles {
  scope: { name: string; version: string };
  profiles: PbProfile[];
}

export interface PbResourceProfiles {
  resource: { attributes: PbKeyValue[] };
  scopeProfiles: PbScopeProfiles[];
}

export interface PbProfilesDictionary {
  mappingTable: PbMapping[];
  locationTable: PbLocation[];
  functionTable: PbFunction[];
  linkTable: PbLink[];
  stringTable: string[];
  attributeTable: PbKeyValueAndUnit[];
  stackTable: PbStack[];
}

export interface PbExportProfilesServiceRequest {
  resourceProfiles: PbResourceProfiles[];
  dictionary: PbProfilesDictionary;
}
