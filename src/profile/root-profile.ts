import type { Span } from '@opentelemetry/api';
import { hrToUnixNano } from '../clock';
import type { ProfileResource, ProfileSample, ProfileStack, SpanProfile } from './span-profile';

/**
 * The open state of one profiled local root: its window and the samples charged to it.
 * Most roots at high request rates see no sample at all, so the sample arrays are created
 * on the first one and a root without samples never becomes a profile.
 */
export class RootProfile {
  readonly traceId: string;
  readonly spanId: string;
  /** False once finished: no sample is charged to it after that. */
  open = true;
  /**
   * Where its window ends (monotonic ns): Infinity while the root runs. Set when it ends or is
   * truncated; with an engine that delivers samples in batches, it accepts samples up to this
   * time until the batch that covers it has arrived.
   */
  endHrNano = Infinity;
  /** Whether its window ended by the duration cap or at shutdown. */
  truncated = false;
  /** Samples refused by the per-profile cap. */
  droppedSamples = 0;
  // Created at the first sample: most roots never get one.
  private _times: number[] | undefined;
  private _cpuNanos: number[] | undefined;
  private _stacks: ProfileStack[] | undefined;
  private _spanIds: string[] | undefined;

  /**
   * @param sampleMark the engine's sample count when the root started: if it has not moved by the
   *   end, the root surely got no sample
   */
  constructor(
    readonly span: Span,
    readonly resource: ProfileResource,
    readonly startHrNano: number,
    readonly sampleMark = 0,
  ) {
    const sc = span.spanContext();
    this.traceId = sc.traceId;
    this.spanId = sc.spanId;
  }

  get sampleCount(): number {
    return this._times === undefined ? 0 : this._times.length;
  }

  /** @param cpuNanos the main thread's CPU time this sample stands for, 0 where not measured */
  add(hrNano: number, cpuNanos: number, stack: ProfileStack, spanId: string): void {
    (this._times ??= []).push(hrNano);
    (this._cpuNanos ??= []).push(cpuNanos);
    (this._stacks ??= []).push(stack);
    (this._spanIds ??= []).push(spanId);
  }

  /**
   * Closes the root. Returns its profile, or undefined when it has no samples.
   * @param periodNanos the sampler's measured interval
   */
  finish(endHrNano: number, periodNanos: number, truncated: boolean): SpanProfile | undefined {
    this.open = false;
    const times = this._times;
    const stacks = this._stacks;
    const spanIds = this._spanIds;
    const cpu = this._cpuNanos;
    if (times === undefined || stacks === undefined || spanIds === undefined || cpu === undefined) return undefined;
    const samples: ProfileSample[] = new Array(times.length);
    for (let i = 0; i < times.length; i++) {
      samples[i] = { timeUnixNano: hrToUnixNano(times[i]), stack: stacks[i], spanId: spanIds[i], cpuNanos: cpu[i] };
    }
    this._times = this._stacks = this._spanIds = this._cpuNanos = undefined;
    return {
      traceId: this.traceId,
      rootSpanId: this.spanId,
      rootSpanName: this._spanName(),
      resource: this.resource,
      startTimeUnixNano: hrToUnixNano(this.startHrNano),
      endTimeUnixNano: hrToUnixNano(endHrNano),
      periodNanos,
      samples,
      truncated,
      droppedSamples: this.droppedSamples,
    };
  }

  /**
   * Read at the end, not at the start: instrumentations rename spans once they know more (the
   * HTTP server span starts as "GET" and becomes "GET /route" after routing).
   */
  private _spanName(): string {
    const name = (this.span as { readonly name?: unknown }).name;
    return typeof name === 'string' ? name : '';
  }
}
