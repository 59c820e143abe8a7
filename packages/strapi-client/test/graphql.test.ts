import { useTestRedis } from '@pilot/test-kit';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  createStrapiClient,
  defineMutation,
  defineQuery,
  type GraphQLErrorDetails,
  StrapiBadRequestError,
  StrapiBadResponseError,
  StrapiCircuitOpenError,
  StrapiForbiddenError,
  StrapiHttpError,
  StrapiNotFoundError,
  StrapiRateLimitedError,
  StrapiTimeoutError,
  StrapiUnauthorizedError,
  StrapiUnavailableError,
  StrapiValidationError,
  type StrapiClient,
  type StrapiClientOptions,
} from '../src/index.ts';
import { type FakeGraphQL, startFakeGraphQL, startFakeStrapi } from '../src/testing/index.ts';
import { manualClock, TOKEN } from './helpers.ts';

let fake: FakeGraphQL | undefined;
const clients: StrapiClient[] = [];
const cleanups: Array<() => Promise<void>> = [];

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await fake?.close();
  fake = undefined;
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

function clientFor(target: FakeGraphQL, options: Partial<StrapiClientOptions> = {}): StrapiClient {
  const client = createStrapiClient({
    baseUrl: target.url,
    token: TOKEN,
    timeoutMs: 2_000,
    retry: { maxAttempts: 0 },
    ...options,
  });
  clients.push(client);
  return client;
}

const AuthorWithArticles = defineQuery({
  document: /* GraphQL */ `
    # the author of a slug with their latest articles
    query AuthorWithArticles($slug: String!, $limit: Int!) {
      authors(filters: { slug: { eq: $slug } }) {
        documentId
        name
        articles(sort: ["publishedAt:desc"], pagination: { limit: $limit }) { documentId title }
      }
    }
  `,
  variables: z.object({ slug: z.string(), limit: z.number().int() }),
  schema: z.object({
    authors: z.array(
      z.object({
        documentId: z.string(),
        name: z.string(),
        articles: z.array(z.object({ documentId: z.string(), title: z.string() })),
      }),
    ),
  }),
  types: { Author: 'authors', Article: 'articles' },
});

const ada = {
  __typename: 'Author',
  documentId: 'author-ada',
  name: 'Ada',
  articles: [
    { __typename: 'Article', documentId: 'article-1', title: 'One' },
    { __typename: 'Article', documentId: 'article-2', title: 'Two' },
  ],
};
const adaAnswer = { body: { data: { authors: [ada] } } };
const vars = { slug: 'ada', limit: 2 };

describe('defining operations', () => {
  it('normalises the document: layout and comments do not change it; __typename is added once per selection set', () => {
    const compact = defineQuery({
      document:
        'query AuthorWithArticles($slug:String!,$limit:Int!){authors(filters:{slug:{eq:$slug}}){documentId name articles(sort:["publishedAt:desc"],pagination:{limit:$limit}){documentId title}}}',
      schema: z.any(),
    });
    expect(compact.document).toBe(AuthorWithArticles.document);
    expect(compact.hash).toBe(AuthorWithArticles.hash);
    expect(AuthorWithArticles.document.match(/__typename/g)).toHaveLength(2); // authors{} and articles{}, not the root
    const already = defineQuery({
      document: 'query A { authors { __typename documentId } }',
      schema: z.any(),
    });
    expect(already.document.match(/__typename/g)).toHaveLength(1);
    expect(AuthorWithArticles.rootFields).toEqual([{ responseKey: 'authors', name: 'authors' }]);
  });

  it('refuses what it cannot cache or label: syntax errors, anonymous, several or wrong-kind operations', () => {
    const schema = z.any();
    expect(() => defineQuery({ document: 'query A { authors {', schema })).toThrow(/does not parse/);
    expect(() => defineQuery({ document: '{ authors { name } }', schema })).toThrow(
      /Name the GraphQL operation/,
    );
    expect(() => defineQuery({ document: 'query A { a } query B { b }', schema })).toThrow(
      /exactly one operation/,
    );
    expect(() =>
      defineQuery({ document: 'mutation M { deleteArticle(documentId: "x") { documentId } }', schema }),
    ).toThrow(/use defineMutation/);
    expect(() => defineMutation({ document: 'query Q { a }', schema })).toThrow(/use defineQuery/);
    expect(() => defineQuery({ document: 'query A { a }', schema, types: { 'not a type': 'x' } })).toThrow(
      /types/,
    );
  });

  it('checks variables against their schema before anything is sent (fake GraphQL)', async () => {
    fake = await startFakeGraphQL({ responder: () => adaAnswer });
    const strapi = clientFor(fake);
    // @ts-expect-error limit must be a number
    await expect(strapi.graphql.query(AuthorWithArticles, { slug: 'ada', limit: 'x' })).rejects.toThrow(
      /invalid variables: limit/,
    );
    expect(fake.calls).toBe(0);
  });
});

