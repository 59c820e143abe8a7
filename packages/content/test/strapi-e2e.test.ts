import { ListArticlesQuery } from '@pilot/contracts';
import { type CmsInstance, startCms } from '@pilot/cms/testing';
import { createStrapiClient } from '@pilot/strapi-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ContentRepository,
  type ContentSeed,
  createMemoryContent,
  createStrapiContent,
  type SeedArticle,
  toApiError,
} from '../src/index.ts';

/**
 * The Strapi-backed repository against the REAL Strapi of apps/cms (booted once for this file,
 * fresh SQLite, seeded), and a check that the in-memory repository has the same semantics:
 * fed with what Strapi holds, it answers the same pages in the same order.
 */
let cms: CmsInstance;
let content: ContentRepository;

beforeAll(async () => {
  cms = await startCms({ seedArticles: 45, seedAuthors: 5 });
  const client = (token: string) =>
    createStrapiClient({ baseUrl: cms.url, token, timeoutMs: 10_000, cache: { ttlMs: 60_000 } });
  content = createStrapiContent({
    read: client(cms.readToken),
    write: client(cms.writeToken),
    source: 'e2e',
  });
}, 180_000);

afterAll(async () => {
  await content?.close();
  await cms?.stop();
});

const query = (input: Record<string, unknown> = {}) => ListArticlesQuery.parse(input);

describe('createStrapiContent against the real Strapi', () => {
  it('lists published articles newest first with pagination', async () => {
    const page = await content.listArticles(query({ pageSize: 10 }));
    expect(page.meta.pagination).toEqual({ page: 1, pageSize: 10, pageCount: 5, total: 45 });
    const dates = page.data.map((a) => a.publishedAt);
    expect([...dates].sort().reverse()).toEqual(dates);
    expect(page.data[0]).toMatchObject({ id: expect.any(String), author: { slug: expect.any(String) } });
  });

  it('finds an article by slug with its body; drafts and unknown slugs are null', async () => {
    const article = await content.getArticle('strangler-fig-in-practice');
    expect(article).toMatchObject({ title: 'Strangler Fig in Practice', author: { slug: 'ada-lovelace' } });
    expect(article?.body.length).toBeGreaterThan(0);
    expect(await content.getArticle('unpublished-draft-number-1')).toBeNull();
    expect(await content.getArticle('no-such-article')).toBeNull();
  });

  it('filters by author and searches case-insensitively', async () => {
    const ada = await content.listArticles(query({ author: 'ada-lovelace', pageSize: 100 }));
    expect(ada.data.length).toBeGreaterThan(0);
    expect(ada.data.every((a) => a.author?.slug === 'ada-lovelace')).toBe(true);
    const found = await content.listArticles(query({ q: 'rEdIs', pageSize: 100 }));
    expect(found.data.length).toBeGreaterThan(0);
    expect(found.data.every((a) => /redis/i.test(a.title) || /redis/i.test(a.summary))).toBe(true);
  });

  it('stores a subscriber; the same email again is CONFLICT', async () => {
    const created = await content.createSubscriber({ email: 'e2e@example.com', name: 'E2E' });
    expect(created).toMatchObject({ id: expect.any(String), email: 'e2e@example.com', name: 'E2E' });
    await expect(content.createSubscriber({ email: 'e2e@example.com' })).rejects.toMatchObject({
      code: 'CONFLICT',
      status: 409,
    });
  });

  it("Strapi's own unique check (400 ValidationError) maps to CONFLICT", async () => {
    const write = createStrapiClient({ baseUrl: cms.url, token: cms.writeToken, cache: { enabled: false } });
    try {
      const create = () =>
        write
          .collection('subscribers')
          .create(
            { email: 'twice@example.com', source: 'e2e' },
            { safeParse: (d: unknown) => ({ success: true as const, data: d }) },
          );
      await create();
      const error = await create().then(
        () => null,
        (e: unknown) => e,
      );
      expect(toApiError(error)).toMatchObject({ code: 'CONFLICT', status: 409 });
    } finally {
      await write.close();
    }
  });

  it('is ready, without Redis', async () => {
    expect(await content.health()).toEqual({ strapi: 'up', redis: 'disabled' });
  });

  it('createMemoryContent answers like Strapi on the same content', async () => {
    const all = await content.listArticles(query({ pageSize: 100, sort: 'publishedAt:asc' }));
    const articles: SeedArticle[] = [];
    const authors = new Map<string, ContentSeed['authors'][number]>();
    for (const summary of all.data) {
      const full = await content.getArticle(summary.slug);
      const authorId = summary.author ? `author-${summary.author.slug}` : null;
      if (summary.author && authorId)
        authors.set(authorId, { documentId: authorId, bio: '', ...summary.author });
      articles.push({ ...summary, documentId: summary.id, body: full?.body ?? '', authorId });
    }
    const memory = createMemoryContent({ seed: { authors: [...authors.values()], articles } });
    for (const input of [
      { pageSize: 7, page: 3 },
      { sort: 'title:asc', pageSize: 12, page: 2 },
      { sort: 'title:desc', pageSize: 100 },
      { sort: 'publishedAt:asc', q: 'fastify' },
      { q: 'IN PRACTICE', author: 'grace-hopper' },
      { author: 'ada-lovelace', sort: 'title:asc' },
      { q: 'nothing-matches-this' },
    ]) {
      expect(await memory.listArticles(query(input)), JSON.stringify(input)).toEqual(
        await content.listArticles(query(input)),
      );
    }
  });
});
