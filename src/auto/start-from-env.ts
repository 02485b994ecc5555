import { diag, DiagConsoleLogger, DiagLogLevel } from '@opentelemetry/api';
import type { Environment } from '../exporter/exporter-env';
import { ProfilingSpanProcessor } from '../processor/processor';
import { createOptionalLoader, optionalRequireNextTo, type OptionalLoader, type OptionalRequire } from './optional-require';
import { processorOptionsFromEnv } from './processor-options-from-env';
import { profileExporterFromEnv } from './profile-exporter-from-env';
import { traceProcessorsFromEnv } from './trace-processors-from-env';

const logger = diag.createComponentLogger({ namespace: 'otel-span-profiler/register' });

/** Instrumentations used when `@opentelemetry/auto-instrumentations-node` is not installed: package, class. */
const FALLBACK_INSTRUMENTATIONS: ReadonlyArray<readonly [string, string]> = [
  ['@opentelemetry/instrumentation-http', 'HttpInstrumentation'],
  ['@opentelemetry/instrumentation-express', 'ExpressInstrumentation'],
];

const LOG_LEVELS: Readonly<Record<string, DiagLogLevel>> = {
  none: DiagLogLevel.NONE,
  error: DiagLogLevel.ERROR,
  warn: DiagLogLevel.WARN,
  info: DiagLogLevel.INFO,
  debug: DiagLogLevel.DEBUG,
  verbose: DiagLogLevel.VERBOSE,
  all: DiagLogLevel.ALL,
};

/** What {@link startFromEnv} started. */
export interface StartedFromEnv {
  /** Flushes and stops everything; runs once, later calls return the same promise. */
  shutdown(): Promise<void>;
  /** The instrumentations' package names, for the start-up message. */
  readonly instrumentationPackages: readonly string[];
}

interface NodeSdkLike {
  start(): void;
  shutdown(): Promise<void>;
}
type NodeSdkConstructor = new (configuration: Record<string, unknown>) => NodeSdkLike;

/**
 * Starts a NodeSDK with a {@link ProfilingSpanProcessor}, configured from `OTEL_*` variables: what
 * `otel-span-profiler/register` runs. Returns undefined, after saying why, when nothing was started
 * (`OTEL_SDK_DISABLED`, or `@opentelemetry/sdk-node` is not installed). Never throws.
 */
export function startFromEnv(env: Environment = process.env, cwd: string = process.cwd()): StartedFromEnv | undefined {
  const logLevelName = (env.OTEL_LOG_LEVEL ?? '').trim().toLowerCase();
  // The NodeSDK sets its own console logger when OTEL_LOG_LEVEL is set; without it nothing at all
  // is printed, and a setup that profiles nothing stays silent. So warnings go to the console.
  diag.setLogger(new DiagConsoleLogger(), { logLevel: LOG_LEVELS[logLevelName] ?? DiagLogLevel.WARN, suppressOverrideMessage: true });
  if (['true', '1'].includes((env.OTEL_SDK_DISABLED ?? '').trim().toLowerCase())) {
    logger.info('OTEL_SDK_DISABLED is set: nothing started');
    return undefined;
  }
  try {
    return start(env, createOptionalLoader(cwd), logLevelName !== '');
  } catch (error) {
    logger.error('could not start the OpenTelemetry SDK; the application runs without tracing or profiling', error);
    return undefined;
  }
}

function start(env: Environment, loader: OptionalLoader, sdkSetsLogger: boolean): StartedFromEnv | undefined {
  const sdkNode = loader.load('@opentelemetry/sdk-node') as { NodeSDK?: NodeSdkConstructor } | undefined;
  if (sdkNode?.NodeSDK === undefined) {
    logger.error('@opentelemetry/sdk-node is not installed: nothing started (npm install @opentelemetry/sdk-node)');
    return undefined;
  }
  const nextToSdk = optionalRequireNextTo(loader.resolve('@opentelemetry/sdk-node')!, loader.load);
  const { instrumentations, packages } = loadInstrumentations(loader.load);
  const profileExporter = profileExporterFromEnv(env);
  const spanProcessors = [
    ...traceProcessorsFromEnv(env, nextToSdk),
    ...(profileExporter ? [new ProfilingSpanProcessor({ ...processorOptionsFromEnv(env), exporter: profileExporter })] : []),
  ];
  if (sdkSetsLogger) diag.disable(); // the NodeSDK constructor installs its own, same level
  const sdk = new sdkNode.NodeSDK({ instrumentations, spanProcessors });
  sdk.start();
  logger.debug(
    `started: instrumentations ${packages.join(', ') || 'none'}; profiles ${profileExporter ? profileExporter.constructor.name : 'off'}`,
  );
  let stopping: Promise<void> | undefined;
  return {
    instrumentationPackages: packages,
    shutdown: () =>
      (stopping ??= sdk.shutdown().catch((error: unknown) => {
        logger.error('OpenTelemetry SDK shutdown failed', error);
      })),
  };
}

/** The auto-instrumentations if installed, else the HTTP and Express instrumentations that are. */
export function loadInstrumentations(load: OptionalRequire): { instrumentations: object[]; packages: string[] } {
  const auto = load('@opentelemetry/auto-instrumentations-node') as { getNodeAutoInstrumentations?: () => object[] } | undefined;
  if (typeof auto?.getNodeAutoInstrumentations === 'function') {
    // It reads OTEL_NODE_ENABLED_INSTRUMENTATIONS / OTEL_NODE_DISABLED_INSTRUMENTATIONS itself.
    return { instrumentations: auto.getNodeAutoInstrumentations(), packages: ['@opentelemetry/auto-instrumentations-node'] };
  }
  const instrumentations: object[] = [];
  const packages: string[] = [];
  for (const [packageName, className] of FALLBACK_INSTRUMENTATIONS) {
    const Instrumentation = (load(packageName) as Record<string, unknown> | undefined)?.[className];
    if (typeof Instrumentation === 'function') {
      instrumentations.push(new (Instrumentation as new () => object)());
      packages.push(packageName);
    }
  }
  if (instrumentations.length === 0) {
    logger.warn(
      'no instrumentation is installed, so incoming requests create no spans and nothing is profiled: ' +
        'npm install @opentelemetry/instrumentation-http (and @opentelemetry/instrumentation-express), or @opentelemetry/auto-instrumentations-node',
    );
  }
  return { instrumentations, packages };
}
