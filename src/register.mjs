// ESM entry of otel-span-profiler/register, for `node --import otel-span-profiler/register app.mjs`.
// It first registers OpenTelemetry's ES module hook (import-in-the-middle, shipped by
// @opentelemetry/instrumentation) so that packages the application imports as ES modules can be
// instrumented too, then runs the CommonJS entry, which starts the NodeSDK.
import { createRequire, register } from 'node:module';
import { pathToFileURL } from 'node:url';

const require = createRequire(import.meta.url);

/** @opentelemetry/instrumentation's hook.mjs, resolved from here or from the application. */
function instrumentationHook() {
  for (const from of [import.meta.url, pathToFileURL(`${process.cwd()}/noop.js`).href]) {
    try {
      return createRequire(from).resolve('@opentelemetry/instrumentation/hook.mjs');
    } catch {
      // not installed next to `from`
    }
  }
  return undefined;
}

// Registered before the SDK starts, as tested; a failure here must not stop the application.
let hookError;
try {
  const hook = typeof register === 'function' ? instrumentationHook() : undefined;
  if (hook !== undefined) register(pathToFileURL(hook).href, import.meta.url);
} catch (error) {
  hookError = error;
}
require('./register.js');
if (hookError !== undefined) {
  require('@opentelemetry/api')
    .diag.createComponentLogger({ namespace: 'otel-span-profiler/register' })
    .warn('could not register the ES module hook; packages imported as ES modules are not instrumented', hookError);
}
