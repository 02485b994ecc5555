import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { settlesWithin } from '../../src/shared/timeouts';

describe('settlesWithin', function () {
  it('should be true for a promise that resolves, or rejects, before the deadline', async function () {
    assert.equal(await settlesWithin(60_000, () => Promise.resolve('done')), true);
    assert.equal(await settlesWithin(60_000, () => Promise.reject(new Error('failed'))), true);
  });

  it('should be true for work that throws instead of returning a promise', async function () {
    assert.equal(
      await settlesWithin(60_000, () => {
        throw new Error('thrown');
      }),
      true,
    );
  });

  it('should start the deadline before the work, so a timer of the work for the same time fires after it', async function () {
    // Both timers are due at once: Node runs them in the order they were set.
    let workTimerFired = false;
    const work = (): Promise<void> =>
      new Promise<void>((resolve) => {
        setTimeout(() => {
          workTimerFired = true;
          resolve();
        }, 50);
      });
    assert.equal(await settlesWithin(50, work), false);
    assert.equal(workTimerFired, false);
  });

  it('should be false for a promise that has not settled by the deadline', async function () {
    assert.equal(await settlesWithin(1, () => new Promise<never>(() => {})), false);
  });

  it('should not hold the process open while it waits', function () {
    // A ten-minute deadline on work that never settles: the child exits at once only if the
    // timer is unref()ed (execFileSync's own timeout turns a hang into a failure).
    const timeouts = path.join(__dirname, '..', '..', 'src', 'shared', 'timeouts.js');
    const script = `require(${JSON.stringify(timeouts)}).settlesWithin(600000, () => new Promise(() => {})); console.log('exited');`;
    const out = execFileSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(out.trim(), 'exited');
  });
});
