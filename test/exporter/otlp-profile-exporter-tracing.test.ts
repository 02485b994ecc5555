import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

describe('OTLPProfileExporter with @opentelemetry/instrumentation-http', () => {
  // In a child process: instrumentation patches the process-wide http module.
  let outcome: { plain: number; bareTransport: number; exporter: number; exportCode: number; requests: number };

  before(function () {
    this.timeout(30_000);
    const fixture = path.join(__dirname, 'fixtures', 'traced-export.js');
    const child = spawnSync(process.execPath, [fixture], { encoding: 'utf8', timeout: 25_000 });
    assert.equal(child.status, 0, `fixture failed: ${child.stderr}`);
    outcome = JSON.parse(child.stdout.trim()) as typeof outcome;
  });

  it('should see a plain http request traced (the instrumentation works)', () => {
    assert.equal(outcome.plain, 1);
  });

  it('should load http lazily, so instrumentation enabled after the transport was built still applies', () => {
    assert.equal(outcome.bareTransport, 1);
  });

  it("should not trace the exporter's own requests", () => {
    assert.equal(outcome.exportCode, 0);
    assert.equal(outcome.requests, 3);
    assert.equal(outcome.exporter, 0);
  });
});
