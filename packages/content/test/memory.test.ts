import {
  ApiError,
  ArticleListResponse,
  ArticleResponse,
  type ArticleSummary,
  ListArticlesQuery,
  Subscriber,
} from '@pilot/contracts';
import { describe, expect, it, vi } from 'vitest';
import { createMemoryContent, createSeed, webhookTags } from '../src/index.ts';

/** Query values arrive as strings, as in a URL. */
const q = (input: Record<string, unknown> = {}) =>
  ListArticlesQuery.parse(Object.fromEntries(Object.entries(input).map(([k, v]) => [k, String(v)])));

describe('createSeed', () => {
  it('is deterministic and has the documented shape', () => {
    const a = createSeed();
    const b = createSeed();
    expect(a).toEqual(b);
    expect(a.authors).toHaveLength(6);
    expect(a.articles.filter((x) => x.publishedAt !== null)).toHaveLength(60);
    expect(a.articles.filter((x) => x.publishedAt === null)).toHaveLength(2);
    expect(new Set(a.articles.map((x) => x.slug)).size).toBe(a.articles.length);
    expect(a.articles.every((x) => /^[a-z][a-z0-9]{23}$/.test(x.documentId))).toBe(true);
  });
});

describe('createMemoryContent: listArticles', () => {
  const content = createMemoryContent();

  it('answers the contract shape with default paging, newest first', async () => {
    const page = await content.listArticles(q());
    expect(ArticleListResponse.parse(page)).toEqual(page);
    expect(page.meta.pagination).toEqual({ page: 1, pageSize: 25, pageCount: 3, total: 60 });
    expect(page.data).toHaveLength(25);
    const dates = page.data.map((a) => a.publishedAt);
    expect([...dates].sort().reverse()).toEqual(dates);
  });

  it('pages without overlap or gaps, ties broken by slug', async () => {
    const all: ArticleSummary[] = [];
    for (let page = 1; page <= 7; page++) {
      all.push(...(await content.listArticles(q({ page, pageSize: 9 }))).data);
    }
    expect(all).toHaveLength(60);
    expect(new Set(all.map((a) => a.slug)).size).toBe(60);
    for (let i = 1; i < all.length; i++) {
      const prev = all[i - 1]!;
      const cur = all[i]!;
      if (prev.publishedAt === cur.publishedAt) expect(prev.slug < cur.slug).toBe(true);
    }
    // The seed has ties, so the tie-break is actually exercised.
    expect(all.some((a, i) => i > 0 && all[i - 1]!.publishedAt === a.publishedAt)).toBe(true);
  });

  it('answers an empty page past the end with the real total', async () => {
    const page = await content.listArticles(q({ page: 99, pageSize: 10 }));
    expect(page.data).toEqual([]);
    expect(page.meta.pagination).toEqual({ page: 99, pageSize: 10, pageCount: 6, total: 60 });
  });

  it('sorts by title both ways', async () => {
    const asc = (await content.listArticles(q({ sort: 'title:asc', pageSize: 100 }))).data.map(
      (a) => a.title,
    );
    const desc = (await content.listArticles(q({ sort: 'title:desc', pageSize: 100 }))).data.map(
      (a) => a.title,
    );
    expect(asc).toEqual([...asc].sort());
    expect(desc).toEqual([...asc].reverse());
    const oldest = (await content.listArticles(q({ sort: 'publishedAt:asc', pageSize: 1 }))).data[0];
    expect(oldest?.publishedAt).toBe('2024-01-01T09:00:00.000Z');
  });

  it('searches title and summary case-insensitively', async () => {
    const redis = await content.listArticles(q({ q: 'REDIS', pageSize: 100 }));
    expect(redis.meta.pagination.total).toBe(6);
    expect(redis.data.every((a) => /redis/i.test(a.title) || /redis/i.test(a.summary))).toBe(true);
    const bySummary = await content.listArticles(q({ q: 'article 42)' }));
    expect(bySummary.data.map((a) => a.summary)).toEqual([expect.stringContaining('(article 42)')]);
    const none = await content.listArticles(q({ q: 'nothing matches this' }));
    expect(none).toEqual({
      data: [],
      meta: { pagination: { page: 1, pageSize: 25, pageCount: 0, total: 0 } },
    });
  });

  it('filters by author slug; an author without articles gives an empty list', async () => {
    const seed = content.seed;
    const ada = await content.listArticles(q({ author: 'ada-lovelace', pageSize: 100 }));
    expect(ada.meta.pagination.total).toBeGreaterThan(0);
    expect(ada.data.every((a) => a.author?.slug === 'ada-lovelace')).toBe(true);
    const last = seed.authors.at(-1)!;
    expect((await content.listArticles(q({ author: last.slug }))).meta.pagination.total).toBe(0);
    expect((await content.listArticles(q({ author: 'nobody' }))).data).toEqual([]);
    const combined = await content.listArticles(q({ author: 'ada-lovelace', q: 'fastify', pageSize: 100 }));
    expect(combined.data.every((a) => a.author?.slug === 'ada-lovelace' && /fastify/i.test(a.title))).toBe(
      true,
    );
  });

  it('never lists drafts, and keeps an article without author', async () => {
    const all = (await content.listArticles(q({ pageSize: 100 }))).data;
    expect(all.some((a) => a.title.startsWith('Unpublished'))).toBe(false);
    expect(all.filter((a) => a.author === null)).toHaveLength(1);
  });
});

