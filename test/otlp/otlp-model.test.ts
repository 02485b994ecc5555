import * as assert from 'node:assert';
import { Uint64 } from '../../src/otlp/otlp-model';

describe('Uint64', function () {
  const cases: Array<[bigint, number, number]> = [
    [0n, 0, 0],
    [1n, 1, 0],
    [0xffffffffn, 0xffffffff, 0],
    [0x100000000n, 0, 1],
    [1755000000123456789n, Number(1755000000123456789n & 0xffffffffn), Number(1755000000123456789n >> 32n)],
    [18446744073709551615n, 0xffffffff, 0xffffffff],
  ];
  for (const [value, low, high] of cases) {
    it(`should split ${value} into exact halves and print it back`, function () {
      const u = Uint64.fromBigInt(value);
      assert.deepStrictEqual([u.low, u.high], [low, high]);
      assert.strictEqual(u.toBigInt(), value);
      assert.strictEqual(u.toString(), value.toString());
    });
  }

  it('should wrap values outside [0, 2^64) modulo 2^64', function () {
    assert.strictEqual(Uint64.fromBigInt(-1n).toString(), '18446744073709551615');
    assert.strictEqual(Uint64.fromBigInt(2n ** 64n + 5n).toString(), '5');
  });
});
