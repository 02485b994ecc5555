'use strict';
// OpenTelemetry NodeSDK + HTTP instrumentation, spans to a BatchSpanProcessor with a no-op
// exporter (the same in A and B). With `profiler: true`, otel-span-profiler's
// ProfilingSpanProcessor is added after it: that is the only difference between the runs.

const path = require('node:path');
const { createRequire } = require('node:module');

// Resolve OpenTelemetry from the library's own node_modules, the copy dist/ is built against
// (bench/node_modules holds other copies pulled in by Sentry and dd-trace).
const ROOT = path.resolve(__dirname, '..', '..', '..');
const rootRequire = createRequire(path.join(ROOT, 'package.json'));

function init(config) {
  const api = rootRequire('@opentelemetry/api');
  const { NodeSDK } = rootRequire('@opentelemetry/sdk-node');
  const { BatchSpanProcessor } = rootRequire('@opentelemetry/sdk-trace-base');
  const { HttpInstrumentation } = rootRequire('@opentelemetry/instrumentation-http');
  const { ExportResultCode } = rootRequire('@opentelemetry/core');

  const noopSpanExporter = {
    export(spans, done) {
      done({ code: ExportResultCode.SUCCESS });
    },
    shutdown: () => Promise.resolve(),
  };

  const spanProcessors = [new BatchSpanProcessor(noopSpanExporter)];
  let processor;
  let profileExporter;
  if (config.profiler) {
    // BENCH_DIST: a snapshot of dist/ (see run-all.sh), so a rebuild mid-run can't change it.
    const lib = require(process.env.BENCH_DIST || path.join(ROOT, 'dist'));
    profileExporter = config.keepProfiles ? new lib.InMemoryProfileExporter() : new CountingProfileExporter(ExportResultCode);
    processor = new lib.ProfilingSpanProcessor({
      exporter: profileExporter,
      samplingFrequencyHz: config.samplingFrequencyHz ?? 99,
      // BENCH_ENGINE (set by any scenario's --engine flag, see lib/harness.js): native | probe | auto.
      ...(process.env.BENCH_ENGINE ? { engine: process.env.BENCH_ENGINE } : {}),
      ...(config.processorOptions || {}),
    });
    spanProcessors.push(config.toggle ? new ToggleProcessor(processor) : processor);
  }

  const sdk = new NodeSDK({
    serviceName: 'bench-reference-service',
    spanProcessors,
    instrumentations: [new HttpInstrumentation()],
    resourceDetectors: [],
  });
  sdk.start();

  const tracer = api.trace.getTracer('bench');
  return {
    name: config.profiler ? 'otel+otel-span-profiler' : 'otel',
    withSpan(name, fn) {
      return tracer.startActiveSpan(name, (span) => {
        try {
          return Promise.resolve(fn()).finally(() => span.end());
        } catch (err) {
          span.end();
          throw err;
        }
      });
    },
    currentSpanId() {
      const span = api.trace.getActiveSpan();
      return span ? span.spanContext().spanId : undefined;
    },
    currentTraceId() {
      const span = api.trace.getActiveSpan();
      return span ? span.spanContext().traceId : undefined;
    },
    profilerStats() {
      if (!processor) return undefined;
      const stats = flatten(processor.stats);
      if (profileExporter instanceof CountingProfileExporter) {
        stats.exportedProfiles = profileExporter.profiles;
        stats.exportedSamples = profileExporter.samples;
      }
      return stats;
    },
    /** Our profiles in a neutral shape: one entry per sample with its span id and frame names. */
    async collectSamples() {
      if (!processor) return [];
      await processor.forceFlush();
      const out = [];
      for (const p of profileExporter.getFinishedProfiles()) {
        for (const s of p.samples) {
          out.push({ spanId: s.spanId, traceId: p.traceId, functions: s.stack.map((f) => f.functionName) });
        }
      }
      return out;
    },
    /** The ProfilingSpanProcessor itself (benches that reach into its engine), or undefined. */
    processor,
    /** With `toggle`, turns profiling of new roots on or off (the in-process A/B scenario). */
    setProfiling(on) {
      const toggle = spanProcessors[spanProcessors.length - 1];
      if (toggle instanceof ToggleProcessor) toggle.enabled = on;
    },
    shutdown: () => sdk.shutdown(),
  };
}

/**
 * Forwards to the ProfilingSpanProcessor only the spans started while enabled (and their ends),
 * so one server can alternate between profiling and not every few seconds. Forwarded spans are
 * marked with a symbol-keyed field, checked at their end in both states. (Up to the fifth pass
 * this was a WeakSet entry per forwarded span, paid only while enabled: its GC work, ephemerons
 * in a workload that allocates a lot, was charged to the profiler. `BENCH_TOGGLE=weakset`
 * restores it for comparison.)
 */
const FORWARDED = Symbol('bench.forwarded');
class ToggleProcessor {
  constructor(inner) {
    this.inner = inner;
    this.enabled = false;
    this.weak = process.env.BENCH_TOGGLE === 'weakset' ? new WeakSet() : undefined;
  }
  onStart(span, ctx) {
    if (!this.enabled) return;
    if (this.weak) this.weak.add(span);
    else span[FORWARDED] = true;
    this.inner.onStart(span, ctx);
  }
  forwarded(span) {
    return this.weak ? this.weak.has(span) : span[FORWARDED] === true;
  }
  onEnding(span) {
    if (this.forwarded(span) && this.inner.onEnding) this.inner.onEnding(span);
  }
  onEnd(span) {
    if (this.forwarded(span)) this.inner.onEnd(span);
  }
  forceFlush() {
    return this.inner.forceFlush();
  }
  shutdown() {
    return this.inner.shutdown();
  }
}

/** processor.stats as flat numbers (BigInts converted), so it crosses IPC as JSON. */
function flatten(obj, prefix = '', out = {}) {
  for (const [k, v] of Object.entries(obj)) {
    if (typeof v === 'bigint') out[prefix + k] = Number(v);
    else if (v && typeof v === 'object') flatten(v, `${prefix}${k}.`, out);
    else out[prefix + k] = v;
  }
  return out;
}

/** Drops profiles after counting them, so the export path costs nothing in the overhead runs. */
class CountingProfileExporter {
  constructor(codes) {
    this.codes = codes;
    this.profiles = 0;
    this.samples = 0;
  }
  export(profiles, done) {
    this.profiles += profiles.length;
    for (const p of profiles) this.samples += p.samples.length;
    done({ code: this.codes.SUCCESS });
  }
  shutdown() {
    return Promise.resolve();
  }
  forceFlush() {
    return Promise.resolve();
  }
}

module.exports = { init };
