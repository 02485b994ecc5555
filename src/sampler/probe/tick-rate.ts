/**
 * The overhead budget's rule: the next tick rate, from the rate in use and the probes' measured
 * share of the main thread's time over the last window. Above the budget the rate falls in
 * proportion; below it, it climbs back at most 1.5x per window; it never leaves [1, maxHz], and
 * moves of 5% or less are left alone (noise), except to reach maxHz.
 *
 * Pure, and free of anything from its module scope: the sampling thread gets its source text
 * (see probe-sampler.ts), so it runs the same code that the unit tests check.
 *
 * @param currentHz the tick rate in use
 * @param overheadFraction probes' share of the main thread's time in the last window (0.01 = 1%)
 * @param budgetFraction the most they may take (`maxOverheadPercent / 100`)
 * @param maxHz the configured `samplingFrequencyHz`
 * @returns the rate to use next (the same number when it should not change)
 */
export function nextTickRateHz(currentHz: number, overheadFraction: number, budgetFraction: number, maxHz: number): number {
  if (!(budgetFraction > 0) || !Number.isFinite(budgetFraction) || !(overheadFraction >= 0)) return currentHz;
  const target = currentHz * (budgetFraction / Math.max(overheadFraction, 1e-9));
  const next = Math.max(1, Math.min(maxHz, target, currentHz * 1.5));
  if (next === currentHz) return currentHz;
  if (Math.abs(next - currentHz) <= 0.05 * currentHz && next !== maxHz && next !== 1) return currentHz;
  return next;
}