describe('sending and caching (fake GraphQL)', () => {
  it('posts the normalised document, variables and operation name with the token; validates data with the schema', async () => {
    fake = await startFakeGraphQL({ responder: () => adaAnswer });
    const strapi = clientFor(fake);
    const result = await strapi.graphql.query(AuthorWithArticles, vars);
    expect(result).toEqual({
      authors: [
        { documentId: 'author-ada', name: 'Ada', articles: ada.articles.map(({ __typename, ...a }) => a) },
      ],
    });
    const [request] = fake.requests;
    expect(request).toMatchObject({
      query: AuthorWithArticles.document,
      variables: vars,
      operationName: 'AuthorWithArticles',
    });
    expect(request!.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(() => {
      (result.authors as unknown[]).push(1);
    }).toThrow(TypeError); // frozen: shared by every caller
  });

  it('one call per document + variables: variable order does not matter, other variables are another entry (fake GraphQL)', async () => {
    fake = await startFakeGraphQL({ responder: () => adaAnswer });
    const strapi = clientFor(fake);
    await strapi.graphql.query(AuthorWithArticles, { slug: 'ada', limit: 2 });
    await strapi.graphql.query(AuthorWithArticles, { limit: 2, slug: 'ada' });
    expect(fake.calls).toBe(1);
    await strapi.graphql.query(AuthorWithArticles, { slug: 'ada', limit: 3 });
    expect(fake.calls).toBe(2);
    await strapi.graphql.query(AuthorWithArticles, vars, { cache: false });
    expect(fake.calls).toBe(3);
  });

  it('1,000 concurrent identical cold queries make 1 call, through L2 as well (fake GraphQL, real Redis)', async () => {
    fake = await startFakeGraphQL({ responder: () => adaAnswer });
    const redis = await useTestRedis('graphql-coalesce');
    cleanups.push(() => redis.cleanup());
    const strapi = clientFor(fake, { cache: { redisUrl: redis.url, prefix: redis.prefix } });
    expect(await strapi.ready()).toBe(true);
    const release = fake.hold();
    const reads = Array.from({ length: 1_000 }, () => strapi.graphql.query(AuthorWithArticles, vars));
    await fake.waitForInFlight(1);
    release();
    const results = await Promise.all(reads);
    expect(fake.calls).toBe(1);
    expect(new Set(results).size).toBe(1);

    // another instance on the same Redis answers from L2
    const other = clientFor(fake, { cache: { redisUrl: redis.url, prefix: redis.prefix } });
    expect(await other.ready()).toBe(true);
    const fromL2 = await other.graphql.query(AuthorWithArticles, vars);
    expect(fromL2).toEqual(results[0]);
    expect(fake.calls).toBe(1);
  });

  it('tags come from __typename/documentId: a change to any returned document or its type drops the answer, others keep it (fake GraphQL)', async () => {
    fake = await startFakeGraphQL({ responder: () => adaAnswer });
    const strapi = clientFor(fake);
    const read = () => strapi.graphql.query(AuthorWithArticles, vars);
    await read();
    await strapi.invalidateTags(['doc:articles:article-99', 'doc:authors:someone-else', 'type:subscribers']);
    await read();
    expect(fake.calls).toBe(1);
    for (const tag of ['doc:articles:article-2', 'doc:authors:author-ada', 'type:articles', 'type:authors']) {
      await strapi.invalidateTags([tag]);
      await read();
    }
    expect(fake.calls).toBe(5);
  });

  it("typeTag 'if-empty': a found author survives other documents' changes; an empty answer waits for its type (fake GraphQL)", async () => {
    fake = await startFakeGraphQL({
      responder: (req) => (req.variables.slug === 'ada' ? adaAnswer : { body: { data: { authors: [] } } }),
    });
    const strapi = clientFor(fake);
    const read = (slug: string) =>
      strapi.graphql.query(AuthorWithArticles, { slug, limit: 2 }, { typeTag: 'if-empty' });
    await read('ada');
    await read('nobody');
    expect(fake.calls).toBe(2);
    await strapi.invalidateTags(['type:articles']);
    await read('ada');
    await read('nobody');
    expect(fake.calls).toBe(2);
    await strapi.invalidateTags(['type:authors']); // an author was created: the empty lookup must ask again
    await read('ada');
    await read('nobody');
    expect(fake.calls).toBe(3);
  });

  it('an answer holding a document of an unmapped type is served but not cached, with one warning (fake GraphQL)', async () => {
    fake = await startFakeGraphQL({
      responder: () => ({
        body: {
          data: {
            authors: [{ ...ada, avatar: { __typename: 'UploadFile', documentId: 'f1', url: '/a.png' } }],
          },
        },
      }),
    });
    const warnings: string[] = [];
    const logger = {
      debug() {},
      info() {},
      error() {},
      warn: (_: object, msg?: string) => warnings.push(msg ?? ''),
    };
    const strapi = clientFor(fake, { logger });
    await strapi.graphql.query(AuthorWithArticles, vars);
    await strapi.graphql.query(AuthorWithArticles, vars);
    expect(fake.calls).toBe(2);
    expect(warnings.filter((w) => w.includes('graphql.types'))).toHaveLength(1);
    // named on the client, it caches
    const named = clientFor(fake, { graphql: { types: { UploadFile: 'files' } } });
    await named.graphql.query(AuthorWithArticles, vars);
    await named.graphql.query(AuthorWithArticles, vars);
    expect(fake.calls).toBe(3);
  });

  it('mutations are never cached nor retried, and invalidate what they return (fake GraphQL)', async () => {
    fake = await startFakeGraphQL({ responder: () => adaAnswer });
    const strapi = clientFor(fake, { retry: { maxAttempts: 2, initialDelayMs: 1, maxDelayMs: 2 } });
    await strapi.graphql.query(AuthorWithArticles, vars);
    const Rename = defineMutation({
      document:
        'mutation Rename($id: ID!, $title: String!) { updateArticle(documentId: $id, data: { title: $title }) { documentId title } }',
      variables: z.object({ id: z.string(), title: z.string() }),
      schema: z.object({ updateArticle: z.object({ documentId: z.string(), title: z.string() }) }),
      types: { Article: 'articles' },
    });
    fake.respond(() => ({ status: 503, body: { errors: [{ message: 'busy' }] } }));
    await expect(strapi.graphql.mutate(Rename, { id: 'article-1', title: 'New' })).rejects.toBeInstanceOf(
      StrapiUnavailableError,
    );
    expect(fake.calls).toBe(2); // no retry
    fake.respond(() => ({
      body: { data: { updateArticle: { __typename: 'Article', documentId: 'article-1', title: 'New' } } },
    }));
    expect(await strapi.graphql.mutate(Rename, { id: 'article-1', title: 'New' })).toEqual({
      updateArticle: { documentId: 'article-1', title: 'New' },
    });
    fake.respond(() => adaAnswer);
    await strapi.graphql.query(AuthorWithArticles, vars);
    expect(fake.calls).toBe(4); // the cached author answer contained article-1: dropped
  });
});

describe('GraphQL errors become the typed errors REST raises (fake GraphQL)', () => {
  const errorAnswer = (code: string, name?: string, extra: Record<string, unknown> = {}) => ({
    body: {
      data: null,
      errors: [
        {
          message: `${code} happened`,
          path: ['authors'],
          extensions: { code, ...(name ? { error: { name, message: 'x', details: extra } } : {}) },
        },
      ],
    },
  });

  it.each([
    ['FORBIDDEN', 'ForbiddenError', StrapiForbiddenError, 403],
    ['UNAUTHENTICATED', undefined, StrapiUnauthorizedError, 401],
    ['STRAPI_NOT_FOUND_ERROR', 'NotFoundError', StrapiNotFoundError, 404],
    ['BAD_USER_INPUT', 'ValidationError', StrapiValidationError, 400],
    ['STRAPI_APPLICATION_ERROR', 'ApplicationError', StrapiBadRequestError, 400],
    ['STRAPI_RATE_LIMIT_ERROR', 'RateLimitError', StrapiRateLimitedError, 429],
    ['INTERNAL_SERVER_ERROR', undefined, StrapiUnavailableError, 500],
  ] as const)('200 with %s → %s, status %s, not cached', async (code, name, ErrorClass, status) => {
    fake = await startFakeGraphQL({ responder: () => errorAnswer(code, name) });
    const strapi = clientFor(fake);
    const error = await strapi.graphql.query(AuthorWithArticles, vars).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ErrorClass);
    expect(error).toMatchObject({ status, method: 'POST', path: '/graphql' });
    expect((error as Error).message).toContain(`AuthorWithArticles failed: ${code} happened at authors`);
    expect((error as { details: GraphQLErrorDetails }).details).toMatchObject({
      operationName: 'AuthorWithArticles',
      partial: false,
      errors: [{ message: `${code} happened`, path: 'authors', code }],
    });
    expect((error as Error).message).not.toContain(TOKEN);
    fake.respond(() => adaAnswer);
    await strapi.graphql.query(AuthorWithArticles, vars);
    expect(fake.calls).toBe(2);
  });

  it('a validation error keeps Strapi’s issues and the unique-violation check', async () => {
    fake = await startFakeGraphQL({
      responder: () =>
        errorAnswer('BAD_USER_INPUT', 'ValidationError', {
          errors: [{ path: ['email'], message: 'This attribute must be unique', name: 'ValidationError' }],
        }),
    });
    const strapi = clientFor(fake);
    const error = (await strapi.graphql
      .query(AuthorWithArticles, vars)
      .catch((e: unknown) => e)) as StrapiValidationError;
    expect(error).toBeInstanceOf(StrapiValidationError);
    expect(error.issues).toEqual([{ path: 'email', message: 'This attribute must be unique' }]);
    expect(error.isUniqueViolation).toBe(true);
  });

  it('partial data (data and errors) is an error, never returned or cached as complete; a stale complete answer may stand in', async () => {
    const clock = manualClock();
    fake = await startFakeGraphQL({ responder: () => adaAnswer });
    const strapi = clientFor(fake, {
      now: clock.now,
      cache: { ttlMs: 1_000, graceMs: 60_000, staleWhileRevalidate: false },
    });
    const complete = await strapi.graphql.query(AuthorWithArticles, vars);
    clock.advance(2_000);
    const partial = {
      body: {
        data: { authors: [{ ...ada, articles: null }] },
        errors: [
          {
            message: 'Forbidden access',
            path: ['authors', 0, 'articles'],
            extensions: { code: 'FORBIDDEN' },
          },
        ],
      },
    };
    fake.respond(() => partial);
    // stale-if-error: the last complete answer, not the partial one
    expect(await strapi.graphql.query(AuthorWithArticles, vars)).toEqual(complete);
    // without a stale entry the partial answer is the typed error, with partial: true
    const error = (await strapi.graphql
      .query(AuthorWithArticles, { slug: 'ada', limit: 9 })
      .catch((e: unknown) => e)) as StrapiForbiddenError;
    expect(error).toBeInstanceOf(StrapiForbiddenError);
    expect(error.message).toContain('partial data discarded');
    expect((error.details as GraphQLErrorDetails).partial).toBe(true);
    expect((error.details as GraphQLErrorDetails).errors[0]!.path).toBe('authors.0.articles');
    const calls = fake.calls;
    await strapi.graphql.query(AuthorWithArticles, { slug: 'ada', limit: 9 }).catch(() => undefined);
    expect(fake.calls).toBe(calls + 1); // nothing was cached
  });

  it('400 for an invalid operation (e.g. over the depth limit) → StrapiBadRequestError, not retried, breaker untouched', async () => {
    fake = await startFakeGraphQL({
      responder: () => ({
        status: 400,
        body: {
          errors: [
            {
              message: "'AuthorWithArticles' exceeds maximum operation depth of 7",
              extensions: { code: 'GRAPHQL_VALIDATION_FAILED' },
            },
          ],
        },
      }),
    });
    const strapi = clientFor(fake, {
      retry: { maxAttempts: 2, initialDelayMs: 1, maxDelayMs: 2 },
      breaker: { threshold: 1 },
    });
    for (let i = 0; i < 3; i++) {
      const error = await strapi.graphql.query(AuthorWithArticles, vars).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(StrapiBadRequestError);
      expect((error as Error).message).toContain('maximum operation depth');
    }
    expect(fake.calls).toBe(3);
    expect(strapi.status().breaker).toBe('closed');
  });

  it('no GraphQL endpoint (404) is a clear configuration error, never "not found" (fake Strapi without GraphQL)', async () => {
    const strapi = await startFakeStrapi({ collections: { authors: [] } });
    cleanups.push(() => strapi.close());
    const client = createStrapiClient({ baseUrl: strapi.url, retry: { maxAttempts: 0 } });
    clients.push(client);
    const error = await client.graphql.query(AuthorWithArticles, vars).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StrapiHttpError);
    expect(error).not.toBeInstanceOf(StrapiNotFoundError);
    expect((error as Error).message).toContain('is the GraphQL plugin enabled');
  });

  it('REST and GraphQL on one fake Strapi share its faults and counters (fake Strapi: scripted GraphQL, 503)', async () => {
    const strapi = await startFakeStrapi({
      token: TOKEN,
      collections: { authors: [{ documentId: 'author-ada', name: 'Ada' }] },
      graphql: (request, store) => ({
        body: {
          data: {
            authors: store
              .documents('authors')
              .filter(() => request.variables.slug === 'ada')
              .map((a) => ({ __typename: 'Author', documentId: a.documentId, name: a.name, articles: [] })),
          },
        },
      }),
    });
    cleanups.push(() => strapi.close());
    const client = createStrapiClient({ baseUrl: strapi.url, token: TOKEN, retry: { maxAttempts: 0 } });
    clients.push(client);
    strapi.setFault({ kind: 'status', status: 503 }, 1);
    await expect(client.graphql.query(AuthorWithArticles, vars)).rejects.toBeInstanceOf(
      StrapiUnavailableError,
    );
    expect(await client.graphql.query(AuthorWithArticles, vars)).toEqual({
      authors: [{ documentId: 'author-ada', name: 'Ada', articles: [] }],
    });
    expect(strapi.apiCalls).toBe(2);
  });

  it("Strapi's REST-style 401 (no or unknown token) → StrapiUnauthorizedError", async () => {
    fake = await startFakeGraphQL({
      responder: () => ({
        status: 401,
        body: {
          data: null,
          error: { status: 401, name: 'UnauthorizedError', message: 'Missing or invalid credentials' },
        },
      }),
    });
    const error = await clientFor(fake)
      .graphql.query(AuthorWithArticles, vars)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StrapiUnauthorizedError);
    expect((error as Error).message).toContain('Missing or invalid credentials');
  });

  it('answers without a data object, or data that fails the schema → StrapiBadResponseError, not cached', async () => {
    fake = await startFakeGraphQL({ responder: () => ({ body: { data: null } }) });
    const strapi = clientFor(fake);
    await expect(strapi.graphql.query(AuthorWithArticles, vars)).rejects.toBeInstanceOf(
      StrapiBadResponseError,
    );
    fake.respond(() => ({
      body: { data: { authors: [{ __typename: 'Author', documentId: 'a', name: 7 }] } },
    }));
    const error = (await strapi.graphql
      .query(AuthorWithArticles, vars)
      .catch((e: unknown) => e)) as StrapiBadResponseError;
    expect(error).toBeInstanceOf(StrapiBadResponseError);
    expect(error.issues.map((i) => i.path)).toContain('data.authors.0.name');
    fake.respond(() => ({ body: 'not json', headers: { 'content-type': 'text/plain' } }));
    await expect(strapi.graphql.query(AuthorWithArticles, vars)).rejects.toBeInstanceOf(
      StrapiBadResponseError,
    );
    expect(fake.calls).toBe(3);
  });
});

