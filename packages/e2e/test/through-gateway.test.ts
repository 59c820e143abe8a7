// Every public route through the gateway's default table, with the REAL Strapi, real Redis and
// both real apps behind it; then the webhook path: an article edited in Strapi → Strapi's
// webhook → modern → both services' caches drop → the next read shows the new title, while
// unrelated cached articles stay cached (counted in Strapi upstream calls).
import { ErrorEnvelope, ArticleListResponse, ArticleResponse, TokenPair } from '@pilot/contracts';
import { SEED } from '@pilot/cms/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type System, startSystem } from './system.ts';

let system: System;

beforeAll(async () => {
  system = await startSystem();
});
afterAll(async () => {
  await system?.stop();
});

const json = { 'content-type': 'application/json' };

async function get(path: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${system.gatewayUrl}${path}`, { headers });
  return { res, body: (await res.json()) as unknown };
}

describe('public API through the gateway (real Strapi, real Redis, real apps)', () => {
  it('GET /articles pages real content, served by modern', async () => {
    const { res, body } = await get('/articles?pageSize=5&page=2');
    expect(res.status).toBe(200);
    expect(res.headers.get('x-backend')).toBe('modern');
    const list = ArticleListResponse.parse(body);
    expect(list.data).toHaveLength(5);
    expect(list.meta.pagination).toMatchObject({ page: 2, pageSize: 5, total: 60, pageCount: 12 });
  });

  it('GET /articles?q= searches and ?author= filters', async () => {
    const topic = SEED.topics[1];
    const { body } = await get(`/articles?q=${encodeURIComponent(topic)}&pageSize=100`);
    const list = ArticleListResponse.parse(body);
    expect(list.data.length).toBeGreaterThan(0);
    for (const a of list.data) expect(`${a.title} ${a.summary}`.toLowerCase()).toContain(topic.toLowerCase());
    const byAuthor = ArticleListResponse.parse(
      (await get(`/articles?author=${SEED.firstArticle.author}`)).body,
    );
    for (const a of byAuthor.data) expect(a.author?.slug).toBe(SEED.firstArticle.author);
  });

  it('GET /articles/:slug answers the article, and 404 in the envelope when absent', async () => {
    const { res, body } = await get(`/articles/${SEED.firstArticle.slug}`);
    expect(res.status).toBe(200);
    expect(ArticleResponse.parse(body).data.title).toBe(SEED.firstArticle.title);
    const missing = await get('/articles/no-such-article');
    expect(missing.res.status).toBe(404);
    expect(ErrorEnvelope.parse(missing.body).error.code).toBe('NOT_FOUND');
  });

  it('POST /subscribers stores in Strapi; a duplicate answers 409 on either backend', async () => {
    const email = `gw-${Date.now()}@example.com`;
    const first = await fetch(`${system.gatewayUrl}/subscribers`, {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ email, name: 'E2E' }),
    });
    expect(first.status).toBe(201);
    for (const user of ['u-1', 'u-2', 'u-3', 'u-4', 'u-5', 'u-6']) {
      const again = await fetch(`${system.gatewayUrl}/subscribers`, {
        method: 'POST',
        headers: { ...json, 'x-user-id': user },
        body: JSON.stringify({ email }),
      });
      expect(again.status).toBe(409);
      expect(ErrorEnvelope.parse(await again.json()).error.code).toBe('CONFLICT');
    }
    const invalid = await fetch(`${system.gatewayUrl}/subscribers`, {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ email: 'nope' }),
    });
    expect(invalid.status).toBe(422);
  });

  it('GET /aggregate combines Strapi and both upstreams (legacy serves, modern shadows)', async () => {
    const { res, body } = await get('/aggregate');
    expect(res.status).toBe(200);
    expect(res.headers.get('x-backend')).toBe('legacy');
    const agg = body as {
      data: { articles: unknown[]; weather: unknown; quote: unknown };
      meta: { partial: boolean };
    };
    expect(agg.data.articles.length).toBeGreaterThan(0);
    expect(agg.data.weather).toEqual({ source: 'weather', delayMs: 0 });
    expect(agg.meta.partial).toBe(false);
  });

  it('auth: login, refresh, /me, and a reused refresh token revokes the family', async () => {
    const login = await fetch(`${system.gatewayUrl}/auth/login`, {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ username: 'demo', password: 'demo-password' }),
    });
    expect(login.status).toBe(200);
    const tokens = TokenPair.parse(await login.json());
    const me = await get('/me', { authorization: `Bearer ${tokens.accessToken}` });
    expect(me.res.status).toBe(200);
    expect(me.body).toMatchObject({ data: { username: 'demo' } });
    const refresh = (token: string) =>
      fetch(`${system.gatewayUrl}/auth/refresh`, {
        method: 'POST',
        headers: json,
        body: JSON.stringify({ refreshToken: token }),
      });
    const rotated = await refresh(tokens.refreshToken);
    expect(rotated.status).toBe(200);
    const next = TokenPair.parse(await rotated.json());
    expect((await refresh(tokens.refreshToken)).status).toBe(401);
    expect((await refresh(next.refreshToken)).status).toBe(401);
  });

  it('operations: /health, /ready (Strapi and Redis up), /metrics, /openapi.json', async () => {
    expect((await get('/health')).res.status).toBe(200);
    const ready = await get('/ready');
    expect(ready.res.status).toBe(200);
    expect(ready.body).toMatchObject({ status: 'ready', checks: { strapi: 'up', redis: 'up' } });
    const metrics = await fetch(`${system.gatewayUrl}/metrics`);
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toContain('http_requests_total');
    const openapi = await get('/openapi.json');
    expect(openapi.res.headers.get('x-backend')).toBe('modern');
    expect(openapi.body).toMatchObject({ openapi: expect.stringMatching(/^3\.1/) });
  });
});

describe('Strapi webhook → cache invalidation on both services', () => {
  it('an edited article shows its new title through the gateway within 1 s; unrelated cached articles stay cached', async () => {
    const list = ArticleListResponse.parse((await get('/articles?pageSize=2&sort=title:asc')).body);
    const [edited, unrelated] = list.data as [(typeof list.data)[0], (typeof list.data)[0]];
    const paths = [`/articles/${edited.slug}`, `/articles/${unrelated.slug}`];

    // warm both services' caches for both articles
    for (const base of [system.legacyUrl, system.modernUrl]) {
      for (const path of paths) expect((await fetch(`${base}${path}`)).status).toBe(200);
    }
    const slugCalls = (service: 'legacy' | 'modern') => system.upstream[service].length;
    const before = { legacy: slugCalls('legacy'), modern: slugCalls('modern') };
    for (const base of [system.legacyUrl, system.modernUrl]) await fetch(`${base}${paths[1]}`);
    expect({ legacy: slugCalls('legacy'), modern: slugCalls('modern') }).toEqual(before); // cached

    const newTitle = `Edited ${Date.now()}`;
    const relayedBefore = system.webhooksRelayed();
    const put = await fetch(`${system.cms.url}/api/articles/${edited.id}`, {
      method: 'PUT',
      headers: { ...json, authorization: `Bearer ${system.cms.fullAccessToken}` },
      body: JSON.stringify({ data: { title: newTitle } }),
    });
    expect(put.status).toBe(200);
    const editedAt = Date.now();

    // the new title through the gateway (modern) within 1 s of the edit
    let seen = '';
    while (Date.now() - editedAt < 5_000) {
      const body = (await get(paths[0]!)).body as { data?: { title: string } };
      seen = body.data?.title ?? '';
      if (seen === newTitle) break;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    expect(seen).toBe(newTitle);
    expect(Date.now() - editedAt).toBeLessThan(1_000 + 500); // 1 s budget plus a loaded-machine margin
    expect(system.webhooksRelayed()).toBeGreaterThan(relayedBefore);

    // legacy dropped it too (through the Redis bus)
    const legacyBody = (await (await fetch(`${system.legacyUrl}${paths[0]}`)).json()) as {
      data: { title: string };
    };
    expect(legacyBody.data.title).toBe(newTitle);

    // the unrelated article is still cached on both: no new Strapi call
    const beforeUnrelated = { legacy: slugCalls('legacy'), modern: slugCalls('modern') };
    for (const base of [system.legacyUrl, system.modernUrl]) {
      const res = await fetch(`${base}${paths[1]}`);
      expect(res.status).toBe(200);
    }
    expect({ legacy: slugCalls('legacy'), modern: slugCalls('modern') }).toEqual(beforeUnrelated);
  });

  it('GET /events through the gateway streams the change unbuffered', async () => {
    const controller = new AbortController();
    const res = await fetch(`${system.gatewayUrl}/events`, { signal: controller.signal });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    const list = ArticleListResponse.parse((await get('/articles?pageSize=1')).body);
    const target = list.data[0]!;
    await fetch(`${system.cms.url}/api/articles/${target.id}`, {
      method: 'PUT',
      headers: { ...json, authorization: `Bearer ${system.cms.fullAccessToken}` },
      body: JSON.stringify({ data: { summary: `changed ${Date.now()}` } }),
    });
    let text = '';
    const deadline = Date.now() + 10_000;
    while (!text.includes(target.id) && Date.now() < deadline) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value);
    }
    controller.abort();
    expect(text).toContain('event: content.changed');
    expect(text).toContain(target.id);
  });
});
