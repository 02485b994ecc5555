import type { Span } from '@opentelemetry/api';
import type { ProfileStack } from '../profile/span-profile';

/** The engines there are; `engine: 'auto'` picks one of them (see select-engine.ts). */
export type EngineName = 'native' | 'probe';
/** The `engine` option: an engine, or `'auto'` (native where it loads and can label samples, else the probe). */
export type EngineChoice = 'auto' | EngineName;

/**
 * Where an engine delivers its samples. Both engines deliver the same thing, each in its own
 * way: the probe one sample at a time, synchronously, inside the interrupted code; the native
 * engine in batches, at each rotation of V8's profiler, from the labels it stamped on them.
 * A later continuous mode (one process-wide profile a period, samples without a span included)
 * sits on the same calls: it keeps the samples whose `span` is undefined instead of counting them.
 */
export interface SampleSink {
  /**
   * One sample.
   * @param hrNano when it was taken (monotonic ns, see clock.ts)
   * @param cpuNanos the main thread's CPU time since the previous sample, 0 where not measured
   * @param span the innermost span active when it was taken, undefined for none
   * @param stack returns its stack, leaf first. The probe captures the stack only when this is
   *   called (the capture is most of a probe's cost): call it only for a sample that is kept, and
   *   only during this call.
   */
  sample(hrNano: number, cpuNanos: number, span: Span | undefined, stack: () => ProfileStack): void;
  /**
   * Every sample taken up to `hrNano` has now been delivered. Batched engines call it after
   * each batch (a root that ended before `hrNano` can be finished); live engines never need to.
   */
  delivered(hrNano: number): void;
}

/**
 * What the processor sees of a sampling engine: it never names one. An engine samples the main
 * thread while acquisitions outnumber releases (and, where it has a start-up cost, for a while
 * after), and owns its stack capture and its stats.
 */
export interface SamplingEngine {
  /** Which engine this is. */
  readonly name: EngineName;
  /**
   * False when the environment refused what sampling needs (e.g. a processor created inside a
   * worker thread): the processor then profiles nothing.
   */
  readonly enabled: boolean;
  /**
   * True when samples are delivered as they are taken (the probe); false when they come in
   * batches (native), so that a root that ended must wait for {@link SampleSink.delivered}.
   */
  readonly live: boolean;
  /** One more reason to sample: sampling runs while acquisitions outnumber releases. */
  acquire(): void;
  /** Undo one {@link acquire}. */
  release(): void;
  /**
   * Delivers every sample taken until now, then calls {@link SampleSink.delivered} (the native
   * engine waits until V8 has processed them, a few sampling intervals, then rotates). Resolves
   * at once for a live engine. Never rejects.
   */
  collect(): Promise<void>;
  /**
   * Whether a sample may have been taken since `mark` (a value of {@link sampleMark}): false
   * means surely none was. Lets a batched engine tell, when a root ends, that it got no sample.
   */
  sampledSince(mark: number): boolean;
  /** An opaque mark for {@link sampledSince}: the count of samples taken so far. */
  sampleMark(): number;
  /** Mean interval between samples while sampling ran, in nanoseconds. */
  readonly measuredIntervalNanos: number;
  readonly stats: EngineStats;
  /** Stops sampling for good and releases what the engine holds (worker, session, V8's profiler). */
  shutdown(): Promise<void>;
}

/**
 * Counters of an engine since it was created, under `processor.stats.engine`. Plain numbers,
 * strings and booleans: `JSON.stringify` works. docs/stats.md describes each field.
 */
export interface EngineStats {
  /** The engine in use. */
  readonly name: EngineName;
  /** Why this engine is in use (the `engine` option, or why the native engine could not serve). */
  readonly reason: string;
  /** Samples the engine took: probes that ran, or native samples (counted live, delivered at the next rotation). */
  readonly samplesTaken: number;
  /** Whether sampling runs now. */
  readonly active: boolean;
  /** Nanoseconds during which sampling ran. */
  readonly activeNanos: number;
  /** Whether samples carry the main thread's measured CPU time. */
  readonly cpuTimeMeasured: boolean;
  /** The sampling rate in use now, in hertz. */
  readonly tickRateHz: number;
  /** The engine's measured share of the main thread's time, in percent; null before the first measurement. */
  readonly overheadPercent: number | null;
  /** Estimated main-thread CPU per sample, in microseconds; null before the first estimate. */
  readonly sampleCostMicros: number | null;
  /** Exceptions thrown by the sample handler (the processor's code) inside the engine, counted and swallowed. */
  readonly handlerErrors: number;
  /** Probe engine: ticks that sent no probe because the previous one had not run yet. 0 on native. */
  readonly skippedTicks: number;
  /** Probe engine: ticks that took no sample because the main thread was asleep. Linux only; 0 on native. */
  readonly offCpuTicks: number;
  /** Probe engine: ticks that took no sample because the main thread got (almost) no CPU. Linux only; 0 on native. */
  readonly noCpuTicks: number;
  /** Native engine: times V8's profiler was started (each start pauses the main thread; see {@link startPauseMillis}). 0 on the probe. */
  readonly starts: number;
  /** Native engine: the main-thread pause of the last start of V8's profiler, in milliseconds; null before the first. */
  readonly startPauseMillis: number | null;
  /** Native engine: rotations (a profile read and a new one begun). 0 on the probe. */
  readonly rotations: number;
  /** Native engine: main-thread milliseconds of the rotations and their sample conversion, in total. 0 on the probe. */
  readonly rotationMillis: number;
}
