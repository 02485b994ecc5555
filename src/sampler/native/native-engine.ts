import { diag } from '@opentelemetry/api';
import { nowHrNano } from '../../clock';
import type { EngineStats, SampleSink, SamplingEngine } from '../engine';
import { ContextLabels } from './context-labels';
import { NativeSampleReader } from './native-samples';
import { describeError } from '../../shared/errors';
import type { NativeAddon, WallProfiler } from './pprof-addon';

const logger = diag.createComponentLogger({ namespace: 'otel-span-profiler/native-engine' });

/**
 * Process-wide claim on V8's profiler, shared by every copy of this library (`Symbol.for`): the
 * addon runs one profiler per process, and a second copy would otherwise learn that only from
 * a failed start. The value names the holder.
 */
const OWNER_KEY = Symbol.for('otel-span-profiler.native-engine.owner');
/**
 * How often the profile is rotated (read, and a new one begun) while sampling runs. A root's
 * profile waits for the rotation after its end: so it is exported within about this long. The
 * cost follows the samples a rotation reads more than the rotations (0.11-0.17% of the main
 * thread at 99 Hz with 1 s, 0.12-0.19% with 2 s, 0.21-0.24% with 5 s), but the pause grows with
 * the period: 1.1-1.5 ms each at 1 s, 2-6 ms at 2 s, 5-12 ms at 5 s (bench/RESULTS.md, Sixth pass).
 */
export const ROTATION_MILLIS = 1000;
/**
 * How long V8's profiler keeps running after the last profiled root closed. Starting it pauses
 * the main thread 15-80 ms (it logs all existing code), so it is not stopped between requests.
 */
export const LINGER_MILLIS = 30_000;

/** The least time a rotation waits for V8 to process the samples it covers (see collect). */
const MIN_LAG_MILLIS = 20;

/** Options of {@link NativeEngine}; the processor resolves and validates them. */
export interface NativeEngineOptions {
  readonly frequencyHz: number;
  readonly maxStackDepth: number;
  /** Why this engine was chosen, for stats. */
  readonly reason: string;
  /** Start V8's profiler at once and keep it running (the start pause is paid at start-up). */
  readonly keepRunning: boolean;
  /** The main-thread cost of one sample, in microseconds (measured offline; for stats). */
  readonly sampleCostMicros: number;
  /** How long V8's profiler runs on after the last release; default {@link LINGER_MILLIS}. */
  readonly lingerMillis?: number;
}

/**
 * The native engine: V8's signal-based CPU profiler through `@datadog/pprof`'s addon, each
 * sample stamped with the active span (see context-labels.ts) and the main thread's CPU time.
 * Samples are read in batches, at each rotation, and delivered in time order to the sink.
 *
 * It starts at the first acquisition, keeps running while roots are open and for
 * {@link LINGER_MILLIS} after the last, and stops before the process exits. When V8's profiler
 * cannot start (another profiler owns it), `onStartFailure` is told once and the engine stays
 * off: the selector then moves to the probe.
 */
export class NativeEngine implements SamplingEngine {
  readonly name = 'native' as const;
  readonly live = false;
  private readonly _reader: NativeSampleReader;
  private readonly _intervalMicros: number;
  /** How far behind a rotation V8's profile is complete: samples wait up to an interval in V8's queue. */
  private readonly _lagMillis: number;
  private _profiler: WallProfiler | undefined;
  private _labels: ContextLabels | undefined;
  private _acquired = 0;
  private _shutdown = false;
  private _failed = false;
  private _rotationTimer: NodeJS.Timeout | undefined;
  private _lingerTimer: NodeJS.Timeout | undefined;
  private _activeSinceHr = 0;
  private _activeNanos = 0;
  private _samplesTaken = 0;
  private _takenBefore = 0;
  private _starts = 0;
  private _startPauseMillis: number | null = null;
  private _rotations = 0;
  private _rotationMillis = 0;
  private _handlerErrors = 0;
  private _cpuTimeMeasured = false;
  private readonly _owner = {};
  private readonly _onExit = (): void => this._stopProfiler(false);

