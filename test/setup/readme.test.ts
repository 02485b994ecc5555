import * as assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { REPO } from './node-binaries';
import { readQuickStart } from './readme-snippets';

const README = path.join(REPO, 'README.md');
const MAX_README_BYTES = 10_000;

/** GitHub's heading anchor: lowercase, punctuation dropped, spaces to hyphens. */
function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

function anchorsOf(file: string): Set<string> {
  const text = readFileSync(file, 'utf8').replace(/^```[\s\S]*?^```/gm, '');
  return new Set([...text.matchAll(/^#+ (.*)$/gm)].map((m) => slug(m[1])));
}

// Issue 21 §5: the README grew past what a reader takes in at once; details live in docs/.
describe('README.md', () => {
  it(`should be at most ${MAX_README_BYTES} bytes, details in docs/`, () => {
    const bytes = statSync(README).size;
    assert.ok(bytes <= MAX_README_BYTES, `README.md is ${bytes} bytes; move details to docs/ and link them`);
  });

  it('should link only to files and headings that exist', () => {
    const text = readFileSync(README, 'utf8');
    const links = [...text.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]).filter((link) => !/^[a-z]+:/i.test(link));
    assert.ok(links.length > 10, `${links.length} links`);
    for (const link of links) {
      const [file, anchor] = link.split('#');
      const target = file === '' ? README : path.join(REPO, file);
      assert.ok(existsSync(target), `${link}: no such file`);
      if (anchor !== undefined && target.endsWith('.md')) assert.ok(anchorsOf(target).has(anchor), `${link}: no such heading`);
    }
  });

  it('should keep the demo and test commands, and both quick start variants readable by their test', () => {
    const text = readFileSync(README, 'utf8');
    assert.match(text, /^npm ci && npm run demo$/m);
    assert.match(text, /^npm ci && npm test$/m);
    for (const [heading, file] of [
      ['OpenTelemetry JS 2.x', 'README.md'],
      ['OpenTelemetry JS 3.x', 'docs/getting-started.md'],
    ]) {
      const quickStart = readQuickStart(README, heading, path.join(REPO, file));
      assert.equal(quickStart.install.args[0], 'install', heading);
      assert.ok(quickStart.install.args.includes('otel-span-profiler'), heading);
    }
  });
});
