import * as assert from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { InMemoryProfileExporter } from '../../src/exporter/in-memory-profile-exporter';
import { ProfilingSpanProcessor } from '../../src/processor/processor';
import { repoRoot } from '../helpers/collector';
import { ENGINES, setUpProfiledTracing, spinUntilSampled, type ProfiledTracing } from '../helpers/tracing';

/** Every leaf of a stats object as `path: value`, e.g. `dropped.maxQueueSize`. */
function leaves(value: unknown, prefix = ''): Array<[string, unknown]> {
  if (typeof value !== 'object' || value === null) return [[prefix, value]];
  return Object.entries(value).flatMap(([key, v]) => leaves(v, prefix === '' ? key : `${prefix}.${key}`));
}

// Issue #9.10: a BigInt in stats made JSON.stringify (and Express's res.json) throw.
for (const engine of ENGINES)
  describe(`ProfilingSpanProcessor stats [${engine} engine]`, function () {
    let tracing: ProfiledTracing;
    before(async function () {
      tracing = setUpProfiledTracing({ engine });
      const { tracer, processor } = tracing;
      tracer.startActiveSpan('busy', (span) => {
        spinUntilSampled(processor, 2);
        span.end();
      });
      await processor.forceFlush();
    });
    after(async function () {
      await tracing.close();
    });

    it('should hold plain numbers and booleans only (null for a figure not measured yet; the engine name and reason are strings), so JSON.stringify round-trips it', function () {
      const stats = tracing.processor.stats;
      assert.ok(
        stats.engine.activeNanos > 0 && Number.isFinite(stats.engine.activeNanos),
        `activeNanos ${String(stats.engine.activeNanos)}`,
      );
      for (const [name, value] of leaves(stats)) {
        const isString = typeof value === 'string' && (name === 'engine.name' || name === 'engine.reason');
        assert.ok(isString || typeof value === 'number' || typeof value === 'boolean' || value === null, `${name} is a ${typeof value}`);
        if (typeof value === 'number') assert.ok(Number.isFinite(value), `${name} is ${value}, which JSON writes as null`);
      }
      assert.deepStrictEqual(JSON.parse(JSON.stringify(stats)), stats);
    });

    it('should document every field in docs/stats.md', async function () {
      const doc = fs.readFileSync(path.join(repoRoot(), 'docs', 'stats.md'), 'utf8');
      const documented = new Set([...doc.matchAll(/^\| `([a-zA-Z.]+)` \|/gm)].map((m) => m[1]));
      // Continuous mode adds its own fields (issue 20); the probe, so as not to contend for V8's profiler.
      const continuous = new ProfilingSpanProcessor({ exporter: new InMemoryProfileExporter(), engine: 'probe', mode: 'continuous' });
      const continuousFields = leaves(continuous.stats).map(([name]) => name);
      await continuous.shutdown();
      const fields = [...new Set([...leaves(tracing.processor.stats).map(([name]) => name), ...continuousFields])];
      assert.deepStrictEqual(
        fields.filter((f) => !documented.has(f)),
        [],
      );
      assert.deepStrictEqual(
        [...documented].filter((d) => !fields.includes(d)),
        [],
        'docs/stats.md names fields that do not exist',
      );
    });
  });
