'use strict';
// Ground-truth workload for attribution accuracy: request k runs CPU in a function named
// hotRequest<k> that no other concurrent request runs, interleaved with timers, loop turns and
// a real file read; half of its CPU runs inside a child span (under the frame `inChildSpan`).
// The server records which span (and trace) each hot call ran under, so every sample whose
// stack holds hotRequest<k> has exactly one right answer.

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { setTimeout: sleep, setImmediate: yieldToLoop } = require('node:timers/promises');

const POOL_SIZE = 256;

function loadHotFunctions() {
  const file = path.join(os.tmpdir(), `bench-hot-functions-${process.pid}.js`);
  let src = "'use strict';\nmodule.exports = [];\n";
  for (let k = 0; k < POOL_SIZE; k++) {
    src +=
      `module.exports.push(function hotRequest${k}(iterations) {\n` +
      `  let x = ${k};\n` +
      `  for (let i = 0; i < iterations; i++) { x = (x + Math.imul(i ^ x, 2654435761)) | 0; }\n` +
      `  return x;\n});\n`;
  }
  fs.writeFileSync(file, src);
  const fns = require(file);
  fs.unlinkSync(file);
  return fns;
}

function createHotWorkload({ iterations = 400000 } = {}) {
  const hot = loadHotFunctions();
  /** spanId -> { k, kind, traceId } for every span a hot function ran under. */
  const truth = new Map();

  function record(tracing, k, kind) {
    const spanId = tracing.currentSpanId();
    if (spanId && !truth.has(spanId)) truth.set(spanId, { k, kind, traceId: tracing.currentTraceId() });
  }
  function inRootSpan(tracing, k) {
    record(tracing, k, 'root');
    return hot[k](iterations);
  }
  function inChildSpan(tracing, k) {
    record(tracing, k, 'child');
    return hot[k](iterations);
  }

  async function handle(req, tracing) {
    const k = Number(req.url.split('/')[2]) % POOL_SIZE;
    let acc = 0;
    acc += inRootSpan(tracing, k);
    await yieldToLoop();
    acc += await tracing.withSpan('child', async () => {
      await sleep(1);
      return inChildSpan(tracing, k);
    });
    await fs.promises.readFile(__filename);
    acc += inRootSpan(tracing, k);
    await sleep(0);
    acc += await tracing.withSpan('child', async () => inChildSpan(tracing, k));
    return JSON.stringify({ k, acc });
  }

  return { handle, truth, POOL_SIZE };
}

module.exports = { createHotWorkload };
