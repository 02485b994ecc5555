/*
 * Waiting for work with a deadline. One race, written once: the timer is cleared when the work
 * wins, and never holds the process open (it is unref()ed).
 */

/**
 * True when the promise `work()` returns settles (resolves or rejects) within `millis`, false
 * when the time runs out first. Never rejects: a caller that needs the outcome handles it on the
 * promise itself. The work is not cancelled on timeout; it goes on and its result is ignored here.
 *
 * The deadline starts before `work` is called, so when the work sets a timer of its own for the
 * same time (an export's timeout inside a flush's), the deadline fires first.
 */
export function settlesWithin(millis: number, work: () => Promise<unknown>): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), millis);
    timer.unref();
  });
  let settled: Promise<boolean>;
  try {
    settled = work().then(
      () => true,
      () => true,
    );
  } catch {
    // A work function that throws instead of rejecting has settled too.
    settled = Promise.resolve(true);
  }
  return Promise.race([settled, timeout]).finally(() => clearTimeout(timer));
}
