/*
 * The process page's data (issue 20 §4): the samples of continuous mode's process profiles, split
 * into those taken inside a profiled root's spans (they carry a Link, so a trace) and those taken
 * outside any span, with the functions that spent the CPU outside spans and the period flame graph.
 */
import { functionLabel, type FlatSample, type Frame, type ProfileInfo } from '../convert/profile-samples';
import { flameTree, type FlameNode } from './flame-tree';
import { sampleWindow } from './trace-view';

/** A function's CPU in the samples taken outside any span. */
export interface OutsideFunction {
  readonly name: string;
  readonly file: string;
  /** CPU of the samples whose leaf frame is this function. */
  readonly selfCpuNanos: number;
  readonly selfSamples: number;
  /** CPU of the samples with this function anywhere on the stack (once per stack, for recursion). */
  readonly totalCpuNanos: number;
}

/** What `GET /api/process` answers. */
export interface ProcessView {
  /** The service the view is narrowed to, or '' for every service. */
  readonly service: string;
  /** Every service with process samples in the viewer, sorted: the filter's choices. */
  readonly services: readonly string[];
  /** Process profiles (periods) the kept samples come from. */
  readonly periods: number;
  /** Decimal strings, ns since the epoch: the earliest period start and the latest period end ('0' when none). */
  readonly startUnixNano: string;
  readonly endUnixNano: string;
  readonly totalCpuNanos: number;
  readonly totalSamples: number;
  /** Samples with a Link: taken while a span of a profiled root was active. */
  readonly inSpansCpuNanos: number;
  readonly inSpansSamples: number;
  readonly outsideSpansCpuNanos: number;
  readonly outsideSpansSamples: number;
  /** inSpansCpuNanos as a percentage of totalCpuNanos (0 when there is no CPU). */
  readonly inSpansPercent: number;
  /** The functions outside any span, by self CPU, most first. */
  readonly topOutsideSpans: readonly OutsideFunction[];
  /** Every process sample (inside and outside spans) merged into one call tree. */
  readonly flame: FlameNode;
}

/** Options of {@link processView}. */
export interface ProcessViewOptions {
  /** Only this service's samples; '' or unset for all. */
  readonly service?: string;
  /** Rows of topOutsideSpans. Default 20. */
  readonly top?: number;
}

const DEFAULT_TOP = 20;

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** The process view of `samples` (process profiles' samples, any order). */
export function processView(frames: readonly Frame[], samples: readonly FlatSample[], options: ProcessViewOptions = {}): ProcessView {
  const service = options.service ?? '';
  const services = [...new Set(samples.map((s) => s.serviceName))].sort();
  const chosen = service === '' ? samples : samples.filter((s) => s.serviceName === service);
  const inside = chosen.filter((s) => s.traceId !== '');
  const outside = chosen.filter((s) => s.traceId === '');
  const window = periodWindow(chosen);
  const inCpu = sumCpu(inside);
  const outCpu = sumCpu(outside);
  const total = inCpu + outCpu;
  return {
    service,
    services,
    periods: new Set(chosen.map((s) => s.profile)).size,
    startUnixNano: window.start.toString(),
    endUnixNano: window.end.toString(),
    totalCpuNanos: total,
    totalSamples: sumCount(inside) + sumCount(outside),
    inSpansCpuNanos: inCpu,
    inSpansSamples: sumCount(inside),
    outsideSpansCpuNanos: outCpu,
    outsideSpansSamples: sumCount(outside),
    inSpansPercent: total > 0 ? (100 * inCpu) / total : 0,
    topOutsideSpans: topFunctions(frames, outside).slice(0, options.top ?? DEFAULT_TOP),
    flame: flameTree(frames, chosen, 'process'),
  };
}

/** Self CPU by leaf frame and total CPU by any frame, per function (`name (file)`), most self CPU first. */
function topFunctions(frames: readonly Frame[], samples: readonly FlatSample[]): OutsideFunction[] {
  const byFn = new Map<string, Mutable<OutsideFunction>>();
  const entry = (frame: Frame): Mutable<OutsideFunction> => {
    const key = functionLabel(frame);
    let acc = byFn.get(key);
    if (acc === undefined)
      byFn.set(key, (acc = { name: frame.name || '(anonymous)', file: frame.file, selfCpuNanos: 0, selfSamples: 0, totalCpuNanos: 0 }));
    return acc;
  };
  for (const sample of samples) {
    const onStack = new Set<string>();
    for (const frameId of sample.stack) {
      const frame = frames[frameId];
      const key = functionLabel(frame);
      if (onStack.has(key)) continue;
      onStack.add(key);
      entry(frame).totalCpuNanos += sample.cpuNanos;
    }
    const leaf = entry(frames[sample.stack[sample.stack.length - 1]]);
    leaf.selfCpuNanos += sample.cpuNanos;
    leaf.selfSamples += sample.count;
  }
  return [...byFn.values()]
    .filter((f) => f.selfCpuNanos > 0 || f.selfSamples > 0)
    .sort((a, b) => b.selfCpuNanos - a.selfCpuNanos || b.selfSamples - a.selfSamples);
}

/**
 * The periods' extent: each profile's own window (time, time + duration), which covers idle time
 * the samples do not, widened to the samples' instants for profiles that state no window.
 */
function periodWindow(samples: readonly FlatSample[]): { start: bigint; end: bigint } {
  const profiles = new Set<ProfileInfo>(samples.map((s) => s.profile));
  let start: bigint | undefined;
  let end: bigint | undefined;
  const widen = (a: bigint, b: bigint): void => {
    if (a <= 0n) return;
    if (start === undefined || a < start) start = a;
    if (end === undefined || b > end) end = b;
  };
  for (const profile of profiles) widen(profile.timeUnixNano, profile.timeUnixNano + profile.durationNanos);
  const instants = sampleWindow(samples);
  widen(instants.start, instants.end);
  return { start: start ?? 0n, end: end ?? 0n };
}

function sumCpu(samples: readonly FlatSample[]): number {
  return samples.reduce((sum, s) => sum + s.cpuNanos, 0);
}

function sumCount(samples: readonly FlatSample[]): number {
  return samples.reduce((sum, s) => sum + s.count, 0);
}
