import type { SamplingWorkerData } from './worker-protocol';

type Fs = typeof import('node:fs');
type Inspector = typeof import('node:inspector');
type Slots = SamplingWorkerData['slots'];

/**
 * The parts of the sampling thread, each a function of its own. The thread is started from
 * source text (`eval: true`, see start-sampling-worker.ts) so that bundlers cannot lose a separate
 * worker file: no part may use anything from the module scope, and the parts reach
 * {@link samplingWorkerMain} as arguments (their source text), never by name, so a minifier that
 * renames them breaks nothing.
 */
export interface SamplingWorkerParts {
  readonly probeSession: typeof probeSession;
  readonly mainThreadFiles: typeof mainThreadFiles;
  readonly cpuAccounting: typeof cpuAccounting;
  readonly dispatchCalibration: typeof dispatchCalibration;
  readonly overheadBudget: typeof overheadBudget;
}

/** The source text the worker is started from: the main function called with its parts. */
export function samplingWorkerSource(): string {
  const parts = [probeSession, mainThreadFiles, cpuAccounting, dispatchCalibration, overheadBudget];
  const names = ['probeSession', 'mainThreadFiles', 'cpuAccounting', 'dispatchCalibration', 'overheadBudget'];
  const table = parts.map((part, i) => `${names[i]}: (${part.toString()})`).join(',\n');
  // `require` here is text: the eval'd worker's own require, which bundlers cannot rewrite.
  return `(${samplingWorkerMain.toString()})(require, {\n${table}\n})`;
}

/**
 * The sampling thread.
 *
 * One loop, one sleep at a time: sampling that stops and restarts within a period cannot start
 * a second ticker (a prototype of this design ran away to 19x its rate that way). The loop
 * sleeps in Atomics.wait, not in timers, and probes get no replies: one wake-up per tick (a
 * timer-and-reply loop cost this thread about 0.33 ms of CPU per tick on a 2-vCPU VM).
 *
 * At most one probe is in flight. A tick that finds the previous probe not yet run sends
 * nothing (counted): a main thread that is runnable but not running (waiting for a core, or
 * throttled by a container's CPU quota) would otherwise run a queue of probes back to back
 * when it gets the CPU again, and charge its waiting time to the code where it stopped.
 *
 * Longer than 60 lines on purpose: it is the scope of the loop's state (the interval, the grid's
 * origin, the last calibration), which its three closures (one active tick, the sleep, the loop)
 * share; each of them is short, and each part it calls is a function below.
 */
