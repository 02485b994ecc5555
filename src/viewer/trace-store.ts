/*
 * What the viewer knows: the last `maxTraces` traces, each with the spans received for it and the
 * profile samples charged to it. Memory is bounded by the trace count and per-trace caps; the
 * oldest trace is dropped first.
 */
import { SampleSet, type FlatSample, type Frame } from '../convert/profile-samples';
import { selectSamples } from '../convert/select-samples';
import { spansOfRequest, type SpanRecord } from '../convert/trace-spans';

/** Options of {@link TraceStore}. */
export interface TraceStoreOptions {
  /** Traces kept; the oldest is dropped first. Default 1000. */
  readonly maxTraces?: number;
  /** Spans kept per trace. Default 10000. */
  readonly maxSpansPerTrace?: number;
  /** Samples kept per trace. Default 100000. */
  readonly maxSamplesPerTrace?: number;
}

const DEFAULT_MAX_TRACES = 1000;
const DEFAULT_MAX_SPANS_PER_TRACE = 10_000;
const DEFAULT_MAX_SAMPLES_PER_TRACE = 100_000;

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

/** A span of the trace page, with the CPU the samples charge to it. */
export interface SpanView {
  readonly spanId: string;
  readonly parentSpanId: string;
  readonly name: string;
  readonly service: string;
  readonly kind: number;
  readonly startUnixNano: string;
  readonly endUnixNano: string;
  /** CPU of the span's own samples (not its children's). */
  readonly selfCpuNanos: number;
  readonly selfSamples: number;
  /** CPU of the span and its descendants. */
  readonly totalCpuNanos: number;
  readonly attributes: Readonly<Record<string, string>>;
  /** True when no span was received and this one stands in for the samples' span id. */
  readonly inferred: boolean;
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
}

/** Bounded in-memory store of traces and their profile samples. */
export class TraceStore {
  readonly maxTraces: number;
  readonly maxSpansPerTrace: number;
  readonly maxSamplesPerTrace: number;
  readonly stats: TraceStoreStats = { traces: 0, spansReceived: 0, samplesReceived: 0, tracesEvicted: 0, samplesWithoutTrace: 0, spansDropped: 0, samplesDropped: 0 };
  private readonly _sampleSet = new SampleSet();
  private readonly _traces = new Map<string, TraceEntry>();
  private readonly _traceOfSpan = new Map<string, string>();

  constructor(options: TraceStoreOptions = {}) {
    this.maxTraces = positiveInt('maxTraces', options.maxTraces, DEFAULT_MAX_TRACES);
    this.maxSpansPerTrace = positiveInt('maxSpansPerTrace', options.maxSpansPerTrace, DEFAULT_MAX_SPANS_PER_TRACE);
    this.maxSamplesPerTrace = positiveInt('maxSamplesPerTrace', options.maxSamplesPerTrace, DEFAULT_MAX_SAMPLES_PER_TRACE);
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
    return out.sort((a, b) => (BigInt(b.startUnixNano) > BigInt(a.startUnixNano) ? 1 : BigInt(b.startUnixNano) < BigInt(a.startUnixNano) ? -1 : 0));
  }

