import { randomBytes } from 'node:crypto';
import { closeSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { isMainThread, type Worker } from 'node:worker_threads';
import { diag } from '@opentelemetry/api';
import { nowHrNano } from '../../clock';
import type { ProbeHandler, ProbeSamplerStats } from './probe-types';
import { openMainThreadFile } from './main-thread-files';
import { startSamplingWorker } from './start-sampling-worker';
import { RateLog } from './rate-log';
import { UnsettledPromises } from './unsettled-promises';
import { HANDLER_RING_SIZE, SLOT_COUNT, Slot } from './worker-protocol';

const logger = diag.createComponentLogger({ namespace: 'otel-span-profiler/sampler' });

/**
 * How long process.exit() may wait for the worker to drop its inspector session. Node prints
 * "Waiting for the debugger to disconnect..." when the process exits with a session still
 * connected; a worker that does not answer in time only costs that line.
 */
const EXIT_DISCONNECT_WAIT_MILLIS = 200;

/**
 * Part of every probe key: random per copy of this module, so two copies of the library in
 * one process (two versions in node_modules, or a bundle plus a dependency) never share a
 * `Symbol.for` key, whose registry is process-wide.
 */
const MODULE_NONCE = randomBytes(6).toString('hex');
let instances = 0;

/** Options of {@link ProbeSampler}; the processor resolves and validates them. */
export interface ProbeSamplerOptions {
  readonly frequencyHz: number;
  /** The most of the main thread's time probes may take, in percent; Infinity for no cap. */
  readonly maxOverheadPercent: number;
  readonly handler: ProbeHandler;
}

/**
 * The probe sampler (DESIGN.md, design A): a worker thread ticks at the sampling rate and,
 * through an inspector session connected to the main thread, evaluates a probe that this
 * class installs on the main thread. V8 runs the probe at its next interrupt check, inside
 * the JavaScript that is running, so the handler sees that code's context and stack. When the
 * main thread is idle the probe runs from the event loop, with no user frames.
 *
 * Nothing starts until the first {@link acquire}: no worker, no global probe, no exit listener,
 * no descriptor. If the environment refuses any of them, everything set up so far is undone,
 * one warning is logged, and the sampler stays disabled (the processor passes spans through).
 */
export class ProbeSampler {
  /** The key of the probe on globalThis: unique per instance and per copy of the library. */
  readonly probeKey: symbol;
  /**
   * The sourceURL of the probe's stack frame: none. Debuggers attached to the process see
   * one script per probe, and only scripts with a sourceURL are listed in their navigators.
   */
  readonly probeUrl = '';
  /** The function the inspector calls; stack captures start below it. */
  readonly probe: () => Promise<void>;
  private readonly _state = new Int32Array(new SharedArrayBuffer(SLOT_COUNT * Int32Array.BYTES_PER_ELEMENT));
  private readonly _lastProbe = new Float64Array(new SharedArrayBuffer(Float64Array.BYTES_PER_ELEMENT));
  private readonly _handlerNanos = new Int32Array(new SharedArrayBuffer(HANDLER_RING_SIZE * Int32Array.BYTES_PER_ELEMENT));
  private readonly _intervalMillis: number;
  private readonly _maxOverheadPercent: number;
  private _enabled = true;
  private _started = false;
  private _worker: Worker | undefined;
  private _statFd = -1;
  private _schedstatFd = -1;
  private _acquired = 0;
  private _stopped = false;
  private _probes = 0;
  private _handlerErrors = 0;
  private _activeSinceHr = 0;
  private _activeNanos = 0;
  // Returned by every probe. The inspector replies when it settles, which happens only once
  // the session that waits on it is gone (see sampling-worker.ts and unsettled-promises.ts).
  private readonly _unsettled = new UnsettledPromises();
  private _rateLog: RateLog | undefined;
  private readonly _onExit = (): void => {
    this._stop();
    // Blocking is allowed here (the process is exiting) and interrupts still run while the main
    // thread waits, so the session's removal, which the main thread carries out, completes.
    if (this._worker !== undefined) Atomics.wait(this._state, Slot.DISCONNECTED, 0, EXIT_DISCONNECT_WAIT_MILLIS);
  };

  constructor(options: ProbeSamplerOptions) {
    const id = ++instances;
    this.probeKey = Symbol.for(`otel-span-profiler.probe.${process.pid}.${MODULE_NONCE}.${id}`);
    this._intervalMillis = 1000 / options.frequencyHz;
    this._maxOverheadPercent = options.maxOverheadPercent;
    const handler = options.handler;
    const state = this._state;
    const lastProbe = this._lastProbe;
    const handlerNanos = this._handlerNanos;
    const timeOrigin = performance.timeOrigin;
    this.probe = (): Promise<void> => {
      Atomics.add(state, Slot.RAN, 1);
      if (Atomics.load(state, Slot.CALIBRATING) === 1) {
        // Only the inspector's dispatch is measured: signal and return.
        Atomics.store(state, Slot.CALIBRATING, 0);
        Atomics.store(state, Slot.CAL_DONE, 1);
        Atomics.notify(state, Slot.CAL_DONE);
      } else {
        const started = performance.now();
        lastProbe[0] = timeOrigin + started;
        const hr = started * 1e6; // nowHrNano(), read once
        this._probes++;
        const cpuNanos = Atomics.exchange(state, Slot.CPU_PENDING_MICROS, 0) * 1000;
        try {
          handler(hr, cpuNanos);
        } catch {
          // Nothing is logged from here: this runs inside the application's code. Counted (issue 21 §4).
          this._handlerErrors++;
        }
        handlerNanos[this._probes & (HANDLER_RING_SIZE - 1)] = Math.min(2 ** 31 - 1, Math.round((performance.now() - started) * 1e6) || 1);
      }
      return this._unsettled.forEpoch(Atomics.load(state, Slot.EPOCH));
    };
    if (!isMainThread) {
      this._enabled = false;
      logger.warn(
        'ProfilingSpanProcessor created in a worker thread: it profiles nothing there (the sampler can only sample the main thread); spans pass through',
      );
    }
  }

  get enabled(): boolean {
    return this._enabled;
  }

  get measuredIntervalNanos(): number {
    // Ticks are on a fixed grid at the rate in use; the budget may have lowered it.
    const millihz = Atomics.load(this._state, Slot.TICK_MILLIHZ);
    return millihz > 0 ? 1e12 / millihz : this._intervalMillis * 1e6;
  }

  get stats(): ProbeSamplerStats {
    let activeNanos = this._activeNanos;
    if (this._acquired > 0) activeNanos += nowHrNano() - this._activeSinceHr;
    const state = this._state;
    const millihz = Atomics.load(state, Slot.TICK_MILLIHZ);
    const overheadPpm = Atomics.load(state, Slot.OVERHEAD_PPM);
    const costNanos = Atomics.load(state, Slot.PROBE_COST_NANOS);
    return {
      probes: this._probes,
      active: this._acquired > 0,
      activeNanos,
      skippedTicks: Atomics.load(state, Slot.SKIPPED),
      offCpuTicks: Atomics.load(state, Slot.OFF_CPU),
      noCpuTicks: Atomics.load(state, Slot.NO_CPU),
      cpuTimeMeasured: this._schedstatFd >= 0,
      tickRateHz: millihz > 0 ? millihz / 1000 : 1000 / this._intervalMillis,
      overheadPercent: this._started && overheadPpm >= 0 ? overheadPpm / 1e4 : null,
      probeCostMicros: this._started && costNanos >= 0 ? costNanos / 1000 : null,
      handlerErrors: this._handlerErrors,
    };
  }

  acquire(): void {
    if (this._stopped || !this._enabled) return;
    if (++this._acquired !== 1) return;
    if (!this._started && !this._start()) {
      this._acquired = 0;
      return;
    }
    this._activeSinceHr = nowHrNano();
    Atomics.store(this._state, Slot.ACTIVE, 1);
    // At most one wake-up per sleep: roots that open and close constantly never get here.
    if (Atomics.compareExchange(this._state, Slot.SLEEPING, 1, 0) === 1) Atomics.notify(this._state, Slot.ACTIVE);
  }

  release(): void {
    if (this._acquired === 0) return;
    if (--this._acquired !== 0) return;
    Atomics.store(this._state, Slot.ACTIVE, 0);
    this._activeNanos += nowHrNano() - this._activeSinceHr;
  }

  async shutdown(): Promise<void> {
    const worker = this._worker;
    this._stop();
    this._worker = undefined;
    if (worker !== undefined) await worker.terminate();
    this._closeFds();
    // The worker and its sessions are gone; a reply would find nobody to wake.
    this._unsettled.settleAll();
  }

  private _closeFds(): void {
    // Only once the worker is gone: a descriptor number closed under a running reader could
    // be reused by some other file.
    for (const fd of [this._statFd, this._schedstatFd]) {
      if (fd < 0) continue;
      try {
        closeSync(fd);
      } catch {
        // Already closed: nothing to release.
      }
    }
    this._statFd = this._schedstatFd = -1;
  }

  private _stop(): void {
    if (this._stopped) return;
    this._stopped = true;
    // Ends the active stretch however many acquisitions are still open (stats stay right).
    if (this._acquired > 0) {
      this._acquired = 1;
      this.release();
    }
    if (!this._started) return;
    Atomics.store(this._state, Slot.STOP, 1);
    // Wakes the worker wherever it sleeps: between ticks (STOP) or while idle (ACTIVE).
    Atomics.notify(this._state, Slot.STOP);
    Atomics.notify(this._state, Slot.ACTIVE);
    process.removeListener('exit', this._onExit);
    this._rateLog?.stop();
    // Probes already queued in the inspector then evaluate to a no-op instead of throwing.
    Object.defineProperty(globalThis, this.probeKey, { value: noop, configurable: true, enumerable: false });
  }

  /**
   * Starts sampling at the first acquisition (a processor that never profiles a root, e.g. at
   * `profilesSampleRate: 0`, starts nothing). Returns false, with everything undone and one
   * warning, when the environment refuses it.
   */
  private _start(): boolean {
    this._started = true;
    try {
      // Throws where Node was built without the inspector, or a permission model forbids it.
      require('node:inspector');
      // Node 22+ under --permission: connecting the worker's session to the main thread fails a
      // native assertion and aborts the process (seen on 22.23.5), so refuse before trying.
      if (inspectorRefused()) throw new Error('the permission model refuses the inspector (--permission without inspector access)');
      this._statFd = openMainThreadFile('stat');
      this._schedstatFd = openMainThreadFile('schedstat');
      Object.defineProperty(globalThis, this.probeKey, { value: this.probe, configurable: true, enumerable: false });
      this._startWorker();
      // Stop ticking before teardown so no probe lands in a half-destroyed process.
      process.once('exit', this._onExit);
      this._rateLog = new RateLog(this._state, this._intervalMillis, this._maxOverheadPercent, logger);
      return true;
    } catch (err) {
      this._disable('the environment refused what sampling needs', err);
      return false;
    }
  }

  /** Undoes whatever _start set up and profiles nothing from now on. */
  private _disable(why: string, err: unknown): void {
    this._enabled = false;
    this._stopped = true;
    this._acquired = 0;
    Atomics.store(this._state, Slot.ACTIVE, 0);
    Atomics.store(this._state, Slot.STOP, 1);
    Atomics.notify(this._state, Slot.STOP);
    Atomics.notify(this._state, Slot.ACTIVE);
    process.removeListener('exit', this._onExit);
    this._rateLog?.stop();
    delete (globalThis as Record<symbol, unknown>)[this.probeKey];
    const worker = this._worker;
    this._worker = undefined;
    const message = err instanceof Error ? `${(err as NodeJS.ErrnoException).code ?? err.name}: ${err.message}` : String(err);
    logger.warn(`profiling is off: ${why} (${message}); spans pass through unprofiled`);
    if (worker !== undefined) {
      void worker.terminate().then(
        () => this._closeFds(),
        () => this._closeFds(),
      );
    } else {
      this._closeFds();
    }
    this._unsettled.settleAll();
  }

  private _startWorker(): void {
    const worker = startSamplingWorker({
      state: this._state,
      lastProbe: this._lastProbe,
      handlerNanos: this._handlerNanos,
      intervalMillis: this._intervalMillis,
      probeKey: this.probeKey,
      statFd: this._statFd,
      schedstatFd: this._schedstatFd,
      maxOverheadPercent: this._maxOverheadPercent,
    });
    worker.on('error', (err) => {
      // E.g. the inspector refused the connection (a permission model): profiling stops.
      if (this._worker === worker) this._disable('the sampling thread failed', err);
    });
    this._worker = worker;
  }
}

function noop(): void {}

/** Whether a permission model is on and refuses the inspector. */
function inspectorRefused(): boolean {
  const permission = (process as { permission?: { has(scope: string): boolean } }).permission;
  try {
    return permission !== undefined && permission.has('inspector') === false;
  } catch {
    // A Node whose permission model has no inspector scope (Node 20's experimental one).
    return false;
  }
}
