import fc from 'fast-check';

/**
 * Generated requests for the fuzz suite: what a client, a scanner or a broken proxy might send.
 * `HttpCase` is well-framed HTTP (sent with undici); `RawCase` is bytes on a socket, including
 * what no client library would produce.
 */
export interface HttpCase {
  kind: 'http';
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string | Buffer | undefined;
}

export interface RawCase {
  kind: 'raw';
  bytes: Buffer;
  /** The request line's method, when there is one (HEAD answers carry no body). */
  method: string;
}

export type FuzzCase = HttpCase | RawCase;

/** Known paths of each port: prefixes the generator mutates. */
export const PUBLIC_PATHS = [
  '/',
  '/articles',
  '/articles/hello-world',
  '/articles/alpha',
  '/subscribers',
  '/aggregate',
  '/auth/login',
  '/auth/refresh',
  '/me',
  '/webhooks/strapi',
  '/events',
  '/health',
  '/ready',
  '/metrics',
  '/docs',
  '/docs/static/index.css',
  '/openapi.json',
  '/admin/table',
];

export const ADMIN_PATHS = [
  '/healthz',
  '/readyz',
  '/metrics',
  '/admin/table',
  '/admin/reload',
  '/admin/backends',
  '/admin/stats',
  '/admin/audit',
  '/admin/routes/articles',
  '/admin/routes/subscribers/weights',
  '/admin/routes/subscribers/promote',
  '/admin/routes/subscribers/rollback',
  '/admin/routes/aggregate/shadow/pause',
  '/admin/routes/aggregate/shadow/resume',
  '/admin/routes/subscribers/override',
  '/admin/shadow/samples',
  '/admin/shadow/samples/x',
  '/admin/rollouts',
  '/admin/ui',
  '/ui',
  '/admin/ui/static/app.js',
  '/admin/ui/static/',
  '/admin/ui/cache',
];

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];
const ODD_METHODS = ['TRACE', 'PROPFIND', 'MKCOL', 'PURGE', 'M-SEARCH', 'SEARCH', 'FOO', 'get', 'Post'];

/** Segments that have broken routers, decoders and object lookups before. */
const NASTY_SEGMENTS = [
  '',
  '%zz',
  '%',
  '%0',
  '%00',
  '%C0%AF',
  '%E0%A4%A',
  '%ff%fe',
  '%2e%2e',
  '%2e%2e%2f',
  '..%2F..%2F',
  '%2F',
  '%5C',
  '..',
  '.',
  '__proto__',
  'constructor',
  'prototype',
  'hasOwnProperty',
  'toString',
  'valueOf',
  '%5F%5Fproto%5F%5F',
  'undefined',
  'null',
  'NaN',
  '-1',
  '1e309',
  '0x10',
  '%F0%9F%98%80',
  '%E2%80%AE',
  'index.html',
  'app.js',
];

const QUERY_PARTS = [
  'page=1',
  'page=-1',
  'page=0',
  'page=1e309',
  'page=abc',
  'page=%zz',
  'pageSize=100000',
  'pageSize=',
  'sort=title:asc',
  'sort=__proto__',
  'q=',
  'q=%00',
  'q=%zz',
  'author=x',
  '__proto__[polluted]=1',
  'constructor[prototype][polluted]=1',
  'a[]=1&a[]=2',
  'a[b][c][d][e][f]=1',
  'filters[$where]=1',
  'populate=*',
  'window=-5',
  'window=1e9',
  'limit=NaN',
  'route=__proto__',
  'x=%',
  '=',
  '&&&',
];

/** Printable, percent-encoded where needed: what undici accepts as a request target. */
const safeText = (max: number) =>
  fc.string({ maxLength: max }).map((s) => encodeURIComponent(s).replace(/%25/g, '%'));

