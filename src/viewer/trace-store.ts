/*
 * What the viewer knows: the last `maxTraces` traces, each with the spans received for it and the
 * profile samples charged to it, and the last `maxProcessSamples` samples of continuous mode's
 * process profiles (with or without a trace: a sample with a trace is in both, one object). Memory
 * is bounded by the trace count, per-trace caps and the process sample cap (the oldest dropped
 * first), and the frame table by the frames the kept samples use.
 */
import { SampleSet, type FlatSample, type Frame } from '../convert/profile-samples';
import { selectSamples } from '../convert/select-samples';
import { spansOfRequest, type SpanRecord } from '../convert/trace-spans';
import { processView, type ProcessView, type ProcessViewOptions } from './process-view';
import { sampleWindow, spanViews, type SpanView } from './trace-view';

export type { SpanView } from './trace-view';
export type { OutsideFunction, ProcessView, ProcessViewOptions } from './process-view';

/** Options of {@link TraceStore}. */
export interface TraceStoreOptions {
  /** Traces kept; the oldest is dropped first. Default 1000. */
  readonly maxTraces?: number;
  /** Spans kept per trace. Default 10000. */
  readonly maxSpansPerTrace?: number;
  /** Samples kept per trace. Default 100000. */
  readonly maxSamplesPerTrace?: number;
  /** Samples of process profiles (continuous mode) kept for the process view; the oldest is dropped first. Default 200000. */
  readonly maxProcessSamples?: number;
}

const DEFAULT_MAX_TRACES = 1000;
const DEFAULT_MAX_SPANS_PER_TRACE = 10_000;
const DEFAULT_MAX_SAMPLES_PER_TRACE = 100_000;
const DEFAULT_MAX_PROCESS_SAMPLES = 200_000;
/** The frame table is first trimmed when it passes this many frames, then whenever it has doubled. */
const MIN_FRAMES_BEFORE_TRIM = 4096;

interface TraceEntry {
  readonly traceId: string;
  readonly spans: Map<string, SpanRecord>;
  readonly samples: FlatSample[];
}

/** One profiled local root: a row of the viewer's list. */
export interface ProfiledRoot {
  readonly traceId: string;
  readonly rootSpanId: string;
  readonly service: string;
  readonly name: string;
  /** Decimal string (ns since the epoch). */
  readonly startUnixNano: string;
  readonly durationNanos: number;
  readonly cpuNanos: number;
  readonly samples: number;
  /** True when the root span itself was received (not only its samples). */
  readonly hasSpan: boolean;
}

/** Counts of what the store took and dropped. */
export interface TraceStoreStats {
  traces: number;
  spansReceived: number;
  samplesReceived: number;
  tracesEvicted: number;
  samplesWithoutTrace: number;
  spansDropped: number;
  samplesDropped: number;
  /** Samples of process profiles received (also counted in samplesReceived). */
  processSamplesReceived: number;
  /** Process samples dropped from the process view by maxProcessSamples, oldest first. */
  processSamplesDropped: number;
}

/** Bounded in-memory store of traces and their profile samples. */
export class TraceStore {
  readonly maxTraces: number;
  readonly maxSpansPerTrace: number;
  readonly maxSamplesPerTrace: number;
  readonly maxProcessSamples: number;
  readonly stats: TraceStoreStats = {
    traces: 0,
    spansReceived: 0,
    samplesReceived: 0,
    tracesEvicted: 0,
    samplesWithoutTrace: 0,
    spansDropped: 0,
    samplesDropped: 0,
    processSamplesReceived: 0,
    processSamplesDropped: 0,
  };
  private _sampleSet = new SampleSet();
  private _trimFramesAt = MIN_FRAMES_BEFORE_TRIM;
  private readonly _traces = new Map<string, TraceEntry>();
  private readonly _traceOfSpan = new Map<string, string>();
  /** Oldest first. */
  private _processSamples: FlatSample[] = [];

  constructor(options: TraceStoreOptions = {}) {
    this.maxTraces = positiveInt('maxTraces', options.maxTraces, DEFAULT_MAX_TRACES);
    this.maxSpansPerTrace = positiveInt('maxSpansPerTrace', options.maxSpansPerTrace, DEFAULT_MAX_SPANS_PER_TRACE);
    this.maxSamplesPerTrace = positiveInt('maxSamplesPerTrace', options.maxSamplesPerTrace, DEFAULT_MAX_SAMPLES_PER_TRACE);
    this.maxProcessSamples = positiveInt('maxProcessSamples', options.maxProcessSamples, DEFAULT_MAX_PROCESS_SAMPLES);
  }

