import * as assert from 'node:assert';
import { nextTickRateHz } from '../../../src/sampler/probe/tick-rate';

describe('nextTickRateHz (the overhead budget rule)', function () {
  it('should lower the rate in proportion when probes take more than the budget', function () {
    // 99 Hz took 2.6%; the budget is 1%.
    assert.ok(Math.abs(nextTickRateHz(99, 0.026, 0.01, 99) - 99 / 2.6) < 1e-9);
  });

  it('should climb back at most 1.5x per window, never above the configured rate', function () {
    assert.strictEqual(nextTickRateHz(20, 0.001, 0.01, 99), 30);
    assert.strictEqual(nextTickRateHz(80, 0.001, 0.01, 99), 99);
    assert.strictEqual(nextTickRateHz(99, 0.001, 0.01, 99), 99);
  });

  it('should never go below 1 Hz', function () {
    assert.strictEqual(nextTickRateHz(5, 10, 0.0001, 99), 1);
    assert.strictEqual(nextTickRateHz(1, 10, 0.0001, 99), 1);
  });

  it('should leave moves of 5% or less alone', function () {
    assert.strictEqual(nextTickRateHz(40, 0.0102, 0.01, 99), 40);
    assert.strictEqual(nextTickRateHz(40, 0.0098, 0.01, 99), 40);
    assert.notStrictEqual(nextTickRateHz(40, 0.011, 0.01, 99), 40);
  });

  it('should settle where the measured overhead meets the budget when each probe costs the same', function () {
    // A host where a probe costs 300 us of the main thread, every tick probing: overhead = hz x 300 us.
    const costSeconds = 300e-6;
    let hz = 99;
    for (let window = 0; window < 20; window++) hz = nextTickRateHz(hz, hz * costSeconds, 0.01, 99);
    assert.ok(Math.abs(hz * costSeconds - 0.01) <= 0.0006, `settled at ${hz.toFixed(1)} Hz = ${(hz * costSeconds * 100).toFixed(2)}%`);
  });

  it('should change nothing without a usable budget or measurement', function () {
    assert.strictEqual(nextTickRateHz(50, 0.5, Infinity, 99), 50);
    assert.strictEqual(nextTickRateHz(50, Number.NaN, 0.01, 99), 50);
    assert.strictEqual(nextTickRateHz(50, 0.5, 0, 99), 50);
  });
});
