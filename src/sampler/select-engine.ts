import { diag } from '@opentelemetry/api';
import type { EngineChoice, EngineName, EngineStats, SampleSink, SamplingEngine } from './engine';
import { NativeEngine } from './native/native-engine';
import { loadNativeAddon } from './native/pprof-addon';
import { ProbeEngine } from './probe/probe-engine';

/**
 * The native engine's main-thread cost per sample, in microseconds: measured at 15-19 us (issue
 * 19, 2-core VM, 99 Hz), rounded up. `maxOverheadPercent` caps its rate from this figure.
 */
export const NATIVE_SAMPLE_COST_MICROS = 20;

const logger = diag.createComponentLogger({ namespace: 'otel-span-profiler/engine' });

/** What the processor passes to {@link createEngine}, resolved and checked. */
export interface EngineSettings {
  readonly engine: EngineChoice;
  readonly frequencyHz: number;
  readonly maxOverheadPercent: number;
  readonly maxStackDepth: number;
  /** Start the native engine with the processor and keep it running. */
  readonly startEngineEagerly: boolean;
}

/**
 * The engine for `settings.engine`: `'probe'` is the probe; `'native'` and `'auto'` are the
 * native engine where its addon loads and can label samples, else the probe. The choice and its
 * reason are logged once at info level, and are in `stats.engine`; where `'native'` was asked
 * for and cannot serve, one warning says why. Never throws.
 */
export function createEngine(settings: EngineSettings, sink: SampleSink): SamplingEngine {
  return new SelectedEngine(settings, sink);
}

/**
 * Holds the engine in use and moves to the probe if the native engine fails to start later
 * (V8's profiler owned by someone else at the first profiled root): acquisitions carry over.
 */
class SelectedEngine implements SamplingEngine {
  private _engine: SamplingEngine;
  private _acquired = 0;

  constructor(
    private readonly _settings: EngineSettings,
    private readonly _sink: SampleSink,
  ) {
    this._engine = this._choose();
    if (this._engine instanceof NativeEngine && _settings.startEngineEagerly) this._engine.warmUp();
  }

  get name(): EngineName {
    return this._engine.name;
  }
  get enabled(): boolean {
    return this._engine.enabled;
  }
  get live(): boolean {
    return this._engine.live;
  }
  get measuredIntervalNanos(): number {
    return this._engine.measuredIntervalNanos;
  }
  get stats(): EngineStats {
    return this._engine.stats;
  }

  acquire(): void {
    this._acquired++;
    this._engine.acquire();
  }
  release(): void {
    if (this._acquired === 0) return;
    this._acquired--;
    this._engine.release();
  }
  collect(): Promise<void> {
    return this._engine.collect();
  }
  sampleMark(): number {
    return this._engine.sampleMark();
  }
  sampledSince(mark: number): boolean {
    return this._engine.sampledSince(mark);
  }
  shutdown(): Promise<void> {
    return this._engine.shutdown();
  }

  private _choose(): SamplingEngine {
    const s = this._settings;
    if (s.engine === 'probe') return this._probe("the engine option is 'probe'");
    const load = loadNativeAddon();
    if ('error' in load) return this._fallBack(`the native engine cannot load: ${load.error}`);
    const reason = s.engine === 'native' ? "the engine option is 'native'" : 'the native engine loads and can label samples';
    logger.info(
      `engine: native (${reason}${load.addon.asyncContextFrame ? '; labels in the async context frame' : '; one label, rewritten at each callback'})`,
    );
    // The budget applies from the measured cost per sample: 1% allows 500 Hz.
    const budgetHz = Number.isFinite(s.maxOverheadPercent) ? (s.maxOverheadPercent / 100) * (1e6 / NATIVE_SAMPLE_COST_MICROS) : Infinity;
    const frequencyHz = Math.max(1, Math.min(s.frequencyHz, budgetHz));
    if (frequencyHz < s.frequencyHz) {
      logger.info(
        `native engine at ${frequencyHz.toFixed(1)} Hz (samplingFrequencyHz ${s.frequencyHz}): maxOverheadPercent ${s.maxOverheadPercent} at ~${NATIVE_SAMPLE_COST_MICROS} us a sample`,
      );
    }
    return new NativeEngine(
      load.addon,
      {
        frequencyHz,
        maxStackDepth: s.maxStackDepth,
        reason,
        keepRunning: s.startEngineEagerly,
        sampleCostMicros: NATIVE_SAMPLE_COST_MICROS,
      },
      this._sink,
      (why) => this._onNativeFailure(why),
    );
  }

  private _onNativeFailure(why: string): void {
    const failed = this._engine;
    this._engine = this._fallBack(`the native engine cannot start: ${why}`);
    void failed.shutdown().catch(() => undefined);
    for (let i = 0; i < this._acquired; i++) this._engine.acquire();
  }

  private _fallBack(reason: string): SamplingEngine {
    if (this._settings.engine === 'native') logger.warn(`engine 'native' asked for, using the probe engine instead: ${reason}`);
    return this._probe(reason);
  }

  private _probe(reason: string): SamplingEngine {
    logger.info(`engine: probe (${reason})`);
    const s = this._settings;
    return new ProbeEngine(
      { frequencyHz: s.frequencyHz, maxOverheadPercent: s.maxOverheadPercent, maxStackDepth: s.maxStackDepth, reason },
      this._sink,
    );
  }
}
