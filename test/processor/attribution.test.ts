import * as assert from 'node:assert';
import { readFile } from 'node:fs/promises';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { context, trace, type Span } from '@opentelemetry/api';
import type { SpanProfile } from '../../src/profile/span-profile';
import { ENGINES, namedHotFunction, setUpProfiledTracing, type ProfiledTracing } from '../helpers/tracing';

const REQUESTS = 60;
const HOT = /^hot_req_(\d+)_(root|child|with)$/;

/** The innermost request-unique frame of a sample's stack, if any. */
function uniqueFrame(profileSample: SpanProfile['samples'][number]): string | undefined {
  return profileSample.stack.map((f) => f.functionName).find((n) => HOT.test(n));
}

for (const engine of ENGINES)
  describe(`ProfilingSpanProcessor attribution (real sampling) [${engine} engine]`, function () {
    let tracing: ProfiledTracing;
    let server: http.Server;
    let port: number;

    before(async function () {
      server = http.createServer((_req, res) => setTimeout(() => res.end('ok'), 1));
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      port = (server.address() as AddressInfo).port;
    });
    after(async function () {
      await new Promise((resolve) => server.close(resolve));
    });
    beforeEach(function () {
      tracing = setUpProfiledTracing({ engine });
    });
    afterEach(async function () {
      await tracing.close();
    });

    function loopbackGet(): Promise<void> {
      return new Promise((resolve, reject) => {
        http
          .get({ host: '127.0.0.1', port, path: '/', agent: false }, (res) => {
            res.resume();
            res.on('end', resolve);
          })
          .on('error', reject);
      });
    }

    /** One awaited pause of a kind chosen by `step`: timer, setImmediate, file read or loopback HTTP. */
    function pause(step: number): Promise<unknown> {
      switch (step % 4) {
        case 0:
          return new Promise((r) => setTimeout(r, 1 + (step % 3)));
        case 1:
          return new Promise((r) => setImmediate(r));
        case 2:
          return readFile(__filename);
        default:
          return loopbackGet();
      }
    }

    it("should charge at least 99% of the samples in each request-unique function to that request's active span", async function () {
      const { tracer, processor, exporter } = tracing;
      // Which span each unique function must be charged to, filled in as the spans start.
      const expected = new Map<string, { traceId: string; spanId: string }>();
      const idOf = (span: Span) => ({ traceId: span.spanContext().traceId, spanId: span.spanContext().spanId });

      async function request(i: number): Promise<void> {
        const hotRoot = namedHotFunction(`hot_req_${i}_root`);
        const kind = i % 3;
        if (kind === 1) {
          // Synchronous handler code run directly inside context.with, on a span started inactive.
          const root = tracer.startSpan(`request ${i}`);
          const hotWith = namedHotFunction(`hot_req_${i}_with`);
          expected.set(hotWith.name, idOf(root));
          const ctx = trace.setSpan(context.active(), root);
          for (let step = 0; step < 6; step++) {
            context.with(ctx, () => hotWith(5));
            await pause(step + i);
          }
          root.end();
          return;
        }
        await tracer.startActiveSpan(`request ${i}`, async (root) => {
          expected.set(hotRoot.name, idOf(root));
          for (let step = 0; step < 4; step++) {
            hotRoot(5);
            await pause(step + i);
          }
          if (kind === 2) {
            // A nested child span: its code must be charged to the child, not the root.
            const hotChild = namedHotFunction(`hot_req_${i}_child`);
            await tracer.startActiveSpan(`child ${i}`, async (child) => {
              expected.set(hotChild.name, idOf(child));
              for (let step = 0; step < 4; step++) {
                hotChild(5);
                await pause(step + i + 1);
              }
              child.end();
            });
            hotRoot(1);
          }
          root.end();
        });
      }

      await Promise.all(Array.from({ length: REQUESTS }, (_, i) => request(i)));
      await processor.forceFlush();

      const profiles = exporter.getFinishedProfiles();
      let checked = 0;
      let right = 0;
      const wrong: string[] = [];
      for (const profile of profiles) {
        for (const sample of profile.samples) {
          const name = uniqueFrame(sample);
          if (name === undefined) continue;
          const want = expected.get(name);
          assert.ok(want, `no span recorded for ${name}`);
          checked++;
          if (profile.traceId === want.traceId && sample.spanId === want.spanId) right++;
          else wrong.push(`${name}: got ${profile.traceId}/${sample.spanId}, want ${want.traceId}/${want.spanId}`);
        }
      }
      const stats = processor.stats;
      assert.ok(
        checked >= 100,
        `only ${checked} samples held a request-unique function (probes ${stats.engine.samplesTaken}, samples ${stats.samples})`,
      );
      assert.ok(right / checked >= 0.99, `${right} of ${checked} samples charged right; first wrong: ${wrong.slice(0, 5).join('; ')}`);
      // Every kind of request was sampled, so each code path above was exercised.
      for (const kind of ['root', 'child', 'with']) {
        assert.ok(
          profiles.some((p) => p.samples.some((s) => uniqueFrame(s)?.endsWith(`_${kind}`))),
          `no sample in a ${kind} function`,
        );
      }
    });

    it('should give a root that does no CPU work no samples of other requests', async function () {
      const { tracer, processor, exporter } = tracing;
      const busy = Array.from({ length: 8 }, (_, i) =>
        tracer.startActiveSpan(`busy ${i}`, async (span) => {
          const hot = namedHotFunction(`hot_req_${i}_root`);
          for (let step = 0; step < 10; step++) {
            hot(5);
            await pause(step);
          }
          span.end();
        }),
      );
      const idleIds: string[] = [];
      const idle = Array.from({ length: 8 }, (_, i) =>
        tracer.startActiveSpan(`idle ${i}`, async (span) => {
          idleIds.push(span.spanContext().spanId);
          await new Promise((r) => setTimeout(r, 300));
          span.end();
        }),
      );
      await Promise.all([...busy, ...idle]);
      await processor.forceFlush();
      const profiles = exporter.getFinishedProfiles();
      assert.ok(processor.stats.samples > 20, `busy roots got only ${processor.stats.samples} samples`);
      const idleProfiles = profiles.filter((p) => idleIds.includes(p.rootSpanId));
      for (const profile of idleProfiles) {
        for (const sample of profile.samples) {
          assert.strictEqual(uniqueFrame(sample), undefined, `idle root ${profile.rootSpanName} got a sample of another request`);
        }
      }
      assert.ok(idleProfiles.reduce((n, p) => n + p.samples.length, 0) <= 2, 'idle roots were charged samples');
    });
  });
