'use strict';
require('./priority').raise();
// Load generator process: a fixed number of requests at a fixed concurrency (closed loop),
// or at a fixed rate (open loop, for the event-loop scenario), over keep-alive connections.
// Latencies are kept exactly (microseconds, every request), because autocannon's histogram
// rounds to whole milliseconds, too coarse for a 3% p99 comparison at ~10-30 ms latencies.

const http = require('node:http');

function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[idx];
}

function run({ port, requests, concurrency, pathPrefix = '/', ratePerSecond }) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const latencies = new Float64Array(requests);
  let next = 0;
  let done = 0;
  let errors = 0;
  const start = process.hrtime.bigint();
  const cpuAtStart = process.cpuUsage();

  function one(i) {
    return new Promise((resolve) => {
      const t0 = process.hrtime.bigint();
      const req = http.request({ host: '127.0.0.1', port, path: `${pathPrefix}${i}`, agent }, (res) => {
        res.on('data', () => {});
        res.on('end', () => {
          latencies[i] = Number(process.hrtime.bigint() - t0) / 1e3;
          if (res.statusCode !== 200) errors++;
          done++;
          resolve();
        });
      });
      req.on('error', () => {
        errors++;
        done++;
        latencies[i] = NaN;
        resolve();
      });
      req.end();
    });
  }

  let work;
  if (ratePerSecond) {
    work = new Promise((resolve) => {
      let inFlight = 0;
      const timer = setInterval(() => {
        const due = Math.min(requests, Math.floor((Number(process.hrtime.bigint() - start) / 1e9) * ratePerSecond));
        while (next < due && inFlight < concurrency) {
          inFlight++;
          one(next++).then(() => {
            inFlight--;
            if (done === requests) {
              clearInterval(timer);
              resolve();
            }
          });
        }
      }, 1);
    });
  } else {
    const loops = [];
    for (let c = 0; c < concurrency; c++) {
      loops.push(
        (async () => {
          while (next < requests) await one(next++);
        })(),
      );
    }
    work = Promise.all(loops);
  }

  return work.then(() => {
    const durationSeconds = Number(process.hrtime.bigint() - start) / 1e9;
    agent.destroy();
    const sorted = Array.from(latencies)
      .filter((x) => !Number.isNaN(x))
      .sort((a, b) => a - b);
    const sum = sorted.reduce((a, b) => a + b, 0);
    const cpu = process.cpuUsage(cpuAtStart);
    return {
      requests,
      errors,
      cpuSeconds: (cpu.user + cpu.system) / 1e6,
      durationSeconds,
      throughputPerSecond: requests / durationSeconds,
      latencyMillis: {
        mean: sum / sorted.length / 1e3,
        p50: percentile(sorted, 50) / 1e3,
        p90: percentile(sorted, 90) / 1e3,
        p99: percentile(sorted, 99) / 1e3,
        max: sorted[sorted.length - 1] / 1e3,
      },
    };
  });
}

process.on('disconnect', () => process.exit(0));
process.on('message', (msg) => {
  run(msg).then(
    (result) => process.send({ type: 'result', result }, () => process.exit(0)),
    (err) => process.send({ type: 'error', message: String(err && err.stack) }, () => process.exit(1)),
  );
});