export function samplingWorkerMain(load: NodeJS.Require, parts: SamplingWorkerParts): void {
  // Modules come through `load`, the worker's own require passed in by the starter: bundlers
  // rewrite require calls in this source into their module table (webpack's
  // __webpack_require__), which does not exist in the worker (issue #9.4).
  const { workerData } = load('node:worker_threads') as typeof import('node:worker_threads');
  const inspector = load('node:inspector') as Inspector;
  const { performance } = load('node:perf_hooks') as typeof import('node:perf_hooks');
  const fs = load('node:fs') as Fs;
  const data = workerData as SamplingWorkerData;
  const state = new Int32Array(data.state);
  const { ACTIVE, STOP, SKIPPED, SLEEPING, DISCONNECTED, OFF_CPU, TICKS, NO_CPU, CPU_PENDING_MICROS } = data.slots;
  const lastProbe = new Float64Array(data.lastProbe);
  const session = parts.probeSession(inspector, state, data.slots, data.expression);
  const thread = parts.mainThreadFiles(fs, data.mainThreadStatFd, data.mainThreadSchedstatFd);
  const cpu = parts.cpuAccounting(state, data.slots, thread.readCpuNanos, data.initialCpuNanos);
  const calibration = parts.dispatchCalibration(state, data.slots, performance, thread.readCpuNanos, session.post);
  const budget = parts.overheadBudget(state, data, calibration.dispatchCost);
  const minCpuMicros = data.minCpuNanosPerProbe / 1000;
  // No reply needs the event loop, but V8 runs this isolate's GC tasks there: without a turn
  // now and then, its heap (and the process's memory) grows while sampling runs.
  const turnEvery = 32;
  let sinceTurn = 0;
  const drain = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
  const RECALIBRATE_MILLIS = 5000;
  let lastCalibration = -Infinity;
  let calibrationAttempts = 0;

  // Ticks sit on a grid and a probe is posted only if a profiled root is open at the tick.
  // Firing on every 0 -> 1 edge instead would over-sample the first instants of each root
  // (request start-up code) whenever roots open and close constantly.
  let interval = data.intervalMillis;
  let origin = performance.now();
  const gridAfter = (t: number): number => origin + (Math.floor((t - origin) / interval) + 1) * interval;

  /** One tick while a profiled root is open: probe, or count why not. */
  const activeTick = (now: number, measured: boolean): void => {
    Atomics.add(state, TICKS, 1);
    budget.addActiveMillis(interval);
    if (session.inFlight() || performance.timeOrigin + now - lastProbe[0] < interval / 2) {
      // The previous probe has not run, or ran only just now (it waited for the thread):
      // a probe now would make a burst of two.
      Atomics.add(state, SKIPPED, 1);
    } else if (thread.mainThreadSleeps()) {
      Atomics.add(state, OFF_CPU, 1);
      // A sleeping thread is the moment to measure what a probe costs it.
      // The first three attempts come quickly, then one per RECALIBRATE_MILLIS, whether they
      // measured or not: a thread that is slow to wake must not get a probe at every tick.
      if (now - lastCalibration >= (calibrationAttempts < 3 ? 0 : RECALIBRATE_MILLIS) && thread.canReadCpu()) {
        lastCalibration = now;
        calibrationAttempts++;
        calibration.calibrate();
      }
    } else if (!measured) {
      // The first tick after a sleep only starts the measurement.
    } else if (thread.canReadCpu() && Atomics.load(state, CPU_PENDING_MICROS) < minCpuMicros) {
      // Runnable but not running since the last probe: waiting is not CPU time.
      Atomics.add(state, NO_CPU, 1);
    } else {
      session.post();
    }
  };

  /** Sleeps until a profiled root opens (or the sampler stops); returns when it woke. */
  const sleepUntilActive = async (): Promise<number> => {
    // A turn of the event loop before a long sleep, for its housekeeping.
    await drain();
    Atomics.store(state, SLEEPING, 1);
    // Checked after publishing SLEEPING: the main thread notifies ACTIVE on a 0 -> 1 edge
    // only when it finds SLEEPING set, so an edge is either seen here or notified.
    while (Atomics.load(state, ACTIVE) === 0 && Atomics.load(state, STOP) === 0) Atomics.wait(state, ACTIVE, 0);
    Atomics.store(state, SLEEPING, 0);
    cpu.forget();
    budget.reset();
    return performance.now();
  };

  async function loop(): Promise<void> {
    let next = gridAfter(performance.now());
    let lastActive = performance.now();
    while (Atomics.load(state, STOP) === 0) {
      const now = performance.now();
      if (now < next) {
        // Woken early only by a stop (the main thread notifies STOP).
        Atomics.wait(state, STOP, 0, next - now);
        continue;
      }
      // Stay on the grid, but never burst to catch up after the worker itself stalled.
      const before = interval;
      if (budget.windowFull()) interval = budget.closeWindow(interval);
      if (interval !== before) origin = now;
      next += interval;
      if (next <= now || interval !== before) next = gridAfter(now);
      const active = Atomics.load(state, ACTIVE) !== 0;
      const measured = cpu.account(active);
      if (!active) {
        if (now - lastCalibration >= RECALIBRATE_MILLIS && !session.inFlight() && thread.mainThreadSleeps()) {
          lastCalibration = now;
          calibration.calibrate();
        }
        if (now - lastActive < data.sleepAfterIdleMillis) continue;
        lastActive = await sleepUntilActive();
        next = gridAfter(lastActive);
        continue;
      }
      lastActive = now;
      activeTick(now, measured);
      if (++sinceTurn >= turnEvery) {
        sinceTurn = 0;
        await drain();
      }
    }
    session.disconnect();
    Atomics.store(state, DISCONNECTED, 1);
    Atomics.notify(state, DISCONNECTED);
  }
  void loop();
}

