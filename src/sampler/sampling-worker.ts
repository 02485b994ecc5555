import type { SamplingWorkerData } from './worker-protocol';

/**
 * The sampling thread. It is started from this function's source text (`eval: true`) so that
 * bundlers cannot lose a separate worker file: it must not use anything from the module scope.
 *
 * One async loop, one pending timer: sampling that stops and restarts within a period cannot
 * start a second ticker (a prototype of this design ran away to 19x its rate that way).
 */
export function samplingWorkerMain(): void {
  /* eslint-disable @typescript-eslint/no-var-requires */
  const { workerData } = require('node:worker_threads') as typeof import('node:worker_threads');
  const inspector = require('node:inspector') as typeof import('node:inspector');
  const { performance } = require('node:perf_hooks') as typeof import('node:perf_hooks');
  const data = workerData as SamplingWorkerData;
  const state = new Int32Array(data.state);
  const { ACTIVE, STOP, POSTED, SKIPPED } = data.slots;
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

  // Ticks sit on a fixed grid. After an idle stretch the next probe waits for the next grid
  // point instead of firing at once: firing on every wake-up would over-sample the first
  // instants of each root (request start-up code) whenever roots open and close constantly.
  const origin = performance.now();
  const gridAfter = (t: number): number => origin + (Math.floor((t - origin) / interval) + 1) * interval;

  async function loop(): Promise<void> {
    let next = gridAfter(performance.now());
    while (Atomics.load(state, STOP) === 0) {
      if (Atomics.load(state, ACTIVE) === 0) {
        const wait = Atomics.waitAsync(state, ACTIVE, 0);
        if (wait.async) await wait.value;
        next = Math.max(next, gridAfter(performance.now()));
        continue;
      }
      const now = performance.now();
      if (now < next) {
        await sleep(next - now);
        continue;
      }
      if (inFlight < data.maxInFlight) {
        inFlight++;
        session.post('Runtime.evaluate', params, onReply);
        Atomics.add(state, POSTED, 1);
      } else {
        Atomics.add(state, SKIPPED, 1);
      }
      // Stay on the grid, but never burst to catch up after the worker itself stalled.
      next += interval;
      if (next <= now) next = gridAfter(now);
    }
    session.disconnect();
  }
  void loop();
}