export const pathArb = (prefixes: readonly string[]) =>
  fc
    .tuple(
      fc.constantFrom(...prefixes),
      fc.array(
        fc.oneof(
          { weight: 4, arbitrary: fc.constantFrom(...NASTY_SEGMENTS) },
          { weight: 2, arbitrary: safeText(20) },
          { weight: 1, arbitrary: fc.integer({ min: 1, max: 12_000 }).map((n) => 'a'.repeat(n)) },
        ),
        { maxLength: 4 },
      ),
      fc.option(
        fc.oneof(
          fc.array(fc.constantFrom(...QUERY_PARTS), { minLength: 1, maxLength: 4 }).map((q) => q.join('&')),
          safeText(60),
        ),
        { nil: undefined },
      ),
      fc.boolean(),
    )
    .map(([prefix, segments, query, slashes]) => {
      let path = prefix + segments.map((s) => `/${s}`).join('');
      if (slashes) path = path.replace(/^\//, '//');
      return query === undefined ? path : `${path}?${query}`;
    });

const headerValue = fc.oneof(
  safeText(40).map((s) => decodeURIComponentSafe(s)),
  fc.constantFrom('', ' ', 'null', '0', '-1', 'x'.repeat(2000), '\t', 'true'),
);

function decodeURIComponentSafe(s: string): string {
  try {
    // keep only characters undici allows in a header value
    return decodeURIComponent(s).replace(/[^\t\x20-\x7e\x80-\xff]/g, '');
  } catch {
    return s;
  }
}

const fakeJwt = fc
  .tuple(fc.json(), fc.json())
  .map(
    ([h, p]) =>
      `${Buffer.from(h).toString('base64url')}.${Buffer.from(p).toString('base64url')}.${Buffer.from('sig').toString('base64url')}`,
  );

export const headersArb = (token: string | undefined) =>
  fc
    .record(
      {
        'content-type': fc.constantFrom(
          'application/json',
          'application/json; charset=utf-8',
          'application/json; charset=utf-16',
          'text/plain',
          'application/x-www-form-urlencoded',
          'multipart/form-data; boundary=x',
          'application/octet-stream',
          'application/json;;;',
          '*/*',
          '',
        ),
        authorization: fc.oneof(
          token ? fc.constant(`Bearer ${token}`) : fc.constant('Bearer nope'),
          fakeJwt.map((t) => `Bearer ${t}`),
          headerValue.map((v) => `Bearer ${v}`),
          headerValue,
          fc.constant('Basic YWRtaW46YWRtaW4='),
        ),
        cookie: fc.oneof(headerValue, fc.constant('pilot_uid=__proto__; pilot_uid=x; =; a')),
        accept: fc.constantFrom('*/*', 'application/json', 'text/event-stream', 'text/html', ''),
        'x-request-id': fc.oneof(headerValue, fc.constant('a'.repeat(200))),
        'x-user-id': headerValue,
        'x-forwarded-for': fc.oneof(headerValue, fc.constant('1.1.1.1, 2.2.2.2, ::1')),
        'x-forwarded-host': headerValue,
        'x-webhook-secret': fc.oneof(headerValue, fc.constant('fuzz-webhook-secret-0123456789')),
        'x-webhook-signature': headerValue,
        'x-webhook-timestamp': fc.oneof(headerValue, fc.constant(String(Math.floor(Date.now() / 1000)))),
        'x-pilot-shadow': fc.constantFrom('1', '0', 'true'),
        'x-admin-user': headerValue,
        'content-encoding': fc.constantFrom('gzip', 'br', 'deflate', 'identity', 'x-unknown'),
        'last-event-id': headerValue,
        'if-none-match': headerValue,
        range: fc.constantFrom('bytes=0-0', 'bytes=-1', 'bytes=9999999999-', 'lines=1'),
        origin: headerValue,
      },
      { requiredKeys: [] },
    )
    .map(
      (h) =>
        Object.fromEntries(Object.entries(h).filter(([, v]) => v !== undefined)) as Record<string, string>,
    );

/** Shapes the apps and the admin API expect, filled with nonsense, and nonsense of every shape. */
const bodyArb = fc.oneof(
  { weight: 3, arbitrary: fc.constant(undefined) },
  { weight: 3, arbitrary: fc.json({ maxDepth: 4 }) },
  {
    weight: 3,
    arbitrary: fc
      .record(
        {
          email: fc.oneof(fc.emailAddress(), fc.string(), fc.integer()),
          name: fc.oneof(fc.string(), fc.constant(null)),
          username: fc.oneof(fc.constant('demo'), fc.string()),
          password: fc.oneof(fc.constant('demo-password'), fc.string()),
          refreshToken: fc.string(),
          event: fc.constantFrom('entry.update', 'entry.delete', 'entry.publish', '__proto__'),
          model: fc.constantFrom('article', 'subscriber', '__proto__', ''),
          entry: fc.jsonValue(),
          weights: fc.dictionary(
            fc.constantFrom('legacy', 'modern', '__proto__', 'x'),
            fc.integer({ min: -10, max: 110 }),
          ),
          backend: fc.constantFrom('legacy', 'modern', '__proto__'),
        },
        { requiredKeys: [] },
      )
      .map((o) => JSON.stringify(o)),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      '{"__proto__":{"admin":true},"constructor":{"prototype":{"polluted":1}}}',
      '{"weights":{"__proto__":100}}',
      '{"email":"a@b.c","__proto__":{"email":"x"}}',
    ),
  },
  { weight: 1, arbitrary: fc.string({ maxLength: 300 }) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)) },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom(16 * 1024 + 1, 64 * 1024 + 1, 300 * 1024, 1024 * 1024 + 1)
      .map((n) => `{"pad":"${'x'.repeat(n)}"}`),
  },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 20_000 }).map((n) => '['.repeat(n) + ']'.repeat(n)) },
);