/**
 * The inspector session that posts probes. The probe returns a promise that does not settle
 * while its session lives, and the inspector answers an evaluation only when its promise
 * settles: no reply comes back. A reply reaches this thread as an interrupt that wakes it out of
 * Atomics.wait, about four times per reply when it shares a core with the main thread, and is
 * still read only at the next turn of the event loop (measured on Node 20: 5.0 context switches
 * per tick with replies, 1.1 without; 150 -> 120 us of CPU per tick). The evaluations left
 * waiting belong to the session, so the session is renewed every `renewEvery` probes; the main
 * thread then settles the promise of the session before last (unsettled-promises.ts).
 */
export function probeSession(inspector: Inspector, state: Int32Array, slots: Slots, expression: string) {
  const { POSTED, RAN, EPOCH } = slots;
  const connect = (): import('node:inspector').Session => {
    const next = new inspector.Session();
    next.connectToMainThread();
    return next;
  };
  let session = connect();
  const params = { expression, silent: true, returnByValue: false, generatePreview: false, awaitPromise: true };
  const renewEvery = 1024;
  let sinceRenew = 0;
  return {
    post(): void {
      Atomics.add(state, POSTED, 1);
      session.post('Runtime.evaluate', params);
      if (++sinceRenew >= renewEvery) {
        sinceRenew = 0;
        // Probes already posted still run: the old session goes after them, in order.
        Atomics.add(state, EPOCH, 1);
        session.disconnect();
        session = connect();
      }
    },
    /** Whether the last probe posted has not run yet (both counters wrap together). */
    inFlight: (): boolean => Atomics.load(state, POSTED) !== Atomics.load(state, RAN),
    disconnect: (): void => session.disconnect(),
  };
}

/**
 * The main thread's /proc files (Linux), opened and closed by the main thread, so a terminated
 * worker cannot leak them.
 *
 * A probe sent to a sleeping main thread wakes it to find no JavaScript running: an idle
 * sample that no profile keeps, at the full price of a probe. The thread's scheduler state
 * (one pread of its /proc stat, ~6 us) tells beforehand. Sleeping also covers a synchronous
 * call blocked in the kernel: that time is not CPU time, so a CPU profile has no sample for it.
 */
export function mainThreadFiles(fs: Fs, statFdIn: number, schedstatFdIn: number) {
  let statFd = statFdIn;
  let schedstatFd = schedstatFdIn;
  const statBuf = new Uint8Array(512);
  const schedBuf = new Uint8Array(96);
  return {
    mainThreadSleeps(): boolean {
      if (statFd < 0) return false;
      try {
        const length = fs.readSync(statFd, statBuf, 0, statBuf.length, 0);
        // The state letter follows the command name, which is in parentheses and may hold any byte.
        const letter = statBuf[statBuf.lastIndexOf(0x29, length - 1) + 2];
        return letter === 0x53 /* S */ || letter === 0x44; /* D */
      } catch {
        statFd = -1;
        return false;
      }
    },
    /**
     * The main thread's on-CPU time in nanoseconds (schedstat's first field), -1 where unknown.
     * A double holds it exactly for 104 days of CPU; only differences are used.
     */
    readCpuNanos(): number {
      if (schedstatFd < 0) return -1;
      try {
        const length = fs.readSync(schedstatFd, schedBuf, 0, schedBuf.length, 0);
        let value = 0;
        for (let i = 0; i < length; i++) {
          const digit = schedBuf[i] - 0x30;
          if (digit < 0 || digit > 9) break;
          value = value * 10 + digit;
        }
        return value;
      } catch {
        schedstatFd = -1;
        return -1;
      }
    },
    canReadCpu: (): boolean => schedstatFd >= 0,
  };
}

