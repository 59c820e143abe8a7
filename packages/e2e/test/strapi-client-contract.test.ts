// The shared Strapi client against the REAL Strapi 5 of apps/cms: query encoding (what Strapi
// actually parses), typed error mapping, writes and cache tags. No fakes here.
import { type CmsInstance, SEED, startCms } from '@pilot/cms/testing';
import { createStrapiClient, isStrapiError, type StrapiClient } from '@pilot/strapi-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';

const Article = z.object({
  documentId: z.string(),
  title: z.string(),
  slug: z.string(),
  publishedAt: z.string().nullable(),
  body: z.string().nullable().optional(),
  author: z.object({ name: z.string(), slug: z.string() }).nullable().optional(),
});
const Subscriber = z.object({ documentId: z.string(), email: z.string() });

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (isStrapiError(error)) return error.code;
    throw error;
  }
  return 'no error';
}

describe('strapi-client against the real Strapi 5', () => {
  let cms: CmsInstance;
  let read: StrapiClient;
  let write: StrapiClient;
  let anonymous: StrapiClient;

  beforeAll(async () => {
    cms = await startCms({ seedArticles: 60 });
    const base = { baseUrl: cms.url, cache: { enabled: false } };
    read = createStrapiClient({ ...base, token: cms.readToken });
    write = createStrapiClient({ ...base, token: cms.writeToken });
    anonymous = createStrapiClient({ ...base, token: 'not-a-real-token' });
  });
  afterAll(async () => {
    await Promise.all([read?.close(), write?.close(), anonymous?.close()]);
    await cms?.stop();
  });

  it('pages with pagination[page]/[pageSize] and reports totals', async () => {
    const page = await read.collection('articles').find({ pagination: { page: 2, pageSize: 10 } }, Article);
    expect(page.data).toHaveLength(10);
    expect(page.meta.pagination).toMatchObject({ page: 2, pageSize: 10, total: 60, pageCount: 6 });
  });

  it('filters with nested operators ($containsi, relation filters) and sorts', async () => {
    const topic = SEED.topics[0];
    const byTitle = await read
      .collection('articles')
      .find(
        {
          filters: { title: { $containsi: topic.toLowerCase() } },
          sort: ['title:asc'],
          pagination: { pageSize: 100 },
        },
        Article,
      );
    expect(byTitle.data.length).toBeGreaterThan(0);
    for (const a of byTitle.data) expect(a.title.toLowerCase()).toContain(topic.toLowerCase());
    const titles = byTitle.data.map((a) => a.title);
    expect(titles).toEqual([...titles].sort((x, y) => x.localeCompare(y)));

    const byAuthor = await read.collection('articles').find(
      {
        filters: { author: { slug: { $eq: SEED.firstArticle.author } } },
        populate: { author: { fields: ['name', 'slug'] } },
        pagination: { pageSize: 100 },
      },
      Article,
    );
    expect(byAuthor.data.length).toBeGreaterThan(0);
    for (const a of byAuthor.data) expect(a.author?.slug).toBe(SEED.firstArticle.author);
  });

  it('$or across fields and fields[] selection', async () => {
    const result = await read.collection('articles').find(
      {
        filters: { $or: [{ slug: { $eq: SEED.firstArticle.slug } }, { title: { $eq: 'no such title' } }] },
        fields: ['title', 'slug', 'publishedAt'],
      },
      Article,
    );
    expect(result.data.map((a) => a.slug)).toEqual([SEED.firstArticle.slug]);
    expect(result.data[0]?.body).toBeUndefined();
  });

  it('status=draft returns draft versions, published is the default', async () => {
    const published = await read.collection('articles').find({ pagination: { pageSize: 1 } }, Article);
    const drafts = await read
      .collection('articles')
      .find({ status: 'draft', pagination: { pageSize: 1 } }, Article);
    expect(drafts.meta.pagination.total).toBeGreaterThan(published.meta.pagination.total);
    expect(drafts.data[0]?.publishedAt).toBeNull();
  });

  it('findOne by documentId, and a typed NotFound for an unknown one', async () => {
    const first = await read.collection('articles').find({ pagination: { pageSize: 1 } }, Article);
    const id = first.data[0]!.documentId;
    const one = await read.collection('articles').findOne(id, {}, Article);
    expect(one.documentId).toBe(id);
    expect(await codeOf(read.collection('articles').findOne('doesnotexist000000000000', {}, Article))).toBe(
      'STRAPI_NOT_FOUND',
    );
  });

  it('maps auth failures: bad token → UNAUTHORIZED, read token writing → FORBIDDEN, never leaking the token', async () => {
    let leaked = '';
    try {
      await anonymous.collection('articles').find({}, Article);
    } catch (error) {
      leaked = JSON.stringify({ message: (error as Error).message, ...(error as object) });
      expect(isStrapiError(error) && error.code).toBe('STRAPI_UNAUTHORIZED');
    }
    expect(leaked).not.toContain('not-a-real-token');
    expect(await codeOf(read.collection('subscribers').create({ email: 'x@example.com' }, Subscriber))).toBe(
      'STRAPI_FORBIDDEN',
    );
  });

  it('creates a subscriber with the write token; a duplicate email is a typed validation error', async () => {
    const email = `e2e-${Date.now()}@example.com`;
    const created = await write.collection('subscribers').create({ email }, Subscriber);
    expect(created.email).toBe(email);
    expect(await codeOf(write.collection('subscribers').create({ email }, Subscriber))).toBe(
      'STRAPI_VALIDATION',
    );
  });

  it('ping reports Strapi reachable', async () => {
    const result = await read.ping();
    expect(result).toMatchObject({ ok: true });
  });
});
