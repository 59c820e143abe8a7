/**
 * What real traffic and a bad day do to the gateway: streams that would starve short requests,
 * oversized or refused uploads that used to eject a backend, a dependency failing on one route,
 * a connection budget running out. Fake backends throughout (faults on demand); the hung-backend
 * case with a real process is in hang.test.ts.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { Agent, request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import type { GatewayHandle } from '../src/index.ts';
import { call, copyDefaultTable, startGateway, tempDir, writeTable } from './helpers.ts';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

interface Fake {
  server: http.Server;
  url: string;
  port: number;
  /** Requests whose head arrived (the body is the handler's business). */
  requests: Array<{ method: string; url: string }>;
  close(): Promise<void>;
}

/** A fake backend that sees each request as its head arrives (so it can refuse the body). */
async function fake(handler: Handler, port = 0): Promise<Fake> {
  const requests: Fake['requests'] = [];
  const sockets = new Set<Socket>();
  const server = http.createServer((req, res) => {
    requests.push({ method: req.method ?? 'GET', url: req.url ?? '/' });
    handler(req, res);
  });
  server.keepAliveTimeout = 65_000;
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const actual = (server.address() as AddressInfo).port;
  return {
    server,
    port: actual,
    url: `http://127.0.0.1:${actual}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        if (!server.listening) return resolve();
        server.close(() => resolve());
      }),
  };
}

const json = (res: ServerResponse, status: number, body: unknown) => {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
};

/** A fake app: routes by path prefix, everything else 200 `{ok: name}`. */
function app(name: string, routes: Record<string, Handler> = {}): Handler {
  return (req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    for (const [prefix, handler] of Object.entries(routes)) {
      if (path.startsWith(prefix)) return handler(req, res);
    }
    json(res, 200, { ok: name, path });
  };
}

/** A server-sent event stream that stays open until the test ends. */
const sse: Handler = (_req, res) => {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store' });
  res.write(': open\n\n');
};

describe('resilience (fake backends)', () => {
  const open: Array<() => Promise<unknown> | unknown> = [];
  afterEach(async () => {
    for (const f of open.splice(0).reverse()) await f();
  });

  async function stack(
    legacyHandler: Handler,
    modernHandler: Handler,
    tableText?: string,
  ): Promise<{ gw: GatewayHandle; legacy: Fake; modern: Fake }> {
    const legacy = await fake(legacyHandler);
    const modern = await fake(modernHandler);
    const t = await tempDir();
    const file = tableText ? await writeTable(t.dir, tableText) : await copyDefaultTable(t.dir);
    const gw = await startGateway({
      routesFile: file,
      env: { LEGACY_URL: legacy.url, MODERN_URL: modern.url },
      accessLog: false,
    });
    open.push(
      () => t.cleanup(),
      () => legacy.close(),
      () => modern.close(),
      () => gw.close(),
    );
    return { gw, legacy, modern };
  }

  it('256 open event streams cannot starve other routes: streams have their own budget, the excess gets a fast 503', async () => {
    const { gw } = await stack(app('legacy'), app('modern', { '/events': sse }));
    const streams = new Agent({ connections: 512, pipelining: 0 });
    const short = new Agent({ connections: 32 });
    open.push(
      () => short.destroy(),
      () => streams.destroy(),
    );
    const opened = await Promise.all(
      Array.from({ length: 256 }, async () => {
        const started = Date.now();
        const res = await request(`${gw.url}/events`, { dispatcher: streams, headersTimeout: 10_000 });
        if (res.statusCode !== 200) await res.body.text();
        return { status: res.statusCode, ms: Date.now() - started, code: res.headers['x-backend'] };
      }),
    );
    // with every stream open, every ordinary route to modern still answers
    const answers = await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        request(`${gw.url}${i % 2 ? '/articles' : '/openapi.json'}`, {
          dispatcher: short,
          headersTimeout: 5_000,
        }).then(async (res) => ({
          status: res.statusCode,
          backend: res.headers['x-backend'],
          text: await res.body.text(),
        })),
      ),
    );
    for (const a of answers) expect(a).toMatchObject({ status: 200, backend: 'modern' });
    const ok = opened.filter((o) => o.status === 200);
    const refused = opened.filter((o) => o.status === 503);
    expect(ok).toHaveLength(128); // the default stream budget
    expect(refused).toHaveLength(128);
    // refused after the queue timeout (1 s), not after a client-side timeout
    for (const r of refused) expect(r.ms).toBeLessThan(8_000);

    const view = gw.gateway.pool.get('modern')!.view();
    expect(view.connections).toMatchObject({ streams: 128, maxStreams: 128 });
    expect(view).toMatchObject({ healthy: true, breaker: 'closed' });
  });

  it('a request that cannot get a connection in time goes to the fallback (GET) or gets a fast 503 (POST)', async () => {
    const held: ServerResponse[] = [];
    const { gw, legacy } = await stack(
      app('legacy'),
      app('modern', { '/articles/slow': (_req, res) => void held.push(res) }),
      `backends:
  legacy: { url: http://127.0.0.1:1, urlEnv: LEGACY_URL, healthCheck: { enabled: false } }
  modern: { url: http://127.0.0.1:1, urlEnv: MODERN_URL, healthCheck: { enabled: false }, maxSockets: 2, queueTimeoutMs: 300, timeoutMs: 20000 }
routes:
  - { id: articles, path: /articles*, backend: modern, fallback: legacy }
  - { id: default, path: /*, backend: legacy }
`,
    );
    open.push(() => {
      for (const r of held) r.destroy();
    });
    const client = new Agent({ connections: 16 });
    open.push(() => client.destroy());
    // two slow requests take modern's whole budget
    const slow = [1, 2].map(() =>
      request(`${gw.url}/articles/slow`, { dispatcher: client }).catch(() => null),
    );
    await expect.poll(() => held.length).toBe(2);
    const get = await call(`${gw.url}/articles/one`, { dispatcher: client });
    expect(get.status).toBe(200);
    expect(get.headers['x-backend']).toBe('legacy');
    expect(legacy.requests.some((r) => r.url === '/articles/one')).toBe(true);
    const started = Date.now();
    const post = await call(`${gw.url}/articles`, { method: 'POST', body: '{}', dispatcher: client });
    expect(post.status).toBe(503);
    expect(post.headers['retry-after']).toBe('1');
    expect(post.json()).toMatchObject({ error: { status: 503, code: 'BACKEND_BUSY' } });
    expect(Date.now() - started).toBeLessThan(5_000);
    // waiting for a connection is nobody's failure: the backend stays in
    expect(gw.gateway.pool.get('modern')!.view()).toMatchObject({ healthy: true, breaker: 'closed' });
    for (const r of held) r.destroy();
    await Promise.all(slow);
  });

  it('oversized webhook bodies are refused by the gateway (413) and never reach or eject modern', async () => {
    const { gw, modern } = await stack(
      app('legacy'),
      app('modern', {
        // like an app that resets an upload it will not read
        '/webhooks': (req, res) =>
          Number(req.headers['content-length'] ?? 0) > 100_000 ? req.socket.destroy() : json(res, 401, {}),
        '/events': sse,
      }),
    );
    const body = 'x'.repeat(1024 * 1024);
    for (let i = 0; i < 20; i++) {
      const res = await call(`${gw.url}/webhooks/strapi`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      });
      expect(res.status).toBe(413);
      expect(res.headers['x-backend']).toBe('gateway');
      expect(res.json()).toMatchObject({ error: { status: 413, code: 'PAYLOAD_TOO_LARGE' } });
    }
    expect(modern.requests.filter((r) => r.url?.startsWith('/webhooks'))).toEqual([]);
    expect((await call(`${gw.url}/openapi.json`)).status).toBe(200);
    const small = await call(`${gw.url}/webhooks/strapi`, { method: 'POST', body: '{}' });
    expect(small.status).toBe(401);
    expect(small.headers['x-backend']).toBe('modern');
  });

  it('uploads a backend resets mid-body count against that route only: the backend keeps serving the others', async () => {
    const { gw } = await stack(
      app('legacy'),
      app('modern', {
        '/webhooks': (req, res) =>
          Number(req.headers['content-length'] ?? 0) > 100_000 ? req.socket.destroy() : json(res, 401, {}),
      }),
    );
    const body = 'x'.repeat(200 * 1024); // under the route's 256 KiB, over what this backend takes
    for (let i = 0; i < 12; i++) {
      const res = await call(`${gw.url}/webhooks/strapi`, { method: 'POST', body }).catch(() => null);
      if (res) expect(res.status).toBeGreaterThanOrEqual(400);
    }
    const view = gw.gateway.pool.get('modern')!.view();
    expect(view).toMatchObject({ healthy: true, breaker: 'closed' });
    const docs = await call(`${gw.url}/openapi.json`);
    expect(docs.status).toBe(200);
    expect(docs.headers['x-backend']).toBe('modern');
  });

  it('a dependency failing on one route takes no other route down (Strapi down: searches 503; Redis down: /ready 503)', async () => {
    const strapiDown: Handler = (_req, res) =>
      json(res, 503, { error: { status: 503, code: 'UPSTREAM_UNAVAILABLE', message: 'Strapi is down' } });
    const { gw } = await stack(
      app('legacy', {
        '/ready': (_req, res) =>
          json(res, 503, { error: { status: 503, code: 'NOT_READY', message: 'redis down' } }),
        '/articles': (req, res) =>
          req.url?.includes('q=') ? strapiDown(req, res) : json(res, 200, { cached: 'legacy' }),
      }),
      app('modern', {
        '/articles': (req, res) =>
          req.url?.includes('q=') ? strapiDown(req, res) : json(res, 200, { cached: 'modern' }),
      }),
    );
    const results: Array<{ path: string; status: number; code?: string; backend: unknown }> = [];
    for (let i = 0; i < 120; i++) {
      const path = [
        `/articles?q=uncached-${i}`,
        '/articles/cached',
        '/auth/login',
        '/health',
        '/ready',
        '/openapi.json',
      ][i % 6]!;
      const res = await call(
        `${gw.url}${path}`,
        path === '/auth/login' ? { method: 'POST', body: '{}' } : {},
      );
      results.push({
        path,
        status: res.status,
        code: res.status >= 400 ? res.json<{ error: { code: string } }>().error.code : undefined,
        backend: res.headers['x-backend'],
      });
    }
    // the failing route answers its own 503s (the app's envelope), never a gateway refusal
    expect(results.filter((r) => r.code === 'BACKEND_UNAVAILABLE')).toEqual([]);
    for (const r of results.filter((x) => x.path.startsWith('/articles?q=')))
      expect(r.code).toBe('UPSTREAM_UNAVAILABLE');
    for (const r of results.filter((x) => x.path === '/ready'))
      expect(r).toMatchObject({ status: 503, code: 'NOT_READY', backend: 'legacy' });
    for (const r of results.filter((x) =>
      ['/articles/cached', '/auth/login', '/health', '/openapi.json'].includes(x.path),
    )) {
      expect(r.status, r.path).toBe(200);
    }
    for (const name of ['legacy', 'modern']) {
      expect(gw.gateway.pool.get(name)!.view(), name).toMatchObject({ healthy: true, breaker: 'closed' });
    }
    // the breakers that did open are those routes' own
    const opened = gw.gateway.breakers.notClosed().map((b) => `${b.route}/${b.backend}`);
    expect(opened.sort()).toEqual(expect.arrayContaining(['articles/modern']));
    expect(
      opened.every((b) => b === 'articles/modern' || b === 'articles/legacy' || b === 'default/legacy'),
    ).toBe(true);
  });

  it('connection failures eject a backend for every route; health shows it; it comes back through half-open', async () => {
    const legacy = await fake(app('legacy'));
    let modern = await fake(app('modern'));
    const port = modern.port;
    const t = await tempDir();
    const file = await writeTable(
      t.dir,
      `backends:
  legacy: { url: ${legacy.url}, healthCheck: { enabled: false } }
  modern: { url: ${modern.url}, healthCheck: { enabled: false }, outlier: { consecutiveGatewayFailures: 3, ejectionMs: 500, halfOpenPercent: 25, halfOpenSuccesses: 3 } }
routes:
  - { id: articles, path: /articles*, backend: modern, fallback: legacy }
  - { id: docs, path: /openapi.json, backend: modern }
  - { id: default, path: /*, backend: legacy }
`,
    );
    const gw = await startGateway({ routesFile: file, accessLog: false });
    open.push(
      () => t.cleanup(),
      () => legacy.close(),
      () => modern.close(),
      () => gw.close(),
    );
    await modern.close();
    for (let i = 0; i < 3; i++) expect((await call(`${gw.url}/openapi.json`)).status).toBe(502);
    const view = gw.gateway.pool.get('modern')!.view();
    expect(view).toMatchObject({
      healthy: false,
      breaker: 'open',
      state: 'down',
      ejection: { reason: 'gateway-failures' },
    });
    const refused = await call(`${gw.url}/openapi.json`);
    expect(refused.status).toBe(503);
    expect(refused.json()).toMatchObject({ error: { code: 'BACKEND_UNAVAILABLE' } });
    expect((await call(`${gw.url}/articles`)).headers['x-backend']).toBe('legacy');

    // back on the same port: after the ejection, a share of requests goes through, then all
    modern = await fake(app('modern'), port);
    await new Promise((r) => setTimeout(r, 600));
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) statuses.push((await call(`${gw.url}/openapi.json`)).status);
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThanOrEqual(2); // a share, not one probe
    await expect
      .poll(async () => {
        await call(`${gw.url}/openapi.json`);
        return gw.gateway.pool.get('modern')!.view();
      })
      .toMatchObject({ healthy: true, breaker: 'closed', state: 'up' });
  });
});
