import http from 'node:http';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { call, startGateway, tempDir, writeTable } from './helpers.ts';

/**
 * The forward step on node:http (pipeline/forward.ts): the edges a proxy library used to cover
 * for us — a backend that breaks the protocol after a whole answer, a backend that answers
 * before the upload ends, a client that leaves mid-answer, a backend URL with its own path.
 */
const stops: Array<() => unknown> = [];
afterEach(async () => {
  while (stops.length > 0) await stops.pop()!();
});

async function listen(server: net.Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  stops.push(() => new Promise((resolve) => server.close(resolve)));
  return `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
}

async function gatewayTo(backendUrl: string, extra = '') {
  const dir = await tempDir();
  stops.push(dir.cleanup);
  const file = await writeTable(
    dir.dir,
    `backends:
  app: { url: "${backendUrl}", healthCheck: { enabled: false } }
routes:
  - id: all
    path: /*
    backend: app${extra}
`,
  );
  const gw = await startGateway({ routesFile: file });
  stops.push(() => gw.close());
  return gw;
}

describe('forward (node:http)', () => {
  it('a HEAD answered with a body (a broken backend): the client still gets the whole answer', async () => {
    const body = '{"error":{"status":431}}';
    const backend = net.createServer((s) => {
      s.on('error', () => {});
      s.once('data', () =>
        s.end(
          `HTTP/1.1 431 Too Large\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
        ),
      );
    });
    const gw = await gatewayTo(await listen(backend));
    const head = await call(`${gw.url}/x`, { method: 'HEAD' });
    expect(head.status).toBe(431);
    expect(head.headers['x-backend']).toBe('app');
    const get = await call(`${gw.url}/x`);
    expect(get.status).toBe(431);
    expect(get.text).toBe(body);
  });

  it('a backend that answers before the upload ends: the client gets that answer, the connection stays usable', async () => {
    const backend = http.createServer((req, res) => {
      if (req.url === '/upload') {
        res.writeHead(413, { 'content-type': 'application/json' });
        res.end('{"error":{"status":413,"code":"PAYLOAD_TOO_LARGE"}}');
        return;
      }
      req.resume();
      req.on('end', () => res.end('ok'));
    });
    const gw = await gatewayTo(await listen(backend));
    // sent slowly in chunks, so most of the body is still to come when the 413 arrives
    const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = http.request(`${gw.url}/upload`, { method: 'POST', headers: { 'content-length': 40_000 } });
      req.on('error', reject);
      req.on('response', (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d) => {
          text += d;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      });
      let sent = 0;
      const tick = setInterval(() => {
        if (sent >= 40_000) {
          clearInterval(tick);
          req.end();
          return;
        }
        req.write(Buffer.alloc(4_000, 97));
        sent += 4_000;
      }, 20);
    });
    expect(answer.status).toBe(413);
    expect(answer.body).toContain('PAYLOAD_TOO_LARGE');
    expect((await call(`${gw.url}/other`)).text).toBe('ok');
  });

  it('a client that leaves mid-answer: the upstream request is cut, not left streaming', async () => {
    let upstreamClosed!: () => void;
    const closed = new Promise<void>((resolve) => {
      upstreamClosed = resolve;
    });
    const backend = http.createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('first chunk\n');
      const tick = setInterval(() => res.write('more\n'), 50);
      res.on('close', () => {
        clearInterval(tick);
        upstreamClosed();
      });
    });
    const gw = await gatewayTo(await listen(backend));
    await new Promise<void>((resolve, reject) => {
      const req = http.get(`${gw.url}/stream`, (res) => {
        res.once('data', () => {
          req.destroy();
          resolve();
        });
      });
      req.on('error', () => {});
      req.setTimeout(10_000, () => reject(new Error('no first chunk')));
    });
    await closed; // the backend sees its response closed (the test times out otherwise)
    expect(gw.gateway.inFlight).toBe(0);
  });

  it('a backend URL with a path and a query: requests go below that path, with its query', async () => {
    const seen: string[] = [];
    const backend = http.createServer((req, res) => {
      seen.push(`${req.url} host=${req.headers.host}`);
      res.end('ok');
    });
    const base = await listen(backend);
    const gw = await gatewayTo(`${base}/api/v1/?tenant=a`);
    await call(`${gw.url}/articles?page=2`);
    await call(`${gw.url}/`);
    const host = new URL(base).host;
    expect(seen).toEqual([`/api/v1/articles?tenant=a&page=2 host=${host}`, `/api/v1/?tenant=a host=${host}`]);
  });
});
