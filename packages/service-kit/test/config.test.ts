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

  const problemsOf = (env: Record<string, string>) => {
    try {
      loadServiceConfig(env, { port: 1 });
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      return (error as ConfigError).problems;
    }
    return [];
  };
  const productionEnv = {
    NODE_ENV: 'production',
    JWT_SECRET: 'q3J0n7c2Vd9xLr4TzYp8WmK1sHb6GfAe',
    STRAPI_READ_TOKEN: 'c1b0d4e6f7a8b9c0d1e2f3a4b5c6d7e8',
    STRAPI_WRITE_TOKEN: 'f9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4',
    WEBHOOK_SECRET: 'Xk2pQ9vL4mN7rT1wZ8yB',
    AUTH_USERS: 'editor:Tg7-pW2m-Lq9z-Xc4v:Editor',
  };

  it('production: with nothing set, one error names every secret that still has its demo default', () => {
    const problems = problemsOf({ NODE_ENV: 'production' });
    expect(problems.map((p) => p.split(':')[0])).toEqual([
      'JWT_SECRET',
      'STRAPI_READ_TOKEN',
      'STRAPI_WRITE_TOKEN',
      'AUTH_USERS',
    ]);
  });

  it('production: refuses every value this repository publishes (compose defaults, manifest placeholders, test secrets)', () => {
    const problems = problemsOf({
      ...productionEnv,
      JWT_SECRET: 'compose-demo-jwt-secret-change-me-0123456789abcdef',
      STRAPI_READ_TOKEN: 'replace-me-read-token',
      STRAPI_WRITE_TOKEN: 'local-write-token-0000000000000000000000000000000000000000',
      WEBHOOK_SECRET: 'compose-demo-webhook-secret-change-me',
      WEBHOOK_HMAC_SECRET: 'test-webhook-hmac-secret-0123456789',
      AUTH_USERS: 'demo:demo-password:Demo User,editor:Tg7-pW2m-Lq9z-Xc4v,short:abc',
      TRUST_PROXY: 'true',
    });
    expect(problems.map((p) => p.split(':')[0])).toEqual([
      'JWT_SECRET',
      'STRAPI_READ_TOKEN',
      'STRAPI_WRITE_TOKEN',
      'WEBHOOK_SECRET',
      'WEBHOOK_HMAC_SECRET',
      'AUTH_USERS',
      'TRUST_PROXY',
    ]);
    expect(problems.find((p) => p.startsWith('AUTH_USERS'))).toContain('demo, short');
    // the message names variables and users, never a value
    expect(problems.join('\n')).not.toMatch(/demo-password|abc|change-me-0123/);
  });

  it('production: a long placeholder is still a placeholder (it passed the old length-only check)', () => {
    const problems = problemsOf({
      ...productionEnv,
      JWT_SECRET: 'replace-me-with-at-least-32-random-characters',
    });
    expect(problems).toEqual([expect.stringMatching(/^JWT_SECRET: /)]);
  });

  it('production: names an invalid value once, and a demo value of another variable with it', () => {
    const problems = problemsOf({ ...productionEnv, JWT_SECRET: 'short', STRAPI_READ_TOKEN: '' });
    expect(problems.map((p) => p.split(':')[0]).sort()).toEqual(['JWT_SECRET', 'STRAPI_READ_TOKEN']);
  });

  it('production: starts with secrets of its own; the webhook secrets may stay unset', () => {
    expect(loadServiceConfig(productionEnv, { port: 1 }).NODE_ENV).toBe('production');
    const { WEBHOOK_SECRET: _unused, ...withoutWebhook } = productionEnv;
    expect(loadServiceConfig(withoutWebhook, { port: 1 }).WEBHOOK_SECRET).toBeUndefined();
  });

  it('outside production the demo defaults run the local stack', () => {
    expect(problemsOf({ NODE_ENV: 'development' })).toEqual([]);
  });

  it('reads TRUST_PROXY as false, a hop count or a list of addresses, ranges and names', () => {
    const trust = (TRUST_PROXY: string) => loadServiceConfig({ TRUST_PROXY }, { port: 1 }).TRUST_PROXY;
    expect(loadServiceConfig({}, { port: 1 }).TRUST_PROXY).toEqual(['loopback']);
    expect(trust('false')).toBe(false);
    expect(trust('2')).toBe(2);
    expect(trust('10.0.0.0/8, uniquelocal,192.0.2.7')).toEqual(['10.0.0.0/8', 'uniquelocal', '192.0.2.7']);
    expect(() => trust('gateway.internal')).toThrow(/TRUST_PROXY/);
  });

  it('validates the login limits', () => {
    const config = loadServiceConfig({}, { port: 1 });
    expect([
      config.LOGIN_LIMIT_PER_USER,
      config.LOGIN_LIMIT_PER_ADDRESS,
      config.LOGIN_LIMIT_WINDOW_SECONDS,
    ]).toEqual([5, 100, 900]);
    expect(() => loadServiceConfig({ LOGIN_LIMIT_PER_USER: '0' }, { port: 1 })).toThrow(
      /LOGIN_LIMIT_PER_USER/,
    );
  });

  it('sizes the in-process cache: 5,000 entries by default, 0 turns it off, negative is refused', () => {
    expect(loadServiceConfig({}, { port: 1 }).CACHE_L1_MAX_ITEMS).toBe(5_000);
    expect(loadServiceConfig({ CACHE_L1_MAX_ITEMS: '0' }, { port: 1 }).CACHE_L1_MAX_ITEMS).toBe(0);
    expect(() => loadServiceConfig({ CACHE_L1_MAX_ITEMS: '-1' }, { port: 1 })).toThrow(/CACHE_L1_MAX_ITEMS/);
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
