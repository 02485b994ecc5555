/*
 * Small readers for OTLP values as they arrive from JSON.parse (ids as hex, 64-bit integers as
 * strings or numbers) or from otlp-protobuf.ts (ids as bytes, 64-bit integers as strings). proto3
 * JSON leaves zero values out, so a missing field reads as its zero value.
 */

export type Json = Record<string, unknown>;

export function asRecord(value: unknown): Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Json) : {};
}

export function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

export function asInt(value: unknown): number {
  if (typeof value === 'number') return Number.isFinite(value) ? Math.trunc(value) : 0;
  if (typeof value === 'string' && value !== '') {
    const parsed = Number(value);
    return Number.isFinite(parsed) ? Math.trunc(parsed) : 0;
  }
  if (typeof value === 'bigint') return Number(value);
  const record = asRecord(value);
  if (typeof record.low === 'number' && typeof record.high === 'number') {
    return (record.high >>> 0) * 2 ** 32 + (record.low >>> 0);
  }
  return 0;
}

/** A fixed64 nanosecond timestamp, exact: decimal string, number (inexact past 2^53) or { low, high }. */
export function asBigInt(value: unknown): bigint {
  try {
    if (typeof value === 'string' && value !== '') return BigInt(value);
    if (typeof value === 'number' && Number.isFinite(value)) return BigInt(Math.trunc(value));
    if (typeof value === 'bigint') return value;
  } catch {
    return 0n;
  }
  const record = asRecord(value);
  if (typeof record.low === 'number' && typeof record.high === 'number') {
    return (BigInt(record.high >>> 0) << 32n) | BigInt(record.low >>> 0);
  }
  return 0n;
}

/** A trace or span id as lowercase hex ('' when absent or all zeros): hex or base64 text, or bytes. */
export function asHexId(value: unknown, byteLength: number): string {
  let hex = '';
  if (value instanceof Uint8Array) {
    hex = Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('hex');
  } else if (typeof value === 'string' && value !== '') {
    // OTLP JSON writes ids as hex; proto3 JSON in general (Go's protojson) writes base64.
    if (value.length === byteLength * 2 && /^[0-9a-fA-F]+$/.test(value)) hex = value.toLowerCase();
    else hex = Buffer.from(value, 'base64').toString('hex');
  }
  if (hex.length !== byteLength * 2 || /^0+$/.test(hex)) return '';
  return hex;
}

/** An AnyValue as a display string; `strings` resolves `string_value_strindex`. */
export function anyValueText(value: unknown, strings: readonly string[] = []): string {
  const v = asRecord(value);
  if (typeof v.stringValue === 'string') return v.stringValue;
  if (v.stringValueStrindex !== undefined) return strings[asInt(v.stringValueStrindex)] ?? '';
  if (v.intValue !== undefined) return String(v.intValue);
  if (v.doubleValue !== undefined) return String(v.doubleValue);
  if (v.boolValue !== undefined) return String(v.boolValue);
  if (v.arrayValue !== undefined)
    return asArray(asRecord(v.arrayValue).values)
      .map((x) => anyValueText(x, strings))
      .join(',');
  return '';
}

/** Plain `KeyValue` attributes (resource, scope, span) as a map of display strings. */
export function keyValues(list: unknown, strings: readonly string[] = []): Map<string, string> {
  const out = new Map<string, string>();
  for (const item of asArray(list)) {
    const kv = asRecord(item);
    // The Collector may forward resource attributes in the dictionary-reference form.
    const key = typeof kv.key === 'string' && kv.key !== '' ? kv.key : (strings[asInt(kv.keyStrindex)] ?? '');
    if (key !== '') out.set(key, anyValueText(kv.value, strings));
  }
  return out;
}
