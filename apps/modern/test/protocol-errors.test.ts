/**
 * What a client can throw at either app below the level of routes, over raw sockets: broken
 * HTTP, headers too large, CONNECT, odd Expect headers, bodies too large or refused before they
 * are read. Both apps (legacy and modern, real sockets) must answer each in the one error
 * envelope, the same way, and keep or close the connection as stated; plus a bounded
 * property-based run of generated requests that must always get a valid answer or a closed
 * connection, never a 500, a hang or a dead process.
 */
import { createMemoryContent } from '@pilot/content';
import { ErrorEnvelope, HEADERS, LIMITS } from '@pilot/contracts';
import { createApp as createLegacyApp, listen as listenLegacy } from '@pilot/legacy';
import { type RawResponse, rawConnection, rawExchange } from '@pilot/test-kit';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp as createModernApp } from '../src/index.ts';
import { testDeps, WEBHOOK_SECRET } from './helpers.ts';

type Side = 'legacy' | 'modern';
const SIDES: Side[] = ['legacy', 'modern'];
const urls = {} as Record<Side, string>;
const closers: Array<() => Promise<unknown>> = [];

beforeAll(async () => {
  const legacyDeps = testDeps({ content: createMemoryContent() });
  const legacy = await listenLegacy(createLegacyApp(legacyDeps), { host: '127.0.0.1', port: 0 });
  const modern = createModernApp(testDeps({ content: createMemoryContent() }));
  urls.legacy = legacy.url;
  urls.modern = await modern.listen({ host: '127.0.0.1', port: 0 });
  closers.push(
    () => legacy.close(1_000),
    () => modern.close(),
  );
});

afterAll(async () => {
  await Promise.all(closers.map((close) => close()));
});

function expectEnvelope(response: RawResponse | undefined, status: number, code?: string) {
  expect(response?.status, response?.text).toBe(status);
  expect(response?.headers['content-type']).toBe(HEADERS.contentType);
  expect(response?.headers['cache-control']).toBe(HEADERS.privateCacheControl);
  const envelope = ErrorEnvelope.parse(JSON.parse(response?.text ?? ''));
  expect(envelope.error.status).toBe(status);
  if (code) expect(envelope.error.code).toBe(code);
  return envelope;
}

const big = (size: number) => Buffer.alloc(size, 'a');
const post = (path: string, headers: string, body: Buffer | string = '') =>
  Buffer.concat([Buffer.from(`POST ${path} HTTP/1.1\r\nHost: x\r\n${headers}\r\n`), Buffer.from(body)]);

/** Refused by the HTTP server itself: one envelope answer, then the connection is closed. */
const REFUSED: Array<{ name: string; bytes: string | Buffer; status: number; code: string }> = [
  {
    name: 'Content-Length that is not a number',
    bytes: post('/subscribers', 'Content-Type: application/json\r\nContent-Length: abc\r\n', '{}'),
    status: 400,
    code: 'BAD_REQUEST',
  },
  {
    name: 'Content-Length and Transfer-Encoding together (smuggling)',
    bytes: post(
      '/subscribers',
      'Content-Type: application/json\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n',
      '2\r\n{}\r\n0\r\n\r\n',
    ),
    status: 400,
    code: 'BAD_REQUEST',
  },
  {
    name: 'a malformed chunk size',
    bytes: post(
      '/subscribers',
      'Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n',
      'zz\r\n{}\r\n0\r\n\r\n',
    ),
    status: 400,
    code: 'BAD_REQUEST',
  },
  { name: 'a garbage request line', bytes: 'GARBAGE\r\n\r\n', status: 400, code: 'BAD_REQUEST' },
  {
    name: 'a space in a header name',
    bytes: 'GET /health HTTP/1.1\r\nHost: x\r\nBad Header: y\r\n\r\n',
    status: 400,
    code: 'BAD_REQUEST',
  },
  {
    name: 'a bare LF inside a header value',
    bytes: 'GET /health HTTP/1.1\r\nHost: x\r\nX-A: a\nb\r\n\r\n',
    status: 400,
    code: 'BAD_REQUEST',
  },
  {
    name: 'headers over LIMITS.maxHeaderBytes',
    bytes: `GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(LIMITS.maxHeaderBytes + 1)}\r\n\r\n`,
    status: 431,
    code: 'HEADERS_TOO_LARGE',
  },
  {
    name: 'CONNECT (not a proxy)',
    bytes: 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n',
    status: 405,
    code: 'METHOD_NOT_ALLOWED',
  },
  {
    name: 'an Expect other than 100-continue',
    bytes: post('/subscribers', 'Content-Type: application/json\r\nContent-Length: 2\r\nExpect: bogus\r\n'),
    status: 417,
    code: 'EXPECTATION_FAILED',
  },
  {
    name: 'Expect: 100-continue for a body larger than any route takes',
    bytes: post(
      '/subscribers',
      `Content-Type: application/json\r\nContent-Length: ${LIMITS.webhookBodyLimitBytes + 1}\r\nExpect: 100-continue\r\n`,
    ),
    status: 413,
    code: 'PAYLOAD_TOO_LARGE',
  },
  { name: 'HTTP/1.1 without Host', bytes: 'GET /health HTTP/1.1\r\n\r\n', status: 400, code: 'BAD_REQUEST' },
];

