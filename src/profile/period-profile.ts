import { hrToUnixNano } from '../clock';
import type { RootProfile } from './root-profile';
import type { ProfileFrame, ProfileResource, ProfileSample, ProfileStack, SampleRoot, SpanProfile } from './span-profile';

/** The caps of one period; a sample past either is dropped, and the reason returned for counting. */
export interface PeriodCaps {
  /** Samples kept per period. */
  readonly maxSamples: number;
  /** Distinct stacks kept per period (a sample with a new stack past it is dropped). */
  readonly maxStacks: number;
}

/** Why {@link PeriodProfile.add} refused a sample, named after the processor option. */
export type PeriodDropReason = 'maxSamplesPerPeriod' | 'maxStacksPerPeriod';

/**
 * The samples of one period of continuous mode: every sample of the process, with the profiled
 * root it was charged to, if any. Bounded by {@link PeriodCaps}: equal stacks are kept once (by
 * content, so a batched engine's per-rotation copies share one array), and a period never holds
 * more than `maxSamples` samples nor `maxStacks` stacks.
 */
export class PeriodProfile {
  /** Samples refused by the caps in this period. */
  droppedSamples = 0;
  private readonly _times: number[] = [];
  private readonly _cpuNanos: number[] = [];
  private readonly _stacks: ProfileStack[] = [];
  private readonly _spanIds: string[] = [];
  private readonly _roots: (RootProfile | undefined)[] = [];
  /** Stacks seen this period, by identity: the engines intern, so most lookups end here. */
  private readonly _byIdentity = new Map<ProfileStack, ProfileStack>();
  /** The kept stacks by content: frame ids joined. */
  private readonly _byContent = new Map<string, ProfileStack>();
  private readonly _frameIds = new Map<ProfileFrame, number>();

  /** @param startHrNano where the period begins (monotonic ns) */
  constructor(
    readonly startHrNano: number,
    private readonly _caps: PeriodCaps,
  ) {}

  get sampleCount(): number {
    return this._times.length;
  }

  get stackCount(): number {
    return this._byContent.size;
  }

  /** Whether one more sample fits the sample cap; check it before capturing a stack (the probe's cost). */
  get full(): boolean {
    return this._times.length >= this._caps.maxSamples;
  }

  /**
   * Keeps one sample; returns the cap that refused it instead, if one did. Runs inside the probe:
   * never logs.
   * @param root the profiled root it is charged to (its Link), or undefined for none
   * @param spanId the active span's ID (16 hex chars), '' without a root
   */
  add(hrNano: number, cpuNanos: number, stack: ProfileStack, root: RootProfile | undefined, spanId: string): PeriodDropReason | undefined {
    if (this.full) {
      this.droppedSamples++;
      return 'maxSamplesPerPeriod';
    }
    let kept = this._byIdentity.get(stack);
    if (kept === undefined) {
      // Once the stack cap is reached, frames not seen yet are not given ids: a stack with one
      // cannot be a kept stack, and the frame table stays bounded by the kept stacks.
      const full = this._byContent.size >= this._caps.maxStacks;
      const key = this._contentKey(stack, !full);
      kept = key === undefined ? undefined : this._byContent.get(key);
      if (kept === undefined) {
        if (full) {
          this.droppedSamples++;
          return 'maxStacksPerPeriod';
        }
        kept = stack;
        this._byContent.set(key!, stack);
      }
      this._byIdentity.set(stack, kept);
    }
    this._times.push(hrNano);
    this._cpuNanos.push(cpuNanos);
    this._stacks.push(kept);
    this._spanIds.push(spanId);
    this._roots.push(root);
    return undefined;
  }

  /**
   * The period as a process profile ({@link SpanProfile} of kind `'process'`), or undefined when
   * it kept no sample and dropped none.
   * @param periodNanos the engine's measured interval between samples
   */
  finish(endHrNano: number, resource: ProfileResource, periodNanos: number): SpanProfile | undefined {
    const count = this._times.length;
    if (count === 0 && this.droppedSamples === 0) return undefined;
    const roots = new Map<RootProfile, SampleRoot>();
    const samples: ProfileSample[] = new Array(count);
    let start = this.startHrNano;
    for (let i = 0; i < count; i++) {
      const root = this._roots[i];
      let sampleRoot: SampleRoot | undefined;
      if (root !== undefined) {
        sampleRoot = roots.get(root);
        if (sampleRoot === undefined) {
          sampleRoot = Object.freeze({ traceId: root.traceId, spanId: root.spanId, name: spanName(root) });
          roots.set(root, sampleRoot);
        }
      }
      const time = this._times[i];
      // A batched engine delivers samples taken before the cut after it: they belong to the next period.
      if (time < start) start = time;
      const sample: ProfileSample = {
        timeUnixNano: hrToUnixNano(time),
        stack: this._stacks[i],
        spanId: this._spanIds[i],
        cpuNanos: this._cpuNanos[i],
      };
      samples[i] = sampleRoot === undefined ? sample : { ...sample, root: sampleRoot };
    }
    return {
      kind: 'process',
      traceId: '',
      rootSpanId: '',
      rootSpanName: '',
      resource,
      startTimeUnixNano: hrToUnixNano(start),
      endTimeUnixNano: hrToUnixNano(Math.max(endHrNano, start)),
      periodNanos,
      samples,
      truncated: false,
      droppedSamples: this.droppedSamples,
    };
  }

  /**
   * The frames' ids in this period, joined. Both engines intern frames, so equal stacks have
   * equal keys; where an engine's interner started over, a stack may count twice (never merge
   * with another one). Undefined when a frame has no id yet and `register` is false.
   */
  private _contentKey(stack: ProfileStack, register: boolean): string | undefined {
    let key = '';
    for (const frame of stack) {
      let id = this._frameIds.get(frame);
      if (id === undefined) {
        if (!register) return undefined;
        id = this._frameIds.size;
        this._frameIds.set(frame, id);
      }
      key += `${id},`;
    }
    return key;
  }
}

/** Read when the period ends, as RootProfile does at the root's end: instrumentations rename spans late. */
function spanName(root: RootProfile): string {
  const name = (root.span as { readonly name?: unknown }).name;
  return typeof name === 'string' ? name : '';
}
