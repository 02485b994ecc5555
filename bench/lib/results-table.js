'use strict';
// Prints the Markdown tables of RESULTS.md from bench/results/*.json.
// Run: node bench/lib/results-table.js

const fs = require('node:fs');
const path = require('node:path');
const { RESULTS_DIR } = require('./harness');

function load(name) {
  const file = path.join(RESULTS_DIR, `${name}.json`);
  return fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')) : undefined;
}
const f3 = (s) => (s ? `${s.min.toFixed(3)} / **${s.median.toFixed(3)}** / ${s.max.toFixed(3)}` : 'n/a');
const med = (s, d = 2) => (s ? s.median.toFixed(d) : 'n/a');

function overheadTable(names) {
  const out = [
    '| scenario (B vs its own baseline A) | pairs | throughput B/A | p50 latency B/A | p99 latency B/A | CPU s per 1k req, A -> B (ratio) | peak RSS MiB, A -> B | probes/s while sampling |',
    '|---|---|---|---|---|---|---|---|',
  ];
  for (const [label, name] of names) {
    const r = load(name);
    if (!r) continue;
    const a = r.absolute.a;
    const b = r.absolute.b;
    out.push(
      `| ${label} | ${r.options.pairs} | ${f3(r.ratios.throughputPerSecond)} | ${f3(r.ratios.latencyP50Millis)} | ${f3(r.ratios.latencyP99Millis)} | ` +
        `${med(a.cpuSecondsPer1kRequests, 3)} -> ${med(b.cpuSecondsPer1kRequests, 3)} (${f3(r.ratios.cpuSecondsPer1kRequests)}) | ` +
        `${med(a.peakRssMiB, 0)} -> ${med(b.peakRssMiB, 0)} | ${b.probesPerActiveSecond ? med(b.probesPerActiveSecond, 1) : '-'} |`,
    );
  }
  return out.join('\n');
}

function absoluteTable(names) {
  const out = [
    '| scenario | A: req/s, p50 ms, p99 ms | B: req/s, p50 ms, p99 ms | other work on the host (cores, median A / B) |',
    '|---|---|---|---|',
  ];
  for (const [label, name] of names) {
    const r = load(name);
    if (!r) continue;
    const a = r.absolute.a;
    const b = r.absolute.b;
    out.push(
      `| ${label} | ${med(a.throughputPerSecond, 0)}, ${med(a.latencyP50Millis)}, ${med(a.latencyP99Millis)} | ` +
        `${med(b.throughputPerSecond, 0)}, ${med(b.latencyP50Millis)}, ${med(b.latencyP99Millis)} | ${med(a.foreignCpuCores)} / ${med(b.foreignCpuCores)} |`,
    );
  }
  return out.join('\n');
}

function eventLoopTable() {
  const out = [
    '| case | pairs | ELD p99 ms, A -> B (medians) | ELD max ms, A -> B (medians) | worst max ms A / B |',
    '|---|---|---|---|---|',
  ];
  for (const [label, name] of [
    ['idle thread, one root open 10 s', 'event-loop-idle'],
    ['reference service at 300 req/s', 'event-loop-load'],
  ]) {
    const r = load(name);
    if (!r) continue;
    const a = r.absolute.a;
    const b = r.absolute.b;
    out.push(
      `| ${label} | ${r.options.pairs} | ${med(a.eventLoopDelayP99Millis, 3)} -> ${med(b.eventLoopDelayP99Millis, 3)} | ` +
        `${med(a.eventLoopDelayMaxMillis, 3)} -> ${med(b.eventLoopDelayMaxMillis, 3)} | ${a.eventLoopDelayMaxMillis.max.toFixed(3)} / ${b.eventLoopDelayMaxMillis.max.toFixed(3)} |`,
    );
  }
  return out.join('\n');
}

