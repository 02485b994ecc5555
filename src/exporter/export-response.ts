/** The server took the request (HTTP 2xx). `body` is at most the transport's read cap. */
export interface ExportResponseSuccess {
  readonly status: 'success';
  readonly body: Uint8Array;
  /** The response's `Content-Type`, `''` when absent. */
  readonly contentType: string;
}

/** The request failed for good (e.g. HTTP 400): sending it again cannot help. */
export interface ExportResponseFailure {
  readonly status: 'failure';
  readonly error: Error;
  /** The HTTP status, when the server answered. */
  readonly statusCode?: number;
}

/** The request may succeed later (HTTP 429/502/503/504, connection refused or reset, timeout). */
export interface ExportResponseRetryable {
  readonly status: 'retryable';
  readonly error: Error;
  /** How long the server asked us to wait (`Retry-After`), when it did. */
  readonly retryAfterMillis?: number;
}

/** The outcome of one {@link ProfileTransport.send}, tagged so callers switch on `status`. */
export type ExportResponse = ExportResponseSuccess | ExportResponseFailure | ExportResponseRetryable;

/**
 * Moves encoded export requests to a server. Layers (HTTP, retries) implement and wrap it, so each
 * concern stays in its own file. `send` never rejects: every outcome is an {@link ExportResponse}.
 */
export interface ProfileTransport {
  send(bytes: Uint8Array, timeoutMillis: number): Promise<ExportResponse>;
  /** Release sockets. Sends still pending may fail afterwards. */
  shutdown(): void;
}
