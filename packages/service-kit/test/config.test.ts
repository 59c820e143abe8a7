import { describe, expect, it } from 'vitest';
import { ConfigError, loadServiceConfig } from '../src/config.ts';
import { createHttpMetrics } from '../src/metrics.ts';
import { requestIdFrom } from '../src/request-id.ts';

describe('loadServiceConfig', () => {
  it('runs on embedded defaults with no environment', () => {
    const config = loadServiceConfig({}, { port: 3001 });
    expect(config.PORT).toBe(3001);
    expect(config.REDIS_URL).toBeUndefined();
    expect(config.WEBHOOK_SECRET).toBeUndefined();
    expect(config.AUTH_USERS).toEqual([
      { id: 'user-demo', username: 'demo', password: 'demo-password', name: 'Demo User' },
    ]);
  });

  it('names every invalid variable in one error', () => {
    let error: unknown;
    try {
      loadServiceConfig({ PORT: 'eighty', STRAPI_URL: 'not a url', JWT_SECRET: 'short' }, { port: 1 });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as ConfigError).message;
    expect(message).toContain('PORT');
    expect(message).toContain('STRAPI_URL');
    expect(message).toContain('JWT_SECRET');
  });

  it('refuses the development JWT secret in production', () => {
    expect(() => loadServiceConfig({ NODE_ENV: 'production' }, { port: 1 })).toThrow(/JWT_SECRET/);
  });

  it('treats an empty REDIS_URL as unset', () => {
    expect(loadServiceConfig({ REDIS_URL: '' }, { port: 1 }).REDIS_URL).toBeUndefined();
  });

  it('rejects a malformed AUTH_USERS entry', () => {
    expect(() => loadServiceConfig({ AUTH_USERS: 'nopassword' }, { port: 1 })).toThrow(/AUTH_USERS/);
  });
});

describe('requestIdFrom', () => {
  it('keeps a safe incoming id and replaces an unsafe one', () => {
    expect(requestIdFrom('abc-123')).toBe('abc-123');
    expect(requestIdFrom('bad id\nwith newline')).toMatch(/^[0-9a-f-]{36}$/);
    expect(requestIdFrom(undefined)).toMatch(/^[0-9a-f-]{36}$/);
    expect(requestIdFrom('x'.repeat(200))).not.toBe('x'.repeat(200));
  });
});

describe('createHttpMetrics', () => {
  it('exports request counts and latency by route and status', async () => {
    const metrics = createHttpMetrics('test');
    metrics.observe('GET', '/articles/:slug', 200, 0.004);
    metrics.observe('GET', '/articles/:slug', 404, 0.002);
    const text = await metrics.registry.metrics();
    expect(text).toContain(
      'http_requests_total{method="GET",route="/articles/:slug",status="200",service="test"} 1',
    );
    expect(text).toContain('http_request_duration_seconds_bucket');
  });
});
