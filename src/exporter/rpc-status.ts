/**
 * Reads a `google.rpc.Status` (https://github.com/googleapis/googleapis, google/rpc/status.proto):
 * the body of an OTLP/HTTP protobuf refusal, and gRPC's `grpc-status-details-bin` trailer. Only the
 * message and a `google.rpc.RetryInfo` detail (the server's "retry after") are read, with a small
 * wire reader, so these few fields need no schema.
 */
export interface RpcStatus {
  readonly code: number;
  readonly message: string;
  /** From a `google.rpc.RetryInfo` detail, when the server sent one. */
  readonly retryDelayMillis?: number;
}

const RETRY_INFO_TYPE = 'type.googleapis.com/google.rpc.RetryInfo';

/** Decodes a Status; undefined when the bytes are not one. */
export function decodeRpcStatus(bytes: Uint8Array): RpcStatus | undefined {
  try {
    let code = 0;
    let message = '';
    let retryDelayMillis: number | undefined;
    for (const field of fields(bytes)) {
      if (field.number === 1 && typeof field.value === 'number') code = field.value;
      else if (field.number === 2 && field.value instanceof Uint8Array) message = utf8(field.value);
      else if (field.number === 3 && field.value instanceof Uint8Array) retryDelayMillis ??= retryDelayOf(field.value);
    }
    return { code, message, ...(retryDelayMillis !== undefined && { retryDelayMillis }) };
  } catch {
    return undefined;
  }
}

/** A `google.protobuf.Any` detail: its RetryInfo's delay in milliseconds, if that is what it holds. */
function retryDelayOf(any: Uint8Array): number | undefined {
  let typeUrl = '';
  let value: Uint8Array | undefined;
  for (const field of fields(any)) {
    if (field.number === 1 && field.value instanceof Uint8Array) typeUrl = utf8(field.value);
    else if (field.number === 2 && field.value instanceof Uint8Array) value = field.value;
  }
  if (typeUrl !== RETRY_INFO_TYPE || value === undefined) return undefined;
  for (const retryInfo of fields(value)) {
    if (retryInfo.number !== 1 || !(retryInfo.value instanceof Uint8Array)) continue;
    let seconds = 0;
    let nanos = 0;
    for (const duration of fields(retryInfo.value)) {
      if (duration.number === 1 && typeof duration.value === 'number') seconds = duration.value;
      else if (duration.number === 2 && typeof duration.value === 'number') nanos = duration.value;
    }
    return Math.max(0, seconds * 1000 + Math.round(nanos / 1e6));
  }
  return 0;
}

interface WireField {
  readonly number: number;
  /** Varints as numbers (exact below 2^53), length-delimited fields as bytes. */
  readonly value: number | Uint8Array | undefined;
}

function* fields(bytes: Uint8Array): Generator<WireField> {
  let offset = 0;
  const varint = (): number => {
    let value = 0;
    for (let shift = 0; shift < 64; shift += 7) {
      if (offset >= bytes.length) throw new RangeError('truncated varint');
      const byte = bytes[offset++];
      value += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) return value;
    }
    throw new RangeError('bad varint');
  };
  while (offset < bytes.length) {
    const tag = varint();
    const wireType = tag % 8;
    const number = Math.floor(tag / 8);
    if (wireType === 0) {
      yield { number, value: varint() };
    } else if (wireType === 2) {
      const length = varint();
      if (offset + length > bytes.length) throw new RangeError('truncated field');
      yield { number, value: bytes.subarray(offset, offset + length) };
      offset += length;
    } else if (wireType === 1 || wireType === 5) {
      offset += wireType === 1 ? 8 : 4;
      if (offset > bytes.length) throw new RangeError('truncated field');
      yield { number, value: undefined };
    } else {
      throw new RangeError(`unsupported wire type ${wireType}`);
    }
  }
}

function utf8(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
}
