import { once } from 'node:events';
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GatewayHandle } from '../src/index.ts';
import { type Backends, call, copyDefaultTable, startBackends, startGateway, tempDir } from './helpers.ts';

describe('routing with the default table (fake backends)', () => {
  let backends: Backends;
  let gw: GatewayHandle;
  let cleanup: () => Promise<void>;

  beforeAll(async () => {
    backends = await startBackends({
      modern: (req, res) => {
        if (req.url === '/events') {
          // server-sent events: first event now, second only when the test says so
          res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
          res.write('data: one\n\n');
          sse.release = () => res.end('data: two\n\n');
          return;
        }
        const body = JSON.stringify({
          backend: 'modern',
          method: req.method,
          url: req.url,
          headers: req.headers,
          body: req.body,
        });
        res.writeHead(200, {
          'content-type': 'application/json',
          connection: 'keep-alive, x-internal',
          'x-internal': 'secret',
          'keep-alive': 'timeout=5',
        });
        res.end(body);
      },
    });
    const t = await tempDir();
    cleanup = t.cleanup;
    gw = await startGateway({ routesFile: await copyDefaultTable(t.dir), env: backends.env });
  });
  afterAll(async () => {
    await gw.close();
    await backends.close();
    await cleanup();
  });
  const sse: { release?: () => void } = {};

  const cases: Array<[string, string, 'legacy' | 'modern', string?]> = [
    ['GET', '/articles', 'modern'],
    ['GET', '/articles/hello-world?x=1', 'modern'],
    ['HEAD', '/articles', 'modern'],
    ['POST', '/articles', 'modern'],
    ['GET', '/ARTICLES', 'modern'],
    ['GET', '/aggregate', 'legacy'],
    ['POST', '/webhooks/strapi', 'modern'],
    ['GET', '/webhooks', 'modern'],
    ['GET', '/docs', 'modern'],
    ['GET', '/docs/static/index.css', 'modern'],
    ['GET', '/openapi.json', 'modern'],
    ['POST', '/events', 'legacy'], // /events only takes GET; POST falls through to the default route
    ['POST', '/auth/login', 'legacy'],
    ['GET', '/me', 'legacy'],
    ['GET', '/health', 'legacy'],
    ['GET', '/webhooksx', 'legacy'],
    ['GET', '/', 'legacy'],
  ];

  it.each(cases)('%s %s → %s', async (method, path, expected) => {
    const res = await call(gw.url + path, { method, body: method === 'POST' ? '{}' : undefined });
    expect(res.status).toBe(200);
    expect(res.headers['x-backend']).toBe(expected);
    if (method !== 'HEAD') {
      const body = res.json<{ backend: string; url: string; method: string }>();
      expect(body.backend).toBe(expected);
      expect(body.method).toBe(method);
    }
  });

  it('generates an X-Request-Id, or passes a valid one through, both ways', async () => {
    const generated = await call(`${gw.url}/me`);
    const id = generated.headers['x-request-id'] as string;
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(generated.json<{ headers: Record<string, string> }>().headers['x-request-id']).toBe(id);

    const passed = await call(`${gw.url}/me`, { headers: { 'x-request-id': 'req-123.abc' } });
    expect(passed.headers['x-request-id']).toBe('req-123.abc');
    expect(passed.json<{ headers: Record<string, string> }>().headers['x-request-id']).toBe('req-123.abc');

    const bogus = await call(`${gw.url}/me`, { headers: { 'x-request-id': 'has spaces and <tags>' } });
    expect(bogus.headers['x-request-id']).not.toBe('has spaces and <tags>');
  });

  it('sets X-Forwarded-For/-Proto/-Host, replacing what an untrusted client sent', async () => {
    const res = await call(`${gw.url}/me`, {
      headers: { 'x-forwarded-for': '6.6.6.6', 'x-forwarded-host': 'evil.example', forwarded: 'for=6.6.6.6' },
    });
    const headers = res.json<{ headers: Record<string, string> }>().headers;
    expect(headers['x-forwarded-for']).toBe('127.0.0.1');
    expect(headers['x-forwarded-proto']).toBe('http');
    expect(headers['x-forwarded-host']).toBe(new URL(gw.url).host);
    expect(headers.forwarded).toBeUndefined();
  });

  it('strips hop-by-hop headers both ways, including those named in Connection', async () => {
    const res = await new Promise<http.IncomingMessage & { body: string }>((resolve, reject) => {
      const req = http.request(`${gw.url}/articles`, {
        headers: {
          connection: 'keep-alive, x-hop-secret',
          'x-hop-secret': 'do not forward',
          'keep-alive': 'timeout=5',
          te: 'trailers',
          'proxy-authorization': 'Basic Zm9vOmJhcg==',
          upgrade: 'h2c',
        },
      });
      req.on('response', (r) => {
        let body = '';
        r.on('data', (c) => {
          body += c;
        });
        r.on('end', () => resolve(Object.assign(r, { body })));
      });
      req.on('error', reject);
      req.end();
    });
    const seen = (JSON.parse(res.body) as { headers: Record<string, string> }).headers;
    for (const h of ['x-hop-secret', 'keep-alive', 'te', 'proxy-authorization', 'upgrade'])
      expect(seen[h]).toBeUndefined();
    // the modern fake answered with `Connection: keep-alive, x-internal` and `X-Internal: secret`
    expect(res.headers['x-internal']).toBeUndefined();
    expect(res.headers['x-backend']).toBe('modern');
  });

  it('streams server-sent events unbuffered', async () => {
    const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
      http.get(`${gw.url}/events`, resolve).on('error', reject);
    });
    expect(res.headers['content-type']).toBe('text/event-stream');
    expect(res.headers['x-backend']).toBe('modern');
    // the first event arrives while the backend still holds the stream open
    const [first] = (await once(res, 'data')) as [Buffer];
    expect(first.toString()).toBe('data: one\n\n');
    sse.release!();
    let rest = '';
    for await (const chunk of res) rest += chunk;
    expect(rest).toBe('data: two\n\n');
  });

  it('streams a chunked request body to the backend', async () => {
    const res = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = http.request(`${gw.url}/webhooks/strapi`, {
        method: 'POST',
        headers: { 'content-type': 'text/plain' },
      });
      req.on('response', (r) => {
        let body = '';
        r.on('data', (c) => {
          body += c;
        });
        r.on('end', () => resolve({ status: r.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      req.write('part one, ');
      setImmediate(() => req.end('part two'));
    });
    expect(res.status).toBe(200);
    const seen = JSON.parse(res.body) as { body: string; headers: Record<string, string> };
    expect(seen.body).toBe('part one, part two');
    expect(seen.headers['transfer-encoding']).toBe('chunked');
  });

  it('assigns a sticky cookie on a split route when the client has no key', async () => {
    const res = await call(`${gw.url}/subscribers`);
    expect(String(res.headers['set-cookie'])).toMatch(
      /^pilot_uid=[\w-]+; Path=\/; Max-Age=31536000; HttpOnly; SameSite=Lax$/,
    );
    const cookie = String(res.headers['set-cookie']).split(';')[0]!;
    const backend = res.headers['x-backend'];
    for (let i = 0; i < 20; i++) {
      const again = await call(`${gw.url}/subscribers`, { headers: { cookie } });
      expect(again.headers['x-backend']).toBe(backend);
      expect(again.headers['set-cookie']).toBeUndefined();
    }
  });

  it('answers gateway errors in the shared error envelope', async () => {
    const res = await call(`${gw.url}/articles`, { method: 'POST', body: 'x'.repeat(64 * 1024 + 1) });
    expect(res.status).toBe(413);
    expect(res.json()).toEqual({
      error: { status: 413, code: 'PAYLOAD_TOO_LARGE', message: 'request body over 65536 bytes' },
    });
    expect(res.headers['x-backend']).toBe('gateway');
  });
});
