import { diag, trace, TraceFlags, type Context, type Span } from '@opentelemetry/api';
import { nowHrNano } from '../clock';
import { ProfileBatcher } from './profile-batcher';
import { resolveProcessorOptions, type ProfilingSpanProcessorOptions, type ResolvedProcessorOptions } from './processor-options';
import { NO_JS_FRAME_STACK } from '../otlp/dictionary';
import { RootProfile } from '../profile/root-profile';
import { SourceMapper } from '../source-maps/source-maps';
import type { ProfileResource } from '../profile/span-profile';
import type { ProfileStack } from '../profile/span-profile';
import type { SampleSink, SamplingEngine } from '../sampler/engine';
import { createEngine, type EngineSettings } from '../sampler/select-engine';
import { DropCounter } from './drop-counter';
import { ProfilerStats, type ProcessorStats } from './processor-stats';
import { PROFILE_ID_ATTRIBUTE } from '../otlp/attribute-names';
import { ContinuousMode } from './continuous-mode';

const logger = diag.createComponentLogger({ namespace: 'otel-span-profiler/processor' });

const EMPTY_RESOURCE: ProfileResource = Object.freeze({ attributes: Object.freeze({}) });
/** How often open profiles are checked against the duration cap. */
const SWEEP_INTERVAL_MILLIS = 1000;

/** The field of the SDK's Span that the processor reads at start; SDK 2.x and 3.x spans have it. */
interface SdkSpan extends Span {
  readonly resource?: ProfileResource;
}

/** Not part of the public API: lets tests give the processor an engine of their own. */
export interface ProcessorInternals {
  readonly createEngine?: (settings: EngineSettings, sink: SampleSink) => SamplingEngine;
}

/**
 * Profiles local root spans: while one is open, the main thread's JavaScript stack is sampled
 * (99 Hz by default) and each sample is charged to the span that was active at that instant.
 * When the root ends, its samples become a profile for the exporter. Register it next to your
 * span export processor:
 *
 * ```ts
 * new NodeSDK({ spanProcessors: [
 *   new BatchSpanProcessor(new OTLPTraceExporter()),
 *   new ProfilingSpanProcessor({ exporter: new OTLPProfileExporter() }),
 * ] }).start();
 * ```
 */
export class ProfilingSpanProcessor {
  private readonly _options: ResolvedProcessorOptions;
  private readonly _engine: SamplingEngine;
  private readonly _batcher: ProfileBatcher;
  private readonly _sourceMapper: SourceMapper | undefined;
  private readonly _stats: ProfilerStats;
  /** Continuous mode (the `mode` option), undefined in span mode. */
  private readonly _continuous: ContinuousMode | undefined;
  /**
   * The property that links every span of a profiled root's local subtree to its root. A
   * property rather than a WeakMap: a WeakMap entry per span doubled the processor's cost per
   * span (ephemeron work in every GC), and the link dies with the span either way. The symbol is
   * per processor, so two processors never read each other's roots.
   */
  private readonly _rootKey = Symbol('otel-span-profiler.root');
  /** Open roots in start order, so the duration sweep can stop at the first young one. */
  private readonly _open = new Set<RootProfile>();
  /**
   * The open root of each trace ID (the latest, if a trace has several local roots here), for
   * samples whose active span is a non-recording child: the processor never sees such a span
   * start, so it carries no link to its root.
   */
  private readonly _openByTrace = new Map<string, RootProfile>();
  /**
   * Roots whose window ended but whose samples may still be on their way (an engine that
   * delivers in batches): finished at the first batch that covers their end.
   */
  private readonly _ending = new Set<RootProfile>();
  /** The ending root of each trace ID, for samples of its non-recording children still to come. */
  private readonly _endingByTrace = new Map<string, RootProfile>();
  /** Roots closed by the duration cap with a profile, until they end and get pyroscope.profile.id. */
  private readonly _truncatedWithProfile = new WeakSet<RootProfile>();
  private readonly _maxDurationNanos: number;
  private _sweepTimer: NodeJS.Timeout | undefined;
  private _shutdown: Promise<void> | undefined;

