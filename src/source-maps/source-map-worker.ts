import { parentPort } from 'node:worker_threads';
import { SourceMapCache } from './source-map-cache';
import { loadSourceMap, MAX_DECODED_MAP_BYTES, type OriginalPosition, type ScriptSourceMap } from './source-map-loader';

/*
 * The source-map thread: reads, parses and decodes maps, and answers position lookups, so the
 * main thread never spends the time (a bundle's map can take hundreds of milliseconds to
 * decode) nor holds the decoded maps in its heap. Started by SourceMapper on first need.
 */

/** Scripts whose map (or whose lack of one) the thread remembers at most. */
const MAX_CACHED_SCRIPTS = 4096;
/** What remembering a script without a usable map weighs. */
const NO_MAP_WEIGHT = 256;
/** Maps read and parsed at once: bounds the memory a first batch with many scripts takes. */
const MAX_CONCURRENT_LOADS = 4;

/** Main thread to worker: the positions (flat 1-based line, column pairs) to look up per script. */
export interface LookupRequest {
  readonly id: number;
  readonly scripts: ReadonlyArray<{ readonly fileName: string; readonly positions: readonly number[] }>;
}

/** Worker to main thread: per script, in request order. */
export interface LookupResponse {
  readonly id: number;
  readonly scripts: ReadonlyArray<{
    /** Set when this request loaded the script's map: what loading found. */
    readonly loaded?: 'map' | 'none' | 'failed';
    /** Why a map was not used, with `loaded: 'failed'`. */
    readonly reason?: string;
    /** False when the script has no usable map: `results` is then empty. */
    readonly usable: boolean;
    /** One per requested position: its original position, or null when the map has none. */
    readonly results: ReadonlyArray<OriginalPosition | null>;
  }>;
}

type Loaded = { map: ScriptSourceMap | null; loaded?: 'map' | 'none' | 'failed'; reason?: string };

const maps = new SourceMapCache<ScriptSourceMap | null>({ maxEntries: MAX_CACHED_SCRIPTS, maxWeight: MAX_DECODED_MAP_BYTES });
const loading = new Map<string, Promise<Loaded>>();
const waiting: Array<() => void> = [];
let activeLoads = 0;

async function load(fileName: string): Promise<Loaded> {
  if (activeLoads >= MAX_CONCURRENT_LOADS) await new Promise<void>((resolve) => waiting.push(resolve));
  activeLoads++;
  try {
    const result = await loadSourceMap(fileName);
    if (result.kind === 'map') {
      if (maps.set(fileName, result.map, result.map.weight)) return { map: result.map, loaded: 'map' };
      maps.set(fileName, null, NO_MAP_WEIGHT);
      return { map: null, loaded: 'failed', reason: `decoded map too large to keep (about ${result.map.weight} bytes)` };
    }
    maps.set(fileName, null, NO_MAP_WEIGHT);
    return result.kind === 'none' ? { map: null, loaded: 'none' } : { map: null, loaded: 'failed', reason: result.reason };
  } finally {
    activeLoads--;
    waiting.shift()?.();
  }
}

function mapOf(fileName: string): Promise<Loaded> {
  const cached = maps.get(fileName);
  if (cached !== undefined) return Promise.resolve({ map: cached });
  let pending = loading.get(fileName);
  if (pending === undefined) {
    pending = load(fileName).finally(() => loading.delete(fileName));
    loading.set(fileName, pending);
    return pending;
  }
  // Another request started this load and reports what it found.
  return pending.then(({ map }) => ({ map }));
}

async function answer(request: LookupRequest): Promise<LookupResponse> {
  const scripts = await Promise.all(
    request.scripts.map(async ({ fileName, positions }) => {
      const { map, loaded, reason } = await mapOf(fileName);
      const results: Array<OriginalPosition | null> = [];
      if (map !== null) {
        for (let i = 0; i + 1 < positions.length; i += 2) results.push(map.lookup(positions[i], positions[i + 1]) ?? null);
      }
      return { loaded, reason, usable: map !== null, results };
    }),
  );
  return { id: request.id, scripts };
}

parentPort?.on('message', (request: LookupRequest) => {
  answer(request).then(
    (response) => parentPort!.postMessage(response),
    // Not expected (loads never reject): answer anyway, so the main thread does not wait for nothing.
    (error: unknown) =>
      parentPort!.postMessage({
        id: request.id,
        scripts: request.scripts.map(() => ({ loaded: 'failed', reason: String(error), usable: false, results: [] })),
      }),
  );
});
