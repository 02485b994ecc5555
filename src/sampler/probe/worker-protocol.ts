/**
 * The shared state between the main thread and the sampling worker. A SharedArrayBuffer
 * rather than messages: acquire/release happen on every profiled root (hundreds per second)
 * and must cost no more than an atomic store, with a wake-up only on the 0 -> 1 edge.
 */
export const Slot = {
  /** 1 while at least one profiled root is open, else 0. Written by the main thread. */
  ACTIVE: 0,
  /** 1 once the sampler shuts down. Written by the main thread. */
  STOP: 1,
  /** Probes posted by the worker (wraps at 2^31). */
  POSTED: 2,
  /** Ticks that sent nothing because the previous probe had not run yet (one probe in flight at most). */
  SKIPPED: 3,
  /**
   * 1 while the worker sleeps in Atomics.wait on ACTIVE (after an idle stretch). The main
   * thread swaps it to 0 on a 0 -> 1 edge of ACTIVE and then notifies ACTIVE, so a wake-up
   * costs an atomic operation only when the worker really sleeps.
   */
  SLEEPING: 4,
  /** Set to 1 by the worker once its inspector session is disconnected. */
  DISCONNECTED: 5,
  /** Ticks that posted no probe because the main thread was asleep (waiting for I/O or timers, or blocked). */
  OFF_CPU: 6,
  /** Ticks while ACTIVE, probed or not: the main thread derives the real period from them. */
  TICKS: 7,
  /** Probes the main thread ran; POSTED minus RAN are waiting (both wrap at 2^31). */
  RAN: 8,
  /** Bumped by the worker when it renews its session: the main thread then drops its pending promise. */
  EPOCH: 9,
  /**
   * The main thread's CPU time not yet charged to a sample, in microseconds (Linux). The worker
   * adds what each tick measured while ACTIVE; the probe takes it all (exchange with 0).
   */
  CPU_PENDING_MICROS: 10,
  /** Ticks that posted no probe because the main thread got (almost) no CPU since the last probe: runnable but waiting for a core. */
  NO_CPU: 11,
  /** 1 while a calibration probe is in flight: it only signals CAL_DONE (and clears this), samples nothing. */
  CALIBRATING: 12,
  /** Set to 1 by a calibration probe (and notified). */
  CAL_DONE: 13,
  /** Unused (was the handler's summed time; see SamplingWorkerData.handlerNanos). */
  HANDLER_NANOS: 14,
  /** The tick rate in use now, in millihertz (the budget may lower it below the configured rate). */
  TICK_MILLIHZ: 15,
  /** Probes' share of the main thread's time in the last measured window, in parts per million; -1 before the first window. */
  OVERHEAD_PPM: 16,
  /** The estimated main-thread cost of one probe (inspector dispatch plus the probe's JavaScript), in nanoseconds; -1 before any estimate. */
  PROBE_COST_NANOS: 17,
  /** The calibrated cost of the inspector's dispatch of one probe (no JavaScript of ours), in nanoseconds; -1 until calibrated. */
  DISPATCH_COST_NANOS: 18,
} as const;

export const SLOT_COUNT = 19;
export const HANDLER_RING_SIZE = 64;

/** What the worker gets at start. */
export interface SamplingWorkerData {
  readonly state: SharedArrayBuffer;
  readonly slots: typeof Slot;
  /**
   * One float64: when the last probe ran, in Unix milliseconds (performance.timeOrigin + now(),
   * comparable across threads). A tick less than half an interval after it sends nothing.
   */
  readonly lastProbe: SharedArrayBuffer;
  /**
   * Int32 ring of HANDLER_RING_SIZE entries: how long each recent probe's JavaScript took, in
   * nanoseconds of wall time (0 = no entry yet). The worker uses the median: a mean would take in
   * the probes that were preempted or hit a GC, which on a shared core are many times the rest.
   */
  readonly handlerNanos: SharedArrayBuffer;
  /** The configured interval between ticks: the rate never goes above it. */
  readonly intervalMillis: number;
  /** The expression the worker evaluates on the main thread: a call of the installed probe. */
  readonly expression: string;
  /** Idle time after which the worker stops ticking and sleeps until woken. */
  readonly sleepAfterIdleMillis: number;
  /** An open descriptor of the main thread's /proc stat file (Linux), read each tick to skip a sleeping thread; -1 where there is none. */
  readonly mainThreadStatFd: number;
  /** An open descriptor of the main thread's /proc schedstat file (Linux): its on-CPU nanoseconds; -1 where there is none. */
  readonly mainThreadSchedstatFd: number;
  /** The main thread's schedstat CPU nanoseconds when sampling started (first acquisition); -1 where unknown. */
  readonly initialCpuNanos: number;
  /** The most of the main thread's time probes may take, as a fraction (0.01 = 1%); Infinity for no cap. */
  readonly maxOverheadFraction: number;
  /** A tick probes only if the main thread got at least this much CPU since the last probe (nanoseconds). */
  readonly minCpuNanosPerProbe: number;
  /** Prints the budget's figures to stderr each window (OTEL_SPAN_PROFILER_DEBUG_BUDGET=1, for benchmarks). */
  readonly debug: boolean;
  /** Source text of tick-rate.ts's nextTickRateHz (the worker has no module scope). */
  readonly nextTickRateSource: string;
  /** The dispatch cost assumed until (or where never) calibrated, nanoseconds. */
  readonly defaultDispatchCostNanos: number;
}
