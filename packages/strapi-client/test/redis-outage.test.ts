import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type FakeStrapi,
  startFakeStrapi,
  startThrowawayRedis,
  type ThrowawayRedis,
} from '../src/testing/index.ts';
import { articleSchema, clientFor, closeClients, nextEvent, seedArticles } from './helpers.ts';

// Uses a private redis-server (never the shared one) so it can be killed and restarted.
describe('Redis stopped mid-test', () => {
  let redis: ThrowawayRedis;
  let fake: FakeStrapi;
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);

  beforeAll(async () => {
    process.on('unhandledRejection', onUnhandled);
    redis = await startThrowawayRedis();
    fake = await startFakeStrapi({ collections: { articles: seedArticles(5) } });
  });

  afterAll(async () => {
    process.off('unhandledRejection', onUnhandled);
    await closeClients();
    await fake?.close();
    await redis?.close();
  });

  it('reads keep succeeding while Redis is down, and L2 is used again once it is back (fake Strapi)', async () => {
    const prefix = 'outage:';
    const a = clientFor(fake, { cache: { redisUrl: redis.url, prefix, redisCommandTimeoutMs: 200 } });
    expect(await a.ready()).toBe(true);
    const articles = a.collection('articles');
    const one = (id: string) => articles.findOne(id, undefined, articleSchema);

    await one('doc1'); // miss → Strapi → L1 + L2

    // Redis dies while a read is in flight (its L2 lookup done, Strapi still answering).
    const release = fake.hold();
    const inFlight = one('doc4');
    await fake.waitForInFlight(1);
    const down = nextEvent(a, 'redis', (event) => event.connection === 'cache' && event.state === 'down');
    await redis.kill();
    await down;
    release();
    expect((await inFlight).title).toBe('Article 4');
    expect(a.status().redis).toBe('down');

    // Reads go on: L1 hit, and a cold key straight to Strapi.
    expect((await one('doc1')).title).toBe('Article 1');
    expect((await one('doc2')).title).toBe('Article 2');
    const listed = await articles.find({ sort: ['title:asc'] }, articleSchema);
    expect(listed.data).toHaveLength(5);
    // Invalidation still drops locally and resolves.
    await a.invalidateTags(['doc:articles:doc2']);
    expect((await one('doc2')).title).toBe('Article 2');

    const cacheBack = nextEvent(
      a,
      'redis',
      (event) => event.connection === 'cache' && event.state === 'ready',
    );
    const busBack = nextEvent(a, 'invalidate', (event) => event.source === 'resync');
    await redis.restart();
    await Promise.all([cacheBack, busBack]); // reconnected by itself; L1 was cleared (bus may have missed messages)
    expect(await a.ready()).toBe(true);

    const callsBefore = fake.apiCalls;
    await one('doc3'); // miss → written to the (new, empty) Redis
    expect(fake.apiCalls).toBe(callsBefore + 1);

    const probe = new Redis(redis.url);
    try {
      await expect.poll(() => probe.exists(`${prefix}e:o:articles:doc3:{}`), { timeout: 5_000 }).toBe(1);
    } finally {
      probe.disconnect();
    }

    // A second instance reads it from L2, without Strapi.
    const b = clientFor(fake, { cache: { redisUrl: redis.url, prefix } });
    expect(await b.ready()).toBe(true);
    const l2Hit = nextEvent(b, 'cache');
    expect((await b.collection('articles').findOne('doc3', undefined, articleSchema)).title).toBe(
      'Article 3',
    );
    expect(await l2Hit).toMatchObject({ result: 'hit', layer: 'l2' });
    expect(fake.apiCalls).toBe(callsBefore + 1);
    expect(unhandled).toEqual([]);
  });
});

describe('Redis unreachable from the start', () => {
  it('serves from Strapi + L1, ready() says false, nothing throws (fake Strapi)', async () => {
    const fake = await startFakeStrapi({ collections: { articles: seedArticles(1) } });
    const redis = await startThrowawayRedis();
    await redis.close(); // a port where nothing listens any more
    try {
      const strapi = clientFor(fake, { cache: { redisUrl: redis.url, prefix: 'nowhere:' } });
      expect(await strapi.ready(300)).toBe(false);
      expect(strapi.status().redis).toBe('down');
      const articles = strapi.collection('articles');
      expect((await articles.find(undefined, articleSchema)).data).toHaveLength(1);
      expect((await articles.find(undefined, articleSchema)).data).toHaveLength(1);
      expect(fake.apiCalls).toBe(1);
      await strapi.invalidateTags(['type:articles']);
      await articles.find(undefined, articleSchema);
      expect(fake.apiCalls).toBe(2);
    } finally {
      await closeClients();
      await fake.close();
    }
  });
});
