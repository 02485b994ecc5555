import * as assert from 'node:assert';
import type { Span } from '@opentelemetry/api';
import { NativeSampleReader } from '../../../src/sampler/native/native-samples';
import type { RawProfileNode, RawSampleContext } from '../../../src/sampler/native/pprof-addon';

const ORIGIN_MICROS = BigInt(Math.round(performance.timeOrigin * 1000));
const spanA = { name: 'a' } as unknown as Span;
const spanB = { name: 'b' } as unknown as Span;

function node(name: string, children: RawProfileNode[] = [], contexts: RawSampleContext[] = [], line = 1): RawProfileNode {
  return { name, scriptName: name.startsWith('(') ? '' : `${name}.js`, lineNumber: line, columnNumber: 1, children, contexts };
}
/** A sample at `millis` after the clock's origin, with `cpuTime` ns and a label. */
function at(millis: number, context?: unknown, cpuTime = 1000): RawSampleContext {
  return { timestamp: ORIGIN_MICROS + BigInt(millis * 1000), cpuTime, context };
}

describe('NativeSampleReader', function () {
  it('should give each sample its stack leaf first, its label as the span, its CPU time, in time order', function () {
    const root = node('(root)', [node('main', [node('handler', [], [at(30, spanB, 7)]), node('other', [], [at(10, spanA, 5)])])]);
    const samples = new NativeSampleReader(64).readSamples({ topDownRoot: root, hasCpuTime: true });
    assert.deepStrictEqual(
      samples.map((s) => [s.hrNano, s.cpuNanos, s.span, s.stack.map((f) => f.functionName)]),
      [
        [10e6, 5, spanA, ['other', 'main']],
        [30e6, 7, spanB, ['handler', 'main']],
      ],
    );
    assert.deepStrictEqual(samples[0].stack[0], { functionName: 'other', fileName: 'other.js', lineNumber: 1, columnNumber: 1 });
  });

  it('should count (idle) and (program) samples as having no span and no stack, and keep (garbage collector) as a frame', function () {
    const root = node('(root)', [
      node('(idle)', [], [at(1, spanA)]),
      node('(program)', [], [at(2, spanA)]),
      node('(garbage collector)', [], [at(3, spanA)]),
    ]);
    const samples = new NativeSampleReader(64).readSamples({ topDownRoot: root });
    assert.deepStrictEqual(
      samples.map((s) => [s.span, s.stack.map((f) => f.functionName)]),
      [
        [undefined, []],
        [undefined, []],
        [spanA, ['(garbage collector)']],
      ],
    );
  });

  it('should keep the leaf-most maxStackDepth frames', function () {
    let leaf = node('f5', [], [at(1, spanA)]);
    for (let i = 4; i >= 1; i--) leaf = node(`f${i}`, [leaf]);
    const [sample] = new NativeSampleReader(3).readSamples({ topDownRoot: node('(root)', [leaf]) });
    assert.deepStrictEqual(
      sample.stack.map((f) => f.functionName),
      ['f5', 'f4', 'f3'],
    );
  });

  it('should give equal frames one object across rotations, and a sample without a label no span', function () {
    const reader = new NativeSampleReader(64);
    const first = reader.readSamples({ topDownRoot: node('(root)', [node('f', [], [at(1, spanA)])]) });
    const second = reader.readSamples({ topDownRoot: node('(root)', [node('f', [], [at(2, undefined)])]) });
    assert.strictEqual(first[0].stack[0], second[0].stack[0]);
    assert.strictEqual(second[0].span, undefined);
  });
});
