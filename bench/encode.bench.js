'use strict';
// Encode cost of one export batch: OTLP profiles (protobuf and JSON, from this package's dist/)
// next to the same samples as gzipped pprof (pprof-format), in one run on one machine.
// Usage: (cd .. && npm run build) && node encode.bench.js
//   STATIC_ENCODER=/path/static-profiles.js  also times protobufjs static code (pbjs static-module
//   output for ../proto; see RESULTS.md "## Encoding" for the command).
//   ROOTS=200 SAMPLES=20 DEPTH=30 ITERATIONS=40 to change the workload.

const path = require('node:path');
const zlib = require('node:zlib');
const { performance } = require('node:perf_hooks');
const pprof = require('pprof-format');

const DIST = path.join(__dirname, '..', 'dist');
const { encodeProtobuf, encodeJson, encodeRequestProtobuf } = require(path.join(DIST, 'exporter', 'otlp-encoding.js'));
const { buildExportRequest } = require(path.join(DIST, 'profile', 'otlp-request-builder.js'));

const ROOTS = Number(process.env.ROOTS ?? 200);
const SAMPLES_PER_ROOT = Number(process.env.SAMPLES ?? 20);
const DEPTH = Number(process.env.DEPTH ?? 30);
const ITERATIONS = Number(process.env.ITERATIONS ?? 40);
const STACK_POOL = 120;
const PERIOD_NANOS = 10_101_010;