  constructor(
    private readonly _addon: NativeAddon,
    private readonly _options: NativeEngineOptions,
    private readonly _sink: SampleSink,
    private readonly _onStartFailure: (reason: string) => void,
  ) {
    this._reader = new NativeSampleReader(_options.maxStackDepth);
    this._intervalMicros = Math.round(1e6 / _options.frequencyHz);
    this._lagMillis = Math.max(MIN_LAG_MILLIS, (3 * this._intervalMicros) / 1000);
  }

  /** Starts V8's profiler now, with no root open (`keepRunning`: the start pause is paid at start-up). */
  warmUp(): void {
    if (this._profiler === undefined && !this._shutdown && !this._failed) this._startProfiler();
  }

  get enabled(): boolean {
    return !this._failed;
  }

  get measuredIntervalNanos(): number {
    return this._intervalMicros * 1000;
  }

  acquire(): void {
    if (this._shutdown || this._failed) return;
    if (++this._acquired !== 1) {
      this._labels?.refresh();
      return;
    }
    this._activeSinceHr = nowHrNano();
    if (this._lingerTimer !== undefined) {
      clearTimeout(this._lingerTimer);
      this._lingerTimer = undefined;
    }
    if (this._profiler === undefined) this._startProfiler();
    else this._labels?.refresh();
  }

  release(): void {
    if (this._acquired === 0) return;
    if (--this._acquired !== 0) return;
    this._activeNanos += nowHrNano() - this._activeSinceHr;
    if (this._options.keepRunning || this._profiler === undefined) return;
    this._lingerTimer = setTimeout(() => {
      this._lingerTimer = undefined;
      if (this._acquired === 0 && !this._options.keepRunning) this._stopProfiler(true);
    }, this._options.lingerMillis ?? LINGER_MILLIS).unref();
  }

  async collect(): Promise<void> {
    if (this._profiler === undefined) return;
    const now = nowHrNano();
    // V8 adds a sample to the profile up to an interval after taking it: wait for the samples
    // taken until now, so the rotation holds them (a sample still queued at a rotation is lost).
    await new Promise((resolve) => setTimeout(resolve, this._lagMillis));
    if (this._profiler !== undefined) this._rotate(true, now);
  }

  sampleMark(): number {
    const profiler = this._profiler;
    return this._takenBefore + (profiler === undefined ? 0 : this._addon.sampleCount(profiler));
  }

  sampledSince(mark: number): boolean {
    return this.sampleMark() !== mark;
  }

  get stats(): EngineStats {
    let activeNanos = this._activeNanos;
    if (this._acquired > 0) activeNanos += nowHrNano() - this._activeSinceHr;
    return {
      name: this.name,
      reason: this._options.reason,
      // Live: samples V8 took so far, delivered or still held until the next rotation.
      samplesTaken: this.sampleMark(),
      active: this._profiler !== undefined,
      activeNanos,
      cpuTimeMeasured: this._cpuTimeMeasured,
      tickRateHz: 1e6 / this._intervalMicros,
      // Estimates from the measured cost per sample: the engine cannot time the signal handler.
      overheadPercent: this._starts > 0 ? this._options.sampleCostMicros * 1e-4 * (1e6 / this._intervalMicros) : null,
      sampleCostMicros: this._starts > 0 ? this._options.sampleCostMicros : null,
      handlerErrors: this._handlerErrors,
      skippedTicks: 0,
      offCpuTicks: 0,
      noCpuTicks: 0,
      starts: this._starts,
      startPauseMillis: this._startPauseMillis,
      rotations: this._rotations,
      rotationMillis: this._rotationMillis,
    };
  }

  async shutdown(): Promise<void> {
    if (this._shutdown) return;
    this._shutdown = true;
    if (this._lingerTimer !== undefined) clearTimeout(this._lingerTimer);
    this._lingerTimer = undefined;
    if (this._acquired > 0) {
      this._activeNanos += nowHrNano() - this._activeSinceHr;
      this._acquired = 0;
    }
    this._stopProfiler(true);
    this._labels?.uninstall();
  }

