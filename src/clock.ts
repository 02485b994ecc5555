import { performance } from 'node:perf_hooks';

/**
 * Monotonic nanoseconds as a JS number (performance.now() in ns), mapped onto Unix time once,
 * at load. Span windows and samples share this clock, so a sample is never misplaced by the
 * whole-millisecond resolution of Date.now() that the SDK uses for span times.
 *
 * A number, not a BigInt: it is read on every profiled root and every sample, and a BigInt is
 * an allocation each time. A double holds nanoseconds since process start exactly for 104 days
 * and to well under a microsecond after that (performance.now() itself resolves ~1 us or finer);
 * the conversion to exact Unix nanoseconds (BigInt) happens once per exported sample.
 */
const anchorHrNano = performance.now() * 1e6;
// timeOrigin + now() is a float in ms with sub-microsecond digits: convert once to BigInt ns.
const anchorUnixNano = BigInt(Math.round(performance.timeOrigin * 1e6 + anchorHrNano));

/** Monotonic nanoseconds (a double), for ordering and windows. */
export function nowHrNano(): number {
  return performance.now() * 1e6;
}

/** Converts a {@link nowHrNano} reading to nanoseconds since the Unix epoch. */
export function hrToUnixNano(hrNano: number): bigint {
  return anchorUnixNano + BigInt(Math.round(hrNano - anchorHrNano));
}
