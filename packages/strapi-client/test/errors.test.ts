import { afterEach, describe, expect, it } from 'vitest';
import {
  createStrapiClient,
  errorFromResponse,
  parseRetryAfter,
  StrapiConfigError,
  StrapiError,
  type StrapiValidationError,
  webhookTags,
} from '../src/index.ts';
import { type FakeStrapi, startFakeStrapi } from '../src/testing/index.ts';
import { articleSchema, clientFor, closeClients, TOKEN } from './helpers.ts';

let fake: FakeStrapi | undefined;
afterEach(async () => {
  await closeClients();
  await fake?.close();
  fake = undefined;
});

const ctx = { method: 'GET', path: '/api/articles', retryAfter: null };
const env = (status: number, name: string, details: unknown = {}) => ({
  data: null,
  error: { status, name, message: `${name} happened`, details },
});

describe('error envelope → typed errors', () => {
  const cases: Array<[number, string, string]> = [
    [400, 'ValidationError', 'STRAPI_VALIDATION'],
    [400, 'BadRequestError', 'STRAPI_BAD_REQUEST'],
    [401, 'UnauthorizedError', 'STRAPI_UNAUTHORIZED'],
    [403, 'ForbiddenError', 'STRAPI_FORBIDDEN'],
    [404, 'NotFoundError', 'STRAPI_NOT_FOUND'],
    [429, 'TooManyRequestsError', 'STRAPI_RATE_LIMITED'],
    [500, 'InternalServerError', 'STRAPI_UNAVAILABLE'],
    [503, 'ServiceUnavailableError', 'STRAPI_UNAVAILABLE'],
    [405, 'MethodNotAllowedError', 'STRAPI_HTTP_ERROR'],
  ];
  for (const [status, name, code] of cases) {
    it(`${status} ${name} → ${code}`, () => {
      const error = errorFromResponse(status, env(status, name), ctx);
      expect(error).toBeInstanceOf(StrapiError);
      expect(error).toMatchObject({ code, status, strapiName: name, method: 'GET', path: '/api/articles' });
      expect(error.message).toContain(`${name} happened`);
    });
  }

  it('keeps validation details and spots unique violations', () => {
    const error = errorFromResponse(
      400,
      env(400, 'ValidationError', {
        errors: [{ path: ['email'], message: 'This attribute must be unique' }],
      }),
      ctx,
    ) as StrapiValidationError;
    expect(error.issues).toEqual([{ path: 'email', message: 'This attribute must be unique' }]);
    expect(error.isUniqueViolation).toBe(true);
  });

  it('handles a non-Strapi body', () => {
    expect(errorFromResponse(502, undefined, ctx)).toMatchObject({ code: 'STRAPI_UNAVAILABLE', status: 502 });
  });

  it('parses Retry-After seconds and dates', () => {
    expect(parseRetryAfter('3')).toBe(3_000);
    expect(parseRetryAfter(new Date(10_000).toUTCString(), 4_000)).toBe(6_000);
    expect(parseRetryAfter('soon')).toBeUndefined();
  });
});

describe('token hygiene', () => {
  it('sends the token as a Bearer header and never puts it in errors or events (fake Strapi: 401, 500)', async () => {
    fake = await startFakeStrapi({ collections: { articles: [] }, token: 'other-token' });
    const logged: string[] = [];
    const log = (obj: object, msg?: string) => logged.push(JSON.stringify(obj) + (msg ?? ''));
    const strapi = clientFor(fake, { logger: { debug: log, info: log, warn: log, error: log } });
    const seen: string[] = [];
    strapi.on('upstream', (event) => seen.push(JSON.stringify(event)));
    const unauthorized = await strapi
      .collection('articles')
      .find(undefined, articleSchema)
      .catch((e: unknown) => e);
    expect(unauthorized).toMatchObject({ code: 'STRAPI_UNAUTHORIZED' });
    fake.setFault({ kind: 'status', status: 500 });
    const failed = await strapi
      .collection('articles')
      .find(undefined, articleSchema, { cache: false })
      .catch((e: unknown) => e);
    expect(fake.requests[0]!.headers.authorization).toBe(`Bearer ${TOKEN}`);
    for (const error of [unauthorized, failed]) {
      const text = `${String(error)} ${JSON.stringify(error)} ${(error as Error).stack}`;
      expect(text).not.toContain(TOKEN);
    }
    expect(seen.join()).not.toContain(TOKEN);
    expect(logged.join()).not.toContain(TOKEN);
    expect(JSON.stringify(strapi.options)).not.toContain(TOKEN);
  });
});

