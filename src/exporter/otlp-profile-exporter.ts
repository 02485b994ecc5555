import { context, diag } from '@opentelemetry/api';
import { ExportResultCode, globalErrorHandler, suppressTracing, type ExportResult } from '../shared/otel-core';
import type { SpanProfile } from '../profile/span-profile';
import { errorMessage, toError } from '../shared/errors';
import { plural } from '../shared/wording';
import { PACKAGE_NAME, PACKAGE_VERSION } from '../version';
import type { ExportResponse, ProfileTransport } from './export-response';
import {
  GRPC_EXPORT_PATH,
  resolveExporterOptions,
  type OTLPProfileExporterOptions,
  type ResolvedExporterOptions,
} from './exporter-options';
import { createGrpcTransport } from './grpc-transport';
import { createHttpTransport, HttpStatusError } from './http-transport';
import { decodeExportResponse, encodeJson, encodeProtobuf, preloadEncoding } from '../otlp/otlp-encoding';
import type { ProfileExporter } from './profile-exporter';
import { pyroscopeJsonWarning } from './pyroscope-json-warning';
import { waitForResourceAttributes } from '../otlp/resource-attributes';
import { createRetryingTransport } from './retrying-transport';
import { decodeRpcStatus } from './rpc-status';

/** Characters of a refusal's body quoted in the error: enough for a Collector's reason. */
const MAX_QUOTED_BODY_CHARS = 200;
const USER_AGENT = `${PACKAGE_NAME}/${PACKAGE_VERSION}`;

/**
 * Sends span profiles to an OTLP endpoint (an OpenTelemetry Collector, Grafana Pyroscope...) with
 * OTLP/HTTP (`POST <endpoint>/v1development/profiles`, protobuf or JSON) or OTLP/gRPC
 * (`ProfilesService/Export`). Use it as the `exporter` of `ProfilingSpanProcessor` in production.
 * Configured like the OpenTelemetry JS exporters: options, else `OTEL_EXPORTER_OTLP_PROFILES_*`,
 * else `OTEL_EXPORTER_OTLP_*` (read when constructed).
 *
 * A bad option in code throws from the constructor (TypeError or RangeError naming it); a bad
 * environment value is warned about once and ignored. Exports never throw: failures are results.
 */
export class OTLPProfileExporter implements ProfileExporter {
  private readonly _logger = diag.createComponentLogger({ namespace: 'otel-span-profiler/otlp-profile-exporter' });
  private readonly _options: ResolvedExporterOptions;
  private readonly _transport: ProfileTransport;
  private readonly _pending = new Set<Promise<void>>();
  private _shutdown: Promise<void> | undefined;
  private _warnedPendingResource = false;

  constructor(options: OTLPProfileExporterOptions = {}) {
    this._options = resolveExporterOptions(options, process.env);
    this._transport = createRetryingTransport(createTransport(this._options));
    preloadEncoding(this._logger);
    const jsonToPyroscope = pyroscopeJsonWarning(this._options.url, this._options.protocol);
    if (jsonToPyroscope !== undefined) this._logger.warn(jsonToPyroscope);
  }

  /** Where the profiles go, after resolving options and environment. */
  get url(): string {
    return this._options.url;
  }

  export(profiles: SpanProfile[], resultCallback: (result: ExportResult) => void): void {
    if (this._shutdown !== undefined) {
      resultCallback({ code: ExportResultCode.FAILED, error: new Error('OTLPProfileExporter is shut down') });
      return;
    }
    // Suppressed so that instrumented http does not trace (and profile) our own requests.
    const sent = context.with(suppressTracing(context.active()), () => this._send(profiles));
    const pending = sent
      // _send and the transports report failures as results; this only guards against a bug.
      .catch((error: unknown): ExportResult => ({ code: ExportResultCode.FAILED, error: toError(error) }))
      .then((result) => {
        this._pending.delete(pending);
        try {
          resultCallback(result);
        } catch (error) {
          globalErrorHandler(toError(error));
        }
      });
    this._pending.add(pending);
  }

  /** Resolves when every export already started has called back. */
  async forceFlush(): Promise<void> {
    await Promise.all([...this._pending]);
  }

  /** Refuses new exports, waits for the ones in flight, then closes the sockets. */
  shutdown(): Promise<void> {
    this._shutdown ??= this.forceFlush().then(() => this._transport.shutdown());
    return this._shutdown;
  }

  /** `'http/protobuf'`, `'http/json'` or `'grpc'`, after resolving options and environment. */
  get protocol(): string {
    return this._options.protocol;
  }