/**
 * CPU accounting. Each tick while ACTIVE adds the main thread's CPU since the previous tick
 * to CPU_PENDING_MICROS; the probe takes the whole pending amount as its sample's value. So
 * the values of all samples sum to the CPU measured while profiled roots were open, however
 * many ticks were skipped, and a probe that waited (native code, GC) carries the time it
 * waited on the CPU. CPU while nothing is profiled is nobody's and is dropped.
 * From the main thread's reading at the first acquisition: the CPU of the first root before
 * this thread was up (tens of milliseconds) is measured too.
 */
export function cpuAccounting(state: Int32Array, slots: Slots, readCpuNanos: () => number, initialCpuNanos: number) {
  const { CPU_PENDING_MICROS } = slots;
  let lastCpu = initialCpuNanos;
  let carryNanos = 0;
  return {
    /** Returns false when this tick has no earlier reading to measure from (the first after a sleep). */
    account(active: boolean): boolean {
      const cpu = readCpuNanos();
      if (cpu < 0) return true;
      const measured = lastCpu >= 0;
      if (active && measured && cpu > lastCpu) {
        carryNanos += cpu - lastCpu;
        const micros = Math.floor(carryNanos / 1000);
        if (micros > 0) {
          Atomics.add(state, CPU_PENDING_MICROS, micros);
          carryNanos -= micros * 1000;
        }
      } else if (!active) {
        carryNanos = 0;
        Atomics.store(state, CPU_PENDING_MICROS, 0);
      }
      lastCpu = cpu;
      return measured;
    },
    /** After a sleep: the next tick starts a new measurement. */
    forget(): void {
      lastCpu = -1;
    },
  };
}

/**
 * Calibration of the inspector's dispatch: a probe that only signals is sent to the main
 * thread while it sleeps, and its CPU time (schedstat) from before the post to when it sleeps
 * again is the whole price of a probe outside our JavaScript. It includes the thread's
 * wake-up, which a busy thread does not pay, so the estimate errs high (the cap errs safe).
 * A woken thread may also run other due work (a timer, I/O) before it sleeps again, which
 * only ever adds: so the smallest of the last few measurements is used, and one taking more
 * than 2 ms of CPU is discarded. One more is taken every few seconds.
 */
export function dispatchCalibration(
  state: Int32Array,
  slots: Slots,
  performance: { now(): number },
  readCpuNanos: () => number,
  post: () => void,
) {
  const { CALIBRATING, CAL_DONE, DISPATCH_COST_NANOS } = slots;
  const calibrations: number[] = [];
  const CALIBRATIONS_KEPT = 7;
  const MAX_CALIBRATION_NANOS = 2e6;
  let dispatchCost = -1;
  Atomics.store(state, DISPATCH_COST_NANOS, -1);
  return {
    calibrate(): void {
      const before = readCpuNanos();
      if (before < 0) return;
      Atomics.store(state, CAL_DONE, 0);
      // Cleared by the probe itself when it runs, however late: a calibration probe never samples.
      Atomics.store(state, CALIBRATING, 1);
      const posted = performance.now();
      post();
      // Read as soon as the probe signals: the wake-up and the dispatch up to our JavaScript,
      // not whatever else the woken thread goes on to run.
      const woken = Atomics.wait(state, CAL_DONE, 0, 20) !== 'timed-out' || Atomics.load(state, CAL_DONE) === 1;
      const after = readCpuNanos();
      const waited = performance.now() - posted;
      // The calibration's CPU stays in the accounting (the next tick measures from lastCpu): it is
      // the main thread's CPU like any other. A probe that took over a millisecond to run met other
      // work (or a busy core) first: not a measurement.
      if (!woken || waited > 1 || after <= before || after - before > MAX_CALIBRATION_NANOS) return;
      calibrations.push(after - before);
      if (calibrations.length > CALIBRATIONS_KEPT) calibrations.shift();
      dispatchCost = Math.min(...calibrations);
      Atomics.store(state, DISPATCH_COST_NANOS, Math.min(2 ** 31 - 1, Math.round(dispatchCost)));
    },
    /** The calibrated dispatch cost in nanoseconds, -1 until calibrated. */
    dispatchCost: (): number => dispatchCost,
  };
}

