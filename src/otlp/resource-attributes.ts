import type { SpanProfile } from '../profile/span-profile';
import { settlesWithin } from '../shared/timeouts';

/** The part of the SDK's `Resource` (2.x and 3.x) that says whether async detectors have settled. */
interface AsyncResource {
  readonly asyncAttributesPending?: boolean;
  waitForAsyncAttributes?(): Promise<void>;
}

/**
 * Waits until the resources of `profiles` have their async attributes (e.g. `host.id` from the
 * SDK's detectors), so profiles built early in the process's life carry them, and the SDK logs
 * no "Accessing resource attributes before async attributes settled". Bounded by
 * `timeoutMillis`. Resolves `'none'` at once when no resource is pending, else `'settled'` or
 * `'timeout'`. Never rejects: a failed detector settles too.
 */
export async function waitForResourceAttributes(
  profiles: readonly SpanProfile[],
  timeoutMillis: number,
): Promise<'none' | 'settled' | 'timeout'> {
  const waits: Array<Promise<void>> = [];
  const seen = new Set<unknown>();
  for (const { resource } of profiles) {
    if (seen.has(resource)) continue;
    seen.add(resource);
    const candidate = resource as AsyncResource;
    if (candidate.asyncAttributesPending !== true || typeof candidate.waitForAsyncAttributes !== 'function') continue;
    waits.push(
      Promise.resolve()
        .then(() => candidate.waitForAsyncAttributes!())
        .catch(() => undefined),
    );
  }
  if (waits.length === 0) return 'none';
  return (await settlesWithin(timeoutMillis, () => Promise.all(waits))) ? 'settled' : 'timeout';
}
