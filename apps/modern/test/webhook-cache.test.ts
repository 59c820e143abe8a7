import { HEADERS } from '@pilot/contracts';
import { createApp as createLegacyApp, listen as listenLegacy } from '@pilot/legacy';
import { createLogger, createServiceDeps, type ServiceDeps } from '@pilot/service-kit';
import { type FakeStrapi, startFakeStrapi } from '@pilot/strapi-client/testing';
import { type TestRedis, useTestRedis } from '@pilot/test-kit';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../src/index.ts';
import { testConfig, WEBHOOK_SECRET } from './helpers.ts';

const article = (documentId: string, slug: string) => ({
  documentId,
  slug,
  title: `Title ${slug}`,
  summary: `Summary ${slug}`,
  body: `Body ${slug}`,
  publishedAt: '2025-01-01T00:00:00.000Z',
  updatedAt: '2025-01-01T00:00:00.000Z',
  author: null,
});

describe('webhook → cache invalidation on every instance of both apps (fake Strapi, real Redis)', () => {
  let strapi: FakeStrapi;
  let redis: TestRedis;
  let modernDeps: ServiceDeps;
  let legacyDeps: ServiceDeps;
  let modern: FastifyInstance;
  let legacy: { url: string; close(): Promise<unknown> };

  beforeAll(async () => {
    strapi = await startFakeStrapi({
      collections: {
        articles: [article('doc-a', 'alpha'), article('doc-b', 'beta'), article('doc-c', 'gamma')],
      },
    });
    redis = await useTestRedis('modern-webhook-cache');
    const config = testConfig({ STRAPI_URL: strapi.url, REDIS_URL: redis.url });
    const logger = createLogger({ service: 'test', level: 'silent' });
    modernDeps = createServiceDeps(config, logger, { service: 'modern', redisPrefix: redis.prefix });
    legacyDeps = createServiceDeps(config, logger, { service: 'legacy', redisPrefix: redis.prefix });
    await Promise.all([modernDeps.strapi.read.ready(), legacyDeps.strapi.read.ready()]);
    modern = createApp({
      config,
      logger,
      content: modernDeps.content,
      auth: modernDeps.auth,
      metrics: modernDeps.metrics,
      tuning: { underPressure: false },
    });
    await modern.ready();
    legacy = await listenLegacy(
      createLegacyApp({ config, logger, content: legacyDeps.content, auth: legacyDeps.auth }),
      { host: '127.0.0.1', port: 0 },
    );
  });

  afterAll(async () => {
    await modern?.close();
    await legacy?.close();
    await Promise.all([modernDeps?.close(), legacyDeps?.close()]);
    await strapi?.close();
    await redis?.cleanup();
  });

  /** Strapi calls that looked up one slug. */
  const lookups = (slug: string) =>
    strapi.requests.filter(
      (r) => r.path === '/api/articles' && decodeURIComponent(r.query).includes(`[slug][$eq]=${slug}`),
    ).length;
  const getModern = async (slug: string) => (await modern.inject(`/articles/${slug}`)).statusCode;
  const getLegacy = async (slug: string) => (await fetch(`${legacy.url}/articles/${slug}`)).status;

  it('drops exactly the changed document on modern and legacy; other keys stay warm', async () => {
    // warm both apps (L1 each, L2 shared): one Strapi lookup per slug at most per instance
    for (const slug of ['alpha', 'beta']) {
      expect(await getModern(slug)).toBe(200);
      expect(await getLegacy(slug)).toBe(200);
    }
    const warm = { alpha: lookups('alpha'), beta: lookups('beta') };
    for (const slug of ['alpha', 'beta']) {
      await getModern(slug);
      await getLegacy(slug);
    }
    expect({ alpha: lookups('alpha'), beta: lookups('beta') }).toEqual(warm); // all cached

    const legacyHeard = new Promise<string[]>((resolve) => {
      const off = legacyDeps.strapi.read.on('invalidate', (event) => {
        if (event.source === 'remote') {
          off();
          resolve(event.tags);
        }
      });
    });
    const res = await modern.inject({
      method: 'POST',
      url: '/webhooks/strapi',
      headers: { [HEADERS.webhookSecret]: WEBHOOK_SECRET },
      payload: {
        event: 'entry.update',
        model: 'article',
        entry: { id: 1, documentId: 'doc-a', slug: 'alpha' },
      },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json().data.invalidated).toEqual(['type:articles', 'doc:articles:doc-a']);
    expect(await legacyHeard).toEqual(['type:articles', 'doc:articles:doc-a']);

    // alpha is fetched again by each app (once), beta is still served from cache
    expect(await getModern('alpha')).toBe(200);
    expect(await getLegacy('alpha')).toBe(200);
    expect(await getModern('beta')).toBe(200);
    expect(await getLegacy('beta')).toBe(200);
    expect(lookups('alpha')).toBeGreaterThan(warm.alpha);
    expect(lookups('alpha')).toBeLessThanOrEqual(warm.alpha + 2);
    expect(lookups('beta')).toBe(warm.beta);
  });

  it('a read answered from L1 without a promise is the first read’s answer: body and headers; an unknown slug stays 404', async () => {
    expect(modernDeps.content.cachedArticle('gamma')).toBeUndefined();
    const cold = await modern.inject('/articles/gamma');
    expect(cold.statusCode).toBe(200);
    expect(modernDeps.content.cachedArticle('gamma')).toBeDefined(); // the next read takes the sync path
    const cached = await modern.inject('/articles/gamma');
    expect(cached.statusCode).toBe(200);
    expect(cached.body).toBe(cold.body);
    expect(cached.json().data).toMatchObject({ id: 'doc-c', slug: 'gamma', title: 'Title gamma' });
    const same = (h: Record<string, unknown>) => ({
      'content-type': h['content-type'],
      'content-length': h['content-length'],
      'cache-control': h['cache-control'],
    });
    expect(same(cached.headers)).toEqual(same(cold.headers));
    expect(cached.headers['cache-control']).toBe(HEADERS.publicReadCacheControl);
    expect(cached.headers[HEADERS.requestId]).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
    expect(cached.headers[HEADERS.requestId]).not.toBe(cold.headers[HEADERS.requestId]);
    for (let i = 0; i < 2; i++) {
      const missing = await modern.inject('/articles/no-such-slug');
      expect(missing.statusCode).toBe(404);
      expect(missing.json().error.code).toBe('NOT_FOUND');
      expect(missing.headers['cache-control']).toBe(HEADERS.privateCacheControl);
    }
  });

  it('a refused webhook invalidates nothing', async () => {
    const before = { alpha: lookups('alpha'), beta: lookups('beta') };
    const res = await modern.inject({
      method: 'POST',
      url: '/webhooks/strapi',
      headers: { [HEADERS.webhookSecret]: 'not-the-secret-at-all' },
      payload: { event: 'entry.update', model: 'article', entry: { documentId: 'doc-b' } },
    });
    expect(res.statusCode).toBe(401);
    await getModern('beta');
    await getLegacy('beta');
    expect({ alpha: lookups('alpha'), beta: lookups('beta') }).toEqual(before);
  });
});