  /** The spans of a trace with their CPU, parents before children; undefined when unknown. */
  trace(traceId: string): { traceId: string; spans: SpanView[] } | undefined {
    const entry = this._traces.get(traceId.toLowerCase());
    if (entry === undefined) return undefined;
    const self = new Map<string, { cpu: number; count: number; first: bigint; last: bigint; rootName: string; link: string }>();
    for (const sample of entry.samples) {
      const id = sample.spanId || sample.linkSpanId;
      const window = sampleWindow([sample]);
      const acc = self.get(id) ?? { cpu: 0, count: 0, first: window.start, last: window.end, rootName: '', link: sample.linkSpanId };
      acc.cpu += sample.cpuNanos;
      acc.count += sample.count;
      if (window.start < acc.first) acc.first = window.start;
      if (window.end > acc.last) acc.last = window.end;
      if (id === sample.linkSpanId && sample.rootSpanName) acc.rootName = sample.rootSpanName;
      self.set(id, acc);
    }
    const views = new Map<string, SpanView & { selfCpuNanos: number; totalCpuNanos: number }>();
    for (const span of entry.spans.values()) {
      const acc = self.get(span.spanId);
      views.set(span.spanId, {
        spanId: span.spanId,
        parentSpanId: span.parentSpanId,
        name: span.name,
        service: span.serviceName,
        kind: span.kind,
        startUnixNano: span.startUnixNano.toString(),
        endUnixNano: span.endUnixNano.toString(),
        selfCpuNanos: acc?.cpu ?? 0,
        selfSamples: acc?.count ?? 0,
        totalCpuNanos: 0,
        attributes: span.attributes,
        inferred: false,
      });
    }
    // Samples whose span never arrived: stand-in spans, under the sample's link span when that differs.
    for (const [spanId, acc] of self) {
      if (views.has(spanId)) continue;
      views.set(spanId, {
        spanId,
        parentSpanId: acc.link !== spanId ? acc.link : '',
        name: acc.rootName || `(span ${spanId})`,
        service: '',
        kind: 0,
        startUnixNano: acc.first.toString(),
        endUnixNano: acc.last.toString(),
        selfCpuNanos: acc.cpu,
        selfSamples: acc.count,
        totalCpuNanos: 0,
        attributes: {},
        inferred: true,
      });
    }
    for (const [linkId] of new Map([...self].map(([, acc]) => [acc.link, true]))) {
      if (linkId && !views.has(linkId)) {
        const window = sampleWindow(entry.samples.filter((s) => s.linkSpanId === linkId));
        const rootName = entry.samples.find((s) => s.linkSpanId === linkId && s.rootSpanName)?.rootSpanName;
        views.set(linkId, {
          spanId: linkId, parentSpanId: '', name: rootName || `(span ${linkId})`, service: '', kind: 0,
          startUnixNano: window.start.toString(), endUnixNano: window.end.toString(),
          selfCpuNanos: 0, selfSamples: 0, totalCpuNanos: 0, attributes: {}, inferred: true,
        });
      }
    }
    // Totals: each span's self CPU added to itself and every ancestor.
    for (const view of views.values()) {
      let current: typeof view | undefined = view;
      const seen = new Set<string>();
      while (current !== undefined && !seen.has(current.spanId)) {
        seen.add(current.spanId);
        current.totalCpuNanos += view.selfCpuNanos;
        current = views.get(current.parentSpanId);
      }
    }
    return { traceId: entry.traceId, spans: orderSpans([...views.values()]) };
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

  /** Samples of every trace whose local root has this name (the per-name aggregate). */
  samplesByRootName(name: string): FlatSample[] {
    const out: FlatSample[] = [];
    for (const root of this.roots()) {
      if (root.name !== name) continue;
      out.push(...(this.spanSamples(root.rootSpanId, false) ?? []));
    }
    return out;
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

function sampleWindow(samples: readonly FlatSample[]): { start: bigint; end: bigint } {
  let start: bigint | undefined;
  let end: bigint | undefined;
  for (const sample of samples) {
    for (const ts of sample.timestampsUnixNano) {
      if (start === undefined || ts < start) start = ts;
      const tsEnd = ts + BigInt(Math.round(sample.weightsNanos[0] ?? 0));
      if (end === undefined || tsEnd > end) end = tsEnd;
    }
  }
  return { start: start ?? 0n, end: end ?? start ?? 0n };
}

/** Depth-first from the roots, children by start time: the waterfall's order. */
function orderSpans<T extends { spanId: string; parentSpanId: string; startUnixNano: string }>(spans: T[]): T[] {
  const ids = new Set(spans.map((s) => s.spanId));
  const children = new Map<string, T[]>();
  const roots: T[] = [];
  for (const span of spans) {
    if (span.parentSpanId && ids.has(span.parentSpanId)) {
      const list = children.get(span.parentSpanId) ?? [];
      list.push(span);
      children.set(span.parentSpanId, list);
    } else roots.push(span);
  }
  const byStart = (a: T, b: T): number => (BigInt(a.startUnixNano) < BigInt(b.startUnixNano) ? -1 : BigInt(a.startUnixNano) > BigInt(b.startUnixNano) ? 1 : 0);
  const out: T[] = [];
  const visit = (span: T): void => {
    out.push(span);
    for (const child of (children.get(span.spanId) ?? []).sort(byStart)) visit(child);
  };
  for (const root of roots.sort(byStart)) visit(root);
  return out;
}

function positiveInt(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 1) throw new RangeError(`TraceStore: ${name} must be a positive integer, got ${String(value)}`);
  return value;
}
