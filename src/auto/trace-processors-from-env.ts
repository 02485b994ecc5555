import { diag } from '@opentelemetry/api';
import type { Environment } from '../exporter/exporter-env';
import type { OptionalRequire } from './optional-require';

const logger = diag.createComponentLogger({ namespace: 'otel-span-profiler/register' });

/** A span processor as the SDK sees it; typed loosely because the SDK is an optional peer. */
export type AnySpanProcessor = object;

type Constructor = new (options?: unknown) => object;

/** The OTLP trace exporter package for each `OTEL_EXPORTER_OTLP_[TRACES_]PROTOCOL` value. */
const OTLP_TRACE_EXPORTER_PACKAGES: Readonly<Record<string, string>> = {
  'http/protobuf': '@opentelemetry/exporter-trace-otlp-proto',
  'http/json': '@opentelemetry/exporter-trace-otlp-http',
  grpc: '@opentelemetry/exporter-trace-otlp-grpc',
};

/**
 * The span processors that `OTEL_TRACES_EXPORTER` asks for, built the way the NodeSDK builds them
 * when it is given no processors: `otlp` (default; the protocol from
 * `OTEL_EXPORTER_OTLP_TRACES_PROTOCOL`, else `OTEL_EXPORTER_OTLP_PROTOCOL`, else `http/protobuf`)
 * behind a batch processor, `console` behind a simple one, `none` for no trace export. We build them
 * because a NodeSDK given `spanProcessors` (ours) no longer reads `OTEL_TRACES_EXPORTER` itself.
 * `load` resolves next to the NodeSDK, whose dependencies these packages are.
 */
export function traceProcessorsFromEnv(env: Environment, load: OptionalRequire): AnySpanProcessor[] {
  let names = (env.OTEL_TRACES_EXPORTER ?? '')
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter((s) => s !== '' && s !== 'null');
  if (names.length === 0) names = ['otlp'];
  if (names.includes('none')) {
    if (names.length > 1)
      logger.warn(
        `OTEL_TRACES_EXPORTER lists "none" with other exporters (${JSON.stringify(env.OTEL_TRACES_EXPORTER)}); exporting no traces`,
      );
    return [];
  }
  const processorsOf = spanProcessorFactories(load);
  if (processorsOf === undefined) {
    logger.error(
      'neither @opentelemetry/sdk-trace nor @opentelemetry/sdk-trace-base was found next to @opentelemetry/sdk-node; traces are not exported',
    );
    return [];
  }
  const processors: AnySpanProcessor[] = [];
  for (const name of new Set(names)) {
    if (name === 'console') {
      processors.push(processorsOf.simple(new processorsOf.ConsoleSpanExporter()));
    } else if (name === 'otlp') {
      const exporter = otlpTraceExporter(env, load);
      if (exporter) processors.push(processorsOf.batch(exporter));
    } else {
      logger.warn(`OTEL_TRACES_EXPORTER value "${name}" is not supported here, expected otlp, console or none; ignored`);
    }
  }
  return processors;
}

function otlpTraceExporter(env: Environment, load: OptionalRequire): object | undefined {
  const raw = (env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL || env.OTEL_EXPORTER_OTLP_PROTOCOL || 'http/protobuf').trim().toLowerCase();
  let packageName = OTLP_TRACE_EXPORTER_PACKAGES[raw];
  if (packageName === undefined) {
    logger.warn(`OTLP traces protocol ${JSON.stringify(raw)} is invalid, expected http/protobuf, http/json or grpc; using http/protobuf`);
    packageName = OTLP_TRACE_EXPORTER_PACKAGES['http/protobuf']!;
  }
  const pkg = load(packageName) as { OTLPTraceExporter?: Constructor } | undefined;
  if (pkg?.OTLPTraceExporter === undefined) {
    logger.error(`${packageName} was not found; traces are not exported (install it, or set OTEL_TRACES_EXPORTER=none)`);
    return undefined;
  }
  return new pkg.OTLPTraceExporter();
}

interface SpanProcessorFactories {
  readonly ConsoleSpanExporter: Constructor;
  readonly batch: (exporter: object) => AnySpanProcessor;
  readonly simple: (exporter: object) => AnySpanProcessor;
}

/**
 * `@opentelemetry/sdk-trace` (3.x, and a dependency of the 2.x NodeSDK since 0.2xx's later releases),
 * whose processors take `{ exporter }`; else `@opentelemetry/sdk-trace-base` (2.x), whose take the
 * exporter itself.
 */
function spanProcessorFactories(load: OptionalRequire): SpanProcessorFactories | undefined {
  const sdkTrace = load('@opentelemetry/sdk-trace') as Record<string, Constructor> | undefined;
  if (sdkTrace?.BatchSpanProcessor !== undefined) {
    return {
      ConsoleSpanExporter: sdkTrace.ConsoleSpanExporter!,
      batch: (exporter) => new sdkTrace.BatchSpanProcessor!({ exporter }),
      simple: (exporter) => new sdkTrace.SimpleSpanProcessor!({ exporter }),
    };
  }
  const base = load('@opentelemetry/sdk-trace-base') as Record<string, Constructor> | undefined;
  if (base?.BatchSpanProcessor !== undefined) {
    return {
      ConsoleSpanExporter: base.ConsoleSpanExporter!,
      batch: (exporter) => new base.BatchSpanProcessor!(exporter),
      simple: (exporter) => new base.SimpleSpanProcessor!(exporter),
    };
  }
  return undefined;
}
