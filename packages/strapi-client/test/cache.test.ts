import { useTestRedis } from '@pilot/test-kit';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import type { CacheEvent } from '../src/index.ts';
import { type FakeStrapi, startFakeStrapi } from '../src/testing/index.ts';
import { articleSchema, clientFor, closeClients, manualClock, nextEvent, seedArticles } from './helpers.ts';

let fake: FakeStrapi | undefined;
const cleanups: Array<() => Promise<void>> = [];

afterEach(async () => {
  await closeClients();
  await fake?.close();
  fake = undefined;
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

async function redisFor(label: string) {
  const redis = await useTestRedis(label);
  cleanups.push(() => redis.cleanup());
  return redis;
}

describe('coalescing and concurrency', () => {
  it('500 concurrent identical cold reads make exactly 1 upstream request (fake Strapi)', async () => {
    fake = await startFakeStrapi({ collections: { articles: seedArticles(3) } });
    const redis = await redisFor('coalesce');
    const strapi = clientFor(fake, { cache: { redisUrl: redis.url, prefix: redis.prefix } });
    expect(await strapi.ready()).toBe(true);
    const release = fake.hold();
    const reads = Array.from({ length: 500 }, () =>
      strapi
        .collection('articles')
        .find({ sort: ['title:asc'], pagination: { page: 1, pageSize: 10 } }, articleSchema),
    );
    await fake.waitForInFlight(1);
    release();
    const results = await Promise.all(reads);
    expect(fake.apiCalls).toBe(1);
    expect(new Set(results).size).toBe(1); // one shared, frozen result
    expect(results[0]!.data.map((a) => a.slug)).toEqual(['article-1', 'article-2', 'article-3']);
    expect(results[0]!.meta.pagination).toEqual({ page: 1, pageSize: 10, pageCount: 1, total: 3 });
  });

  it('parameter order does not change the cache key (fake Strapi)', async () => {
    fake = await startFakeStrapi({ collections: { articles: seedArticles(3) } });
    const strapi = clientFor(fake);
    const articles = strapi.collection('articles');
    await articles.find({ pagination: { page: 1, pageSize: 5 }, sort: ['title:asc'] }, articleSchema);
    await articles.find({ sort: ['title:asc'], pagination: { pageSize: 5, page: 1 } }, articleSchema);
    expect(fake.apiCalls).toBe(1);
  });

  it('500 distinct cold reads never exceed maxConcurrency in flight at Strapi (fake Strapi)', async () => {
    fake = await startFakeStrapi({ collections: { articles: seedArticles(3) } });
    const strapi = clientFor(fake, { maxConcurrency: 8, maxQueue: 1_000 });
    const release = fake.hold();
    const reads = Array.from({ length: 500 }, (_, i) =>
      strapi.collection('articles').find({ filters: { title: { $containsi: `q${i}` } } }, articleSchema),
    );
    await fake.waitForInFlight(8);
    expect(strapi.status().inFlight).toBe(8);
    release();
    await Promise.all(reads);
    expect(fake.apiCalls).toBe(500);
    expect(fake.maxInFlight).toBe(8);
  });

  it('a full queue fails fast with STRAPI_OVERLOADED, nothing sent (fake Strapi)', async () => {
    fake = await startFakeStrapi({ collections: { articles: seedArticles(1) } });
    const strapi = clientFor(fake, { maxConcurrency: 1, maxQueue: 1 });
    const release = fake.hold();
    const first = strapi.collection('articles').find({ filters: { slug: 'a' } }, articleSchema);
    const second = strapi.collection('articles').find({ filters: { slug: 'b' } }, articleSchema);
    await fake.waitForInFlight(1);
    await expect(
      strapi.collection('articles').find({ filters: { slug: 'c' } }, articleSchema),
    ).rejects.toMatchObject({
      code: 'STRAPI_OVERLOADED',
    });
    release();
    await Promise.all([first, second]);
    expect(fake.apiCalls).toBe(2);
  });
});

describe('results and tags', () => {
  it('findOne returns the typed document, NotFound for a missing one (fake Strapi)', async () => {
    fake = await startFakeStrapi({ collections: { articles: seedArticles(2) } });
    const strapi = clientFor(fake);
    const article = await strapi
      .collection('articles')
      .findOne('doc2', { populate: ['author'] }, articleSchema);
    expect(article).toEqual({ documentId: 'doc2', title: 'Article 2', slug: 'article-2' });
    const error = await strapi
      .collection('articles')
      .findOne('missing', undefined, articleSchema)
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'STRAPI_NOT_FOUND', status: 404, strapiName: 'NotFoundError' });
    expect(fake.requests.find((r) => r.path === '/api/articles/doc2')?.query).toBe('populate[0]=author');
  });

  it('single types read through the cache (fake Strapi)', async () => {
    fake = await startFakeStrapi({ singles: { homepage: { title: 'Welcome' } } });
    const strapi = clientFor(fake);
    const schema = z.object({ title: z.string() });
    expect(await strapi.single('homepage').find(undefined, schema)).toEqual({ title: 'Welcome' });
    expect(await strapi.single('homepage').find(undefined, schema)).toEqual({ title: 'Welcome' });
    expect(fake.apiCalls).toBe(1);
    await strapi.invalidateTags(['type:homepage']);
    await strapi.single('homepage').find(undefined, schema);
    expect(fake.apiCalls).toBe(2);
  });

  it('single type update and delete invalidate it (fake Strapi)', async () => {
    fake = await startFakeStrapi({ singles: { homepage: { title: 'Welcome' } } });
    const strapi = clientFor(fake);
    const schema = z.object({ title: z.string() });
    const homepage = strapi.single('homepage');
    await homepage.find(undefined, schema);
    expect(await homepage.update({ title: 'Hello' }, schema)).toEqual({ title: 'Hello' });
    expect(await homepage.find(undefined, schema)).toEqual({ title: 'Hello' });
    await homepage.delete();
    await expect(homepage.find(undefined, schema)).rejects.toMatchObject({ code: 'STRAPI_NOT_FOUND' });
  });

  it('a response that does not match the schema is a typed error and is not cached (fake Strapi)', async () => {
    fake = await startFakeStrapi({ collections: { articles: [{ documentId: 'x', title: 42 }] } });
    const strapi = clientFor(fake);
    const read = () => strapi.collection('articles').find(undefined, articleSchema);
    const error = await read().catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'STRAPI_BAD_RESPONSE' });
    expect((error as { issues: Array<{ path: string }> }).issues.map((i) => i.path)).toContain(
      'data.0.title',
    );
    await read().catch(() => undefined);
    expect(fake.apiCalls).toBe(2);
  });

  it('slug lookups: dropped when that article changes, kept for unrelated ones, empty results dropped on create (fake Strapi)', async () => {
    fake = await startFakeStrapi({ collections: { articles: seedArticles(3) } });
    const strapi = clientFor(fake);
    const articles = strapi.collection('articles');
    const bySlug = (slug: string) =>
      articles.find(
        { filters: { slug: { $eq: slug } }, pagination: { page: 1, pageSize: 1 } },
        articleSchema,
        {
          typeTag: 'if-empty',
        },
      );
    await bySlug('article-1');
    await bySlug('nope');
    expect(fake.apiCalls).toBe(2);

    // An unrelated article changes: neither lookup is dropped.
    await strapi.invalidateTags(['doc:articles:doc2']);
    await bySlug('article-1');
    await bySlug('nope');
    expect(fake.apiCalls).toBe(2);

    // That article changes: its lookup is dropped, the empty one is not.
    await strapi.invalidateTags(['doc:articles:doc1']);
    await bySlug('article-1');
    await bySlug('nope');
    expect(fake.apiCalls).toBe(3);

    // An article is created (webhook → type tag): the empty lookup is dropped, the found one kept.
    await strapi.invalidateTags(['type:articles']);
    await bySlug('article-1');
    await bySlug('nope');
    expect(fake.apiCalls).toBe(4);
  });

  it('custom tags from the result', async () => {
    fake = await startFakeStrapi({ collections: { articles: seedArticles(2) } });
    const strapi = clientFor(fake);
    const read = () =>
      strapi.collection('articles').find(undefined, articleSchema, {
        typeTag: false,
        docTags: false,
        tags: (result) => [`count:${result.data.length}`],
      });
    await read();
    await strapi.invalidateTags(['type:articles', 'doc:articles:doc1']);
    await read();
    expect(fake.apiCalls).toBe(1);
    await strapi.invalidateTags(['count:2']);
    await read();
    expect(fake.apiCalls).toBe(2);
  });

  it('writes are never cached and invalidate what they touch (fake Strapi)', async () => {
    fake = await startFakeStrapi({ collections: { articles: seedArticles(2) } });
    const strapi = clientFor(fake);
    const articles = strapi.collection('articles');
    const list = () => articles.find(undefined, articleSchema);
    expect((await list()).data).toHaveLength(2);
    const created = await articles.create({ title: 'New', slug: 'new' }, articleSchema);
    expect(created.slug).toBe('new');
    expect((await list()).data).toHaveLength(3);

    await articles.findOne(created.documentId, undefined, articleSchema);
    await articles.update(created.documentId, { title: 'Renamed' }, articleSchema);
    expect((await articles.findOne(created.documentId, undefined, articleSchema)).title).toBe('Renamed');

    await articles.delete(created.documentId);
    await expect(articles.findOne(created.documentId, undefined, articleSchema)).rejects.toMatchObject({
      code: 'STRAPI_NOT_FOUND',
    });
    expect((await list()).data).toHaveLength(2);
    const methods = fake.requests.map((r) => r.method);
    expect(methods.filter((m) => m === 'POST')).toHaveLength(1);
    expect(methods.filter((m) => m === 'PUT')).toHaveLength(1);
    expect(fake.requests.find((r) => r.method === 'POST')?.body).toEqual({
      data: { title: 'New', slug: 'new' },
    });
  });

  it('cached results are frozen: callers cannot corrupt the cache', async () => {
    fake = await startFakeStrapi({ collections: { articles: seedArticles(1) } });
    const strapi = clientFor(fake);
    const result = await strapi.collection('articles').find(undefined, articleSchema);
    expect(() => {
      (result.data[0] as { title: string }).title = 'hacked';
    }).toThrow(TypeError);
  });

  it('works on L1 alone without Redis, with hit/miss/coalesced events (fake Strapi)', async () => {
    fake = await startFakeStrapi({ collections: { articles: seedArticles(1) } });
    const strapi = clientFor(fake);
    const events: CacheEvent[] = [];
    strapi.on('cache', (event) => events.push(event));
    const articles = strapi.collection('articles');
    await Promise.all([articles.find(undefined, articleSchema), articles.find(undefined, articleSchema)]);
    await articles.find(undefined, articleSchema);
    expect(events.map((e) => e.result)).toEqual(['coalesced', 'miss', 'hit']);
    expect(strapi.status().redis).toBe('disabled');
  });
});

