import * as assert from 'node:assert';
import { encodeProtobuf } from '../../src/otlp/otlp-encoding';
import { decodeWithBuf, type Decoded } from '../helpers/decode-buf';
import { ENGINES, namedHotFunction, setUpProfiledTracing, type ProfiledTracing } from '../helpers/tracing';
import { itShouldPassTheWireRules } from '../helpers/wire-rules';

for (const engine of ENGINES)
  describe(`OTLP encoding of real span profiles [${engine} engine]`, function () {
    let tracing: ProfiledTracing;
    const spanIds = new Set<string>();

    before(async function () {
      tracing = setUpProfiledTracing({ engine });
      const { tracer, processor } = tracing;
      const pause = () => new Promise((r) => setTimeout(r, 2));
      await Promise.all(
        Array.from({ length: 6 }, (_, i) =>
          tracer.startActiveSpan(`GET /item/${i % 3}`, async (root) => {
            spanIds.add(root.spanContext().spanId);
            const hotRoot = namedHotFunction(`encode_hot_root_${i}`);
            const hotChild = namedHotFunction(`encode_hot_child_${i}`);
            for (let step = 0; step < 10; step++) {
              hotRoot(5);
              // An anonymous function on the stack: its Function must still have a name.
              (() => hotRoot(2))();
              await pause();
            }
            await tracer.startActiveSpan(`child ${i}`, async (child) => {
              spanIds.add(child.spanContext().spanId);
              for (let step = 0; step < 10; step++) {
                hotChild(5);
                await pause();
              }
              child.end();
            });
            root.end();
          }),
        ),
      );
      await processor.forceFlush();
    });

    after(async function () {
      await tracing.close();
    });

    it('should sample enough to make the checks below meaningful', function () {
      const profiles = tracing.exporter.getFinishedProfiles();
      const samples = profiles.reduce((n, p) => n + p.samples.length, 0);
      // About 720 ms of CPU work at 99 Hz: ~70 samples expected; far fewer means sampling broke.
      assert.ok(profiles.length >= 3 && samples >= 20, `only ${profiles.length} profiles and ${samples} samples`);
    });

    itShouldPassTheWireRules(() => tracing.exporter.getFinishedProfiles());

    it('should link every sample to one of the spans that ran', function () {
      const decoded = decodeWithBuf(encodeProtobuf(tracing.exporter.getFinishedProfiles()));
      const links = ((decoded.dictionary as Decoded).linkTable as Decoded[]).slice(1);
      assert.ok(links.length > 0);
      for (const link of links) assert.ok(spanIds.has(link.spanId as string), `unknown span ${String(link.spanId)}`);
      const names = (decoded.dictionary as Decoded).stringTable as string[];
      assert.ok(
        names.some((n) => n.startsWith('encode_hot_child_')),
        'no hot child function in the string table',
      );
    });
  });