  private _startProfiler(): void {
    const owners = globalThis as Record<symbol, unknown>;
    if (owners[OWNER_KEY] !== undefined && owners[OWNER_KEY] !== this._owner) {
      this._fail("another ProfilingSpanProcessor (or another copy of otel-span-profiler) already runs V8's profiler in this process");
      return;
    }
    const started = performance.now();
    let profiler: WallProfiler | undefined;
    try {
      profiler = this._addon.createProfiler(this._intervalMicros);
      // Blocks while V8 logs all existing code: 15-80 ms, more in a big application.
      profiler.start();
    } catch (err) {
      try {
        profiler?.dispose();
      } catch {
        // Never started: nothing to release.
      }
      this._fail(`V8's profiler did not start (${describeError(err)}); another profiler, such as dd-trace's, may own it`);
      return;
    }
    owners[OWNER_KEY] = this._owner;
    this._starts++;
    this._startPauseMillis = performance.now() - started;
    this._profiler = profiler;
    // Labels go to this profiler: a restart after the linger has a new one.
    this._labels?.uninstall();
    this._labels = new ContextLabels(profiler, this._addon.asyncContextFrame);
    this._labels.enable();
    this._rotationTimer = setInterval(() => this._rotate(true, nowHrNano() - this._lagMillis * 1e6), ROTATION_MILLIS).unref();
    // No sampling signal may land during the process's teardown.
    process.once('exit', this._onExit);
    logger.debug(`V8's profiler started in ${this._startPauseMillis.toFixed(1)} ms`);
  }

  /** Stops V8's profiler; with `deliver`, its last samples go to the sink first. */
  private _stopProfiler(deliver: boolean): void {
    const profiler = this._profiler;
    if (profiler === undefined) return;
    // A full stop drains V8's queue: every sample taken so far is in this last profile.
    if (deliver) this._rotate(false, Infinity);
    else {
      try {
        profiler.stop(false);
      } catch {
        // Already stopped.
      }
    }
    this._profiler = undefined;
    this._labels?.disable();
    try {
      profiler.dispose();
    } catch {
      // Nothing more to release.
    }
    if (this._rotationTimer !== undefined) clearInterval(this._rotationTimer);
    this._rotationTimer = undefined;
    process.removeListener('exit', this._onExit);
    const owners = globalThis as Record<symbol, unknown>;
    if (owners[OWNER_KEY] === this._owner) delete owners[OWNER_KEY];
  }

  /**
   * Reads the profile (and, with `restart`, begins the next), then delivers its samples and
   * tells the sink that all samples up to `completeHrNano` are in.
   */
  private _rotate(restart: boolean, completeHrNano: number): void {
    const profiler = this._profiler;
    if (profiler === undefined) return;
    const started = performance.now();
    let raw;
    try {
      const taken = this._addon.sampleCount(profiler);
      raw = profiler.stop(restart);
      this._takenBefore += taken;
    } catch (err) {
      logger.error(`V8's profiler failed to rotate; sampling stops (${describeError(err)})`);
      this._profiler = undefined;
      this._labels?.disable();
      return;
    }
    this._rotations++;
    if (raw.hasCpuTime === true) this._cpuTimeMeasured = true;
    const samples = this._reader.readSamples(raw);
    this._samplesTaken += samples.length;
    for (const s of samples) {
      try {
        this._sink.sample(s.hrNano, s.cpuNanos, s.span, () => s.stack);
      } catch {
        this._handlerErrors++;
      }
    }
    try {
      this._sink.delivered(completeHrNano);
    } catch {
      this._handlerErrors++;
    }
    this._rotationMillis += performance.now() - started;
  }

  private _fail(reason: string): void {
    this._failed = true;
    this._acquired = 0;
    this._onStartFailure(reason);
  }
}
