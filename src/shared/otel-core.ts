/*
 * What the library uses of @opentelemetry/core, without loading it at import. core is an optional
 * peer (docs/getting-started.md says why: as a required peer npm would pick a core that does not
 * fit a 2.x application), so a strict installer (pnpm, Yarn PnP) leaves it out of reach when the
 * application does not list it; importing it at load then broke `require('otel-span-profiler')`.
 * - ExportResult and its codes: the same values and shape as core's, assignable both ways.
 * - suppressTracing: the same context key core uses (createContextKey takes a Symbol.for name).
 * - globalErrorHandler: core's when core can be loaded (so setGlobalErrorHandler in the application
 *   applies), else what core's default handler does, diag.error.
 * - parseKeyPairsIntoRecord: core's parser of OTEL_EXPORTER_OTLP_HEADERS, the same rules.
 */
import { createContextKey, diag, type Context } from '@opentelemetry/api';

/** The outcome of an export, shaped like `ExportResult` of @opentelemetry/core. */
export interface ExportResult {
  code: ExportResultCode;
  error?: Error;
}

/** `ExportResultCode` of @opentelemetry/core: the same numbers. */
export const ExportResultCode = { SUCCESS: 0, FAILED: 1 } as const;
export type ExportResultCode = (typeof ExportResultCode)[keyof typeof ExportResultCode];

const SUPPRESS_TRACING_KEY = createContextKey('OpenTelemetry SDK Context Key SUPPRESS_TRACING');

/** `context` with tracing suppressed, as core's suppressTracing: instrumentations create no spans under it. */
export function suppressTracing(context: Context): Context {
  return context.setValue(SUPPRESS_TRACING_KEY, true);
}

type ErrorHandler = (error: unknown) => void;
let handler: ErrorHandler | undefined;

/** Hands an error to the application's global error handler (core's, when present); never throws. */
export function globalErrorHandler(error: unknown): void {
  try {
    (handler ??= loadGlobalErrorHandler())(error);
  } catch {
    // An error handler that throws has nowhere else to go.
  }
}

function loadGlobalErrorHandler(): ErrorHandler {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const core = require('@opentelemetry/core') as { globalErrorHandler?: ErrorHandler };
    if (typeof core.globalErrorHandler === 'function') return core.globalErrorHandler;
  } catch {
    // Not installed where we can reach it: do what core's default handler does.
  }
  return (error) => diag.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
}

/**
 * `k1=v1,k2=v2` into a record, as core's parseKeyPairsIntoRecord (the W3C baggage rules the
 * OpenTelemetry exporters apply to OTEL_EXPORTER_OTLP_HEADERS): keys and values trimmed and
 * URL-decoded, `;properties` dropped, entries with an empty or undecodable key or value skipped.
 */
export function parseKeyPairsIntoRecord(value: string | undefined): Record<string, string> {
  const result: Record<string, string> = {};
  for (const entry of (value ?? '').split(',')) {
    const properties = entry.indexOf(';');
    const pair = properties === -1 ? entry : entry.slice(0, properties);
    const separator = pair.indexOf('=');
    if (separator <= 0) continue;
    const rawKey = pair.slice(0, separator).trim();
    const rawValue = pair.slice(separator + 1).trim();
    if (rawKey === '' || rawValue === '') continue;
    try {
      const decoded = decodeURIComponent(rawValue);
      if (decoded.length > 0) result[decodeURIComponent(rawKey)] = decoded;
    } catch {
      // Malformed percent-encoding: skipped, as core does.
    }
  }
  return result;
}
