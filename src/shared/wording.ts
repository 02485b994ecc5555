/*
 * How messages (logs, errors, the CLI) word counts, in one place so they read alike.
 */

/** `count` and the noun in the number it needs: `1 profile`, `2 profiles`, `3 entries` (given `pluralNoun`). */
export function plural(count: number, noun: string, pluralNoun = `${noun}s`): string {
  return `${count} ${count === 1 ? noun : pluralNoun}`;
}
