/**
 * Zero-code setup: `node --require otel-span-profiler/register app.js` (or `--import` for ES
 * modules) starts the OpenTelemetry NodeSDK with a ProfilingSpanProcessor, configured from `OTEL_*`
 * variables, the way `@opentelemetry/auto-instrumentations-node/register` does for tracing alone.
 * See docs/configuration.md for the variables. Use it instead of starting a NodeSDK in code.
 */
import { installShutdownHooks } from './auto/shutdown-hooks';
import { startFromEnv } from './auto/start-from-env';

// --require and --import can both be given (or the CommonJS entry loaded by the ESM one): start once.
const STARTED = Symbol.for('otel-span-profiler.register');
const holder = globalThis as { [STARTED]?: true };
if (holder[STARTED] === undefined) {
  holder[STARTED] = true;
  const started = startFromEnv();
  if (started !== undefined) installShutdownHooks(started.shutdown);
}
