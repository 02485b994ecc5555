/* Which samples a converter or the viewer keeps for a trace, span or root span name. */
import type { FlatSample } from './profile-samples';

/** Filters; an unset field keeps everything. */
export interface SampleFilter {
  /** 32 hex chars. */
  readonly traceId?: string;
  /**
   * 16 hex chars: samples of this span and of its descendants (samples whose link names it, which
   * for a local root is the whole request, plus the spans in `descendantSpanIds`).
   */
  readonly spanId?: string;
  /** Span ids under `spanId` known from traces (optional). */
  readonly descendantSpanIds?: ReadonlySet<string>;
  /** Only the span's own samples, not its descendants'. */
  readonly selfOnly?: boolean;
  /** The local root span's name (`span_name`), exact. */
  readonly rootName?: string;
}

export function selectSamples(samples: readonly FlatSample[], filter: SampleFilter): FlatSample[] {
  const traceId = filter.traceId?.toLowerCase();
  const spanId = filter.spanId?.toLowerCase();
  return samples.filter((sample) => {
    if (traceId !== undefined && sample.traceId !== traceId) return false;
    if (filter.rootName !== undefined && sample.rootSpanName !== filter.rootName) return false;
    if (spanId !== undefined) {
      if (sample.spanId === spanId) return true;
      if (filter.selfOnly) return false;
      return sample.linkSpanId === spanId || (filter.descendantSpanIds?.has(sample.spanId) ?? false);
    }
    return true;
  });
}
