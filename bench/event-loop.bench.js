'use strict';
// Event-loop impact: perf_hooks monitorEventLoopDelay (1 ms resolution) p99 and max, with and
// without otel-span-profiler, alternating pairs.
//  - idle: one profiled root stays open 10 s on an otherwise idle thread, so every delay the
//    profiler adds is its own probe (the pause it causes), not request work;
//  - moderate load: the reference service at a fixed 300 requests/s (open loop, ~1/3 of a core);
//  - pauses: requests that spin reading the clock record every gap over 20 us: the pauses that
//    running code sees (a probe, or the OS taking the core), counted and sized.
// Needs `npm run build` at the repository root first.
// Run: node bench/event-loop.bench.js [--pairs 5] [--rate 300] [--cases idle,load,pauses] [--no-pin]

const { runPairs, parseArgs, log } = require('./lib/harness');

async function main() {
  const opts = parseArgs({ pairs: 5, rate: 300, seconds: 10, pin: true, hz: 99, cases: 'idle,load,pauses' });
  const cases = String(opts.cases).split(',');
  const base = { tracer: 'otel', eldResolutionMillis: 1 };
  const idle =
    cases.includes('idle') &&
    (await runPairs({
      name: `event-loop-idle${opts.pin ? '' : '-free'}`,
      a: { ...base, workload: 'idle', profiler: false },
      b: { ...base, workload: 'idle', profiler: true, samplingFrequencyHz: opts.hz },
      pairs: opts.pairs,
      pin: opts.pin,
      requests: 1,
      concurrency: 1,
      warmupRequests: 0,
      pathPrefix: `/idle/${opts.seconds * 1000}?i=`,
    }));
  const loaded =
    cases.includes('load') &&
    (await runPairs({
      name: `event-loop-load${opts.pin ? '' : '-free'}`,
      a: { ...base, workload: 'mixed', profiler: false },
      b: { ...base, workload: 'mixed', profiler: true, samplingFrequencyHz: opts.hz },
      pairs: opts.pairs,
      pin: opts.pin,
      requests: opts.rate * opts.seconds,
      ratePerSecond: opts.rate,
      concurrency: 64,
      warmupRequests: 1000,
    }));
  // Pauses seen by running code: each request spins 200 ms reading the clock (one at a time),
  // and every gap over 20 us between two reads is a pause: a probe, or the OS/VM.
  const busy =
    cases.includes('pauses') &&
    (await runPairs({
      name: `event-loop-pauses${opts.pin ? '' : '-free'}`,
      a: { ...base, workload: 'gaps', profiler: false },
      b: { ...base, workload: 'gaps', profiler: true, samplingFrequencyHz: opts.hz },
      pairs: opts.pairs,
      pin: opts.pin,
      requests: opts.seconds * 5,
      concurrency: 1,
      warmupRequests: 5,
    }));
  if (busy) {
    const a = busy.absolute.a;
    const b = busy.absolute.b;
    log(
      `${busy.name}: pauses > 200 us per second ${a.pausesOver200MicrosPerSecond.median.toFixed(1)} -> ${b.pausesOver200MicrosPerSecond.median.toFixed(1)}, ` +
        `> 1 ms per second ${a.pausesOver1MillisPerSecond.median.toFixed(2)} -> ${b.pausesOver1MillisPerSecond.median.toFixed(2)}, ` +
        `p99 pause ${a.pauseP99Millis.median.toFixed(3)} -> ${b.pauseP99Millis.median.toFixed(3)} ms, max ${a.pauseMaxMillis.median.toFixed(3)} -> ${b.pauseMaxMillis.median.toFixed(3)} ms (medians over pairs)`,
    );
  }
  for (const r of [idle, loaded].filter(Boolean)) {
    const a = r.absolute.a;
    const b = r.absolute.b;
    log(
      `${r.name}: event-loop delay p99 ${a.eventLoopDelayP99Millis.median.toFixed(3)} -> ${b.eventLoopDelayP99Millis.median.toFixed(3)} ms, ` +
        `max ${a.eventLoopDelayMaxMillis.median.toFixed(3)} -> ${b.eventLoopDelayMaxMillis.median.toFixed(3)} ms (medians over pairs; ` +
        `worst max ${a.eventLoopDelayMaxMillis.max.toFixed(3)} -> ${b.eventLoopDelayMaxMillis.max.toFixed(3)} ms)`,
    );
  }
}
main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