  /** Frames the samples' stacks index. */
  get frames(): readonly Frame[] {
    return this._sampleSet.frames;
  }

  /** False when some profile carried sample counts only (CPU then estimated from the period). */
  get cpuMeasured(): boolean {
    return this._sampleSet.cpuMeasured;
  }

  /** Adds an OTLP profiles request (JSON-shaped); throws OtlpContentError on bad content. */
  addProfiles(request: unknown): void {
    const added = this._sampleSet.samples.length;
    try {
      this._sampleSet.addRequest(request);
    } catch (err) {
      this._sampleSet.samples.length = added;
      throw err;
    }
    for (const sample of this._sampleSet.samples.splice(0)) {
      this.stats.samplesReceived++;
      if (sample.profile.continuous) this._addProcessSample(sample);
      if (sample.traceId === '') {
        this.stats.samplesWithoutTrace++;
        continue;
      }
      const entry = this._entry(sample.traceId);
      if (entry.samples.length >= this.maxSamplesPerTrace) {
        this.stats.samplesDropped++;
        continue;
      }
      entry.samples.push(sample);
      for (const id of [sample.spanId, sample.linkSpanId]) if (id) this._traceOfSpan.set(id, sample.traceId);
    }
    this._dropOldestProcessSamples();
    this._trimFrames();
  }

  /** Adds an OTLP traces request (JSON-shaped). */
  addTraces(request: unknown): void {
    for (const span of spansOfRequest(request)) {
      this.stats.spansReceived++;
      const entry = this._entry(span.traceId);
      if (entry.spans.size >= this.maxSpansPerTrace && !entry.spans.has(span.spanId)) {
        this.stats.spansDropped++;
        continue;
      }
      entry.spans.set(span.spanId, span);
      this._traceOfSpan.set(span.spanId, span.traceId);
    }
  }

  /** The trace a span belongs to, if known. */
  traceOfSpan(spanId: string): string | undefined {
    return this._traceOfSpan.get(spanId.toLowerCase());
  }

  /** Every profiled local root, newest first. */
  roots(): ProfiledRoot[] {
    const out: ProfiledRoot[] = [];
    for (const entry of this._traces.values()) {
      const byRoot = new Map<string, FlatSample[]>();
      for (const sample of entry.samples) {
        const root = this._localRoot(entry, sample.linkSpanId || sample.spanId);
        let list = byRoot.get(root);
        if (list === undefined) byRoot.set(root, (list = []));
        list.push(sample);
      }
      for (const [rootSpanId, samples] of byRoot) {
        const span = entry.spans.get(rootSpanId);
        const window = sampleWindow(samples);
        const start = span?.startUnixNano ?? window.start;
        const end = span?.endUnixNano ?? window.end;
        out.push({
          traceId: entry.traceId,
          rootSpanId,
          service: span?.serviceName || samples[0].serviceName,
          name: span?.name || samples.find((s) => s.rootSpanName)?.rootSpanName || '(unnamed root)',
          startUnixNano: start.toString(),
          durationNanos: Number(end - start),
          cpuNanos: samples.reduce((sum, s) => sum + s.cpuNanos, 0),
          samples: samples.reduce((sum, s) => sum + s.count, 0),
          hasSpan: span !== undefined,
        });
      }
    }
    return out.sort((a, b) =>
      BigInt(b.startUnixNano) > BigInt(a.startUnixNano) ? 1 : BigInt(b.startUnixNano) < BigInt(a.startUnixNano) ? -1 : 0,
    );
  }

  /** The spans of a trace with their CPU, parents before children; undefined when unknown. */
  trace(traceId: string): { traceId: string; spans: SpanView[] } | undefined {
    const entry = this._traces.get(traceId.toLowerCase());
    return entry === undefined ? undefined : { traceId: entry.traceId, spans: spanViews(entry.spans.values(), entry.samples) };
  }

