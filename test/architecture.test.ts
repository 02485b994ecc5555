import * as assert from 'node:assert';
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';

// build/test/ -> the repository root.
const repo = path.join(__dirname, '..', '..');
const DEPCRUISE = path.join(repo, 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruise.mjs');

/** The import circles dependency-cruiser finds under `folder` (relative to the repository), each as its files in order. */
function importCircles(folder: string): string[][] {
  let output: string;
  try {
    output = execFileSync(
      process.execPath,
      [DEPCRUISE, '--config', '.dependency-cruiser.cjs', '--output-type', 'json', folder],
      { cwd: repo, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
    );
  } catch (error) {
    // It exits non-zero when it finds a violation, with the report on stdout all the same.
    const stdout = (error as { stdout?: string }).stdout;
    if (typeof stdout !== 'string' || stdout === '') throw error;
    output = stdout;
  }
  const result = JSON.parse(output) as {
    summary: { violations: { from: string; rule: { name: string }; cycle?: { name: string }[] }[] };
  };
  return result.summary.violations
    .filter((violation) => violation.rule.name === 'no-circular')
    .map((violation) => [violation.from, ...(violation.cycle ?? []).map((step) => step.name)]);
}

describe('the source tree', function () {
  describe('imports', function () {
    // Each call parses every file of the folder with TypeScript: seconds, more on a loaded machine.
    this.timeout(60_000);

    it('should find a circle of type-only imports (the checker works)', function () {
      assert.deepStrictEqual(importCircles('test/fixtures/import-circle'), [
        ['test/fixtures/import-circle/left.ts', 'test/fixtures/import-circle/right.ts', 'test/fixtures/import-circle/left.ts'],
      ]);
    });

    it('should have no import circle in src/', function () {
      assert.deepStrictEqual(importCircles('src'), []);
    });
  });
});
