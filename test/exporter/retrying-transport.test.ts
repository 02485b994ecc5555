import * as assert from 'node:assert/strict';
import type { ExportResponse, ProfileTransport } from '../../src/exporter/export-response';
import { createRetryingTransport } from '../../src/exporter/retrying-transport';
import { DiagRecorder } from '../helpers/diag-recorder';

/** An inner transport that answers from a script and records each call's timeout and time. */
class ScriptedTransport implements ProfileTransport {
  readonly calls: Array<{ timeoutMillis: number; atMillis: number }> = [];
  shutdowns = 0;
  constructor(private readonly _script: ExportResponse[]) {}
  send(_bytes: Uint8Array, timeoutMillis: number): Promise<ExportResponse> {
    this.calls.push({ timeoutMillis, atMillis: performance.now() });
    const response = this._script.length > 1 ? this._script.shift()! : this._script[0];
    return Promise.resolve(response);
  }
  shutdown(): void {
    this.shutdowns++;
  }
}

const BYTES = new Uint8Array([1, 2, 3]);
const success: ExportResponse = { status: 'success', body: new Uint8Array(), contentType: '' };
const unavailable = (retryAfterMillis?: number): ExportResponse => ({
  status: 'retryable',
  error: new Error('HTTP 503 Service Unavailable'),
  retryAfterMillis,
});
const badRequest: ExportResponse = { status: 'failure', error: new Error('HTTP 400 Bad Request'), statusCode: 400 };
const FAST = { initialBackoffMillis: 5, maxBackoffMillis: 20 };

describe('RetryingTransport', () => {
  let recorder: DiagRecorder;
  beforeEach(() => {
    recorder = new DiagRecorder().install();
  });
  afterEach(() => recorder.uninstall());

  describe('send', () => {
    it('should return a success at once', async () => {
      const inner = new ScriptedTransport([success]);
      const response = await createRetryingTransport(inner, FAST).send(BYTES, 1000);
      assert.equal(response.status, 'success');
      assert.equal(inner.calls.length, 1);
    });

    it('should retry a retryable response until it succeeds', async () => {
      const inner = new ScriptedTransport([unavailable(), unavailable(), success]);
      const response = await createRetryingTransport(inner, FAST).send(BYTES, 5000);
      assert.equal(response.status, 'success');
      assert.equal(inner.calls.length, 3);
    });

    it('should not retry a failure', async () => {
      const inner = new ScriptedTransport([badRequest, success]);
      const response = await createRetryingTransport(inner, FAST).send(BYTES, 5000);
      assert.equal(response.status, 'failure');
      assert.equal(inner.calls.length, 1);
    });

    it('should give up after maxAttempts and say so', async () => {
      const inner = new ScriptedTransport([unavailable()]);
      const response = await createRetryingTransport(inner, { ...FAST, maxAttempts: 3 }).send(BYTES, 5000);
      assert.equal(inner.calls.length, 3);
      assert.equal(response.status, 'retryable');
      assert.equal(response.status === 'retryable' && response.error.message, 'HTTP 503 Service Unavailable (gave up after 3 attempts)');
    });

    it('should wait at least the Retry-After the server asked for', async () => {
      const inner = new ScriptedTransport([unavailable(200), success]);
      const response = await createRetryingTransport(inner, FAST).send(BYTES, 5000);
      assert.equal(response.status, 'success');
      // A lower bound only (timers never fire early by more than rounding): the wait was honoured.
      assert.ok(
        inner.calls[1].atMillis - inner.calls[0].atMillis >= 199,
        `retried after ${inner.calls[1].atMillis - inner.calls[0].atMillis} ms`,
      );
    });

    it('should not retry when Retry-After is past the deadline', async () => {
      const inner = new ScriptedTransport([unavailable(5000), success]);
      const response = await createRetryingTransport(inner, FAST).send(BYTES, 100);
      assert.equal(inner.calls.length, 1);
      assert.equal(
        response.status === 'retryable' && response.error.message,
        'HTTP 503 Service Unavailable (gave up after 1 attempt; Retry-After in 5000 ms is past the export timeout of 100 ms)',
      );
    });

    it('should give later attempts only the time left before the deadline', async () => {
      const inner = new ScriptedTransport([unavailable(50), success]);
      await createRetryingTransport(inner, FAST).send(BYTES, 1000);
      assert.equal(inner.calls[0].timeoutMillis, 1000);
      // 1000 minus the 50 ms waited; timers may fire up to 1 ms early on the millisecond clock.
      assert.ok(inner.calls[1].timeoutMillis <= 951, `second attempt got ${inner.calls[1].timeoutMillis} ms`);
    });

    it('should grow the backoff exponentially within the jitter range', async () => {
      const inner = new ScriptedTransport([unavailable(), unavailable(), unavailable(), success]);
      // random() = 0 gives the lowest jitter, -20%.
      await createRetryingTransport(inner, { initialBackoffMillis: 10, maxBackoffMillis: 1000, random: () => 0 }).send(BYTES, 5000);
      const waits = recorder.messages('debug').map((m) => Number(/retrying in (\d+) ms/.exec(m)?.[1]));
      assert.deepEqual(waits, [8, 12, 18]);
    });

    it('should cap the computed backoff at maxBackoffMillis', async () => {
      const inner = new ScriptedTransport([unavailable(), unavailable(), success]);
      await createRetryingTransport(inner, { initialBackoffMillis: 10, maxBackoffMillis: 11, random: () => 0.999999 }).send(BYTES, 5000);
      const waits = recorder.messages('debug').map((m) => Number(/retrying in (\d+) ms/.exec(m)?.[1]));
      assert.deepEqual(waits, [11, 11]);
    });
  });

  describe('shutdown', () => {
    it('should shut the inner transport down', () => {
      const inner = new ScriptedTransport([success]);
      createRetryingTransport(inner).shutdown();
      assert.equal(inner.shutdowns, 1);
    });
  });
});
