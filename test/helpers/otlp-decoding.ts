import type * as Protobuf from 'protobufjs';
import { Uint64, type PbExportProfilesServiceRequest } from '../../src/otlp/otlp-model';
import { HEX_BYTES_FIELDS, INT64_TYPES } from '../../src/otlp/otlp-encoding';
import { otlpSchema } from '../../src/otlp/otlp-schema';

/*
 * Reads OTLP `ExportProfilesServiceRequest`s, binary or JSON, into the request model the encoder
 * writes (src/otlp/otlp-model.ts): lowerCamelCase fields, zero-valued scalars left out, repeated
 * fields always arrays, bytes as Uint8Array. Unsigned 64-bit fields (timestamps, durations,
 * addresses) become exact `Uint64`s; signed 64-bit ones (period, line, values, int_value) become
 * numbers, exact below 2^53. Fields the model does not type (e.g. `values`, `keyStrindex`) are
 * decoded the same way. A test helper: tests decode what the package wrote back into the model it encodes.
 */

const UNSIGNED_64_TYPES = new Set(['uint64', 'fixed64']);

/** Decodes a binary request (`application/x-protobuf`); throws on malformed input. */
export function decodeRequestProtobuf(bytes: Uint8Array): PbExportProfilesServiceRequest {
  const { request } = otlpSchema();
  return fromWire(request, request.decode(bytes)) as unknown as PbExportProfilesServiceRequest;
}

/**
 * Decodes an OTLP JSON request (`application/json`, or one line of a file export): camelCase or
 * snake_case keys, 64-bit integers as strings or numbers, trace/span/profile ids as hex, other
 * bytes as base64, enums as numbers or names. Throws on malformed input.
 */
export function decodeRequestJson(json: string | Uint8Array): PbExportProfilesServiceRequest {
  const text = typeof json === 'string' ? json : Buffer.from(json.buffer, json.byteOffset, json.byteLength).toString('utf8');
  const { request } = otlpSchema();
  return fromJson(request, JSON.parse(text), 'request') as unknown as PbExportProfilesServiceRequest;
}

type Model = Record<string, unknown>;

function fromWire(type: Protobuf.Type, message: object): Model {
  const record = message as Record<string, unknown>;
  const out: Model = {};
  for (const field of type.fieldsArray) {
    const value = Object.prototype.hasOwnProperty.call(record, field.name) ? record[field.name] : undefined;
    if (field.repeated) {
      out[field.name] = ((value ?? []) as unknown[]).map((item) => wireValue(field, item));
    } else if (value !== undefined && value !== null) {
      const converted = wireValue(field, value);
      if (!isZero(converted)) out[field.name] = converted;
    }
  }
  return out;
}

function wireValue(field: Protobuf.Field, value: unknown): unknown {
  if (field.resolvedType !== null && 'fieldsArray' in field.resolvedType) {
    return fromWire(field.resolvedType as Protobuf.Type, value as object);
  }
  if (INT64_TYPES.has(field.type)) {
    // protobufjs gives a Long ({ low, high }) or, without the long package, a number.
    const { low, high } = typeof value === 'number' ? splitNumber(value) : (value as { low: number; high: number });
    return UNSIGNED_64_TYPES.has(field.type) ? new Uint64(low >>> 0, high >>> 0) : high * 2 ** 32 + (low >>> 0);
  }
  return value;
}

function fromJson(type: Protobuf.Type, json: unknown, where: string): Model {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new TypeError(`OTLP JSON: ${where} must be an object, got ${Array.isArray(json) ? 'an array' : typeof json}`);
  }
  const record = json as Record<string, unknown>;
  const out: Model = {};
  for (const field of type.fieldsArray) {
    const value = record[field.name] ?? record[snakeCase(field.name)];
    const path = `${where}.${field.name}`;
    if (field.repeated) {
      if (value !== undefined && value !== null && !Array.isArray(value)) throw new TypeError(`OTLP JSON: ${path} must be an array`);
      out[field.name] = ((value ?? []) as unknown[]).map((item, i) => jsonValue(field, item, `${path}[${i}]`));
    } else if (value !== undefined && value !== null) {
      const converted = jsonValue(field, value, path);
      if (!isZero(converted)) out[field.name] = converted;
    }
  }
  return out;
}

function jsonValue(field: Protobuf.Field, value: unknown, path: string): unknown {
  const resolved = field.resolvedType;
  if (resolved !== null && 'fieldsArray' in resolved) return fromJson(resolved as Protobuf.Type, value, path);
  if (resolved !== null && 'values' in resolved) {
    const number = typeof value === 'string' ? (resolved as Protobuf.Enum).values[value] : value;
    if (typeof number !== 'number') throw new TypeError(`OTLP JSON: ${path} is not a value of ${resolved.name}`);
    return number;
  }
  switch (field.type) {
    case 'string':
      if (typeof value !== 'string') throw new TypeError(`OTLP JSON: ${path} must be a string`);
      return value;
    case 'bool':
      if (typeof value !== 'boolean') throw new TypeError(`OTLP JSON: ${path} must be true or false`);
      return value;
    case 'bytes':
      if (typeof value !== 'string') throw new TypeError(`OTLP JSON: ${path} must be a string`);
      return new Uint8Array(Buffer.from(value, HEX_BYTES_FIELDS.has(field.name) ? 'hex' : 'base64'));
    case 'double':
    case 'float':
      return Number(value);
  }
  if (typeof value !== 'number' && typeof value !== 'string') throw new TypeError(`OTLP JSON: ${path} must be an integer`);
  let integer: bigint;
  try {
    integer = BigInt(value);
  } catch {
    throw new TypeError(`OTLP JSON: ${path} must be an integer, got ${JSON.stringify(value)}`);
  }
  return UNSIGNED_64_TYPES.has(field.type) ? Uint64.fromBigInt(integer) : Number(integer);
}

function splitNumber(value: number): { low: number; high: number } {
  const { low, high } = Uint64.fromBigInt(BigInt(Math.trunc(value)));
  return { low, high };
}

function isZero(value: unknown): boolean {
  if (value === 0 || value === '' || value === false) return true;
  if (value instanceof Uint64) return value.low === 0 && value.high === 0;
  return value instanceof Uint8Array && value.length === 0;
}

function snakeCase(name: string): string {
  return name.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);
}