describe('errors the HTTP server answers itself: the envelope in both apps, then a closed connection', () => {
  it.each(REFUSED)('$name → $status $code', async (c) => {
    const answers = {} as Record<Side, RawResponse>;
    for (const side of SIDES) {
      const { responses, closed } = await rawExchange(urls[side], c.bytes);
      expect(responses, side).toHaveLength(1);
      expectEnvelope(responses[0], c.status, c.code);
      expect(responses[0]?.headers.connection, side).toBe('close');
      expect(closed, side).toBe('end');
      answers[side] = responses[0] as RawResponse;
    }
    expect(answers.modern.text).toBe(answers.legacy.text);
    expect(answers.modern.headers.allow).toBe(answers.legacy.headers.allow);
  });

  it('CONNECT lists the methods in Allow', async () => {
    const { responses } = await rawExchange(
      urls.modern,
      REFUSED.find((c) => c.code === 'METHOD_NOT_ALLOWED')!.bytes,
    );
    expect(responses[0]?.headers.allow).toBe('GET, HEAD, POST');
  });
});

describe('a request refused before its body was read keeps a usable connection', () => {
  it('1 MB to POST /subscribers, five times on one connection: 413 each time, then the next request is answered', async () => {
    for (const side of SIDES) {
      const connection = await rawConnection(urls[side]);
      for (let i = 0; i < 5; i += 1) {
        await connection.send(
          post(
            '/subscribers',
            'Content-Type: application/json\r\nContent-Length: 1000000\r\n',
            big(1_000_000),
          ),
        );
        expectEnvelope(await connection.next(), 413, 'PAYLOAD_TOO_LARGE');
      }
      await connection.send('GET /health HTTP/1.1\r\nHost: x\r\n\r\n');
      expect((await connection.next()).status, side).toBe(200);
      expect(connection.isClosed, side).toBe(false);
      connection.destroy();
    }
  });

  it('a chunked body past the limit (no Content-Length): 413 in both, connection kept', async () => {
    const chunk = Buffer.concat([Buffer.from('10000\r\n'), big(0x10000), Buffer.from('\r\n')]);
    for (const side of SIDES) {
      const connection = await rawConnection(urls[side]);
      await connection.send(
        post('/subscribers', 'Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n'),
      );
      for (let i = 0; i < 16; i += 1) await connection.send(chunk);
      await connection.send('0\r\n\r\n');
      expectEnvelope(await connection.next(), 413, 'PAYLOAD_TOO_LARGE');
      await connection.send('GET /health HTTP/1.1\r\nHost: x\r\n\r\n');
      expect((await connection.next()).status, side).toBe(200);
      connection.destroy();
    }
  });

  it('~1 MB POST /webhooks/strapi without a secret: modern answers 401 (before reading the body), five in a row, no reset', async () => {
    const connection = await rawConnection(urls.modern);
    for (let i = 0; i < 5; i += 1) {
      await connection.send(
        post(
          '/webhooks/strapi',
          'Content-Type: application/json\r\nContent-Length: 1048576\r\n',
          big(1_048_576),
        ),
      );
      expectEnvelope(await connection.next(), 401, 'UNAUTHORIZED');
    }
    await connection.send('GET /health HTTP/1.1\r\nHost: x\r\n\r\n');
    expect((await connection.next()).status).toBe(200);
    expect(connection.isClosed).toBe(false);
    connection.destroy();
  });

  it('the same body WITH the secret is too large for the webhook: 413 in the envelope, connection kept', async () => {
    const connection = await rawConnection(urls.modern);
    await connection.send(
      post(
        '/webhooks/strapi',
        `Content-Type: application/json\r\n${HEADERS.webhookSecret}: ${WEBHOOK_SECRET}\r\nContent-Length: 1048576\r\n`,
        big(1_048_576),
      ),
    );
    expectEnvelope(await connection.next(), 413, 'PAYLOAD_TOO_LARGE');
    await connection.send('GET /health HTTP/1.1\r\nHost: x\r\n\r\n');
    expect((await connection.next()).status).toBe(200);
    connection.destroy();
  });

  it('a wrong content type with a large body: 415 in both, connection kept', async () => {
    for (const side of SIDES) {
      const connection = await rawConnection(urls[side]);
      await connection.send(
        post('/auth/login', 'Content-Type: text/plain\r\nContent-Length: 200000\r\n', big(200_000)),
      );
      expectEnvelope(await connection.next(), 415, 'UNSUPPORTED_MEDIA_TYPE');
      await connection.send('GET /health HTTP/1.1\r\nHost: x\r\n\r\n');
      expect((await connection.next()).status, side).toBe(200);
      connection.destroy();
    }
  });

  it('a body declared larger than LIMITS.maxDrainBytes: the refusal says Connection: close', async () => {
    for (const side of SIDES) {
      const connection = await rawConnection(urls[side]);
      await connection.send(
        post(
          '/subscribers',
          `Content-Type: application/json\r\nContent-Length: ${LIMITS.maxDrainBytes + 1}\r\n`,
        ),
      );
      const answer = await connection.next();
      expectEnvelope(answer, 413, 'PAYLOAD_TOO_LARGE');
      expect(answer.headers.connection, side).toBe('close');
      await connection.closed;
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Generated requests

const token = fc.stringMatching(/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,12}$/);
const method = fc.oneof(
  fc.constantFrom('GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'TRACE', 'CONNECT', 'get'),
  token,
);
const path = fc.oneof(
  fc.constantFrom(
    '/articles',
    '/articles?pageSize=0x2',
    '/articles?page=1&page=2',
    '/articles/%E0%A4%A',
    '/articles/..%2f..%2fetc',
    '/subscribers',
    '/auth/login',
    '/auth/refresh',
    '/me',
    '/webhooks/strapi',
    '/health',
    '/metrics',
    '//x',
    '*',
    'http://evil.example/articles',
  ),
  fc.string({ maxLength: 40 }).map((s) => `/${encodeURI(s)}`),
  fc.string({ unit: 'binary', maxLength: 20 }).map((s) => `/${s}`),
);
const headerLine = fc.oneof(
  fc.tuple(token, fc.string({ maxLength: 30 })).map(([name, value]) => `${name}: ${value}`),
  fc.constantFrom(
    'Content-Type: application/json',
    'Content-Type: text/plain',
    'Content-Encoding: gzip',
    'Transfer-Encoding: chunked',
    'Content-Length: 5',
    'Content-Length: -1',
    'Expect: 100-continue',
    'Expect: nope',
    'Connection: close',
    'Authorization: Bearer x',
    `${HEADERS.webhookSecret}: wrong`,
    'X-Request-Id: fuzz',
  ),
  fc.string({ unit: 'binary', maxLength: 30 }),
);
const body = fc.oneof(
  fc.constant(''),
  fc.json().map((j) => j.slice(0, 2_000)),
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc.uint8Array({ maxLength: 200 }).map((a) => Buffer.from(a).toString('latin1')),
);
const request = fc
  .record({
    method,
    path,
    version: fc.constantFrom('HTTP/1.1', 'HTTP/1.0', 'HTTP/2.0', 'HTTP/1.1 ', ''),
    host: fc.boolean(),
    headers: fc.array(headerLine, { maxLength: 6 }),
    body,
    length: fc.constantFrom('exact', 'none', 'short', 'long'),
  })
  .map((r) => {
    const bytes = Buffer.from(r.body, 'latin1');
    const lines = [`${r.method} ${r.path} ${r.version}`.trimEnd()];
    if (r.host) lines.push('Host: fuzz');
    lines.push(...r.headers);
    const declared = {
      exact: bytes.length,
      none: undefined,
      short: Math.max(0, bytes.length - 1),
      long: bytes.length + 3,
    }[r.length];
    if (declared !== undefined) lines.push(`Content-Length: ${declared}`);
    return {
      raw: Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'), bytes]),
      head: r.method === 'HEAD',
    };
  });

describe('generated requests (fast-check, bounded)', () => {
  it('every answer is valid HTTP, every 4xx/5xx is the envelope, never a 500 or a hang, both apps live on', {
    timeout: 120_000,
  }, async () => {
    const runs = {} as Record<Side, number>;
    for (const side of SIDES) {
      let tried = 0;
      await fc.assert(
        fc.asyncProperty(request, async ({ raw, head }) => {
          tried += 1;
          // no answer at all is allowed (a request cut short), a hang is not: the deadline
          const { responses, closed } = await rawExchange(urls[side], raw, { head, timeoutMs: 4_000 });
          expect(closed, 'the server ended the connection after the client did').not.toBe('open');
          for (const response of responses) {
            if (response.status < 400 || head) continue;
            const envelope = expectEnvelope(response, response.status);
            expect(envelope.error.code).not.toBe('INTERNAL');
          }
        }),
        { numRuns: 150, interruptAfterTimeLimit: 50_000 },
      );
      runs[side] = tried;
      const health = await rawExchange(urls[side], 'GET /health HTTP/1.1\r\nHost: x\r\n\r\n');
      expect(health.responses[0]?.status, `${side} still answers`).toBe(200);
    }
    expect(runs.legacy + runs.modern).toBeGreaterThanOrEqual(100);
  });
});
