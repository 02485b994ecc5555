'use strict';
// Memory soak: 1 million profiled requests of the reference service through one server with
// otel-span-profiler (99 Hz, every root profiled, profiles counted and dropped by the exporter),
// heap and RSS sampled every 5 s by the server into results/memory-soak[-baseline].csv. The slope
// after warm-up (the first 20% of requests) is fitted by least squares and reported per 100k
// requests. Stops by itself when the requests are done; `--max-minutes` kills it regardless.
// Needs `npm run build` at the repository root first.
// Run: node bench/memory-soak.bench.js [--requests 1000000] [--concurrency 64] [--baseline] [--max-minutes 60]

const fs = require('node:fs');
const path = require('node:path');
const { spawnServer, runLoad, parseArgs, save, machine, log, pinSelf, RESULTS_DIR } = require('./lib/harness');

function fit(points) {
  const n = points.length;
  const mx = points.reduce((a, p) => a + p[0], 0) / n;
  const my = points.reduce((a, p) => a + p[1], 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (const [x, y] of points) {
    sxy += (x - mx) * (y - my);
    sxx += (x - mx) ** 2;
  }
  return { slope: sxy / sxx, intercept: my - (sxy / sxx) * mx };
}

function analyse(csvPath, totalRequests) {
  const rows = fs
    .readFileSync(csvPath, 'utf8')
    .trim()
    .split('\n')
    .slice(1)
    .map((l) => l.split(',').map(Number));
  const after = rows.filter((r) => r[1] >= totalRequests * 0.2 && r[1] < totalRequests);
  const per100k = (col) => fit(after.map((r) => [r[1] / 1e5, r[col] / 2 ** 20])).slope;
  const col = (i) => after.map((r) => r[i] / 2 ** 20);
  return {
    samples: rows.length,
    samplesAfterWarmup: after.length,
    rssSlopeMiBPer100kRequests: per100k(2),
    heapUsedSlopeMiBPer100kRequests: per100k(3),
    rssMiBAfterWarmup: { min: Math.min(...col(2)), max: Math.max(...col(2)) },
    heapUsedMiBAfterWarmup: { min: Math.min(...col(3)), max: Math.max(...col(3)) },
  };
}

async function main() {
  const opts = parseArgs({ requests: 1_000_000, concurrency: 64, pin: true, baseline: false, maxMinutes: 60 });
  if (opts.pin) pinSelf(1);
  const name = opts.baseline ? 'memory-soak-baseline' : 'memory-soak';
  const csv = path.join(RESULTS_DIR, `${name}.csv`);
  fs.mkdirSync(RESULTS_DIR, { recursive: true });
  const server = await spawnServer(
    { tracer: 'otel', workload: 'mixed', profiler: !opts.baseline, memoryCsvPath: csv, memorySampleMillis: 5000 },
    { pin: opts.pin },
  );
  const killer = setTimeout(() => {
    log(`memory soak: still running after ${opts.maxMinutes} min, killing it`);
    server.child.kill('SIGKILL');
    process.exit(2);
  }, opts.maxMinutes * 60_000);
  killer.unref();
  const started = Date.now();
  const client = await runLoad({ port: server.port, requests: opts.requests, concurrency: opts.concurrency, pin: opts.pin });
  const { stats } = await server.call('stats');
  await new Promise((r) => setTimeout(r, 6000)); // one more memory sample after the last request
  await server.stop();
  clearTimeout(killer);
  const result = {
    name,
    date: new Date().toISOString(),
    machine: machine(),
    options: opts,
    minutes: (Date.now() - started) / 60000,
    client,
    server: stats,
    memory: analyse(csv, opts.requests),
  };
  save(name, result);
  log(JSON.stringify({ throughput: client.throughputPerSecond, memory: result.memory, profiler: stats.profiler }, null, 1));
}
main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