  constructor(options: ProfilingSpanProcessorOptions, internals: ProcessorInternals = {}) {
    this._options = resolveProcessorOptions(options);
    const o = this._options;
    const drops = new DropCounter(logger, {
      maxOpenProfiles: `${o.maxOpenProfiles} profiled roots are open; more roots are not profiled`,
      maxSamplesPerProfile: `a profile reached ${o.maxSamplesPerProfile} samples; later samples are dropped`,
      maxQueueSize: `the export queue holds ${o.batch.maxQueueSize} profiles; later profiles are dropped`,
      maxQueuedSamples: `the export queue holds ${o.batch.maxQueuedSamples} samples; later profiles are dropped`,
      maxSamplesPerPeriod: `a continuous period reached ${o.maxSamplesPerPeriod} samples; later samples are dropped`,
      maxStacksPerPeriod: `a continuous period reached ${o.maxStacksPerPeriod} distinct stacks; samples with new stacks are dropped`,
    });
    this._stats = new ProfilerStats(drops);
    this._maxDurationNanos = this._options.maxProfileDurationMillis * 1e6;
    const settings: EngineSettings = {
      engine: o.engine,
      frequencyHz: o.samplingFrequencyHz,
      maxOverheadPercent: o.maxOverheadPercent,
      maxStackDepth: o.maxStackDepth,
      startEngineEagerly: o.startEngineEagerly,
    };
    const sink: SampleSink = {
      sample: (hrNano, cpuNanos, span, stack) => this._onSample(hrNano, cpuNanos, span, stack),
      delivered: (hrNano) => this._onDelivered(hrNano),
    };
    this._engine = (internals.createEngine ?? createEngine)(settings, sink);
    this._sourceMapper = this._options.sourceMaps ? new SourceMapper() : undefined;
    this._batcher = new ProfileBatcher(this._options.exporter, this._options.batch, drops, this._sourceMapper);
    if (o.mode === 'continuous' && this._engine.enabled) {
      const periods = { periodMillis: o.continuousPeriodMillis, maxSamples: o.maxSamplesPerPeriod, maxStacks: o.maxStacksPerPeriod };
      this._continuous = new ContinuousMode(
        periods,
        this._engine,
        (profile) => this._batcher.add({ ...profile, sampleLinks: o.linkSamplesTo }),
        drops,
        serviceResource(),
      );
      this._continuous.start();
    }
  }

  /** Counters since start: the engine, samples, roots, drops per reason, export queue, source maps. */
  get stats(): ProcessorStats {
    return this._stats.snapshot(
      this._engine.stats,
      this._open.size,
      this._batcher.stats,
      this._sourceMapper?.stats,
      this._continuous?.stats,
    );
  }

  onStart(span: Span, parentContext: Context): void {
    if (this._shutdown !== undefined || !this._engine.enabled) return;
    try {
      this._continuous?.noteResource((span as SdkSpan).resource);
      const parentSpan = trace.getSpan(parentContext);
      if (parentSpan !== undefined) {
        // A local child belongs to its parent's root, if that one is profiled: checked first,
        // as most spans are such children.
        let root = this._rootOfSpan(parentSpan);
        const parent = root === undefined ? parentSpan.spanContext() : undefined;
        if (parent !== undefined && !parent.isRemote && !parentSpan.isRecording()) {
          // A local non-recording parent (a sampler dropped it) was never linked: its trace's
          // open profiled root is the nearest one this span can belong to.
          root = this._openByTrace.get(parent.traceId);
        }
        if (root !== undefined) {
          this._link(span, root);
          return;
        }
        if (parent !== undefined && !parent.isRemote && trace.isSpanContextValid(parent)) return;
      }
      const sc = span.spanContext();
      if ((sc.traceFlags & TraceFlags.SAMPLED) === 0 || !this._rateAccepts(sc.traceId)) return;
      if (this._open.size >= this._options.maxOpenProfiles) {
        this._stats.drops.countAndLog('maxOpenProfiles');
        return;
      }
      const sdkSpan = span as SdkSpan;
      // Acquired first: the mark must count from an engine that runs.
      this._engine.acquire();
      const root = new RootProfile(span, sdkSpan.resource ?? EMPTY_RESOURCE, nowHrNano(), this._engine.sampleMark());
      this._link(span, root);
      this._open.add(root);
      this._openByTrace.set(root.traceId, root);
      this._stats.profiledRoots++;
      this._sweepTimer ??= setInterval(() => this._sweep(), SWEEP_INTERVAL_MILLIS).unref();
    } catch (err) {
      logger.error('onStart failed', err);
    }
  }

