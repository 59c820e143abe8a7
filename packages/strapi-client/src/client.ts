import { TieredCache } from './cache/tiered-cache.ts';
import type { CacheEntry } from './cache/entry.ts';
import { deepFreeze } from './cache/entry.ts';
import {
  StrapiBadResponseError,
  StrapiClientClosedError,
  StrapiNotFoundError,
  type StrapiErrorIssue,
} from './errors.ts';
import {
  type BreakerState,
  type CacheEvent,
  EventHub,
  type StrapiEventListener,
  type StrapiEventName,
} from './events.ts';
import { noopLogger, resolveOptions, type ResolvedOptions, type StrapiClientOptions } from './options.ts';
import { createKeyer, encodeQuery, type StrapiQueryParams } from './query.ts';
import { docTag, typeTag } from './tags.ts';
import { createGraphQLClient, type GraphQLClient } from './graphql/client.ts';
import { type StrapiSchema, schemaIssues } from './schema.ts';
import { attachTracing, traceL1Hit, traceRead } from './tracing.ts';
import { type PingResult, Transport } from './transport.ts';

export type { StrapiSchema } from './schema.ts';

export interface StrapiPagination {
  page: number;
  pageSize: number;
  pageCount: number;
  total: number;
}

export interface StrapiListResult<T> {
  data: T[];
  meta: { pagination: StrapiPagination };
}

/** Per-call cache control for reads. */
export interface CacheOptions<R> {
  /** false: bypass the cache for this call (no read, no write). Default true. */
  cache?: boolean;
  /** Override the client's ttl / grace for this call. */
  ttlMs?: number;
  graceMs?: number;
  /**
   * `type:<type>` tag. Default: true for `find` (lists change when any document of the type is
   * created/published), false for `findOne`. `'if-empty'`: only when the result has no documents
   * (a lookup that found nothing must be re-asked when one is created).
   */
  typeTag?: boolean | 'if-empty';
  /** `doc:<type>:<documentId>` for every top-level document in the result. Default true. */
  docTags?: boolean;
  /** Extra tags, fixed or computed from the validated result. */
  tags?: string[] | ((result: R) => string[]);
}

export interface WriteOptions {
  /** Invalidate `type:<type>` and `doc:<type>:<documentId>` after the write. Default true. */
  invalidate?: boolean;
  /** More tags to invalidate after the write. */
  tags?: string[];
}

export interface CollectionClient {
  readonly type: string;
  find<T>(
    params: StrapiQueryParams | undefined,
    schema: StrapiSchema<T>,
    cacheOptions?: CacheOptions<StrapiListResult<T>>,
  ): Promise<StrapiListResult<T>>;
  /**
   * What `find` answers now from a fresh L1 entry already validated with this schema, without
   * a promise (the same L1 hit event and trace note as `find`'s); undefined when the read has
   * to go through `find` (no entry, stale, only in L2, not yet validated with this schema, cache
   * off). For a hot path that can answer synchronously; `find` stays the one way to read.
   */
  peek<T>(
    params: StrapiQueryParams | undefined,
    schema: StrapiSchema<T>,
    cacheOptions?: CacheOptions<StrapiListResult<T>>,
  ): StrapiListResult<T> | undefined;
  /** Throws `StrapiNotFoundError` when the document does not exist. */
  findOne<T>(
    documentId: string,
    params: Omit<StrapiQueryParams, 'filters' | 'pagination' | 'sort'> | undefined,
    schema: StrapiSchema<T>,
    cacheOptions?: CacheOptions<T>,
  ): Promise<T>;
  create<T>(data: Record<string, unknown>, schema: StrapiSchema<T>, options?: WriteOptions): Promise<T>;
  update<T>(
    documentId: string,
    data: Record<string, unknown>,
    schema: StrapiSchema<T>,
    options?: WriteOptions,
  ): Promise<T>;
  delete(documentId: string, options?: WriteOptions): Promise<void>;
}

export interface SingleTypeClient {
  readonly type: string;
  find<T>(
    params: Omit<StrapiQueryParams, 'filters' | 'pagination' | 'sort'> | undefined,
    schema: StrapiSchema<T>,
    cacheOptions?: CacheOptions<T>,
  ): Promise<T>;
  update<T>(data: Record<string, unknown>, schema: StrapiSchema<T>, options?: WriteOptions): Promise<T>;
  delete(options?: WriteOptions): Promise<void>;
}

