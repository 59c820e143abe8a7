import http from 'node:http';
import net from 'node:net';
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

/** Sends bytes on a raw socket and returns everything the gateway answered before closing. */
function raw(url: string, payload: string | Buffer): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname);
    let data = '';
    const guard = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no close from the gateway; got so far: ${JSON.stringify(data.slice(0, 200))}`));
    }, 10_000);
    socket.setEncoding('latin1');
    socket.on('data', (d) => {
      data += d;
    });
    socket.on('close', () => {
      clearTimeout(guard);
      resolve(data);
    });
    socket.on('error', () => {});
    socket.write(payload);
  });
}

const statusOf = (response: string) => Number(/^HTTP\/1\.1 (\d{3})/.exec(response)?.[1] ?? 0);

describe('the security table: rejected every time, nothing reaches a backend the table did not choose', () => {
  let backends: Backends;
  let gw: GatewayHandle;
  let cleanup: () => Promise<void>;

  beforeAll(async () => {
    backends = await startBackends();
    const t = await tempDir();
    cleanup = t.cleanup;
    gw = await startGateway({
      routesFile: await copyDefaultTable(t.dir),
      env: backends.env,
      adminToken: TOKEN,
    });
  });
  afterAll(async () => {
    await gw.close();
    await backends.close();
    await cleanup();
  });

  const seen = () => backends.legacy.requests.length + backends.modern.requests.length;

  const H = 'Host: gateway.test\r\nConnection: close\r\n';
  const smuggling: Array<[string, string, number]> = [
    [
      'Content-Length with Transfer-Encoding',
      `POST /articles HTTP/1.1\r\n${H}Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /admin HTTP/1.1\r\nHost: x\r\n\r\n`,
      400,
    ],
    [
      'Transfer-Encoding with Content-Length',
      `POST /articles HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\nContent-Length: 40\r\n\r\n0\r\n\r\nGET /admin HTTP/1.1\r\nHost: x\r\n\r\n`,
      400,
    ],
    [
      'two different Content-Lengths',
      `POST /articles HTTP/1.1\r\n${H}Content-Length: 4\r\nContent-Length: 5\r\n\r\nabcde`,
      400,
    ],
    [
      'two equal Content-Lengths',
      `POST /articles HTTP/1.1\r\n${H}Content-Length: 4\r\nContent-Length: 4\r\n\r\nabcd`,
      400,
    ],
    ['a Content-Length list', `POST /articles HTTP/1.1\r\n${H}Content-Length: 4, 4\r\n\r\nabcd`, 400],
    ['a signed Content-Length', `POST /articles HTTP/1.1\r\n${H}Content-Length: +4\r\n\r\nabcd`, 400],
    ['Transfer-Encoding: gzip', `POST /articles HTTP/1.1\r\n${H}Transfer-Encoding: gzip\r\n\r\nabcd`, 400],
    [
      'Transfer-Encoding: xchunked',
      `POST /articles HTTP/1.1\r\n${H}Transfer-Encoding: xchunked\r\n\r\n0\r\n\r\n`,
      400,
    ],
    [
      'Transfer-Encoding: chunked, identity',
      `POST /articles HTTP/1.1\r\n${H}Transfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n`,
      400,
    ],
    [
      'Transfer-Encoding twice',
      `POST /articles HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`,
      400,
    ],
    [
      'space before the colon',
      `POST /articles HTTP/1.1\r\n${H}Transfer-Encoding : chunked\r\n\r\n0\r\n\r\n`,
      400,
    ],
    [
      'obs-fold Transfer-Encoding',
      `POST /articles HTTP/1.1\r\n${H}Transfer-Encoding:\r\n chunked\r\n\r\n0\r\n\r\n`,
      400,
    ],
    ['bare LF line endings', 'GET /articles HTTP/1.1\nHost: x\nConnection: close\n\n', 400],
    ['a bare CR in a header', `GET /articles HTTP/1.1\r\n${H}X-A: a\rb\r\n\r\n`, 400],
    ['two Host headers', `GET /articles HTTP/1.1\r\nHost: a\r\nHost: b\r\nConnection: close\r\n\r\n`, 400],
    ['no Host header', 'GET /articles HTTP/1.1\r\nConnection: close\r\n\r\n', 400],
    ['HTTP/0.9', 'GET /articles\r\n\r\n', 400],
    [
      'absolute-form to a backend',
      'GET http://127.0.0.1:3002/articles HTTP/1.1\r\nHost: 127.0.0.1:3002\r\nConnection: close\r\n\r\n',
      400,
    ],
    ['absolute-form, HTTP/1.0', 'GET http://example.com/ HTTP/1.0\r\n\r\n', 400],
    ['asterisk-form', `OPTIONS * HTTP/1.1\r\n${H}\r\n`, 400],
    ['CONNECT', 'CONNECT 127.0.0.1:3002 HTTP/1.1\r\nHost: 127.0.0.1:3002\r\n\r\n', 405],
    ['a NUL in the path', `GET /articles\x00/x HTTP/1.1\r\n${H}\r\n`, 400],
    ['a raw backslash in the path', `GET /articles\\..\\admin HTTP/1.1\r\n${H}\r\n`, 400],
    ['an encoded backslash', `GET /articles/..%5Cadmin HTTP/1.1\r\n${H}\r\n`, 400],
    ['an encoded NUL', `GET /articles/%00 HTTP/1.1\r\n${H}\r\n`, 400],
    ['a malformed escape', `GET /articles/%zz HTTP/1.1\r\n${H}\r\n`, 400],
    ['oversize headers', `GET /articles HTTP/1.1\r\n${H}X-Big: ${'a'.repeat(20_000)}\r\n\r\n`, 431],
    [
      'an oversize declared body',
      `POST /articles HTTP/1.1\r\n${H}Content-Length: ${2 * 1024 * 1024}\r\n\r\nabc`,
      413,
    ],
  ];

  it.each(smuggling)('%s → %i, no backend sees a request', async (_name, payload, status) => {
    const before = seen();
    const response = await raw(gw.url, payload);
    expect(statusOf(response)).toBe(status);
    // a request that reached the gateway after the bad one proves the socket was not reused
    await call(`${gw.url}/nothing-here`);
    expect(seen()).toBe(before + 1);
  });

  it('a WebSocket or h2c upgrade is never tunnelled: a plain request without Upgrade reaches the backend', async () => {
    for (const upgrade of ['websocket', 'h2c']) {
      const response = await raw(
        gw.url,
        `GET /articles HTTP/1.1\r\nHost: gateway.test\r\nConnection: Upgrade, close\r\nUpgrade: ${upgrade}\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`,
      );
      expect(statusOf(response)).toBe(200);
      const seenHeaders = backends.modern.requests.at(-1)!.headers;
      expect(seenHeaders.upgrade).toBeUndefined();
      expect(seenHeaders.connection).not.toMatch(/upgrade/i);
    }
  });

  it('Expect: 100-continue with an oversize body gets 413 before any upload, a small one gets 100 then 200', async () => {
    const before = seen();
    const big = await raw(
      gw.url,
      `POST /articles HTTP/1.1\r\n${H}Expect: 100-continue\r\nContent-Length: ${5 * 1024 * 1024}\r\n\r\n`,
    );
    expect(statusOf(big)).toBe(413);
    expect(big).not.toContain('100 Continue');
    expect(seen()).toBe(before);
    const small = await raw(
      gw.url,
      `POST /articles HTTP/1.1\r\n${H}Expect: 100-continue\r\nContent-Length: 2\r\n\r\n{}`,
    );
    expect(small.startsWith('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK')).toBe(true);
    expect(backends.modern.requests.at(-1)!.headers.expect).toBeUndefined();
  });

  it("an Expect other than 100-continue: 417 in the envelope on both ports (Node's own is bare), nothing forwarded", async () => {
    const before = seen();
    for (const base of [gw.url, gw.adminUrl!]) {
      for (const expectation of ['bogus', '200-ok', '100-continued']) {
        const answer = await raw(
          base,
          `POST /articles HTTP/1.1\r\n${H}Expect: ${expectation}\r\nContent-Length: 2\r\n\r\n{}`,
        );
        expect(statusOf(answer)).toBe(417);
        const body = JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4));
        expect(body).toEqual({
          error: { status: 417, code: 'EXPECTATION_FAILED', message: expect.any(String) },
        });
      }
    }
    expect(seen()).toBe(before);
  });

  it('an oversize chunked body → 413; the backend never receives a complete request', async () => {
    // a plain node:http backend (test-kit's server treats an aborted upload as an error)
    const received: string[] = [];
    let started = 0;
    const backend = http.createServer((req, res) => {
      started++;
      let size = 0;
      req.on('data', (c: Buffer) => {
        size += c.length;
      });
      req.on('end', () => {
        received.push(`${req.url} ${size}`);
        res.end('ok');
      });
      req.on('error', () => {});
    });
    await new Promise<void>((resolve) => backend.listen(0, '127.0.0.1', resolve));
    const t = await tempDir();
    const { port } = backend.address() as net.AddressInfo;
    const small = await startGateway({
      routesFile: await copyDefaultTable(t.dir),
      env: { ...backends.env, MODERN_URL: `http://127.0.0.1:${port}` },
    });
    try {
      const chunk = 'a'.repeat(64 * 1024);
      let body = '';
      for (let i = 0; i < 20; i++) body += `${chunk.length.toString(16)}\r\n${chunk}\r\n`;
      const response = await raw(
        small.url,
        `POST /articles HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n${body}0\r\n\r\n`,
      );
      expect(statusOf(response)).toBe(413);
      expect(received).toEqual([]);
      expect(started).toBeLessThanOrEqual(1);
    } finally {
      await small.close();
      backend.closeAllConnections();
      backend.close();
      await t.cleanup();
    }
  });

  const paths: Array<[string, 'legacy' | 'modern', string]> = [
    ['/articles/..%2Fadmin', 'legacy', '/admin'],
    ['/articles/..%2fadmin', 'legacy', '/admin'],
    ['/articles%2F..%2Fadmin', 'legacy', '/admin'],
    ['/articles/../admin', 'legacy', '/admin'],
    ['/articles/%2e%2e/admin', 'legacy', '/admin'],
    ['/articles/%2E%2E%2Fadmin', 'legacy', '/admin'],
    ['/ARTICLES/..%2F..%2F..%2Fadmin', 'legacy', '/admin'],
    ['/webhooks/..%2F..%2Fauth/login', 'legacy', '/auth/login'],
    ['/docs/..%2Fme', 'legacy', '/me'],
    ['//articles', 'modern', '/articles'],
    ['/articles//x', 'modern', '/articles/x'],
    ['/%61rticles', 'modern', '/articles'],
    ['/admin/..%2Farticles', 'modern', '/articles'],
    ['/articles/%252e%252e/admin', 'modern', '/articles/%252e%252e/admin'],
    ['/Articles/Some-Slug', 'modern', '/Articles/Some-Slug'],
  ];

  it.each(paths)('%s goes to %s as %s, and only there', async (path, backend, forwarded) => {
    const before = { legacy: backends.legacy.requests.length, modern: backends.modern.requests.length };
    const response = await raw(gw.url, `GET ${path} HTTP/1.1\r\n${H}\r\n`);
    expect(statusOf(response)).toBe(200);
    expect(response).toMatch(new RegExp(`\r\nx-backend: ${backend}\r\n`, 'i'));
    const other = backend === 'legacy' ? 'modern' : 'legacy';
    expect(backends[other].requests.length).toBe(before[other]);
    expect(backends[backend].requests.length).toBe(before[backend] + 1);
    expect(backends[backend].requests.at(-1)!.url).toBe(forwarded);
  });

  it('admin: no token → 401, wrong token → 401, right token → 200', async () => {
    expect((await call(`${gw.adminUrl}/admin/table`)).status).toBe(401);
    expect(
      (await call(`${gw.adminUrl}/admin/table`, { headers: { authorization: 'Bearer wrong' } })).status,
    ).toBe(401);
    expect(
      (await call(`${gw.adminUrl}/admin/table`, { headers: { authorization: `Bearer ${TOKEN}x` } })).status,
    ).toBe(401);
    expect((await call(`${gw.adminUrl}/admin/table`, { headers: { authorization: TOKEN } })).status).toBe(
      401,
    );
    const put = await call(`${gw.adminUrl}/admin/routes/subscribers/weights`, {
      method: 'PUT',
      headers: { authorization: 'Bearer wrong', 'content-type': 'application/json' },
      body: '{"weights":{"legacy":0,"modern":100}}',
    });
    expect(put.status).toBe(401);
    expect(gw.gateway.route('subscribers')!.weights).toEqual({ legacy: 90, modern: 10 });
    expect((await call(`${gw.adminUrl}/admin/table`, { headers: auth })).status).toBe(200);
  });

  it('the admin API is not reachable through the public port', async () => {
    const res = await call(`${gw.url}/admin/table`, { headers: auth });
    expect(res.headers['x-backend']).toBe('legacy'); // just a path on the default route
    expect(backends.legacy.requests.at(-1)!.headers.authorization).toBe(auth.authorization);
  });
});

describe('admin disabled when no token is configured', () => {
  it('refuses every admin action with 403, still serves /metrics and /healthz', async () => {
    const backends = await startBackends();
    const t = await tempDir();
    const gw = await startGateway({ routesFile: await copyDefaultTable(t.dir), env: backends.env });
    try {
      const res = await call(`${gw.adminUrl}/admin/table`, { headers: { authorization: 'Bearer anything' } });
      expect(res.status).toBe(403);
      expect(res.json<{ error: { code: string } }>().error.code).toBe('ADMIN_DISABLED');
      const put = await call(`${gw.adminUrl}/admin/routes/subscribers/weights`, {
        method: 'PUT',
        body: '{"weights":{"modern":100}}',
      });
      expect(put.status).toBe(403);
      expect((await call(`${gw.adminUrl}/metrics`)).status).toBe(200);
      expect((await call(`${gw.adminUrl}/healthz`)).status).toBe(200);
    } finally {
      await gw.close();
      await backends.close();
      await t.cleanup();
    }
  });
});
