import { ApiError, ListArticlesQuery } from '@pilot/contracts';
import { createStrapiClient, type StrapiClient, type StrapiClientOptions } from '@pilot/strapi-client';
import { type FakeStrapi, startFakeStrapi } from '@pilot/strapi-client/testing';
import { startTestServer, type TestServer } from '@pilot/test-kit';
import fc from 'fast-check';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type ContentRepository, createSeed, createStrapiContent } from '../src/index.ts';

/**
 * The Strapi-backed repository against an in-process fake Strapi: only for faults a real
 * Strapi can't produce on demand, and for counting what reached "Strapi". The real-Strapi
 * behaviour is covered in strapi-e2e.test.ts.
 */

const seed = createSeed({ articles: 12, authors: 3, drafts: 0 });
const authorsById = new Map(seed.authors.map((a) => [a.documentId, a]));
const fakeArticles = seed.articles.map((a) => {
  const author = a.authorId ? authorsById.get(a.authorId) : undefined;
  return {
    documentId: a.documentId,
    title: a.title,
    slug: a.slug,
    summary: a.summary,
    body: a.body,
    publishedAt: a.publishedAt,
    updatedAt: a.updatedAt,
    author: author ? { documentId: author.documentId, name: author.name, slug: author.slug } : null,
  };
});

let fake: FakeStrapi;
const clients: StrapiClient[] = [];

function contentFor(url: string, options: Partial<StrapiClientOptions> = {}): ContentRepository {
  const make = () => {
    const client = createStrapiClient({
      baseUrl: url,
      timeoutMs: 1_000,
      retry: { maxAttempts: 0 },
      breaker: { threshold: 3, halfOpenAfterMs: 600_000 },
      ...options,
    });
    clients.push(client);
    return client;
  };
  return createStrapiContent({ read: make(), write: make(), source: 'test' });
}

async function failure(promise: Promise<unknown>): Promise<ApiError> {
  const error = await promise.then(
    () => new Error('expected a failure'),
    (e: unknown) => e,
  );
  if (!(error instanceof ApiError)) throw error;
  return error;
}

beforeAll(async () => {
  fake = await startFakeStrapi({
    collections: { articles: fakeArticles, subscribers: [] },
    unique: { subscribers: ['email'] },
  });
});
afterEach(async () => {
  fake.setFault(null);
  fake.setLatency(0);
  await Promise.all(clients.splice(0).map((c) => c.close()));
});
afterAll(async () => {
  await fake.close();
});

