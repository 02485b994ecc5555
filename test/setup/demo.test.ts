import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { REPO } from './node-binaries';

interface JsonProfile {
  readonly samples?: { values?: (string | number)[]; timestampsUnixNano?: string[]; linkIndex?: number }[];
}
interface JsonRequest {
  readonly dictionary?: { linkTable?: { traceId?: string }[] };
  readonly resourceProfiles?: { scopeProfiles?: { profiles?: JsonProfile[] }[] }[];
}

/** Per trace ID: samples (timestamps) and CPU nanoseconds (the values), read from the file itself. */
function figuresByTrace(file: string): Map<string, { samples: number; cpuNanos: number }> {
  const out = new Map<string, { samples: number; cpuNanos: number }>();
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (line.trim() === '') continue;
    const request = JSON.parse(line) as JsonRequest;
    for (const resource of request.resourceProfiles ?? []) {
      for (const scope of resource.scopeProfiles ?? []) {
        for (const profile of scope.profiles ?? []) {
          for (const sample of profile.samples ?? []) {
            const traceId = request.dictionary?.linkTable?.[sample.linkIndex ?? 0]?.traceId ?? '';
            const acc = out.get(traceId) ?? { samples: 0, cpuNanos: 0 };
            acc.samples += sample.timestampsUnixNano?.length ?? 0;
            acc.cpuNanos += (sample.values ?? []).reduce<number>((sum, v) => sum + Number(v), 0);
            out.set(traceId, acc);
          }
        }
      }
    }
  }
  return out;
}

// Issue 21 §5: the demo printed each profile's CPU nanoseconds under the word "samples".
describe('npm run demo (examples/demo.js)', function () {
  this.timeout(180_000);

  it("should print each busy request's sample count and CPU time as the profiles file has them", () => {
    const env: NodeJS.ProcessEnv = { ...process.env, DEMO_SECONDS: '2' };
    for (const key of Object.keys(env)) if (key.startsWith('OTEL_')) delete env[key];
    const result = spawnSync(process.execPath, [path.join(REPO, 'examples', 'demo.js')], { cwd: REPO, env, encoding: 'utf8' });
    assert.equal(result.status, 0, `${result.stdout}\n${result.stderr}`);
    const figures = figuresByTrace(path.join(REPO, 'out', 'profiles.jsonl'));
    // "  GET /hash    trace 66b46534…    5 samples,  12.1 ms CPU: deriveKeyChain 5.4 ms, ..."
    const lines = [...result.stdout.matchAll(/trace ([0-9a-f]{8})…\s+(\d+) samples?,\s+([\d.]+) ms CPU: (.*)/g)];
    assert.ok(lines.length > 0, result.stdout);
    for (const [line, prefix, samples, cpuMillis, top] of lines) {
      const matches = [...figures].filter(([traceId]) => traceId.startsWith(prefix));
      assert.equal(matches.length, 1, line);
      const [, want] = matches[0];
      assert.equal(Number(samples), want.samples, line);
      assert.equal(cpuMillis, (want.cpuNanos / 1e6).toFixed(1), line);
      // The top functions' self CPU is part of the request's CPU.
      const parts = [...top.matchAll(/ ([\d.]+) ms/g)].map((m) => Number(m[1]));
      assert.ok(parts.length > 0 && parts.reduce((a, b) => a + b, 0) <= Number(cpuMillis) + 0.05 * parts.length, line);
    }
    assert.match(result.stdout, /self CPU time per route and function/);
  });
});
