import { ArticleListResponse, ArticleResponse, HEADERS } from '@pilot/contracts';
import { createMemoryContent } from '@pilot/content';
import { ApiError } from '@pilot/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, closeTestRedis, expectEnvelope, startApp, type TestApp } from './helpers.ts';

let app: TestApp;
beforeAll(async () => {
  app = await startApp();
});
afterAll(async () => {
  await app.close();
  await closeTestRedis();
});

describe('GET /articles', () => {
  it('answers the first page with the contract headers', async () => {
    const res = await call(`${app.url}/articles`, { headers: { 'x-request-id': 'req-abc.123' } });
    expect(res.status).toBe(200);
    const body = ArticleListResponse.parse(res.body);
    expect(body).toEqual(res.body);
    expect(body.meta.pagination).toEqual({ page: 1, pageSize: 25, pageCount: 3, total: 60 });
    expect(res.contentType).toBe(HEADERS.contentType);
    expect(res.headers.get('cache-control')).toBe(HEADERS.publicReadCacheControl);
    expect(res.headers.get('x-request-id')).toBe('req-abc.123');
    expect(res.headers.get('x-powered-by')).toBeNull();
    expect(res.headers.get('etag')).toBeNull();
  });

  it('generates a request id when none (or a malformed one) is sent', async () => {
    const none = await fetch(`${app.url}/articles?pageSize=1`);
    expect(none.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    const bad = await fetch(`${app.url}/articles?pageSize=1`, {
      headers: { 'x-request-id': 'has spaces and ; stuff' },
    });
    expect(bad.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('pages, sorts, searches and filters like the content store', async () => {
    const res = await call(`${app.url}/articles?page=2&pageSize=5&sort=title:asc&q=redis`);
    expect(res.status).toBe(200);
    const expected = await app.content.listArticles({ page: 2, pageSize: 5, sort: 'title:asc', q: 'redis' });
    expect(res.body).toEqual(expected);
    const byAuthor = await call(`${app.url}/articles?author=ada-lovelace&pageSize=100`);
    const data = ArticleListResponse.parse(byAuthor.body).data;
    expect(data.length).toBeGreaterThan(0);
    expect(data.every((a) => a.author?.slug === 'ada-lovelace')).toBe(true);
  });

  it.each([
    ['page=0', 'page'],
    ['page=-1', 'page'],
    ['page=abc', 'page'],
    ['pageSize=101', 'pageSize'],
    ['sort=random', 'sort'],
    ['author=Not A Slug', 'author'],
    ['unknown=1', '(root)'],
  ])('answers 422 for %s', async (query, path) => {
    const res = await call(`${app.url}/articles?${query}`);
    const envelope = expectEnvelope(res, 422, 'VALIDATION_FAILED');
    expect(envelope.error.message).toBe('Invalid query parameters.');
    expect(envelope.error.issues?.[0]?.path).toBe(path);
    expect(res.headers.get('cache-control')).toBe(HEADERS.privateCacheControl);
  });

  it('answers the content store’s 503 as is', async () => {
    const content = createMemoryContent();
    content.listArticles = async () => {
      throw new ApiError('SERVICE_UNAVAILABLE', {
        message: 'The content service is unavailable; retry later.',
      });
    };
    const broken = await startApp({ content });
    try {
      const res = await call(`${broken.url}/articles`);
      expectEnvelope(res, 503, 'SERVICE_UNAVAILABLE');
      expect(res.headers.get('cache-control')).toBe('no-store');
    } finally {
      await broken.close();
    }
  });
});

describe('GET /articles/:slug', () => {
  it('answers one article with its body', async () => {
    const first = (await app.content.latestArticles(1))[0]!;
    const res = await call(`${app.url}/articles/${first.slug}`);
    expect(res.status).toBe(200);
    expect(ArticleResponse.parse(res.body).data).toMatchObject({ ...first, body: expect.any(String) });
    expect(res.headers.get('cache-control')).toBe(HEADERS.publicReadCacheControl);
  });

  it('answers 404 in the envelope for an unknown slug and a draft', async () => {
    for (const slug of ['no-such-article', 'unpublished-draft-number-1']) {
      const res = await call(`${app.url}/articles/${slug}`);
      const envelope = expectEnvelope(res, 404, 'NOT_FOUND');
      expect(envelope.error.message).toBe('No article with this slug.');
      expect(res.headers.get('cache-control')).toBe('no-store');
    }
  });

  it('answers 422 for a slug that can’t exist', async () => {
    const res = await call(`${app.url}/articles/Not_A_Slug`);
    const envelope = expectEnvelope(res, 422, 'VALIDATION_FAILED');
    expect(envelope.error.message).toBe('Invalid path parameters.');
    expect(envelope.error.issues?.[0]?.path).toBe('slug');
  });

  it('answers 504 when the content store times out', async () => {
    const content = createMemoryContent();
    content.getArticle = async () => {
      throw new ApiError('UPSTREAM_TIMEOUT');
    };
    const slow = await startApp({ content });
    try {
      expectEnvelope(await call(`${slow.url}/articles/any-slug`), 504, 'UPSTREAM_TIMEOUT');
    } finally {
      await slow.close();
    }
  });
});
