import { once } from 'node:events';
import { useTestRedis, type TestRedis } from '@pilot/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GatewayHandle } from '../src/index.ts';
import {
  auth,
  type Backends,
  call,
  copyDefaultTable,
  startBackends,
  startGateway,
  TOKEN,
  tempDir,
} from './helpers.ts';

describe('two gateway instances on one Redis (real Redis, fake backends)', () => {
  let redis: TestRedis;
  let backends: Backends;
  let a: GatewayHandle;
  let b: GatewayHandle;
  const cleanups: Array<() => Promise<void>> = [];

  beforeAll(async () => {
    redis = await useTestRedis('gateway');
    backends = await startBackends();
    const common = {
      env: backends.env,
      adminToken: TOKEN,
      redisUrl: redis.url,
      redisPrefix: redis.prefix,
      writeBack: false,
    };
    const t1 = await tempDir();
    const t2 = await tempDir();
    cleanups.push(t1.cleanup, t2.cleanup);
    a = await startGateway({ ...common, routesFile: await copyDefaultTable(t1.dir), instanceId: 'gw-a' });
    b = await startGateway({ ...common, routesFile: await copyDefaultTable(t2.dir), instanceId: 'gw-b' });
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await backends.close();
    await redis.cleanup();
    for (const c of cleanups) await c();
  });

  it('a weight change on one instance reaches the other through pub/sub', async () => {
    expect(a.gateway.table.version).toBe(b.gateway.table.version);
    const reached = once(b.gateway.events, 'overrides');
    const res = await call(`${a.adminUrl}/admin/routes/subscribers/weights`, {
      method: 'PUT',
      headers: { ...auth, 'content-type': 'application/json', 'x-admin-user': 'alice' },
      body: '{"weights":{"legacy":0,"modern":100}}',
    });
    expect(res.status).toBe(200);
    expect(res.json<{ persisted: { redis: boolean } }>().persisted.redis).toBe(true);
    const [event] = (await reached) as [{ from: string; version: string }];
    expect(event.from).toBe('gw-a');
    expect(b.gateway.route('subscribers')!.weights).toEqual({ legacy: 0, modern: 100 });
    expect(b.gateway.table.version).toBe(a.gateway.table.version);
    for (let i = 0; i < 10; i++)
      expect((await call(`${b.url}/subscribers`)).headers['x-backend']).toBe('modern');
    // the audit trail is shared too
    const audit = await call(`${b.adminUrl}/admin/audit`, { headers: auth });
    expect(audit.json<{ entries: Array<{ who: string; instance: string }> }>().entries[0]).toMatchObject({
      who: 'alice',
      instance: 'gw-a',
    });
  });

  it('a shadow pause on one instance reaches the other', async () => {
    const reached = once(a.gateway.events, 'overrides');
    await call(`${b.adminUrl}/admin/routes/aggregate/shadow/pause`, { method: 'POST', headers: auth });
    await reached;
    expect(a.gateway.route('aggregate')!.shadow!.paused).toBe(true);
  });

  it('an instance started later picks the changes up from Redis (survives restart)', async () => {
    const t = await tempDir();
    cleanups.push(t.cleanup);
    const c = await startGateway({
      routesFile: await copyDefaultTable(t.dir),
      env: backends.env,
      redisUrl: redis.url,
      redisPrefix: redis.prefix,
    });
    try {
      expect(c.gateway.route('subscribers')!.weights).toEqual({ legacy: 0, modern: 100 });
      expect(c.gateway.route('aggregate')!.shadow!.paused).toBe(true);
      expect(c.gateway.table.version).toBe(a.gateway.table.version);
    } finally {
      await c.close();
    }
  });

  it('clearing the override on one instance restores the file weights everywhere', async () => {
    const reached = once(b.gateway.events, 'overrides');
    await call(`${a.adminUrl}/admin/routes/subscribers/override`, { method: 'DELETE', headers: auth });
    await reached;
    expect(b.gateway.route('subscribers')!.weights).toEqual({ legacy: 90, modern: 10 });
  });
});

describe('Redis unreachable', () => {
  it('starts on the file, serves, and refuses admin changes with 503 instead of half-applying them', async () => {
    const backends = await startBackends();
    const t = await tempDir();
    const gw = await startGateway({
      routesFile: await copyDefaultTable(t.dir),
      env: backends.env,
      adminToken: TOKEN,
      redisUrl: 'redis://127.0.0.1:1',
    });
    try {
      expect((await call(`${gw.url}/articles`)).headers['x-backend']).toBe('modern');
      const res = await call(`${gw.adminUrl}/admin/routes/subscribers/weights`, {
        method: 'PUT',
        headers: { ...auth, 'content-type': 'application/json' },
        body: '{"weights":{"legacy":0,"modern":100}}',
      });
      expect(res.status).toBe(503);
      expect(res.json<{ error: { code: string } }>().error.code).toBe('STORE_UNAVAILABLE');
      expect(gw.gateway.route('subscribers')!.weights).toEqual({ legacy: 90, modern: 10 });
    } finally {
      await gw.close();
      await backends.close();
      await t.cleanup();
    }
  });
});
