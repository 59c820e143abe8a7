import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { type TestRedis, useTestRedis } from '@pilot/test-kit';
import fc from 'fast-check';
import { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { Agent } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { limitsSchema } from '../src/config/limits.ts';
import { parseTable } from '../src/config/load.ts';
import { TableError } from '../src/errors.ts';
import { RateLimits, type RateLimitOptions } from '../src/pipeline/rate-limit.ts';
import type { CompiledRoute, Table } from '../src/table.ts';
import type { GatewayHandle } from '../src/index.ts';
import {
  type Backends,
  call,
  copyDefaultTable,
  silent,
  startBackends,
  startGateway,
  table as tableText,
  tempDir,
  writeTable,
} from './helpers.ts';
import { startThrowawayRedis, type ThrowawayRedis } from './redis-server.ts';

/**
 * The rate-limit stage on its own: a bare node:http server runs it in front of a handler that
 * answers 200, on a table snapshot made of just what the stage reads. The same cases run with
 * the counters in this process and in the real Redis (a key prefix per test).
 */

type Policies = unknown[] | undefined;

interface Harness {
  url: string;
  stage: RateLimits;
  registry: Registry;
  /** Swaps in a new table snapshot (a reload): new route objects with the same ids. */
  reload(): void;
  close(): Promise<void>;
}

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of closers.splice(0)) await c();
});

function snapshot(routes: Record<string, Policies>, settings: { limits?: unknown[]; trustProxy?: boolean }) {
  const table = {
    settings: {
      trustProxy: settings.trustProxy ?? false,
      backendHeader: 'x-backend',
      limits: limitsSchema.parse(settings.limits ?? []),
    },
  } as unknown as Table;
  const compiled = new Map<string, CompiledRoute>();
  for (const [id, limits] of Object.entries(routes)) {
    compiled.set(id, {
      id,
      config: { limits: limits === undefined ? undefined : limitsSchema.parse(limits) },
    } as unknown as CompiledRoute);
  }
  return { table, compiled };
}

async function harness(
  routes: Record<string, Policies>,
  settings: { limits?: unknown[]; trustProxy?: boolean } = {},
  options: Partial<RateLimitOptions> = {},
): Promise<Harness> {
  const registry = new Registry();
  const stage = new RateLimits({ logger: silent, registry, ...options });
  let current = snapshot(routes, settings);
  const server = http.createServer((req, res) => {
    const id = (req.url ?? '/').split('/')[1] ?? '';
    const route = current.compiled.get(id);
    if (!route) {
      res.writeHead(404).end();
      return;
    }
    const { table } = current;
    stage.admit(req, res, table, route, () => {
      req.resume();
      req.once('end', () => {
        // x-answer: the status the "backend" answers with (401: a failed login)
        res.writeHead(Number(req.headers['x-answer'] ?? 200), { 'content-type': 'application/json' });
        res.end(JSON.stringify({ route: id }));
      });
    });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const h: Harness = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    stage,
    registry,
    reload: () => {
      current = snapshot(routes, settings);
    },
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await stage.close();
    },
  };
  closers.push(() => h.close());
  return h;
}

/** One keep-alive client per local address: 127.0.0.0/8 is all loopback, so each is a client of its own. */
const agents = new Map<string, Agent>();
function from(address: string): Agent {
  let agent = agents.get(address);
  if (!agent) {
    agent = new Agent({ localAddress: address, connections: 1, keepAliveTimeout: 30_000 });
    agents.set(address, agent);
  }
  return agent;
}
afterAll(async () => {
  for (const a of agents.values()) await a.close();
});

const get = (url: string, address = '127.0.0.2', headers: Record<string, string> = {}) =>
  call(url, { dispatcher: from(address), headers });

async function statuses(url: string, n: number, address?: string, headers?: Record<string, string>) {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push((await get(url, address, headers)).status);
  return out;
}

