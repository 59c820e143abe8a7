import { type CmsInstance, startCms } from '@pilot/cms/testing';
import { ApiError, AUTHOR_LATEST_ARTICLES, ListArticlesQuery } from '@pilot/contracts';
import { createStrapiClient, type StrapiClient, type UpstreamEvent } from '@pilot/strapi-client';
import { type FakeStrapi, startFakeStrapi } from '@pilot/strapi-client/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  type ContentRepository,
  createMemoryContent,
  createSeed,
  createStrapiContent,
} from '../src/index.ts';

/**
 * getAuthor(slug): the in-memory semantics, the Strapi implementation's failures against a fake
 * Strapi whose GraphQL answers are scripted (faults only), and the real Strapi over GraphQL.
 */

async function failure(promise: Promise<unknown>): Promise<ApiError> {
  const error = await promise.then(
    () => new Error('expected a failure'),
    (e: unknown) => e,
  );
  if (!(error instanceof ApiError)) throw error;
  return error;
}

describe('getAuthor in memory', () => {
  const content = createMemoryContent();
  const { seed } = content;

  it.each(seed.authors.map((a) => [a.slug, a] as const))(
    '%s: their latest published articles, newest first (ties by slug), at most five',
    async (slug, author) => {
      const profile = await content.getAuthor(slug);
      const theirs = seed.articles.filter((a) => a.authorId === author.documentId && a.publishedAt !== null);
      expect(profile).toMatchObject({ id: author.documentId, slug, name: author.name, bio: author.bio });
      expect(profile!.latestArticles).toHaveLength(Math.min(AUTHOR_LATEST_ARTICLES, theirs.length));
      const keys = profile!.latestArticles.map((a) => `${a.publishedAt} ${a.slug}`);
      const sorted = [...keys].sort((x, y) => {
        const [dx, sx] = x.split(' ') as [string, string];
        const [dy, sy] = y.split(' ') as [string, string];
        return dx === dy ? (sx < sy ? -1 : 1) : dx < dy ? 1 : -1;
      });
      expect(keys).toEqual(sorted);
      for (const article of profile!.latestArticles) {
        expect(theirs.map((a) => a.documentId)).toContain(article.id);
        expect(article).not.toHaveProperty('author');
      }
    },
  );

  it('an unknown slug is null', async () => {
    expect(await content.getAuthor('no-such-author')).toBeNull();
  });
});

describe('getAuthor failures (fake Strapi: scripted GraphQL)', () => {
  const seed = createSeed({ articles: 6, authors: 2, drafts: 0 });
  let fake: FakeStrapi;
  let answer: () => { status?: number; body: unknown } = () => ({ body: { data: { authors: [] } } });
  const clients: StrapiClient[] = [];

  const contentFor = (timeoutMs = 1_000) => {
    const make = () => {
      const client = createStrapiClient({ baseUrl: fake.url, timeoutMs, retry: { maxAttempts: 0 } });
      clients.push(client);
      return client;
    };
    return createStrapiContent({ read: make(), write: make() });
  };

  beforeAll(async () => {
    fake = await startFakeStrapi({
      collections: { authors: seed.authors.map((a) => ({ ...a })) },
      graphql: () => answer(),
    });
  });
  afterEach(async () => {
    fake.setFault(null);
    answer = () => ({ body: { data: { authors: [] } } });
    await Promise.all(clients.splice(0).map((c) => c.close()));
  });
  afterAll(async () => {
    await fake.close();
  });

  it('no author is null (fake Strapi: empty answer)', async () => {
    expect(await contentFor().getAuthor('nobody')).toBeNull();
  });

  it('Strapi 5xx → SERVICE_UNAVAILABLE, a hang → UPSTREAM_TIMEOUT (fake Strapi: 503, hang)', async () => {
    fake.setFault({ kind: 'status', status: 503 }, 1);
    expect(await failure(contentFor().getAuthor('a'))).toMatchObject({
      code: 'SERVICE_UNAVAILABLE',
      status: 503,
    });
    fake.setFault({ kind: 'hang' }, 1);
    expect(await failure(contentFor(200).getAuthor('b'))).toMatchObject({
      code: 'UPSTREAM_TIMEOUT',
      status: 504,
    });
  });

  it('Strapi refusing our query (depth limit, 400) or our token (FORBIDDEN) → UPSTREAM_FAILED 502 naming the client error (fake Strapi)', async () => {
    answer = () => ({
      status: 400,
      body: {
        errors: [
          {
            message: "'AuthorWithLatestArticles' exceeds maximum operation depth of 1",
            extensions: { code: 'GRAPHQL_VALIDATION_FAILED' },
          },
        ],
      },
    });
    const depth = await failure(contentFor().getAuthor('c'));
    expect(depth).toMatchObject({ code: 'UPSTREAM_FAILED', status: 502 });
    expect(depth.body.error.details).toEqual({ upstream: 'strapi', code: 'STRAPI_BAD_REQUEST' });
    answer = () => ({
      body: {
        data: { authors: null },
        errors: [{ message: 'Forbidden access', path: ['authors'], extensions: { code: 'FORBIDDEN' } }],
      },
    });
    const forbidden = await failure(contentFor().getAuthor('d'));
    expect(forbidden.body.error.details).toEqual({ upstream: 'strapi', code: 'STRAPI_FORBIDDEN' });
  });

  it('partial data is an error, not a profile missing its articles (fake Strapi: data + errors)', async () => {
    const [ada] = seed.authors;
    answer = () => ({
      body: {
        data: {
          authors: [
            {
              __typename: 'Author',
              documentId: ada!.documentId,
              slug: ada!.slug,
              name: ada!.name,
              bio: null,
              articles: null,
            },
          ],
        },
        errors: [
          {
            message: 'Forbidden access',
            path: ['authors', 0, 'articles'],
            extensions: { code: 'FORBIDDEN' },
          },
        ],
      },
    });
    expect(await failure(contentFor().getAuthor(ada!.slug))).toMatchObject({ code: 'UPSTREAM_FAILED' });
  });
});