describe('createMemoryContent: articles by slug, latest', () => {
  const content = createMemoryContent();

  it('finds a published article with its body', async () => {
    const first = (await content.listArticles(q())).data[0]!;
    const article = await content.getArticle(first.slug);
    expect(ArticleResponse.parse({ data: article })).toEqual({ data: article });
    expect(article).toMatchObject({ ...first, body: expect.stringContaining('#') });
  });

  it('answers null for unknown slugs and drafts', async () => {
    expect(await content.getArticle('no-such-article')).toBeNull();
    expect(await content.getArticle('unpublished-draft-number-1')).toBeNull();
  });

  it('latestArticles is the head of the newest-first list', async () => {
    const latest = await content.latestArticles(5);
    expect(latest).toEqual((await content.listArticles(q({ pageSize: 5 }))).data);
  });
});

describe('createMemoryContent: subscribers, invalidation, health', () => {
  it('creates a subscriber and refuses a duplicate with CONFLICT', async () => {
    const content = createMemoryContent();
    const created = await content.createSubscriber({ email: 'ann@example.com', name: 'Ann' });
    expect(Subscriber.parse(created)).toEqual(created);
    expect(created).toMatchObject({ email: 'ann@example.com', name: 'Ann' });
    const error = await content.createSubscriber({ email: 'ann@example.com' }).catch((e) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ code: 'CONFLICT', status: 409 });
    expect((await content.createSubscriber({ email: 'bob@example.com' })).name).toBeNull();
    expect(content.subscribers.map((s) => s.email)).toEqual(['ann@example.com', 'bob@example.com']);
  });

  it('invalidate answers the affected tags', async () => {
    const content = createMemoryContent();
    const tags = await content.invalidate({
      event: 'entry.update',
      model: 'article',
      entry: { documentId: 'abc' },
    });
    expect(tags).toEqual(['type:articles', 'doc:articles:abc']);
    expect(content.invalidations).toEqual([tags]);
  });

  it('health is configurable', async () => {
    const content = createMemoryContent();
    expect(await content.health()).toEqual({ strapi: 'up', redis: 'disabled' });
    content.setHealth({ strapi: 'down', redis: 'up' });
    expect(await content.health()).toEqual({ strapi: 'down', redis: 'up' });
  });

  it('delays every call by delayMs', async () => {
    vi.useFakeTimers();
    try {
      const content = createMemoryContent({ delayMs: 1000 });
      let done = false;
      const pending = content.latestArticles(1).then(() => {
        done = true;
      });
      await vi.advanceTimersByTimeAsync(999);
      expect(done).toBe(false);
      await vi.advanceTimersByTimeAsync(1);
      await pending;
      expect(done).toBe(true);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('webhookTags', () => {
  it.each([
    [
      { event: 'entry.update', model: 'article', entry: { documentId: 'd1' } },
      ['type:articles', 'doc:articles:d1'],
    ],
    [
      { event: 'entry.delete', model: 'article', entry: { documentId: 'd1' } },
      ['type:articles', 'doc:articles:d1'],
    ],
    [
      { event: 'entry.unpublish', uid: 'api::article.article', entry: { documentId: 'd1' } },
      ['type:articles', 'doc:articles:d1'],
    ],
    [
      { event: 'entry.create', model: 'article', entry: { documentId: 'd2' } },
      ['type:articles', 'doc:articles:d2'],
    ],
    [{ event: 'entry.publish', model: 'article' }, ['type:articles']],
    [
      { event: 'entry.update', model: 'author', entry: { documentId: 'a1' } },
      ['type:authors', 'doc:authors:a1', 'type:articles'],
    ],
    [{ event: 'entry.create', model: 'subscriber', entry: { id: 3 } }, ['type:subscribers']],
    [{ event: 'media.create', model: 'file' }, []],
    [{ event: 'entry.update' }, []],
    [{ event: 'entry.update', model: '../../x' }, []],
  ])('%j → %j', (payload, tags) => {
    expect(webhookTags(payload)).toEqual(tags);
  });
});
