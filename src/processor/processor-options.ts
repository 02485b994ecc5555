import { resolveBatchOptions, type BatchOptions, type ResolvedBatchOptions } from './profile-batcher';
import { checkBoolean, checkNumber, describeValue } from '../shared/option-checks';
import type { ProfileExporter } from '../exporter/profile-exporter';
import type { EngineChoice } from '../sampler/engine';

/** Options of {@link ProfilingSpanProcessor}. Every field but `exporter` is optional. */
export interface ProfilingSpanProcessorOptions {
  /** Where finished span profiles go, e.g. `new OTLPProfileExporter()`. Required. */
  exporter: ProfileExporter;
  /**
   * Share of sampled local root spans to profile, 0..1. Decided from the trace ID, so every
   * service of a trace makes the same choice. Default 1.
   */
  profilesSampleRate?: number;
  /**
   * The sampling engine. `'native'`: V8's signal-based profiler through the optional dependency
   * `@datadog/pprof`, each sample labelled with the active span (15-19 us of main thread per
   * sample). `'probe'`: an inspector probe run inside the interrupted code (150-440 us per
   * sample). `'auto'` (default): native where it loads and can label samples, else the probe.
   * Where `'native'` cannot serve, the probe is used and one warning says why. The engine in use
   * and the reason are in `stats.engine`. Environment: `OTEL_SPAN_PROFILER_ENGINE` (zero-code entry).
   */
  engine?: EngineChoice;
  /**
   * Start the native engine when the processor is created and keep it running, instead of at the
   * first profiled root (and stopping it 30 s after the last). Starting V8's profiler pauses the
   * main thread 15-80 ms while it logs the code already loaded: this pays that pause at start-up,
   * not in the first request. Ignored by the probe engine. Default false.
   */
  startEngineEagerly?: boolean;
  /** Samples per second while a profiled root is open, 1..1000. Default 99 (not 100, to avoid lockstep with 10 ms timers). */
  samplingFrequencyHz?: number;
  /**
   * The most of the main thread's time that probes may take, in percent of one core (0.01-100):
   * the probe engine measures each probe's cost where it runs and lowers its tick rate (never
   * above `samplingFrequencyHz`) to stay within it. `Infinity` turns the cap off. Default 1. The
   * native engine's measured cost at 99 Hz is ~0.2% of a core (15-19 us a sample) and ~2% at 1000 Hz,
   * so its rate is lowered only where `samplingFrequencyHz` x 20 us exceeds the budget.
   */
  maxOverheadPercent?: number;
  /** A profile still open after this long is closed and marked truncated. Default 30000. */
  maxProfileDurationMillis?: number;
  /** Profiled roots open at once; roots beyond it are not profiled (counted). Default 4096. */
  maxOpenProfiles?: number;
  /** Samples kept per profile; later ones are counted in `droppedSamples`. Default 5000. */
  maxSamplesPerProfile?: number;
  /** Frames kept per sample, from the leaf. Default 64. */
  maxStackDepth?: number;
  /**
   * The span each sample's OTLP Link names. `'local-root'` (default): the profiled local root,
   * which is what Grafana's "Profiles for this span" on a root span selects (the whole request),
   * and each sample also carries the sample attribute `otel_span_profiler.active_span_id` (the
   * 8-byte ID of the span active when it was taken). `'active-span'`: the Link names the active
   * span itself and no such attribute is added (a root's own samples only, in Grafana).
   * Consumers find a sample's own span as: that attribute if present, else the Link's span.
   * See docs/grafana.md.
   */
  linkSamplesTo?: 'active-span' | 'local-root';
  /**
   * Set `pyroscope.profile.id` (the root's hex span ID) on profiled roots whose profile is
   * exported (they received samples; roots truncated by the duration cap included), which is what
   * Grafana uses to offer a span's profile. Default true.
   */
  pyroscopeProfileIdAttribute?: boolean;
  /**
   * Map frames through their scripts' source maps before export (original file, line, column
   * and name; V8's position is kept on the Location). Off the request path, at export time.
   * Default true: frames of scripts without a map are exported as they are.
   */
  sourceMaps?: boolean;
  /** How finished profiles are queued and batched before export; bad values throw, as above. */
  batch?: BatchOptions;
  /**
   * `'spans'` (default): a profile per profiled root span, sampling only while one is open.
   * `'continuous'`: sampling from start to shutdown, and every `continuousPeriodMillis` one
   * profile of the whole process goes out; samples taken under a profiled root link to it as in
   * span profiles, the others carry no Link, idle time is left out. Span profiles are then not
   * exported separately, so no sample is sent twice (docs/continuous.md). Environment:
   * `OTEL_SPAN_PROFILER_MODE` (zero-code entry).
   */
  mode?: 'spans' | 'continuous';
  /**
   * Continuous mode: how long one period lasts, i.e. how often a process profile goes out.
   * Default 15000 (Pyroscope's Go client pushes every 15 s). Environment:
   * `OTEL_SPAN_PROFILER_CONTINUOUS_PERIOD_MILLIS` (zero-code entry).
   */
  continuousPeriodMillis?: number;
  /** Continuous mode: samples kept per period; later ones are dropped (counted). Default 20000. */
  maxSamplesPerPeriod?: number;
  /** Continuous mode: distinct stacks kept per period; samples with a new stack past it are dropped (counted). Default 5000. */
  maxStacksPerPeriod?: number;
}

