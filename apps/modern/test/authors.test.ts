import { AUTHOR_LATEST_ARTICLES, AuthorResponse, ErrorEnvelope, HEADERS } from '@pilot/contracts';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../src/index.ts';
import { type TestDeps, testDeps } from './helpers.ts';

describe('GET /authors/:slug (inject, memory content)', () => {
  let deps: TestDeps;
  let app: FastifyInstance;

  beforeAll(async () => {
    deps = testDeps();
    app = createApp(deps);
    await app.ready();
  });
  afterAll(async () => {
    await app.close();
  });

  it('answers the author with their latest published articles, newest first, as a public read', async () => {
    const author = deps.content.seed.authors[0]!;
    const res = await app.inject(`/authors/${author.slug}`);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe(HEADERS.contentType);
    expect(res.headers['cache-control']).toBe(HEADERS.publicReadCacheControl);
    const { data } = AuthorResponse.parse(res.json());
    expect(data).toMatchObject({
      id: author.documentId,
      slug: author.slug,
      name: author.name,
      bio: author.bio,
    });
    const theirs = deps.content.seed.articles
      .filter((a) => a.authorId === author.documentId && a.publishedAt !== null)
      .sort((a, b) =>
        b.publishedAt! < a.publishedAt! ? -1 : b.publishedAt! > a.publishedAt! ? 1 : a.slug < b.slug ? -1 : 1,
      )
      .slice(0, AUTHOR_LATEST_ARTICLES);
    expect(theirs.length).toBeGreaterThan(0);
    expect(data.latestArticles.map((a) => a.slug)).toEqual(theirs.map((a) => a.slug));
  });

  it('answers 404 in the envelope for an unknown author, 422 for a slug that breaks the contract', async () => {
    const missing = await app.inject('/authors/no-such-author');
    expect(missing.statusCode).toBe(404);
    expect(ErrorEnvelope.parse(missing.json()).error.code).toBe('NOT_FOUND');
    expect(missing.headers['cache-control']).not.toBe(HEADERS.publicReadCacheControl);
    const invalid = await app.inject('/authors/Not_A_Slug');
    expect(invalid.statusCode).toBe(422);
    expect(ErrorEnvelope.parse(invalid.json()).error.code).toBe('VALIDATION_FAILED');
  });
});