describe('peek: what find answers from a fresh L1 entry, without a promise', () => {
  it('the same result as find while fresh; undefined before, for another schema, with the cache off, when stale and after invalidation (fake Strapi)', async () => {
    fake = await startFakeStrapi({ collections: { articles: seedArticles(2) } });
    const clock = manualClock();
    const strapi = clientFor(fake, { now: clock.now, cache: { ttlMs: 1_000, graceMs: 10_000 } });
    const events: CacheEvent[] = [];
    strapi.on('cache', (event) => events.push(event));
    const articles = strapi.collection('articles');
    const query = () => ({ sort: ['title:asc'], pagination: { page: 1, pageSize: 5 } });

    expect(articles.peek(query(), articleSchema)).toBeUndefined();
    const found = await articles.find(query(), articleSchema);
    events.length = 0;
    expect(articles.peek(query(), articleSchema)).toBe(found);
    const frozenQuery = Object.freeze(query());
    expect(articles.peek(frozenQuery, articleSchema)).toBe(found);
    expect(articles.peek(frozenQuery, articleSchema)).toBe(found);
    expect(events).toEqual([
      { result: 'hit', layer: 'l1', type: 'articles' },
      { result: 'hit', layer: 'l1', type: 'articles' },
      { result: 'hit', layer: 'l1', type: 'articles' },
    ]);
    // validated with another schema: only find can tell whether the entry fits it
    expect(articles.peek(query(), articleSchema.extend({ extra: z.string() }))).toBeUndefined();
    expect(articles.peek(query(), articleSchema, { cache: false })).toBeUndefined();
    expect(fake.apiCalls).toBe(1);

    clock.advance(1_500);
    expect(articles.peek(query(), articleSchema)).toBeUndefined(); // stale: find serves it and refreshes
    const refreshed = nextEvent(strapi, 'upstream');
    await articles.find(query(), articleSchema);
    await refreshed;
    // the refreshed entry is validated with the schema by the next find, then peek has it
    await expect
      .poll(
        async () => (await articles.find(query(), articleSchema)) === articles.peek(query(), articleSchema),
      )
      .toBe(true);

    await strapi.invalidateTags(['type:articles']);
    expect(articles.peek(query(), articleSchema)).toBeUndefined();
  });
});

