/*
 * Turning whatever was thrown or rejected into something to report. JavaScript can throw any
 * value; these keep an Error as it is and wrap anything else, so reports never say "[object Object]"
 * or lose a stack.
 */

/** `value` if it is an Error, else an Error whose message is `String(value)`. */
export function toError(value: unknown): Error {
  return value instanceof Error ? value : new Error(String(value));
}

/** The message of an Error, or `String(value)` for anything else thrown. */
export function errorMessage(value: unknown): string {
  return value instanceof Error ? value.message : String(value);
}

/**
 * An error as `CODE: message` on one line (the system error code, else the error's name), for a
 * warning that must stay one line; anything else thrown as its text.
 */
export function describeError(value: unknown): string {
  if (!(value instanceof Error)) return String(value);
  const code = (value as NodeJS.ErrnoException).code;
  return `${code ?? value.name}: ${value.message.split('\n')[0]}`;
}