/** The items of a RateLimit field: name → { r, t }. */
function items(field: unknown): Record<string, { r: number; t: number }> {
  const out: Record<string, { r: number; t: number }> = {};
  for (const item of String(field).split(', ')) {
    const m = /^"([^"]+)";r=(\d+);t=(\d+)$/.exec(item);
    expect(m, `RateLimit item ${item}`).not.toBeNull();
    out[m![1]!] = { r: Number(m![2]), t: Number(m![3]) };
  }
  return out;
}

let redis: TestRedis;
beforeAll(async () => {
  redis = await useTestRedis('rate-limit');
});
afterAll(async () => {
  await redis.cleanup();
});

let testNo = 0;
const stores = [
  ['in process', (): Partial<RateLimitOptions> => ({})],
  [
    'in Redis',
    (): Partial<RateLimitOptions> => ({ redisUrl: redis.url, redisPrefix: `${redis.prefix}${++testNo}:` }),
  ],
] as const;

/** Resolves once the stage counts in Redis (the connection is up). */
async function redisReady(h: Harness, want = 1): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const metric = await h.registry.getSingleMetric('gateway_rate_limit_redis_up')?.get();
    if (metric?.values[0]?.value === want) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`rate limits never reported redis_up=${want}`);
}

async function make(
  store: () => Partial<RateLimitOptions>,
  routes: Record<string, Policies>,
  settings: { limits?: unknown[]; trustProxy?: boolean } = {},
): Promise<Harness> {
  const options = store();
  const h = await harness(routes, settings, options);
  if (options.redisUrl) await redisReady(h);
  return h;
}

