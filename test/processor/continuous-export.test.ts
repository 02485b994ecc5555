import * as assert from 'node:assert';
import { OTLPProfileExporter } from '../../src/exporter/otlp-profile-exporter';
import { decodeWithBuf, type Decoded } from '../helpers/decode-buf';
import { attributesOf, profilesOf } from '../helpers/decode-resolve';
import { LoopbackServer, reply } from '../helpers/loopback-server';
import { ENGINES, namedHotFunction, setUpProfiledTracing, type ProfiledTracing } from '../helpers/tracing';

// Issue 20 §3: a period whose export meets a briefly unavailable collector is retried, not lost.
for (const engine of ENGINES)
  describe(`ProfilingSpanProcessor continuous mode export [${engine} engine]`, function () {
    let server: LoopbackServer;
    let tracing: ProfiledTracing | undefined;

    beforeEach(async function () {
      server = await new LoopbackServer().start();
    });
    afterEach(async function () {
      await tracing?.close();
      tracing = undefined;
      await server.stop();
    });

    it('should deliver the period once the collector answers again, after two 503s', async function () {
      server.script(reply(503, { headers: { 'retry-after': '0' } }), reply(503, { headers: { 'retry-after': '0' } }));
      const exporter = new OTLPProfileExporter({ url: server.profilesUrl, timeoutMillis: 20_000 });
      tracing = setUpProfiledTracing({ engine, exporter, mode: 'continuous', continuousPeriodMillis: 3_600_000 });
      const { processor } = tracing;
      const hot = namedHotFunction('cont_export_hot');
      const target = processor.stats.engine.samplesTaken + 5;
      const end = performance.now() + 10_000;
      while (processor.stats.engine.samplesTaken < target && performance.now() < end) hot(2);
      await processor.forceFlush();

      assert.strictEqual(server.requests.length, 3, 'two refused attempts, then the one accepted');
      assert.deepStrictEqual(server.requests[2].body, server.requests[0].body, 'the same request, retried');
      const stats = processor.stats;
      assert.strictEqual(stats.export.exported, 1);
      assert.strictEqual(stats.dropped.exportFailed, 0);
      const decoded = decodeWithBuf(server.requests[2].body);
      const [profile] = profilesOf(decoded);
      assert.deepStrictEqual(attributesOf(decoded.dictionary as Decoded, profile.attributeIndices)['otel_span_profiler.continuous'], {
        boolValue: true,
      });
      const names = (decoded.dictionary as Decoded).stringTable as string[];
      assert.ok(names.includes('cont_export_hot'), 'the hot function is not in the profile');
    });
  });
