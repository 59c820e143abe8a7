import type { EventHub } from '../events.ts';
import type { StrapiLogger } from '../options.ts';
import { type CacheEntry, deepFreeze } from './entry.ts';
import { Lru } from './lru.ts';
import { InvalidationBus, RedisLayer } from './redis.ts';

export interface TieredCacheOptions {
  l1MaxItems: number;
  prefix: string;
  staleWhileRevalidate: boolean;
  redisUrl?: string;
  redisCommandTimeoutMs: number;
  now: () => number;
  events: EventHub;
  logger: StrapiLogger;
}

export interface LoadOptions {
  /** Content type, for events. */
  type: string;
  ttlMs: number;
  graceMs: number;
  /**
   * Loads the raw value from Strapi; returns it with the tags it should carry. `store: false`:
   * hand the value to the waiting callers but keep it out of L1/L2 (and drop the old entry).
   */
  load: () => Promise<{ value: unknown; tags: string[]; store?: boolean }>;
  /**
   * Errors that mean "this value is gone" (e.g. 404) rather than "Strapi is unwell": the
   * entry is dropped instead of being served stale.
   */
  isGone?: (error: unknown) => boolean;
}

/**
 * L1 (bounded in-process LRU) + optional L2 (Redis) with:
 * - freshness `ttl` then `grace` during which a stale value is served while revalidating
 *   (stale-while-revalidate) or when Strapi fails (stale-if-error);
 * - request coalescing: concurrent misses of one key share one L2 read and one load;
 * - tags, invalidated locally, in L2, and on every other instance through the Redis bus.
 */
export class TieredCache {
  #l1: Lru<CacheEntry>;
  /** l1MaxItems 0: nothing is kept in process (L2 and coalescing only). */
  #l1Off: boolean;
  #tagIndex = new Map<string, Set<string>>();
  #inflight = new Map<string, Promise<CacheEntry>>();
  #refreshing = new Set<string>();
  /** Invalidation sequence per tag, to refuse storing a value loaded before its tag was invalidated. */
  #tagSeq = new Lru<number>(50_000);
  #seq = 0;
  #l2: RedisLayer | undefined;
  #bus: InvalidationBus | undefined;
  #now: () => number;
  #swr: boolean;
  #events: EventHub;
  #logger: StrapiLogger;