  /** Samples of a span and its descendants (or its own only), undefined when the span is unknown. */
  spanSamples(spanId: string, selfOnly: boolean): FlatSample[] | undefined {
    const id = spanId.toLowerCase();
    const traceId = this._traceOfSpan.get(id);
    const entry = traceId === undefined ? undefined : this._traces.get(traceId);
    if (entry === undefined) return undefined;
    const descendants = new Set<string>();
    if (!selfOnly) {
      const children = new Map<string, string[]>();
      for (const span of entry.spans.values()) {
        const list = children.get(span.parentSpanId) ?? [];
        list.push(span.spanId);
        children.set(span.parentSpanId, list);
      }
      const queue = [id];
      while (queue.length > 0) {
        for (const child of children.get(queue.pop()!) ?? []) {
          if (!descendants.has(child)) {
            descendants.add(child);
            queue.push(child);
          }
        }
      }
    }
    return selectSamples(entry.samples, { spanId: id, selfOnly, descendantSpanIds: descendants });
  }

  /** The process view: CPU inside and outside spans, the top functions outside spans, the flame graph. */
  processView(options: ProcessViewOptions = {}): ProcessView {
    return processView(this.frames, this._processSamples, options);
  }

  /** Samples of every trace whose local root has this name (the per-name aggregate). */
  samplesByRootName(name: string): FlatSample[] {
    const out: FlatSample[] = [];
    for (const root of this.roots()) {
      if (root.name !== name) continue;
      out.push(...(this.spanSamples(root.rootSpanId, false) ?? []));
    }
    return out;
  }

  private _addProcessSample(sample: FlatSample): void {
    this.stats.processSamplesReceived++;
    this._processSamples.push(sample);
  }

  /** Once per request rather than per sample: one copy of the kept samples instead of a shift each. */
  private _dropOldestProcessSamples(): void {
    const excess = this._processSamples.length - this.maxProcessSamples;
    if (excess <= 0) return;
    this._processSamples = this._processSamples.slice(excess);
    this.stats.processSamplesDropped += excess;
  }

  private _entry(traceId: string): TraceEntry {
    let entry = this._traces.get(traceId);
    if (entry === undefined) {
      entry = { traceId, spans: new Map(), samples: [] };
      this._traces.set(traceId, entry);
      this.stats.traces++;
      while (this._traces.size > this.maxTraces) this._evictOldest();
    }
    return entry;
  }

  private _evictOldest(): void {
    const [traceId, entry] = this._traces.entries().next().value as [string, TraceEntry];
    this._traces.delete(traceId);
    this.stats.tracesEvicted++;
    for (const spanId of entry.spans.keys()) if (this._traceOfSpan.get(spanId) === traceId) this._traceOfSpan.delete(spanId);
    for (const sample of entry.samples) {
      for (const id of [sample.spanId, sample.linkSpanId]) if (this._traceOfSpan.get(id) === traceId) this._traceOfSpan.delete(id);
    }
  }

  /**
   * Frames are interned across requests and outlive the traces that used them; once the table has
   * doubled since the last trim, it is rebuilt from the kept samples' stacks (renumbering them), so
   * its size follows the kept traces and process samples. Each trim costs one pass over the kept
   * samples; a sample kept both in its trace and for the process view stays one shared object.
   */
  private _trimFrames(): void {
    const frames = this._sampleSet.frames;
    if (frames.length <= this._trimFramesAt) return;
    const kept = new SampleSet();
    kept.cpuMeasured = this._sampleSet.cpuMeasured;
    const renumbered = new Map<FlatSample, FlatSample>();
    const renumber = (sample: FlatSample): FlatSample => {
      let copy = renumbered.get(sample);
      if (copy === undefined) {
        copy = { ...sample, stack: sample.stack.map((id) => kept.internFrame(frames[id])) };
        renumbered.set(sample, copy);
      }
      return copy;
    };
    for (const entry of this._traces.values()) {
      for (let i = 0; i < entry.samples.length; i++) entry.samples[i] = renumber(entry.samples[i]);
    }
    this._processSamples = this._processSamples.map(renumber);
    this._sampleSet = kept;
    this._trimFramesAt = Math.max(MIN_FRAMES_BEFORE_TRIM, 2 * kept.frames.length);
  }

  /** Walks up parents within one service: the local root of a span (the span itself if unknown). */
  private _localRoot(entry: TraceEntry, spanId: string): string {
    let current = entry.spans.get(spanId);
    if (current === undefined) return spanId;
    for (let depth = 0; depth < 1000; depth++) {
      const parent = entry.spans.get(current.parentSpanId);
      if (parent === undefined || parent.serviceName !== current.serviceName) return current.spanId;
      current = parent;
    }
    return current.spanId;
  }
}

function positiveInt(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 1)
    throw new RangeError(`TraceStore: ${name} must be a positive integer, got ${String(value)}`);
  return value;
}