describe('freshness and grace', () => {
  it('stale-while-revalidate: past ttl the stale value answers at once and one refresh runs (fake Strapi)', async () => {
    fake = await startFakeStrapi({ collections: { articles: seedArticles(1) } });
    const clock = manualClock();
    const strapi = clientFor(fake, { now: clock.now, cache: { ttlMs: 1_000, graceMs: 10_000 } });
    const articles = strapi.collection('articles');
    await articles.find(undefined, articleSchema);
    fake.documents('articles')[0]!.title = 'Updated';
    clock.advance(1_500);
    const refreshed = nextEvent(strapi, 'upstream');
    const stale = await articles.find(undefined, articleSchema);
    expect(stale.data[0]!.title).toBe('Article 1');
    await refreshed;
    // The refresh stored the new value (let its microtasks run without timing).
    await expect
      .poll(async () => (await articles.find(undefined, articleSchema)).data[0]!.title)
      .toBe('Updated');
    expect(fake.apiCalls).toBe(2);
  });

  it('past ttl + grace nothing stale is served (fake Strapi)', async () => {
    fake = await startFakeStrapi({ collections: { articles: seedArticles(1) } });
    const clock = manualClock();
    const strapi = clientFor(fake, { now: clock.now, cache: { ttlMs: 1_000, graceMs: 1_000 } });
    await strapi.collection('articles').find(undefined, articleSchema);
    fake.setFault({ kind: 'status', status: 503 });
    clock.advance(2_500);
    await expect(strapi.collection('articles').find(undefined, articleSchema)).rejects.toMatchObject({
      code: 'STRAPI_UNAVAILABLE',
    });
  });
});

