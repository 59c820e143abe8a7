/**
 * The gateway in front of the REAL apps: apps/legacy (Express) and apps/modern (Fastify), each
 * on an ephemeral port with in-memory content (no Strapi, no Redis), fake /aggregate upstreams
 * from test-kit. Proves the gateway's requirements against real services.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeFile } from 'node:fs/promises';
import { createAuthService } from '@pilot/auth';
import { createMemoryContent } from '@pilot/content';
import { createApp as createLegacyApp } from '@pilot/legacy';
import { createApp as createModernApp } from '@pilot/modern';
import { createLogger, loadServiceConfig } from '@pilot/service-kit';
import { startDelayedUpstream, type TestServer } from '@pilot/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GatewayHandle } from '../src/index.ts';
import { auth, call, client, runConcurrent, startGateway, TOKEN, tempDir } from './helpers.ts';

function serviceDeps(service: 'legacy' | 'modern', env: Record<string, string>) {
  const config = loadServiceConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent', ...env }, { port: 0 });
  return {
    config,
    logger: createLogger({ service, level: config.LOG_LEVEL }),
    content: createMemoryContent(),
    auth: createAuthService({
      users: config.AUTH_USERS,
      jwtSecret: config.JWT_SECRET,
      issuer: config.JWT_ISSUER,
    }),
  };
}

/** A node:http server in front of an app handler that records what reached it. */
async function serve(
  handler: http.RequestListener,
  seen: string[],
): Promise<{ url: string; server: http.Server }> {
  const server = http.createServer((req, res) => {
    // the gateway's own health checks are not traffic
    if (req.headers['user-agent'] !== 'pilot-gateway-health') seen.push(`${req.method} ${req.url}`);
    handler(req, res);
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

const TABLE = (legacy: string, modern: string, hang: string, subscribers = '{ legacy: 90, modern: 10 }') => `
backends:
  legacy: { url: ${legacy}, healthCheck: { path: /health, intervalMs: 60000 } }
  modern: { url: ${modern}, healthCheck: { path: /health, intervalMs: 60000 } }
  hang: { url: ${hang}, healthCheck: { enabled: false } }
routes:
  - id: articles
    path: /articles*
    backend: modern
    fallback: legacy
  - id: subscribers
    path: /subscribers*
    split: ${subscribers}
    sticky: [header:x-user-id, jwt:sub, cookie:pilot_uid]
    fallback: legacy
  - id: aggregate-hang
    path: /aggregate-hang
    backend: legacy
    shadow: { backend: hang, timeoutMs: 5000 }
  - id: aggregate
    path: /aggregate*
    backend: legacy
    shadow: { backend: modern, ignore: ["**.fetchedAt", "**.durationMs", "meta.generatedAt"] }
  - id: events
    path: /events*
    methods: [GET]
    backend: modern
    timeoutMs: 0
  - id: docs
    path: [/docs*, /openapi.json]
    backend: modern
  - id: default
    path: /*
    backend: legacy
`;

describe('gateway in front of the real legacy and modern apps (memory content, fake upstreams)', () => {
  let gw: GatewayHandle;
  let file: string;
  let urls: { legacy: string; modern: string; hang: string };
  const seen = { legacy: [] as string[], modern: [] as string[] };
  const closers: Array<() => Promise<unknown>> = [];
  const agent = client(24);
  let modernServer: http.Server;
  const hanging: http.ServerResponse[] = [];

  beforeAll(async () => {
    const weather = await startDelayedUpstream('weather');
    const quote = await startDelayedUpstream('quote');
    const upstreams: TestServer[] = [weather, quote];
    closers.push(() => Promise.all(upstreams.map((u) => u.close())));
    const env = {
      AGGREGATE_WEATHER_URL: `${weather.url}/weather`,
      AGGREGATE_QUOTE_URL: `${quote.url}/quote`,
    };

    const legacyApp = createLegacyApp(serviceDeps('legacy', env));
    const legacy = await serve(legacyApp as unknown as http.RequestListener, seen.legacy);
    closers.push(
      () =>
        new Promise((r) => {
          legacy.server.closeAllConnections();
          legacy.server.close(r);
        }),
    );

    const modernApp = createModernApp({
      ...serviceDeps('modern', env),
      tuning: { underPressure: false, eventsHeartbeatMs: 100 },
    });
    await modernApp.ready();
    const modern = await serve((req, res) => modernApp.routing(req, res), seen.modern);
    modernServer = modern.server;
    closers.push(() => modernApp.close());

    const hang = await serve((_req, res) => void hanging.push(res), []);
    closers.push(
      () =>
        new Promise((r) => {
          for (const res of hanging) res.destroy();
          hang.server.closeAllConnections();
          hang.server.close(r);
        }),
    );
    urls = { legacy: legacy.url, modern: modern.url, hang: hang.url };
    const t = await tempDir();
    closers.push(t.cleanup);
    file = `${t.dir}/routes.yaml`;
    await writeFile(file, TABLE(urls.legacy, urls.modern, urls.hang));
    gw = await startGateway({ routesFile: file, adminToken: TOKEN, healthChecks: true, accessLog: false });
    closers.push(() => gw.close());
  }, 60_000);

  afterAll(async () => {
    await agent.close();
    for (const close of closers.reverse()) await close().catch(() => {});
  }, 30_000);

  const routing: Array<[string, string, 'legacy' | 'modern', number]> = [
    ['GET', '/articles', 'modern', 200],
    ['GET', '/articles?page=1&pageSize=2', 'modern', 200],
    ['GET', '/articles/this-slug-does-not-exist', 'modern', 404],
    ['GET', '/openapi.json', 'modern', 200],
    ['GET', '/aggregate', 'legacy', 200],
    ['GET', '/me', 'legacy', 401],
    ['POST', '/auth/login', 'legacy', 422],
    ['POST', '/events', 'legacy', 404],
    ['GET', '/health', 'legacy', 200],
    ['GET', '/articles/..%2Fhealth', 'legacy', 200],
  ];

  it.each(routing)('%s %s → %s (%i)', async (method, path, backend, status) => {
    const before = { legacy: seen.legacy.length, modern: seen.modern.length };
    const res = await call(gw.url + path, {
      method,
      headers: method === 'POST' ? { 'content-type': 'application/json' } : undefined,
      body: method === 'POST' ? '{}' : undefined,
      dispatcher: agent,
    });
    expect(res.status).toBe(status);
    expect(res.headers['x-backend']).toBe(backend);
    if (status >= 400) expect(res.json<{ error: { status: number } }>().error.status).toBe(status);
    const other = backend === 'legacy' ? 'modern' : 'legacy';
    // the shadow of /aggregate is the one request the other side may see
    if (path !== '/aggregate') expect(seen[other].length).toBe(before[other]);
  });

  it('splits 10,000 subscriptions 90/10 within ±3 points, accepting every one', {
    timeout: 240_000,
  }, async () => {
    const counts: Record<string, number> = {};
    await runConcurrent(10_000, 24, async (i) => {
      const res = await call(`${gw.url}/subscribers`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-user-id': `split-${i}` },
        body: JSON.stringify({ email: `split-${i}@example.com` }),
        dispatcher: agent,
      });
      expect(res.status).toBe(201);
      const b = String(res.headers['x-backend']);
      counts[b] = (counts[b] ?? 0) + 1;
    });
    const modernPct = ((counts.modern ?? 0) / 10_000) * 100;
    expect(modernPct).toBeGreaterThanOrEqual(7);
    expect(modernPct).toBeLessThanOrEqual(13);
  });

  it('keeps each user on one side: 100% sticky', { timeout: 60_000 }, async () => {
    await runConcurrent(200, 12, async (i) => {
      const sides = new Set<string>();
      for (let n = 0; n < 5; n++) {
        const res = await call(`${gw.url}/subscribers`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-user-id': `sticky-${i}` },
          body: JSON.stringify({ email: `sticky-${i}-${n}@example.com` }),
          dispatcher: agent,
        });
        expect(res.status).toBe(201);
        sides.add(String(res.headers['x-backend']));
      }
      expect(sides.size).toBe(1);
    });
  });

  it('streams server-sent events from modern unbuffered', async () => {
    const res = await new Promise<http.IncomingMessage>((resolve, reject) =>
      http.get(`${gw.url}/events`, resolve).on('error', reject),
    );
    expect(res.headers['content-type']).toMatch(/^text\/event-stream/);
    expect(res.headers['x-backend']).toBe('modern');
    let text = '';
    for await (const chunk of res) {
      text += chunk;
      // the retry line and at least two heartbeats, while the stream stays open
      if ((text.match(/heartbeat/g) ?? []).length >= 2) break;
    }
    res.destroy();
    expect(text).toMatch(/retry: \d+/);
  });

  it('shadows /aggregate to modern: mirrored, diffed, counted', async () => {
    const outcome = new Promise<{ result: string }>((resolve) => {
      const on = (e: { route: string; result: string }) => {
        if (e.route !== 'aggregate') return;
        gw.gateway.events.off('shadow', on);
        resolve(e);
      };
      gw.gateway.events.on('shadow', on);
    });
    const res = await call(`${gw.url}/aggregate`, { dispatcher: agent });
    expect(res.status).toBe(200);
    expect(res.headers['x-backend']).toBe('legacy');
    expect(['match', 'mismatch']).toContain((await outcome).result);
    expect(seen.modern).toContain('GET /aggregate');
    const stats = await call(`${gw.adminUrl}/admin/stats?window=60`, { headers: auth });
    const aggregate = stats
      .json<{
        routes: Array<{ id: string; shadow: { mirrored: number; matched: number; mismatched: number } }>;
      }>()
      .routes.find((r) => r.id === 'aggregate')!;
    expect(aggregate.shadow.mirrored).toBeGreaterThanOrEqual(1);
    expect(aggregate.shadow.matched + aggregate.shadow.mismatched).toBeGreaterThanOrEqual(1);
  });

  it('answers the client long before a hanging shadow times out', async () => {
    const started = Date.now();
    const res = await call(`${gw.url}/aggregate-hang`, { dispatcher: agent });
    expect(res.headers['x-backend']).toBe('legacy');
    // the client has legacy's real answer while the mirror is still pending
    expect(gw.gateway.shadows.inFlight).toBeGreaterThanOrEqual(1);
    expect(Date.now() - started).toBeLessThan(4000);
  });

  it('reloads under load without losing a request, and refuses an invalid table', {
    timeout: 120_000,
  }, async () => {
    let stop = false;
    let flips = 0;
    const flipper = (async () => {
      while (!stop) {
        const weights = flips % 2 === 0 ? '{ legacy: 50, modern: 50 }' : '{ legacy: 90, modern: 10 }';
        await writeFile(file, TABLE(urls.legacy, urls.modern, urls.hang, weights));
        const r = await gw.gateway.reload('test');
        expect(r.ok).toBe(true);
        flips++;
      }
    })();
    const statuses = await runConcurrent(1500, 16, async (i) => {
      const res = await call(`${gw.url}/${i % 2 === 0 ? 'articles?pageSize=1' : 'health'}`, {
        dispatcher: agent,
      });
      return res.status;
    });
    stop = true;
    await flipper;
    expect(flips).toBeGreaterThan(2);
    expect(statuses.filter((s) => s !== 200)).toEqual([]);

    const version = gw.gateway.table.version;
    await writeFile(file, TABLE(urls.legacy, urls.modern, urls.hang, '{ legacy: 90, modern: 20 }'));
    const bad = await gw.gateway.reload('test');
    expect(bad.ok).toBe(false);
    expect(bad.error).toMatch(/routes\.yaml:\d+:\d+ routes\[1\]\.split: weights must add up to 100/);
    expect(gw.gateway.table.version).toBe(version);
    expect((await call(`${gw.url}/articles`, { dispatcher: agent })).status).toBe(200);
  });

  it('after modern is killed: GET /articles falls back to legacy, POST /subscribers does not', async () => {
    // every subscriber on modern, then modern goes away
    await writeFile(file, TABLE(urls.legacy, urls.modern, urls.hang, '{ legacy: 0, modern: 100 }'));
    expect((await gw.gateway.reload('test')).ok).toBe(true);
    modernServer.closeAllConnections();
    await new Promise((r) => modernServer.close(r));

    const get = await call(`${gw.url}/articles?pageSize=1`);
    expect(get.status).toBe(200);
    expect(get.headers['x-backend']).toBe('legacy');

    const legacyPosts = seen.legacy.filter((r) => r.startsWith('POST /subscribers')).length;
    const post = await call(`${gw.url}/subscribers`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-user-id': 'after-kill' },
      body: '{"email":"after-kill@example.com"}',
    });
    expect([502, 503]).toContain(post.status);
    expect(seen.legacy.filter((r) => r.startsWith('POST /subscribers')).length).toBe(legacyPosts);
  });
});