describe('createStrapiContent faults', () => {
  it('maps 5xx to SERVICE_UNAVAILABLE (fake Strapi: 500s)', async () => {
    const content = contentFor(fake.url);
    fake.setFault({ kind: 'status', status: 500 });
    const error = await failure(content.listArticles(ListArticlesQuery.parse({})));
    expect(error).toMatchObject({ code: 'SERVICE_UNAVAILABLE', status: 503 });
  });

  it('maps a timeout to UPSTREAM_TIMEOUT (fake Strapi: hang)', async () => {
    const content = contentFor(fake.url, { timeoutMs: 200 });
    fake.setFault({ kind: 'hang' });
    const error = await failure(content.getArticle(seed.articles[0]!.slug));
    expect(error).toMatchObject({ code: 'UPSTREAM_TIMEOUT', status: 504 });
  });

  it('an open breaker answers SERVICE_UNAVAILABLE without calling Strapi (fake Strapi: 503s)', async () => {
    const content = contentFor(fake.url);
    fake.setFault({ kind: 'status', status: 503 });
    for (let i = 0; i < 3; i++) await failure(content.latestArticles(i + 1));
    const before = fake.apiCalls;
    const error = await failure(content.latestArticles(9));
    expect(error).toMatchObject({ code: 'SERVICE_UNAVAILABLE' });
    expect(error.body.error.details).toMatchObject({ code: 'STRAPI_CIRCUIT_OPEN' });
    expect(fake.apiCalls).toBe(before);
  });

  it('a Strapi that is down is SERVICE_UNAVAILABLE and not ready (fake Strapi: stopped)', async () => {
    const down = await startFakeStrapi();
    const url = down.url;
    await down.close();
    const content = contentFor(url);
    expect(await failure(content.getArticle('any'))).toMatchObject({ code: 'SERVICE_UNAVAILABLE' });
    expect(await content.health()).toEqual({ strapi: 'down', redis: 'disabled' });
  });

  it('an answer of the wrong shape is UPSTREAM_FAILED (fake Strapi: bad body)', async () => {
    const content = contentFor(fake.url);
    fake.setFault({ kind: 'status', status: 200, body: { data: [{ nonsense: true }] } }, 1);
    expect(await failure(content.listArticles(ListArticlesQuery.parse({})))).toMatchObject({
      code: 'UPSTREAM_FAILED',
      status: 502,
    });
  });

  it('a rejected token is UPSTREAM_FAILED, not the client’s fault (fake Strapi: 401)', async () => {
    const content = contentFor(fake.url);
    fake.setFault({ kind: 'status', status: 401 }, 1);
    expect(await failure(content.getArticle('x'))).toMatchObject({ code: 'UPSTREAM_FAILED' });
  });

  it('two concurrent subscriptions of one email: one 201, one CONFLICT from Strapi’s unique check (fake Strapi: held)', async () => {
    const content = contentFor(fake.url);
    const release = fake.hold();
    const both = Promise.allSettled([
      content.createSubscriber({ email: 'race@example.com' }),
      content.createSubscriber({ email: 'race@example.com', name: 'Twin' }),
    ]);
    await fake.waitForInFlight(2);
    release();
    const [a, b] = await both;
    const outcomes = [a, b].map((r) => (r.status === 'fulfilled' ? 'created' : (r.reason as ApiError).code));
    expect(outcomes.sort()).toEqual(['CONFLICT', 'created']);
    expect(fake.documents('subscribers').filter((d) => d.email === 'race@example.com')).toHaveLength(1);
  });

  it('a duplicate that hits the DB unique index (500) is still CONFLICT (fake Strapi: 500 on create)', async () => {
    let stored = false;
    const server: TestServer = await startTestServer((req, res) => {
      res.setHeader('content-type', 'application/json');
      if (req.method === 'GET' && req.url?.startsWith('/api/subscribers')) {
        const data = stored
          ? [{ documentId: 'sub1', email: 'late@example.com', createdAt: '2025-01-01T00:00:00.000Z' }]
          : [];
        res.end(
          JSON.stringify({
            data,
            meta: { pagination: { page: 1, pageSize: 1, pageCount: 1, total: data.length } },
          }),
        );
        return;
      }
      // the twin won the race between our check and our insert
      stored = true;
      res.statusCode = 500;
      res.end(
        JSON.stringify({
          data: null,
          error: { status: 500, name: 'InternalServerError', message: 'Internal Server Error' },
        }),
      );
    });
    try {
      const content = contentFor(server.url);
      expect(await failure(content.createSubscriber({ email: 'late@example.com' }))).toMatchObject({
        code: 'CONFLICT',
      });
    } finally {
      await server.close();
    }
  });

  it('a 500 on create for a new email stays SERVICE_UNAVAILABLE (fake Strapi: 500 on create)', async () => {
    const server = await startTestServer((req, res) => {
      res.setHeader('content-type', 'application/json');
      if (req.method === 'GET') {
        res.end(
          JSON.stringify({
            data: [],
            meta: { pagination: { page: 1, pageSize: 1, pageCount: 0, total: 0 } },
          }),
        );
        return;
      }
      res.statusCode = 500;
      res.end(
        JSON.stringify({ data: null, error: { status: 500, name: 'InternalServerError', message: 'boom' } }),
      );
    });
    try {
      const content = contentFor(server.url);
      expect(await failure(content.createSubscriber({ email: 'new@example.com' }))).toMatchObject({
        code: 'SERVICE_UNAVAILABLE',
      });
    } finally {
      await server.close();
    }
  });
});

