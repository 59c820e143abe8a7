import { readFile } from 'node:fs/promises';
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

const json = { ...auth, 'content-type': 'application/json', 'x-admin-user': 'ops@example.com' };

describe('admin API (fake backends, no Redis: memory + write-back to the table file)', () => {
  let backends: Backends;
  let gw: GatewayHandle;
  let file: string;
  let cleanup: () => Promise<void>;

  beforeAll(async () => {
    backends = await startBackends();
    const t = await tempDir();
    cleanup = t.cleanup;
    file = await copyDefaultTable(t.dir);
    gw = await startGateway({ routesFile: file, env: backends.env, adminToken: TOKEN, writeBack: true });
  });
  afterAll(async () => {
    await gw.close();
    await backends.close();
    await cleanup();
  });

  it('GET /admin/table shows the version, routes, backends and persistence', async () => {
    const res = await call(`${gw.adminUrl}/admin/table`, { headers: auth });
    expect(res.status).toBe(200);
    const view = res.json<{
      version: string;
      persistence: { redis: boolean; file: boolean };
      routes: Array<{ id: string; mode: string; weights: Record<string, number>; migration: unknown }>;
      backends: Record<string, { url: string; healthy: boolean; breaker: string }>;
    }>();
    expect(view.version).toBe(gw.gateway.table.version);
    expect(view.persistence).toEqual({ redis: false, file: true });
    const sub = view.routes.find((r) => r.id === 'subscribers')!;
    expect(sub).toMatchObject({
      mode: 'split',
      weights: { legacy: 90, modern: 10 },
      migration: { from: 'legacy', to: 'modern' },
    });
    expect(view.routes.find((r) => r.id === 'aggregate')!.migration).toEqual({
      from: 'legacy',
      to: 'modern',
    });
    expect(view.backends.legacy).toMatchObject({
      url: `${backends.legacy.url}/`,
      healthy: true,
      breaker: 'closed',
    });
  });

  it('PUT /admin/routes/:id/weights validates the body', async () => {
    const bad = [
      '{"weights":{"legacy":50,"modern":60}}',
      '{"weights":{"legacy":50,"nowhere":50}}',
      '{"weights":{"legacy":50.5,"modern":49.5}}',
      '{"weights":[]}',
      '{}',
    ];
    for (const body of bad) {
      const res = await call(`${gw.adminUrl}/admin/routes/subscribers/weights`, {
        method: 'PUT',
        headers: json,
        body,
      });
      expect(res.status, body).toBe(422);
      expect(res.json<{ error: { code: string } }>().error.code).toBe('INVALID_WEIGHTS');
    }
    const notJson = await call(`${gw.adminUrl}/admin/routes/subscribers/weights`, {
      method: 'PUT',
      headers: json,
      body: 'nope',
    });
    expect(notJson.status).toBe(400);
    const missing = await call(`${gw.adminUrl}/admin/routes/nope/weights`, {
      method: 'PUT',
      headers: json,
      body: '{"weights":{"legacy":100}}',
    });
    expect(missing.status).toBe(404);
  });

  it('changes weights, writes them back to the file with comments kept, and audits who/when', async () => {
    const res = await call(`${gw.adminUrl}/admin/routes/subscribers/weights`, {
      method: 'PUT',
      headers: json,
      body: '{"weights":{"legacy":50,"modern":50}}',
    });
    expect(res.status).toBe(200);
    const body = res.json<{
      route: { weights: Record<string, number>; override: { by: string } };
      persisted: unknown;
      tableVersion: string;
    }>();
    expect(body.route.weights).toEqual({ legacy: 50, modern: 50 });
    expect(body.route.override.by).toBe('ops@example.com');
    expect(body.persisted).toEqual({ redis: false, file: true });
    expect(body.tableVersion).toBe(gw.gateway.table.version);

    const text = await readFile(file, 'utf8');
    expect(text).toContain('split: { legacy: 50, modern: 50 }');
    expect(text).toContain('# Step 3: canary.');

    const audit = await call(`${gw.adminUrl}/admin/audit`, { headers: auth });
    const entry = audit.json<{ entries: Array<{ action: string; who: string; route: string; at: string }> }>()
      .entries[0]!;
    expect(entry).toMatchObject({ action: 'set-weights', who: 'ops@example.com', route: 'subscribers' });
    expect(Date.parse(entry.at)).not.toBeNaN();
  });

  it('promote sends everything to the new side, rollback to the old; the file keeps both names', async () => {
    const promoted = await call(`${gw.adminUrl}/admin/routes/subscribers/promote`, {
      method: 'POST',
      headers: json,
    });
    expect(promoted.json<{ route: { weights: Record<string, number>; mode: string } }>().route).toMatchObject(
      {
        weights: { legacy: 0, modern: 100 },
        mode: 'backend',
      },
    );
    for (let i = 0; i < 10; i++)
      expect((await call(`${gw.url}/subscribers`)).headers['x-backend']).toBe('modern');
    const rolled = await call(`${gw.adminUrl}/admin/routes/subscribers/rollback`, {
      method: 'POST',
      headers: json,
    });
    expect(rolled.json<{ route: { weights: Record<string, number> } }>().route.weights).toEqual({
      legacy: 100,
      modern: 0,
    });
    expect((await call(`${gw.url}/subscribers`)).headers['x-backend']).toBe('legacy');

    const aggregate = await call(`${gw.adminUrl}/admin/routes/aggregate/promote`, {
      method: 'POST',
      headers: json,
    });
    expect(aggregate.json<{ route: { weights: Record<string, number> } }>().route.weights).toEqual({
      legacy: 0,
      modern: 100,
    });
    const text = await readFile(file, 'utf8');
    expect(text).toContain('migration: { from: legacy, to: modern }');
    const back = await call(`${gw.adminUrl}/admin/routes/aggregate/rollback`, {
      method: 'POST',
      headers: json,
    });
    expect(back.json<{ route: { weights: Record<string, number> } }>().route.weights).toEqual({
      legacy: 100,
      modern: 0,
    });

    const noMigration = await call(`${gw.adminUrl}/admin/routes/default/promote`, {
      method: 'POST',
      headers: json,
    });
    expect(noMigration.status).toBe(422);
    const explicit = await call(`${gw.adminUrl}/admin/routes/default/promote`, {
      method: 'POST',
      headers: json,
      body: '{"backend":"legacy"}',
    });
    expect(explicit.status).toBe(200);
  });

  it('the change survives a restart (from the written-back file)', async () => {
    await call(`${gw.adminUrl}/admin/routes/subscribers/weights`, {
      method: 'PUT',
      headers: json,
      body: '{"weights":{"legacy":70,"modern":30}}',
    });
    const second = await startGateway({ routesFile: file, env: backends.env, adminToken: TOKEN });
    try {
      expect(second.gateway.route('subscribers')!.weights).toEqual({ legacy: 70, modern: 30 });
    } finally {
      await second.close();
    }
  });

  it('GET /admin/stats gives per-route per-backend numbers over a recent window', async () => {
    for (let i = 0; i < 20; i++) await call(`${gw.url}/articles/${i}`);
    for (let i = 0; i < 5; i++) await call(`${gw.url}/me`);
    const res = await call(`${gw.adminUrl}/admin/stats?window=30`, { headers: auth });
    const stats = res.json<{
      windowSeconds: number;
      tableVersion: string;
      routes: Array<{
        id: string;
        backends: Record<
          string,
          { requests: number; rps: number; p50Ms: number; p99Ms: number; errorRate: number; series: number[] }
        >;
      }>;
      backends: Record<string, { healthy: boolean }>;
    }>();
    expect(stats.windowSeconds).toBe(30);
    const articles = stats.routes.find((r) => r.id === 'articles')!.backends.modern!;
    expect(articles.requests).toBe(20);
    expect(articles.rps).toBeCloseTo(20 / 30, 2);
    expect(articles.p50Ms).toBeGreaterThan(0);
    expect(articles.p99Ms).toBeGreaterThanOrEqual(articles.p50Ms);
    expect(articles.errorRate).toBe(0);
    expect(articles.series).toHaveLength(30);
    expect(articles.series.reduce((a, b) => a + b, 0)).toBe(20);
    expect(stats.routes.find((r) => r.id === 'default')!.backends.legacy!.requests).toBeGreaterThanOrEqual(5);
    expect(stats.backends.modern!.healthy).toBe(true);
  });

  it('GET /admin/stats takes any window and answers for 1 to 60 s (1e9 or Infinity once hung the event loop)', async () => {
    const asked: Array<[string, number]> = [
      ['1e9', 60],
      ['1e400', 10], // Infinity
      ['-1e400', 10],
      ['-5', 1],
      ['0.5', 1],
      ['59.9', 59],
      ['soon', 10],
      ['', 10],
    ];
    for (const [window, expected] of asked) {
      const res = await call(`${gw.adminUrl}/admin/stats?window=${window}`, { headers: auth });
      expect(res.status).toBe(200);
      expect(res.json<{ windowSeconds: number }>().windowSeconds).toBe(expected);
    }
  });

  it('GET /metrics has requests and latency by route, backend and status class', async () => {
    const res = await call(`${gw.adminUrl}/metrics`);
    expect(res.text).toMatch(
      /gateway_requests_total\{route="articles",backend="modern",status_class="2xx"\} \d+/,
    );
    expect(res.text).toMatch(
      /gateway_request_duration_seconds_bucket\{le="0.005",route="articles",backend="modern"\}/,
    );
    expect(res.text).toMatch(/gateway_table_info\{version="[0-9a-f]{12}",file_version="[0-9a-f]{12}"\} 1/);
    expect(res.text).toMatch(/gateway_route_weight_percent\{route="subscribers",backend="modern"\} 30/);
  });

  it('DELETE /admin/routes/:id/override drops the override', async () => {
    const res = await call(`${gw.adminUrl}/admin/routes/subscribers/override`, {
      method: 'DELETE',
      headers: auth,
    });
    expect(res.json<{ route: { override: unknown } }>().route.override).toBeNull();
  });
});
