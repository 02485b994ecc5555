/*
 * The checks every options object of this package applies to values given in code: one wording
 * and one error policy (a wrong type is a TypeError, a number out of range a RangeError), so the
 * processor and its batch options report mistakes alike.
 */

/** A value as an error message shows it: strings quoted, objects by kind. */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'object' && value !== null) return Array.isArray(value) ? 'an array' : 'an object';
  return String(value);
}

/**
 * `value` if it is a finite number from `min` to `max` (an integer where `integer`); throws
 * otherwise, naming the option by `label` (e.g. `ProfilingSpanProcessor: option "maxStackDepth"`).
 */
export function checkNumber(label: string, value: unknown, min: number, max: number, integer: boolean): number {
  if (typeof value === 'number' && Number.isFinite(value) && value >= min && value <= max && (!integer || Number.isInteger(value))) {
    return value;
  }
  const kind = integer ? 'an integer' : 'a number';
  const message = `${label} must be ${kind} from ${min} to ${max}, got ${describeValue(value)}`;
  throw typeof value === 'number' ? new RangeError(message) : new TypeError(message);
}

/** `value` if it is a boolean; throws a TypeError naming the option by `label` otherwise. */
export function checkBoolean(label: string, value: unknown): boolean {
  if (typeof value === 'boolean') return value;
  throw new TypeError(`${label} must be a boolean, got ${describeValue(value)}`);
}
