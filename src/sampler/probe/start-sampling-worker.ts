import { Worker } from 'node:worker_threads';
import { readCpuNanos } from './main-thread-files';
import { samplingWorkerSource } from './sampling-worker';
import { nextTickRateHz } from './tick-rate';
import { Slot, type SamplingWorkerData } from './worker-protocol';

/** The worker keeps ticking this long after the last root closed, then sleeps until woken. */
const SLEEP_AFTER_IDLE_MILLIS = 1000;
/**
 * A tick probes only if the main thread got at least this share of a tick interval of CPU
 * since the last probe. Below it the thread was waiting (for a core, or asleep between
 * ticks), and a probe would land in a thread that ran nothing worth a sample.
 */
const MIN_CPU_SHARE_PER_PROBE = 0.1;
/**
 * The inspector's cost per probe on the main thread, assumed until the sampler has measured
 * its own (and where it cannot: no /proc). Third-pass figures on a 2-vCPU VM were 100-140 us.
 */
const DEFAULT_DISPATCH_COST_NANOS = 150_000;

/** What {@link startSamplingWorker} needs of its {@link ProbeSampler}. */
export interface SamplingWorkerStart {
  readonly state: Int32Array;
  readonly lastProbe: Float64Array;
  readonly handlerNanos: Int32Array;
  readonly intervalMillis: number;
  readonly probeKey: symbol;
  readonly statFd: number;
  readonly schedstatFd: number;
  readonly maxOverheadPercent: number;
}

/** Starts the sampling thread (unref'ed) with its shared state; the caller listens for its errors. */
export function startSamplingWorker(start: SamplingWorkerStart): Worker {
  const budget = start.maxOverheadPercent;
  const workerData: SamplingWorkerData = {
    state: start.state.buffer as SharedArrayBuffer,
    slots: Slot,
    lastProbe: start.lastProbe.buffer as SharedArrayBuffer,
    handlerNanos: start.handlerNanos.buffer as SharedArrayBuffer,
    intervalMillis: start.intervalMillis,
    // Symbol.for() keys survive the trip to the main thread's global scope as text.
    expression: `globalThis[Symbol.for(${JSON.stringify(start.probeKey.description)})]()`,
    sleepAfterIdleMillis: SLEEP_AFTER_IDLE_MILLIS,
    mainThreadStatFd: start.statFd,
    mainThreadSchedstatFd: start.schedstatFd,
    initialCpuNanos: readCpuNanos(start.schedstatFd),
    maxOverheadFraction: Number.isFinite(budget) ? budget / 100 : Infinity,
    minCpuNanosPerProbe: MIN_CPU_SHARE_PER_PROBE * start.intervalMillis * 1e6,
    defaultDispatchCostNanos: DEFAULT_DISPATCH_COST_NANOS,
    nextTickRateSource: nextTickRateHz.toString(),
    debug: process.env.OTEL_SPAN_PROFILER_DEBUG_BUDGET === '1',
  };
  const worker = new Worker(samplingWorkerSource(), {
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
  return worker;
}