describe('two instances on one Redis', () => {
  it('invalidating on one makes the other miss on its next read (fake Strapi)', async () => {
    fake = await startFakeStrapi({ collections: { articles: seedArticles(2) } });
    const redis = await redisFor('bus');
    const cache = { redisUrl: redis.url, prefix: redis.prefix };
    const a = clientFor(fake, { cache });
    const b = clientFor(fake, { cache });
    expect(await Promise.all([a.ready(), b.ready()])).toEqual([true, true]);
    const read = (client: typeof a) =>
      client.collection('articles').findOne('doc1', undefined, articleSchema);

    await read(a); // miss → Strapi, written to L2
    const l2Hit = nextEvent(b, 'cache');
    await read(b); // served from L2
    expect(await l2Hit).toMatchObject({ result: 'hit', layer: 'l2' });
    await read(b); // L1
    expect(fake.apiCalls).toBe(1);

    fake.documents('articles')[0]!.title = 'Changed';
    const received = nextEvent(b, 'invalidate', (event) => event.source === 'remote');
    await a.invalidateTags(['doc:articles:doc1']);
    expect(await received).toMatchObject({ tags: ['doc:articles:doc1'], source: 'remote', dropped: 1 });

    const miss = nextEvent(b, 'cache');
    expect((await read(b)).title).toBe('Changed');
    expect(await miss).toMatchObject({ result: 'miss' });
    expect(fake.apiCalls).toBe(2);
  });

  it('writes on one instance invalidate the other (fake Strapi)', async () => {
    fake = await startFakeStrapi({ collections: { articles: seedArticles(1) } });
    const redis = await redisFor('bus-write');
    const cache = { redisUrl: redis.url, prefix: redis.prefix };
    const a = clientFor(fake, { cache });
    const b = clientFor(fake, { cache });
    await Promise.all([a.ready(), b.ready()]);
    expect((await b.collection('articles').find(undefined, articleSchema)).data).toHaveLength(1);
    const received = nextEvent(b, 'invalidate', (event) => event.source === 'remote');
    await a.collection('articles').create({ title: 'Two', slug: 'two' }, articleSchema);
    await received;
    expect((await b.collection('articles').find(undefined, articleSchema)).data).toHaveLength(2);
  });
});

