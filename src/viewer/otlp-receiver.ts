/*
 * The viewer's OTLP/HTTP endpoint: POST /v1/traces and POST /v1development/profiles, protobuf or
 * JSON, optionally gzip- or deflate-compressed. What it accepts goes into the TraceStore and,
 * when an output folder is named, is appended there as OTLP JSON lines.
 */
import { errorMessage } from '../shared/errors';
import { appendFileSync, mkdirSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { gunzipSync, inflateSync } from 'node:zlib';
import { decodeProfilesRequest, decodeTracesRequest } from '../convert/otlp-protobuf';
import type { TraceStore } from './trace-store';

/** Bodies larger than this, compressed or once decompressed, are refused with 413 (the Collector's default limit). */
export const MAX_BODY_BYTES = 20 * 1024 * 1024;

export const TRACES_PATH = '/v1/traces';
export const PROFILES_PATH = '/v1development/profiles';

/** Files an output folder gets. */
export const OUTPUT_FILES = { traces: 'traces.jsonl', profiles: 'profiles.jsonl' } as const;

export interface ReceiverOptions {
  readonly store: TraceStore;
  /** Folder that received requests are appended to as JSON lines; nothing is written when unset. */
  readonly outputDir?: string;
  /** Called with a one-line summary of a failed request (for the console). */
  readonly onError?: (message: string) => void;
}

/** Handles one request if its path is an OTLP path; returns false otherwise. */
export function handleOtlp(req: IncomingMessage, res: ServerResponse, options: ReceiverOptions): boolean {
  const path = (req.url ?? '/').split('?')[0];
  const signal = path === TRACES_PATH ? 'traces' : path === PROFILES_PATH ? 'profiles' : undefined;
  if (signal === undefined) return false;
  if (req.method !== 'POST') {
    reply(res, 405, 'text/plain', `${path} takes POST\n`);
    return true;
  }
  const contentType = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  const json = contentType === 'application/json';
  if (!json && contentType !== 'application/x-protobuf' && contentType !== 'application/protobuf') {
    reply(res, 415, 'text/plain', `content-type must be application/x-protobuf or application/json, got '${contentType}'\n`);
    return true;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  let tooLarge = false;
  req.on('data', (chunk: Buffer) => {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) tooLarge = true;
    else chunks.push(chunk);
  });
  req.on('end', () => {
    if (tooLarge) {
      reply(res, 413, 'text/plain', `body larger than ${MAX_BODY_BYTES} bytes\n`);
      return;
    }
    try {
      let body = Buffer.concat(chunks);
      const encoding = String(req.headers['content-encoding'] ?? '').toLowerCase();
      if (encoding !== '' && encoding !== 'identity' && encoding !== 'gzip' && encoding !== 'deflate') {
        reply(res, 415, 'text/plain', `content-encoding '${encoding}' is not supported (gzip, deflate)\n`);
        return;
      }
      try {
        // The limit stops a small compressed body from filling memory (a "zip bomb").
        if (encoding === 'gzip') body = gunzipSync(body, { maxOutputLength: MAX_BODY_BYTES });
        else if (encoding === 'deflate') body = inflateSync(body, { maxOutputLength: MAX_BODY_BYTES });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ERR_BUFFER_TOO_LARGE') throw err;
        reply(res, 413, 'text/plain', `body larger than ${MAX_BODY_BYTES} bytes once decompressed\n`);
        return;
      }
      let request: Record<string, unknown>;
      if (json) request = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
      else request = signal === 'traces' ? decodeTracesRequest(body) : decodeProfilesRequest(body);
      if (signal === 'traces') options.store.addTraces(request);
      else options.store.addProfiles(request);
      if (options.outputDir !== undefined) {
        mkdirSync(options.outputDir, { recursive: true });
        appendFileSync(join(options.outputDir, OUTPUT_FILES[signal]), JSON.stringify(request, hexBytes) + '\n');
      }
      // An empty Export*ServiceResponse: full success.
      if (json) reply(res, 200, 'application/json', '{}');
      else reply(res, 200, 'application/x-protobuf', '');
    } catch (err) {
      const message = `cannot read the ${signal} request: ${errorMessage(err)}`;
      options.onError?.(message);
      reply(res, 400, 'text/plain', message + '\n');
    }
  });
  return true;
}

// Decoded protobuf holds ids as bytes; OTLP JSON writes them as hex.
function hexBytes(_key: string, value: unknown): unknown {
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('hex');
  if (
    typeof value === 'object' &&
    value !== null &&
    (value as { type?: unknown }).type === 'Buffer' &&
    Array.isArray((value as { data?: unknown }).data)
  ) {
    return Buffer.from((value as { data: number[] }).data).toString('hex');
  }
  return value;
}

function reply(res: ServerResponse, status: number, contentType: string, body: string): void {
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}
