// @ts-check
/**
 * The demo: starts examples/service.js with profiling on, sends it a few seconds of concurrent
 * requests, stops it cleanly, then shows where each request spent its CPU.
 *
 *   npm run demo                  (builds the package unless dist/ is up to date, then runs this file)
 *
 * With no OTLP endpoint configured, the service writes profiles to a file (OTLP JSON, one export
 * per line) and this prints, for the busiest root spans, their sample count, CPU time and top
 * functions by self CPU time. With OTEL_EXPORTER_OTLP_ENDPOINT set (e.g. http://localhost:4318, an
 * OpenTelemetry Collector), traces and profiles go there instead. DEMO_SECONDS and DEMO_CONCURRENCY tune the load.
 */
'use strict';

const { spawn } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { once } = require('node:events');
const { runLoad, ROUTES } = require('./load');
const { readProfileFile, summarizeProfiles } = require('./profile-summary');

const root = path.join(__dirname, '..');
const seconds = Number(process.env.DEMO_SECONDS || 4);
const concurrency = Number(process.env.DEMO_CONCURRENCY || 6);
const otlpEndpoint = process.env.OTEL_EXPORTER_OTLP_PROFILES_ENDPOINT || process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
const profilesFile = path.join(root, 'out', 'profiles.jsonl');
const tracesFile = path.join(root, 'out', 'traces.jsonl');

async function main() {
  if (!fs.existsSync(path.join(root, 'dist', 'index.js'))) {
    throw new Error('dist/ is missing: run `npm run build` first (or `npm run demo`, which builds)');
  }
  fs.mkdirSync(path.dirname(profilesFile), { recursive: true });
  fs.rmSync(profilesFile, { force: true });
  fs.rmSync(tracesFile, { force: true });

  const service = spawn(process.execPath, [path.join(__dirname, 'service.js')], {
    env: {
      ...process.env,
      PROFILES_FILE: profilesFile,
      TRACES_FILE: tracesFile,
      OTEL_SERVICE_NAME: process.env.OTEL_SERVICE_NAME || 'otel-span-profiler-demo',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = once(service, 'exit');
  const baseUrl = await new Promise((resolve, reject) => {
    let out = '';
    service.stdout.setEncoding('utf8').on('data', (chunk) => {
      out += chunk;
      const match = /listening on (http:\/\/\S+)/.exec(out);
      if (match) resolve(match[1]);
    });
    service.once('exit', (code) => reject(new Error(`the service exited (code ${code}) before listening`)));
  });

  console.log(`service at ${baseUrl}; ${seconds} s of load on ${ROUTES.join(', ')}, ${concurrency} at a time...`);
  const load = await runLoad(String(baseUrl), { durationMillis: seconds * 1000, concurrency, maxRequests: 2000 });
  console.log(`${load.ok} requests answered (${load.failed} failed)`);

  service.kill('SIGTERM');
  const [code] = await Promise.race([
    exited,
    new Promise((_, reject) => setTimeout(() => reject(new Error('the service did not exit within 20 s of SIGTERM')), 20_000).unref()),
  ]);
  if (code !== 0) throw new Error(`the service exited with code ${code}`);

  if (otlpEndpoint) {
    console.log(`traces and profiles were sent to ${otlpEndpoint}`);
    return;
  }
  const requests = readProfileFile(profilesFile);
  const summary = summarizeProfiles(requests);
  console.log(`\n${summary.profiles.length} profiled root spans in ${path.relative(process.cwd(), profilesFile)}; the busiest:`);
  for (const profile of summary.profiles.slice(0, 12)) {
    const figures = `${String(profile.samples).padStart(3)} sample${profile.samples === 1 ? ' ' : 's'}, ${formatMillis(profile.cpuNanos).padStart(8)} CPU`;
    console.log(
      `  ${profile.rootName.padEnd(12)} trace ${profile.traceId.slice(0, 8)}…  ${figures}: ${formatTop(profile.selfCpuByFunction)}`,
    );
  }
  console.log('\nself CPU time per route and function (all profiles):');
  for (const [rootName, byFunction] of summary.byRoot) {
    console.log(`  ${rootName.padEnd(12)} ${formatTop(byFunction)}`);
  }
  const outDir = path.relative(process.cwd(), path.dirname(profilesFile)) || '.';
  console.log(`\nSee every request's span waterfall, CPU per span and flame graphs in your browser:`);
  console.log(`  npx otel-span-profiler view ${outDir}`);
  console.log('then open http://127.0.0.1:8686/');
}

/** @param {Map<string, number>} cpuNanosByFunction */
function formatTop(cpuNanosByFunction) {
  return [...cpuNanosByFunction]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 4)
    .map(([name, nanos]) => `${name} ${formatMillis(nanos)}`)
    .join(', ');
}

/** @param {number} nanos */
function formatMillis(nanos) {
  return `${(nanos / 1e6).toFixed(1)} ms`;
}

main().catch((error) => {
  console.error(`demo failed: ${error instanceof Error ? error.message : error}`);
  process.exitCode = 1;
});
