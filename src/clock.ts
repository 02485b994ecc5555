import { performance } from 'node:perf_hooks';

/**
 * Monotonic nanoseconds (process.hrtime.bigint()) mapped onto Unix time once, at load.
 * Span windows and samples share this clock, so a sample is never misplaced by the
 * whole-millisecond resolution of Date.now() that the SDK uses for span times.
 */
const anchorHrNano = process.hrtime.bigint();
// timeOrigin + now() is a float in ms with sub-microsecond digits: convert once to BigInt ns.
const anchorUnixNano = BigInt(Math.round((performance.timeOrigin + performance.now()) * 1e6));

/** Monotonic nanoseconds, for ordering and windows. */
export function nowHrNano(): bigint {
  return process.hrtime.bigint();
}

/** Converts a {@link nowHrNano} reading to nanoseconds since the Unix epoch. */
export function hrToUnixNano(hrNano: bigint): bigint {
  return anchorUnixNano + (hrNano - anchorHrNano);
}