describe.each(stores)('rate limits counted %s', (_name, store) => {
  it('admits `requests` per client and window, then answers 429 in the envelope with Retry-After, RateLimit and RateLimit-Policy', async () => {
    const h = await make(store, { a: [{ name: 'burst', requests: 4, window: '60s' }] });
    const seen: Array<{ r: number; t: number }> = [];
    for (let i = 0; i < 4; i++) {
      const ok = await get(`${h.url}/a`);
      expect(ok.status).toBe(200);
      if (i === 0) {
        // far from the quota: nothing to pace, no fields
        expect(ok.headers.ratelimit).toBeUndefined();
        continue;
      }
      // from half the quota on, every answer says what is left
      expect(ok.headers['ratelimit-policy']).toBe('"burst";q=4;w=60');
      seen.push(items(ok.headers.ratelimit).burst!);
    }
    expect(seen.map((s) => s.r)).toEqual([2, 1, 0]);
    for (const s of seen) {
      expect(s.t).toBeGreaterThanOrEqual(58);
      expect(s.t).toBeLessThanOrEqual(60);
    }

    const refused = await get(`${h.url}/a`);
    expect(refused.status).toBe(429);
    expect(refused.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(refused.headers['x-backend']).toBe('gateway');
    const body = refused.json<{ error: { status: number; code: string; message: string } }>();
    expect(body).toEqual({
      error: { status: 429, code: 'RATE_LIMITED', message: expect.stringContaining('"burst"') },
    });
    expect(body.error.message).toContain('4 requests per 60 s');
    const retryAfter = Number(refused.headers['retry-after']);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(refused.headers['ratelimit-policy']).toBe('"burst";q=4;w=60');
    expect(items(refused.headers.ratelimit).burst).toEqual({ r: 0, t: retryAfter });
    // it stays refused (a key over its quota may be refused from memory: same answer)
    expect(await statuses(`${h.url}/a`, 3)).toEqual([429, 429, 429]);
    const metric = await h.registry.getSingleMetric('gateway_rate_limited_total')!.get();
    expect(metric.values).toEqual([{ value: 4, labels: { route: 'a', policy: 'burst' } }]);
  });

  it('counts per client address and per route', async () => {
    const h = await make(store, { a: [{ requests: 2, window: '1m' }], b: [{ requests: 2, window: '1m' }] });
    expect(await statuses(`${h.url}/a`, 3, '127.0.0.2')).toEqual([200, 200, 429]);
    expect(await statuses(`${h.url}/a`, 3, '127.0.0.3')).toEqual([200, 200, 429]);
    expect(await statuses(`${h.url}/b`, 3, '127.0.0.2')).toEqual([200, 200, 429]);
  });

  it('believes no X-Forwarded-For without trustProxy; with it, the last entry is the client', async () => {
    const untrusted = await make(store, { a: [{ requests: 2, window: '1m' }] });
    const spoofed = await Promise.all(
      ['198.51.100.1', '198.51.100.2', '198.51.100.3'].map((x) =>
        get(`${untrusted.url}/a`, '127.0.0.4', { 'x-forwarded-for': x }),
      ),
    );
    expect(spoofed.map((r) => r.status).sort()).toEqual([200, 200, 429]);

    const behindProxy = await make(store, { a: [{ requests: 2, window: '1m' }] }, { trustProxy: true });
    const xff = (v: string) => ({ 'x-forwarded-for': v });
    // what the client wrote before the proxy's entry changes nothing
    expect([
      (await get(`${behindProxy.url}/a`, '127.0.0.5', xff('1.1.1.1, 203.0.113.5'))).status,
      (await get(`${behindProxy.url}/a`, '127.0.0.5', xff('2.2.2.2, 203.0.113.5'))).status,
      (await get(`${behindProxy.url}/a`, '127.0.0.5', xff('203.0.113.5'))).status,
    ]).toEqual([200, 200, 429]);
    expect((await get(`${behindProxy.url}/a`, '127.0.0.5', xff('203.0.113.5, 203.0.113.6'))).status).toBe(
      200,
    );
    // IPv6 clients by their /64; a port the proxy added is not part of the address
    expect((await get(`${behindProxy.url}/a`, '127.0.0.5', xff('[2001:db8:1:2::1]:4711'))).status).toBe(200);
    expect((await get(`${behindProxy.url}/a`, '127.0.0.5', xff('2001:db8:1:2:ffff::9'))).status).toBe(200);
    expect((await get(`${behindProxy.url}/a`, '127.0.0.5', xff('2001:db8:1:2::7'))).status).toBe(429);
    expect((await get(`${behindProxy.url}/a`, '127.0.0.5', xff('2001:db8:1:3::7'))).status).toBe(200);
    // an unreadable last entry: the connection's address (127.0.0.5 has not been counted yet)
    expect(await statuses(`${behindProxy.url}/a`, 3, '127.0.0.5', xff('1.1.1.1, bogus'))).toEqual([
      200, 200, 429,
    ]);
  });

  it('keys by a header or the JWT subject when present (first present wins), else by address', async () => {
    const h = await make(store, { a: [{ requests: 1, window: '1m', key: ['header:x-api-key', 'jwt:sub'] }] });
    const jwt = (sub: string) =>
      `Bearer e30.${Buffer.from(JSON.stringify({ sub })).toString('base64url')}.sig`;
    const url = `${h.url}/a`;
    expect((await get(url, '127.0.0.6', { 'x-api-key': 'k1' })).status).toBe(200);
    expect((await get(url, '127.0.0.6', { 'x-api-key': 'k1' })).status).toBe(429);
    expect((await get(url, '127.0.0.6', { 'x-api-key': 'k2' })).status).toBe(200);
    expect((await get(url, '127.0.0.6', { authorization: jwt('ann') })).status).toBe(200);
    expect((await get(url, '127.0.0.6', { authorization: jwt('ann') })).status).toBe(429);
    // the header comes first: the same subject with another key is another client
    expect((await get(url, '127.0.0.6', { authorization: jwt('ann'), 'x-api-key': 'k3' })).status).toBe(200);
    // neither: the address (not yet counted)
    expect(await statuses(url, 2, '127.0.0.6')).toEqual([200, 429]);
    // a key too long to be a key is no key: the address again
    expect((await get(url, '127.0.0.6', { 'x-api-key': 'x'.repeat(300) })).status).toBe(429);
  });

  it('several policies: all are counted, the first over its quota refuses, both fields list each in order', async () => {
    const h = await make(store, {
      a: [
        { name: 'burst', requests: 2, window: '10s' },
        { name: 'hourly', requests: 5, window: '1h' },
      ],
    });
    const replies = [];
    for (let i = 0; i < 3; i++) replies.push(await get(`${h.url}/a`, '127.0.0.7'));
    expect(replies.map((r) => r.status)).toEqual([200, 200, 429]);
    expect(replies[2]!.headers['ratelimit-policy']).toBe('"burst";q=2;w=10, "hourly";q=5;w=3600');
    const last = items(replies[2]!.headers.ratelimit);
    expect(Object.keys(last)).toEqual(['burst', 'hourly']);
    expect(last.burst!.r).toBe(0);
    expect(last.hourly!.r).toBe(2); // the refused request counts too
    expect(Number(replies[2]!.headers['retry-after'])).toBeLessThanOrEqual(10);
    expect(replies[2]!.json<{ error: { message: string } }>().error.message).toContain('"burst"');
  });

  it('countStatus: only answers with those statuses count; at the quota every request is refused before it goes on', async () => {
    const h = await make(store, {
      login: [{ name: 'login-failures', requests: 3, window: '15m', countStatus: [401] }],
    });
    const url = `${h.url}/login`;
    const ok = { 'x-answer': '200' };
    const wrong = { 'x-answer': '401' };
    // successes are never counted
    expect(await statuses(url, 6, '127.0.0.15', ok)).toEqual([200, 200, 200, 200, 200, 200]);
    expect(await statuses(url, 2, '127.0.0.15', wrong)).toEqual([401, 401]);
    // counted once answered: two failures so far, one left
    const third = await get(url, '127.0.0.15', wrong);
    expect(third.status).toBe(401);
    expect(third.headers['ratelimit-policy']).toBe('"login-failures";q=3;w=900');
    expect(items(third.headers.ratelimit)['login-failures']!.r).toBe(1);
    // three failures: even the right password is refused now, and never reaches the backend
    const refused = await get(url, '127.0.0.15', ok);
    expect(refused.status).toBe(429);
    expect(items(refused.headers.ratelimit)['login-failures']!.r).toBe(0);
    const retryAfter = Number(refused.headers['retry-after']);
    expect(retryAfter).toBeGreaterThan(800);
    expect(retryAfter).toBeLessThanOrEqual(900);
    // another address is another client
    expect((await get(url, '127.0.0.16', ok)).status).toBe(200);
  });

  it('the table-wide default applies to a route without limits; `limits: []` opts a route out', async () => {
    const h = await make(store, { plain: undefined, open: [] }, { limits: [{ requests: 1, window: '1m' }] });
    expect(await statuses(`${h.url}/plain`, 2, '127.0.0.8')).toEqual([200, 429]);
    const open = await get(`${h.url}/open`, '127.0.0.8');
    expect(open.status).toBe(200);
    expect(open.headers.ratelimit).toBeUndefined();
    expect(await statuses(`${h.url}/open`, 5, '127.0.0.8')).toEqual([200, 200, 200, 200, 200]);
  });

  it('counts survive a table reload (new route objects, same route and policy)', async () => {
    const h = await make(store, { a: [{ requests: 2, window: '1m' }] });
    expect(await statuses(`${h.url}/a`, 2, '127.0.0.9')).toEqual([200, 200]);
    h.reload();
    expect((await get(`${h.url}/a`, '127.0.0.9')).status).toBe(429);
  });

  it('a refused upload is read and dropped: the answer arrives and the connection serves the next request', async () => {
    const h = await make(store, { a: [{ requests: 1, window: '1m' }] });
    const agent = from('127.0.0.10');
    expect((await call(`${h.url}/a`, { dispatcher: agent })).status).toBe(200);
    const refused = await call(`${h.url}/a`, {
      method: 'POST',
      body: 'x'.repeat(256 * 1024),
      dispatcher: agent,
    });
    expect(refused.status).toBe(429);
    expect(refused.headers.connection).not.toBe('close');
    expect((await call(`${h.url}/a`, { dispatcher: agent })).status).toBe(429);
  });
});

describe('rate limits counted in the process', () => {
  it('decide in the same tick: the request goes on before admit() returns (no promise per request)', () => {
    const stage = new RateLimits({ logger: silent });
    closers.push(() => stage.close());
    const { table, compiled } = snapshot({ a: [{ requests: 2, window: '1m' }] }, {});
    const req = { socket: { remoteAddress: '203.0.113.1' }, headers: {}, method: 'GET', url: '/a' };
    const headers: Record<string, string> = {};
    const res = { destroyed: false, setHeader: (k: string, v: string) => (headers[k] = v) };
    let went = 0;
    const admit = () =>
      stage.admit(req as never, res as never, table, compiled.get('a')!, () => {
        went++;
      });
    admit();
    expect(went).toBe(1);
    expect(headers.ratelimit).toBe('"address-60s";r=1;t=60');
    admit();
    expect(went).toBe(2);
  });
});

describe('rate limits shared through Redis (real Redis)', () => {
  it('two gateway processes’ stages on one Redis share the counters', async () => {
    const options = { redisUrl: redis.url, redisPrefix: `${redis.prefix}shared:` };
    const routes = { a: [{ name: 'shared', requests: 4, window: '1m' }] };
    const one = await make(() => options, routes);
    const two = await make(() => options, routes);
    const seen = [];
    for (let i = 0; i < 6; i++) seen.push((await get(`${(i % 2 ? one : two).url}/a`, '127.0.0.11')).status);
    expect(seen).toEqual([200, 200, 200, 200, 429, 429]);
    const keys = await redis.client.keys(`${redis.prefix}shared:rl:a:shared:60:*`);
    expect(keys).toHaveLength(1);
    expect(Number(await redis.client.get(keys[0]!))).toBeGreaterThanOrEqual(5);
  });
});

describe('through the gateway (fake backends)', () => {
  let backends: Backends;
  const gateways: GatewayHandle[] = [];
  const dirs: Array<() => Promise<void>> = [];
  beforeAll(async () => {
    backends = await startBackends({
      // a login that succeeds with the right password only
      legacy: (req, res) => {
        const status = req.url === '/auth/login' && !req.body.includes('right') ? 401 : 200;
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ backend: 'legacy', status }));
      },
    });
  });
  afterAll(async () => {
    for (const g of gateways) await g.close();
    await backends.close();
    for (const d of dirs) await d();
  });
  async function gateway(text: string | null, extra: Record<string, unknown> = {}) {
    const t = await tempDir();
    dirs.push(t.cleanup);
    const routesFile = text === null ? await copyDefaultTable(t.dir) : await writeTable(t.dir, text);
    const gw = await startGateway({ routesFile, env: backends.env, ...extra });
    gateways.push(gw);
    return gw;
  }

  it('the shipped table: 20 wrong passwords from one address, then the gateway answers 429 and the backend sees no more', async () => {
    const gw = await gateway(null);
    const login = (password: string, address: string) =>
      call(`${gw.url}/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'demo', password }),
        dispatcher: from(address),
      });
    const before = backends.legacy.requests.length;
    // successful logins do not count against the failures
    for (let i = 0; i < 5; i++) expect((await login('right', '127.0.0.20')).status).toBe(200);
    const wrong = [];
    for (let i = 0; i < 20; i++) wrong.push((await login('nope', '127.0.0.20')).status);
    expect(new Set(wrong)).toEqual(new Set([401]));
    const refused = await login('right', '127.0.0.20');
    expect(refused.status).toBe(429);
    expect(refused.headers['x-backend']).toBe('gateway');
    expect(refused.json()).toMatchObject({ error: { status: 429, code: 'RATE_LIMITED' } });
    expect(refused.headers['ratelimit-policy']).toBe(
      '"login-failures";q=20;w=900, "login-attempts";q=300;w=60',
    );
    expect(items(refused.headers.ratelimit)['login-failures']!.r).toBe(0);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(800);
    expect(backends.legacy.requests.length - before).toBe(25);
    // another address logs in; the same address still reaches every other route
    expect((await login('right', '127.0.0.21')).status).toBe(200);
    expect((await call(`${gw.url}/subscribers`, { dispatcher: from('127.0.0.20') })).status).toBe(200);
    const metrics = await (await fetch(`${gw.adminUrl}/metrics`)).text();
    expect(metrics).toContain('gateway_rate_limited_total{route="login",policy="login-failures"} 1');
    expect(metrics).toContain('gateway_rejected_total{reason="rate_limited"} 1');
  });

  it('two gateway instances on one Redis share the counters (real Redis)', async () => {
    const text = tableText(`routes:
  - id: a
    path: /*
    backend: legacy
    limits: [{ name: shared, requests: 4, window: 1m }]
`);
    const common = { redisUrl: redis.url, redisPrefix: `${redis.prefix}gateways:` };
    const one = await gateway(text, common);
    const two = await gateway(text, common);
    for (const g of [one, two]) {
      for (let i = 0; i < 200; i++) {
        const up = await g.gateway.metrics.registry.getSingleMetric('gateway_rate_limit_redis_up')!.get();
        if (up.values[0]?.value === 1) break;
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    }
    const seen = [];
    for (let i = 0; i < 6; i++) seen.push((await get(`${(i % 2 ? one : two).url}/x`, '127.0.0.22')).status);
    expect(seen).toEqual([200, 200, 200, 200, 429, 429]);
  });
});

describe('rate limits while Redis goes away (a throwaway redis-server per test)', () => {
  let throwaway: ThrowawayRedis;
  let probe: Redis;
  afterEach(async () => {
    probe?.disconnect();
    await throwaway?.stop();
  });

  async function setup(requests: number, redisTimeoutMs = 100) {
    throwaway = await startThrowawayRedis();
    probe = new Redis(throwaway.url, {
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
      lazyConnect: true,
    });
    probe.on('error', () => {});
    await probe.connect();
    return make(() => ({ redisUrl: throwaway.url, redisTimeoutMs, redisProbeMs: 200 }), {
      a: [{ name: 'p', requests, window: '1m' }],
    });
  }

  /** Each answer timed: none may wait for the Redis that is gone (generous bound for a busy box). */
  async function timedStatuses(url: string, n: number, address: string) {
    const out: number[] = [];
    const ms: number[] = [];
    for (let i = 0; i < n; i++) {
      const t = performance.now();
      out.push((await get(url, address)).status);
      ms.push(performance.now() - t);
    }
    return { out, ms, slowest: Math.max(...ms) };
  }

  it('stopped (killed) mid-way: the insurance limiter keeps limiting in the process, answers without waiting', async () => {
    const h = await setup(4);
    expect(await statuses(`${h.url}/a`, 2, '127.0.0.12')).toEqual([200, 200]);
    const [key] = await probe.keys('*');
    expect(await probe.get(key!)).toBe('2'); // counted in Redis so far
    await throwaway.stop();
    const { out, slowest } = await timedStatuses(`${h.url}/a`, 7, '127.0.0.12');
    // the process counts from its own zero: a whole quota, then 429 again (never unlimited)
    expect(out).toEqual([200, 200, 200, 200, 429, 429, 429]);
    expect(slowest).toBeLessThan(1_000);
    await redisReady(h, 0);
    const local = await h.registry.getSingleMetric('gateway_rate_limit_local_total')!.get();
    expect(local.values[0]!.value).toBeGreaterThanOrEqual(7);
  });

  it('hung (SIGSTOP) mid-way: one request waits the command deadline, the rest do not; limits kept; back to Redis once it answers', async () => {
    // a deadline long enough to tell a wait for Redis from a busy machine's noise
    const h = await setup(3, 1_500);
    expect(await statuses(`${h.url}/a`, 1, '127.0.0.13')).toEqual([200]);
    throwaway.pause();
    const { out, ms } = await timedStatuses(`${h.url}/a`, 6, '127.0.0.13');
    expect(out).toEqual([200, 200, 200, 429, 429, 429]);
    expect(ms[0]).toBeGreaterThanOrEqual(1_400); // the one that found out
    for (const t of ms.slice(1)) expect(t).toBeLessThan(1_000);
    await redisReady(h, 0);
    throwaway.resume();
    await redisReady(h, 1);
    // counted in Redis again: the key there moves on from where it stood
    const [key] = await probe.keys('*');
    const before = Number(await probe.get(key!));
    expect((await get(`${h.url}/a`, '127.0.0.13')).status).toBe(200);
    expect(Number(await probe.get(key!))).toBe(before + 1);
  });

  it('absent from the start: the gateway serves and limits in the process', async () => {
    const h = await harness(
      { a: [{ requests: 2, window: '1m' }] },
      {},
      { redisUrl: 'redis://127.0.0.1:9', redisTimeoutMs: 100 },
    );
    const { out, slowest } = await timedStatuses(`${h.url}/a`, 3, '127.0.0.14');
    expect(out).toEqual([200, 200, 429]);
    expect(slowest).toBeLessThan(1_000);
  });
});

describe('the limits block in the table (generated input)', () => {
  const policyArb = fc.record(
    {
      name: fc.stringMatching(/^[a-z][a-z0-9_.-]{0,20}$/),
      requests: fc.integer({ min: 1, max: 1_000_000 }),
      window: fc.oneof(
        fc.integer({ min: 1, max: 86_400 }).map((s) => `${s}s`),
        fc.integer({ min: 1, max: 1_440 }).map((m) => `${m}m`),
        fc.integer({ min: 1, max: 24 }).map((h) => `${h}h`),
        fc.integer({ min: 1, max: 86_400 }).map((s) => s * 1000),
      ),
      key: fc.oneof(
        fc.constantFrom('address', 'jwt:sub', 'header:x-api-key', 'header:X-Client-Id'),
        fc.uniqueArray(fc.constantFrom('address', 'jwt:sub', 'header:x-api-key'), {
          minLength: 1,
          maxLength: 3,
        }),
      ),
      countStatus: fc.uniqueArray(fc.integer({ min: 100, max: 599 }), { minLength: 1, maxLength: 4 }),
    },
    { requiredKeys: ['requests', 'window'] },
  );
  const seconds = (w: string | number) =>
    typeof w === 'number' ? w / 1000 : Number(w.slice(0, -1)) * { s: 1, m: 60, h: 3600 }[w.slice(-1) as 's']!;

  function refusal(text: string): TableError {
    try {
      parseTable(text, 'routes.yaml');
    } catch (error) {
      expect(error).toBeInstanceOf(TableError);
      return error as TableError;
    }
    throw new Error('expected the table to be refused');
  }

  const yaml = (policies: unknown[]) =>
    tableText(`routes:
  - id: login
    path: /auth/login
    backend: legacy
    limits:${policies.length === 0 ? ' []' : ''}
${policies.map((p) => `      - ${JSON.stringify(p)}`).join('\n')}
`);

  /** The name a policy goes by: its own, or `<first key>-<window>s`. */
  const effectiveName = (p: { name?: string; key?: string | string[]; window: string | number }) => {
    const first = (Array.isArray(p.key) ? p.key[0] : p.key) ?? 'address';
    const label =
      first === 'jwt:sub'
        ? 'jwt'
        : first.startsWith('header:')
          ? `header-${first.slice(7).toLowerCase()}`
          : first;
    return p.name ?? `${label}-${seconds(p.window)}s`;
  };

  it('every valid block loads as written: quota, window in seconds, key list ending with the address', () => {
    fc.assert(
      fc.property(fc.uniqueArray(policyArb, { maxLength: 8, selector: effectiveName }), (policies) => {
        const got = parseTable(yaml(policies), 'routes.yaml').config.routes[0]!.limits!;
        expect(got).toHaveLength(policies.length);
        policies.forEach((p, i) => {
          expect(got[i]!.name).toBe(effectiveName(p));
          expect(got[i]!.requests).toBe(p.requests);
          expect(got[i]!.windowSeconds).toBe(seconds(p.window));
          expect(got[i]!.key.at(-1)).toEqual({ kind: 'address' });
          expect(got[i]!.key.filter((k) => k.kind === 'address')).toHaveLength(1);
          expect(got[i]!.countStatus).toEqual(p.countStatus ?? null);
        });
      }),
      { numRuns: 200 },
    );
  });

  it('two policies of a route going by the same name are refused', () => {
    fc.assert(
      fc.property(policyArb, fc.integer({ min: 1, max: 9 }), (p, requests) => {
        const error = refusal(yaml([p, { ...p, requests }]));
        expect(error.message).toContain(
          `routes[0].limits[1].name: duplicate policy name "${effectiveName(p)}"`,
        );
      }),
      { numRuns: 50 },
    );
  });

  const broken = fc.oneof(
    fc.record({
      field: fc.constant('requests'),
      value: fc.oneof(fc.constant(0), fc.constant(-3), fc.constant(1.5), fc.constant('ten')),
    }),
    fc.record({
      field: fc.constant('window'),
      value: fc.oneof(
        fc.constant('0s'),
        fc.constant('1500ms'),
        fc.constant('25h'),
        fc.constant('soon'),
        fc.constant(999),
        fc.constant(-1000),
      ),
    }),
    fc.record({
      field: fc.constant('key'),
      value: fc.oneof(fc.constant('cookie:sid'), fc.constant('header:'), fc.constant('ip'), fc.constant([])),
    }),
    fc.record({
      field: fc.constant('name'),
      value: fc.oneof(fc.constant('1st'), fc.constant('has space'), fc.constant('')),
    }),
    fc.record({ field: fc.constant('colour'), value: fc.constant('blue') }),
    fc.record({
      field: fc.constant('countStatus'),
      value: fc.constantFrom([], [99], [600], ['401'], 401),
    }),
  );

  it('one bad field anywhere in a block is refused with its line and field path, and nothing loads', () => {
    fc.assert(
      fc.property(
        fc.array(policyArb, { minLength: 1, maxLength: 5 }),
        fc.nat(),
        broken,
        (policies, at, bad) => {
          const i = at % policies.length;
          const named = policies.map((p, n) => ({ ...p, name: `p${n}` }));
          named[i] = { ...named[i]!, [bad.field]: bad.value } as (typeof named)[number];
          const text = yaml(named);
          const issues = refusal(text).issues;
          const issue = issues.find((x) => x.path.startsWith(`routes[0].limits[${i}]`));
          expect(issue, JSON.stringify(issues)).toBeDefined();
          if (bad.field !== 'colour')
            expect(issue!.path.startsWith(`routes[0].limits[${i}].${bad.field}`)).toBe(true);
          // the line is the policy's own line in the file
          const line = text
            .split('\n')
            .findIndex(
              (l) => l.startsWith('      - ') && l.includes(`"name":${JSON.stringify(named[i]!.name)}`),
            );
          expect(issue!.line).toBe(line + 1);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('settings.limits is validated the same way', () => {
    const text = tableText(`settings:
  limits:
    - { requests: 10, window: 1m }
    - { requests: 10, window: 1m }
routes:
  - { id: a, path: /*, backend: legacy }
`);
    expect(refusal(text).message).toMatch(
      /routes\.yaml:7:7 settings\.limits\[1\]\.name: duplicate policy name "address-60s"/,
    );
  });
});
