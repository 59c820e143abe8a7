import { once } from 'node:events';
import { startTestServer, type TestServer } from '@pilot/test-kit';
import { afterEach, describe, expect, it } from 'vitest';
import type { GatewayHandle } from '../src/index.ts';
import { call, echo, startGateway, table, tempDir, writeTable } from './helpers.ts';

const ROUTES = `routes:
  - id: articles
    path: /articles*
    backend: modern
    fallback: legacy
  - id: slow
    path: /slow*
    backend: modern
    fallback: legacy
    timeoutMs: 300
  - id: default
    path: /*
    backend: legacy
`;

describe('fallback, breaker and health (fake backends)', () => {
  const open: Array<{ close(): Promise<void> }> = [];
  afterEach(async () => {
    for (const x of open.splice(0).reverse()) await x.close();
  });

  async function setup(modern: TestServer, extra = ''): Promise<{ gw: GatewayHandle; legacy: TestServer }> {
    const legacy = await startTestServer(echo('legacy'));
    const t = await tempDir();
    const file = await writeTable(t.dir, table(ROUTES, extra));
    const gw = await startGateway({
      routesFile: file,
      env: { LEGACY_URL: legacy.url, MODERN_URL: modern.url },
    });
    open.push(legacy, modern, { close: t.cleanup }, gw);
    return { gw, legacy };
  }

  it('a killed backend: GET falls back to legacy, POST does not (502) and never reaches legacy', async () => {
    const modern = await startTestServer(echo('modern'));
    const { gw, legacy } = await setup(modern);
    expect((await call(`${gw.url}/articles`)).headers['x-backend']).toBe('modern');
    await modern.close();

    const get = await call(`${gw.url}/articles/one`);
    expect(get.status).toBe(200);
    expect(get.headers['x-backend']).toBe('legacy');
    expect(get.json<{ url: string }>().url).toBe('/articles/one');

    const post = await call(`${gw.url}/articles`, { method: 'POST', body: '{"title":"x"}' });
    expect(post.status).toBe(502);
    expect(post.json<{ error: { code: string } }>().error.code).toBe('BAD_GATEWAY');
    expect(legacy.requests.filter((r) => r.method === 'POST')).toEqual([]);

    const metrics = await call(`${gw.adminUrl}/metrics`);
    expect(metrics.text).toMatch(
      /gateway_fallbacks_total\{route="articles",from="modern",to="legacy",reason="connect"\} 1/,
    );
  });

  it('a 5xx from the primary: GET is answered by the fallback', async () => {
    const modern = await startTestServer((_req, res) => {
      res.writeHead(503);
      res.end('down');
    });
    const { gw } = await setup(modern);
    const get = await call(`${gw.url}/articles`);
    expect(get.status).toBe(200);
    expect(get.headers['x-backend']).toBe('legacy');
    const post = await call(`${gw.url}/articles`, { method: 'POST', body: '{}' });
    expect(post.status).toBe(503);
    expect(post.headers['x-backend']).toBe('modern');
  });

  it('a timeout: GET falls back, POST gets 504', async () => {
    const hung: Array<() => void> = [];
    const modern = await startTestServer((_req, res) => {
      hung.push(() => res.destroy());
    });
    open.push({
      close: async () => {
        for (const f of hung) f();
      },
    });
    const { gw } = await setup(modern);
    const get = await call(`${gw.url}/slow`);
    expect(get.status).toBe(200);
    expect(get.headers['x-backend']).toBe('legacy');
    const post = await call(`${gw.url}/slow`, { method: 'POST', body: '{}' });
    expect(post.status).toBe(504);
    expect(post.json<{ error: { code: string } }>().error.code).toBe('UPSTREAM_TIMEOUT');
  });

  it("a route's 5xx open that route's breaker only: GETs go to the fallback, POSTs still get the backend's own answer", async () => {
    const modern = await startTestServer((req, res) => {
      res.writeHead(req.url?.startsWith('/articles') ? 500 : 200, { 'content-type': 'application/json' });
      res.end('{}');
    });
    const { gw } = await setup(modern);
    const opened = once(gw.gateway.events, 'route-breaker');
    for (let i = 0; i < 5; i++)
      expect((await call(`${gw.url}/articles`)).headers['x-backend']).toBe('legacy');
    expect(await opened).toEqual(['articles', 'modern', 'open']);
    const seen = modern.requests.length;
    const get = await call(`${gw.url}/articles`);
    expect(get.headers['x-backend']).toBe('legacy');
    expect(modern.requests.length).toBe(seen);
    // no alternative for a POST: the backend's own answer, never a gateway 503
    const post = await call(`${gw.url}/articles`, { method: 'POST', body: '{}' });
    expect(post.status).toBe(500);
    expect(post.headers['x-backend']).toBe('modern');
    // the backend itself is fine for every other route
    expect(gw.gateway.pool.get('modern')!.view()).toMatchObject({ healthy: true, breaker: 'closed' });
    const slow = await call(`${gw.url}/slow`);
    expect(slow.status).toBe(200);
    expect(slow.headers['x-backend']).toBe('modern');
  });

  it('active health checks mark a backend down and up again', async () => {
    let healthy = false;
    const modern = await startTestServer((req, res) => {
      if (req.url === '/health') res.writeHead(healthy ? 200 : 503);
      res.end();
    });
    const legacy = await startTestServer(echo('legacy'));
    const t = await tempDir();
    const file = await writeTable(
      t.dir,
      `backends:
  legacy: { url: ${legacy.url}, healthCheck: { enabled: false } }
  modern: { url: ${modern.url}, healthCheck: { intervalMs: 100, timeoutMs: 1000, unhealthyThreshold: 2, healthyThreshold: 1 } }
${ROUTES}`,
    );
    const gw = await startGateway({ routesFile: file, healthChecks: true });
    open.push(legacy, modern, { close: t.cleanup }, gw);
    await waitForHealth(gw, 'modern', false);
    const get = await call(`${gw.url}/articles`);
    expect(get.headers['x-backend']).toBe('legacy');
    const table = await call(`${gw.adminUrl}/metrics`);
    expect(table.text).toMatch(/gateway_backend_up\{backend="modern"\} 0/);
    healthy = true;
    await waitForHealth(gw, 'modern', true);
    expect((await call(`${gw.url}/articles`)).headers['x-backend']).toBe('modern');
  });
});

function waitForHealth(gw: GatewayHandle, backend: string, up: boolean): Promise<void> {
  if (gw.gateway.pool.get(backend)!.healthy === up) return Promise.resolve();
  return new Promise((resolve) => {
    const on = (name: string, healthy: boolean) => {
      if (name === backend && healthy === up) {
        gw.gateway.events.off('health', on);
        resolve();
      }
    };
    gw.gateway.events.on('health', on);
  });
}
