// GET /authors/:slug, served over Strapi's GraphQL API by both apps, against the REAL Strapi,
// real Redis and the real apps behind the gateway: seeded data, the webhook path (an edit in
// Strapi → webhook → the next GraphQL read is fresh within 1 s on both apps), coalescing of
// 1,000 concurrent cold reads into one Strapi call, and the depth limit as a typed 4xx.
import { AuthorWithLatestArticles } from '@pilot/content';
import { ArticleListResponse, AUTHOR_LATEST_ARTICLES, AuthorResponse, ErrorEnvelope } from '@pilot/contracts';
import {
  createStrapiClient,
  defineQuery,
  type GraphQLErrorDetails,
  StrapiBadRequestError,
  type UpstreamEvent,
} from '@pilot/strapi-client';
import { useTestRedis } from '@pilot/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { type System, startSystem } from './system.ts';

let system: System;

beforeAll(async () => {
  system = await startSystem();
});
afterAll(async () => {
  await system?.stop();
});

const json = { 'content-type': 'application/json' };
const isGraphQL = (e: UpstreamEvent) => e.path === '/graphql';
const graphqlCalls = (service: 'legacy' | 'modern') => system.upstream[service].filter(isGraphQL).length;

async function author(base: string, slug: string) {
  const res = await fetch(`${base}/authors/${slug}`);
  return { res, body: (await res.json()) as unknown };
}

/** Polls both apps until `check` holds for each; returns ms from `since` until both did. */
async function freshOnBoth(slug: string, check: (body: AuthorResponse) => boolean, since: number) {
  const done = { legacy: false, modern: false };
  while (Date.now() - since < 5_000 && !(done.legacy && done.modern)) {
    for (const side of ['legacy', 'modern'] as const) {
      if (done[side]) continue;
      const { body } = await author(side === 'legacy' ? system.legacyUrl : system.modernUrl, slug);
      if (check(AuthorResponse.parse(body))) done[side] = true;
    }
    if (!(done.legacy && done.modern)) await new Promise((resolve) => setTimeout(resolve, 25));
  }
  expect(done).toEqual({ legacy: true, modern: true });
  return Date.now() - since;
}

