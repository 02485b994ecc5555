import * as assert from 'node:assert';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

// build/test/ -> the repository root.
const repo = path.join(__dirname, '..', '..');
const DEPCRUISE = path.join(repo, 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruise.mjs');

/** The import circles dependency-cruiser finds under `folder` (relative to the repository), each as its files in order. */
function importCircles(folder: string): string[][] {
  let output: string;
  try {
    output = execFileSync(process.execPath, [DEPCRUISE, '--config', '.dependency-cruiser.cjs', '--output-type', 'json', folder], {
      cwd: repo,
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    });
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

/** The folders named in the first column of docs/architecture.md's table of rooms. */
function documentedFolders(): string[] {
  const doc = fs.readFileSync(path.join(repo, 'docs', 'architecture.md'), 'utf8');
  const folders: string[] = [];
  for (const line of doc.split('\n')) {
    const cell = /^\| `([^`]+\/)` \|/.exec(line);
    if (cell !== null) folders.push(cell[1]);
  }
  return folders;
}

/** The folders directly inside `folder` (relative to the repository), as `folder/name/`. */
function subfolders(folder: string): string[] {
  return fs
    .readdirSync(path.join(repo, folder), { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => `${folder}/${entry.name}/`);
}

describe('docs/architecture.md', function () {
  it('should name rooms', function () {
    assert.ok(documentedFolders().length >= 10, `found only ${documentedFolders().join(', ')}`);
  });

  it('should name only folders that exist', function () {
    const missing = documentedFolders().filter((folder) => !fs.existsSync(path.join(repo, folder)));
    assert.deepStrictEqual(missing, []);
  });

  it('should name every folder of src/ and src/sampler/', function () {
    const documented = new Set(documentedFolders());
    const unnamed = [...subfolders('src'), ...subfolders('src/sampler')].filter((folder) => !documented.has(folder));
    assert.deepStrictEqual(unnamed, []);
  });
});
