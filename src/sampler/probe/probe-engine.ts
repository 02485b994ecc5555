import { context, trace } from '@opentelemetry/api';
import type { ProfileStack } from '../../profile/span-profile';
import type { EngineStats, SampleSink, SamplingEngine } from '../engine';
import { ProbeSampler } from './probe-sampler';
import { StackCapturer } from './stack-capture';

/** Options of {@link ProbeEngine}; the processor resolves and validates them. */
export interface ProbeEngineOptions {
  readonly frequencyHz: number;
  /** The most of the main thread's time probes may take, in percent; Infinity for no cap. */
  readonly maxOverheadPercent: number;
  /** Frames kept per sample, from the leaf. */
  readonly maxStackDepth: number;
  /** Why this engine was chosen, for stats. */
  readonly reason: string;
}

/**
 * The probe engine (DESIGN.md, design A) behind the engine interface: each probe reads the
 * active span and hands the sink a stack that is captured only if the sink asks for it, so a
 * sample whose span belongs to no open profiled root costs no capture.
 */
export class ProbeEngine implements SamplingEngine {
  readonly name = 'probe' as const;
  readonly live = true;
  private readonly _sampler: ProbeSampler;
  private readonly _capturer: StackCapturer;
  private readonly _reason: string;
  /** Bound once: the sink calls it inside the probe, where the capture starts below the probe. */
  private readonly _capture = (): ProfileStack => this._capturer.capture(this._sampler.probe);

  constructor(options: ProbeEngineOptions, sink: SampleSink) {
    this._reason = options.reason;
    this._sampler = new ProbeSampler({
      frequencyHz: options.frequencyHz,
      maxOverheadPercent: options.maxOverheadPercent,
      handler: (hrNano, cpuNanos) => sink.sample(hrNano, cpuNanos, trace.getSpan(context.active()), this._capture),
    });
    this._capturer = new StackCapturer(options.maxStackDepth, this._sampler.probeUrl);
  }

  get enabled(): boolean {
    return this._sampler.enabled;
  }

  get measuredIntervalNanos(): number {
    return this._sampler.measuredIntervalNanos;
  }

  acquire(): void {
    this._sampler.acquire();
  }

  release(): void {
    this._sampler.release();
  }

  /** Samples are delivered as they are taken: nothing is held back. */
  collect(): Promise<void> {
    return Promise.resolve();
  }

  sampleMark(): number {
    return this._sampler.stats.probes;
  }

  sampledSince(mark: number): boolean {
    return this._sampler.stats.probes !== mark;
  }

  get stats(): EngineStats {
    const s = this._sampler.stats;
    return {
      name: this.name,
      reason: this._reason,
      samplesTaken: s.probes,
      active: s.active,
      activeNanos: s.activeNanos,
      cpuTimeMeasured: s.cpuTimeMeasured,
      tickRateHz: s.tickRateHz,
      overheadPercent: s.overheadPercent,
      sampleCostMicros: s.probeCostMicros,
      handlerErrors: s.handlerErrors,
      skippedTicks: s.skippedTicks,
      offCpuTicks: s.offCpuTicks,
      noCpuTicks: s.noCpuTicks,
      starts: 0,
      startPauseMillis: null,
      rotations: 0,
      rotationMillis: 0,
    };
  }

  shutdown(): Promise<void> {
    return this._sampler.shutdown();
  }
}
