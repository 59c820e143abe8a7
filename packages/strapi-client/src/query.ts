import qs from 'qs';

/** Strapi 5 REST query parameters (https://docs.strapi.io/cms/api/rest/parameters). */
export interface StrapiQueryParams {
  /** `filters[field][$op]=value`; nest `$and` / `$or` / `$not` and relations freely. */
  filters?: Record<string, unknown>;
  /** `'*'`, a list of relation names, or the object syntax (`{ author: { fields: ['name'] } }`). */
  populate?: string | string[] | Record<string, unknown>;
  fields?: string[];
  /** `'title:asc'` or `['publishedAt:desc', 'title']`. */
  sort?: string | string[];
  pagination?: StrapiPageParams | StrapiOffsetParams;
  /** Strapi 5 draft & publish: defaults to `published` on the Strapi side. */
  status?: 'draft' | 'published';
  locale?: string;
}

export interface StrapiPageParams {
  page?: number;
  pageSize?: number;
  withCount?: boolean;
}

export interface StrapiOffsetParams {
  start?: number;
  limit?: number;
  withCount?: boolean;
}

/**
 * Encodes params the way Strapi 5 parses them: qs bracket syntax with indexed arrays
 * (`fields[0]=title`), values URL-encoded, keys left readable. This is what Strapi's docs
 * produce with `qs.stringify(query, { encodeValuesOnly: true })`. Undefined values are dropped.
 * Returns the string without a leading `?` (empty string for no params).
 */
export function encodeQuery(params: StrapiQueryParams | Record<string, unknown> | undefined): string {
  if (!params) return '';
  return qs.stringify(params, { encodeValuesOnly: true, arrayFormat: 'indices', skipNulls: false });
}

function quote(text: string): string {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    // control characters, quote, backslash, line/paragraph separators need JSON escaping
    if (c < 0x20 || c === 0x22 || c === 0x5c || c === 0x2028 || c === 0x2029) return JSON.stringify(text);
  }
  return `"${text}"`;
}

/**
 * A deterministic string for any JSON-like value: object keys sorted at every depth, array
 * order kept (it is meaningful for sort and populate), undefined properties dropped. Two
 * param objects that differ only in key order give the same string; used for cache keys.
 * Hand-written because it runs on every cached read (it is most of an L1 hit's cost).
 */
export function stableStringify(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return quote(value);
    case 'number':
      return Number.isFinite(value) ? String(value) : 'null';
    case 'boolean':
      return value ? 'true' : 'false';
    case 'bigint':
      return String(value);
    case 'object':
      break;
    default:
      return 'null';
  }
  if (value === null) return 'null';
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) {
      if (i > 0) out += ',';
      out += stableStringify(value[i]);
    }
    return `${out}]`;
  }
  if (value instanceof Date) return quote(value.toISOString());
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record);
  if (keys.length > 1) keys.sort();
  let out = '{';
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!;
    const item = record[key];
    if (item === undefined) continue;
    if (out.length > 1) out += ',';
    out += `${quote(key)}:${stableStringify(item)}`;
  }
  return `${out}}`;
}

const KEY_MEMO_MAX = 10_000;

/** Freezes a params object and everything in it. */
function deepFreezeParams(value: unknown): void {
  if (value === null || typeof value !== 'object') return;
  Object.freeze(value);
  for (const item of Object.values(value)) if (!Object.isFrozen(item)) deepFreezeParams(item);
}

/**
 * Returns `(params) => prefix + stableStringify(params)`, memoised two ways. A frozen params
 * object is taken as immutable: its key is kept by identity (a caller that reuses one object per
 * query pays one WeakMap lookup), and it is deep-frozen on first use, so a nested change throws
 * instead of being served another query's result. Other params are memoised on their native
 * `JSON.stringify`: requests repeat a few shapes, the native call is several times cheaper than
 * sorting keys, and handing back the same string instance lets the cache's Map reuse its hash.
 * Bounded: that memo is dropped when it reaches 10,000 shapes.
 */
export function createKeyer(prefix: string): (params: object | undefined) => string {
  let memo = new Map<string, string>();
  const byObject = new WeakMap<object, string>();
  const empty = `${prefix}{}`;
  return (params) => {
    if (params === undefined) return empty;
    // an object keyed before was frozen then and stays so: the lookup first (Object.isFrozen is
    // a call into the runtime, ~170 instructions under callgrind)
    const known = byObject.get(params);
    if (known !== undefined) return known;
    const frozen = Object.isFrozen(params);
    const json = JSON.stringify(params);
    let key = memo.get(json);
    if (key === undefined) {
      key = prefix + stableStringify(params);
      if (memo.size >= KEY_MEMO_MAX) memo = new Map();
      memo.set(json, key);
    }
    if (frozen) {
      deepFreezeParams(params);
      byObject.set(params, key);
    }
    return key;
  };
}
