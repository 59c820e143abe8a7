import { describe, expect, it } from 'vitest';
import {
  ApiError,
  CreateSubscriberBody,
  ERRORS,
  ErrorEnvelope,
  errorBody,
  LIMITS,
  ListArticlesQuery,
  routes,
  Slug,
  validationErrorBody,
} from '../src/index.ts';

describe('ListArticlesQuery', () => {
  it('applies the defaults from LIMITS', () => {
    expect(ListArticlesQuery.parse({})).toEqual({
      page: 1,
      pageSize: LIMITS.defaultPageSize,
      sort: 'publishedAt:desc',
    });
  });

  it.each([
    [{ page: '0' }, 'page'],
    [{ page: '-1' }, 'page'],
    [{ page: 'NaN' }, 'page'],
    [{ page: '1.5' }, 'page'],
    [{ page: ['1', '2'] }, 'page'],
    [{ pageSize: '101' }, 'pageSize'],
    [{ sort: 'id:asc' }, 'sort'],
    [{ q: 'x'.repeat(201) }, 'q'],
    [{ author: '../admin' }, 'author'],
    [{ q: 'a\u0000b' }, 'q'],
    [{ q: 'line\r\nbreak' }, 'q'],
    [{ unknown: '1' }, '(root)'],
  ])('rejects %j at %s', (query, path) => {
    const result = ListArticlesQuery.safeParse(query);
    expect(result.success).toBe(false);
    const body = validationErrorBody('query', result.error!);
    expect(body.error.status).toBe(422);
    expect(body.error.issues?.[0]?.path).toBe(path);
  });

  it('coerces numeric strings', () => {
    expect(ListArticlesQuery.parse({ page: '3', pageSize: '10', q: ' cache ' })).toMatchObject({
      page: 3,
      pageSize: 10,
      q: 'cache',
    });
  });
});

describe('Slug and subscriber body', () => {
  it.each(['a', 'hello-world', 'v2-release-42'])('accepts slug %s', (slug) => {
    expect(Slug.safeParse(slug).success).toBe(true);
  });
  it.each(['', 'Hello', 'a--b', '-a', 'a/b', '..', 'a b', 'é'])('rejects slug %j', (slug) => {
    expect(Slug.safeParse(slug).success).toBe(false);
  });
  it('lower-cases email and refuses unknown fields', () => {
    expect(CreateSubscriberBody.parse({ email: 'Ann@Example.COM' }).email).toBe('ann@example.com');
    expect(CreateSubscriberBody.safeParse({ email: 'a@b.co', admin: true }).success).toBe(false);
    expect(CreateSubscriberBody.safeParse({ email: 'not-an-email' }).success).toBe(false);
  });
});

describe('error envelope', () => {
  it('every code builds a valid envelope with its status', () => {
    for (const code of Object.keys(ERRORS) as Array<keyof typeof ERRORS>) {
      const body = errorBody(code);
      expect(ErrorEnvelope.parse(body)).toEqual(body);
      expect(body.error.status).toBe(ERRORS[code].status);
    }
  });
  it('ApiError carries the envelope', () => {
    const error = new ApiError('CONFLICT', { message: 'Already subscribed.' });
    expect(error.status).toBe(409);
    expect(error.body).toEqual({ error: { status: 409, code: 'CONFLICT', message: 'Already subscribed.' } });
  });
});

describe('route catalogue', () => {
  it('has unique method+path pairs and documents only error statuses', () => {
    const keys = Object.values(routes).map((r) => `${r.method} ${r.path}`);
    expect(new Set(keys).size).toBe(keys.length);
    for (const route of Object.values(routes)) {
      for (const status of route.errors) expect(status).toBeGreaterThanOrEqual(400);
    }
  });
});
