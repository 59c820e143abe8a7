import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TieredCache } from '../src/cache/tiered-cache.ts';
import { EventHub } from '../src/events.ts';
import { startThrowawayRedis, type ThrowawayRedis } from '../src/testing/index.ts';

/**
 * Redis memory stays bounded and Redis stays responsive under high-cardinality caching: 100,000
 * distinct searches (each its own cache key, all tagged with the content type, like `?q=` from
 * any client), then one invalidation of that type. A private redis-server, so its SLOWLOG is
 * ours alone (the server's own measure of how long a command ran, blocking every other client).
 */
const SEARCHES = 100_000;
const SLOW_US = 10_000;
const silent = { debug() {}, info() {}, warn() {}, error() {} };

describe('the L2 tag index under 100,000 distinct searches (private real Redis)', () => {
  let redis: ThrowawayRedis;
  let probe: Redis;
  let cache: TieredCache;
  const prefix = 'tagindex:';

  beforeAll(async () => {
    redis = await startThrowawayRedis();
    probe = new Redis(redis.url);
    // the default, stated: any command that runs longer than 10 ms is logged
    await probe.config('SET', 'slowlog-log-slower-than', String(SLOW_US));
    cache = new TieredCache({
      l1MaxItems: 1_000,
      prefix,
      staleWhileRevalidate: false,
      redisUrl: redis.url,
      redisCommandTimeoutMs: 5_000,
      now: Date.now,
      events: new EventHub(() => {}),
      logger: silent,
    });
    expect(await cache.ready(5_000)).toBe(true);
  }, 30_000);

  afterAll(async () => {
    await cache?.close();
    probe?.disconnect();
    await redis?.close();
  });

  const search = (i: number, loads: { n: number }) =>
    cache.get(`list:articles:q=${i}`, {
      type: 'articles',
      ttlMs: 600_000,
      graceMs: 60_000,
      load: async () => {
        loads.n++;
        return {
          value: { data: [{ id: i % 25 }], meta: { q: i } },
          tags: ['type:articles', `doc:articles:${i % 25}`],
        };
      },
    });

  it('one invalidation after 100,000 cached searches blocks Redis for no command over 10 ms', async () => {
    const loads = { n: 0 };
    for (let i = 0; i < SEARCHES; i += 1_000) {
      await Promise.all(Array.from({ length: 1_000 }, (_, j) => search(i + j, loads)));
    }
    expect(loads.n).toBe(SEARCHES);
    // the L2 writes are fire-and-forget: wait until all of them (and the 26 tags' keys) are in
    await expect.poll(async () => (await probe.dbsize()) >= SEARCHES + 26, { timeout: 60_000 }).toBe(true);
    await probe.slowlog('RESET');

    // a concurrent client measures how long Redis makes it wait while the invalidation runs
    let worstPingMs = 0;
    let pings = 0;
    let probing = true;
    const pinger = (async () => {
      while (probing) {
        const t = performance.now();
        await probe.ping();
        worstPingMs = Math.max(worstPingMs, performance.now() - t);
        pings++;
      }
    })();
    const result = await cache.invalidateTags(['type:articles']);
    // keep probing a little after, in case work was deferred to the server's background
    await new Promise((r) => setTimeout(r, 50));
    probing = false;
    await pinger;

    expect(result.l2).toBe(true);
    const slow = (await probe.slowlog('GET', 128)) as Array<[number, number, number, string[]]>;
    expect(slow.map(([, , us, args]) => `${us} µs: ${args.slice(0, 3).join(' ')}`)).toEqual([]);
    expect(pings).toBeGreaterThan(0);
    // a client-side bound, generous for a loaded 2-core machine; SLOWLOG above is the strict one
    expect(worstPingMs).toBeLessThan(250);

    // the invalidation took effect: every one of those searches is a miss now
    const before = loads.n;
    await Promise.all(Array.from({ length: 200 }, (_, i) => search(i * 500, loads)));
    expect(loads.n - before).toBe(200);
  }, 180_000);

  it('keeps no index that grows with the number of cached keys', async () => {
    // apart from the entries themselves (each expiring with its own TTL): one version per tag and the counter
    const other: string[] = [];
    let cursor = '0';
    do {
      const [next, keys] = await probe.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 5_000);
      cursor = next;
      for (const k of keys) if (!k.startsWith(`${prefix}e:`)) other.push(k);
    } while (cursor !== '0');
    expect(other.sort()).toEqual(
      [
        `${prefix}vseq`,
        `${prefix}v:type:articles`,
        ...Array.from({ length: 25 }, (_, i) => `${prefix}v:doc:articles:${i}`),
      ].sort(),
    );
    for (const key of other) expect(await probe.type(key)).toBe('string');
    // every entry carries a TTL: nothing outlives its freshness + grace
    const [, sample] = await probe.scan('0', 'MATCH', `${prefix}e:*`, 'COUNT', 100);
    expect(sample.length).toBeGreaterThan(0);
    for (const key of sample) {
      const pttl = await probe.pttl(key);
      expect(pttl).toBeGreaterThan(0);
      expect(pttl).toBeLessThanOrEqual(660_000);
    }
  });
});
