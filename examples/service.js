// @ts-check
/**
 * An HTTP service traced by the OpenTelemetry NodeSDK and profiled by otel-span-profiler.
 *
 *   node examples/service.js          (run `npm run build` first: this requires the built package)
 *
 * Three routes of distinct cost, each with its own hot function, so a profile shows which route
 * spent the CPU: GET /report (JSON), GET /parse (regex and dates), GET /hash (crypto).
 *
 * Telemetry: with OTEL_EXPORTER_OTLP_ENDPOINT (or OTEL_EXPORTER_OTLP_PROFILES_ENDPOINT) set,
 * traces and profiles go to that OTLP endpoint (e.g. an OpenTelemetry Collector, or
 * `npx otel-span-profiler view --otlp-port 4318`); otherwise both are written as OTLP JSON lines,
 * profiles to PROFILES_FILE (default out/profiles.jsonl) and traces to TRACES_FILE (default
 * out/traces.jsonl), for `npx otel-span-profiler view out/`. PORT picks the port (default 0: any free one); the service prints
 * `listening on http://127.0.0.1:<port>` once it accepts requests, and shuts down cleanly on
 * SIGTERM or SIGINT, flushing spans and profiles.
 */
'use strict';

const { NodeSDK } = require('@opentelemetry/sdk-node');
const { BatchSpanProcessor } = require('@opentelemetry/sdk-trace-base');
const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-http');
const { HttpInstrumentation } = require('@opentelemetry/instrumentation-http');
const { ProfilingSpanProcessor, OTLPProfileExporter, FileProfileExporter } = require('otel-span-profiler');
const { FileSpanExporter } = require('./file-span-exporter');

const otlpEndpoint = process.env.OTEL_EXPORTER_OTLP_PROFILES_ENDPOINT || process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
const profilesFile = process.env.PROFILES_FILE || require('node:path').join(__dirname, '..', 'out', 'profiles.jsonl');
const tracesFile = process.env.TRACES_FILE || require('node:path').join(__dirname, '..', 'out', 'traces.jsonl');

/** @type {import('@opentelemetry/sdk-trace-base').SpanProcessor[]} */
const spanProcessors = [];
if (otlpEndpoint) spanProcessors.push(new BatchSpanProcessor(new OTLPTraceExporter()));
else spanProcessors.push(new BatchSpanProcessor(new FileSpanExporter(tracesFile)));
spanProcessors.push(
  new ProfilingSpanProcessor({
    exporter: otlpEndpoint ? new OTLPProfileExporter() : new FileProfileExporter({ filePath: profilesFile }),
  }),
);

const sdk = new NodeSDK({
  serviceName: process.env.OTEL_SERVICE_NAME || 'otel-span-profiler-example',
  spanProcessors,
  instrumentations: [new HttpInstrumentation()],
  // This example sends traces and profiles only.
  metricReaders: [],
  logRecordProcessors: [],
});
sdk.start();

// Load the traced modules after sdk.start(), so that the instrumentation patches them.
const http = require('node:http');
const crypto = require('node:crypto');
const fs = require('node:fs/promises');
const { setImmediate: yieldToEventLoop } = require('node:timers/promises');
const { trace } = require('@opentelemetry/api');
const { buildInventoryReport, parseAccessLogDates, deriveKeyChain } = require('./workloads');

const tracer = trace.getTracer('otel-span-profiler-example');

/** @type {Record<string, (() => Promise<unknown>) | undefined>} */
const routes = {
  // JSON-heavy: a report rendered in a child span, between two awaits.
  async '/report'() {
    await yieldToEventLoop();
    const report = await tracer.startActiveSpan('render report', async function renderReport(span) {
      try {
        const first = buildInventoryReport(300);
        await fs.readFile(__filename);
        return { first, second: buildInventoryReport(300) };
      } finally {
        span.end();
      }
    });
    return { items: report.first.items + report.second.items };
  },
  // Regex and date parsing, in slices with timers between them.
  async '/parse'() {
    let parsed = 0;
    for (let slice = 0; slice < 3; slice++) {
      parsed += parseAccessLogDates(700, slice);
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    return { parsed };
  },
  // Hashing, with a file read in the middle.
  async '/hash'() {
    const seed = crypto.randomBytes(32);
    const half = deriveKeyChain(seed, 1500);
    await fs.readFile(__filename);
    return { digest: deriveKeyChain(half, 1500).toString('hex') };
  },
};

/**
 * @param {import('node:http').IncomingMessage} req
 * @param {import('node:http').ServerResponse} res
 */
function handleRequest(req, res) {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const handler = routes[url.pathname];
  const span = trace.getActiveSpan();
  if (span) {
    // What a web framework would do: name the server span after its route.
    span.updateName(`${req.method} ${handler ? url.pathname : 'unknown route'}`);
    if (handler) span.setAttribute('http.route', url.pathname);
  }
  if (!handler) {
    res.writeHead(404).end();
    return;
  }
  handler().then(
    function sendJson(body) {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    },
    function sendError(error) {
      res.writeHead(500).end(String(error));
    },
  );
}

const server = http.createServer(handleRequest);

server.listen(Number(process.env.PORT || 0), '127.0.0.1', () => {
  const address = /** @type {import('node:net').AddressInfo} */ (server.address());
  console.log(`listening on http://127.0.0.1:${address.port}`);
});

let stopping = false;
/** Stop taking requests, then flush spans and profiles before exiting. */
function stop() {
  if (stopping) return;
  stopping = true;
  server.close();
  server.closeAllConnections();
  sdk.shutdown().then(
    () => console.log('telemetry flushed'),
    (error) => console.error('telemetry shutdown failed:', error),
  );
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
