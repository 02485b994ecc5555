import type { SamplingWorkerData } from './worker-protocol';

/**
 * The sampling thread. It is started from this function's source text (`eval: true`) so that
 * bundlers cannot lose a separate worker file: it must not use anything from the module scope.
 *
 * One async loop, one pending timer: sampling that stops and restarts within a period cannot
 * start a second ticker (a prototype of this design ran away to 19x its rate that way).
 */
export function samplingWorkerMain(): void {
  const { workerData, parentPort } = require('node:worker_threads') as typeof import('node:worker_threads');
  const inspector = require('node:inspector') as typeof import('node:inspector');
  const { performance } = require('node:perf_hooks') as typeof import('node:perf_hooks');
  const data = workerData as SamplingWorkerData;
  const state = new Int32Array(data.state);
  const { ACTIVE, STOP, POSTED, SKIPPED, SLEEPING, DISCONNECTED } = data.slots;
  const interval = data.intervalMillis;

  const session = new inspector.Session();
  session.connectToMainThread();
  // Small params, no preview, no result by value: the main thread serializes as little as possible.
  const params = { expression: data.expression, silent: true, returnByValue: false, generatePreview: false };
  let inFlight = 0;
  const onReply = (): void => {
    inFlight--;
  };
  const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
  // Wake-ups may arrive when no one sleeps (the main thread saw SLEEPING just before the worker
  // cleared it): they only resolve the current wait, if any.
  let wake: (() => void) | undefined;
  const disconnect = (): void => {
    if (Atomics.load(state, DISCONNECTED) === 1) return;
    session.disconnect();
    Atomics.store(state, DISCONNECTED, 1);
    Atomics.notify(state, DISCONNECTED);
  };
  parentPort!.on('message', () => {
    // At once on stop, not when the loop comes round: a main thread inside process.exit()
    // waits for this (see ProbeSampler), or Node prints "Waiting for the debugger to disconnect".
    if (Atomics.load(state, STOP) === 1) disconnect();
    wake?.();
    wake = undefined;
  });

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
        await sleep(next - now);
        continue;
      }
      // Stay on the grid, but never burst to catch up after the worker itself stalled.
      next += interval;
      if (next <= now) next = gridAfter(now);
      if (Atomics.load(state, ACTIVE) === 0) {
        if (now - lastActive < data.sleepAfterIdleMillis) continue;
        Atomics.store(state, SLEEPING, 1);
        // Checked after publishing SLEEPING, so an edge is either seen here or posted as a message.
        if (Atomics.load(state, ACTIVE) === 0 && Atomics.load(state, STOP) === 0) {
          await new Promise<void>((resolve) => (wake = resolve));
        }
        Atomics.store(state, SLEEPING, 0);
        lastActive = performance.now();
        next = gridAfter(lastActive);
        continue;
      }
      lastActive = now;
      if (inFlight < data.maxInFlight) {
        inFlight++;
        session.post('Runtime.evaluate', params, onReply);
        Atomics.add(state, POSTED, 1);
      } else {
        Atomics.add(state, SKIPPED, 1);
      }
    }
    disconnect();
    parentPort!.close();
  }
  void loop();
}