// Deterministic PRNG so every run encodes the same batch.
function mulberry32(seed) {
  return () => {
    seed |= 0;
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const random = mulberry32(42);
const pick = (array) => array[Math.floor(random() * array.length)];
const hex = (bytes) => Array.from({ length: bytes }, () => Math.floor(random() * 256).toString(16).padStart(2, '0')).join('');

/** A pool of stacks shaped like a Node web service: runtime and framework frames outside, app code inside. */
function makeStackPool() {
  const frame = (functionName, fileName) => ({
    functionName,
    fileName,
    lineNumber: 1 + Math.floor(random() * 400),
    columnNumber: 1 + Math.floor(random() * 60),
  });
  const runtime = [
    frame('processTicksAndRejections', 'node:internal/process/task_queues'),
    frame('listOnTimeout', 'node:internal/timers'),
    frame('emit', 'node:events'),
    frame('parserOnIncoming', 'node:_http_server'),
    frame('parserOnHeadersComplete', 'node:_http_common'),
    frame('runMicrotasks', ''),
  ];
  const framework = [];
  for (const file of ['router/index.js', 'router/layer.js', 'router/route.js', 'middleware/init.js', 'application.js']) {
    for (const name of ['handle', 'next', 'dispatch', 'process_params', '', 'trim_prefix']) {
      framework.push(frame(name, `/srv/app/node_modules/express/lib/${file}`));
    }
  }
  const libraries = [];
  for (const lib of ['pg/lib/client.js', 'pg-protocol/dist/parser.js', 'ioredis/built/Redis.js', 'ajv/dist/compile/index.js', 'lodash/lodash.js']) {
    for (const name of ['query', 'parse', 'handleMessage', 'sendCommand', 'validate', 'cloneDeep', 'baseClone', '']) {
      libraries.push(frame(name, `/srv/app/node_modules/${lib}`));
    }
  }
  const app = [];
  for (const file of ['orders', 'users', 'cart', 'search', 'auth']) {
    for (const name of ['get', 'list', 'create', 'serialize', 'render', 'authorize', 'computeTotals', '']) {
      app.push(frame(name, `/srv/app/src/handlers/${file}.js`));
    }
  }
  const stacks = [];
  for (let s = 0; s < STACK_POOL; s++) {
    const outer = runtime.slice(0, 3 + Math.floor(random() * 3));
    const stack = [...outer];
    while (stack.length < DEPTH * 0.6) stack.push(pick(framework));
    while (stack.length < DEPTH * 0.85) stack.push(pick(app));
    while (stack.length < DEPTH) stack.push(pick(libraries));
    stacks.push(stack.reverse()); // leaf first
  }
  return stacks;
}

function makeBatch(pool, { copyFrames }) {
  const resource = { attributes: { 'service.name': 'checkout', 'service.version': '1.4.2', 'host.name': 'web-1', 'process.pid': 4242 } };
  const profiles = [];
  let start = 1755000000000000000n;
  for (let r = 0; r < ROOTS; r++) {
    const traceId = hex(16);
    const spanIds = [hex(8), hex(8), hex(8)];
    const count = Math.max(1, Math.round(SAMPLES_PER_ROOT * (0.5 + random())));
    const samples = [];
    let t = start;
    for (let i = 0; i < count; i++) {
      t += BigInt(PERIOD_NANOS + Math.floor(random() * 200_000));
      // Skewed choice: a few hot stacks, a long tail.
      const stack = pool[Math.floor(pool.length * random() ** 2)];
      samples.push({ timeUnixNano: t, stack: copyFrames ? stack.map((f) => ({ ...f })) : stack, spanId: pick(spanIds) });
    }
    profiles.push({
      traceId,
      rootSpanId: spanIds[0],
      rootSpanName: `GET /${pick(['orders', 'users', 'cart', 'search'])}/:id`,
      resource,
      startTimeUnixNano: start,
      endTimeUnixNano: t + 1_000_000n,
      periodNanos: PERIOD_NANOS + 0.4,
      samples,
      truncated: false,
      droppedSamples: 0,
    });
    start += 7_000_000n;
  }
  return profiles;
}

/** The same batch as one pprof profile, as a Pyroscope-style span profile: labels per sample. */
function encodePprof(profiles, { timestamps }) {
  const strings = new pprof.StringTable();
  const locations = [];
  const functions = [];
  const locationIds = new Map();
  const functionIds = new Map();
  const frameIds = new Map();
  const stackIds = new Map();
  const samples = [];
  const merged = new Map();
  const keys = {
    spanId: strings.dedup('span_id'),
    traceId: strings.dedup('trace_id'),
    spanName: strings.dedup('span_name'),
    end: strings.dedup('end_timestamp_ns'),
  };
  const locationOf = (f) => {
    let id = frameIds.get(f);
    if (id !== undefined) return id;
    const name = strings.dedup(f.functionName || '(anonymous)');
    const file = strings.dedup(f.fileName);
    const fkey = `${name}:${file}`;
    let functionId = functionIds.get(fkey);
    if (functionId === undefined) {
      functionId = functions.length + 1;
      functions.push(new pprof.Function({ id: functionId, name, systemName: name, filename: file }));
      functionIds.set(fkey, functionId);
    }
    const lkey = `${functionId}:${f.lineNumber}:${f.columnNumber}`;
    id = locationIds.get(lkey);
    if (id === undefined) {
      id = locations.length + 1;
      locations.push(new pprof.Location({ id, line: [new pprof.Line({ functionId, line: f.lineNumber, column: f.columnNumber })] }));
      locationIds.set(lkey, id);
    }
    frameIds.set(f, id);
    return id;
  };
  for (const p of profiles) {
    const traceLabel = new pprof.Label({ key: keys.traceId, str: strings.dedup(p.traceId) });
    const nameLabel = new pprof.Label({ key: keys.spanName, str: strings.dedup(p.rootSpanName) });
    for (const s of p.samples) {
      let ids = stackIds.get(s.stack);
      if (ids === undefined) {
        ids = s.stack.map(locationOf);
        stackIds.set(s.stack, ids);
      }
      const spanLabel = new pprof.Label({ key: keys.spanId, str: strings.dedup(s.spanId) });
      if (timestamps) {
        const label = [spanLabel, traceLabel, nameLabel, new pprof.Label({ key: keys.end, num: s.timeUnixNano })];
        samples.push(new pprof.Sample({ locationId: ids, value: [1, PERIOD_NANOS], label }));
      } else {
        const key = `${ids.join(',')}|${p.traceId}|${s.spanId}`;
        const existing = merged.get(key);
        if (existing !== undefined) {
          existing.value[0]++;
          existing.value[1] += PERIOD_NANOS;
        } else {
          const sample = new pprof.Sample({ locationId: ids, value: [1, PERIOD_NANOS], label: [spanLabel, traceLabel, nameLabel] });
          merged.set(key, sample);
          samples.push(sample);
        }
      }
    }
  }
  const periodType = new pprof.ValueType({ type: strings.dedup('cpu'), unit: strings.dedup('nanoseconds') });
  const profile = new pprof.Profile({
    sampleType: [new pprof.ValueType({ type: strings.dedup('samples'), unit: strings.dedup('count') }), periodType],
    sample: samples,
    location: locations,
    function: functions,
    stringTable: strings,
    timeNanos: profiles[0].startTimeUnixNano,
    durationNanos: Number(profiles[profiles.length - 1].endTimeUnixNano - profiles[0].startTimeUnixNano),
    periodType,
    period: PERIOD_NANOS,
  });
  return profile.encode();
}

// Runs every variant once per round, round after round, so drift on a shared machine (other
// processes, GC, CPU frequency) spreads over all variants instead of favouring one.
function timeInterleaved(fns) {
  const warm = Math.max(5, Math.floor(ITERATIONS / 4));
  const runs = fns.map(() => []);
  const outs = new Array(fns.length);
  for (let round = 0; round < warm + ITERATIONS; round++) {
    fns.forEach((fn, i) => {
      const t0 = performance.now();
      outs[i] = fn();
      if (round >= warm) runs[i].push(performance.now() - t0);
    });
  }
  return runs.map((r, i) => {
    r.sort((a, b) => a - b);
    return { medianMs: r[Math.floor(r.length / 2)], out: outs[i] };
  });
}

function main() {
  const pool = makeStackPool();
  const batch = makeBatch(pool, { copyFrames: false });
  const copied = makeBatch(makeStackPool(), { copyFrames: true });
  const sampleCount = batch.reduce((n, p) => n + p.samples.length, 0);
  const copiedCount = copied.reduce((n, p) => n + p.samples.length, 0);

  const variants = [
    ['OTLP protobuf, protobufjs reflection (build + encode)', () => encodeProtobuf(batch), sampleCount],
    ['  of which: build request model only', () => buildExportRequest(batch), sampleCount, true],
    ['OTLP protobuf, frames not shared (content keys only)', () => encodeProtobuf(copied), copiedCount],
    ['OTLP JSON', () => Buffer.from(encodeJson(batch)), sampleCount],
    ['pprof (pprof-format), per-sample timestamp labels', () => encodePprof(batch, { timestamps: true }), sampleCount],
    ['pprof (pprof-format), merged by stack+span, no timestamps', () => encodePprof(batch, { timestamps: false }), sampleCount],
  ];
  if (process.env.STATIC_ENCODER) {
    const root = require(path.resolve(process.env.STATIC_ENCODER));
    const Request = root.opentelemetry.proto.collector.profiles.v1development.ExportProfilesServiceRequest;
    const request = buildExportRequest(batch);
    variants.splice(2, 0,
      ['OTLP protobuf, protobufjs static code (build + encode)', () => Request.encode(buildExportRequest(batch)).finish(), sampleCount],
      ['  encode only, reflection', () => encodeRequestProtobuf(request), sampleCount],
      ['  encode only, static code', () => Request.encode(request).finish(), sampleCount],
    );
    // Both must produce the same bytes.
    const a = Buffer.from(encodeRequestProtobuf(request));
    const b = Buffer.from(Request.encode(request).finish());
    if (!a.equals(b)) throw new Error('static and reflection encoders disagree');
  }

  console.log(`node ${process.version}, ${ROOTS} roots, ${sampleCount} samples (${copiedCount} in the unshared batch), ` +
    `${DEPTH}-frame stacks from a pool of ${STACK_POOL}, median of ${ITERATIONS} runs`);
  const timed = timeInterleaved(variants.map(([, fn]) => fn));
  const encoded = variants.map(([, , , modelOnly], i) => (modelOnly ? undefined : timed[i].out));
  const gzipTimed = timeInterleaved(encoded.filter(Boolean).map((out) => () => zlib.gzipSync(out)));
  const rows = [];
  let g = 0;
  variants.forEach(([name, , count, modelOnly], i) => {
    const medianMs = timed[i].medianMs;
    const row = { variant: name, 'ms/batch': medianMs.toFixed(2), 'µs/sample': ((medianMs * 1000) / count).toFixed(2) };
    if (!modelOnly) {
      const out = timed[i].out;
      const gz = gzipTimed[g++];
      row['bytes/sample'] = (out.length / count).toFixed(1);
      row['gzip bytes/sample'] = (gz.out.length / count).toFixed(1);
      row['gzip µs/sample'] = ((gz.medianMs * 1000) / count).toFixed(2);
    }
    rows.push(row);
  });
  console.table(rows);
}

main();
