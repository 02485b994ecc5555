// @ts-check
/**
 * ProfilingSpanProcessor under the OpenTelemetry JS 3.x SDK (@opentelemetry/sdk-trace), as a user
 * who installed the package from npm next to it would run it. Plain JS run by .ci/run with mocha on
 * Node >= 22.15, outside the main build (which stays on the 2.x line).
 */
'use strict';

const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { setTimeout: sleep } = require('node:timers/promises');
const { context, trace } = require('@opentelemetry/api');
// 3.x renamed BasicTracerProvider to TracerProvider.
const { TracerProvider, InMemorySpanExporter, SimpleSpanProcessor } = require('@opentelemetry/sdk-trace');
const { AsyncLocalStorageContextManager } = require('@opentelemetry/context-async-hooks');
const { ProfilingSpanProcessor, InMemoryProfileExporter } = require('otel-span-profiler');

/**
 * The version of the package `name` resolves to (3.x packages do not export ./package.json).
 * @param {string} name
 */
function installedVersion(name) {
  let dir = path.dirname(require.resolve(name));
  while (
    !fs.existsSync(path.join(dir, 'package.json')) ||
    JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')).name !== name
  ) {
    if (path.dirname(dir) === dir) throw new Error(`no package.json of ${name} above ${require.resolve(name)}`);
    dir = path.dirname(dir);
  }
  return JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')).version;
}

const REQUESTS = ['Alpha', 'Bravo', 'Charlie', 'Delta', 'Echo', 'Foxtrot', 'Golf', 'Hotel'];

/**
 * A CPU-bound function whose name is unique to one request: its own source text, so that V8's
 * profiler (the native engine) names it too. Closures of one piece of code named at run time
 * (computed keys) share V8's static name, which only the probe engine tells apart.
 * @param {string} name
 * @returns {(millis: number) => number}
 */
function uniqueSpinner(name) {
  return new Function(
    `return function ${name}(millis) {
      const end = performance.now() + millis;
      let x = 1;
      while (performance.now() < end) x = Math.sqrt(x + 1) * 1.0001;
      return x;
    };`,
  )();
}

describe('ProfilingSpanProcessor with OpenTelemetry JS 3.x', function () {
  this.timeout(60_000);
  const contextManager = new AsyncLocalStorageContextManager().enable();
  const profiles = new InMemoryProfileExporter();
  const spans = new InMemorySpanExporter();
  /** @type {TracerProvider} */
  let provider;

  before(function () {
    context.setGlobalContextManager(contextManager);
    provider = new TracerProvider({
      spanProcessors: [
        new ProfilingSpanProcessor({ exporter: profiles }),
        new SimpleSpanProcessor({ exporter: spans }) /* 3.x takes options */,
      ],
    });
    trace.setGlobalTracerProvider(provider);
  });

  after(async function () {
    await provider.shutdown();
    trace.disable();
    context.disable();
  });

  it('should run against the 3.x SDK and API 1.10', function () {
    assert.match(installedVersion('@opentelemetry/sdk-trace'), /^3\./);
    assert.match(installedVersion('@opentelemetry/api'), /^1\.10\./);
  });

  it("should charge each interleaved request's unique function to that request's span", async function () {
    const tracer = trace.getTracer('otel3-check');
    /** @type {Map<string, { traceId: string, spanId: string }>} */
    const spanOfFunction = new Map();
    await Promise.all(
      REQUESTS.map((suffix) =>
        tracer.startActiveSpan(`request ${suffix}`, async (span) => {
          const spin = uniqueSpinner(`spin${suffix}`);
          spanOfFunction.set(spin.name, { traceId: span.spanContext().traceId, spanId: span.spanContext().spanId });
          for (let round = 0; round < 4; round++) {
            spin(15);
            await sleep(1);
          }
          span.end();
        }),
      ),
    );
    await provider.forceFlush();

    let matched = 0;
    let wrong = 0;
    for (const profile of profiles.getFinishedProfiles()) {
      for (const sample of profile.samples) {
        const owner = sample.stack.map((frame) => spanOfFunction.get(frame.functionName)).find(Boolean);
        if (owner === undefined) continue;
        if (owner.traceId === profile.traceId && owner.spanId === sample.spanId) matched++;
        else wrong++;
      }
    }
    assert.ok(matched >= 10, `only ${matched} samples hold a request's unique function`);
    assert.ok(wrong <= matched / 100, `${wrong} of ${matched + wrong} samples charged to the wrong span`);

    const profiledRoots = new Set(profiles.getFinishedProfiles().map((profile) => profile.rootSpanId));
    const roots = spans.getFinishedSpans().filter((span) => profiledRoots.has(span.spanContext().spanId));
    assert.ok(roots.length > 0, 'no exported root span has a profile');
    for (const root of roots) {
      assert.equal(root.attributes['pyroscope.profile.id'], root.spanContext().spanId);
    }
  });
});
