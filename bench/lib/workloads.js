'use strict';
// Request handlers of the reference service. Each workload is an async function
// (req, tracing) -> response body string; `tracing.withSpan(name, fn)` opens a child span
// with whichever SDK the server runs, so the same code runs under OpenTelemetry, Sentry
// and dd-trace and only the tracer/profiler differs between scenarios.

const { setTimeout: sleep, setImmediate: yieldToLoop } = require('node:timers/promises');

// A ~8 KB request payload, built once: parsing and re-serializing it is the "JSON" part.
const ORDER_JSON = JSON.stringify({
  customer: { id: 'c-1029', name: 'Ada Lovelace', tier: 'gold', tags: ['a', 'b', 'c'] },
  items: Array.from({ length: 60 }, (_, i) => ({
    sku: `SKU-${1000 + i}`,
    title: `Item number ${i} with a descriptive title`,
    quantity: 1 + (i % 5),
    unitPriceCents: 199 + i * 37,
    attributes: { color: ['red', 'green', 'blue'][i % 3], size: ['S', 'M', 'L', 'XL'][i % 4] },
  })),
  shipping: { street: '1 Analytical Engine Way', city: 'London', zip: 'N1 9GU', country: 'UK' },
});

/** Simulated I/O: a database round trip is a timer, a cache hit is a loop turn. */
function fakeDatabaseQuery(millis) {
  return sleep(millis);
}
function fakeCacheLookup() {
  return yieldToLoop();
}

function priceOrder(order) {
  let total = 0;
  for (const item of order.items) {
    total += item.quantity * item.unitPriceCents;
  }
  return total;
}

// Deterministic CPU in a named function, roughly proportional to `rounds`.
function computeRiskScore(order, rounds) {
  let h = 2166136261;
  for (let r = 0; r < rounds; r++) {
    for (const item of order.items) {
      const s = item.sku;
      for (let i = 0; i < s.length; i++) {
        h ^= s.charCodeAt(i) + r;
        h = Math.imul(h, 16777619);
      }
    }
  }
  return h >>> 0;
}

function renderReceipt(order, total, score) {
  return JSON.stringify({
    ok: true,
    customer: order.customer.id,
    totalCents: total,
    riskScore: score,
    lines: order.items.map((it) => ({ sku: it.sku, title: it.title, qty: it.quantity })),
  });
}

/** The reference service: JSON in, some CPU in named functions, several awaits on simulated I/O. */
async function mixed(req, tracing) {
  const order = JSON.parse(ORDER_JSON);
  const customer = await tracing.withSpan('db.customer', () => fakeDatabaseQuery(1));
  void customer;
  await fakeCacheLookup();
  const total = priceOrder(order);
  const score = computeRiskScore(order, 500);
  await tracing.withSpan('db.inventory', () => fakeDatabaseQuery(1));
  await fakeCacheLookup();
  return renderReceipt(order, total, score);
}

function crunchNumbers(iterations) {
  let x = 0;
  for (let i = 1; i <= iterations; i++) {
    x += Math.sqrt(i) * Math.sin(i);
  }
  return x;
}

/** CPU-bound: ~2 ms of computation in named functions, one await. */
async function cpu(req, tracing) {
  const a = crunchNumbers(60000);
  await fakeCacheLookup();
  const b = await tracing.withSpan('compute', async () => crunchNumbers(60000));
  return JSON.stringify({ a, b });
}

async function resolveStep(i) {
  return i + 1;
}

/** Async-heavy: 1500 awaits and 30 loop turns per request, little CPU per step. */
async function asyncHeavy(req, tracing) {
  let n = 0;
  for (let round = 0; round < 30; round++) {
    for (let i = 0; i < 50; i++) {
      n = await resolveStep(n);
    }
    await fakeCacheLookup();
  }
  await tracing.withSpan('db.query', () => fakeDatabaseQuery(1));
  return JSON.stringify({ n });
}

/**
 * I/O-bound: ~0.5 ms of CPU around a 50 ms downstream call, as most services spend their
 * requests waiting. The thread sleeps most of the time while roots are open.
 */
async function ioBound(req, tracing) {
  const order = JSON.parse(ORDER_JSON);
  const total = priceOrder(order);
  await tracing.withSpan('downstream.call', () => fakeDatabaseQuery(50));
  return renderReceipt(order, total, computeRiskScore(order, 200));
}

/**
 * Deep stacks: the reference request run 40 frames below the handler, as in a framework with
 * many layers of middleware. A sample's cost grows with its stack on the probe engine.
 */
function descend(depth, fn) {
  return depth === 0 ? fn() : descend(depth - 1, fn);
}

async function deepStack(req, tracing) {
  const order = JSON.parse(ORDER_JSON);
  await tracing.withSpan('db.customer', () => fakeDatabaseQuery(1));
  await fakeCacheLookup();
  const total = descend(40, () => priceOrder(order));
  const score = descend(40, () => computeRiskScore(order, 500));
  await tracing.withSpan('db.inventory', () => fakeDatabaseQuery(1));
  await fakeCacheLookup();
  return descend(40, () => renderReceipt(order, total, score));
}

/** Holds a root span open doing nothing, so the sampler runs on an otherwise idle thread. */
async function idle(req, tracing) {
  await tracing.withSpan('wait', () => sleep(parseInt(req.url.split('/')[2], 10) || 5000));
  return '{}';
}

// Pauses seen by running code: a busy loop reads the clock and keeps every gap between two
// reads longer than 20 us. A probe (or anything else that takes the thread or the core away)
// shows up as one such gap, so their lengths are the pauses the running code experienced.
const GAP_FLOOR_MILLIS = 0.02;
let gaps = [];
let busyMillis = 0;

function spinAndRecordGaps(millis) {
  const { performance } = require('node:perf_hooks');
  const start = performance.now();
  let last = start;
  for (;;) {
    const now = performance.now();
    const gap = now - last;
    if (gap > GAP_FLOOR_MILLIS) gaps.push(gap);
    last = now;
    if (now - start >= millis) break;
  }
  busyMillis += last - start;
}

/** Busy for 200 ms inside a root span (and a child), recording pauses. */
async function busyGaps(req, tracing) {
  spinAndRecordGaps(100);
  await tracing.withSpan('busy', async () => spinAndRecordGaps(100));
  return '{}';
}

/** Gap statistics since the last call, then starts over. */
function takeGapStats() {
  const sorted = gaps.sort((a, b) => a - b);
  const seconds = busyMillis / 1000;
  const at = (p) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] : 0);
  const out = {
    busySeconds: seconds,
    gapsPerSecond: sorted.length / seconds,
    gapP50Millis: at(50),
    gapP99Millis: at(99),
    gapMaxMillis: sorted.length ? sorted[sorted.length - 1] : 0,
    gapsOver1MillisPerSecond: sorted.filter((g) => g > 1).length / seconds,
    gapsOver200MicrosPerSecond: sorted.filter((g) => g > 0.2).length / seconds,
  };
  gaps = [];
  busyMillis = 0;
  return out;
}

module.exports = { mixed, cpu, async: asyncHeavy, deep: deepStack, io: ioBound, idle, gaps: busyGaps, takeGapStats };
