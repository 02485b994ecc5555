import type { SamplingWorkerData } from './worker-protocol';

/**
 * The sampling thread. It is started from this function's source text (`eval: true`) so that
 * bundlers cannot lose a separate worker file: it must not use anything from the module scope.
 *
 * One loop, one sleep at a time: sampling that stops and restarts within a period cannot start
 * a second ticker (a prototype of this design ran away to 19x its rate that way). The loop
 * sleeps in Atomics.wait, not in timers, and probes get no replies: one wake-up per tick (a
 * timer-and-reply loop cost this thread about 0.33 ms of CPU per tick on a 2-vCPU VM).
 */
export function samplingWorkerMain(load: NodeJS.Require): void {
  // Modules come through `load`, the worker's own require passed in by the starter: bundlers
  // rewrite require calls in this source into their module table (webpack's
  // __webpack_require__), which does not exist in the worker (issue #9.4).
  const { workerData } = load('node:worker_threads') as typeof import('node:worker_threads');
  const inspector = load('node:inspector') as typeof import('node:inspector');
  const { performance } = load('node:perf_hooks') as typeof import('node:perf_hooks');
  const fs = load('node:fs') as typeof import('node:fs');
  const data = workerData as SamplingWorkerData;
  const state = new Int32Array(data.state);
  const { ACTIVE, STOP, POSTED, SKIPPED, SLEEPING, DISCONNECTED, OFF_CPU, TICKS, RAN, EPOCH } = data.slots;
  const interval = data.intervalMillis;

  // The probe returns a promise that does not settle while its session lives, and the
  // inspector answers an evaluation only when its promise settles: no reply comes back. A
  // reply reaches this thread as an interrupt that wakes it out of Atomics.wait, about four
  // times per reply when it shares a core with the main thread, and is still read only at the
  // next turn of the event loop (measured on Node 20: 5.0 context switches per tick with
  // replies, 1.1 without; 150 -> 120 us of CPU per tick). The evaluations left waiting belong
  // to the session, so the session is renewed every renewEvery probes; the main thread then
  // settles the promise of the session before last (probe-sampler.ts).
  const connect = (): import('node:inspector').Session => {
    const next = new inspector.Session();
    next.connectToMainThread();
    return next;
  };
  let session = connect();
  const params = { expression: data.expression, silent: true, returnByValue: false, generatePreview: false, awaitPromise: true };
  const renewEvery = 1024;
  let sinceRenew = 0;
  // No reply needs the event loop, but V8 runs this isolate's GC tasks there: without a turn
  // now and then, its heap (and the process's memory) grows while sampling runs.
  const turnEvery = 32;
  let sinceTurn = 0;
  // Probes posted that the main thread has not run yet (it counts those it ran).
  const inFlight = (): number => (Atomics.load(state, POSTED) - Atomics.load(state, RAN)) | 0;
  const drain = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

  // A probe sent to a sleeping main thread wakes it to find no JavaScript running: an idle
  // sample that no profile keeps, at the full price of a probe. The thread's scheduler state
  // (one pread of its /proc stat, ~6 us) tells beforehand. Sleeping also covers a synchronous
  // call blocked in the kernel: that time is not CPU time, so a CPU profile has no sample for it.
  // Opened and closed by the main thread: a terminated worker cannot leak it.
  let statFd = data.mainThreadStatFd;
  const statBuf = new Uint8Array(512);
  const mainThreadSleeps = (): boolean => {
    if (statFd < 0) return false;
    try {
      const length = fs.readSync(statFd, statBuf, 0, statBuf.length, 0);
      // The state letter follows the command name, which is in parentheses and may hold any byte.
      const state = statBuf[statBuf.lastIndexOf(0x29, length - 1) + 2];
      return state === 0x53 /* S */ || state === 0x44 /* D */;
    } catch {
      statFd = -1;
      return false;
    }
  };

  // Ticks sit on a fixed grid and a probe is posted only if a profiled root is open at the
  // tick. Firing on every 0 -> 1 edge instead would over-sample the first instants of each
  // root (request start-up code) whenever roots open and close constantly.
  const origin = performance.now();
  const gridAfter = (t: number): number => origin + (Math.floor((t - origin) / interval) + 1) * interval;

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
      next += interval;
      if (next <= now) next = gridAfter(now);
      if (Atomics.load(state, ACTIVE) === 0) {
        if (now - lastActive < data.sleepAfterIdleMillis) continue;
        // A turn of the event loop before a long sleep, for its housekeeping.
        await drain();
        Atomics.store(state, SLEEPING, 1);
        // Checked after publishing SLEEPING: the main thread notifies ACTIVE on a 0 -> 1 edge
        // only when it finds SLEEPING set, so an edge is either seen here or notified.
        while (Atomics.load(state, ACTIVE) === 0 && Atomics.load(state, STOP) === 0) Atomics.wait(state, ACTIVE, 0);
        Atomics.store(state, SLEEPING, 0);
        lastActive = performance.now();
        next = gridAfter(lastActive);
        continue;
      }
      lastActive = now;
      Atomics.add(state, TICKS, 1);
      if (mainThreadSleeps()) {
        Atomics.add(state, OFF_CPU, 1);
      } else if (inFlight() < data.maxInFlight) {
        Atomics.add(state, POSTED, 1);
        session.post('Runtime.evaluate', params);
        if (++sinceRenew >= renewEvery) {
          sinceRenew = 0;
          // Probes already posted still run: the old session goes after them, in order.
          Atomics.add(state, EPOCH, 1);
          session.disconnect();
          session = connect();
        }
      } else {
        Atomics.add(state, SKIPPED, 1);
      }
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
