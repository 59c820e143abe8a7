/**
 * PARITY SUITE: one table of requests (every route, good and bad input) against legacy
 * (Express, @pilot/legacy) and modern (Fastify), both in-process on real sockets, with the same
 * seed content (one memory store each, built from the same deterministic seed) and the same
 * fake upstreams. Each answer must match: status, the headers that matter, and the body byte
 * for byte, except the per-instance fields listed in PER_INSTANCE. Where modern deliberately
 * differs, the difference is declared in DIFFERENCES with its reason and both sides are checked.
 */
import { connect } from 'node:net';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import { createMemoryContent, type MemoryContent } from '@pilot/content';
import { ErrorEnvelope, HEADERS, LIMITS } from '@pilot/contracts';
import { createApp as createLegacyApp, listen as listenLegacy } from '@pilot/legacy';
import { startDelayedUpstream, type TestServer } from '@pilot/test-kit';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp as createModernApp } from '../src/index.ts';
import { testDeps, WEBHOOK_SECRET } from './helpers.ts';

type Side = 'legacy' | 'modern';

interface Answer {
  status: number;
  headers: Headers;
  text: string;
}

/** Per-app state a later request needs (tokens from an earlier login). */
interface Context {
  accessToken?: string;
  refreshToken?: string;
  firstRefreshToken?: string;
}

interface Case {
  name: string;
  method?: string;
  path: string | ((ctx: Context) => string);
  headers?: Record<string, string> | ((ctx: Context) => Record<string, string>);
  body?: string | Buffer | ((ctx: Context) => string);
  /** Runs on each side's answer (e.g. keep the tokens). */
  capture?: (json: unknown, ctx: Context) => void;
  /** Body fields that are genuinely per instance (see PER_INSTANCE). */
  perInstance?: keyof typeof PER_INSTANCE;
  /** Compare status and headers only (see PER_INSTANCE.metricsText). */
  statusOnly?: boolean;
}

/**
 * The ONLY fields allowed to differ between the two answers, and why. Values at these paths
 * are replaced by a placeholder on both sides before the byte comparison (key order still
 * counts). Headers never compared: date, connection, keep-alive (transport), and
 * x-request-id only when the client sent none (a fresh UUID each time).
 */
const PER_INSTANCE = {
  tokens: {
    paths: ['accessToken', 'refreshToken'],
    reason: 'JWT iat/exp and random refresh token secrets differ per issue',
  },
  subscriber: {
    paths: ['data.id', 'data.createdAt'],
    reason: 'the store assigns a random documentId and the creation time',
  },
  metricsText: {
    paths: [],
    reason: 'each app has its own Prometheus registry (process metrics, the service label, its own counts)',
  },
} as const;

const JSON_HEADERS = { 'content-type': 'application/json' };
const json = (value: unknown) => JSON.stringify(value);

let content: Record<Side, MemoryContent>;
let slug: string;
let draftSlug: string;
let authorSlug: string;
let idleAuthorSlug: string;