  /** Called by SDK 2.x and 3.x before the span is ended, while attributes can still be set. */
  onEnding(span: Span): void {
    this._end(span, true);
  }

  onEnd(span: unknown): void {
    this._end(span as Span, false);
  }

  /** Exports the profiles of roots that have ended (continuous mode: the period so far). Open roots stay open. */
  forceFlush(): Promise<void> {
    // Samples an engine holds back (native: until its next rotation) first, so ended roots finish.
    const collected = this._shutdown !== undefined ? Promise.resolve() : (this._continuous?.flush() ?? this._engine.collect());
    return collected.then(() => this._batcher.forceFlush()).catch((err: unknown) => logger.error('forceFlush failed', err));
  }

  /**
   * Stops sampling, releases the worker and the inspector session, closes open profiles
   * (marked truncated, so no sample already taken is lost) and exports everything. Runs once.
   */
  shutdown(): Promise<void> {
    this._shutdown ??= this._doShutdown().catch((err: unknown) => logger.error('shutdown failed', err));
    return this._shutdown;
  }

  private async _doShutdown(): Promise<void> {
    if (this._sweepTimer !== undefined) clearInterval(this._sweepTimer);
    this._continuous?.stop();
    const end = nowHrNano();
    for (const root of this._open) this._close(root, end, true);
    try {
      // Delivers what the engine still holds, then stops it.
      await this._engine.shutdown();
    } catch (err) {
      // The profiles already queued must still go out (issue 21 §4).
      logger.error('the sampling engine failed to shut down', err);
    }
    for (const root of this._ending) this._finish(root);
    this._continuous?.finishLastPeriod();
    await this._batcher.shutdown();
    await this._sourceMapper?.shutdown();
    this._stats.drops.logSummary();
  }

  private _end(span: Span, ending: boolean): void {
    try {
      const root = this._rootOfSpan(span);
      if (root === undefined || root.span !== span) return;
      let exported: boolean;
      if (root.open && root.endHrNano === Infinity) {
        // Decided from the finished profile where the engine is live: a probe may land anywhere up
        // to the close, even in this function, and the attribute must agree with what is exported.
        // A batched engine's samples come later: the root may have one if any was taken in its window.
        exported = this._close(root, nowHrNano(), false);
      } else {
        // Closed earlier by the duration cap: its profile went out then, and the root (often the
        // slowest request) still needs the attribute that finds it. Taken once: onEnd follows onEnding.
        // A batched engine's root may still be waiting for its samples: it may get a profile.
        exported = this._truncatedWithProfile.delete(root) || this._ending.has(root);
      }
      if (ending && exported && this._options.pyroscopeProfileIdAttribute) {
        span.setAttribute(PROFILE_ID_ATTRIBUTE, root.spanId);
      }
    } catch (err) {
      logger.error('onEnd failed', err);
    }
  }

  /**
   * Ends a root's window. A live engine's root is finished now; a batched engine's waits for the
   * batch that covers its end, unless no sample at all was taken since it started. Returns whether
   * it has (or may still get) a profile.
   */
  private _close(root: RootProfile, endHrNano: number, truncated: boolean): boolean {
    // First, so that a probe landing during the rest of the close cannot charge this root.
    root.endHrNano = endHrNano;
    root.truncated = truncated;
    this._open.delete(root);
    if (this._openByTrace.get(root.traceId) === root) this._openByTrace.delete(root.traceId);
    this._engine.release();
    if (this._engine.live || !this._engine.sampledSince(root.sampleMark)) return this._finish(root);
    this._ending.add(root);
    this._endingByTrace.set(root.traceId, root);
    return true;
  }

  /** Batched samples up to `hrNano` are in: the roots whose window ended by then are finished. */
  private _onDelivered(hrNano: number): void {
    for (const root of this._ending) {
      if (root.endHrNano <= hrNano) this._finish(root);
    }
    this._stats.drops.logPending();
  }

