/**
 * The engine's own Promise, even where the application replaced the global one (with
 * bluebird, say): the inspector waits only on native promises, and would answer anything
 * else at once.
 */
const NativePromise = (async () => {})().constructor as PromiseConstructor;

function noop(): void {}

/**
 * The inspector keeps an evaluation's promise handlers until the promise settles, even after
 * its session has gone (a soak without this grew the heap by ~0.8 KB per probe). So each
 * promise is settled in the end, one session later: the main thread runs the worker's
 * requests in order, and the old session's removal came before any probe that can see the
 * epoch after next, so no reply can be sent.
 */
export class UnsettledPromises {
  private _current: Promise<void>;
  private _settleCurrent: () => void = noop;
  private _settlePrevious: () => void = noop;
  private _epoch = 0;

  constructor() {
    this._current = new NativePromise<void>((settle) => (this._settleCurrent = settle));
  }

  /** The promise a probe returns, given the worker's session epoch (Slot.EPOCH). */
  forEpoch(epoch: number): Promise<void> {
    if (epoch !== this._epoch) {
      this._epoch = epoch;
      this._settlePrevious();
      this._settlePrevious = this._settleCurrent;
      this._current = new NativePromise<void>((settle) => (this._settleCurrent = settle));
    }
    return this._current;
  }

  /** Settles both: the worker and its sessions are gone, a reply would find nobody to wake. */
  settleAll(): void {
    this._settlePrevious();
    this._settleCurrent();
  }
}