function buildCases(): Case[] {
  const login = json({ username: 'demo', password: 'demo-password' });
  return [
    // GET /articles
    { name: 'list, defaults', path: '/articles' },
    { name: 'list, paged and sorted', path: '/articles?page=2&pageSize=5&sort=title:asc' },
    { name: 'list, search', path: '/articles?q=Cache' },
    { name: 'list, by author', path: () => `/articles?author=${authorSlug}` },
    { name: 'list, author without articles', path: () => `/articles?author=${idleAuthorSlug}` },
    { name: 'list, last page beyond the end', path: '/articles?page=500&pageSize=100' },
    { name: 'list, page 0', path: '/articles?page=0' },
    { name: 'list, page not a number', path: '/articles?page=abc' },
    { name: 'list, pageSize too big', path: `/articles?pageSize=${LIMITS.maxPageSize + 1}` },
    { name: 'list, unknown sort', path: '/articles?sort=random' },
    { name: 'list, unknown query key', path: '/articles?color=red' },
    { name: 'list, repeated key', path: '/articles?page=1&page=2' },
    { name: 'list, empty search', path: '/articles?q=' },
    { name: 'list, blank search', path: '/articles?q=%20%20' },
    { name: 'list, search too long', path: `/articles?q=${'a'.repeat(LIMITS.maxSearchLength + 1)}` },
    { name: 'list, bad author slug', path: '/articles?author=Not%20A%20Slug' },
    { name: 'list, several invalid params', path: '/articles?page=0&pageSize=0&sort=x' },
    { name: 'list, fractional pageSize', path: '/articles?pageSize=1.5' },
    // only canonical decimal integers (what Number() would also read is a 422)
    { name: 'list, hex pageSize', path: '/articles?pageSize=0x2' },
    { name: 'list, binary pageSize', path: '/articles?pageSize=0b11' },
    { name: 'list, exponent pageSize', path: '/articles?pageSize=2e0' },
    { name: 'list, pageSize with a space', path: '/articles?pageSize=%202' },
    { name: 'list, pageSize with a plus', path: '/articles?pageSize=%2B2' },
    { name: 'list, pageSize 2.0', path: '/articles?pageSize=2.0' },
    { name: 'list, pageSize with underscores', path: '/articles?pageSize=1_000' },
    { name: 'list, page with a leading zero', path: '/articles?page=02' },
    { name: 'list, huge page', path: `/articles?page=${'9'.repeat(400)}` },
    { name: 'list, encoded query key', path: '/articles?page%53ize=2' },
    { name: 'list, trailing slash', path: '/articles/' },
    { name: 'list, other case', path: '/ARTICLES?pageSize=1' },
    { name: 'list, HEAD', method: 'HEAD', path: '/articles' },
    // GET /articles/:slug
    { name: 'article', path: () => `/articles/${slug}` },
    { name: 'article, trailing slash', path: () => `/articles/${slug}/` },
    { name: 'article, with an ignored query', path: () => `/articles/${slug}?page=0` },
    { name: 'article, unknown', path: '/articles/no-such-article' },
    { name: 'article, a draft is not found', path: () => `/articles/${draftSlug}` },
    { name: 'article, invalid slug', path: '/articles/Not_A_Slug' },
    { name: 'article, encoded space', path: '/articles/a%20b' },
    { name: 'article, slug too long', path: `/articles/${'a'.repeat(LIMITS.maxSlugLength + 1)}` },
    { name: 'article, bad percent-encoding', path: '/articles/%E0%A4%A' },
    { name: 'article, nested path', path: () => `/articles/${slug}/comments` },
    // GET /authors/:slug (Strapi over GraphQL in production; the same memory seed here)
    { name: 'author', path: () => `/authors/${authorSlug}` },
    { name: 'author without articles', path: () => `/authors/${idleAuthorSlug}` },
    { name: 'author, trailing slash', path: () => `/authors/${authorSlug}/` },
    { name: 'author, with an ignored query', path: () => `/authors/${authorSlug}?limit=100` },
    { name: 'author, other case', path: () => `/AUTHORS/${authorSlug}` },
    { name: 'author, HEAD', method: 'HEAD', path: () => `/authors/${authorSlug}` },
    { name: 'author, unknown', path: '/authors/no-such-author' },
    { name: 'author, invalid slug', path: '/authors/Not_A_Slug' },
    { name: 'author, slug too long', path: `/authors/${'a'.repeat(LIMITS.maxSlugLength + 1)}` },
    { name: 'author, bad percent-encoding', path: '/authors/%E0%A4%A' },
    { name: 'author, nested path', path: () => `/authors/${authorSlug}/articles` },
    { name: 'authors, no slug', path: '/authors' },
    { name: 'author, POST', method: 'POST', path: () => `/authors/${authorSlug}` },
    // POST /subscribers
    {
      name: 'subscribe',
      method: 'POST',
      path: '/subscribers',
      headers: JSON_HEADERS,
      body: json({ email: 'Reader@Example.com', name: '  Ada  ' }),
      perInstance: 'subscriber',
    },
    {
      name: 'subscribe, duplicate',
      method: 'POST',
      path: '/subscribers',
      headers: JSON_HEADERS,
      body: json({ email: 'reader@example.com' }),
    },
    {
      name: 'subscribe, without name',
      method: 'POST',
      path: '/subscribers',
      headers: JSON_HEADERS,
      body: json({ email: 'second@example.com' }),
      perInstance: 'subscriber',
    },
    {
      name: 'subscribe, charset utf-8',
      method: 'POST',
      path: '/subscribers',
      headers: { 'content-type': 'application/json; charset=utf-8' },
      body: json({ email: 'third@example.com' }),
      perInstance: 'subscriber',
    },
    {
      name: 'subscribe, invalid email',
      method: 'POST',
      path: '/subscribers',
      headers: JSON_HEADERS,
      body: json({ email: 'nope' }),
    },
    {
      name: 'subscribe, missing email',
      method: 'POST',
      path: '/subscribers',
      headers: JSON_HEADERS,
      body: json({ name: 'x' }),
    },
    {
      name: 'subscribe, email not a string',
      method: 'POST',
      path: '/subscribers',
      headers: JSON_HEADERS,
      body: json({ email: 42 }),
    },
    {
      name: 'subscribe, unknown field',
      method: 'POST',
      path: '/subscribers',
      headers: JSON_HEADERS,
      body: json({ email: 'x@example.com', admin: true }),
    },
    {
      name: 'subscribe, blank name',
      method: 'POST',
      path: '/subscribers',
      headers: JSON_HEADERS,
      body: json({ email: 'y@example.com', name: '   ' }),
    },
    {
      name: 'subscribe, array body',
      method: 'POST',
      path: '/subscribers',
      headers: JSON_HEADERS,
      body: '[]',
    },
    {
      name: 'subscribe, null body',
      method: 'POST',
      path: '/subscribers',
      headers: JSON_HEADERS,
      body: 'null',
    },
    {
      name: 'subscribe, JSON string body',
      method: 'POST',
      path: '/subscribers',
      headers: JSON_HEADERS,
      body: '"a@example.com"',
    },
    {
      name: 'subscribe, malformed JSON',
      method: 'POST',
      path: '/subscribers',
      headers: JSON_HEADERS,
      body: '{"email":',
    },
    {
      name: 'subscribe, empty JSON body',
      method: 'POST',
      path: '/subscribers',
      headers: JSON_HEADERS,
      body: '',
    },
    {
      name: 'subscribe, empty body without a type (content-length: 0)',
      method: 'POST',
      path: '/subscribers',
    },
    {
      name: 'subscribe, text/plain',
      method: 'POST',
      path: '/subscribers',
      headers: { 'content-type': 'text/plain' },
      body: 'a@example.com',
    },
    {
      name: 'subscribe, form',
      method: 'POST',
      path: '/subscribers',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'email=a%40example.com',
    },
    {
      name: 'subscribe, +json type',
      method: 'POST',
      path: '/subscribers',
      headers: { 'content-type': 'application/vnd.api+json' },
      body: json({ email: 'a@example.com' }),
    },
    {
      name: 'subscribe, latin1 charset',
      method: 'POST',
      path: '/subscribers',
      headers: { 'content-type': 'application/json; charset=latin1' },
      body: json({ email: 'a@example.com' }),
    },
    {
      name: 'subscribe, __proto__ key',
      method: 'POST',
      path: '/subscribers',
      headers: JSON_HEADERS,
      body: '{"email":"p@example.com","__proto__":{"admin":true}}',
    },
    {
      name: 'subscribe, duplicate JSON keys',
      method: 'POST',
      path: '/subscribers',
      headers: JSON_HEADERS,
      body: '{"email":"nope","email":42}',
    },
    {
      name: 'subscribe, trailing garbage',
      method: 'POST',
      path: '/subscribers',
      headers: JSON_HEADERS,
      body: '{"email":"t@example.com"} x',
    },
    {
      name: 'subscribe, leading whitespace',
      method: 'POST',
      path: '/subscribers',
      headers: JSON_HEADERS,
      body: '\n  {"email":42}',
    },
    {
      name: 'subscribe, gzip',
      method: 'POST',
      path: '/subscribers',
      headers: { ...JSON_HEADERS, 'content-encoding': 'gzip' },
      body: gzipSync(json({ email: 'gzip@example.com' })),
      perInstance: 'subscriber',
    },
    {
      name: 'subscribe, deflate',
      method: 'POST',
      path: '/subscribers',
      headers: { ...JSON_HEADERS, 'content-encoding': 'deflate' },
      body: deflateSync(json({ email: 'deflate@example.com' })),
      perInstance: 'subscriber',
    },
    {
      name: 'subscribe, br',
      method: 'POST',
      path: '/subscribers',
      headers: { ...JSON_HEADERS, 'content-encoding': 'br' },
      body: brotliCompressSync(json({ email: 'br@example.com' })),
      perInstance: 'subscriber',
    },
    {
      name: 'subscribe, gzip invalid',
      method: 'POST',
      path: '/subscribers',
      headers: { ...JSON_HEADERS, 'content-encoding': 'gzip' },
      body: json({ email: 'x@example.com' }),
    },
    {
      name: 'subscribe, gzip inflating past the limit',
      method: 'POST',
      path: '/subscribers',
      headers: { ...JSON_HEADERS, 'content-encoding': 'gzip' },
      body: gzipSync(json({ email: `${'a'.repeat(LIMITS.bodyLimitBytes * 4)}@example.com` })),
    },
    {
      name: 'subscribe, unknown encoding',
      method: 'POST',
      path: '/subscribers',
      headers: { ...JSON_HEADERS, 'content-encoding': 'compress' },
      body: json({ email: 'x@example.com' }),
    },
    {
      name: 'subscribe, identity encoding',
      method: 'POST',
      path: '/subscribers',
      headers: { ...JSON_HEADERS, 'content-encoding': 'identity' },
      body: json({ email: 'identity@example.com' }),
      perInstance: 'subscriber',
    },
    {
      name: 'list, GET with a content-encoding',
      path: '/articles?pageSize=1',
      headers: { 'content-encoding': 'compress' },
    },
    {
      name: 'subscribe, too large',
      method: 'POST',
      path: '/subscribers',
      headers: JSON_HEADERS,
      body: json({ email: `${'a'.repeat(LIMITS.bodyLimitBytes)}@example.com` }),
    },
    {
      name: 'subscribe, too large and wrong type',
      method: 'POST',
      path: '/subscribers',
      headers: { 'content-type': 'text/plain' },
      body: 'a'.repeat(LIMITS.bodyLimitBytes + 10),
    },
    {
      name: 'subscribe, wrong method',
      method: 'PUT',
      path: '/subscribers',
      headers: JSON_HEADERS,
      body: json({ email: 'a@example.com' }),
    },
    // auth
    {
      name: 'login',
      method: 'POST',
      path: '/auth/login',
      headers: JSON_HEADERS,
      body: login,
      perInstance: 'tokens',
      capture: (b, ctx) => {
        const t = b as { accessToken: string; refreshToken: string };
        ctx.accessToken = t.accessToken;
        ctx.refreshToken = t.refreshToken;
        ctx.firstRefreshToken = t.refreshToken;
      },
    },
    {
      name: 'login, wrong password',
      method: 'POST',
      path: '/auth/login',
      headers: JSON_HEADERS,
      body: json({ username: 'demo', password: 'nope' }),
    },
    {
      name: 'login, unknown user',
      method: 'POST',
      path: '/auth/login',
      headers: JSON_HEADERS,
      body: json({ username: 'ghost', password: 'nope' }),
    },
    {
      name: 'login, missing password',
      method: 'POST',
      path: '/auth/login',
      headers: JSON_HEADERS,
      body: json({ username: 'demo' }),
    },
    {
      name: 'login, extra field',
      method: 'POST',
      path: '/auth/login',
      headers: JSON_HEADERS,
      body: json({ username: 'demo', password: 'x', admin: true }),
    },
    {
      name: 'login, username too long',
      method: 'POST',
      path: '/auth/login',
      headers: JSON_HEADERS,
      body: json({ username: 'u'.repeat(65), password: 'x' }),
    },
    { name: 'login, malformed JSON', method: 'POST', path: '/auth/login', headers: JSON_HEADERS, body: '{' },
    // the login limit (5 failures per username+address): ann's 5th failure, then a 429 for
    // her right password (ann exists in neither app's users here: unknown, counted the same)
    ...Array.from({ length: 5 }, (_v, i) => ({
      name: `login, ann fails (${i + 1})`,
      method: 'POST',
      path: '/auth/login',
      headers: JSON_HEADERS,
      body: json({ username: 'ann', password: `guess-${i}` }),
    })),
    {
      name: 'login, ann limited: 429 with Retry-After and RateLimit',
      method: 'POST',
      path: '/auth/login',
      headers: JSON_HEADERS,
      body: json({ username: 'ann', password: 'ann-password' }),
    },
    {
      name: 'login, text/plain',
      method: 'POST',
      path: '/auth/login',
      headers: { 'content-type': 'text/plain' },
      body: login,
    },
    { name: 'me', path: '/me', headers: (ctx) => ({ authorization: `Bearer ${ctx.accessToken}` }) },
    {
      name: 'me, lower-case scheme',
      path: '/me',
      headers: (ctx) => ({ authorization: `bearer ${ctx.accessToken}` }),
    },
    { name: 'me, no token', path: '/me' },
    { name: 'me, garbage token', path: '/me', headers: { authorization: 'Bearer not-a-jwt' } },
    { name: 'me, basic auth', path: '/me', headers: { authorization: 'Basic ZGVtbzpkZW1v' } },
    {
      name: 'refresh',
      method: 'POST',
      path: '/auth/refresh',
      headers: JSON_HEADERS,
      body: (ctx) => json({ refreshToken: ctx.refreshToken }),
      perInstance: 'tokens',
      capture: (b, ctx) => {
        ctx.refreshToken = (b as { refreshToken: string }).refreshToken;
      },
    },
    {
      name: 'refresh, reuse revokes the family',
      method: 'POST',
      path: '/auth/refresh',
      headers: JSON_HEADERS,
      body: (ctx) => json({ refreshToken: ctx.firstRefreshToken }),
    },
    {
      name: 'refresh, after revocation',
      method: 'POST',
      path: '/auth/refresh',
      headers: JSON_HEADERS,
      body: (ctx) => json({ refreshToken: ctx.refreshToken }),
    },
    {
      name: 'refresh, garbage',
      method: 'POST',
      path: '/auth/refresh',
      headers: JSON_HEADERS,
      body: json({ refreshToken: 'garbage' }),
    },
    {
      name: 'refresh, missing token',
      method: 'POST',
      path: '/auth/refresh',
      headers: JSON_HEADERS,
      body: '{}',
    },
    // /aggregate, all upstreams answering
    { name: 'aggregate', path: '/aggregate' },
    // operations
    { name: 'health', path: '/health' },
    { name: 'health, other case', path: '/HEALTH' },
    { name: 'ready', path: '/ready' },
    { name: 'metrics', path: '/metrics', statusOnly: true },
    // unknown routes, limits, request ids
    { name: 'unknown route', path: '/nope' },
    {
      name: 'unknown route, POST with a body',
      method: 'POST',
      path: '/nope',
      headers: JSON_HEADERS,
      body: '{"a":',
    },
    { name: 'unknown route, DELETE', method: 'DELETE', path: '/articles' },
    { name: 'unknown route, HEAD', method: 'HEAD', path: '/nope' },
    {
      name: 'unknown route, text body',
      method: 'POST',
      path: '/nope',
      headers: { 'content-type': 'text/plain' },
      body: 'hello',
    },
    {
      name: 'unknown route, oversized body',
      method: 'POST',
      path: '/nope',
      headers: JSON_HEADERS,
      body: json({ a: 'x'.repeat(LIMITS.bodyLimitBytes) }),
    },
    { name: 'OPTIONS on a route (no CORS here)', method: 'OPTIONS', path: '/articles' },
    { name: 'OPTIONS on an unknown route', method: 'OPTIONS', path: '/nope' },
    { name: 'GET on a POST route', path: '/subscribers' },
    { name: 'query on /health', path: '/health?x=1' },
    { name: 'double slash', path: '//articles' },
    { name: 'URL too long, unknown route', path: `/${'x'.repeat(LIMITS.maxUrlLength)}` },
    { name: 'URL too long, known route', path: `/articles?q=${'x'.repeat(LIMITS.maxUrlLength)}` },
    { name: 'malformed request id is replaced', path: '/health', headers: { 'x-request-id': 'bad id!' } },
  ];
}

