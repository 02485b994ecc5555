import type { DiagLogger } from '@opentelemetry/api';
import { Slot } from './worker-protocol';

/** How often the main thread looks for a changed tick rate to log. */
const RATE_LOG_CHECK_MILLIS = 5000;

/**
 * Logs a changed tick rate once, from a timer of the main thread: not by the worker through a
 * message (a message listener would keep the process alive), and not from the probe (it runs
 * inside the application's code).
 */
export class RateLog {
  private _loggedMillihz = 0;
  private readonly _timer: NodeJS.Timeout;

  constructor(
    private readonly _state: Int32Array,
    private readonly _intervalMillis: number,
    private readonly _maxOverheadPercent: number,
    private readonly _logger: DiagLogger,
  ) {
    this._timer = setInterval(() => this._check(), RATE_LOG_CHECK_MILLIS).unref();
  }

  stop(): void {
    clearInterval(this._timer);
  }

  private _check(): void {
    const millihz = Atomics.load(this._state, Slot.TICK_MILLIHZ);
    if (millihz === this._loggedMillihz || millihz <= 0) return;
    const first = this._loggedMillihz === 0;
    this._loggedMillihz = millihz;
    if (first && millihz === Math.round(1e6 / this._intervalMillis)) return;
    const overhead = Atomics.load(this._state, Slot.OVERHEAD_PPM);
    const cost = Atomics.load(this._state, Slot.PROBE_COST_NANOS);
    this._logger.debug(
      `tick rate now ${(millihz / 1000).toFixed(1)} Hz (configured ${(1000 / this._intervalMillis).toFixed(1)} Hz): probes took ` +
        `${(overhead / 1e4).toFixed(2)}% of the main thread at ${(cost / 1000).toFixed(0)} us each, budget ${this._maxOverheadPercent}%`,
    );
  }
}
