#!/usr/bin/env node
'use strict';
// Issue #21 §1: the probe engine's inspector pattern without the library, to tell Node's own
// behaviour from ours. N workers each connect an inspector session to the main thread and post
// `Runtime.evaluate` (awaitPromise, a promise that never settles) as fast as they can, renewing
// the session every 16 probes; the main thread spins, then ends while they probe: by
// process.exit() (`exit`), with nothing left to run (`natural`: the workers are unref'ed) or by
// an uncaught exception (`throw`). No stop signal, no wait for the sessions to go: the worst case.
// Usage: node bench/inspector-exit-pattern.js [exit|natural|throw] [workers]
// Loop it from a shell and look at exit codes, e.g.:
//   for i in $(seq 60); do timeout 60 node bench/inspector-exit-pattern.js natural 3; echo $?; done | sort | uniq -c
const { Worker } = require('node:worker_threads');

const mode = process.argv[2] ?? 'exit';
const workers = Number(process.argv[3] ?? 1);
const source = `
const inspector = require('node:inspector');
const pause = new Int32Array(new SharedArrayBuffer(4));
const params = { expression: 'globalThis[Symbol.for("inspector-exit-pattern.probe")]()', silent: true, awaitPromise: true };
let session = new inspector.Session();
session.connectToMainThread();
let posted = 0;
function loop() {
  for (;;) {
    session.post('Runtime.evaluate', params);
    if (++posted % 16 === 0) {
      session.disconnect();
      session = new inspector.Session();
      session.connectToMainThread();
    }
    Atomics.wait(pause, 0, 0, 0.5);
    if (posted % 32 === 0) return setImmediate(loop);
  }
}
loop();
`;
const never = new Promise(() => {});
globalThis[Symbol.for('inspector-exit-pattern.probe')] = () => never;

function spin(millis) {
  const until = performance.now() + millis;
  let x = 0;
  while (performance.now() < until) x += Math.sqrt(x + 1);
  return x;
}

const started = [];
for (let i = 0; i < workers; i++) {
  const worker = new Worker(source, { eval: true, execArgv: [], env: {} });
  worker.unref();
  started.push(worker);
}
// Held until the first worker is up, then released: the end below happens while they probe.
const keepAlive = setInterval(() => {}, 1000);
started[0].once('online', () => {
  clearInterval(keepAlive);
  spin(30 + Math.random() * 40);
  if (mode === 'exit') process.exit(0);
  if (mode === 'throw') throw new Error('uncaught, on purpose');
});