describe('GET /authors/:slug over GraphQL (real Strapi, real Redis, real apps)', () => {
  it('answers the seeded author and their latest articles, the same as REST lists them, on both apps and through the gateway', async () => {
    const rest = ArticleListResponse.parse(
      await (
        await fetch(`${system.modernUrl}/articles?author=ada-lovelace&pageSize=${AUTHOR_LATEST_ARTICLES}`)
      ).json(),
    );
    const answers = [];
    for (const base of [system.legacyUrl, system.modernUrl, system.gatewayUrl]) {
      const { res, body } = await author(base, 'ada-lovelace');
      expect(res.status).toBe(200);
      answers.push(AuthorResponse.parse(body));
    }
    const [legacy, modern, viaGateway] = answers;
    expect(modern).toEqual(legacy);
    expect(viaGateway).toEqual(legacy);
    expect(legacy!.data).toMatchObject({ slug: 'ada-lovelace', name: 'Ada Lovelace' });
    expect(legacy!.data.bio).toContain('Ada Lovelace writes about');
    // 60 seeded articles, article i by author i % 12: five each, newest first, no drafts
    expect(legacy!.data.latestArticles.map((a) => a.id)).toEqual(rest.data.map((a) => a.id));
    expect(legacy!.data.latestArticles).toHaveLength(AUTHOR_LATEST_ARTICLES);

    for (const base of [system.legacyUrl, system.modernUrl]) {
      const missing = await author(base, 'no-such-author');
      expect(missing.res.status).toBe(404);
      expect(ErrorEnvelope.parse(missing.body).error.code).toBe('NOT_FOUND');
    }
  });

  it('an article edited in Strapi shows in the next GraphQL read within 1 s on both apps (webhook → tags from __typename/documentId)', async () => {
    const slug = 'grace-hopper';
    const before = AuthorResponse.parse((await author(system.modernUrl, slug)).body);
    await author(system.legacyUrl, slug);
    const cached = { legacy: graphqlCalls('legacy'), modern: graphqlCalls('modern') };
    await author(system.legacyUrl, slug);
    await author(system.modernUrl, slug);
    expect({ legacy: graphqlCalls('legacy'), modern: graphqlCalls('modern') }).toEqual(cached); // served from cache

    const target = before.data.latestArticles[1]!;
    const newTitle = `GraphQL fresh ${Date.now()}`;
    const put = await fetch(`${system.cms.url}/api/articles/${target.id}`, {
      method: 'PUT',
      headers: { ...json, authorization: `Bearer ${system.cms.fullAccessToken}` },
      body: JSON.stringify({ data: { title: newTitle } }),
    });
    expect(put.status).toBe(200);
    const ms = await freshOnBoth(
      slug,
      (body) => body.data.latestArticles.some((a) => a.id === target.id && a.title === newTitle),
      Date.now(),
    );
    expect(ms).toBeLessThan(1_000 + 500); // 1 s budget plus a loaded-machine margin
  });

  it('an author renamed in Strapi shows in the next GraphQL read within 1 s on both apps', async () => {
    const slug = 'alan-turing';
    const before = AuthorResponse.parse((await author(system.modernUrl, slug)).body);
    await author(system.legacyUrl, slug);
    const newName = `Alan M. Turing ${Date.now()}`;
    const put = await fetch(`${system.cms.url}/api/authors/${before.data.id}`, {
      method: 'PUT',
      headers: { ...json, authorization: `Bearer ${system.cms.fullAccessToken}` },
      body: JSON.stringify({ data: { name: newName } }),
    });
    expect(put.status).toBe(200);
    const ms = await freshOnBoth(slug, (body) => body.data.name === newName, Date.now());
    expect(ms).toBeLessThan(1_000 + 500);
  });

  it('1,000 concurrent identical cold GET /authors/:slug on one app make 1 GraphQL call to Strapi', async () => {
    const slug = 'barbara-liskov'; // not read by any test before
    const before = graphqlCalls('modern');
    const answers = await Promise.all(
      Array.from({ length: 1_000 }, () => fetch(`${system.modernUrl}/authors/${slug}`).then((r) => r.status)),
    );
    expect(answers.filter((s) => s !== 200)).toEqual([]);
    expect(graphqlCalls('modern') - before).toBe(1);
  });

  it('1,000 concurrent identical cold client queries make 1 Strapi call (the client alone, own Redis prefix)', async () => {
    const redis = await useTestRedis('e2e-graphql');
    const client = createStrapiClient({
      baseUrl: system.cms.url,
      token: system.cms.readToken,
      timeoutMs: 10_000,
      cache: { redisUrl: redis.url, prefix: redis.prefix },
    });
    try {
      expect(await client.ready()).toBe(true);
      let calls = 0;
      client.on('upstream', () => {
        calls += 1;
      });
      const results = await Promise.all(
        Array.from({ length: 1_000 }, () =>
          client.graphql.query(AuthorWithLatestArticles, { slug: 'edsger-dijkstra', limit: 3 }),
        ),
      );
      expect(calls).toBe(1);
      expect(new Set(results).size).toBe(1);
      expect(results[0]!.authors[0]!.name).toBe('Edsger Dijkstra');
    } finally {
      await client.close();
      await redis.cleanup();
    }
  });

  it('a query over the depth limit is a typed 4xx: StrapiBadRequestError 400 naming the limit, nothing cached or retried', async () => {
    const client = createStrapiClient({ baseUrl: system.cms.url, token: system.cms.readToken });
    const TooDeep = defineQuery({
      document: `query TooDeep { authors { articles { author { articles { author { articles { author { articles { title } } } } } } } } }`,
      schema: z.unknown(),
      types: { Author: 'authors', Article: 'articles' },
    });
    let calls = 0;
    client.on('upstream', () => {
      calls += 1;
    });
    try {
      for (let i = 0; i < 2; i++) {
        const error = (await client.graphql.query(TooDeep).catch((e: unknown) => e)) as StrapiBadRequestError;
        expect(error).toBeInstanceOf(StrapiBadRequestError);
        expect(error).toMatchObject({ status: 400, code: 'STRAPI_BAD_REQUEST', path: '/graphql' });
        expect(error.message).toContain("'TooDeep' exceeds maximum operation depth of 7");
        expect((error.details as GraphQLErrorDetails).errors[0]!.code).toBe('GRAPHQL_VALIDATION_FAILED');
      }
      expect(calls).toBe(2); // one attempt each: not retried, not cached
      expect(client.status().breaker).toBe('closed');
    } finally {
      await client.close();
    }
  });
});
