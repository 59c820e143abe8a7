import type { AddressInfo } from 'node:net';
import { ErrorEnvelope, HEADERS, LIMITS } from '@pilot/contracts';
import { type RawResponse, rawConnection, rawExchange } from '@pilot/test-kit';
import { afterEach, describe, expect, it } from 'vitest';
import { createHttpServer, type HttpServerOptions } from '../src/http-server.ts';

/**
 * createHttpServer on its own, around a tiny handler: what Node would answer with a bare status
 * line is answered in the envelope; a request refused before its body is read keeps a usable
 * connection, within bounds.
 */
const servers: Array<{ close(): void; closeAllConnections(): void }> = [];
afterEach(() => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    server.close();
  }
});

/** GET /ok → 200; POST /refuse → 401 without reading the body; POST /read → reads it, 200. */
async function start(options: HttpServerOptions = {}): Promise<string> {
  const server = createHttpServer((req, res) => {
    const answer = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': HEADERS.contentType });
      res.end(JSON.stringify(body));
    };
    if (req.url === '/refuse')
      return answer(401, { error: { status: 401, code: 'UNAUTHORIZED', message: 'no' } });
    if (req.url === '/read') {
      let size = 0;
      req.on('data', (chunk: Buffer) => {
        size += chunk.length;
      });
      req.on('end', () => answer(200, { size }));
      return;
    }
    answer(200, { ok: true });
  }, options);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function expectEnvelope(response: RawResponse | undefined, status: number, code: string) {
  expect(response?.status).toBe(status);
  expect(response?.headers['content-type']).toBe(HEADERS.contentType);
  expect(response?.headers['cache-control']).toBe('no-store');
  const envelope = ErrorEnvelope.parse(JSON.parse(response?.text ?? ''));
  expect(envelope.error).toMatchObject({ status, code });
}

describe('createHttpServer', () => {
  it('answers a request that never completes in time with 408 in the envelope and closes', async () => {
    const url = await start({ requestTimeoutMs: 300, headersTimeoutMs: 300, timeoutCheckIntervalMs: 50 });
    const connection = await rawConnection(url);
    await connection.send('GET /ok HTTP/1.1\r\nHost: x\r\nX-Slow: ');
    const answer = await connection.next({ timeoutMs: 5_000 });
    expectEnvelope(answer, 408, 'REQUEST_TIMEOUT');
    expect(answer.headers.connection).toBe('close');
    expect(await connection.closed).toBe('end');
  });

  it('reports each refusal to the logger and to observe()', async () => {
    const lines: unknown[] = [];
    const seen: Array<[string, number]> = [];
    const logger = {
      info: (fields: unknown) => lines.push(fields),
    } as unknown as HttpServerOptions['logger'];
    const url = await start({ logger, observe: (method, status) => seen.push([method, status]) });
    await rawExchange(url, 'CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n');
    await rawExchange(url, 'BROKEN\r\n\r\n');
    expect(seen).toEqual([
      ['CONNECT', 405],
      ['UNKNOWN', 400],
    ]);
    expect(lines).toEqual([
      expect.objectContaining({ method: 'CONNECT', status: 405, code: 'METHOD_NOT_ALLOWED' }),
      expect.objectContaining({ status: 400, code: 'BAD_REQUEST', parserError: 'HPE_INVALID_METHOD' }),
    ]);
  });

  it('keeps the connection of a request refused before its body was read: the body is drained', async () => {
    const url = await start();
    const body = Buffer.alloc(1_000_000, 'a');
    const connection = await rawConnection(url);
    for (let i = 0; i < 3; i += 1) {
      await connection.send(`POST /refuse HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\n\r\n`);
      await connection.send(body);
      expect((await connection.next()).status).toBe(401);
    }
    await connection.send('GET /ok HTTP/1.1\r\nHost: x\r\n\r\n');
    expect((await connection.next()).status).toBe(200);
    expect(connection.isClosed).toBe(false);
    connection.destroy();
  });

  it('answers a body declared larger than the drain limit with Connection: close', async () => {
    const url = await start();
    const connection = await rawConnection(url);
    await connection.send(
      `POST /refuse HTTP/1.1\r\nHost: x\r\nContent-Length: ${LIMITS.maxDrainBytes + 1}\r\n\r\n`,
    );
    const answer = await connection.next();
    expect(answer.status).toBe(401);
    expect(answer.headers.connection).toBe('close');
    await connection.closed;
  });

  it('closes a refused connection whose chunked body keeps coming past the drain limit, after the answer', async () => {
    const url = await start();
    const connection = await rawConnection(url);
    await connection.send('POST /refuse HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n');
    const answer = await connection.next();
    expect(answer.status).toBe(401);
    const chunk = Buffer.concat([Buffer.from('10000\r\n'), Buffer.alloc(0x10000, 'a'), Buffer.from('\r\n')]);
    // without the bound the server would drain forever; socket buffers on both sides hold a few
    // MiB, so the client has written somewhat more than the limit when it sees the close
    const bound = LIMITS.maxDrainBytes * 8;
    let sent = 0;
    while (!connection.isClosed && sent < bound) {
      await connection.send(chunk);
      await new Promise((resolve) => setImmediate(resolve));
      sent += 0x10000;
    }
    expect(connection.isClosed, `still open after ${sent} bytes`).toBe(true);
    expect(sent).toBeGreaterThan(LIMITS.maxDrainBytes);
  });

  it('lets Expect: 100-continue through for a body a route may take, and refuses a larger one before it is sent', async () => {
    const url = await start();
    const small = await rawConnection(url);
    await small.send('POST /read HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n');
    expect((await small.next()).status).toBe(100);
    await small.send('hello');
    expect(JSON.parse((await small.next()).text)).toEqual({ size: 5 });
    small.destroy();

    const large = LIMITS.webhookBodyLimitBytes + 1;
    const { responses, closed } = await rawExchange(
      url,
      `POST /read HTTP/1.1\r\nHost: x\r\nContent-Length: ${large}\r\nExpect: 100-continue\r\n\r\n`,
    );
    expect(responses).toHaveLength(1);
    expectEnvelope(responses[0], 413, 'PAYLOAD_TOO_LARGE');
    expect(closed).toBe('end');
  });
});