describe('without L1 (l1MaxItems 0)', () => {
  it('every read is answered by Redis, nothing is kept in process, invalidation still drops it (fake Strapi)', async () => {
    fake = await startFakeStrapi({ collections: { articles: seedArticles(2) } });
    const redis = await redisFor('no-l1');
    const client = clientFor(fake, { cache: { redisUrl: redis.url, prefix: redis.prefix, l1MaxItems: 0 } });
    expect(await client.ready()).toBe(true);
    const events: CacheEvent[] = [];
    client.on('cache', (event) => events.push(event));
    const read = () => client.collection('articles').findOne('doc1', undefined, articleSchema);

    await read(); // miss → Strapi → L2 (the write is not awaited by the read)
    await vi.waitFor(async () => expect(await redis.client.keys(`${redis.prefix}e:*`)).toHaveLength(1));
    for (let i = 0; i < 3; i++) expect((await read()).title).toBe('Article 1');
    expect(events.map((e) => (e.result === 'hit' ? `hit:${e.layer}` : e.result))).toEqual([
      'miss',
      'hit:l2',
      'hit:l2',
      'hit:l2',
    ]);
    expect(fake.apiCalls).toBe(1);
    expect(client.status().l1Size).toBe(0);

    fake.documents('articles')[0]!.title = 'Changed';
    await client.invalidateTags(['doc:articles:doc1']);
    expect((await read()).title).toBe('Changed');
    expect(fake.apiCalls).toBe(2);
  });
});

describe('tag options are part of the key', () => {
  it('a lookup cached with typeTag "if-empty" does not hand its tags to a plain find of the same query (fake Strapi)', async () => {
    fake = await startFakeStrapi({ collections: { articles: seedArticles(2) } });
    const strapi = clientFor(fake);
    const articles = strapi.collection('articles');
    const params = { filters: { slug: { $eq: 'article-1' } } };
    await articles.find(params, articleSchema, { typeTag: 'if-empty' });
    await articles.find(params, articleSchema);
    expect(fake.apiCalls).toBe(2);
    await strapi.invalidateTags(['type:articles']);
    await articles.find(params, articleSchema, { typeTag: 'if-empty' }); // kept: found a document
    expect(fake.apiCalls).toBe(2);
    await articles.find(params, articleSchema); // dropped: carries type:articles
    expect(fake.apiCalls).toBe(3);
  });
});