function accuracyTable() {
  const r = load('accuracy');
  if (!r) return '';
  const out = [
    '| profiler | samples with a request-unique hot frame | charged to the right request | charged to the right span |',
    '|---|---|---|---|',
  ];
  for (const [name, s] of Object.entries(r.results)) {
    const pc = (x) => (x === null || x === undefined ? 'n/a (per transaction only)' : `${(x * 100).toFixed(2)}%`);
    out.push(`| ${name} | ${s.hotSamples} | ${pc(s.rightRequestShare)} | ${pc(s.rightSpanShare)} |`);
  }
  return out.join('\n');
}

function interleavedTable() {
  const out = [
    '| workload | pairs x window | throughput on/off | CPU s per 1k req on/off | server p50 on/off | server p99 on/off | CPU s per 1k req, off -> on (medians) | probes/s on |',
    '|---|---|---|---|---|---|---|---|',
  ];
  for (const [label, name] of [
    ['reference service', 'otel-profiler-interleaved-mixed'],
    ['CPU-bound', 'otel-profiler-interleaved-cpu'],
    ['async-heavy', 'otel-profiler-interleaved-async'],
  ]) {
    const r = load(name);
    if (!r) continue;
    const q = r.ratios;
    out.push(
      `| ${label} | ${r.options.pairs} x ${r.options.windowSeconds} s | ${f3(q.throughputPerSecond)} | ${f3(q.cpuSecondsPer1kRequests)} | ${f3(q.serverLatencyP50Millis)} | ${f3(q.serverLatencyP99Millis)} | ` +
        `${med(r.absolute.a.cpuSecondsPer1kRequests, 3)} -> ${med(r.absolute.b.cpuSecondsPer1kRequests, 3)} | ${med(r.absolute.b.probesPerSecond, 1)} |`,
    );
  }
  return out.join('\n');
}

function pausesTable() {
  const runs = [
    ['pinned: both threads on CPU 0', load('event-loop-pauses')],
    ['not pinned', load('event-loop-pauses-free')],
  ].filter(([, r]) => r);
  if (runs.length === 0) return '';
  const head =
    '| pauses seen by a busy loop (median over runs, min..max) | ' + runs.map(([l]) => `${l}: without / with profiler`).join(' | ') + ' |';
  const sep = '|---|' + runs.map(() => '---|').join('');
  const cell = (r, k, d) => {
    const a = r.absolute.a[k];
    const b = r.absolute.b[k];
    return `${a.median.toFixed(d)} (${a.min.toFixed(d)}..${a.max.toFixed(d)}) / **${b.median.toFixed(d)}** (${b.min.toFixed(d)}..${b.max.toFixed(d)})`;
  };
  const row = (label, k, d) => `| ${label} | ` + runs.map(([, r]) => cell(r, k, d)).join(' | ') + ' |';
  return [
    head,
    sep,
    row('pauses > 200 us per second', 'pausesOver200MicrosPerSecond', 1),
    row('pauses > 1 ms per second', 'pausesOver1MillisPerSecond', 2),
    row('p99 pause (of pauses > 20 us), ms', 'pauseP99Millis', 3),
    row('longest pause, ms', 'pauseMaxMillis', 3),
  ].join('\n');
}

const overhead = [
  ['otel-span-profiler, reference service', 'otel-profiler-mixed'],
  ['otel-span-profiler, reference service, not pinned', 'otel-profiler-mixed-free'],
  ['otel-span-profiler, CPU-bound', 'sampling-overhead-cpu'],
  ['otel-span-profiler, async-heavy', 'sampling-overhead-async'],
  ['@sentry/profiling-node, reference service', 'sentry-profiler-mixed'],
  ['dd-trace profiler, reference service', 'dd-trace-profiler-mixed'],
];
console.log(overheadTable(overhead));
console.log();
console.log(absoluteTable(overhead));
console.log();
console.log(accuracyTable());
console.log();
console.log(eventLoopTable());
console.log();
console.log(pausesTable());
console.log();
console.log(interleavedTable());
