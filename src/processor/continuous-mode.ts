import { diag } from '@opentelemetry/api';
import { nowHrNano } from '../clock';
import { NO_JS_FRAME_STACK } from '../otlp/dictionary';
import { PeriodProfile, type PeriodCaps } from '../profile/period-profile';
import type { RootProfile } from '../profile/root-profile';
import type { ProfileResource, ProfileStack, SpanProfile } from '../profile/span-profile';
import type { SamplingEngine } from '../sampler/engine';
import type { DropCounter } from './drop-counter';

const logger = diag.createComponentLogger({ namespace: 'otel-span-profiler/continuous' });

/** What {@link ContinuousMode} needs of the processor's options. */
export interface ContinuousSettings extends PeriodCaps {
  /** How long one period lasts: one process profile goes out per period. */
  readonly periodMillis: number;
}

/**
 * Counters of continuous mode, under `processor.stats.continuous` (absent in span mode).
 * docs/stats.md describes each field.
 */
export interface ContinuousStats {
  /** Process profiles handed to the export queue (one per period that had samples). */
  readonly periods: number;
  /** Samples kept in process profiles, with or without a Link. */
  readonly samples: number;
  /** Of {@link samples}, those charged to a profiled root (they carry its Link). */
  readonly linkedSamples: number;
  /** Samples left out as idle: no active span and no JavaScript frame (the thread waited for work). */
  readonly idleSamples: number;
  /** Samples in the period under way. */
  readonly periodSamples: number;
  /** Distinct stacks in the period under way. */
  readonly periodStacks: number;
}

/**
 * Continuous mode (docs/continuous.md): the engine samples from start to shutdown, and every
 * period the process's samples, those of profiled roots linked to them and the rest with no
 * Link, go to the export queue as one process profile. Internal: the processor owns one and
 * routes each sample here once it knows the sample's root.
 */
export class ContinuousMode {
  private _period: PeriodProfile;
  private _timer: NodeJS.Timeout | undefined;
  private _cutting: Promise<void> | undefined;
  private _stopped = false;
  private _resource: ProfileResource;
  /** Roots that got a sample: they are the ones given `pyroscope.profile.id`. */
  private readonly _rootsWithSamples = new WeakSet<RootProfile>();
  private _periods = 0;
  private _samples = 0;
  private _linkedSamples = 0;
  private _idleSamples = 0;

  /**
   * @param _emit takes each finished process profile (the export queue's `add`)
   * @param fallbackResource the resource until a span shows the SDK's own
   */
  constructor(
    private readonly _settings: ContinuousSettings,
    private readonly _engine: SamplingEngine,
    private readonly _emit: (profile: SpanProfile) => void,
    private readonly _drops: DropCounter,
    fallbackResource: ProfileResource,
  ) {
    this._resource = fallbackResource;
    this._period = new PeriodProfile(nowHrNano(), _settings);
  }

  /** Acquires the engine for good (until shutdown) and starts the period timer. */
  start(): void {
    this._engine.acquire();
    this._timer = setInterval(() => void this.flush(), this._settings.periodMillis).unref();
  }

  /** The resource of the process profiles: the SDK's, from the spans it creates. */
  noteResource(resource: ProfileResource | undefined): void {
    if (resource !== undefined) this._resource = resource;
  }

  get stats(): ContinuousStats {
    return {
      periods: this._periods,
      samples: this._samples,
      linkedSamples: this._linkedSamples,
      idleSamples: this._idleSamples,
      periodSamples: this._period.sampleCount,
      periodStacks: this._period.stackCount,
    };
  }

  /**
   * A sample charged to no profiled root: kept with no Link. Without an active span and with no
   * JavaScript frame, it is idle time (the event loop waiting), not reported. Runs inside the
   * probe: never logs.
   */
  addUnlinked(hrNano: number, cpuNanos: number, captureStack: () => ProfileStack, spanActive: boolean): void {
    if (this._refusedBeforeCapture()) return;
    const stack = captureStack();
    if (stack.length === 0 && !spanActive) {
      this._idleSamples++;
      return;
    }
    this._keep(hrNano, cpuNanos, stack, undefined, '');
  }

  /** A sample charged to `root` (its active span `spanId`): kept with the root's Link. Returns whether it was kept. */
  addLinked(hrNano: number, cpuNanos: number, captureStack: () => ProfileStack, root: RootProfile, spanId: string): boolean {
    if (this._refusedBeforeCapture()) return false;
    if (!this._keep(hrNano, cpuNanos, captureStack(), root, spanId)) return false;
    this._linkedSamples++;
    this._rootsWithSamples.add(root);
    return true;
  }

  /** Whether `root` got a sample in any period, i.e. whether a process profile links it. */
  hasSamples(root: RootProfile): boolean {
    return this._rootsWithSamples.has(root);
  }

  /**
   * Ends the period under way: collects what the engine holds (native: its next rotation), then
   * queues the period's profile. For the timer and forceFlush; never rejects. A cut already
   * under way is joined.
   */
  flush(): Promise<void> {
    if (this._stopped) return Promise.resolve();
    this._cutting ??= this._engine
      .collect()
      .then(() => {
        if (!this._stopped) this._cut();
      })
      .catch((err: unknown) => logger.error('a period could not be cut', err))
      .finally(() => (this._cutting = undefined));
    return this._cutting;
  }

  /**
   * Stops the timer and later flushes, at shutdown. Samples are still kept: the engine's
   * shutdown delivers its last ones before {@link finishLastPeriod}.
   */
  stop(): void {
    this._stopped = true;
    if (this._timer !== undefined) clearInterval(this._timer);
    this._timer = undefined;
  }

  /** Queues the last, partial period: at shutdown, after the engine delivered its last samples. */
  finishLastPeriod(): void {
    this._cut();
  }

  private _cut(): void {
    const end = nowHrNano();
    const period = this._period;
    this._period = new PeriodProfile(end, this._settings);
    const profile = period.finish(end, this._resource, this._engine.measuredIntervalNanos);
    this._drops.logPending();
    if (profile === undefined) return;
    this._periods++;
    this._emit(profile);
  }

  private _refusedBeforeCapture(): boolean {
    // Checked before the capture: the probe's capture is most of its cost.
    if (!this._period.full) return false;
    this._period.droppedSamples++;
    this._drops.count('maxSamplesPerPeriod');
    return true;
  }

  private _keep(hrNano: number, cpuNanos: number, stack: ProfileStack, root: RootProfile | undefined, spanId: string): boolean {
    const refused = this._period.add(hrNano, cpuNanos, stack.length > 0 ? stack : NO_JS_FRAME_STACK, root, spanId);
    if (refused !== undefined) {
      this._drops.count(refused);
      return false;
    }
    this._samples++;
    return true;
  }
}
