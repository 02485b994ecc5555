/*
 * Every attribute key this package writes into OTLP profiles, or sets on spans, and reads back
 * (convert/, the viewer): one home, so the writer and the readers cannot drift apart.
 * docs/how-it-works.md and docs/grafana.md explain what consumers do with them.
 */

/**
 * Sample attribute with the local root span's name, the label Grafana's otel-profiling-go puts on
 * span profiles; Pyroscope turns sample attributes into pprof labels, so flame graphs can be
 * grouped by endpoint.
 */
export const SPAN_NAME_ATTRIBUTE = 'span_name';

/**
 * Sample attribute with the ID of the span that was active when the sample was taken, as an
 * 8-byte `bytes_value`, on every sample of a profile whose Links name the local root
 * (`sampleLinks: 'local-root'`, the processor's default). A consumer finds a sample's own span
 * as: this attribute if present, else the Link's span. Bytes rather than a hex string because
 * Grafana Pyroscope turns every string or integer sample attribute into a series label (one
 * series per span), and ignores bytes; see docs/grafana.md.
 */
export const ACTIVE_SPAN_ID_ATTRIBUTE = 'otel_span_profiler.active_span_id';

/**
 * The resource's service name. The request builder writes it as a resource attribute, and
 * repeats it as a sample attribute on every sample: sample attributes live in the dictionary,
 * which the Collector forwards as it came, while it rewrites resource attributes into
 * string-table references that Pyroscope cannot read (docs/grafana.md).
 */
export const SERVICE_NAME_ATTRIBUTE = 'service.name';

/**
 * Profile attribute, `true` on the profiles of continuous mode: one period of the whole process,
 * whose samples link to their profiled roots one by one (docs/continuous.md).
 */
export const CONTINUOUS_ATTRIBUTE = 'otel_span_profiler.continuous';

/** Profile attribute, `true` when the duration cap closed the profile before its root span ended. */
export const TRUNCATED_ATTRIBUTE = 'otel_span_profiler.truncated';

/** Profile attribute, the number of samples dropped by the per-profile sample cap (only when > 0). */
export const DROPPED_SAMPLES_ATTRIBUTE = 'otel_span_profiler.dropped_samples';

/** Location attribute naming the frame's kind (semantic conventions), always {@link V8JS_FRAME_TYPE} here. */
export const FRAME_TYPE_ATTRIBUTE = 'profile.frame.type';
/** Semantic-conventions value of `profile.frame.type` for V8/JavaScript frames. */
export const V8JS_FRAME_TYPE = 'v8js';

/**
 * Location attribute of a source-mapped frame: where V8 ran it, `<script>:<line>:<column>` as V8
 * named the script (docs/source-maps.md says why an attribute and not the Location's address).
 */
export const GENERATED_POSITION_ATTRIBUTE = 'otel_span_profiler.generated_position';

/**
 * Span attribute set on profiled roots whose profile is exported: the root's hex span ID, which
 * Grafana's "profiles for this span" button queries (option `pyroscopeProfileIdAttribute`).
 */
export const PROFILE_ID_ATTRIBUTE = 'pyroscope.profile.id';