/**
 * The budget: every window of about a second of sampling, the probes' share of the main
 * thread's time is probes run x (dispatch cost + the median time of recent probes' JavaScript)
 * / window. Over the budget, the tick rate falls in proportion; under it, it climbs back (at
 * most 1.5x a window), never above the configured rate.
 * Windows count sampling time only (ticks while ACTIVE, times their interval): a window that
 * spans a pause in profiling would read as a low overhead and overshoot the next rate.
 */
export function overheadBudget(state: Int32Array, data: SamplingWorkerData, dispatchCost: () => number) {
  const { RAN, TICK_MILLIHZ, OVERHEAD_PPM, PROBE_COST_NANOS } = data.slots;
  // The budget's rule, from its source text (tick-rate.ts): this function sees no module scope.
  const nextTickRateHz = new Function(`return (${data.nextTickRateSource})`)() as (
    currentHz: number,
    overheadFraction: number,
    budgetFraction: number,
    maxHz: number,
  ) => number;
  const handlerRing = new Int32Array(data.handlerNanos);
  const WINDOW_MILLIS = 1000;
  let windowActiveMillis = 0;
  let windowRan = Atomics.load(state, RAN);
  const medianHandlerNanos = (): number => {
    const entries: number[] = [];
    for (let i = 0; i < handlerRing.length; i++) if (handlerRing[i] > 0) entries.push(handlerRing[i]);
    if (entries.length === 0) return 0;
    entries.sort((a, b) => a - b);
    return entries[entries.length >> 1];
  };
  Atomics.store(state, TICK_MILLIHZ, Math.round(1e6 / data.intervalMillis));
  Atomics.store(state, OVERHEAD_PPM, -1);
  Atomics.store(state, PROBE_COST_NANOS, -1);
  const reset = (): void => {
    windowActiveMillis = 0;
    windowRan = Atomics.load(state, RAN);
  };
  return {
    reset,
    addActiveMillis(millis: number): void {
      windowActiveMillis += millis;
    },
    windowFull: (): boolean => windowActiveMillis >= WINDOW_MILLIS,
    /** Ends the window: publishes its figures and returns the tick interval to use next (ms). */
    closeWindow(interval: number): number {
      const wallNanos = windowActiveMillis * 1e6;
      const ran = (Atomics.load(state, RAN) - windowRan) | 0;
      reset();
      if (ran <= 0 || wallNanos <= 0) return interval;
      const calibrated = dispatchCost();
      const dispatch = calibrated >= 0 ? calibrated : data.defaultDispatchCostNanos;
      const probeCost = dispatch + medianHandlerNanos();
      const overhead = (ran * probeCost) / wallNanos;
      if (data.debug)
        console.error(
          'budget',
          ran,
          Math.round(wallNanos / 1e6),
          Math.round(calibrated),
          Math.round(medianHandlerNanos()),
          Math.round(1000 / interval),
        );
      Atomics.store(state, PROBE_COST_NANOS, Math.min(2 ** 31 - 1, Math.round(probeCost)));
      Atomics.store(state, OVERHEAD_PPM, Math.min(2 ** 31 - 1, Math.round(overhead * 1e6)));
      if (!Number.isFinite(data.maxOverheadFraction)) return interval;
      const hz = 1000 / interval;
      const next = nextTickRateHz(hz, overhead, data.maxOverheadFraction, 1000 / data.intervalMillis);
      if (next === hz) return interval;
      Atomics.store(state, TICK_MILLIHZ, Math.round(next * 1000));
      return 1000 / next;
    },
  };
}
