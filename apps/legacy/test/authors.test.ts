import { AUTHOR_LATEST_ARTICLES, AuthorResponse, HEADERS } from '@pilot/contracts';
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

describe('GET /authors/:slug', () => {
  it('answers the author with their latest published articles, newest first, as a public read', async () => {
    const profile = await app.content.getAuthor('ada-lovelace');
    expect(profile?.latestArticles.length).toBe(AUTHOR_LATEST_ARTICLES);
    const res = await call(`${app.url}/authors/ada-lovelace`);
    expect(res.status).toBe(200);
    expect(res.contentType).toBe(HEADERS.contentType);
    expect(res.headers.get('cache-control')).toBe(HEADERS.publicReadCacheControl);
    expect(AuthorResponse.parse(res.body)).toEqual({ data: profile });
    const dates = profile!.latestArticles.map((a) => a.publishedAt);
    expect([...dates].sort().reverse()).toEqual(dates);
  });

  it('answers 404 for an unknown author and 422 for a slug that breaks the contract', async () => {
    expectEnvelope(await call(`${app.url}/authors/no-such-author`), 404, 'NOT_FOUND');
    expectEnvelope(await call(`${app.url}/authors/Not_A_Slug`), 422, 'VALIDATION_FAILED');
  });
});