  /** Returns whether the root has a profile (continuous mode: whether a process profile links it). */
  private _finish(root: RootProfile): boolean {
    root.open = false;
    this._ending.delete(root);
    if (this._endingByTrace.get(root.traceId) === root) this._endingByTrace.delete(root.traceId);
    const truncated = root.truncated;
    // Continuous mode keeps no samples on the root: they went into the period under way.
    const finished =
      this._continuous === undefined ? root.finish(root.endHrNano, this._engine.measuredIntervalNanos, truncated) : undefined;
    if (truncated) this._stats.truncatedProfiles++;
    if (finished === undefined && !(this._continuous?.hasSamples(root) ?? false)) {
      this._stats.emptyRoots++;
      return false;
    }
    if (truncated) this._truncatedWithProfile.add(root);
    this._stats.profiles++;
    if (finished !== undefined) this._batcher.add({ ...finished, sampleLinks: this._options.linkSamplesTo });
    return true;
  }

  /**
   * Runs on the main thread inside the interrupted code: keep it lean, and never log or call
   * anything that may (a diag logger could be re-entered mid-write); drops are only counted
   * here and logged by the sweep.
   */
  private _onSample(hrNano: number, cpuNanos: number, span: Span | undefined, captureStack: () => ProfileStack): void {
    if (span === undefined) {
      this._stats.idleProbes++;
      this._continuous?.addUnlinked(hrNano, cpuNanos, captureStack, false);
      return;
    }
    let root = this._rootOfSpan(span);
    let unrecorded = false;
    if (root === undefined && !span.isRecording()) {
      // A non-recording child (a sampler dropped it): the processor never saw it start, and its
      // ID names no exported span, so the sample is the open profiled root's own CPU.
      const traceId = span.spanContext().traceId;
      root = this._openByTrace.get(traceId) ?? this._endingByTrace.get(traceId);
      unrecorded = true;
    }
    if (root === undefined || !root.open || hrNano > root.endHrNano || hrNano - root.startHrNano > this._maxDurationNanos) {
      // Past the duration cap, the sweep closes the root. Not here: this runs inside the application's code.
      this._stats.otherProbes++;
      this._continuous?.addUnlinked(hrNano, cpuNanos, captureStack, true);
      return;
    }
    const spanId = unrecorded ? root.spanId : span.spanContext().spanId;
    if (this._continuous !== undefined) {
      if (!this._continuous.addLinked(hrNano, cpuNanos, captureStack, root, spanId)) return;
      this._stats.samples++;
      if (unrecorded) this._stats.unrecordedSpanSamples++;
      return;
    }
    if (root.sampleCount >= this._options.maxSamplesPerProfile) {
      root.droppedSamples++;
      this._stats.drops.count('maxSamplesPerProfile');
      return;
    }
    const stack = captureStack();
    // No JavaScript frame under the probe while a span was active: the probe ran from the event
    // loop, the thread being in native code between callbacks (see NO_JS_FRAME_NAME).
    root.add(hrNano, cpuNanos, stack.length > 0 ? stack : NO_JS_FRAME_STACK, spanId);
    this._stats.samples++;
    if (unrecorded) this._stats.unrecordedSpanSamples++;
  }

  private _link(span: Span, root: RootProfile): void {
    try {
      (span as unknown as Record<symbol, RootProfile>)[this._rootKey] = root;
    } catch {
      // A frozen span (not the SDK's) cannot carry the link: its samples go uncharged.
    }
  }

  private _rootOfSpan(span: Span): RootProfile | undefined {
    return (span as unknown as Record<symbol, RootProfile | undefined>)[this._rootKey];
  }

  private _sweep(): void {
    // The probe only counts its drops; their first warning is written here, outside it.
    this._stats.drops.logPending();
    const now = nowHrNano();
    for (const root of this._open) {
      if (now - root.startHrNano <= this._maxDurationNanos) break;
      this._close(root, root.startHrNano + this._maxDurationNanos, true);
    }
  }

  private _rateAccepts(traceId: string): boolean {
    const rate = this._options.profilesSampleRate;
    if (rate >= 1) return true;
    if (rate <= 0) return false;
    // The low 52 bits of the trace ID are random (W3C Trace Context level 2) and fit a double exactly.
    return parseInt(traceId.slice(-13), 16) / 2 ** 52 < rate;
  }
}

/** The resource of process profiles until a span shows the SDK's: `service.name` from `OTEL_SERVICE_NAME`, if set. */
function serviceResource(): ProfileResource {
  const name = process.env.OTEL_SERVICE_NAME?.trim();
  return name ? { attributes: { 'service.name': name } } : EMPTY_RESOURCE;
}
