import { ErrorEnvelope, LIMITS } from '@pilot/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeTestRedis, raw, startApp, type TestApp } from './helpers.ts';

/**
 * The bad-input table: whatever a client sends, the answer is a 4xx in the one envelope with
 * the contract's content type. Never a 5xx, never a crash (the app still answers afterwards).
 * Requests go out raw (node:http), so paths are not normalised by the client.
 */
let app: TestApp;
beforeAll(async () => {
  app = await startApp();
});
afterAll(async () => {
  await app.close();
  await closeTestRedis();
});

interface BadCase {
  name: string;
  method?: string;
  path: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  status: number;
  code: string;
}

const JSON_TYPE = { 'content-type': 'application/json' };
const huge = JSON.stringify({ email: 'a@b.co', name: 'x'.repeat(LIMITS.bodyLimitBytes) });
const token = (value: string) => ({ authorization: `Bearer ${value}` });

const cases: BadCase[] = [
  // malformed JSON and wrong types
  {
    name: 'truncated JSON',
    method: 'POST',
    path: '/subscribers',
    headers: JSON_TYPE,
    body: '{"email":',
    status: 400,
    code: 'MALFORMED_JSON',
  },
  {
    name: 'JSON with a trailing comma',
    method: 'POST',
    path: '/auth/login',
    headers: JSON_TYPE,
    body: '{"username":"demo",}',
    status: 400,
    code: 'MALFORMED_JSON',
  },
  {
    name: 'a bare JSON string',
    method: 'POST',
    path: '/subscribers',
    headers: JSON_TYPE,
    body: '"a@b.co"',
    status: 400,
    code: 'MALFORMED_JSON',
  },
  {
    name: 'JSON null',
    method: 'POST',
    path: '/auth/refresh',
    headers: JSON_TYPE,
    body: 'null',
    status: 400,
    code: 'MALFORMED_JSON',
  },
  {
    name: 'not JSON at all',
    method: 'POST',
    path: '/auth/login',
    headers: JSON_TYPE,
    body: '<xml/>',
    status: 400,
    code: 'MALFORMED_JSON',
  },
  {
    name: 'invalid UTF-8 in JSON',
    method: 'POST',
    path: '/subscribers',
    headers: JSON_TYPE,
    body: Buffer.concat([Buffer.from('{"email":"'), Buffer.from([0xff, 0xfe]), Buffer.from('@b.co"}')]),
    status: 422,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'a JSON array body',
    method: 'POST',
    path: '/auth/login',
    headers: JSON_TYPE,
    body: '[]',
    status: 422,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'email as a number',
    method: 'POST',
    path: '/subscribers',
    headers: JSON_TYPE,
    body: '{"email":42}',
    status: 422,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'email as an array',
    method: 'POST',
    path: '/subscribers',
    headers: JSON_TYPE,
    body: '{"email":["a@b.co"]}',
    status: 422,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'password as an object',
    method: 'POST',
    path: '/auth/login',
    headers: JSON_TYPE,
    body: '{"username":"demo","password":{"$ne":""}}',
    status: 422,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'prototype pollution attempt',
    method: 'POST',
    path: '/auth/login',
    headers: JSON_TYPE,
    body: '{"username":"demo","password":"x","__proto__":{"admin":true}}',
    status: 422,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'deeply nested JSON',
    method: 'POST',
    path: '/subscribers',
    headers: JSON_TYPE,
    body: `${'['.repeat(2000)}${']'.repeat(2000)}`,
    status: 422,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'refresh token of 2 kB',
    method: 'POST',
    path: '/auth/refresh',
    headers: JSON_TYPE,
    body: JSON.stringify({ refreshToken: 'x'.repeat(2048) }),
    status: 422,
    code: 'VALIDATION_FAILED',
  },
  // size and media type limits
  {
    name: 'a body over the limit',
    method: 'POST',
    path: '/subscribers',
    headers: JSON_TYPE,
    body: huge,
    status: 413,
    code: 'PAYLOAD_TOO_LARGE',
  },
  {
    name: 'a body over the limit (login)',
    method: 'POST',
    path: '/auth/login',
    headers: JSON_TYPE,
    body: huge,
    status: 413,
    code: 'PAYLOAD_TOO_LARGE',
  },
  {
    name: 'text/plain',
    method: 'POST',
    path: '/subscribers',
    headers: { 'content-type': 'text/plain' },
    body: '{"email":"a@b.co"}',
    status: 415,
    code: 'UNSUPPORTED_MEDIA_TYPE',
  },
  {
    name: 'a body without content type',
    method: 'POST',
    path: '/auth/login',
    body: '{"username":"a","password":"b"}',
    status: 415,
    code: 'UNSUPPORTED_MEDIA_TYPE',
  },
  {
    name: 'multipart',
    method: 'POST',
    path: '/subscribers',
    headers: { 'content-type': 'multipart/form-data; boundary=x' },
    body: '--x--',
    status: 415,
    code: 'UNSUPPORTED_MEDIA_TYPE',
  },
  {
    name: 'JSON in latin1',
    method: 'POST',
    path: '/subscribers',
    headers: { 'content-type': 'application/json; charset=latin1' },
    body: '{}',
    status: 415,
    code: 'UNSUPPORTED_MEDIA_TYPE',
  },
  {
    name: 'an unknown content encoding',
    method: 'POST',
    path: '/subscribers',
    headers: { ...JSON_TYPE, 'content-encoding': 'zstd-ish' },
    body: '{}',
    status: 415,
    code: 'UNSUPPORTED_MEDIA_TYPE',
  },
  {
    name: 'gzip that is not gzip',
    method: 'POST',
    path: '/subscribers',
    headers: { ...JSON_TYPE, 'content-encoding': 'gzip' },
    body: '{"email":"a@b.co"}',
    status: 400,
    code: 'BAD_REQUEST',
  },
  {
    name: 'a URL over the limit',
    path: `/articles?q=${'a'.repeat(LIMITS.maxUrlLength)}`,
    status: 414,
    code: 'URI_TOO_LONG',
  },
  {
    name: 'a URL over the limit on an unknown route',
    path: `/x/${'a'.repeat(LIMITS.maxUrlLength)}`,
    status: 414,
    code: 'URI_TOO_LONG',
  },
  // paging
  { name: 'negative page', path: '/articles?page=-1', status: 422, code: 'VALIDATION_FAILED' },
  { name: 'NaN page', path: '/articles?page=NaN', status: 422, code: 'VALIDATION_FAILED' },
  { name: 'Infinity pageSize', path: '/articles?pageSize=Infinity', status: 422, code: 'VALIDATION_FAILED' },
  { name: 'fractional page', path: '/articles?page=1.5', status: 422, code: 'VALIDATION_FAILED' },
  {
    name: 'page beyond the maximum',
    path: `/articles?page=${LIMITS.maxPage + 1}`,
    status: 422,
    code: 'VALIDATION_FAILED',
  },
  { name: 'empty page', path: '/articles?page=', status: 422, code: 'VALIDATION_FAILED' },
  { name: 'page twice', path: '/articles?page=1&page=2', status: 422, code: 'VALIDATION_FAILED' },
  { name: 'pageSize 0', path: '/articles?pageSize=0', status: 422, code: 'VALIDATION_FAILED' },
  // only canonical decimal integers: what Number() would also read is refused
  ...['0x2', '0b11', '0o7', '2e0', '%202', '2%20', '%2B2', '2.0', '02', '1_000'].map((value) => ({
    name: `pageSize=${value}`,
    path: `/articles?pageSize=${value}`,
    status: 422,
    code: 'VALIDATION_FAILED',
  })),
  { name: 'bracket query syntax', path: '/articles?page[$gt]=1', status: 422, code: 'VALIDATION_FAILED' },
  { name: 'empty search', path: '/articles?q=%20%20', status: 422, code: 'VALIDATION_FAILED' },
  { name: 'CRLF-only search', path: '/articles?q=%0d%0a', status: 422, code: 'VALIDATION_FAILED' },
  {
    name: 'sort injection',
    path: '/articles?sort=publishedAt:desc;drop',
    status: 422,
    code: 'VALIDATION_FAILED',
  },
  // unicode, control characters and path tricks
  { name: 'unicode author', path: '/articles?author=%C3%A9mile', status: 422, code: 'VALIDATION_FAILED' },
  { name: 'NUL in author', path: '/articles?author=ada%00', status: 422, code: 'VALIDATION_FAILED' },
  { name: 'NUL in search', path: '/articles?q=%00', status: 422, code: 'VALIDATION_FAILED' },
  { name: 'CRLF inside search', path: '/articles?q=a%0d%0ab', status: 422, code: 'VALIDATION_FAILED' },
  { name: 'encoded traversal in slug', path: '/articles/..%2Fadmin', status: 422, code: 'VALIDATION_FAILED' },
  { name: 'encoded dots as slug', path: '/articles/%2e%2e', status: 422, code: 'VALIDATION_FAILED' },
  { name: 'NUL slug', path: '/articles/%00', status: 422, code: 'VALIDATION_FAILED' },
  { name: 'CRLF in slug', path: '/articles/a%0d%0aset-cookie:x', status: 422, code: 'VALIDATION_FAILED' },
  { name: 'emoji slug', path: '/articles/%F0%9F%92%A9', status: 422, code: 'VALIDATION_FAILED' },
  { name: 'RTL override in slug', path: '/articles/%E2%80%AEabc', status: 422, code: 'VALIDATION_FAILED' },
  {
    name: 'slug over the maximum',
    path: `/articles/${'a'.repeat(LIMITS.maxSlugLength + 1)}`,
    status: 422,
    code: 'VALIDATION_FAILED',
  },
  { name: 'broken percent-encoding', path: '/articles/%E0%A4%A', status: 400, code: 'BAD_REQUEST' },
  { name: 'a lone percent sign', path: '/articles/%', status: 400, code: 'BAD_REQUEST' },
  { name: 'raw traversal', path: '/articles/../../etc/passwd', status: 404, code: 'NOT_FOUND' },
  { name: 'double slash', path: '//articles', status: 404, code: 'NOT_FOUND' },
  { name: 'an unknown route', path: '/admin', status: 404, code: 'NOT_FOUND' },
  { name: 'a wrong method', method: 'DELETE', path: '/articles', status: 404, code: 'NOT_FOUND' },
  { name: 'OPTIONS', method: 'OPTIONS', path: '/articles', status: 404, code: 'NOT_FOUND' },
  {
    name: 'POST to an unknown route with a body',
    method: 'POST',
    path: '/nope',
    headers: { 'content-type': 'text/plain' },
    body: 'x',
    status: 404,
    code: 'NOT_FOUND',
  },
  // missing, forged and expired tokens
  { name: 'no authorization', path: '/me', status: 401, code: 'UNAUTHORIZED' },
  {
    name: 'an empty bearer',
    path: '/me',
    headers: { authorization: 'Bearer ' },
    status: 401,
    code: 'UNAUTHORIZED',
  },
  {
    name: 'basic auth',
    path: '/me',
    headers: { authorization: 'Basic YTpi' },
    status: 401,
    code: 'UNAUTHORIZED',
  },
  { name: 'a garbage token', path: '/me', headers: token('garbage'), status: 401, code: 'INVALID_TOKEN' },
  {
    name: 'alg none',
    path: '/me',
    headers: token(
      `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${Buffer.from(
        JSON.stringify({ sub: 'user-demo', iss: 'migration-pilot', exp: 4_102_444_800 }),
      ).toString('base64url')}.`,
    ),
    status: 401,
    code: 'INVALID_TOKEN',
  },
  {
    name: 'a token of 8 kB',
    path: '/me',
    headers: token('x'.repeat(8_000)),
    status: 401,
    code: 'INVALID_TOKEN',
  },
  {
    name: 'a forged refresh token',
    method: 'POST',
    path: '/auth/refresh',
    headers: JSON_TYPE,
    body: JSON.stringify({ refreshToken: `${'A'.repeat(43)}.${'B'.repeat(43)}` }),
    status: 401,
    code: 'INVALID_TOKEN',
  },
  {
    name: 'unicode credentials',
    method: 'POST',
    path: '/auth/login',
    headers: JSON_TYPE,
    body: JSON.stringify({ username: 'd\u0000emo\u202e', password: '\ud83d\udca9' }),
    status: 401,
    code: 'INVALID_CREDENTIALS',
  },
  {
    name: 'a lone surrogate in credentials',
    method: 'POST',
    path: '/auth/login',
    headers: JSON_TYPE,
    body: '{"username":"\\ud800","password":"x"}',
    status: 401,
    code: 'INVALID_CREDENTIALS',
  },
  {
    name: 'a control character in an email',
    method: 'POST',
    path: '/subscribers',
    headers: JSON_TYPE,
    body: JSON.stringify({ email: 'a\u0007@b.co' }),
    status: 422,
    code: 'VALIDATION_FAILED',
  },
];