/**
 * The deliberate differences, with the reason for each. The suite checks BOTH sides of every
 * entry (what legacy answers and what modern answers instead).
 */
const DIFFERENCES: Array<{
  name: string;
  reason: string;
  request: { method?: string; path: string; headers?: Record<string, string>; body?: string };
  /** Upstream the request is made with (see `upstreams` below). */
  upstreams?: 'quoteFails' | 'quoteHangs' | 'allFail';
  legacy: (a: Answer) => void;
  modern: (a: Answer) => void;
}> = [
  {
    name: 'GET /aggregate with one upstream failing',
    reason:
      'modern fetches the parts concurrently and answers the others with meta.partial/missing; legacy awaits them in sequence and fails the whole request on the first failure',
    request: { path: '/aggregate' },
    upstreams: 'quoteFails',
    legacy: (a) => {
      expect(a.status).toBe(502);
      expect(JSON.parse(a.text).error).toMatchObject({
        code: 'UPSTREAM_FAILED',
        details: { missing: ['quote'] },
      });
    },
    modern: (a) => {
      expect(a.status).toBe(200);
      const body = JSON.parse(a.text);
      expect(body.meta).toEqual({ partial: true, missing: ['quote'] });
      expect(body.data.quote).toBeNull();
      expect(body.data.weather).toEqual({ source: 'weather', delayMs: 0 });
    },
  },
  {
    name: 'GET /aggregate with one upstream hanging past AGGREGATE_TIMEOUT_MS',
    reason: 'same as above for a timeout: legacy 504, modern the partial answer at the per-upstream timeout',
    request: { path: '/aggregate' },
    upstreams: 'quoteHangs',
    legacy: (a) => {
      expect(a.status).toBe(504);
      expect(JSON.parse(a.text).error).toMatchObject({
        code: 'UPSTREAM_TIMEOUT',
        details: { missing: ['quote'] },
      });
    },
    modern: (a) => {
      expect(a.status).toBe(200);
      expect(JSON.parse(a.text).meta).toEqual({ partial: true, missing: ['quote'] });
    },
  },
  {
    name: 'GET /aggregate with every HTTP upstream failing (articles fine)',
    reason:
      'modern still has the articles and answers them partially; legacy fails on the first failed upstream (weather)',
    request: { path: '/aggregate' },
    upstreams: 'allFail',
    legacy: (a) => {
      expect(a.status).toBe(502);
      expect(JSON.parse(a.text).error.details).toEqual({ missing: ['weather'] });
    },
    modern: (a) => {
      expect(a.status).toBe(200);
      expect(JSON.parse(a.text).meta).toEqual({ partial: true, missing: ['weather', 'quote'] });
    },
  },
  {
    name: 'POST /webhooks/strapi',
    reason: "modern-only route (routes.strapiWebhook.services = ['modern']); legacy has no webhook consumer",
    request: {
      method: 'POST',
      path: '/webhooks/strapi',
      headers: { ...JSON_HEADERS, [HEADERS.webhookSecret]: WEBHOOK_SECRET },
      body: json({ event: 'entry.update', model: 'article', entry: { documentId: 'd1' } }),
    },
    legacy: (a) => expectNotFound(a),
    modern: (a) => {
      expect(a.status).toBe(200);
      expect(JSON.parse(a.text)).toEqual({
        data: { event: 'entry.update', invalidated: ['type:articles', 'doc:articles:d1'] },
      });
    },
  },
  {
    name: 'GET /openapi.json',
    reason: 'modern-only: OpenAPI generated from the zod schemas',
    request: { path: '/openapi.json' },
    legacy: (a) => expectNotFound(a),
    modern: (a) => {
      expect(a.status).toBe(200);
      expect(JSON.parse(a.text).openapi).toBe('3.1.0');
    },
  },
  {
    name: 'GET /docs/',
    reason: 'modern-only: interactive API docs',
    request: { path: '/docs/' },
    legacy: (a) => expectNotFound(a),
    modern: (a) => {
      expect(a.status).toBe(200);
      expect(a.headers.get('content-type')).toMatch(/^text\/html/);
    },
  },
];
// GET /events (modern-only, SSE) is declared here too, but checked in its own test below
// because the modern answer is a stream that does not end.
const STREAMING_DIFFERENCE = {
  name: 'GET /events',
  reason: "modern-only route (routes.events.services = ['modern']): server-sent events",
};