/** The options with defaults applied and values checked. */
export interface ResolvedProcessorOptions {
  readonly exporter: ProfileExporter;
  readonly engine: EngineChoice;
  readonly startEngineEagerly: boolean;
  readonly profilesSampleRate: number;
  readonly samplingFrequencyHz: number;
  readonly maxOverheadPercent: number;
  readonly maxProfileDurationMillis: number;
  readonly maxOpenProfiles: number;
  readonly maxSamplesPerProfile: number;
  readonly maxStackDepth: number;
  readonly linkSamplesTo: 'active-span' | 'local-root';
  readonly pyroscopeProfileIdAttribute: boolean;
  readonly sourceMaps: boolean;
  readonly batch: ResolvedBatchOptions;
  readonly mode: 'spans' | 'continuous';
  readonly continuousPeriodMillis: number;
  readonly maxSamplesPerPeriod: number;
  readonly maxStacksPerPeriod: number;
}

const DEFAULTS = {
  profilesSampleRate: 1,
  samplingFrequencyHz: 99,
  maxOverheadPercent: 1,
  maxProfileDurationMillis: 30_000,
  maxOpenProfiles: 4096,
  maxSamplesPerProfile: 5000,
  maxStackDepth: 64,
  linkSamplesTo: 'local-root',
  pyroscopeProfileIdAttribute: true,
  sourceMaps: true,
  engine: 'auto',
  startEngineEagerly: false,
  mode: 'spans',
  continuousPeriodMillis: 15_000,
  maxSamplesPerPeriod: 20_000,
  maxStacksPerPeriod: 5000,
} as const;

/**
 * Applies defaults and checks values. A wrong value in code is a programming error, found at
 * start-up: it throws a TypeError or RangeError that names the option, what was expected and the
 * value; the batch options (`batch.*`) follow the same rule. (No option is read from the
 * environment; where one is, a bad value gets one `diag.warn` and the default.)
 */
