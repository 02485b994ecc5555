#!/usr/bin/env node
/* The `otel-span-profiler` executable (package.json `bin`). */
import { main } from './main';

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`otel-span-profiler: ${String(err)}\n`);
    process.exitCode = 1;
  },
);
