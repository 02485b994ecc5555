import * as assert from 'node:assert/strict';
import { plural } from '../../src/shared/wording';

describe('plural', function () {
  it('should put the noun in the number the count needs', function () {
    const cases: [number, string, string | undefined, string][] = [
      [0, 'profile', undefined, '0 profiles'],
      [1, 'profile', undefined, '1 profile'],
      [2, 'profile', undefined, '2 profiles'],
      [1, 'malformed entry', 'malformed entries', '1 malformed entry'],
      [3, 'malformed entry', 'malformed entries', '3 malformed entries'],
    ];
    for (const [count, noun, pluralNoun, expected] of cases) {
      assert.equal(plural(count, noun, pluralNoun), expected);
    }
  });
});