  constructor(options: TieredCacheOptions) {
    this.#now = options.now;
    this.#swr = options.staleWhileRevalidate;
    this.#events = options.events;
    this.#logger = options.logger;
    this.#l1 = new Lru<CacheEntry>(options.l1MaxItems, (key, entry) => this.#untag(key, entry));
    this.#l1Off = options.l1MaxItems === 0;
    if (options.redisUrl) {
      this.#l2 = new RedisLayer(
        options.redisUrl,
        options.prefix,
        options.redisCommandTimeoutMs,
        options.events,
        options.logger,
      );
      this.#bus = new InvalidationBus(
        options.redisUrl,
        options.prefix,
        this.#l2.client,
        {
          onRemote: (tags) => {
            const dropped = this.#dropLocal(tags);
            this.#events.emit('invalidate', { tags, source: 'remote', dropped });
          },
          onResync: () => {
            const dropped = this.#l1.size;
            this.#l1.clear();
            this.#logger.info({ dropped }, 'strapi-client: bus reconnected, L1 cleared');
            this.#events.emit('invalidate', { tags: [], source: 'resync', dropped });
          },
        },
        options.events,
        options.logger,
      );
    }
  }

  get hasL2(): boolean {
    return this.#l2 !== undefined;
  }

  /** 'disabled' without redisUrl. */
  get redisStatus(): 'ready' | 'down' | 'disabled' {
    if (!this.#l2) return 'disabled';
    return this.#l2.isReady ? 'ready' : 'down';
  }

  get l1Size(): number {
    return this.#l1.size;
  }

  /** Resolves when Redis (cache + bus) is connected and subscribed, or false after `timeoutMs`. */
  async ready(timeoutMs: number): Promise<boolean> {
    if (!this.#l2 || !this.#bus) return true;
    const client = this.#l2.client;
    let onReady: (() => void) | undefined;
    let timer: NodeJS.Timeout | undefined;
    const connected = new Promise<boolean>((resolve) => {
      if (client.status === 'ready') return resolve(true);
      onReady = () => resolve(true);
      client.once('ready', onReady);
    });
    const timedOut = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    try {
      const both = Promise.all([connected, this.#bus.subscribed()]).then(([a, b]) => a && b);
      return await Promise.race([both, timedOut]);
    } finally {
      clearTimeout(timer);
      if (onReady) client.off('ready', onReady);
    }
  }

  /** The entry for `key` if it is in L1 and fresh; no events, no loading. The hot path. */
  peekFresh(key: string): CacheEntry | undefined {
    const entry = this.#l1.get(key);
    return entry !== undefined && this.#now() < entry.f ? entry : undefined;
  }

  /**
   * The cached entry for `key` (fresh, or stale within grace), else loads it once for all
   * concurrent callers. Entries hold Strapi's raw (frozen) payload; callers validate it.
   */
  get(key: string, options: LoadOptions): Promise<CacheEntry> {
    const entry = this.#l1.get(key);
    if (entry !== undefined) {
      const now = this.#now();
      if (now < entry.f) {
        if (this.#events.has('cache'))
          this.#events.emit('cache', { result: 'hit', layer: 'l1', type: options.type });
        return Promise.resolve(entry);
      }
      if (now < entry.s && this.#swr) {
        this.#refreshInBackground(key, options);
        if (this.#events.has('cache')) {
          this.#events.emit('cache', {
            result: 'stale',
            layer: 'l1',
            type: options.type,
            reason: 'revalidating',
          });
        }
        return Promise.resolve(entry);
      }
    }
    const pending = this.#inflight.get(key);
    if (pending) {
      this.#events.emit('cache', { result: 'coalesced', type: options.type });
      return pending;
    }
    const promise = this.#load(key, options, entry).finally(() => {
      this.#inflight.delete(key);
    });
    this.#inflight.set(key, promise);
    return promise;
  }

  async #load(key: string, options: LoadOptions, l1Entry: CacheEntry | undefined): Promise<CacheEntry> {
    const startSeq = this.#seq;
    let stale: CacheEntry | undefined = l1Entry && this.#now() < l1Entry.s ? l1Entry : undefined;
    let staleLayer: 'l1' | 'l2' = 'l1';
    if (this.#l2) {
      const remote = await this.#l2.get(key);
      const now = this.#now();
      if (remote && now < remote.s && (!stale || remote.c > stale.c)) {
        const entry: CacheEntry = {
          v: deepFreeze(remote.v),
          t: remote.t,
          c: remote.c,
          f: remote.f,
          s: remote.s,
        };
        // Not stored when a tag was invalidated while we were reading: then load fresh.
        if (this.#storeL1(key, entry, startSeq)) {
          if (now < entry.f) {
            this.#events.emit('cache', { result: 'hit', layer: 'l2', type: options.type });
            return entry;
          }
          stale = entry;
          staleLayer = 'l2';
        }
      }
    }
    if (stale && this.#swr) {
      this.#refreshInBackground(key, options, true);
      this.#events.emit('cache', {
        result: 'stale',
        layer: staleLayer,
        type: options.type,
        reason: 'revalidating',
      });
      return stale;
    }
    try {
      const entry = await this.#fetchAndStore(key, options, startSeq);
      this.#events.emit('cache', { result: 'miss', type: options.type });
      return entry;
    } catch (error) {
      if (options.isGone?.(error)) {
        this.#drop(key);
        throw error;
      }
      if (stale && this.#now() < stale.s) {
        this.#logger.warn(
          { type: options.type, code: (error as { code?: string }).code },
          'strapi-client: serving stale value, Strapi failed',
        );
        this.#events.emit('cache', {
          result: 'stale',
          layer: staleLayer,
          type: options.type,
          reason: 'upstream-error',
        });
        return stale;
      }
      throw error;
    }
  }

  async #fetchAndStore(key: string, options: LoadOptions, startSeq: number): Promise<CacheEntry> {
    const { value, tags, store } = await options.load();
    const now = this.#now();
    const entry: CacheEntry = {
      v: deepFreeze(value),
      t: [...new Set(tags)],
      c: now,
      f: now + options.ttlMs,
      s: now + options.ttlMs + options.graceMs,
    };
    if (store === false) {
      this.#drop(key);
      return entry;
    }
    if (this.#storeL1(key, entry, startSeq)) {
      this.#l2?.set(key, entry, options.ttlMs + options.graceMs);
    }
    return entry;
  }

  /** `fromLoad`: called by the in-flight load of this key itself, so don't skip because of it. */
  #refreshInBackground(key: string, options: LoadOptions, fromLoad = false): void {
    if (this.#refreshing.has(key) || (!fromLoad && this.#inflight.has(key))) return;
    this.#refreshing.add(key);
    const startSeq = this.#seq;
    this.#fetchAndStore(key, options, startSeq)
      .catch((error: unknown) => {
        if (options.isGone?.(error)) this.#drop(key);
        this.#logger.debug(
          { type: options.type, code: (error as { code?: string }).code },
          'strapi-client: background revalidation failed',
        );
      })
      .finally(() => {
        this.#refreshing.delete(key);
      });
  }

  /** False when one of the entry's tags was invalidated after `startSeq` (the value may be outdated). */
  #storeL1(key: string, entry: CacheEntry, startSeq: number): boolean {
    if (this.#seq !== startSeq) {
      for (const tag of entry.t) {
        if ((this.#tagSeq.get(tag) ?? 0) > startSeq) {
          this.#logger.debug(
            { tag },
            'strapi-client: not caching a value loaded before its tag was invalidated',
          );
          return false;
        }
      }
    }
    if (this.#l1Off) return true;
    this.#l1.set(key, entry);
    for (const tag of entry.t) {
      let keys = this.#tagIndex.get(tag);
      if (!keys) {
        keys = new Set();
        this.#tagIndex.set(tag, keys);
      }
      keys.add(key);
    }
    return true;
  }

  #drop(key: string): void {
    this.#l1.delete(key);
    this.#l2?.delete(key);
  }

  #untag(key: string, entry: CacheEntry): void {
    for (const tag of entry.t) {
      const keys = this.#tagIndex.get(tag);
      if (!keys) continue;
      keys.delete(key);
      if (keys.size === 0) this.#tagIndex.delete(tag);
    }
  }

  #dropLocal(tags: string[]): number {
    let dropped = 0;
    this.#seq++;
    for (const tag of tags) {
      this.#tagSeq.set(tag, this.#seq);
      const keys = this.#tagIndex.get(tag);
      if (!keys) continue;
      for (const key of [...keys]) {
        if (this.#l1.delete(key)) dropped++;
      }
    }
    return dropped;
  }

  /**
   * Drops every entry carrying one of `tags`: here (L1), in Redis (L2), then tells the other
   * instances over the bus. Resolves when that is done; Redis failures are logged, not thrown
   * (the local drop always happens).
   */
  async invalidateTags(tags: string[]): Promise<{ dropped: number; l2: boolean; published: boolean }> {
    const unique = [...new Set(tags)];
    let dropped = this.#dropLocal(unique);
    let l2 = true;
    let published = true;
    if (this.#l2) {
      l2 = await this.#l2.invalidate(unique);
      // A read that raced the L2 delete may have copied an old entry back into L1.
      dropped += this.#dropLocal(unique);
    }
    if (this.#bus) published = await this.#bus.publish(unique);
    this.#events.emit('invalidate', { tags: unique, source: 'local', dropped });
    return { dropped, l2, published };
  }

  clearLocal(): void {
    this.#l1.clear();
  }

  async close(): Promise<void> {
    this.#l1.clear();
    await Promise.all([this.#bus?.close(), this.#l2?.close()]);
  }
}
