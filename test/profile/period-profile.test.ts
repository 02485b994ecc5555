import * as assert from 'node:assert';
import type { Span } from '@opentelemetry/api';
import { PeriodProfile } from '../../src/profile/period-profile';
import { RootProfile } from '../../src/profile/root-profile';
import type { ProfileFrame, ProfileStack } from '../../src/profile/span-profile';

// Issue 20 §3: the store of one continuous period and its bounds.
const RESOURCE = { attributes: { 'service.name': 'period-test' } };
const frame = (functionName: string): ProfileFrame => Object.freeze({ functionName, fileName: 'app.js', lineNumber: 1, columnNumber: 1 });
const A = frame('a');
const B = frame('b');
const C = frame('c');

function rootNamed(name: string, spanId: string): { root: RootProfile; span: { name: string } } {
  const span = { name, spanContext: () => ({ traceId: '0af7651916cd43dd8448eb211c80319c', spanId, traceFlags: 1 }) };
  return { root: new RootProfile(span as unknown as Span, RESOURCE, 0), span };
}

describe('PeriodProfile', function () {
  it('should keep equal stacks once, by content, whatever the array', function () {
    const period = new PeriodProfile(0, { maxSamples: 10, maxStacks: 10 });
    const first: ProfileStack = [A, B];
    const copy: ProfileStack = [A, B];
    assert.strictEqual(period.add(1, 0, first, undefined, ''), undefined);
    assert.strictEqual(period.add(2, 0, copy, undefined, ''), undefined);
    assert.strictEqual(period.add(3, 0, [B, A], undefined, ''), undefined);
    assert.strictEqual(period.stackCount, 2);
    const profile = period.finish(10, RESOURCE, 1000)!;
    assert.strictEqual(profile.samples[1].stack, first, 'the copy was replaced by the kept stack');
    assert.notStrictEqual(profile.samples[2].stack, first);
  });

  describe('caps', function () {
    const cases: Array<{
      name: string;
      caps: { maxSamples: number; maxStacks: number };
      stacks: ProfileStack[];
      want: Array<string | undefined>;
    }> = [
      {
        name: 'maxSamples',
        caps: { maxSamples: 2, maxStacks: 10 },
        stacks: [[A], [A], [A]],
        want: [undefined, undefined, 'maxSamplesPerPeriod'],
      },
      {
        name: 'maxStacks, a new stack',
        caps: { maxSamples: 10, maxStacks: 2 },
        stacks: [[A], [B], [C]],
        want: [undefined, undefined, 'maxStacksPerPeriod'],
      },
      {
        name: 'maxStacks, a known stack still fits',
        caps: { maxSamples: 10, maxStacks: 2 },
        stacks: [[A], [B], [C], [A]],
        want: [undefined, undefined, 'maxStacksPerPeriod', undefined],
      },
    ];
    for (const c of cases) {
      it(`should refuse past ${c.name}, and count the refusal in the profile`, function () {
        const period = new PeriodProfile(0, c.caps);
        assert.deepStrictEqual(
          c.stacks.map((stack, i) => period.add(i + 1, 0, stack, undefined, '')),
          c.want,
        );
        const profile = period.finish(100, RESOURCE, 1000)!;
        assert.strictEqual(profile.droppedSamples, c.want.filter((w) => w !== undefined).length);
        assert.strictEqual(profile.samples.length, c.want.filter((w) => w === undefined).length);
      });
    }
  });

  it('should give each root one SampleRoot, named when the period ends', function () {
    const period = new PeriodProfile(0, { maxSamples: 10, maxStacks: 10 });
    const one = rootNamed('GET', 'b7ad6b7169203331');
    const two = rootNamed('POST /b', '00f067aa0ba902b7');
    period.add(1, 5, [A], one.root, 'b7ad6b7169203331');
    period.add(2, 5, [A], two.root, '00f067aa0ba902b7');
    period.add(3, 5, [B], one.root, '53995c3f42cd8ad8');
    period.add(4, 5, [C], undefined, '');
    one.span.name = 'GET /a'; // renamed after routing, before the period ended
    const profile = period.finish(10, RESOURCE, 1000)!;
    assert.strictEqual(profile.kind, 'process');
    assert.deepStrictEqual(
      profile.samples.map((s) => s.root?.name),
      ['GET /a', 'POST /b', 'GET /a', undefined],
    );
    assert.strictEqual(profile.samples[0].root, profile.samples[2].root);
    assert.deepStrictEqual(
      profile.samples.map((s) => s.spanId),
      ['b7ad6b7169203331', '00f067aa0ba902b7', '53995c3f42cd8ad8', ''],
    );
  });

  it('should start the profile at its earliest sample when a batched engine delivers one from before the period', function () {
    const period = new PeriodProfile(1_000_000, { maxSamples: 10, maxStacks: 10 });
    period.add(2_000_000, 0, [A], undefined, '');
    period.add(500_000, 0, [A], undefined, '');
    const profile = period.finish(3_000_000, RESOURCE, 1000)!;
    assert.strictEqual(profile.startTimeUnixNano, profile.samples[1].timeUnixNano);
    assert.ok(profile.endTimeUnixNano > profile.samples[0].timeUnixNano);
  });

  it('should make no profile of an empty period', function () {
    assert.strictEqual(new PeriodProfile(0, { maxSamples: 10, maxStacks: 10 }).finish(10, RESOURCE, 1000), undefined);
  });
});