export function resolveProcessorOptions(options: ProfilingSpanProcessorOptions): ResolvedProcessorOptions {
  if (options === null || typeof options !== 'object') {
    throw new TypeError(`ProfilingSpanProcessor: expected an options object with an exporter, got ${describe(options)}`);
  }
  const exporter = options.exporter;
  if (
    exporter === null ||
    typeof exporter !== 'object' ||
    typeof exporter.export !== 'function' ||
    typeof exporter.shutdown !== 'function'
  ) {
    throw new TypeError(
      `ProfilingSpanProcessor: option "exporter" must be a ProfileExporter (export and shutdown methods), got ${describe(exporter)}`,
    );
  }
  const linkSamplesTo = options.linkSamplesTo ?? DEFAULTS.linkSamplesTo;
  if (linkSamplesTo !== 'active-span' && linkSamplesTo !== 'local-root') {
    throw new TypeError(
      `ProfilingSpanProcessor: option "linkSamplesTo" must be 'active-span' or 'local-root', got ${describe(linkSamplesTo)}`,
    );
  }
  const pyroscope = checkBoolean(
    'ProfilingSpanProcessor: option "pyroscopeProfileIdAttribute"',
    options.pyroscopeProfileIdAttribute ?? DEFAULTS.pyroscopeProfileIdAttribute,
  );
  const sourceMaps = checkBoolean('ProfilingSpanProcessor: option "sourceMaps"', options.sourceMaps ?? DEFAULTS.sourceMaps);
  const batch = resolveBatchOptions(options.batch ?? {});
  const engine = options.engine ?? DEFAULTS.engine;
  if (engine !== 'auto' && engine !== 'native' && engine !== 'probe') {
    throw new TypeError(`ProfilingSpanProcessor: option "engine" must be 'auto', 'native' or 'probe', got ${describe(engine)}`);
  }
  const mode = options.mode ?? DEFAULTS.mode;
  if (mode !== 'spans' && mode !== 'continuous') {
    throw new TypeError(`ProfilingSpanProcessor: option "mode" must be 'spans' or 'continuous', got ${describe(mode)}`);
  }
  const startEngineEagerly = checkBoolean(
    'ProfilingSpanProcessor: option "startEngineEagerly"',
    options.startEngineEagerly ?? DEFAULTS.startEngineEagerly,
  );
  return {
    exporter,
    engine,
    startEngineEagerly,
    profilesSampleRate: number(options, 'profilesSampleRate', 0, 1, false),
    samplingFrequencyHz: number(options, 'samplingFrequencyHz', 1, 1000, false),
    maxOverheadPercent: options.maxOverheadPercent === Infinity ? Infinity : number(options, 'maxOverheadPercent', 0.01, 100, false),
    maxProfileDurationMillis: number(options, 'maxProfileDurationMillis', 1, Number.MAX_SAFE_INTEGER, true),
    maxOpenProfiles: number(options, 'maxOpenProfiles', 1, Number.MAX_SAFE_INTEGER, true),
    maxSamplesPerProfile: number(options, 'maxSamplesPerProfile', 1, Number.MAX_SAFE_INTEGER, true),
    maxStackDepth: number(options, 'maxStackDepth', 1, 1024, true),
    linkSamplesTo,
    pyroscopeProfileIdAttribute: pyroscope,
    sourceMaps,
    batch,
    mode,
    continuousPeriodMillis: number(options, 'continuousPeriodMillis', 100, 3_600_000, true),
    maxSamplesPerPeriod: number(options, 'maxSamplesPerPeriod', 1, Number.MAX_SAFE_INTEGER, true),
    maxStacksPerPeriod: number(options, 'maxStacksPerPeriod', 1, Number.MAX_SAFE_INTEGER, true),
  };
}

type NumericOption = {
  [K in keyof typeof DEFAULTS]: (typeof DEFAULTS)[K] extends number ? K : never;
}[keyof typeof DEFAULTS];

function number(options: ProfilingSpanProcessorOptions, name: NumericOption, min: number, max: number, integer: boolean): number {
  return checkNumber(`ProfilingSpanProcessor: option "${name}"`, options[name] ?? DEFAULTS[name], min, max, integer);
}

/** describeValue, with the wording these checks have always used for an object (most often an exporter without its methods). */
function describe(value: unknown): string {
  const shown = describeValue(value);
  return shown === 'an object' ? 'an object without the expected methods' : shown;
}
