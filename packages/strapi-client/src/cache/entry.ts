/** A cached value with its metadata, as stored in L1 and (JSON, without `p`) in L2. */
export interface CacheEntry {
  /** Strapi's raw payload (frozen in L1). */
  v: unknown;
  /** Tags. */
  t: string[];
  /** Created at (ms, cache clock). */
  c: number;
  /** Fresh until. */
  f: number;
  /** Stale until (fresh + grace); never served after this. */
  s: number;
  /** L1 only: validated results per schema, so a hit costs no re-validation. */
  p?: WeakMap<object, unknown>;
}

/** Freezes a JSON-like value in place: cached results are shared by every caller. */
export function deepFreeze<T>(value: T): T {
  if (value === null || typeof value !== 'object' || Object.isFrozen(value)) return value;
  Object.freeze(value);
  for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
  return value;
}
