import { closeSync, openSync } from 'node:fs';
import { Worker, isMainThread } from 'node:worker_threads';
import { diag } from '@opentelemetry/api';
import { nowHrNano } from '../clock';
import type { SampleHandler, Sampler, SamplerStats } from './sampler';
import { samplingWorkerMain } from './sampling-worker';
import { SLOT_COUNT, Slot, type SamplingWorkerData } from './worker-protocol';

const logger = diag.createComponentLogger({ namespace: 'otel-span-profiler/sampler' });

/**
 * Probes allowed to wait for a stuck main thread: about one second's worth at 99 Hz. Far
 * below the worker's session renewal period (1024 probes), so the main thread runs a
 * session's probes while the worker is at most one session ahead (see _renewUnsettled).
 */
const MAX_IN_FLIGHT = 100;
/**
 * How long process.exit() may wait for the worker to drop its inspector session. Node prints
 * "Waiting for the debugger to disconnect..." when the process exits with a session still
 * connected; a worker that does not answer in time only costs that line.
 */
const EXIT_DISCONNECT_WAIT_MILLIS = 200;
/** The worker keeps ticking this long after the last root closed, then sleeps until woken. */
const SLEEP_AFTER_IDLE_MILLIS = 1000;

/**
 * The engine's own Promise, even where the application replaced the global one (with
 * bluebird, say): the inspector waits only on native promises, and would answer anything
 * else at once.
 */
const NativePromise = (async () => {})().constructor as PromiseConstructor;

let instances = 0;

/** Options of {@link ProbeSampler}; the processor resolves and validates them. */
export interface ProbeSamplerOptions {
  readonly frequencyHz: number;
  readonly handler: SampleHandler;
}

/**
 * The probe sampler (DESIGN.md, design A): a worker thread ticks at the sampling rate and,
 * through an inspector session connected to the main thread, evaluates a probe that this
 * class installs on the main thread. V8 runs the probe at its next interrupt check, inside
 * the JavaScript that is running, so the handler sees that code's context and stack. When the
 * main thread is idle the probe runs from the event loop, with no user frames.
 */
export class ProbeSampler implements Sampler {
  /** The key of the probe on globalThis: per instance, so processors never share a probe. */
  readonly probeKey: symbol;
  /** The sourceURL of the probe expression: its frame is dropped from captured stacks. */
  readonly probeUrl: string;
  /** The function the inspector calls; stack captures start below it. */
  readonly probe: () => Promise<void>;
  private readonly _state = new Int32Array(new SharedArrayBuffer(SLOT_COUNT * Int32Array.BYTES_PER_ELEMENT));
  private readonly _intervalMillis: number;
  private _worker: Worker | undefined;
  private _statFd = -1;
  private _acquired = 0;
  private _stopped = false;
  private _probes = 0;
  private _activeSinceHr = 0n;
  private _activeNanos = 0n;
  // Time between probes within one active stretch over the ticks in between (ticks skipped
  // for a sleeping main thread included): the real period, not the configured one.
  private _lastProbeHr = 0n;
  private _lastProbeTicks = 0;
  private _gapSumNanos = 0;
  private _gapTicks = 0;
  // Returned by every probe. The inspector replies when it settles, which happens only once
  // the session that waits on it is gone (see sampling-worker.ts and _renewUnsettled).
  private _unsettled: Promise<void>;
  private _settleUnsettled: () => void = noop;
  private _settlePrevious: () => void = noop;
  private _epoch = 0;
  private readonly _onExit = (): void => {
    this._stop();
    // Blocking is allowed here (the process is exiting) and interrupts still run while the main
    // thread waits, so the session's removal, which the main thread carries out, completes.
    if (this._worker !== undefined) Atomics.wait(this._state, Slot.DISCONNECTED, 0, EXIT_DISCONNECT_WAIT_MILLIS);
  };

  constructor(options: ProbeSamplerOptions) {
    const id = ++instances;
    this.probeKey = Symbol.for(`otel-span-profiler.probe.${process.pid}.${id}`);
    this.probeUrl = `otel-span-profiler-probe-${id}`;
    this._intervalMillis = 1000 / options.frequencyHz;
    const handler = options.handler;
    this._unsettled = new NativePromise<void>((settle) => (this._settleUnsettled = settle));
    const probe = (this.probe = (): Promise<void> => {
      const hr = nowHrNano();
      this._probes++;
      Atomics.add(this._state, Slot.RAN, 1);
      const ticks = Atomics.load(this._state, Slot.TICKS);
      // `| 0`: the counter is an Int32 and wraps.
      const ticksBetween = (ticks - this._lastProbeTicks) | 0;
      if (this._lastProbeHr !== 0n && ticksBetween > 0) {
        this._gapSumNanos += Number(hr - this._lastProbeHr);
        this._gapTicks += ticksBetween;
      }
      this._lastProbeHr = this._acquired > 0 ? hr : 0n;
      this._lastProbeTicks = ticks;
      try {
        handler(hr);
      } catch (err) {
        logger.debug('sample handler failed', err);
      }
      const epoch = Atomics.load(this._state, Slot.EPOCH);
      if (epoch !== this._epoch) {
        this._epoch = epoch;
        this._renewUnsettled();
      }
      return this._unsettled;
    });
    Object.defineProperty(globalThis, this.probeKey, { value: probe, configurable: true, enumerable: false });
    // Stop ticking before teardown so no probe lands in a half-destroyed process.
    process.once('exit', this._onExit);
    // Started now, not at the first root: a worker and its inspector session take tens of
    // milliseconds to come up, and the first requests after start-up deserve samples too.
    this._startWorker();
  }

