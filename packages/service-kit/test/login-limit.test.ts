import { ApiError } from '@pilot/contracts';
import { type TestRedis, useTestRedis } from '@pilot/test-kit';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  addressKey,
  createLoginLimiter,
  type LoginLimiter,
  type LoginLimitOptions,
} from '../src/login-limit.ts';

const PASSWORD = 'right-password';
const options: LoginLimitOptions = { perUserAddress: 5, perAddress: 20, windowSeconds: 900 };

/** A login that succeeds with PASSWORD only, counting how often the password was checked. */
function checker() {
  const checked = { count: 0 };
  const login = (password: string) => async () => {
    checked.count += 1;
    if (password !== PASSWORD) throw new ApiError('INVALID_CREDENTIALS');
    return { token: 't' };
  };
  return { checked, login };
}

async function outcome(
  limiter: LoginLimiter,
  username: string,
  address: string,
  login: () => Promise<unknown>,
) {
  try {
    const { headers } = await limiter.attempt(username, address, login);
    return { status: 200, headers };
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    return { status: error.status, code: error.code, headers: error.headers };
  }
}

let redis: TestRedis;
beforeAll(async () => {
  redis = await useTestRedis('login-limit');
});
afterAll(async () => {
  await redis.cleanup();
});

describe.each([
  ['in memory', () => createLoginLimiter(options)],
  [
    'in Redis',
    () => createLoginLimiter({ ...options, redis: redis.client, prefix: `${redis.prefix}${Math.random()}:` }),
  ],
] as const)('login limit %s', (_store, make) => {
  it('60 wrong passwords: 429 after the 5th; the right password while limited is still 429 and never checked', async () => {
    const limiter = make();
    const { checked, login } = checker();
    const statuses: number[] = [];
    for (let i = 0; i < 60; i += 1)
      statuses.push((await outcome(limiter, 'demo', '203.0.113.9', login('nope'))).status);
    expect(statuses.slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
    expect(new Set(statuses.slice(5))).toEqual(new Set([429]));
    expect(checked.count).toBe(5);

    const right = await outcome(limiter, 'demo', '203.0.113.9', login(PASSWORD));
    expect(right).toMatchObject({ status: 429, code: 'RATE_LIMITED' });
    expect(checked.count).toBe(5);
    const retryAfter = Number(right.headers['retry-after']);
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(900);
    expect(right.headers['ratelimit-policy']).toBe(
      '"login-user-address";q=5;w=900, "login-address";q=20;w=900',
    );
    expect(right.headers.ratelimit).toMatch(/^"login-user-address";r=0;t=\d+, "login-address";r=\d+;t=\d+$/);

    // another user from the same address, and the same user from another address, still get in
    expect((await outcome(limiter, 'ann', '203.0.113.9', login(PASSWORD))).status).toBe(200);
    expect((await outcome(limiter, 'demo', '198.51.100.1', login(PASSWORD))).status).toBe(200);
  });

  it('counts case and Unicode variants of a username as the same username', async () => {
    const limiter = make();
    const { login } = checker();
    for (const name of ['Demo', 'DEMO', 'demo', 'ｄｅｍｏ', 'dEmo'])
      await outcome(limiter, name, '203.0.113.10', login('x'));
    expect((await outcome(limiter, 'demo', '203.0.113.10', login(PASSWORD))).status).toBe(429);
  });

  it('a successful login clears the username+address counter and does not count against the address', async () => {
    const limiter = make();
    const { login } = checker();
    for (let round = 0; round < 3; round += 1) {
      for (let i = 0; i < 4; i += 1)
        expect((await outcome(limiter, 'demo', '203.0.113.11', login('x'))).status).toBe(401);
      const ok = await outcome(limiter, 'demo', '203.0.113.11', login(PASSWORD));
      expect(ok.status).toBe(200);
      expect(ok.headers.ratelimit).toMatch(/^"login-user-address";r=5;t=0, "login-address";r=\d+;t=\d+$/);
    }
    // 12 failures so far on the address (limit 20): 8 more, then the address is limited
    for (let i = 0; i < 8; i += 1) await outcome(limiter, `user${i}`, '203.0.113.11', login('x'));
    expect((await outcome(limiter, 'someone-else', '203.0.113.11', login(PASSWORD))).status).toBe(429);
  });

  it('the per-address limit covers every username, and an IPv6 client by its /64', async () => {
    const limiter = make();
    const { login } = checker();
    for (let i = 0; i < 20; i += 1) {
      const address = `2001:db8:1:2:${i.toString(16)}::1`; // one /64, many addresses
      expect((await outcome(limiter, `guess${i}`, address, login('x'))).status).toBe(401);
    }
    expect((await outcome(limiter, 'demo', '2001:db8:1:2:ffff::9', login(PASSWORD))).status).toBe(429);
    expect((await outcome(limiter, 'demo', '2001:db8:1:3::1', login(PASSWORD))).status).toBe(200);
  });

  it('a failure that is not the client’s (the session store is down) does not count', async () => {
    const limiter = make();
    const down = async () => {
      throw new ApiError('SERVICE_UNAVAILABLE');
    };
    for (let i = 0; i < 10; i += 1)
      expect((await outcome(limiter, 'demo', '203.0.113.12', down)).status).toBe(503);
    expect((await outcome(limiter, 'demo', '203.0.113.12', checker().login(PASSWORD))).status).toBe(200);
  });
});

describe('login limit across instances', () => {
  it('two instances on one Redis share the counters', async () => {
    const prefix = `${redis.prefix}shared:`;
    const a = createLoginLimiter({ ...options, redis: redis.client, prefix });
    const b = createLoginLimiter({ ...options, redis: redis.client, prefix });
    const { login } = checker();
    for (let i = 0; i < 5; i += 1) await outcome(i % 2 ? a : b, 'demo', '203.0.113.20', login('x'));
    expect((await outcome(a, 'demo', '203.0.113.20', login(PASSWORD))).status).toBe(429);
    expect((await outcome(b, 'demo', '203.0.113.20', login(PASSWORD))).status).toBe(429);
  });

  it('with Redis unreachable, it keeps limiting in the process and answers at once', async () => {
    const gone = new Redis('redis://127.0.0.1:9', { lazyConnect: true, maxRetriesPerRequest: 1 });
    gone.on('error', () => {});
    const limiter = createLoginLimiter({ ...options, redis: gone });
    const { login } = checker();
    const started = performance.now();
    const statuses = [];
    for (let i = 0; i < 7; i += 1)
      statuses.push((await outcome(limiter, 'demo', '203.0.113.30', login('x'))).status);
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429, 429]);
    // generous bound: no command timeout or reconnect wait per attempt (they would take seconds)
    expect(performance.now() - started).toBeLessThan(2_000);
    gone.disconnect();
  });
});

describe('addressKey', () => {
  it('maps IPv4-mapped IPv6 to IPv4, IPv6 to its /64, and leaves anything else as it is', () => {
    expect(addressKey('::ffff:192.0.2.1')).toBe('192.0.2.1');
    expect(addressKey('192.0.2.1')).toBe('192.0.2.1');
    expect(addressKey('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(addressKey('2001:DB8:0:0:ffff::')).toBe('2001:db8:0:0::/64');
    expect(addressKey('not an address')).toBe('not an address');
  });
});
