import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { LookupRequest, LookupResponse } from './source-map-worker';
import { errorMessage } from '../shared/errors';

type Scripts = LookupRequest['scripts'];
type Answers = LookupResponse['scripts'];

/**
 * The main thread's side of the source-map thread (source-map-worker.ts): started at the first
 * lookup, unref'ed while idle and ref'ed while a lookup is pending (so an export waiting for its
 * maps at shutdown is not cut short by the process exiting). If the thread cannot start or dies,
 * every lookup then answers "no usable map" with the reason: mapping degrades, never throws.
 */
export class SourceMapThread {
  private _worker: Worker | undefined;
  private _failure: string | undefined;
  private _nextId = 1;
  private readonly _pending = new Map<number, { scripts: Scripts; resolve: (answers: Answers) => void }>();
  private _stopped = false;

  constructor(private readonly _onFailure: (reason: string) => void) {}

  /** Looks up positions per script; resolves in request order, never rejects. */
  lookup(scripts: Scripts): Promise<Answers> {
    const worker = this._start();
    // Counted once, when the thread failed; not again for every later batch.
    if (worker === undefined) return Promise.resolve(unusable(scripts));
    const id = this._nextId++;
    return new Promise<Answers>((resolve) => {
      if (this._pending.size === 0) worker.ref();
      this._pending.set(id, { scripts, resolve });
      worker.postMessage({ id, scripts } satisfies LookupRequest);
    });
  }

  /** Stops the thread; pending and later lookups answer "no usable map". */
  async shutdown(): Promise<void> {
    this._stopped = true;
    const worker = this._worker;
    this._worker = undefined;
    this._settleAll(undefined);
    if (worker !== undefined) await worker.terminate();
  }

  private _start(): Worker | undefined {
    if (this._worker !== undefined || this._stopped || this._failure !== undefined) return this._worker;
    try {
      const worker = new Worker(path.join(__dirname, 'source-map-worker.js'), {
        name: 'otel-span-profiler source maps',
        // Neither the application's flags nor its environment: a worker re-runs --require/--import
        // preloads from execArgv and from NODE_OPTIONS in its env, and a preloaded
        // otel-span-profiler/register would start a second NodeSDK in here (issue 21 §4).
        execArgv: [],
        env: {},
      });
      worker.unref();
      worker.on('message', (response: LookupResponse) => this._settle(response.id, response.scripts));
      worker.on('error', (error: Error) => this._fail(`source-map thread failed: ${error.message}`));
      worker.on('exit', (code) => this._fail(`source-map thread exited with code ${code}`));
      this._worker = worker;
    } catch (error) {
      this._fail(`source-map thread could not start: ${errorMessage(error)}`);
    }
    return this._worker;
  }

  private _settle(id: number, answers: Answers): void {
    const pending = this._pending.get(id);
    if (pending === undefined) return;
    this._pending.delete(id);
    if (this._pending.size === 0) this._worker?.unref();
    pending.resolve(answers);
  }

  private _fail(reason: string): void {
    if (this._stopped || this._failure !== undefined) return;
    this._failure = reason;
    this._worker = undefined;
    this._settleAll(reason);
    this._onFailure(reason);
  }

  private _settleAll(reason: string | undefined): void {
    for (const [id, { scripts }] of [...this._pending]) this._settle(id, unusable(scripts, reason));
  }
}

/** "No usable map" for every script; with a reason, each counts as a failed load. */
function unusable(scripts: Scripts, reason?: string): Answers {
  return scripts.map(() =>
    reason === undefined ? { usable: false, results: [] } : { loaded: 'failed', reason, usable: false, results: [] },
  );
}
