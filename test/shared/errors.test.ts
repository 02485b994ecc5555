import * as assert from 'node:assert/strict';
import { describeError, errorMessage, toError } from '../../src/shared/errors';

describe('toError', function () {
  it('should return an Error as it is', function () {
    const error = new RangeError('out of range');
    assert.equal(toError(error), error);
  });

  it('should wrap anything else thrown in an Error with its text', function () {
    const cases: [unknown, string][] = [
      ['a string', 'a string'],
      [42, '42'],
      [undefined, 'undefined'],
      [null, 'null'],
    ];
    for (const [thrown, message] of cases) {
      const error = toError(thrown);
      assert.ok(error instanceof Error);
      assert.equal(error.message, message);
    }
  });
});

describe('errorMessage', function () {
  it("should give an Error's message, and the text of anything else thrown", function () {
    assert.equal(errorMessage(new TypeError('bad type')), 'bad type');
    assert.equal(errorMessage('a string'), 'a string');
    assert.equal(errorMessage(7), '7');
  });
});

describe('describeError', function () {
  it('should give a system error as its code and the first line of its message', function () {
    const error: NodeJS.ErrnoException = new Error('open /proc/self/task/1/stat failed\nmore detail');
    error.code = 'EACCES';
    assert.equal(describeError(error), 'EACCES: open /proc/self/task/1/stat failed');
  });

  it('should name an error without a code by its name, and give anything else thrown as its text', function () {
    assert.equal(describeError(new TypeError('bad type')), 'TypeError: bad type');
    assert.equal(describeError('a string'), 'a string');
  });
});
