/** Bounds of a {@link SourceMapCache}. */
export interface SourceMapCacheOptions {
  /** Entries kept at most, whatever their weight. */
  readonly maxEntries: number;
  /** Sum of the entries' weights kept at most (the source-map loader weighs a map by its size in bytes). */
  readonly maxWeight: number;
}

interface Entry<V> {
  readonly value: V;
  readonly weight: number;
}

/**
 * A least-recently-used cache bounded by entry count and by total weight, so a few large
 * source maps cannot hold memory without limit. A single entry heavier than `maxWeight` is not
 * kept at all. Not thread-safe and not async: the caller dedupes concurrent loads.
 */
export class SourceMapCache<V> {
  // A Map iterates in insertion order; re-inserting on every hit keeps the oldest entry first.
  private readonly _entries = new Map<string, Entry<V>>();
  private _weight = 0;

  constructor(private readonly _options: SourceMapCacheOptions) {}

  get size(): number {
    return this._entries.size;
  }

  /** Sum of the weights of the entries kept now. */
  get weight(): number {
    return this._weight;
  }

  /** The value kept for `key`, marking it as the most recently used; `undefined` when absent. */
  get(key: string): V | undefined {
    const entry = this._entries.get(key);
    if (entry === undefined) return undefined;
    this._entries.delete(key);
    this._entries.set(key, entry);
    return entry.value;
  }

  has(key: string): boolean {
    return this._entries.has(key);
  }

  /**
   * Keeps `value` under `key`, then evicts the least recently used entries until both bounds
   * hold. Returns false, keeping nothing, when `weight` alone exceeds `maxWeight`.
   */
  set(key: string, value: V, weight: number): boolean {
    this.delete(key);
    if (weight > this._options.maxWeight) return false;
    this._entries.set(key, { value, weight });
    this._weight += weight;
    for (const [oldest, entry] of this._entries) {
      if (this._entries.size <= this._options.maxEntries && this._weight <= this._options.maxWeight) break;
      this._entries.delete(oldest);
      this._weight -= entry.weight;
    }
    return true;
  }

  delete(key: string): void {
    const entry = this._entries.get(key);
    if (entry === undefined) return;
    this._entries.delete(key);
    this._weight -= entry.weight;
  }
}