describe('bad input always gets a 4xx envelope', () => {
  it.each(cases)('$name → $status $code', async (c) => {
    const res = await raw(app.url, { method: c.method, path: c.path, headers: c.headers, body: c.body });
    expect(res.status, res.text.slice(0, 300)).toBe(c.status);
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    const envelope = ErrorEnvelope.parse(JSON.parse(res.text));
    expect(envelope.error).toMatchObject({ status: c.status, code: c.code });
    expect(res.text).not.toMatch(/at .+\.(ts|js):\d+/); // no stack
  });

  it('valid but odd queries (unicode, SQL) are answered, not failed', async () => {
    for (const query of ['q=%C3%A9t%C3%A9', 'q=%F0%9F%92%A9', "q='%20OR%201=1--", 'q=%25%5F']) {
      const res = await raw(app.url, { path: `/articles?${query}` });
      expect(res.status, query).toBe(200);
    }
  });

  it('a header section over the limit is refused with 431 in the envelope, and the app lives on', async () => {
    const res = await raw(app.url, {
      path: '/health',
      headers: { 'x-big': 'y'.repeat(LIMITS.maxHeaderBytes + 1) },
    });
    expect(res.status).toBe(431);
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(ErrorEnvelope.parse(JSON.parse(res.text)).error.code).toBe('HEADERS_TOO_LARGE');
    expect((await raw(app.url, { path: '/health' })).status).toBe(200);
  });

  it('after the whole table: zero 5xx recorded, and the app still answers', async () => {
    const text = await app.metrics.registry.metrics();
    expect(text).not.toMatch(/http_requests_total\{[^}]*status="5\d\d"/);
    expect((await raw(app.url, { path: '/health' })).status).toBe(200);
  });
});
