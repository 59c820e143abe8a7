import { HealthResponse, ReadyResponse } from '@pilot/contracts';
import { createMemoryContent } from '@pilot/content';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, closeTestRedis, expectEnvelope, startApp, type TestApp } from './helpers.ts';

let app: TestApp;
beforeAll(async () => {
  app = await startApp();
});
afterAll(async () => {
  await app.close();
  await closeTestRedis();
});

describe('operations', () => {
  it('GET /health is ok', async () => {
    const res = await call(`${app.url}/health`);
    expect(res.status).toBe(200);
    expect(HealthResponse.parse(res.body)).toEqual({ status: 'ok' });
    expect(res.headers.get('cache-control')).toBe('no-store');
  });

  it('GET /ready is 200 with the checks when Strapi and Redis are fine', async () => {
    const res = await call(`${app.url}/ready`);
    expect(res.status).toBe(200);
    expect(ReadyResponse.parse(res.body)).toEqual({
      status: 'ready',
      checks: { strapi: 'up', redis: 'disabled' },
    });
  });

  it('GET /ready is 503 NOT_READY with details.checks when a dependency is down', async () => {
    const content = createMemoryContent({ health: { strapi: 'up', redis: 'down' } });
    const degraded = await startApp({ content });
    try {
      const res = await call(`${degraded.url}/ready`);
      const envelope = expectEnvelope(res, 503, 'NOT_READY');
      expect(envelope.error.details).toEqual({ checks: { strapi: 'up', redis: 'down' } });
      content.setHealth({ strapi: 'up', redis: 'up' });
      expect((await call(`${degraded.url}/ready`)).status).toBe(200);
      content.health = async () => {
        throw new Error('boom');
      };
      const thrown = expectEnvelope(await call(`${degraded.url}/ready`), 503, 'NOT_READY');
      expect(thrown.error.details).toEqual({ checks: { strapi: 'down', redis: 'down' } });
    } finally {
      await degraded.close();
    }
  });

  it('GET /metrics counts requests by route pattern and status', async () => {
    const slug = (await app.content.latestArticles(1))[0]!.slug;
    await fetch(`${app.url}/articles/${slug}`);
    await fetch(`${app.url}/articles/no-such-one`);
    await fetch(`${app.url}/nope/${Math.random()}`);
    const res = await fetch(`${app.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    expect(text).toContain(
      'http_requests_total{method="GET",route="/articles/:slug",status="200",service="legacy"} 1',
    );
    expect(text).toContain(
      'http_requests_total{method="GET",route="/articles/:slug",status="404",service="legacy"} 1',
    );
    expect(text).toContain(
      'http_requests_total{method="GET",route="unmatched",status="404",service="legacy"} 1',
    );
    expect(text).toContain('http_request_duration_seconds_bucket');
    expect(text).not.toContain(slug);
  });
});
