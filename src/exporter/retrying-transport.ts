import { diag } from '@opentelemetry/api';
import type { ExportResponse, ProfileTransport } from './export-response';
import { plural } from '../shared/wording';

/** Wait before the first retry, before jitter. */
export const INITIAL_BACKOFF_MILLIS = 1000;
/** Longest computed wait between attempts (a server's Retry-After may ask for longer). */
export const MAX_BACKOFF_MILLIS = 5000;
/** Each computed wait is this many times the previous one. */
export const BACKOFF_MULTIPLIER = 1.5;
/** Computed waits vary by up to this fraction either way, so clients that failed together spread out. */
export const JITTER_FRACTION = 0.2;
/** Attempts in all, the first included. */
export const MAX_ATTEMPTS = 6;

/** Tuning for tests; production uses the constants above. */
export interface RetryTuning {
  readonly initialBackoffMillis?: number;
  readonly maxBackoffMillis?: number;
  readonly maxAttempts?: number;
  /** Returns [0, 1); default Math.random. */
  readonly random?: () => number;
}

/**
 * Wraps a transport so 'retryable' outcomes are tried again with exponential backoff and jitter,
 * honouring Retry-After, until the attempts run out or the next wait would pass the deadline
 * (`timeoutMillis` of the send, which covers all attempts and waits).
 */
export function createRetryingTransport(transport: ProfileTransport, tuning: RetryTuning = {}): ProfileTransport {
  return new RetryingTransport(transport, tuning);
}

class RetryingTransport implements ProfileTransport {
  private readonly _logger = diag.createComponentLogger({ namespace: 'otel-span-profiler/retrying-transport' });
  private readonly _initialBackoffMillis: number;
  private readonly _maxBackoffMillis: number;
  private readonly _maxAttempts: number;
  private readonly _random: () => number;

  constructor(
    private readonly _transport: ProfileTransport,
    tuning: RetryTuning,
  ) {
    this._initialBackoffMillis = tuning.initialBackoffMillis ?? INITIAL_BACKOFF_MILLIS;
    this._maxBackoffMillis = tuning.maxBackoffMillis ?? MAX_BACKOFF_MILLIS;
    this._maxAttempts = tuning.maxAttempts ?? MAX_ATTEMPTS;
    this._random = tuning.random ?? Math.random;
  }

  async send(bytes: Uint8Array, timeoutMillis: number): Promise<ExportResponse> {
    const deadlineMillis = Date.now() + timeoutMillis;
    let backoffMillis = this._initialBackoffMillis;
    let attempts = 1;
    let response = await this._transport.send(bytes, timeoutMillis);
    while (response.status === 'retryable') {
      if (attempts >= this._maxAttempts) {
        return giveUp(response, plural(attempts, 'attempt'));
      }
      const jitter = (this._random() * 2 - 1) * JITTER_FRACTION;
      const computedMillis = Math.min(backoffMillis * (1 + jitter), this._maxBackoffMillis);
      backoffMillis *= BACKOFF_MULTIPLIER;
      const waitMillis = Math.max(0, Math.round(response.retryAfterMillis ?? computedMillis));
      const remainingMillis = deadlineMillis - Date.now();
      if (waitMillis >= remainingMillis) {
        const asked = response.retryAfterMillis !== undefined ? 'Retry-After' : 'next retry';
        return giveUp(
          response,
          `${plural(attempts, 'attempt')}; ${asked} in ${waitMillis} ms is past the export timeout of ${timeoutMillis} ms`,
        );
      }
      this._logger.debug(`attempt ${attempts} failed (${response.error.message}), retrying in ${waitMillis} ms`);
      await sleep(waitMillis);
      attempts++;
      response = await this._transport.send(bytes, Math.max(1, deadlineMillis - Date.now()));
    }
    return response;
  }

  shutdown(): void {
    this._transport.shutdown();
  }
}

function giveUp(response: ExportResponse & { status: 'retryable' }, why: string): ExportResponse {
  const error = new Error(`${response.error.message} (gave up after ${why})`, { cause: response.error });
  return { status: 'retryable', error, retryAfterMillis: response.retryAfterMillis };
}

function sleep(millis: number): Promise<void> {
  // Not unref'd, unlike our other timers: the wait is bounded by the export deadline, and an
  // application awaiting shutdown() would otherwise exit mid-retry and lose the batch.
  return new Promise((resolve) => setTimeout(resolve, millis));
}
