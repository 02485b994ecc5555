'use strict';
// Encode cost of one export batch: OTLP profiles (protobuf and JSON, from this package's dist/)
// next to the same samples as gzipped pprof (pprof-format), in one run on one machine.
// Usage: (cd .. && npm run build) && node --expose-gc encode.bench.js
//   STATIC_ENCODER=/path/static-profiles.js  also times protobufjs static code (pbjs static-module
//   output for ../proto; see RESULTS.md "## Encoding" for the command).
//   ROOTS=200 SAMPLES=20 DEPTH=30 ITERATIONS=40 to change the workload.
//   SOURCE_MAPS=0 skips the second table: the export-side cost of source-mapping the frames
//   (issue #13), side by side with the same batch unmapped, on scripts written to a temp dir.

const path = require('node:path');
const zlib = require('node:zlib');
const { performance } = require('node:perf_hooks');
const pprof = require('pprof-format');

const DIST = path.join(__dirname, '..', 'dist');
const { encodeProtobuf, encodeJson, encodeRequestProtobuf } = require(path.join(DIST, 'otlp', 'otlp-encoding.js'));
const { buildExportRequest } = require(path.join(DIST, 'otlp', 'otlp-request-builder.js'));

const { SourceMapper } = require(path.join(DIST, 'source-maps', 'source-maps.js'));

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
const hex = (bytes) =>
  Array.from({ length: bytes }, () =>
    Math.floor(random() * 256)
      .toString(16)
      .padStart(2, '0'),
  ).join('');

/**
 * A pool of stacks shaped like a Node web service: runtime and framework frames outside, app code inside.
 * `fileOf(path)` names each script (default: the path under /srv/app, which need not exist).
 */
