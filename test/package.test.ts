import * as assert from 'node:assert';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PACKAGE_NAME, PACKAGE_VERSION } from '../src/version';

// build/test/ -> the repository root.
const repo = path.join(__dirname, '..', '..');
const EXPORTS = ['FileProfileExporter', 'InMemoryProfileExporter', 'OTLPProfileExporter', 'ProfilingSpanProcessor'];

/** Runs a script placed inside the package (so `otel-span-profiler` resolves to it) and returns its stdout. */
function runInPackage(fileName: string, source: string): string {
  const file = path.join(repo, 'build', fileName);
  fs.writeFileSync(file, source);
  try {
    return execFileSync(process.execPath, [file], { cwd: repo, encoding: 'utf8' }).trim();
  } finally {
    fs.rmSync(file, { force: true });
  }
}

describe('the package', function () {
  it('should name itself and its version as package.json does', function () {
    const pkg = JSON.parse(fs.readFileSync(path.join(repo, 'package.json'), 'utf8'));
    assert.deepStrictEqual([PACKAGE_NAME, PACKAGE_VERSION], [pkg.name, pkg.version]);
  });

  it('should export the documented classes to require()', function () {
    const out = runInPackage('require-check.cjs', `console.log(Object.keys(require('otel-span-profiler')).sort().join(','));`);
    assert.strictEqual(out, EXPORTS.join(','));
  });

  it('should export the same classes as named ESM imports', function () {
    const out = runInPackage(
      'import-check.mjs',
      `import * as lib from 'otel-span-profiler';\nimport { ProfilingSpanProcessor } from 'otel-span-profiler';\n` +
        // 'default' and (Node 23+) 'module.exports' (the whole CommonJS exports) and '__esModule'
        // (tsc's interop marker) are how Node presents any CommonJS module to import.
        `const interop = new Set(['default', 'module.exports', '__esModule']);\n` +
        `console.log(Object.keys(lib).filter((k) => !interop.has(k)).sort().join(','), typeof ProfilingSpanProcessor);`,
    );
    assert.strictEqual(out, `${EXPORTS.join(',')} function`);
  });
});