  private async _send(profiles: readonly SpanProfile[]): Promise<ExportResult> {
    if (profiles.length === 0) return { code: ExportResultCode.SUCCESS };
    // The export timeout bounds the wait for async resource attributes and the send together;
    // the wait may take half of it at most, so a stuck detector still leaves time to send.
    const startMillis = Date.now();
    const resourceWaitMillis = this._options.timeoutMillis / 2;
    const waited = await waitForResourceAttributes(profiles, resourceWaitMillis);
    if (waited === 'timeout' && !this._warnedPendingResource) {
      this._warnedPendingResource = true;
      this._logger.warn(
        `the resource's async attributes had not settled within half the export timeout (${resourceWaitMillis} ms); exporting without them`,
      );
    }
    let bytes: Uint8Array;
    try {
      bytes = this._options.protocol === 'http/json' ? Buffer.from(encodeJson(profiles), 'utf8') : encodeProtobuf(profiles);
    } catch (error) {
      return this._failed(`could not encode ${plural(profiles.length, 'profile')}: ${errorMessage(error)}`, error);
    }
    const timeoutMillis =
      waited === 'none' ? this._options.timeoutMillis : Math.max(1, startMillis + this._options.timeoutMillis - Date.now());
    const response: ExportResponse = await this._transport.send(bytes, timeoutMillis);
    switch (response.status) {
      case 'success':
        this._reportPartialSuccess(response.body, response.contentType, profiles.length);
        return { code: ExportResultCode.SUCCESS };
      case 'failure':
        return this._failed(
          `${this._options.url} refused ${plural(profiles.length, 'profile')}: ${describeFailure(response.error)}; not retrying`,
          response.error,
        );
      case 'retryable':
        return this._failed(
          `could not send ${plural(profiles.length, 'profile')} to ${this._options.url}: ${describeFailure(response.error)}`,
          response.error,
        );
    }
  }

  private _reportPartialSuccess(body: Uint8Array, contentType: string, total: number): void {
    const partial = decodeExportResponse(body, contentType);
    if (partial === undefined || (partial.rejectedProfiles === 0 && partial.errorMessage === '')) return;
    const message = partial.errorMessage === '' ? '' : `: ${quote(partial.errorMessage)}`;
    this._logger.warn(`${this._options.url} rejected ${partial.rejectedProfiles} of ${plural(total, 'profile')}${message}`);
  }

  private _failed(message: string, cause: unknown): ExportResult {
    return { code: ExportResultCode.FAILED, error: new Error(`OTLPProfileExporter: ${message}`, { cause }) };
  }
}

/** An export error in one line: for a refusal, its status and the server's reason, quoted and cut short. */
export function describeFailure(error: Error): string {
  if (!(error instanceof HttpStatusError)) return error.message;
  const reason = readReason(error.body, error.contentType);
  return reason === '' ? error.message : `${error.message}: ${quote(reason)}`;
}

/** The reason in a refusal's body: an OTLP `Status` (protobuf or JSON) or plain text. */
function readReason(body: Uint8Array, contentType: string): string {
  if (body.length === 0) return '';
  const type = contentType.toLowerCase();
  // A Collector's protobuf refusal is a `google.rpc.Status`: its message is the reason.
  if (type.includes('protobuf')) return decodeRpcStatus(body)?.message ?? '';
  const text = Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8');
  if (type.includes('json')) {
    try {
      const parsed = JSON.parse(text) as { message?: unknown };
      if (typeof parsed.message === 'string') return parsed.message;
    } catch {
      // Not JSON after all: quote it as text.
    }
  }
  return text;
}

function createTransport(options: ResolvedExporterOptions): ProfileTransport {
  if (options.grpc !== undefined) {
    return createGrpcTransport({
      address: options.grpc.address,
      secure: options.grpc.secure,
      tls: options.tls,
      methodPath: GRPC_EXPORT_PATH,
      metadata: options.headers,
      compression: options.compression,
      userAgent: USER_AGENT,
    });
  }
  const contentType = options.protocol === 'http/json' ? 'application/json' : 'application/x-protobuf';
  return createHttpTransport({
    url: options.url,
    // Names are lower-case throughout, so these replace whatever the user set for them.
    headers: { 'user-agent': USER_AGENT, ...options.headers, 'content-type': contentType },
    compression: options.compression,
    agentOptions: options.httpAgentOptions,
  });
}

function quote(text: string): string {
  // eslint-disable-next-line no-control-regex -- matching control characters is the point: they are stripped from a server's reply before it is logged
  const clean = text.replace(/[\x00-\x1f\x7f]+/g, ' ').trim();
  return clean.length > MAX_QUOTED_BODY_CHARS ? `${clean.slice(0, MAX_QUOTED_BODY_CHARS)}…` : clean;
}