export interface StrapiClientStatus {
  breaker: BreakerState;
  redis: 'ready' | 'down' | 'disabled';
  inFlight: number;
  l1Size: number;
}

export interface StrapiClient {
  collection(pluralApiId: string): CollectionClient;
  single(singularApiId: string): SingleTypeClient;
  /** Strapi's GraphQL API through the same transport, cache, coalescing and invalidation. */
  readonly graphql: GraphQLClient;
  /** Drops every cached result carrying one of the tags, here, in Redis and on every instance. */
  invalidateTags(tags: string[]): Promise<void>;
  on<K extends StrapiEventName>(event: K, listener: StrapiEventListener<K>): () => void;
  off<K extends StrapiEventName>(event: K, listener: StrapiEventListener<K>): void;
  /** Strapi reachability for /ready (GET /_health). Never throws. */
  ping(): Promise<PingResult>;
  /** Waits for Redis (cache + bus subscription) to be up; true at once without Redis. */
  ready(timeoutMs?: number): Promise<boolean>;
  status(): StrapiClientStatus;
  /** Closes Redis connections. Further calls fail with `STRAPI_CLIENT_CLOSED`. */
  close(): Promise<void>;
  /** The resolved options (token redacted). */
  readonly options: Readonly<Omit<ResolvedOptions, 'token' | 'logger' | 'now'>>;
}

const API_ID = /^[a-z0-9][a-z0-9-_]*$/i;

function assertApiId(id: string, what: string): void {
  if (!API_ID.test(id)) throw new TypeError(`Invalid Strapi ${what} "${id}"`);
}

function documentIdsOf(raw: unknown): string[] {
  const data = (raw as { data?: unknown } | undefined)?.data;
  const items = Array.isArray(data) ? data : data ? [data] : [];
  const ids: string[] = [];
  for (const item of items) {
    const id = (item as { documentId?: unknown } | null)?.documentId;
    if (typeof id === 'string') ids.push(id);
  }
  return ids;
}

function normalizePagination(raw: unknown, count: number): StrapiPagination {
  const p = (raw ?? {}) as Record<string, unknown>;
  const num = (value: unknown) => (typeof value === 'number' && Number.isFinite(value) ? value : undefined);
  const total = num(p.total) ?? count;
  if (num(p.page) !== undefined && num(p.pageSize) !== undefined) {
    const pageSize = num(p.pageSize)!;
    return {
      page: num(p.page)!,
      pageSize,
      pageCount: num(p.pageCount) ?? Math.ceil(total / pageSize),
      total,
    };
  }
  const limit = num(p.limit);
  const start = num(p.start) ?? 0;
  if (limit !== undefined && limit > 0) {
    return {
      page: Math.floor(start / limit) + 1,
      pageSize: limit,
      pageCount: Math.ceil(total / limit),
      total,
    };
  }
  return { page: 1, pageSize: count, pageCount: count > 0 ? 1 : 0, total };
}

const TYPE_TAG_VARIANTS = [true, false, 'if-empty'] as const;

/**
 * Key builders per tag variant: results cached with different `typeTag` / `docTags` carry
 * different tags, so they must not share an entry. Indexing (no string building) keeps the
 * hot path free of extra concatenation. Prefixes look like `c:articles:` or `c:articles:t2d0:`.
 */
function tagVariantKeyers(prefix: string, defaultTypeTag: boolean) {
  const keyers: Array<(params: object | undefined) => string> = [];
  for (let t = 0; t < TYPE_TAG_VARIANTS.length; t++) {
    for (let d = 0; d < 2; d++) {
      const isDefault = TYPE_TAG_VARIANTS[t] === defaultTypeTag && d === 0;
      keyers.push(createKeyer(isDefault ? prefix : `${prefix}t${t}d${d}:`));
    }
  }
  return (params: object | undefined, cacheOptions: CacheOptions<unknown> | undefined) => {
    const typeTag = cacheOptions?.typeTag ?? defaultTypeTag;
    const t = typeTag === true ? 0 : typeTag === false ? 1 : 2;
    const d = cacheOptions?.docTags === false ? 1 : 0;
    return keyers[t * 2 + d]!(params);
  };
}

function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(invalid url)';
  }
}

