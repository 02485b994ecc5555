'use strict';
// dd-trace tracing (HTTP plugin) to a local agent double that the harness runs, so nothing
// fails loudly without a Datadog agent. With `profiler: true`, dd-trace's profiler runs its
// wall-time profiler (@datadog/pprof) with code hotspots (span ids on samples) and CPU time,
// uploading every DD_PROFILING_UPLOAD_PERIOD seconds, by default to the same agent double;
// the accuracy scenario uses the file exporter and reads the pprof files.

function init(config) {
  const env = process.env;
  env.DD_TRACE_AGENT_URL = config.agentUrl;
  env.DD_TRACE_STARTUP_LOGS = 'false';
  env.DD_INSTRUMENTATION_TELEMETRY_ENABLED = 'false';
  env.DD_REMOTE_CONFIGURATION_ENABLED = 'false';
  env.DD_RUNTIME_METRICS_ENABLED = 'false';
  env.DD_SERVICE = 'bench-reference-service';
  if (config.profiler) {
    env.DD_PROFILING_ENABLED = 'true';
    env.DD_PROFILING_PROFILERS = config.ddProfilers || 'wall';
    env.DD_PROFILING_CODEHOTSPOTS_ENABLED = 'true';
    env.DD_PROFILING_UPLOAD_PERIOD = String(config.ddUploadPeriodSeconds ?? 10);
    if (config.ddPprofDir) {
      env.DD_PROFILING_EXPORTERS = 'file';
      env.DD_PROFILING_PPROF_PREFIX = config.ddPprofDir + '/';
    }
  } else {
    env.DD_PROFILING_ENABLED = 'false';
  }
  const tracer = require('dd-trace').init({ profiling: !!config.profiler });

  return {
    name: config.profiler ? 'dd-trace+profiler' : 'dd-trace',
    withSpan(name, fn) {
      return tracer.trace(name, () => fn());
    },
    currentSpanId() {
      const span = tracer.scope().active();
      return span ? span.context().toSpanId() : undefined;
    },
    currentTraceId() {
      const span = tracer.scope().active();
      return span ? span.context().toTraceId() : undefined;
    },
    profilerStats: () => undefined,
    // dd-trace writes pprof files; the accuracy scenario decodes them from the parent process.
    collectSamples: async () => [],
    shutdown: () => Promise.resolve(),
  };
}

module.exports = { init };
