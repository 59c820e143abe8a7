/**
 * The admin port against hostile input, on a real `node src/server.ts` process: one anonymous
 * request used to end the whole gateway (a percent-decode outside the try, in an async handler
 * called with `void` → unhandled rejection → exit 1). Every answer here must be the error
 * envelope, and the process must still be serving afterwards.
 */
import type net from 'node:net';
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
import { type Proc, startGatewayProcess } from './processes.ts';
import { rawExchange } from './raw.ts';

function parse(response: string): { status: number; body: string } {
  const status = Number(/^HTTP\/1\.1 (\d{3}) /.exec(response)?.[1] ?? 0);
  const body = response.slice(response.indexOf('\r\n\r\n') + 4);
  return { status, body };
}

function expectEnvelope(response: string, status: number): void {
  const parsed = parse(response);
  expect(parsed.status, response.slice(0, 300)).toBe(status);
  const json = JSON.parse(parsed.body) as { error: { status: number; code: string; message: string } };
  expect(json.error).toMatchObject({ status, code: expect.any(String), message: expect.any(String) });
}

describe('admin port: hostile input answered in the envelope, the process lives (real server.ts, fake backends)', () => {
  let backends: Backends;
  let gw: Proc;
  let cleanup: () => Promise<void>;

  beforeAll(async () => {
    backends = await startBackends();
    const t = await tempDir();
    cleanup = t.cleanup;
    gw = await startGatewayProcess({
      GATEWAY_ROUTES: await copyDefaultTable(t.dir),
      GATEWAY_ADMIN_TOKEN: TOKEN,
      GATEWAY_HEALTH_CHECKS: 'false',
      ...backends.env,
    });
  });
  afterAll(async () => {
    await gw?.stop();
    await backends.close();
    await cleanup();
  });

  const stillServing = async () => {
    expect(gw.alive(), `${gw.exit()}\n${gw.tail()}`).toBe(true);
    expect((await call(`${gw.adminUrl}/healthz`)).status).toBe(200);
    expect((await call(`${gw.url}/articles`)).status).toBe(200);
  };

  const MALFORMED = [
    '/admin/ui/static/%zz',
    '/admin/ui/static/%',
    '/admin/ui/static/%E0%A4%A',
    '/admin/routes/%zz',
    '/admin/routes/%zz/weights',
    '/admin/shadow/samples/%C0%AF%',
    '/%zz',
    '/admin/%ff%fe',
  ];

  it.each(MALFORMED)('GET %s (raw socket, no token) → 400 envelope, gateway alive', async (path) => {
    expectEnvelope(await rawExchange(gw.adminUrl!, `GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`), 400);
    await stillServing();
  });

  it.each(MALFORMED)('GET %s (with the token) → 400 envelope, gateway alive', async (path) => {
    const res = await rawExchange(
      gw.adminUrl!,
      `GET ${path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TOKEN}\r\n\r\n`,
    );
    expectEnvelope(res, 400);
    await stillServing();
  });

  it.each([
    '__proto__',
    'constructor',
    'hasOwnProperty',
    'toString',
    '..%2F..%2Fpackage.json',
    '%2e%2e%2fserver.ts',
    '..%5Cserver.ts',
    'index.html%00',
    'app.js.map',
  ])('GET /admin/ui/static/%s → 404 envelope: only the three known files are served', async (file) => {
    const res = await call(`${gw.adminUrl}/admin/ui/static/${file}`);
    expect(res.status).toBe(404);
    expect(res.json()).toMatchObject({ error: { status: 404, code: 'NOT_FOUND' } });
  });

  it('serves the known static files', async () => {
    for (const file of ['index.html', 'app.js', 'app.css']) {
      const res = await call(`${gw.adminUrl}/admin/ui/static/${file}`);
      expect(res.status, file).toBe(200);
      expect(res.headers['content-security-policy']).toContain("default-src 'none'");
    }
  });

  it('bytes the HTTP parser refuses get a 400 envelope on either port', async () => {
    for (const url of [gw.adminUrl!, gw.url]) {
      expectEnvelope(await rawExchange(url, 'GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n'), 400);
      expectEnvelope(await rawExchange(url, '\u0000\u0001\u0002 garbage\r\n\r\n'), 400);
      expectEnvelope(
        await rawExchange(url, 'GET /healthz HTTP/1.1\r\nConnection: upgrade\r\nUpgrade: x\r\n\r\n'),
        400,
      );
    }
    await stillServing();
  });

  it('checks the token first: an unknown path without it is 401, with it 404; a wrong method 405', async () => {
    const anon = await call(`${gw.adminUrl}/admin/nope`);
    expect(anon.status).toBe(401);
    expect(anon.json()).toMatchObject({ error: { code: 'UNAUTHORIZED' } });
    expect((await call(`${gw.adminUrl}/admin/nope`, { headers: auth })).status).toBe(404);
    const wrong = await call(`${gw.adminUrl}/admin/table`, { method: 'DELETE', headers: auth });
    expect(wrong.status).toBe(405);
    expect(wrong.headers.allow).toBe('GET');
    expect(wrong.json()).toMatchObject({ error: { status: 405, code: 'METHOD_NOT_ALLOWED' } });
  });

  it('a body over 64 KiB or not a JSON object is an envelope, never a crash', async () => {
    const big = await call(`${gw.adminUrl}/admin/routes/subscribers/weights`, {
      method: 'PUT',
      headers: { ...auth, 'content-type': 'application/json' },
      body: `{"weights":${JSON.stringify('x'.repeat(70 * 1024))}}`,
    });
    expect(big.status).toBe(413);
    expect(big.json()).toMatchObject({ error: { status: 413, code: 'PAYLOAD_TOO_LARGE' } });
    for (const body of ['[]', 'null', '"x"', '{', '\u0000']) {
      const res = await call(`${gw.adminUrl}/admin/routes/subscribers/weights`, {
        method: 'PUT',
        headers: { ...auth, 'content-type': 'text/plain' },
        body,
      });
      expect(res.status, body).toBe(400);
      expect(res.json()).toMatchObject({ error: { code: 'INVALID_JSON' } });
    }
    await stillServing();
  });
});

describe('admin handlers that throw (in-process)', () => {
  let gw: GatewayHandle;
  let cleanup: () => Promise<void>;
  beforeAll(async () => {
    const t = await tempDir();
    cleanup = t.cleanup;
    gw = await startGateway({ routesFile: await copyDefaultTable(t.dir), adminToken: TOKEN });
  });
  afterAll(async () => {
    await gw.close();
    await cleanup();
  });

  it('a handler that throws or rejects answers 500 INTERNAL in the envelope, without details', async () => {
    // routes are added before listen in real use; Fastify refuses late ones, so use a fresh server
    const { AdminServer } = await import('../src/admin/server.ts');
    const admin = new AdminServer(gw.gateway.control, TOKEN);
    admin.route('GET', '/admin/boom-sync', () => {
      throw new Error('secret detail');
    });
    admin.route('GET', '/admin/boom-async', async () => {
      await Promise.resolve();
      throw new TypeError('secret detail');
    });
    await admin.listen(0, '127.0.0.1');
    try {
      const base = `http://127.0.0.1:${(admin.server.address() as net.AddressInfo).port}`;
      for (const path of ['/admin/boom-sync', '/admin/boom-async']) {
        const res = await call(`${base}${path}`, { headers: auth });
        expect(res.status).toBe(500);
        expect(res.json()).toEqual({ error: { status: 500, code: 'INTERNAL', message: 'internal error' } });
      }
    } finally {
      await admin.close();
    }
  });
});
