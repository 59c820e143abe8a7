import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type FakeStrapi,
  startFakeStrapi,
  startThrowawayRedis,
  type ThrowawayRedis,
} from '../src/testing/index.ts';
import { articleSchema, clientFor, closeClients, nextEvent, seedArticles } from './helpers.ts';

/**
 * Redis away must cost a read nothing: not the seconds ioredis waits with an offline queue, not
 * the command timeout on every read of a Redis that is stopped (SIGSTOP keeps its connections
 * open, so ioredis stays "ready"). Private redis-server per test (never the shared one), fake
 * Strapi (it has to answer the reads Redis cannot).
 *
 * Timing bounds are generous (a loaded 2-core machine): a read that waited for Redis takes at
 * least the 500 ms command timeout; one that does not takes a few ms.
 */
const FAST_MS = 250;

describe('reads never wait for Redis (fake Strapi, private redis-server)', () => {
  let redis: ThrowawayRedis | undefined;
  let fake: FakeStrapi | undefined;
  afterEach(async () => {
    await closeClients();
    await fake?.close();
    await redis?.close();
  });

  async function setup(prefix: string) {
    redis = await startThrowawayRedis();
    fake = await startFakeStrapi({ collections: { articles: seedArticles(40) } });
    const cache = { redisUrl: redis.url, prefix, redisCommandTimeoutMs: 500 };
    // the writer fills Redis; the reader starts with an empty L1, so its reads are L2 reads
    const writer = clientFor(fake, { cache });
    const reader = clientFor(fake, { cache });
    expect(await writer.ready()).toBe(true);
    expect(await reader.ready()).toBe(true);
    const articles = writer.collection('articles');
    for (let i = 1; i <= 40; i++) await articles.findOne(`doc${i}`, undefined, articleSchema);
    const probe = new Redis(redis.url);
    try {
      await expect.poll(() => probe.exists(`${prefix}e:o:articles:doc40:{}`), { timeout: 5_000 }).toBe(1);
    } finally {
      probe.disconnect();
    }
    const read = async (i: number) => {
      const started = performance.now();
      const doc = await reader.collection('articles').findOne(`doc${i}`, undefined, articleSchema);
      expect(doc.title).toBe(`Article ${i}`);
      return performance.now() - started;
    };
    return { reader, writer, read };
  }

  it('a stopped Redis (SIGSTOP) is noticed without traffic, reads then skip it; after SIGCONT L2 serves again', async () => {
    const { reader, read } = await setup('hang-idle:');
    expect(await read(1)).toBeLessThan(FAST_MS); // an L2 hit
    const down = nextEvent(reader, 'redis', (e) => e.connection === 'cache' && e.state === 'down');
    const stoppedAt = Date.now();
    redis!.stop();
    await down;
    expect(Date.now() - stoppedAt).toBeLessThan(4_000); // PING every 1 s, 500 ms to answer
    expect(reader.status().redis).toBe('down');
    for (let i = 2; i <= 21; i++) expect(await read(i), `doc${i}`).toBeLessThan(FAST_MS);

    const back = nextEvent(reader, 'redis', (e) => e.connection === 'cache' && e.state === 'ready');
    redis!.resume();
    await back; // reconnected by itself
    const hit = nextEvent(reader, 'cache', (e) => e.result === 'hit');
    const callsBefore = fake!.apiCalls;
    await read(30);
    expect(await hit).toMatchObject({ layer: 'l2' });
    expect(fake!.apiCalls).toBe(callsBefore);
  });

  it('the first read that times out on a stopped Redis gets it checked at once: the next ones are fast', async () => {
    const { read } = await setup('hang-busy:');
    redis!.stop();
    const first = await read(1);
    expect(first).toBeLessThan(2_000); // at most the command timeout, then Strapi
    await expect.poll(async () => read(2), { timeout: 3_000, interval: 50 }).toBeLessThan(FAST_MS);
    for (let i = 3; i <= 12; i++) expect(await read(i), `doc${i}`).toBeLessThan(FAST_MS);
    redis!.resume();
  });

  it('closing while Redis is stopped does not wait for it', async () => {
    const { reader } = await setup('close-stopped:');
    redis!.stop();
    const started = Date.now();
    await reader.close();
    expect(Date.now() - started).toBeLessThan(3_000);
    redis!.resume();
  });

  it('a killed Redis: every read answers at once, and the cache reconnects when it is back', async () => {
    const { reader, writer, read } = await setup('killed:');
    const down = nextEvent(reader, 'redis', (e) => e.connection === 'cache' && e.state === 'down');
    await redis!.kill();
    await down;
    for (let i = 1; i <= 20; i++) expect(await read(i), `doc${i}`).toBeLessThan(FAST_MS);
    const back = nextEvent(reader, 'redis', (e) => e.connection === 'cache' && e.state === 'ready');
    // both buses resubscribe by themselves (and clear their L1, which may have missed messages)
    const resynced = [reader, writer].map((c) => nextEvent(c, 'invalidate', (e) => e.source === 'resync'));
    await redis!.restart();
    await Promise.all([back, ...resynced]);
    expect(reader.status().redis).toBe('ready');
  });
});
