import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CmsInstance, SEED, startCms } from '../testing/index.ts';
import { api } from './helpers.ts';

// The real Strapi of apps/cms, API-only, fresh temp SQLite, full default seed (300 articles).
let cms: CmsInstance;

beforeAll(async () => {
  cms = await startCms();
});

afterAll(async () => {
  await cms?.stop();
});

describe('seeded content through the REST API (real Strapi)', () => {
  it('has 300 published articles, paged 10 at a time', async () => {
    const res = await api(cms, '/api/articles?pagination[page]=2&pagination[pageSize]=10', {
      token: cms.readToken,
    });
    expect(res.status).toBe(200);
    expect(res.body.meta.pagination).toEqual({
      page: 2,
      pageSize: 10,
      pageCount: 30,
      total: SEED.defaultArticles,
    });
    expect(res.body.data).toHaveLength(10);
    const article = res.body.data[0];
    expect(Object.keys(article).sort()).toEqual(
      [
        'body',
        'createdAt',
        'documentId',
        'id',
        'publishedAt',
        'slug',
        'summary',
        'title',
        'updatedAt',
      ].sort(),
    );
    expect(article.documentId).toMatch(/^[a-z0-9]{24}$/);
  });

  it('pages are disjoint and stable under a sort with a tie-breaker', async () => {
    const q = 'sort[0]=publishedAt:desc&sort[1]=slug:asc&pagination[pageSize]=25';
    const page1 = await api(cms, `/api/articles?${q}&pagination[page]=1`, { token: cms.readToken });
    const page2 = await api(cms, `/api/articles?${q}&pagination[page]=2`, { token: cms.readToken });
    const slugs1 = page1.body.data.map((a: { slug: string }) => a.slug);
    const slugs2 = page2.body.data.map((a: { slug: string }) => a.slug);
    expect(new Set([...slugs1, ...slugs2]).size).toBe(50);
    // Article 300 (index 299) is the newest: topic 20 "Feature Flags", shape 15 "Rethinking {t}".
    expect(page1.body.data[0]).toMatchObject({
      slug: 'rethinking-feature-flags',
      publishedAt: '2024-11-20T07:00:00.000Z',
    });
  });

  it('has 12 authors', async () => {
    const res = await api(cms, '/api/authors?pagination[pageSize]=100&sort=slug', { token: cms.readToken });
    expect(res.status).toBe(200);
    expect(res.body.meta.pagination.total).toBe(SEED.authors);
    expect(res.body.data.map((a: { slug: string }) => a.slug)).toContain('ada-lovelace');
  });

  it('searches titles case-insensitively with filters[title][$containsi]', async () => {
    const res = await api(cms, '/api/articles?filters[title][$containsi]=redis&pagination[pageSize]=100', {
      token: cms.readToken,
    });
    expect(res.status).toBe(200);
    expect(res.body.meta.pagination.total).toBe(SEED.defaultArticles / SEED.topics.length);
    for (const article of res.body.data) expect(article.title).toContain('Redis');
  });

  it('searches title or summary with $or', async () => {
    const res = await api(
      cms,
      '/api/articles?filters[$or][0][title][$containsi]=shadow traffic&filters[$or][1][summary][$containsi]=shadow traffic',
      { token: cms.readToken },
    );
    expect(res.body.meta.pagination.total).toBe(15);
  });

  it('finds one article by slug, with its author populated', async () => {
    const res = await api(
      cms,
      `/api/articles?filters[slug][$eq]=${SEED.firstArticle.slug}&populate[author][fields][0]=name&populate[author][fields][1]=slug`,
      { token: cms.readToken },
    );
    expect(res.status).toBe(200);
    expect(res.body.meta.pagination.total).toBe(1);
    expect(res.body.data[0]).toMatchObject({
      title: SEED.firstArticle.title,
      slug: SEED.firstArticle.slug,
      publishedAt: '2024-01-01T09:00:00.000Z',
      author: { name: 'Ada Lovelace', slug: SEED.firstArticle.author },
    });
  });

  it('filters articles by author slug', async () => {
    const res = await api(cms, '/api/articles?filters[author][slug][$eq]=grace-hopper', {
      token: cms.readToken,
    });
    expect(res.body.meta.pagination.total).toBe(SEED.defaultArticles / SEED.authors);
  });

  it('finds one article by documentId, and 404s an unknown one', async () => {
    const list = await api(cms, '/api/articles?pagination[pageSize]=1', { token: cms.readToken });
    const { documentId, slug } = list.body.data[0];
    const one = await api(cms, `/api/articles/${documentId}`, { token: cms.readToken });
    expect(one.status).toBe(200);
    expect(one.body.data).toMatchObject({ documentId, slug });
    const missing = await api(cms, '/api/articles/doesnotexist0000000000000', { token: cms.readToken });
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual({
      data: null,
      error: { status: 404, name: 'NotFoundError', message: 'Not Found', details: {} },
    });
  });

  it('hides drafts unless status=draft is asked for', async () => {
    const published = await api(cms, '/api/articles?filters[title][$containsi]=unpublished draft', {
      token: cms.readToken,
    });
    expect(published.body.meta.pagination.total).toBe(0);
    const drafts = await api(cms, '/api/articles?status=draft&filters[title][$containsi]=unpublished draft', {
      token: cms.readToken,
    });
    expect(drafts.body.meta.pagination.total).toBe(SEED.drafts);
    for (const draft of drafts.body.data) expect(draft.publishedAt).toBeNull();
  });

  it('caps pageSize at 100', async () => {
    const res = await api(cms, '/api/articles?pagination[pageSize]=500', { token: cms.readToken });
    expect(res.body.data).toHaveLength(100);
    expect(res.body.meta.pagination.pageSize).toBe(100);
  });
});
