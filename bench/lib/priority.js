'use strict';
// Sets this process's scheduling-group nice (see forkPinned in harness.js): with
// sched_autogroup on, this is what weighs against other sessions' processes.
const fs = require('node:fs');

function raise() {
  const nice = process.env.BENCH_NICE;
  if (!nice) return;
  try {
    fs.writeFileSync('/proc/self/autogroup', nice);
  } catch {
    // No autogroup support (or not permitted): plain nice from the harness still applies.
  }
}

module.exports = { raise };
