/*
 * The trace page's data: a trace's spans in waterfall order, each with the CPU its samples charge
 * to it and to its descendants. Spans that no trace reported stand in for their samples' span ids.
 */
import type { FlatSample } from '../convert/profile-samples';
import type { SpanRecord } from '../convert/trace-spans';

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

type MutableView = SpanView & { totalCpuNanos: number };

/** What a span's own samples add up to. */
interface SelfTotals {
  cpu: number;
  count: number;
  first: bigint;
  last: bigint;
  rootName: string;
  link: string;
}

/** The spans of one trace with their CPU, parents before children, siblings by start time. */
export function spanViews(spans: Iterable<SpanRecord>, samples: readonly FlatSample[]): SpanView[] {
  const self = selfTotals(samples);
  const views = new Map<string, MutableView>();
  for (const span of spans) {
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
  addInferredSpans(views, self, samples);
  // Totals: each span's self CPU added to itself and every ancestor.
  for (const view of views.values()) {
    let current: MutableView | undefined = view;
    const seen = new Set<string>();
    while (current !== undefined && !seen.has(current.spanId)) {
      seen.add(current.spanId);
      current.totalCpuNanos += view.selfCpuNanos;
      current = views.get(current.parentSpanId);
    }
  }
  return orderSpans([...views.values()]);
}

function selfTotals(samples: readonly FlatSample[]): Map<string, SelfTotals> {
  const self = new Map<string, SelfTotals>();
  for (const sample of samples) {
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
  return self;
}

/** Samples whose span never arrived: stand-in spans, under the sample's link span when that differs. */
function addInferredSpans(views: Map<string, MutableView>, self: Map<string, SelfTotals>, samples: readonly FlatSample[]): void {
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
  for (const linkId of new Set([...self.values()].map((acc) => acc.link))) {
    if (!linkId || views.has(linkId)) continue;
    const window = sampleWindow(samples.filter((s) => s.linkSpanId === linkId));
    const rootName = samples.find((s) => s.linkSpanId === linkId && s.rootSpanName)?.rootSpanName;
    views.set(linkId, {
      spanId: linkId,
      parentSpanId: '',
      name: rootName || `(span ${linkId})`,
      service: '',
      kind: 0,
      startUnixNano: window.start.toString(),
      endUnixNano: window.end.toString(),
      selfCpuNanos: 0,
      selfSamples: 0,
      totalCpuNanos: 0,
      attributes: {},
      inferred: true,
    });
  }
}

/** First sample instant and last instant plus its weight, in Unix nanoseconds (0n when none). */
export function sampleWindow(samples: readonly FlatSample[]): { start: bigint; end: bigint } {
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
  const byStart = (a: T, b: T): number =>
    BigInt(a.startUnixNano) < BigInt(b.startUnixNano) ? -1 : BigInt(a.startUnixNano) > BigInt(b.startUnixNano) ? 1 : 0;
  const out: T[] = [];
  const visit = (span: T): void => {
    out.push(span);
    for (const child of (children.get(span.spanId) ?? []).sort(byStart)) visit(child);
  };
  for (const root of roots.sort(byStart)) visit(root);
  return out;
}
