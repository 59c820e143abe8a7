import { errorBody, HEADERS, LIMITS } from '@pilot/contracts';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../src/index.ts';
import { type TestDeps, testDeps } from './helpers.ts';

const JSON_TYPE = HEADERS.contentType;

describe('modern app (inject, memory content)', () => {
  let deps: TestDeps;
  let app: FastifyInstance;
  let slug: string;

  beforeAll(async () => {
    deps = testDeps();
    app = createApp(deps);
    await app.ready();
    slug = deps.content.seed.articles.find((a) => a.publishedAt !== null)?.slug as string;
  });
  afterAll(async () => {
    await app.close();
  });

  describe('GET /articles', () => {
    it('answers a page with pagination, public cache headers and the contract content type', async () => {
      const res = await app.inject('/articles?pageSize=3&sort=title:asc');
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toBe(JSON_TYPE);
      expect(res.headers['cache-control']).toBe(HEADERS.publicReadCacheControl);
      const body = res.json();
      expect(body.data).toHaveLength(3);
      expect(body.meta.pagination).toMatchObject({ page: 1, pageSize: 3 });
      expect(body).toEqual(await deps.content.listArticles({ page: 1, pageSize: 3, sort: 'title:asc' }));
    });

    it('rejects a bad query with 422 and the zod issues, not cacheable', async () => {
      const res = await app.inject('/articles?page=0&pageSize=1000');
      expect(res.statusCode).toBe(422);
      expect(res.headers['cache-control']).toBe(HEADERS.privateCacheControl);
      expect(res.json()).toEqual({
        error: {
          status: 422,
          code: 'VALIDATION_FAILED',
          message: 'Invalid query parameters.',
          issues: [
            { path: 'page', message: expect.any(String) },
            { path: 'pageSize', message: expect.any(String) },
          ],
        },
      });
    });

    it('rejects unknown query keys (strict contract)', async () => {
      const res = await app.inject('/articles?color=red');
      expect(res.statusCode).toBe(422);
      expect(res.json().error.issues[0].path).toBe('(root)');
    });
  });

  describe('GET /articles/:slug', () => {
    it('answers the article', async () => {
      const res = await app.inject(`/articles/${slug}`);
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({ data: await deps.content.getArticle(slug) });
      expect(res.headers['cache-control']).toBe(HEADERS.publicReadCacheControl);
    });

    it('answers 404 in the envelope for an unknown slug', async () => {
      const res = await app.inject('/articles/no-such-article');
      expect(res.statusCode).toBe(404);
      expect(res.headers['content-type']).toBe(JSON_TYPE);
      expect(res.json()).toEqual(errorBody('NOT_FOUND', { message: 'No article with this slug.' }));
    });

    it('answers 422 for a slug that breaks the contract (params are validated first)', async () => {
      const res = await app.inject('/articles/Not_A_Slug?page=0');
      expect(res.statusCode).toBe(422);
      expect(res.json().error.message).toBe('Invalid path parameters.');
    });

    it('validates a 201-character slug (the router does not cut it off as 404)', async () => {
      const res = await app.inject(`/articles/${'a'.repeat(LIMITS.maxSlugLength + 1)}`);
      expect(res.statusCode).toBe(422);
    });
  });

  describe('POST /subscribers', () => {
    const post = (
      payload: unknown,
      headers: Record<string, string> = { 'content-type': 'application/json' },
    ) =>
      app.inject({
        method: 'POST',
        url: '/subscribers',
        headers,
        payload: typeof payload === 'string' ? payload : JSON.stringify(payload),
      });

    it('creates a subscriber (201), and a duplicate is 409', async () => {
      const res = await post({ email: 'New.Reader@Example.com', name: ' Reader ' });
      expect(res.statusCode).toBe(201);
      expect(res.headers['cache-control']).toBe(HEADERS.privateCacheControl);
      expect(res.json().data).toMatchObject({ email: 'new.reader@example.com', name: 'Reader' });
      const again = await post({ email: 'new.reader@example.com' });
      expect(again.statusCode).toBe(409);
      expect(again.json().error.code).toBe('CONFLICT');
    });

    it.each([
      ['malformed JSON', '{"email":', 400, 'MALFORMED_JSON'],
      ['a JSON string (strict like express.json)', '"a@example.com"', 400, 'MALFORMED_JSON'],
      ['an invalid email', { email: 'nope' }, 422, 'VALIDATION_FAILED'],
      ['an unknown field', { email: 'a@example.com', admin: true }, 422, 'VALIDATION_FAILED'],
      ['an empty body', '', 422, 'VALIDATION_FAILED'],
    ])('rejects %s', async (_name, payload, status, code) => {
      const res = await post(payload);
      expect(res.statusCode).toBe(status);
      expect(res.headers['content-type']).toBe(JSON_TYPE);
      expect(res.json().error).toMatchObject({ status, code });
    });

    it('rejects a body over the limit with 413', async () => {
      const res = await post({ email: `${'a'.repeat(LIMITS.bodyLimitBytes)}@example.com` });
      expect(res.statusCode).toBe(413);
      expect(res.json()).toEqual(errorBody('PAYLOAD_TOO_LARGE'));
    });

    it('rejects another media type with 415', async () => {
      for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'application/xml']) {
        const res = await post('email=a@example.com', { 'content-type': type });
        expect(res.statusCode, type).toBe(415);
        expect(res.json()).toEqual(errorBody('UNSUPPORTED_MEDIA_TYPE'));
      }
    });
  });

  describe('auth', () => {
    const login = (body: unknown) =>
      app.inject({ method: 'POST', url: '/auth/login', payload: body as object });

    it('logs in, reads /me with the access token, and rotates the refresh token', async () => {
      const res = await login({ username: 'demo', password: 'demo-password' });
      expect(res.statusCode).toBe(200);
      expect(res.headers['cache-control']).toBe(HEADERS.privateCacheControl);
      const tokens = res.json();
      expect(tokens).toMatchObject({ tokenType: 'Bearer', expiresIn: LIMITS.accessTokenTtlSeconds });

      const me = await app.inject({ url: '/me', headers: { authorization: `Bearer ${tokens.accessToken}` } });
      expect(me.statusCode).toBe(200);
      expect(me.json()).toEqual({ data: { id: 'user-demo', username: 'demo', name: 'Demo User' } });

      const refreshed = await app.inject({
        method: 'POST',
        url: '/auth/refresh',
        payload: { refreshToken: tokens.refreshToken },
      });
      expect(refreshed.statusCode).toBe(200);
      const reused = await app.inject({
        method: 'POST',
        url: '/auth/refresh',
        payload: { refreshToken: tokens.refreshToken },
      });
      expect(reused.statusCode).toBe(401);
      expect(reused.json().error.code).toBe('REFRESH_TOKEN_REUSED');
    });

    it('answers wrong credentials 401 and a bad login body 422', async () => {
      const wrong = await login({ username: 'demo', password: 'wrong' });
      expect(wrong.statusCode).toBe(401);
      expect(wrong.json().error.code).toBe('INVALID_CREDENTIALS');
      const bad = await login({ username: '' });
      expect(bad.statusCode).toBe(422);
    });

    it('answers /me without or with a bad token 401', async () => {
      expect((await app.inject('/me')).json()).toEqual(errorBody('UNAUTHORIZED'));
      const bad = await app.inject({ url: '/me', headers: { authorization: 'Bearer not-a-jwt' } });
      expect(bad.statusCode).toBe(401);
      expect(bad.json().error.code).toBe('INVALID_TOKEN');
    });
  });

  describe('operations', () => {
    it('GET /health', async () => {
      const res = await app.inject('/health');
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({ status: 'ok' });
    });

    it('GET /ready follows content.health()', async () => {
      expect((await app.inject('/ready')).json()).toEqual({
        status: 'ready',
        checks: { strapi: 'up', redis: 'disabled' },
      });
      deps.content.setHealth({ strapi: 'down', redis: 'up' });
      try {
        const res = await app.inject('/ready');
        expect(res.statusCode).toBe(503);
        expect(res.json()).toEqual(
          errorBody('NOT_READY', { details: { checks: { strapi: 'down', redis: 'up' } } }),
        );
      } finally {
        deps.content.setHealth({ strapi: 'up', redis: 'disabled' });
      }
    });

    it('GET /metrics counts requests by route pattern, never by raw URL', async () => {
      await app.inject(`/articles/${slug}`);
      await app.inject('/no/such/route/12345');
      const res = await app.inject('/metrics');
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toMatch(/^text\/plain/);
      expect(res.body).toContain(
        'http_requests_total{method="GET",route="/articles/:slug",status="200",service="modern"}',
      );
      expect(res.body).toContain('route="unmatched",status="404"');
      expect(res.body).not.toContain(slug);
      expect(res.body).not.toContain('12345');
    });
  });

  describe('errors and headers of every answer', () => {
    it('unknown route → 404 envelope, whatever the method', async () => {
      for (const method of ['GET', 'POST', 'DELETE'] as const) {
        const res = await app.inject({ method, url: '/nope' });
        expect(res.statusCode).toBe(404);
        expect(res.headers['content-type']).toBe(JSON_TYPE);
        expect(res.json()).toEqual(errorBody('NOT_FOUND'));
      }
    });

    it('URL longer than LIMITS.maxUrlLength → 414, on known and unknown routes', async () => {
      for (const url of [
        `/articles?q=${'a'.repeat(LIMITS.maxUrlLength)}`,
        `/${'x'.repeat(LIMITS.maxUrlLength)}`,
      ]) {
        const res = await app.inject(url);
        expect(res.statusCode).toBe(414);
        expect(res.json()).toEqual(errorBody('URI_TOO_LONG'));
      }
    });

    it('matches URLs like Express: trailing slash and case ignored', async () => {
      expect((await app.inject('/articles/')).statusCode).toBe(200);
      expect((await app.inject('/HEALTH')).statusCode).toBe(200);
    });

    it('honours a well-formed X-Request-Id, replaces a malformed one, and never sends x-powered-by or an ETag', async () => {
      const given = await app.inject({ url: '/health', headers: { 'x-request-id': 'abc-123' } });
      expect(given.headers['x-request-id']).toBe('abc-123');
      const bad = await app.inject({ url: '/nope', headers: { 'x-request-id': 'has spaces!' } });
      expect(bad.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
      for (const res of [given, bad]) {
        expect(res.headers['x-powered-by']).toBeUndefined();
        expect(res.headers.etag).toBeUndefined();
      }
    });

    it('an unexpected failure is a generic 500 envelope (details only in the log)', async () => {
      const original = deps.content.listArticles;
      deps.content.listArticles = async () => {
        throw new Error('secret internal detail');
      };
      try {
        const res = await app.inject('/articles');
        expect(res.statusCode).toBe(500);
        expect(res.json()).toEqual(errorBody('INTERNAL'));
        expect(res.body).not.toContain('secret');
      } finally {
        deps.content.listArticles = original;
      }
    });

    it('an ApiError from a dependency (503, 504) passes through as is', async () => {
      const { ApiError } = await import('@pilot/contracts');
      const original = deps.content.getArticle;
      deps.content.getArticle = async () => {
        throw new ApiError('UPSTREAM_TIMEOUT');
      };
      try {
        const res = await app.inject(`/articles/${slug}`);
        expect(res.statusCode).toBe(504);
        expect(res.json()).toEqual(errorBody('UPSTREAM_TIMEOUT'));
      } finally {
        deps.content.getArticle = original;
      }
    });
  });
});
