/**
 * The strict limit on POST /auth/login, in both apps (legacy and modern on real sockets): wrong
 * passwords from one client are refused with 429 long before 60, the right password while
 * limited too, in the error envelope with Retry-After and the RateLimit headers; clients are
 * told apart by the address the trusted proxy (here loopback, like the gateway) forwards; with
 * a shared Redis the two apps count together.
 */
import { createMemoryContent } from '@pilot/content';
import { ErrorEnvelope, HEADERS } from '@pilot/contracts';
import { createApp as createLegacyApp, listen as listenLegacy } from '@pilot/legacy';
import { type LoginLimiter, loginLimiterFor } from '@pilot/service-kit';
import { type TestRedis, useTestRedis } from '@pilot/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp as createModernApp } from '../src/index.ts';
import { testDeps } from './helpers.ts';

type Side = 'legacy' | 'modern';
const SIDES: Side[] = ['legacy', 'modern'];
const closers: Array<() => Promise<unknown>> = [];

async function start(
  side: Side,
  options: { env?: Record<string, string>; loginLimiter?: LoginLimiter } = {},
): Promise<string> {
  const deps = testDeps({ content: createMemoryContent(), ...options });
  if (side === 'legacy') {
    const running = await listenLegacy(createLegacyApp(deps), { host: '127.0.0.1', port: 0 });
    closers.push(() => running.close(1_000));
    return running.url;
  }
  const app = createModernApp(deps);
  closers.push(() => app.close());
  return app.listen({ host: '127.0.0.1', port: 0 });
}

afterAll(async () => {
  await Promise.all(closers.map((close) => close()));
});

async function login(url: string, password: string, client = '203.0.113.50', username = 'demo') {
  const res = await fetch(`${url}/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-forwarded-for': client },
    body: JSON.stringify({ username, password }),
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as unknown };
}

describe.each(SIDES)('%s: POST /auth/login is limited', (side) => {
  let url: string;
  beforeAll(async () => {
    url = await start(side);
  });

  it('60 wrong passwords: 429 from the 6th on, and the right password while limited is still a 429', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 60; i += 1) statuses.push((await login(url, `wrong-${i}`)).status);
    expect(statuses.indexOf(429)).toBe(5);
    expect(statuses.filter((s) => s === 401)).toHaveLength(5);

    const right = await login(url, 'demo-password');
    expect(right.status).toBe(429);
    expect(right.headers.get('content-type')).toBe(HEADERS.contentType);
    expect(right.headers.get('cache-control')).toBe('no-store');
    expect(ErrorEnvelope.parse(right.body).error).toMatchObject({ status: 429, code: 'RATE_LIMITED' });
    expect(Number(right.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(right.headers.get('ratelimit-policy')).toBe(
      '"login-user-address";q=5;w=900, "login-address";q=100;w=900',
    );
    expect(right.headers.get('ratelimit')).toMatch(
      /^"login-user-address";r=0;t=\d+, "login-address";r=95;t=\d+$/,
    );
  });

  it('another client (another forwarded address) is not affected, and its success resets its own counter', async () => {
    for (let round = 0; round < 3; round += 1) {
      for (let i = 0; i < 4; i += 1) expect((await login(url, 'nope', '198.51.100.7')).status).toBe(401);
      const ok = await login(url, 'demo-password', '198.51.100.7');
      expect(ok.status).toBe(200);
      expect(ok.headers.get('ratelimit')).toMatch(/^"login-user-address";r=5;t=0, /);
    }
  });

  it('a wrong password answers 401 with what is left of the limit', async () => {
    const wrong = await login(url, 'nope', '192.0.2.99');
    expect(wrong.status).toBe(401);
    expect(ErrorEnvelope.parse(wrong.body).error.code).toBe('INVALID_CREDENTIALS');
    expect(wrong.headers.get('ratelimit')).toMatch(
      /^"login-user-address";r=4;t=\d+, "login-address";r=99;t=\d+$/,
    );
    expect(wrong.headers.get('retry-after')).toBeNull();
  });
});

describe('configuration and sharing', () => {
  it('LOGIN_LIMIT_* set the limits (both apps)', async () => {
    for (const side of SIDES) {
      const url = await start(side, {
        env: { LOGIN_LIMIT_PER_USER: '2', LOGIN_LIMIT_PER_ADDRESS: '3', LOGIN_LIMIT_WINDOW_SECONDS: '60' },
      });
      expect((await login(url, 'x', '192.0.2.1')).status, side).toBe(401);
      expect((await login(url, 'x', '192.0.2.1')).status, side).toBe(401);
      const third = await login(url, 'demo-password', '192.0.2.1');
      expect(third.status, side).toBe(429);
      expect(third.headers.get('ratelimit-policy')).toBe(
        '"login-user-address";q=2;w=60, "login-address";q=3;w=60',
      );
      expect((await login(url, 'x', '192.0.2.1', 'ann')).status, side).toBe(401);
      expect((await login(url, 'ann-password', '192.0.2.1', 'ann')).status, side).toBe(429); // address: 3 failures
    }
  });

  describe('with Redis', () => {
    let redis: TestRedis;
    beforeAll(async () => {
      redis = await useTestRedis('login-limit-apps');
    });
    afterAll(async () => {
      await redis.cleanup();
    });

    it('failures on legacy count on modern: one limit for every instance of both apps', async () => {
      const env = { LOGIN_LIMIT_PER_USER: '5' };
      // each app its own limiter (as each process has), on the one Redis
      const limiter = () => loginLimiterFor(testDeps({ env }).config, redis.client, `${redis.prefix}login:`);
      const legacy = await start('legacy', { env, loginLimiter: limiter() });
      const modern = await start('modern', { env, loginLimiter: limiter() });
      for (let i = 0; i < 5; i += 1) await login(i % 2 === 0 ? legacy : modern, 'nope', '203.0.113.77');
      expect((await login(modern, 'demo-password', '203.0.113.77')).status).toBe(429);
      expect((await login(legacy, 'demo-password', '203.0.113.77')).status).toBe(429);
      expect(await redis.client.keys(`${redis.prefix}login:*`)).not.toHaveLength(0);
    });
  });
});