describe('resilience is the REST policies (fake GraphQL)', () => {
  it('queries are retried on 503/429 with Retry-After, like GETs', async () => {
    fake = await startFakeGraphQL({
      responder: (_req, call) =>
        call === 1
          ? { status: 503, body: 'busy' }
          : call === 2
            ? { status: 429, headers: { 'retry-after': '0' }, body: { errors: [{ message: 'slow down' }] } }
            : adaAnswer,
    });
    const strapi = clientFor(fake, { retry: { maxAttempts: 2, initialDelayMs: 1, maxDelayMs: 5 } });
    expect((await strapi.graphql.query(AuthorWithArticles, vars)).authors).toHaveLength(1);
    expect(fake.calls).toBe(3);
  });

  it('resolver failures (200 + INTERNAL_SERVER_ERROR) count towards the breaker; once open nothing is sent', async () => {
    fake = await startFakeGraphQL({
      responder: () => ({
        body: {
          data: null,
          errors: [{ message: 'Internal Server Error', extensions: { code: 'INTERNAL_SERVER_ERROR' } }],
        },
      }),
    });
    const strapi = clientFor(fake, { breaker: { threshold: 2, halfOpenAfterMs: 60_000 } });
    for (let i = 0; i < 2; i++) {
      await expect(strapi.graphql.query(AuthorWithArticles, vars)).rejects.toBeInstanceOf(
        StrapiUnavailableError,
      );
    }
    await expect(strapi.graphql.query(AuthorWithArticles, vars)).rejects.toBeInstanceOf(
      StrapiCircuitOpenError,
    );
    // the breaker is the client's: REST reads are refused too
    await expect(strapi.collection('articles').find(undefined, z.any())).rejects.toBeInstanceOf(
      StrapiCircuitOpenError,
    );
    expect(fake.calls).toBe(2);
  });

  it('the per-request timeout applies (fake GraphQL: hangs)', async () => {
    fake = await startFakeGraphQL({ responder: () => ({ kind: 'hang' }) });
    const strapi = clientFor(fake, { timeoutMs: 200 });
    const error = await strapi.graphql.query(AuthorWithArticles, vars).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StrapiTimeoutError);
    expect(error).toMatchObject({ timeoutMs: 200, path: '/graphql' });
  });

  it('GraphQL and REST share the concurrency cap (fake GraphQL)', async () => {
    fake = await startFakeGraphQL({ responder: () => adaAnswer });
    const strapi = clientFor(fake, { maxConcurrency: 2, maxQueue: 0 });
    const release = fake.hold();
    const first = strapi.graphql.query(AuthorWithArticles, { slug: 'a', limit: 1 });
    const second = strapi.graphql.query(AuthorWithArticles, { slug: 'b', limit: 1 });
    await fake.waitForInFlight(2);
    await expect(strapi.graphql.query(AuthorWithArticles, { slug: 'c', limit: 1 })).rejects.toMatchObject({
      code: 'STRAPI_OVERLOADED',
    });
    release();
    await Promise.all([first, second]);
    expect(fake.calls).toBe(2);
  });

  it('events name the operation: upstream POST /graphql and cache hit/miss with type graphql:<name>', async () => {
    fake = await startFakeGraphQL({ responder: () => adaAnswer });
    const strapi = clientFor(fake);
    const cache: string[] = [];
    const upstream: Array<{ method: string; path: string; type: string; status?: number }> = [];
    strapi.on('cache', (e) => cache.push(`${e.result}:${e.type}`));
    strapi.on('upstream', (e) => upstream.push(e));
    await strapi.graphql.query(AuthorWithArticles, vars);
    await strapi.graphql.query(AuthorWithArticles, vars);
    expect(cache).toEqual(['miss:graphql:AuthorWithArticles', 'hit:graphql:AuthorWithArticles']);
    expect(upstream).toMatchObject([
      { method: 'POST', path: '/graphql', type: 'graphql:AuthorWithArticles', status: 200 },
    ]);
  });
});