  /**
   * The inspector keeps an evaluation's promise handlers until the promise settles, even after
   * its session has gone (a soak without this grew the heap by ~0.8 KB per probe). So each
   * promise is settled in the end, one session later: the main thread runs the worker's
   * requests in order, and the old session's removal came before any probe that can see the
   * epoch after next, so no reply can be sent.
   */
  private _renewUnsettled(): void {
    this._settlePrevious();
    this._settlePrevious = this._settleUnsettled;
    this._unsettled = new NativePromise<void>((settle) => (this._settleUnsettled = settle));
  }

  get measuredIntervalNanos(): number {
    return this._gapTicks > 0 ? this._gapSumNanos / this._gapTicks : this._intervalMillis * 1e6;
  }

  get stats(): SamplerStats {
    let activeNanos = this._activeNanos;
    if (this._acquired > 0) activeNanos += nowHrNano() - this._activeSinceHr;
    return {
      probes: this._probes,
      active: this._acquired > 0,
      activeNanos,
      skippedTicks: Atomics.load(this._state, Slot.SKIPPED),
      offCpuTicks: Atomics.load(this._state, Slot.OFF_CPU),
    };
  }

  acquire(): void {
    if (this._stopped) return;
    if (++this._acquired !== 1) return;
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
    this._lastProbeHr = 0n;
  }

  async shutdown(): Promise<void> {
    const worker = this._worker;
    this._stop();
    this._worker = undefined;
    if (worker !== undefined) await worker.terminate();
    this._closeStat();
    // The worker and its sessions are gone; a reply would find nobody to wake.
    this._settlePrevious();
    this._settleUnsettled();
  }

  private _closeStat(): void {
    // Only once the worker is gone: a descriptor number closed under a running reader could
    // be reused by some other file.
    if (this._statFd < 0) return;
    try {
      closeSync(this._statFd);
    } catch {
      // Already closed: nothing to release.
    }
    this._statFd = -1;
  }

  private _stop(): void {
    if (this._stopped) return;
    this._stopped = true;
    // Ends the active stretch however many acquisitions are still open (stats stay right).
    if (this._acquired > 0) {
      this._acquired = 1;
      this.release();
    }
    Atomics.store(this._state, Slot.STOP, 1);
    // Wakes the worker wherever it sleeps: between ticks (STOP) or while idle (ACTIVE).
    Atomics.notify(this._state, Slot.STOP);
    Atomics.notify(this._state, Slot.ACTIVE);
    process.removeListener('exit', this._onExit);
    // Probes already queued in the inspector then evaluate to a no-op instead of throwing.
    Object.defineProperty(globalThis, this.probeKey, { value: noop, configurable: true, enumerable: false });
  }

  private _startWorker(): void {
    this._statFd = openMainThreadStat();
    const workerData: SamplingWorkerData = {
      state: this._state.buffer as SharedArrayBuffer,
      slots: Slot,
      intervalMillis: this._intervalMillis,
      // Symbol.for() keys survive the trip to the main thread's global scope as text.
      expression: `globalThis[Symbol.for(${JSON.stringify(this.probeKey.description)})]()\n//# sourceURL=${this.probeUrl}`,
      maxInFlight: MAX_IN_FLIGHT,
      sleepAfterIdleMillis: SLEEP_AFTER_IDLE_MILLIS,
      mainThreadStatFd: this._statFd,
    };
    // `require` here is text: the eval'd worker's own require, which bundlers cannot rewrite.
    const worker = new Worker(`(${samplingWorkerMain.toString()})(require)`, {
      eval: true,
      workerData,
      name: 'otel-span-profiler sampler',
      // The sampler must never keep the application alive, nor inherit its flags (--inspect, preloads).
      execArgv: [],
      env: {},
      stdout: false,
      stderr: false,
    });
    worker.unref();
    worker.on('error', (err) => {
      logger.error('sampling thread failed; profiling stops', err);
      this._worker = undefined;
      this._stop();
      this._closeStat();
    });
    this._worker = worker;
  }
}

function noop(): void {}

/**
 * The main thread's scheduler state, for the worker to skip ticks while it sleeps. Its thread
 * id is the process id on Linux. Anywhere else, or when the sampler runs in a worker (whose
 * probe would run on that worker, a thread we cannot name here), every tick probes.
 */
function openMainThreadStat(): number {
  if (process.platform !== 'linux' || !isMainThread) return -1;
  try {
    return openSync(`/proc/self/task/${process.pid}/stat`, 'r');
  } catch {
    return -1;
  }
}