export const httpCaseArb = (prefixes: readonly string[], token?: string): fc.Arbitrary<HttpCase> =>
  fc
    .record({
      method: fc.oneof(
        { weight: 6, arbitrary: fc.constantFrom(...METHODS) },
        { weight: 1, arbitrary: fc.constantFrom(...ODD_METHODS) },
      ),
      path: pathArb(prefixes),
      headers: headersArb(token),
      body: bodyArb,
    })
    .map((c) => {
      // undici sends no body with GET/HEAD; keep what would be sent
      const body = c.method === 'GET' || c.method === 'HEAD' ? undefined : c.body;
      return { kind: 'http', ...c, body } as HttpCase;
    });

/** Request lines and header blocks no client library sends. */
export const rawCaseArb = (prefixes: readonly string[]): fc.Arbitrary<RawCase> => {
  const method = fc.oneof(
    fc.constantFrom(...METHODS, ...ODD_METHODS, 'CONNECT', '', 'G\u0000ET', 'GET GET', '\u00ff'),
    fc.string({ maxLength: 10 }),
  );
  const target = fc.oneof(
    pathArb(prefixes),
    fc.constantFrom(
      '*',
      'http://evil.test/',
      '//evil.test/x',
      'evil.test:443',
      '/\u0000',
      '/a b',
      '/\u00e9',
      '',
    ),
    fc.string({ unit: 'binary', maxLength: 30 }),
  );
  const version = fc.constantFrom(
    'HTTP/1.1',
    'HTTP/1.0',
    'HTTP/0.9',
    'HTTP/2.0',
    'HTTP/1.1 ',
    'HTTP/1',
    'http/1.1',
    '',
  );
  const line = fc.oneof(
    fc.constantFrom(
      'Host: x',
      'Host: x',
      'Host:',
      'Host: a\r\nHost: b',
      'Content-Length: 5',
      'Content-Length: -1',
      'Content-Length: 99999999999999999999',
      'Content-Length: 3\r\nContent-Length: 4',
      'Content-Length: 0x10',
      'Transfer-Encoding: chunked',
      'Transfer-Encoding: chunked, identity',
      'Transfer-Encoding: gzip',
      'Transfer-Encoding : chunked',
      'Expect: 100-continue',
      'Expect: bogus',
      'Connection: upgrade\r\nUpgrade: websocket',
      'Connection: close',
      'Connection: keep-alive, x-remove-me',
      ' folded: continuation',
      'X-Bad\u0000: nul',
      'X-Bad: nul\u0000',
      'NoColonHere',
      `X-Big: ${'b'.repeat(20_000)}`,
    ),
    fc
      .tuple(fc.string({ maxLength: 12 }), fc.string({ unit: 'binary', maxLength: 30 }))
      .map(([k, v]) => `${k}: ${v}`),
  );
  const body = fc.oneof(
    fc.constant(''),
    fc.constantFrom('0\r\n\r\n', '5\r\nhello\r\n0\r\n\r\n', 'zz\r\n', '5\r\nhi\r\n', 'ffffffffffffffff\r\nx'),
    fc.string({ unit: 'binary', maxLength: 200 }),
  );
  const structured = fc
    .tuple(
      method,
      target,
      version,
      fc.array(line, { maxLength: 6 }),
      body,
      fc.constantFrom('\r\n', '\n', '\r'),
    )
    .map(([m, t, v, lines, b, eol]) => ({
      method: m,
      bytes: Buffer.from(
        `${m} ${t} ${v}${eol}${lines.join(eol)}${lines.length ? eol : ''}${eol}${b}`,
        'latin1',
      ),
    }));
  return fc
    .oneof(
      { weight: 5, arbitrary: structured },
      {
        weight: 1,
        arbitrary: fc.uint8Array({ maxLength: 400 }).map((a) => ({ method: '', bytes: Buffer.from(a) })),
      },
      {
        weight: 1,
        // a valid request and then garbage on the same connection
        arbitrary: fc
          .tuple(fc.constantFrom(...prefixes), fc.uint8Array({ maxLength: 100 }))
          .map(([p, a]) => ({
            method: 'GET',
            bytes: Buffer.concat([Buffer.from(`GET ${p} HTTP/1.1\r\nHost: x\r\n\r\n`), Buffer.from(a)]),
          })),
      },
    )
    .map((c) => ({ kind: 'raw', ...c }) as RawCase);
};

export const caseArb = (prefixes: readonly string[], token?: string): fc.Arbitrary<FuzzCase> =>
  fc.oneof(
    { weight: 4, arbitrary: httpCaseArb(prefixes, token) },
    { weight: 1, arbitrary: rawCaseArb(prefixes) },
  );