export function createStrapiClient(input: StrapiClientOptions): StrapiClient {
  const options = resolveOptions(input);
  const logger = options.logger ?? noopLogger;
  const events = new EventHub((error, event) => {
    logger.error({ err: (error as Error)?.message, event }, 'strapi-client: event listener threw');
  });
  attachTracing(events);
  const transport = new Transport(options, events, logger);
  const now = options.now ?? Date.now;
  const cache = options.cache.enabled
    ? new TieredCache({
        l1MaxItems: options.cache.l1MaxItems,
        prefix: options.cache.prefix,
        staleWhileRevalidate: options.cache.staleWhileRevalidate,
        redisUrl: options.cache.redisUrl,
        redisCommandTimeoutMs: options.cache.redisCommandTimeoutMs,
        now,
        events,
        logger,
      })
    : undefined;
  let closed = false;

  const ensureOpen = () => {
    if (closed) throw new StrapiClientClosedError();
  };

  /** Validates a raw payload with `parse`, memoised per entry and schema. */
  function fromEntry<R>(entry: CacheEntry, schema: object, parse: (raw: unknown) => R): R {
    let memo = entry.p;
    if (memo) {
      const hit = memo.get(schema);
      if (hit !== undefined) return hit as R;
    } else {
      memo = new WeakMap();
      entry.p = memo;
    }
    const parsed = deepFreeze(parse(entry.v));
    memo.set(schema, parsed);
    return parsed;
  }

  /** One frozen event per type for the hot path's L1 hits (listeners only read events). */
  const l1Hits = new Map<string, CacheEvent>();
  const l1HitEvent = (type: string) => {
    let event = l1Hits.get(type);
    if (!event) {
      event = Object.freeze({ result: 'hit', layer: 'l1', type } as const);
      l1Hits.set(type, event);
    }
    return event;
  };

  /** Fresh L1 entry already validated with this schema: answer without any await. */
  function fastHit<R>(type: string, key: string, schema: object, cacheOptions: CacheOptions<R> | undefined) {
    if (!cache || closed || cacheOptions?.cache === false) return undefined;
    const entry = cache.peekFresh(key);
    const memo = entry?.p?.get(schema) as R | undefined;
    if (memo !== undefined) {
      if (events.has('cache')) events.emit('cache', l1HitEvent(type));
      traceL1Hit('read', type);
    }
    return memo;
  }

  /** A read through the cache, in its span when the request is traced. */
  function cachedRead<R>(...args: Parameters<typeof readThroughCache<R>>): Promise<R> {
    return traceRead('read', args[0], () => readThroughCache<R>(...args));
  }

  async function readThroughCache<R>(
    type: string,
    key: string,
    schema: object,
    fetchRaw: () => Promise<unknown>,
    parse: (raw: unknown) => R,
    /** null: the value must not be cached (no tags would let a webhook drop it). */
    tagsFor: (raw: unknown, parsed: R) => string[] | null,
    cacheOptions: CacheOptions<R> | undefined,
  ): Promise<R> {
    ensureOpen();
    if (!cache || cacheOptions?.cache === false) {
      events.emit('cache', { result: 'bypass', type });
      return parse(await fetchRaw());
    }
    let loaded: { raw: unknown; parsed: R } | undefined;
    const entry = await cache.get(key, {
      type,
      ttlMs: cacheOptions?.ttlMs ?? options.cache.ttlMs,
      graceMs: cacheOptions?.graceMs ?? options.cache.graceMs,
      isGone: (error) => error instanceof StrapiNotFoundError,
      load: async () => {
        const raw = await fetchRaw();
        // Validate before caching: a payload that doesn't match is never stored.
        const parsed = parse(raw);
        loaded = { raw, parsed };
        const tags = tagsFor(raw, parsed);
        return tags === null ? { value: raw, tags: [], store: false } : { value: raw, tags };
      },
    });
    if (loaded && entry.v === loaded.raw) {
      // This call loaded the entry: reuse its validation instead of parsing twice.
      entry.p ??= new WeakMap();
      if (!entry.p.has(schema)) entry.p.set(schema, deepFreeze(loaded.parsed));
    }
    return fromEntry(entry, schema, parse);
  }

  function computeTags<R>(
    type: string,
    raw: unknown,
    parsed: R,
    cacheOptions: CacheOptions<R> | undefined,
    defaultTypeTag: boolean,
  ): string[] {
    const tags: string[] = [];
    const ids = documentIdsOf(raw);
    if (cacheOptions?.docTags !== false) for (const id of ids) tags.push(docTag(type, id));
    const wantType = cacheOptions?.typeTag ?? defaultTypeTag;
    if (wantType === true || (wantType === 'if-empty' && ids.length === 0)) tags.push(typeTag(type));
    const extra = cacheOptions?.tags;
    if (extra) tags.push(...(typeof extra === 'function' ? extra(parsed) : extra));
    return tags;
  }

  function parseOne<T>(raw: unknown, schema: StrapiSchema<T>, method: string, path: string): T {
    const data = (raw as { data?: unknown } | undefined)?.data;
    if (data === null || data === undefined) {
      throw new StrapiNotFoundError(`Strapi ${method} ${path}: no document`, { method, path });
    }
    const result = schema.safeParse(data);
    if (!result.success) {
      throw new StrapiBadResponseError(`Strapi ${method} ${path}: response does not match the schema`, {
        method,
        path,
        issues: schemaIssues(result.error, 'data'),
      });
    }
    return result.data;
  }

  function parseList<T>(raw: unknown, schema: StrapiSchema<T>, path: string): StrapiListResult<T> {
    const body = raw as { data?: unknown; meta?: { pagination?: unknown } } | undefined;
    if (!body || !Array.isArray(body.data)) {
      throw new StrapiBadResponseError(`Strapi GET ${path}: expected { data: [...] }`, {
        method: 'GET',
        path,
        issues: [{ path: 'data', message: 'expected an array' }],
      });
    }
    const data: T[] = [];
    const issues: StrapiErrorIssue[] = [];
    body.data.forEach((item, index) => {
      const result = schema.safeParse(item);
      if (result.success) data.push(result.data);
      else issues.push(...schemaIssues(result.error, `data.${index}`));
    });
    if (issues.length > 0) {
      throw new StrapiBadResponseError(`Strapi GET ${path}: response does not match the schema`, {
        method: 'GET',
        path,
        issues: issues.slice(0, 20),
      });
    }
    return { data, meta: { pagination: normalizePagination(body.meta?.pagination, data.length) } };
  }

  async function invalidateTags(tags: string[]): Promise<void> {
    if (!cache || tags.length === 0) return;
    await cache.invalidateTags(tags);
  }

  async function afterWrite(type: string, documentId: string | undefined, write?: WriteOptions) {
    const tags = [...(write?.tags ?? [])];
    if (write?.invalidate !== false) {
      tags.push(typeTag(type));
      if (documentId) tags.push(docTag(type, documentId));
    }
    await invalidateTags(tags);
  }

  const apiPath = (type: string, id?: string) =>
    id === undefined ? `/${type}` : `/${type}/${encodeURIComponent(id)}`;
  const fullPath = (path: string) => `${options.apiPrefix}${path}`;

  const collections = new Map<string, CollectionClient>();
  const singles = new Map<string, SingleTypeClient>();

  function collection(type: string): CollectionClient {
    let client = collections.get(type);
    if (!client) {
      client = createCollection(type);
      collections.set(type, client);
    }
    return client;
  }

  function single(type: string): SingleTypeClient {
    let client = singles.get(type);
    if (!client) {
      client = createSingle(type);
      singles.set(type, client);
    }
    return client;
  }

  function createCollection(type: string): CollectionClient {
    assertApiId(type, 'plural API id');
    const listKey = tagVariantKeyers(`c:${type}:`, true);
    const oneParamsKey = tagVariantKeyers('', false);
    return {
      type,
      peek(params, schema, cacheOptions) {
        return fastHit(
          type,
          listKey(params, cacheOptions as CacheOptions<unknown> | undefined),
          schema,
          cacheOptions,
        );
      },
      find(params, schema, cacheOptions) {
        const key = listKey(params, cacheOptions as CacheOptions<unknown> | undefined);
        const hit = fastHit(type, key, schema, cacheOptions);
        if (hit !== undefined) return Promise.resolve(hit);
        const path = apiPath(type);
        return cachedRead(
          type,
          key,
          schema,
          () => transport.request({ method: 'GET', path, query: encodeQuery(params), type }),
          (raw) => parseList(raw, schema, fullPath(path)),
          (raw, parsed) => computeTags(type, raw, parsed, cacheOptions, true),
          cacheOptions,
        );
      },
      findOne(documentId, params, schema, cacheOptions) {
        if (!documentId) return Promise.reject(new TypeError('documentId is required'));
        const key = `o:${type}:${documentId}:${oneParamsKey(params, cacheOptions as CacheOptions<unknown> | undefined)}`;
        const hit = fastHit(type, key, schema, cacheOptions);
        if (hit !== undefined) return Promise.resolve(hit);
        const path = apiPath(type, documentId);
        return cachedRead(
          type,
          key,
          schema,
          () => transport.request({ method: 'GET', path, query: encodeQuery(params), type }),
          (raw) => parseOne(raw, schema, 'GET', fullPath(path)),
          (raw, parsed) => {
            const tags = computeTags(type, raw, parsed, cacheOptions, false);
            // Even if the payload lacks documentId, the document asked for is this one.
            if (cacheOptions?.docTags !== false) tags.push(docTag(type, documentId));
            return tags;
          },
          cacheOptions,
        );
      },
      async create(data, schema, write) {
        ensureOpen();
        const path = apiPath(type);
        const raw = await transport.request({ method: 'POST', path, body: { data }, type });
        const result = parseOne(raw, schema, 'POST', fullPath(path));
        await afterWrite(type, documentIdsOf(raw)[0], write);
        return result;
      },
      async update(documentId, data, schema, write) {
        ensureOpen();
        const path = apiPath(type, documentId);
        const raw = await transport.request({ method: 'PUT', path, body: { data }, type });
        const result = parseOne(raw, schema, 'PUT', fullPath(path));
        await afterWrite(type, documentId, write);
        return result;
      },
      async delete(documentId, write) {
        ensureOpen();
        await transport.request({ method: 'DELETE', path: apiPath(type, documentId), type });
        await afterWrite(type, documentId, write);
      },
    };
  }

  function createSingle(type: string): SingleTypeClient {
    assertApiId(type, 'singular API id');
    const path = apiPath(type);
    const singleKey = tagVariantKeyers(`s:${type}:`, true);
    return {
      type,
      find(params, schema, cacheOptions) {
        const key = singleKey(params, cacheOptions as CacheOptions<unknown> | undefined);
        const hit = fastHit(type, key, schema, cacheOptions);
        if (hit !== undefined) return Promise.resolve(hit);
        return cachedRead(
          type,
          key,
          schema,
          () => transport.request({ method: 'GET', path, query: encodeQuery(params), type }),
          (raw) => parseOne(raw, schema, 'GET', fullPath(path)),
          (raw, parsed) => computeTags(type, raw, parsed, cacheOptions, true),
          cacheOptions,
        );
      },
      async update(data, schema, write) {
        ensureOpen();
        const raw = await transport.request({ method: 'PUT', path, body: { data }, type });
        const result = parseOne(raw, schema, 'PUT', fullPath(path));
        await afterWrite(type, documentIdsOf(raw)[0], write);
        return result;
      },
      async delete(write) {
        ensureOpen();
        await transport.request({ method: 'DELETE', path, type });
        await afterWrite(type, undefined, write);
      },
    };
  }

  const graphql = createGraphQLClient({
    transport,
    path: options.graphql.path,
    types: options.graphql.types,
    logger,
    ensureOpen,
    fastHit,
    cachedRead,
    invalidateTags,
  });

  const { token: _token, logger: _logger, now: _now, ...rest } = options;
  const publicOptions = {
    ...rest,
    cache: { ...rest.cache, redisUrl: rest.cache.redisUrl && redactUrl(rest.cache.redisUrl) },
  };

  return {
    options: Object.freeze(publicOptions),
    collection,
    single,
    graphql,
    async invalidateTags(tags) {
      ensureOpen();
      await invalidateTags(tags);
    },
    on: (event, listener) => events.on(event, listener),
    off: (event, listener) => events.off(event, listener),
    ping: () => transport.ping(),
    ready: (timeoutMs = 5_000) => (cache ? cache.ready(timeoutMs) : Promise.resolve(true)),
    status: () => ({
      breaker: transport.breakerState,
      redis: cache?.redisStatus ?? 'disabled',
      inFlight: transport.inFlight,
      l1Size: cache?.l1Size ?? 0,
    }),
    async close() {
      if (closed) return;
      closed = true;
      await cache?.close();
      events.clear();
    },
  };
}