function expectNotFound(a: Answer) {
  expect(a.status).toBe(404);
  expect(a.headers.get('content-type')).toBe(HEADERS.contentType);
  expect(JSON.parse(a.text)).toEqual({ error: { status: 404, code: 'NOT_FOUND', message: 'Not found.' } });
}

function mask(text: string, paths: readonly string[]): string {
  if (paths.length === 0 || text === '') return text;
  const value = JSON.parse(text);
  for (const path of paths) {
    const keys = path.split('.');
    let node = value;
    for (const key of keys.slice(0, -1)) node = node?.[key];
    const last = keys.at(-1) as string;
    if (node && last in node) node[last] = `<per-instance:${path}>`;
  }
  return JSON.stringify(value);
}

// ---------------------------------------------------------------------------------------------

interface Running {
  url: string;
  close(): Promise<void>;
}

async function startLegacy(env: Record<string, string>, store: MemoryContent): Promise<Running> {
  const deps = testDeps({ env, content: store });
  const app = createLegacyApp({ config: deps.config, logger: deps.logger, content: store, auth: deps.auth });
  const running = await listenLegacy(app, { host: '127.0.0.1', port: 0 });
  return { url: running.url, close: async () => void (await running.close(1000)) };
}

async function startModern(env: Record<string, string>, store: MemoryContent): Promise<Running> {
  const app: FastifyInstance = createModernApp(testDeps({ env, content: store }));
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  return { url, close: () => app.close() };
}

