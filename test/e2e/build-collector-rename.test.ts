import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildCollector, repoRoot } from '../helpers/collector';

// Issue 21 §5: scripts/build-collector.sh moved "$OUT/src/otelcol-span-profiler" into place, so a
// manifest whose dist.name said anything else built fine and then failed at `mv`.
describe('scripts/build-collector.sh', function () {
  it('should build from a manifest whose dist.name is another name, and print the binary it built', async function () {
    // A real build into a fresh cache: the Go module and build caches make it a recompile and link.
    this.timeout(30 * 60_000);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'otelcol-renamed-'));
    try {
      const original = fs.readFileSync(path.join(repoRoot(), 'scripts', 'otelcol-builder.yaml'), 'utf8');
      assert.match(original, /^ {2}name: otelcol-span-profiler$/m);
      const manifest = path.join(dir, 'manifest.yaml');
      fs.writeFileSync(manifest, original.replace(/^ {2}name: otelcol-span-profiler$/m, '  name: otelcol-renamed-for-test'));
      const binary = await buildCollector({ OTELCOL_BUILDER_CONFIG: manifest, OTELCOL_CACHE_DIR: path.join(dir, 'cache') });
      assert.ok(binary.startsWith(path.join(dir, 'cache')), binary);
      const components = execFileSync(binary, ['components'], { encoding: 'utf8' });
      assert.match(components, /otlp/);
      // Built once, then reused.
      assert.equal(await buildCollector({ OTELCOL_BUILDER_CONFIG: manifest, OTELCOL_CACHE_DIR: path.join(dir, 'cache') }), binary);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
