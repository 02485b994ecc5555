'use strict';
// Summarises a V8 .cpuprofile: self time per function, and the total time spent in (or under)
// frames from a given path fragment, e.g. the library's dist/.
// Run: node bench/lib/cpuprofile-summary.js FILE.cpuprofile [pathFragment] [top]

const fs = require('node:fs');

function summarise(file, fragment = 'bench-dist', top = 25) {
  const prof = JSON.parse(fs.readFileSync(file, 'utf8'));
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of prof.nodes) for (const c of n.children || []) parent.set(c, n.id);
  const selfMicros = new Map();
  const dt = prof.timeDeltas;
  for (let i = 0; i < prof.samples.length; i++) {
    const d = dt[i + 1] ?? 0;
    selfMicros.set(prof.samples[i], (selfMicros.get(prof.samples[i]) || 0) + d);
  }
  const total = [...selfMicros.values()].reduce((a, b) => a + b, 0);
  const bySelf = new Map();
  let under = 0;
  const underFn = new Map();
  for (const [id, us] of selfMicros) {
    const n = byId.get(id);
    const cf = n.callFrame;
    const key = `${cf.functionName || '(anonymous)'} ${cf.url.split('/').slice(-2).join('/')}:${cf.lineNumber + 1}`;
    bySelf.set(key, (bySelf.get(key) || 0) + us);
    // Charged to the library if any frame on the path is the library's.
    let cur = id;
    let libFrame;
    while (cur !== undefined) {
      const c = byId.get(cur).callFrame;
      if (c.url.includes(fragment))
        libFrame = `${c.functionName || '(anonymous)'} ${c.url.split('/').slice(-2).join('/')}:${c.lineNumber + 1}`;
      cur = parent.get(cur);
    }
    if (libFrame) {
      under += us;
      underFn.set(libFrame, (underFn.get(libFrame) || 0) + us);
    }
  }
  const idle = [...selfMicros].filter(([id]) =>
    ['(idle)', '(program)', '(garbage collector)'].includes(byId.get(id).callFrame.functionName),
  );
  return {
    totalMillis: total / 1e3,
    idleProgramGcMillis: Object.fromEntries(idle.map(([id, us]) => [byId.get(id).callFrame.functionName, us / 1e3])),
    underLibraryMillis: under / 1e3,
    underLibraryShareOfBusy: under / (total - idle.reduce((a, [, us]) => a + us, 0)),
    topUnderLibrary: [...underFn]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([k, us]) => [k, +(us / 1e3).toFixed(2)]),
    topSelf: [...bySelf]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([k, us]) => [k, +(us / 1e3).toFixed(2)]),
  };
}

if (require.main === module) {
  const [file, fragment, top] = process.argv.slice(2);
  console.log(JSON.stringify(summarise(file, fragment, top ? Number(top) : undefined), null, 1));
}
module.exports = { summarise };