async function send(
  base: string,
  request: { method?: string; path: string; headers?: Record<string, string>; body?: string | Buffer },
): Promise<Answer> {
  const res = await fetch(`${base}${request.path}`, {
    method: request.method ?? 'GET',
    headers: request.headers ?? {},
    body: request.body,
    redirect: 'manual',
  });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

/** A raw HTTP/1.1 exchange for what fetch refuses to send (huge headers, broken request lines). */
function raw(base: string, payload: string): Promise<string> {
  const { port } = new URL(base);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), '127.0.0.1');
    let answer = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk) => {
      answer += chunk;
    });
    socket.on('end', () => resolve(answer));
    socket.on('close', () => resolve(answer));
    socket.on('error', (error) => (answer ? resolve(answer) : reject(error)));
    socket.end(payload);
  });
}

describe('parity: legacy (Express) and modern (Fastify) answer alike', () => {
  const upstreams: TestServer[] = [];
  let env: Record<string, string>;
  let legacy: Running;
  let modern: Running;

  beforeAll(async () => {
    const weather = await startDelayedUpstream('weather');
    const quote = await startDelayedUpstream('quote');
    upstreams.push(weather, quote);
    env = {
      AGGREGATE_WEATHER_URL: `${weather.url}/weather`,
      AGGREGATE_QUOTE_URL: `${quote.url}/quote`,
      AGGREGATE_TIMEOUT_MS: '500',
    };
    content = { legacy: createMemoryContent(), modern: createMemoryContent() };
    const seed = content.legacy.seed;
    slug = seed.articles.find((a) => a.publishedAt !== null)?.slug as string;
    draftSlug = seed.articles.find((a) => a.publishedAt === null)?.slug as string;
    const authorIds = new Set(seed.articles.map((a) => a.authorId));
    authorSlug = seed.authors.find((a) => authorIds.has(a.documentId))?.slug as string;
    idleAuthorSlug = seed.authors.find((a) => !authorIds.has(a.documentId))?.slug as string;
    legacy = await startLegacy(env, content.legacy);
    modern = await startModern(env, content.modern);
  });

  afterAll(async () => {
    await Promise.all([legacy?.close(), modern?.close(), ...upstreams.map((u) => u.close())]);
  });

  it('the table: identical status, content-type, cache-control, request id and body', {
    timeout: 120_000,
  }, async () => {
    const ctx: Record<Side, Context> = { legacy: {}, modern: {} };
    const cases = buildCases();
    const mismatches: string[] = [];
    let n = 0;
    for (const c of cases) {
      n += 1;
      const answers = {} as Record<Side, Answer>;
      for (const side of ['legacy', 'modern'] as const) {
        const resolve = <T>(v: T | ((ctx: Context) => T) | undefined) =>
          typeof v === 'function' ? (v as (ctx: Context) => T)(ctx[side]) : v;
        const headers = { 'x-request-id': `parity-${n}`, ...resolve(c.headers) };
        const answer = await send(side === 'legacy' ? legacy.url : modern.url, {
          method: c.method,
          path: resolve(c.path) as string,
          headers,
          body: resolve(c.body),
        });
        answers[side] = answer;
        if (c.capture && answer.status < 300) c.capture(JSON.parse(answer.text), ctx[side]);
      }
      const { legacy: l, modern: m } = answers;
      const diff: string[] = [];
      if (l.status !== m.status) diff.push(`status ${l.status} vs ${m.status}`);
      for (const header of [
        'content-type',
        'cache-control',
        'retry-after',
        'allow',
        'location',
        'ratelimit-policy',
        'ratelimit',
      ]) {
        // seconds left in a login-limit window may differ by the second between the two requests
        // (RateLimit's t=, Retry-After's whole value: a loaded machine crossed a second between them)
        const value = (h: Headers) => h.get(header)?.replace(/;t=\d+/g, ';t=<s>') ?? null;
        const [lv, mv] = [value(l.headers), value(m.headers)];
        const withinASecond =
          header === 'retry-after' && /^\d+$/.test(lv ?? '') && /^\d+$/.test(mv ?? '')
            ? Math.abs(Number(lv) - Number(mv)) <= 1
            : false;
        if (lv !== mv && !withinASecond) diff.push(`${header}: ${lv} vs ${mv}`);
      }
      const sentId = c.headers && 'x-request-id' in (typeof c.headers === 'function' ? {} : c.headers);
      for (const side of ['legacy', 'modern'] as const) {
        const h = answers[side].headers;
        if (h.get('x-powered-by') !== null) diff.push(`${side} sends x-powered-by`);
        if (h.get('etag') !== null) diff.push(`${side} sends an ETag`);
        const id = h.get('x-request-id');
        if (sentId ? !/^[0-9a-f-]{36}$/.test(id ?? '') : id !== `parity-${n}`)
          diff.push(`${side} x-request-id ${id}`);
      }
      if (!c.statusOnly) {
        const paths = c.perInstance ? PER_INSTANCE[c.perInstance].paths : [];
        const [lt, mt] = [mask(l.text, paths), mask(m.text, paths)];
        if (lt !== mt)
          diff.push(`body\n      legacy: ${lt.slice(0, 400)}\n      modern: ${mt.slice(0, 400)}`);
      }
      if (diff.length > 0)
        mismatches.push(
          `${c.name} (${c.method ?? 'GET'} ${String(resolveName(c))}):\n    ${diff.join('\n    ')}`,
        );
    }
    expect(mismatches, mismatches.join('\n')).toEqual([]);
    expect(cases.length).toBeGreaterThan(70);
  });

  it('both keep the same state after the table (what one stored, the other stored)', () => {
    const emails = (side: Side) => content[side].subscribers.map((s) => [s.email, s.name]);
    expect(emails('modern')).toEqual(emails('legacy'));
    expect(emails('legacy').length).toBe(7);
  });

  it('errors the HTTP server answers itself (parser errors, 431, CONNECT, Expect, no Host): the same envelope', async () => {
    const payloads = {
      'header too large': `GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(LIMITS.maxHeaderBytes + 1)}\r\n\r\n`,
      'broken request line': 'GARBAGE\r\n\r\n',
      'bad content-length': 'POST /subscribers HTTP/1.1\r\nHost: x\r\nContent-Length: x\r\n\r\n',
      CONNECT: 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n',
      'Expect: bogus': 'POST /subscribers HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nExpect: bogus\r\n\r\n',
      'no Host': 'GET /health HTTP/1.1\r\nConnection: close\r\n\r\n',
    };
    // status line, body and the headers that matter (not the date, not a fresh request id)
    const essentials = (answer: string) => {
      const [head = '', body] = answer.split('\r\n\r\n');
      const lines = head.split('\r\n');
      const keep = lines.slice(1).filter((l) => /^(content-type|cache-control|connection|allow):/i.test(l));
      return { status: lines[0], headers: keep.map((l) => l.toLowerCase()).sort(), body };
    };
    const statuses: string[] = [];
    for (const [name, payload] of Object.entries(payloads)) {
      const [l, m] = await Promise.all([raw(legacy.url, payload), raw(modern.url, payload)]);
      expect(essentials(m), name).toEqual(essentials(l));
      const { status, body } = essentials(m);
      expect(ErrorEnvelope.parse(JSON.parse(body ?? '')).error.status, name).toBe(
        Number(status?.split(' ')[1]),
      );
      statuses.push(status?.split(' ')[1] ?? '');
    }
    expect(statuses).toEqual(['431', '400', '400', '405', '417', '400']);
  });

  it('a POST with no body at all (no content-length, no content type) is left to validation: 422', async () => {
    const payload = 'POST /subscribers HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n';
    const [l, m] = await Promise.all([raw(legacy.url, payload), raw(modern.url, payload)]);
    const statusAndBody = (answer: string) => [answer.split('\r\n')[0], answer.split('\r\n\r\n')[1]];
    expect(statusAndBody(m)).toEqual(statusAndBody(l));
    expect(statusAndBody(m)[0]).toBe('HTTP/1.1 422 Unprocessable Entity');
  });

  describe('declared differences (both sides checked)', () => {
    it.each(DIFFERENCES)('$name — $reason', async (d) => {
      let sides: Record<Side, Running> = { legacy, modern };
      const extra: Array<Running | TestServer> = [];
      if (d.upstreams) {
        const weather = await startDelayedUpstream(
          'weather',
          d.upstreams === 'allFail' ? { status: 500 } : {},
        );
        const quote = await startDelayedUpstream(
          'quote',
          d.upstreams === 'quoteHangs' ? { hang: true } : { status: 500 },
        );
        const upEnv = {
          ...env,
          AGGREGATE_WEATHER_URL: `${weather.url}/weather`,
          AGGREGATE_QUOTE_URL: `${quote.url}/quote`,
        };
        sides = {
          legacy: await startLegacy(upEnv, createMemoryContent()),
          modern: await startModern(upEnv, createMemoryContent()),
        };
        extra.push(weather, quote, sides.legacy, sides.modern);
      }
      try {
        d.legacy(await send(sides.legacy.url, d.request));
        d.modern(await send(sides.modern.url, d.request));
      } finally {
        for (const e of extra.reverse()) await e.close();
      }
    });

    it(`${STREAMING_DIFFERENCE.name} — ${STREAMING_DIFFERENCE.reason}`, async () => {
      expectNotFound(await send(legacy.url, { path: '/events' }));
      const controller = new AbortController();
      const res = await fetch(`${modern.url}/events`, { signal: controller.signal });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
      controller.abort();
    });
  });
});

function resolveName(c: Case): string {
  return typeof c.path === 'function' ? '<computed path>' : c.path.slice(0, 60);
}
