import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildCollector } from '../helpers/collector';

describe('Collector test helper', function () {
  describe('buildCollector', function () {
    it("should reject with the builder's own error when the build fails, so Collector tests fail instead of skipping", async function () {
      // The cached builder is installed by the first real build: npm test's pretest step makes it;
      // run alone, a cold build happens here, with no time limit (22 min seen on 2 busy cores).
      this.timeout(0);
      await buildCollector();
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'otelcol-broken-'));
      const manifest = path.join(dir, 'manifest.yaml');
      fs.writeFileSync(manifest, 'dist:\n  name: broken\nreceivers:\n  - gomod: [this, is, not, a, module]\n');
      await assert.rejects(buildCollector({ OTELCOL_BUILDER_CONFIG: manifest }), (error: Error) => {
        assert.match(error.message, /building the OpenTelemetry Collector failed/);
        assert.match(error.message, /gomod|unmarshal|decode|cannot/i, "the builder's message is missing");
        return true;
      });
      fs.rmSync(dir, { recursive: true, force: true });
    });

    it('should reuse the cached binary', async function () {
      this.timeout(0); // a cold build, when run without npm test's pretest step (see above)
      const first = await buildCollector();
      const builtAt = fs.statSync(first).mtimeMs;
      const again = await buildCollector({});
      assert.equal(again, first);
      assert.equal(fs.statSync(again).mtimeMs, builtAt);
    });
  });
});