describe('getAuthor against the real Strapi (GraphQL)', () => {
  let cms: CmsInstance;
  let content: ContentRepository;
  const upstream: UpstreamEvent[] = [];

  beforeAll(async () => {
    cms = await startCms({ seedArticles: 45, seedAuthors: 5 });
    const client = (token: string) =>
      createStrapiClient({ baseUrl: cms.url, token, timeoutMs: 10_000, cache: { ttlMs: 60_000 } });
    const read = client(cms.readToken);
    read.on('upstream', (e) => upstream.push(e));
    content = createStrapiContent({ read, write: client(cms.writeToken), source: 'e2e' });
  }, 180_000);
  afterAll(async () => {
    await content?.close();
    await cms?.stop();
  });

  it('answers what the REST list by author answers: the same articles in the same order, drafts excluded', async () => {
    for (const slug of ['ada-lovelace', 'grace-hopper', 'alan-turing', 'barbara-liskov', 'edsger-dijkstra']) {
      const profile = await content.getAuthor(slug);
      const rest = await content.listArticles(
        ListArticlesQuery.parse({ author: slug, pageSize: String(AUTHOR_LATEST_ARTICLES) }),
      );
      expect(profile?.slug).toBe(slug);
      expect(profile!.latestArticles).toEqual(rest.data.map(({ author: _, ...a }) => a));
      expect(profile!.latestArticles.map((a) => a.title).join()).not.toMatch(/Unpublished/);
    }
    expect(await content.getAuthor('no-such-author')).toBeNull();
  });

  it('is cached until a webhook for the author or an article drops it; other types leave it', async () => {
    const calls = () => upstream.filter((e) => e.path === '/graphql').length;
    const profile = (await content.getAuthor('ada-lovelace'))!;
    const before = calls();
    await content.getAuthor('ada-lovelace');
    await content.invalidate({ event: 'entry.create', model: 'subscriber', entry: { documentId: 'x' } });
    await content.getAuthor('ada-lovelace');
    expect(calls()).toBe(before);
    await content.invalidate({ event: 'entry.update', model: 'author', entry: { documentId: profile.id } });
    await content.getAuthor('ada-lovelace');
    expect(calls()).toBe(before + 1);
    await content.invalidate({
      event: 'entry.publish',
      model: 'article',
      entry: { documentId: profile.latestArticles[0]!.id },
    });
    await content.getAuthor('ada-lovelace');
    expect(calls()).toBe(before + 2);
  });
});
