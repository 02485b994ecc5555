'use strict';
// Attribution accuracy on a ground-truth workload: concurrent requests, each running CPU in a
// function unique to it (hotRequest<k>), half of it inside a child span, interleaved with
// timers, loop turns and a real file read (lib/hot-workload.js). For every sample whose stack
// holds hotRequest<k>, the right answer is known: request k's trace, and its child span when
// the stack also holds inChildSpan. We report, per profiler, the share of such samples charged
// to the right request and to the right span.
//  - otel-span-profiler: each sample carries the active span id (InMemoryProfileExporter).
//  - Sentry: a sample belongs to the transaction whose profile holds it; profiles overlap, so
//    one CPU instant is repeated in every transaction open at that time.
//  - dd-trace: pprof samples carry 'span id' / 'local root span id' labels (code hotspots).
// Run: node bench/accuracy.bench.js [--requests 3000] [--concurrency 50] [--profilers otel,sentry,dd-trace]

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const zlib = require('node:zlib');
const { spawnServer, runLoad, startAgentSink, parseArgs, save, machine, log, pinSelf } = require('./lib/harness');

async function measure(tracer, opts, extra = {}) {
  const config = { tracer, workload: 'hot', profiler: true, keepProfiles: true, ...extra };
  // dd-trace's file exporter writes its event JSON into the working directory.
  const server = await spawnServer(config, { pin: opts.pin, cwd: extra.ddPprofDir });
  let collected;
  try {
    await runLoad({ port: server.port, requests: opts.requests, concurrency: opts.concurrency, pathPrefix: '/hot/', pin: opts.pin });
    if (opts.afterLoad) await opts.afterLoad();
    collected = await server.call('collect');
  } finally {
    await server.stop();
  }
  return collected;
}

function score(hotSamples, truth, { bySpan, weight = () => 1 }) {
  const spans = new Map(truth);
  const traceToK = new Map();
  for (const [, t] of truth) traceToK.set(t.traceId, t.k);
  let total = 0;
  let rightRequest = 0;
  let rightSpan = 0;
  for (const s of hotSamples) {
    const w = weight(s);
    total += w;
    if (bySpan) {
      const t = spans.get(s.spanId);
      if (t && t.k === s.k) {
        rightRequest += w;
        if ((t.kind === 'child') === s.inChild) rightSpan += w;
      }
    } else if (traceToK.get(s.traceId) === s.k) {
      rightRequest += w;
    }
  }
  return {
    hotSamples: total,
    rightRequestShare: total ? rightRequest / total : NaN,
    rightSpanShare: bySpan && total ? rightSpan / total : null,
  };
}

function readDdPprofSamples(dir) {
  const { Profile } = require('pprof-format');
  const out = [];
  for (const file of fs.readdirSync(dir).filter((f) => f.startsWith('wall') && f.endsWith('.pprof'))) {
    let buf = fs.readFileSync(path.join(dir, file));
    if (buf[0] === 0x1f && buf[1] === 0x8b) buf = zlib.gunzipSync(buf);
    const p = Profile.decode(buf);
    const str = p.stringTable.strings;
    const fnName = new Map(p.function.map((f) => [String(f.id), str[Number(f.name)]]));
    const locFns = new Map(p.location.map((l) => [String(l.id), l.line.map((ln) => fnName.get(String(ln.functionId)))]));
    for (const s of p.sample) {
      const functions = s.locationId.flatMap((id) => locFns.get(String(id)) || []);
      const hot = functions.find((f) => /^hotRequest\d+$/.test(f));
      if (!hot) continue;
      const labels = {};
      for (const l of s.label) labels[str[Number(l.key)]] = Number(l.str) ? str[Number(l.str)] : String(l.num);
      out.push({
        spanId: labels['span id'],
        rootSpanId: labels['local root span id'],
        k: Number(hot.slice(10)),
        inChild: functions.includes('inChildSpan'),
        count: Number(s.value[0]),
      });
    }
  }
  return out;
}

async function main() {
  const opts = parseArgs({ requests: 3000, concurrency: 50, pin: true, profilers: 'otel,sentry,dd-trace' });
  if (opts.pin) pinSelf(1);
  const results = {};
  for (const name of String(opts.profilers).split(',')) {
    if (name === 'otel') {
      const c = await measure('otel', opts);
      results['otel-span-profiler'] = {
        ...score(c.samples.hot, c.truth, { bySpan: true }),
        allSamples: c.samples.total,
        probes: c.profiler && c.profiler.probes,
      };
    } else if (name === 'sentry') {
      const c = await measure('sentry', opts);
      results['@sentry/profiling-node'] = {
        ...score(c.samples.hot, c.truth, { bySpan: false }),
        allSamples: c.samples.total,
        profiles: c.profiler && c.profiler.profiles,
      };
    } else if (name === 'dd-trace') {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-dd-pprof-'));
      const sink = await startAgentSink();
      const uploadSeconds = 3;
      const c = await measure(
        'dd-trace',
        { ...opts, afterLoad: () => new Promise((r) => setTimeout(r, (uploadSeconds + 2) * 1000)) },
        { agentUrl: sink.url, ddPprofDir: dir, ddUploadPeriodSeconds: uploadSeconds },
      );
      sink.close();
      const samples = readDdPprofSamples(dir);
      fs.rmSync(dir, { recursive: true, force: true });
      results['dd-trace profiler'] = {
        ...score(samples, c.truth, { bySpan: true, weight: (s) => s.count }),
        pprofSamplesWithHotFrame: samples.length,
      };
    }
    log(`${name}: ${JSON.stringify(results[Object.keys(results).pop()])}`);
  }
  save('accuracy', { name: 'accuracy', date: new Date().toISOString(), machine: machine(), options: opts, results });
}
main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