function makeStackPool(fileOf = (file) => `/srv/app/${file}`) {
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
      framework.push(frame(name, fileOf(`node_modules/express/lib/${file}`)));
    }
  }
  const libraries = [];
  for (const lib of [
    'pg/lib/client.js',
    'pg-protocol/dist/parser.js',
    'ioredis/built/Redis.js',
    'ajv/dist/compile/index.js',
    'lodash/lodash.js',
  ]) {
    for (const name of ['query', 'parse', 'handleMessage', 'sendCommand', 'validate', 'cloneDeep', 'baseClone', '']) {
      libraries.push(frame(name, fileOf(`node_modules/${lib}`)));
    }
  }
  const app = [];
  for (const file of ['orders', 'users', 'cart', 'search', 'auth']) {
    for (const name of ['get', 'list', 'create', 'serialize', 'render', 'authorize', 'computeTotals', '']) {
      app.push(frame(name, fileOf(`src/handlers/${file}.js`)));
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
    variants.splice(
      2,
      0,
      ['OTLP protobuf, protobufjs static code (build + encode)', () => Request.encode(buildExportRequest(batch)).finish(), sampleCount],
      ['  encode only, reflection', () => encodeRequestProtobuf(request), sampleCount],
      ['  encode only, static code', () => Request.encode(request).finish(), sampleCount],
    );
    // Both must produce the same bytes.
    const a = Buffer.from(encodeRequestProtobuf(request));
    const b = Buffer.from(Request.encode(request).finish());
    if (!a.equals(b)) throw new Error('static and reflection encoders disagree');
  }

  console.log(
    `node ${process.version}, ${ROOTS} roots, ${sampleCount} samples (${copiedCount} in the unshared batch), ` +
      `${DEPTH}-frame stacks from a pool of ${STACK_POOL}, median of ${ITERATIONS} runs`,
  );
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

// ---- Source maps (issue #13): what mapping the frames adds to an export, per sample ----------

/** TypeScript for a script of about `functions` small functions (tsc spreads each over ~4 lines). */
function tsSource(functions) {
  const lines = [];
  for (let i = 0; i < functions; i++) {
    lines.push(
      `export function step${i}(order: { total: number; items: string[] }, rate: number): number { const t: number = order.total * rate + order.items.length; return t > ${i} ? t : step${i}(order, rate + 1); }`,
    );
  }
  return lines.join('\n') + '\n';
}

/**
 * Writes every script of the pool under `dir`, as tsc output; the scripts in `mapped` also get
 * a `.map` file and a sourceMappingURL comment, the others none (as most node_modules ship).
 */
function writeScripts(ts, dir, files, mapped) {
  const fs = require('node:fs');
  const source = tsSource(120);
  for (const file of files) {
    const script = path.join(dir, file);
    const tsFile = path.join(dir, 'ts', file.replace(/\.js$/, '.ts'));
    fs.mkdirSync(path.dirname(script), { recursive: true });
    const out = ts.transpileModule(source, {
      fileName: tsFile,
      compilerOptions: { sourceMap: true, target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.CommonJS },
    });
    if (mapped(file)) {
      const map = JSON.parse(out.sourceMapText);
      map.sources = [path.relative(path.dirname(script), tsFile)];
      fs.writeFileSync(`${script}.map`, JSON.stringify(map));
      fs.writeFileSync(script, out.outputText);
    } else {
      fs.writeFileSync(script, out.outputText.replace(/\/\/# sourceMappingURL=.*$/m, ''));
    }
  }
}

/**
 * Like timeInterleaved, for async work: per call, wall time and the main thread's busy time
 * (event-loop utilization's active time: waiting for the source-map thread is idle time).
 */
async function timeInterleavedAsync(fns) {
  const warm = Math.max(5, Math.floor(ITERATIONS / 4));
  const runs = fns.map(() => ({ wall: [], busy: [] }));
  const outs = new Array(fns.length);
  const median = (values) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)];
  for (let round = 0; round < warm + ITERATIONS; round++) {
    // Garbage left by the variants that allocate most (a batch of new stacks, listed last) is
    // collected between rounds, not on the next variant's time: run with --expose-gc. Once per
    // round only: a collection before every call ages the code of the variants that ran least
    // recently until V8 flushes and recompiles it, which then dominates their times.
    global.gc?.();
    // Every other round in reverse order: the variant that runs right after the collection
    // (or right after the most allocating one) is not always the same.
    const order = fns.map((_, i) => (round % 2 === 0 ? i : fns.length - 1 - i));
    for (const i of order) {
      const elu = performance.eventLoopUtilization();
      const t0 = performance.now();
      outs[i] = await fns[i](round);
      const wall = performance.now() - t0;
      const busy = performance.eventLoopUtilization(elu).active;
      if (round >= warm) {
        runs[i].wall.push(wall);
        runs[i].busy.push(Math.min(busy, wall));
      }
    }
  }
  return runs.map((r, i) => ({ medianMs: median(r.wall), busyMs: median(r.busy), out: outs[i] }));
}

async function sourceMapTable() {
  const fs = require('node:fs');
  const os = require('node:os');
  const ts = require('typescript');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'otel-span-profiler-encode-bench-'));
  try {
    const files = new Set();
    makeStackPool((file) => (files.add(file), file));
    // App code is compiled TypeScript with maps; of the libraries, two ship maps (as pg-protocol and ajv do).
    const mapped = (file) => file.startsWith('src/') || /pg-protocol|ajv/.test(file);
    writeScripts(ts, path.join(dir, 'with-maps'), files, mapped);
    writeScripts(ts, path.join(dir, 'plain'), files, () => false);
    const withMapsPool = makeStackPool((file) => path.join(dir, 'with-maps', file));
    const plainPool = makeStackPool((file) => path.join(dir, 'plain', file));
    const withMaps = makeBatch(withMapsPool, { copyFrames: false });
    const plain = makeBatch(plainPool, { copyFrames: false });
    const samples = withMaps.reduce((n, p) => n + p.samples.length, 0);
    const plainSamples = plain.reduce((n, p) => n + p.samples.length, 0);
    // Every stack new to the mapper in each round: the same batch over a fresh copy of the pool,
    // as after the sampler's interner starts over. Built before timing, so copying is not timed.
    const rounds = Math.max(5, Math.floor(ITERATIONS / 4)) + ITERATIONS;
    const freshBatches = Array.from({ length: rounds }, () => {
      const copies = new Map(withMapsPool.map((stack) => [stack, stack.map((f) => ({ ...f }))]));
      return withMaps.map((p) => ({ ...p, samples: p.samples.map((s) => ({ ...s, stack: copies.get(s.stack) })) }));
    });

    // Cold start: a new mapper starts its thread, which reads and decodes every map the batch
    // needs (once per process).
    const cold = [];
    const coldBusy = [];
    for (let i = 0; i < 5; i++) {
      const coldMapper = new SourceMapper({ projectDir: dir });
      const elu = performance.eventLoopUtilization();
      const t0 = performance.now();
      await coldMapper.mapProfiles(withMaps, 30_000);
      cold.push(performance.now() - t0);
      coldBusy.push(performance.eventLoopUtilization(elu).active);
      await coldMapper.shutdown();
    }
    cold.sort((a, b) => a - b);
    coldBusy.sort((a, b) => a - b);

    const mapper = new SourceMapper({ projectDir: dir });
    const plainMapper = new SourceMapper({ projectDir: dir });
    const mappedBatch = await mapper.mapProfiles(withMaps, 30_000);
    await plainMapper.mapProfiles(plain, 30_000);
    const stats = mapper.stats;
    console.log(
      `\nSource maps: ${samples} samples, ${files.size} scripts of which ${[...files].filter(mapped).length} with maps; ` +
        `median of ${ITERATIONS} runs. Cold start (thread start, read + decode the maps, first batch): ` +
        `${cold[2].toFixed(1)} ms, main thread busy ${coldBusy[2].toFixed(1)} ms (median of 5).`,
    );

    // 1. Encoding the mapped frames against the same frames unmapped (synchronous, as table 1).
    const encodeRuns = timeInterleaved([() => encodeProtobuf(withMaps), () => encodeProtobuf(mappedBatch)]);
    // 2. The mapping itself, on the main thread (its busy time: waiting for the thread is idle).
    const mapRuns = await timeInterleavedAsync([
      () => mapper.mapProfiles(withMaps, 30_000),
      (round) => mapper.mapProfiles(freshBatches[round], 30_000),
      () => plainMapper.mapProfiles(plain, 30_000),
    ]);
    const us = (ms, count = samples) => ((ms * 1000) / count).toFixed(2);
    const bytes = (out, count = samples) => `${(out.length / count).toFixed(1)} (gzip ${(zlib.gzipSync(out).length / count).toFixed(1)})`;
    console.table([
      {
        step: 'encode, frames as V8 reports them (sourceMaps off)',
        'main busy µs/sample': us(encodeRuns[0].medianMs),
        'bytes/sample': bytes(encodeRuns[0].out),
      },
      { step: 'encode, source-mapped frames', 'main busy µs/sample': us(encodeRuns[1].medianMs), 'bytes/sample': bytes(encodeRuns[1].out) },
      {
        step: 'map, app with maps, stacks seen before',
        'main busy µs/sample': us(mapRuns[0].busyMs),
        'wall µs/sample': us(mapRuns[0].medianMs),
      },
      {
        step: 'map, app with maps, every stack new',
        'main busy µs/sample': us(mapRuns[1].busyMs),
        'wall µs/sample': us(mapRuns[1].medianMs),
      },
      {
        step: 'map, scripts without maps (sourceMaps on, nothing to map)',
        'main busy µs/sample': us(mapRuns[2].busyMs, plainSamples),
        'wall µs/sample': us(mapRuns[2].medianMs, plainSamples),
      },
    ]);
    const off = encodeRuns[0].medianMs;
    const onSeen = encodeRuns[1].medianMs + mapRuns[0].busyMs;
    const onNew = encodeRuns[1].medianMs + mapRuns[1].busyMs;
    console.log(
      `Export-side main-thread time per sample (map + encode): sourceMaps off ${us(off)} µs; on ${us(onSeen)} µs ` +
        `(x${(onSeen / off).toFixed(2)}) with stacks seen before, ${us(onNew)} µs (x${(onNew / off).toFixed(2)}) when every stack is new. ` +
        `${stats.framesMapped} distinct frames mapped, ${stats.framesWithoutMapping} at positions their map does not cover (random columns).`,
    );
    await mapper.shutdown();
    await plainMapper.shutdown();
    await bigMap(ts, dir);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** One large map (a bundle-sized script): how long its first lookup takes, and what it holds in memory. */
async function bigMap(ts, dir) {
  const fs = require('node:fs');
  const script = path.join(dir, 'bundle', 'app.js');
  fs.mkdirSync(path.dirname(script), { recursive: true });
  const out = ts.transpileModule(tsSource(Number(process.env.BIG_MAP_FUNCTIONS ?? 20_000)), {
    fileName: path.join(dir, 'src', 'app.ts'),
    compilerOptions: { sourceMap: true, target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.CommonJS },
  });
  fs.writeFileSync(script, out.outputText);
  fs.writeFileSync(`${script}.map`, out.sourceMapText);
  const mappingsChars = JSON.parse(out.sourceMapText).mappings.length;
  const profile = { samples: [{ stack: [{ functionName: 'step1', fileName: script, lineNumber: 3, columnNumber: 5 }] }] };
  const mapper = new SourceMapper({ projectDir: dir });
  const elu = performance.eventLoopUtilization();
  const t0 = performance.now();
  await mapper.mapProfiles([profile], 30_000);
  const ms = performance.now() - t0;
  const busy = performance.eventLoopUtilization(elu).active;
  await mapper.shutdown();
  // What the decoded map holds, measured where the thread decodes it, in a heap of its own.
  const { Worker } = require('node:worker_threads');
  const held = await new Promise((resolve, reject) => {
    const worker = new Worker(
      `
      const { parentPort, workerData } = require('node:worker_threads');
      const fs = require('node:fs');
      const tm = require(workerData.traceMapping);
      const text = fs.readFileSync(workerData.map, 'utf8');
      require('node:v8').setFlagsFromString('--expose-gc');
      const collect = globalThis.gc ?? require('node:vm').runInNewContext('gc');
      collect(); const before = process.memoryUsage().heapUsed;
      const map = new tm.TraceMap(JSON.parse(text)); tm.decodedMappings(map);
      collect(); parentPort.postMessage(process.memoryUsage().heapUsed - before + (map ? 0 : 1));`,
      {
        eval: true,
        workerData: {
          map: `${script}.map`,
          traceMapping: require.resolve('@jridgewell/trace-mapping', { paths: [path.join(__dirname, '..')] }),
        },
      },
    );
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  console.log(
    `Large map: script ${(out.outputText.length / 1e6).toFixed(1)} MB, map ${(out.sourceMapText.length / 1e6).toFixed(1)} MB ` +
      `(${(mappingsChars / 1e6).toFixed(1)} M chars of mappings): first batch ${ms.toFixed(0)} ms, main thread busy ${busy.toFixed(1)} ms; ` +
      `decoded map ${(held / 1e6).toFixed(1)} MB of the thread's heap (${(held / mappingsChars).toFixed(1)} bytes per mappings char); ` +
      `mapped: ${mapper.stats.framesMapped === 1}`,
  );
}

main();
if (process.env.SOURCE_MAPS !== '0') {
  sourceMapTable().catch((error) => {
    console.error(error);
    process.exitCode = 1;
  });
}
