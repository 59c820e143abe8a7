import { createStrapiClient } from '@pilot/strapi-client';
import { type FakeStrapi, startFakeStrapi } from '@pilot/strapi-client/testing';
import { type TestRedis, useTestRedis } from '@pilot/test-kit';
import { z } from 'zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  attachStrapiMetrics,
  createHttpMetrics,
  createLogger,
  createServiceDeps,
  loadServiceConfig,
} from '../src/index.ts';

const Doc = z.object({ documentId: z.string(), slug: z.string() });
const logger = createLogger({ service: 'test', level: 'silent' });

let fake: FakeStrapi;
beforeAll(async () => {
  fake = await startFakeStrapi({
    collections: { articles: [{ documentId: 'a1', slug: 'one', title: 'One' }] },
  });
});
afterAll(async () => {
  await fake.close();
});

describe('attachStrapiMetrics', () => {
  it('counts cache outcomes, upstream calls and breaker state (fake Strapi: 503s)', async () => {
    const metrics = createHttpMetrics('test');
    const client = createStrapiClient({
      baseUrl: fake.url,
      retry: { maxAttempts: 0 },
      breaker: { threshold: 1, halfOpenAfterMs: 600_000 },
    });
    const detach = attachStrapiMetrics(metrics.registry, client, { client: 'read' });
    try {
      const articles = client.collection('articles');
      await articles.find({ filters: { slug: 'one' } }, Doc);
      await articles.find({ filters: { slug: 'one' } }, Doc);
      let text = await metrics.registry.metrics();
      expect(text).toContain('cache_events_total{client="read",kind="miss",service="test"} 1');
      expect(text).toContain('cache_events_total{client="read",kind="hit",service="test"} 1');
      expect(text).toContain(
        'strapi_upstream_requests_total{client="read",method="GET",status="200",service="test"} 1',
      );
      expect(text).toContain(
        'strapi_upstream_duration_seconds_count{service="test",client="read",method="GET"} 1',
      );
      expect(text).toContain('strapi_breaker_state{client="read",state="closed",service="test"} 1');

      fake.setFault({ kind: 'status', status: 503 }, 1);
      await articles.find({ filters: { slug: 'other' } }, Doc).catch(() => {});
      text = await metrics.registry.metrics();
      expect(text).toContain(
        'strapi_upstream_requests_total{client="read",method="GET",status="503",service="test"} 1',
      );
      expect(text).toContain('strapi_breaker_state{client="read",state="open",service="test"} 1');
      expect(text).toContain('strapi_breaker_state{client="read",state="closed",service="test"} 0');
    } finally {
      detach();
      await client.close();
    }
  });

  it('lets two clients report into one registry', async () => {
    const metrics = createHttpMetrics('test');
    const a = createStrapiClient({ baseUrl: fake.url });
    const b = createStrapiClient({ baseUrl: fake.url, cache: { enabled: false } });
    attachStrapiMetrics(metrics.registry, a, { client: 'read' });
    attachStrapiMetrics(metrics.registry, b, { client: 'write' });
    await b.collection('articles').find(undefined, Doc);
    const text = await metrics.registry.metrics();
    expect(text).toContain('cache_events_total{client="write",kind="bypass",service="test"} 1');
    await Promise.all([a.close(), b.close()]);
  });
});

describe('createServiceDeps', () => {
  it('runs without Redis: in-memory sessions, Redis disabled (fake Strapi: healthy)', async () => {
    const config = loadServiceConfig({ STRAPI_URL: fake.url }, { port: 0 });
    const deps = createServiceDeps(config, logger, { service: 'test' });
    try {
      expect(deps.redis).toBeUndefined();
      expect(deps.strapi.read.options.cache.l1MaxItems).toBe(config.CACHE_L1_MAX_ITEMS);
      const pair = await deps.auth.login('demo', 'demo-password');
      expect((await deps.auth.refresh(pair.refreshToken)).tokenType).toBe('Bearer');
      expect(await deps.content.health()).toEqual({ strapi: 'up', redis: 'disabled' });
      expect(await deps.content.getArticle('one')).toMatchObject({ id: 'a1', slug: 'one' });
      expect(await deps.metrics.registry.metrics()).toContain(
        'cache_events_total{client="read",kind="miss",service="test"} 1',
      );
    } finally {
      await deps.close();
      await deps.close();
    }
  });

  it('reports Strapi down when it is (fake Strapi: stopped)', async () => {
    const gone = await startFakeStrapi();
    await gone.close();
    const deps = createServiceDeps(loadServiceConfig({ STRAPI_URL: gone.url }, { port: 0 }), logger);
    expect(await deps.content.health()).toEqual({ strapi: 'down', redis: 'disabled' });
    await expect(
      deps.content.listArticles({ page: 1, pageSize: 1, sort: 'publishedAt:desc' }),
    ).rejects.toMatchObject({
      code: 'SERVICE_UNAVAILABLE',
    });
    await deps.close();
  });

  describe('with Redis', () => {
    let redis: TestRedis;
    beforeAll(async () => {
      redis = await useTestRedis('service-deps');
    });
    afterAll(async () => {
      await redis.cleanup();
    });

    it('keeps sessions in Redis and reports it up (fake Strapi: healthy)', async () => {
      const config = loadServiceConfig({ STRAPI_URL: fake.url, REDIS_URL: redis.url }, { port: 0 });
      const deps = createServiceDeps(config, logger, { service: 'test', redisPrefix: redis.prefix });
      try {
        expect(deps.redis).toBeDefined();
        expect(await deps.strapi.read.ready(10_000)).toBe(true);
        const pair = await deps.auth.login('demo', 'demo-password');
        expect(await redis.client.keys(`${redis.prefix}auth:*`)).toHaveLength(2);
        await deps.auth.refresh(pair.refreshToken);
        await expect(deps.auth.refresh(pair.refreshToken)).rejects.toMatchObject({
          code: 'REFRESH_TOKEN_REUSED',
        });
        expect(await deps.content.health()).toEqual({ strapi: 'up', redis: 'up' });
      } finally {
        await deps.close();
      }
      expect(deps.redis?.status).toBe('end');
    });
  });
});