describe('options', () => {
  it('rejects invalid options up front with every problem listed', () => {
    const error = (() => {
      try {
        createStrapiClient({ baseUrl: 'not a url', timeoutMs: -1, cache: { ttlMs: 0, bogus: 1 } as never });
      } catch (e) {
        return e;
      }
    })() as StrapiConfigError;
    expect(error).toBeInstanceOf(StrapiConfigError);
    expect(error.code).toBe('STRAPI_INVALID_OPTIONS');
    expect(error.issues.map((i) => i.path).sort()).toEqual(['baseUrl', 'cache', 'cache.ttlMs', 'timeoutMs']);
  });

  it('fills documented defaults', () => {
    const strapi = createStrapiClient({ baseUrl: 'http://127.0.0.1:1337' });
    expect(strapi.options).toMatchObject({
      apiPrefix: '/api',
      timeoutMs: 5_000,
      retry: { maxAttempts: 2, initialDelayMs: 100, maxDelayMs: 2_000, maxRetryAfterMs: 5_000 },
      breaker: { threshold: 5, halfOpenAfterMs: 10_000 },
      maxConcurrency: 32,
      maxQueue: 1_000,
      cache: {
        enabled: true,
        ttlMs: 30_000,
        graceMs: 600_000,
        l1MaxItems: 5_000,
        staleWhileRevalidate: true,
      },
    });
    expect(strapi.status().redis).toBe('disabled');
    return strapi.close();
  });

  it('fails calls after close', async () => {
    const strapi = createStrapiClient({ baseUrl: 'http://127.0.0.1:1337' });
    await strapi.close();
    await expect(strapi.collection('articles').find(undefined, articleSchema)).rejects.toMatchObject({
      code: 'STRAPI_CLIENT_CLOSED',
    });
  });
});

describe('webhookTags', () => {
  const resolve = (uid: string) => ({ 'api::article.article': 'articles', article: 'articles' })[uid];
  it('maps entry events to type + doc tags', () => {
    for (const event of [
      'entry.create',
      'entry.update',
      'entry.delete',
      'entry.publish',
      'entry.unpublish',
    ]) {
      expect(
        webhookTags(
          { event, model: 'article', uid: 'api::article.article', entry: { documentId: 'abc' } },
          resolve,
        ),
      ).toEqual(['type:articles', 'doc:articles:abc']);
    }
  });
  it('ignores media events and types that are not cached', () => {
    expect(webhookTags({ event: 'media.create', entry: { documentId: 'x' } }, resolve)).toEqual([]);
    expect(
      webhookTags({ event: 'entry.update', uid: 'api::tag.tag', entry: { documentId: 'x' } }, resolve),
    ).toEqual([]);
  });
  it('falls back to the model name', () => {
    expect(webhookTags({ event: 'entry.create', model: 'article', entry: {} }, resolve)).toEqual([
      'type:articles',
    ]);
  });
});

describe('redaction', () => {
  it('does not expose a Redis password in options', async () => {
    const strapi = createStrapiClient({
      baseUrl: 'http://127.0.0.1:1337',
      cache: { redisUrl: 'redis://user:hunter2@127.0.0.1:1' },
    });
    expect(JSON.stringify(strapi.options)).not.toContain('hunter2');
    await strapi.close();
  });
});