describe('createStrapiContent cache tags (fake Strapi: counts upstream calls)', () => {
  it('a cache hit hands back the same frozen article; a changed document a new one', async () => {
    const content = contentFor(fake.url);
    const doc = fake.documents('articles')[2]!;
    const first = await content.getArticle(doc.slug as string);
    expect(await content.getArticle(doc.slug as string)).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
    expect(Object.isFrozen(first?.author)).toBe(true);
    expect(() => {
      (first as { title: string }).title = 'changed by a caller';
    }).toThrow(TypeError);

    const title = doc.title;
    doc.title = 'Changed in Strapi';
    try {
      await content.invalidate({
        event: 'entry.update',
        model: 'article',
        entry: { documentId: doc.documentId },
      });
      const second = await content.getArticle(doc.slug as string);
      expect(second).not.toBe(first);
      expect(second?.title).toBe('Changed in Strapi');
      expect(first?.title).toBe(title);
    } finally {
      doc.title = title;
    }
  });

  it('cachedArticle is getArticle’s own answer while it is cached, else undefined (generated reads and changes; fake Strapi)', async () => {
    const slugs = [...fakeArticles.slice(0, 3).map((a) => a.slug), 'no-such-article'];
    const step = fc.oneof(
      fc.record({ kind: fc.constant('get' as const), at: fc.nat(slugs.length - 1) }),
      fc.record({ kind: fc.constant('peek' as const), at: fc.nat(slugs.length - 1) }),
      fc.record({ kind: fc.constant('change' as const), at: fc.nat(2) }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(step, { maxLength: 25 }), async (steps) => {
        const content = contentFor(fake.url);
        // what getArticle answered and no change has dropped since
        const cached = new Map<string, unknown>();
        for (const { kind, at } of steps) {
          const slug = slugs[at]!;
          if (kind === 'peek') {
            const known = cached.get(slug);
            if (known) expect(content.cachedArticle(slug)).toBe(known);
            else expect(content.cachedArticle(slug)).toBeUndefined();
          } else if (kind === 'get') {
            const article = await content.getArticle(slug);
            if (cached.has(slug)) expect(article).toBe(cached.get(slug));
            cached.set(slug, article);
            expect(content.cachedArticle(slug)).toBe(article ?? undefined);
          } else {
            await content.invalidate({
              event: 'entry.update',
              model: 'article',
              entry: { documentId: fakeArticles[at]!.documentId },
            });
            cached.delete(fakeArticles[at]!.slug);
            // a lookup that found nothing is dropped by any article change
            cached.delete('no-such-article');
          }
        }
      }),
      { numRuns: 40 },
    );
  });

  it('a slug lookup survives an unrelated article’s change and drops on its own', async () => {
    const content = contentFor(fake.url);
    const [mine, other] = fakeArticles;
    const first = await content.getArticle(mine!.slug);
    expect(first).toMatchObject({
      id: mine!.documentId,
      slug: mine!.slug,
      author: { slug: mine!.author!.slug },
    });
    const calls = fake.apiCalls;
    await content.getArticle(mine!.slug);
    expect(fake.apiCalls).toBe(calls);

    expect(
      await content.invalidate({
        event: 'entry.update',
        model: 'article',
        entry: { documentId: other!.documentId },
      }),
    ).toEqual(['type:articles', `doc:articles:${other!.documentId}`]);
    await content.getArticle(mine!.slug);
    expect(fake.apiCalls).toBe(calls);

    await content.invalidate({
      event: 'entry.update',
      model: 'author',
      entry: { documentId: mine!.author!.documentId },
    });
    await content.getArticle(mine!.slug);
    expect(fake.apiCalls).toBe(calls + 1);

    await content.invalidate({
      event: 'entry.unpublish',
      model: 'article',
      entry: { documentId: mine!.documentId },
    });
    await content.getArticle(mine!.slug);
    expect(fake.apiCalls).toBe(calls + 2);
  });

  it('a lookup that found nothing, and lists, drop on any article change', async () => {
    const content = contentFor(fake.url);
    const query = ListArticlesQuery.parse({ pageSize: '5' });
    expect(await content.getArticle('not-there-yet')).toBeNull();
    await content.listArticles(query);
    const calls = fake.apiCalls;
    await content.getArticle('not-there-yet');
    await content.listArticles(query);
    expect(fake.apiCalls).toBe(calls);
    await content.invalidate({
      event: 'entry.publish',
      model: 'article',
      entry: { documentId: 'brand-new' },
    });
    await content.getArticle('not-there-yet');
    await content.listArticles(query);
    expect(fake.apiCalls).toBe(calls + 2);
  });

  it('sends the documented query for lists (fake Strapi: records requests)', async () => {
    const content = contentFor(fake.url);
    fake.resetCounters();
    const page = await content.listArticles(
      ListArticlesQuery.parse({
        q: 'redis',
        author: 'ada-lovelace',
        sort: 'title:asc',
        page: '2',
        pageSize: '3',
      }),
    );
    expect(page.meta.pagination).toMatchObject({ page: 2, pageSize: 3 });
    const sent = decodeURIComponent(fake.requests.at(-1)!.query);
    for (const part of [
      'filters[$or][0][title][$containsi]=redis',
      'filters[$or][1][summary][$containsi]=redis',
      'filters[author][slug][$eq]=ada-lovelace',
      'sort[0]=title:asc',
      'sort[1]=slug:asc',
      'pagination[page]=2',
      'pagination[pageSize]=3',
      'populate[author][fields][0]=name',
      'status=published',
    ]) {
      expect(sent).toContain(part);
    }
  });
});
