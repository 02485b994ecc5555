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
  /** Ticks skipped because too many probes were still waiting for the main thread. */
  SKIPPED: 3,
  /**
   * 1 while the worker sleeps in Atomics.wait on ACTIVE (after an idle stretch). The main
   * thread swaps it to 0 on a 0 -> 1 edge of ACTIVE and then notifies ACTIVE, so a wake-up
   * costs an atomic operation only when the worker really sleeps.
   */
  SLEEPING: 4,
  /** Set to 1 by the worker once its inspector session is disconnected. */
  DISCONNECTED: 5,
  /** Ticks that posted no probe because the main thread was off the CPU (sleeping). */
  OFF_CPU: 6,
  /** Ticks while ACTIVE, probed or not: the main thread derives the real period from them. */
  TICKS: 7,
  /** Probes the main thread ran; POSTED minus RAN are waiting (both wrap at 2^31). */
  RAN: 8,
  /** Bumped by the worker when it renews its session: the main thread then drops its pending promise. */
  EPOCH: 9,
} as const;

export const SLOT_COUNT = 10;

/** What the worker gets at start. */
export interface SamplingWorkerData {
  readonly state: SharedArrayBuffer;
  readonly slots: typeof Slot;
  readonly intervalMillis: number;
  /** The expression the worker evaluates on the main thread: a call of the installed probe. */
  readonly expression: string;
  /** Probes allowed in flight before ticks are skipped (the main thread is stuck in native code or GC). */
  readonly maxInFlight: number;
  /** Idle time after which the worker stops ticking and sleeps until woken. */
  readonly sleepAfterIdleMillis: number;
  /** An open descriptor of the main thread's /proc stat file (Linux), read each tick to skip a sleeping thread; -1 where there is none. */
  readonly mainThreadStatFd: number;
}
