import * as assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CONTINUOUS, profilesRequest } from '../viewer/hostile-profile';

const BIN = join(__dirname, '..', '..', 'src', 'cli', 'bin.js');

describe('otel-span-profiler view', function () {
  // Tests start the viewer as a child process and wait for it (up to 5 s for one test seen on a busy 2-core machine).
  this.timeout(60_000);

  it('should serve on 127.0.0.1, answer the API, write nothing, and exit 0 on SIGTERM', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'osp-view-cwd-'));
    const child = spawn(process.execPath, [BIN, 'view', '--port', '0', '--otlp-port', '0', '--max-traces', '10'], {
      cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = once(child, 'exit');
    let out = '';
    const urls = await new Promise<{ ui: string; otlp: string }>((resolve, reject) => {
      child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
        out += chunk;
        const ui = /viewer: (http:\/\/\S+)\//.exec(out);
        const otlp = /OTLP\/HTTP endpoint: (http:\/\/\S+)/.exec(out);
        if (ui && otlp) resolve({ ui: ui[1], otlp: otlp[1] });
      });
      child.once('exit', (code) => reject(new Error(`view exited with ${code}: ${out}`)));
    });
    assert.match(urls.ui, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.match(urls.otlp, /^http:\/\/127\.0\.0\.1:\d+$/);
    const res = await fetch(`${urls.ui}/api/traces`);
    assert.equal(res.status, 200);
    assert.deepEqual(((await res.json()) as { roots: unknown[] }).roots, []);
    const posted = await fetch(`${urls.otlp}/v1/traces`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"resourceSpans":[]}',
    });
    assert.equal(posted.status, 200);
    child.kill('SIGTERM');
    const [code] = await exited;
    assert.equal(code, 0);
    assert.deepEqual(readdirSync(cwd), [], 'view wrote files without --out');
  });

  it('should exit 2 without inputs or an OTLP port, or with a bad port, and 3 on a bad file', () => {
    assert.equal(spawnSync(process.execPath, [BIN, 'view']).status, 2);
    assert.equal(spawnSync(process.execPath, [BIN, 'view', '--port', 'abc', 'x']).status, 2);
    const badBound = spawnSync(process.execPath, [BIN, 'view', '--max-process-samples', '0', 'x'], { encoding: 'utf8' });
    assert.equal(badBound.status, 2);
    assert.match(badBound.stderr, /--max-process-samples must be a positive integer, got '0'/);
    const bad = join(mkdtempSync(join(tmpdir(), 'osp-view-bad-')), 'bad.jsonl');
    writeFileSync(bad, 'not json\n');
    const result = spawnSync(process.execPath, [BIN, 'view', '--port', '0', bad], { encoding: 'utf8' });
    assert.equal(result.status, 3);
    assert.match(result.stderr, /bad\.jsonl:1: not valid JSON/);
  });

  it('should keep the last --max-process-samples samples of process profiles for GET /api/process', async () => {
    const child = spawn(process.execPath, [BIN, 'view', '--port', '0', '--otlp-port', '0', '--max-process-samples', '2'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = once(child, 'exit');
    try {
      let out = '';
      const urls = await new Promise<{ ui: string; otlp: string }>((resolve, reject) => {
        child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
          out += chunk;
          const ui = /viewer: (http:\/\/\S+)\//.exec(out);
          const otlp = /OTLP\/HTTP endpoint: (http:\/\/\S+)/.exec(out);
          if (ui && otlp) resolve({ ui: ui[1], otlp: otlp[1] });
        });
        child.once('exit', (code) => reject(new Error(`view exited with ${code}: ${out}`)));
      });
      for (const leaf of ['first', 'second', 'third']) {
        const { request } = profilesRequest({
          functions: ['main', leaf],
          values: [1_000_000],
          unlinked: true,
          profileAttributes: [CONTINUOUS],
        });
        const posted = await fetch(`${urls.otlp}/v1development/profiles`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(request),
        });
        assert.equal(posted.status, 200);
      }
      const view = (await (await fetch(`${urls.ui}/api/process`)).json()) as {
        totalSamples: number;
        topOutsideSpans: { name: string }[];
        stats: { processSamplesDropped: number };
      };
      assert.equal(view.totalSamples, 2);
      assert.deepEqual(view.topOutsideSpans.map((f) => f.name).sort(), ['second', 'third']);
      assert.equal(view.stats.processSamplesDropped, 1);
    } finally {
      child.kill('SIGTERM');
      await exited;
    }
  });
});
