import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Outlier } from '../src/pipeline/outlier.ts';
import { RouteBreaker } from '../src/pipeline/route-breaker.ts';
import { bucketOf, jwtSubject } from '../src/pipeline/choose.ts';
import { diffResponses } from '../src/shadow/diff.ts';
import { normalizeTarget } from '../src/pipeline/normalize.ts';
import { prepareUpstreamHeaders } from '../src/pipeline/headers.ts';
import { compileIgnore } from '../src/control/compile.ts';
import { MAX_WINDOW_S, WindowStats, windowSeconds } from '../src/stats.ts';

describe('path normalisation', () => {
  const ok: Array<[string, string]> = [
    ['/articles', '/articles'],
    ['/articles/..%2Fadmin', '/admin'],
    ['/articles/%2e%2e/admin', '/admin'],
    ['/articles%2F..%2F..%2Fadmin', '/admin'],
    ['//articles//one', '/articles/one'],
    ['/a/./b/../c?x=1', '/a/c'],
    ['/../../etc/passwd', '/etc/passwd'],
    ['/%61rticles', '/articles'],
    ['/a%252Fb', '/a%252Fb'],
    ['/a%3bb', '/a%3Bb'],
  ];
  it.each(ok)('%s → %s', (input, path) => {
    const n = normalizeTarget(input);
    expect(n.ok && n.path).toBe(path);
  });
  it.each([
    'http://evil.example/articles',
    '*',
    '/a\\..\\admin',
    '/a%5c..%5cadmin',
    '/a%00b',
    '/a%zz',
    '/a b',
  ])('refuses %s', (input) => {
    expect(normalizeTarget(input).ok).toBe(false);
  });
  it('matches case-insensitively but forwards the case', () => {
    const n = normalizeTarget('/Articles/My-Slug');
    expect(n).toMatchObject({ ok: true, path: '/Articles/My-Slug', lower: '/articles/my-slug' });
  });
});

describe('sticky keys', () => {
  it('decodes the JWT subject without verifying', () => {
    const token = `${Buffer.from('{}').toString('base64url')}.${Buffer.from('{"sub":"u-1"}').toString('base64url')}.x`;
    expect(jwtSubject(`Bearer ${token}`)).toBe('u-1');
    expect(jwtSubject('Bearer not-a-jwt')).toBeUndefined();
    expect(jwtSubject('Basic abc')).toBeUndefined();
  });
  it('spreads keys evenly over the buckets', () => {
    let low = 0;
    for (let i = 0; i < 10_000; i++) if (bucketOf(`user-${i}`) < 1000) low++;
    expect(low).toBeGreaterThan(700);
    expect(low).toBeLessThan(1300);
  });
});

describe('diff', () => {
  const res = (body: unknown, status = 200, type = 'application/json') => ({
    status,
    headers: { 'content-type': type },
    body: Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)),
    truncated: false,
  });
  const opts = {
    compareHeaders: ['content-type'],
    ignore: ['meta.generatedAt', 'data.*.updatedAt', '**.requestId'].map(compileIgnore),
  };

  it('ignores configured paths, reports the rest', () => {
    const a = res({ data: [{ id: 1, updatedAt: 'x', requestId: 'a' }], meta: { generatedAt: 1, total: 1 } });
    const b = res({ data: [{ id: 1, updatedAt: 'y', requestId: 'b' }], meta: { generatedAt: 2, total: 2 } });
    expect(diffResponses(a, b, opts)).toEqual([{ path: 'meta.total', primary: 1, shadow: 2 }]);
  });
  it('reports status, headers, missing keys and array length', () => {
    const d = diffResponses(res({ a: [1, 2], b: 1 }), res({ a: [1], c: 1 }, 404, 'text/json'), opts);
    expect(d.map((x) => x.path)).toEqual(['$status', '$headers.content-type', 'a.1', 'b', 'c']);
  });
  it('compares non-JSON bodies byte-wise', () => {
    expect(diffResponses(res('hello', 200, 'text/plain'), res('hello', 200, 'text/plain'), opts)).toEqual([]);
    expect(diffResponses(res('hello', 200, 'text/plain'), res('bye', 200, 'text/plain'), opts)[0]!.path).toBe(
      '$body',
    );
  });
});

describe('route breaker', () => {
  const cfg = {
    consecutive5xx: 3,
    errorRatePercent: 50,
    minRequests: 10,
    windowMs: 10_000,
    openMs: 1000,
    halfOpenPercent: 25,
    halfOpenSuccesses: 2,
  };
  it('opens on consecutive failures; half-open lets a share through (not one probe); closes on successes', () => {
    const b = new RouteBreaker(cfg);
    const t = 1_000_000;
    b.record(false, t);
    b.record(false, t);
    expect(b.state).toBe('closed');
    b.record(false, t);
    expect(b.state).toBe('open');
    expect(b.allow(t + 10)).toBe(false);
    const admitted = Array.from({ length: 100 }, (_, i) => b.allow(t + 1000 + i)).filter(Boolean).length;
    expect(b.state).toBe('half-open');
    expect(admitted).toBe(25);
    b.record(true, t + 1200);
    expect(b.state).toBe('half-open');
    b.record(true, t + 1201);
    expect(b.state).toBe('closed');
  });
  it('opens on the error rate over the window; a half-open failure opens it again', () => {
    const b = new RouteBreaker(cfg);
    const t = 2_000_000;
    for (let i = 0; i < 10; i++) b.record(i % 2 === 0, t);
    expect(b.state).toBe('open');
    expect(b.allow(t + 1000)).toBe(true);
    b.record(false, t + 1001);
    expect(b.state).toBe('open');
    expect(b.opens).toBe(2);
  });
});

describe('backend outlier state', () => {
  const cfg = {
    consecutiveGatewayFailures: 3,
    stallMs: 1000,
    ejectionMs: 1000,
    maxEjectionMs: 4000,
    halfOpenPercent: 50,
    halfOpenSuccesses: 2,
  };
  it('ejects on consecutive gateway failures, backs off, recovers through half-open', () => {
    const changes: string[] = [];
    const o = new Outlier(cfg, (status, reason) => changes.push(`${status}:${reason}`));
    const t = 5_000_000;
    o.gatewayFailure(t);
    o.gatewayFailure(t);
    o.success(); // an answer in between resets the count
    o.gatewayFailure(t);
    o.gatewayFailure(t);
    expect(o.status).toBe('up');
    o.gatewayFailure(t);
    expect(o.status).toBe('down');
    expect(o.admit(t + 999)).toBe(false);
    expect(o.admit(t + 1000)).toBe(true);
    expect(o.status).toBe('recovering');
    expect(o.admit(t + 1001)).toBe(false);
    expect(o.admit(t + 1002)).toBe(true);
    o.gatewayFailure(t + 1003); // one failure while recovering: out again, for twice as long
    expect(o.status).toBe('down');
    expect(o.admit(t + 1003 + 1999)).toBe(false);
    expect(o.admit(t + 1003 + 2000)).toBe(true);
    o.success();
    o.success();
    expect(o.status).toBe('up');
    expect(changes).toEqual([
      'down:gateway-failures',
      'recovering:gateway-failures',
      'down:gateway-failures',
      'recovering:gateway-failures',
      'up:null',
    ]);
  });
  it('health and the breaker are one state: a failing check ejects, a passing one starts recovery', () => {
    const o = new Outlier(cfg, () => {});
    const t = 6_000_000;
    o.health(false, t);
    expect(o.status).toBe('down');
    expect(o.admit(t + 60_000)).toBe(false); // no amount of time helps while the check fails
    o.health(true, t + 60_001);
    expect(o.status).toBe('recovering');
    o.healthPass();
    o.healthPass();
    expect(o.status).toBe('up');
    // a passive ejection does not end while the health check fails
    o.stalled(t + 70_000);
    o.health(false, t + 70_100);
    expect(o.admit(t + 90_000)).toBe(false);
    o.health(true, t + 90_001);
    expect(o.status).toBe('recovering');
  });
});

describe('upstream headers', () => {
  const req = (headers: Record<string, string>) =>
    ({
      headers: { ...headers },
      socket: { remoteAddress: '10.1.2.3' },
    }) as unknown as import('node:http').IncomingMessage;

  it('appends to X-Forwarded-For behind a trusted proxy, keeps its proto and host', () => {
    const r = req({
      host: 'api.example',
      'x-forwarded-for': '1.1.1.1',
      'x-forwarded-proto': 'https',
      'x-forwarded-host': 'www.example',
    });
    prepareUpstreamHeaders(r, { requestId: 'id-1', trustProxy: true });
    expect(r.headers).toMatchObject({
      'x-forwarded-for': '1.1.1.1, 10.1.2.3',
      'x-forwarded-proto': 'https',
      'x-forwarded-host': 'www.example',
      'x-request-id': 'id-1',
    });
  });

  it('drops exactly the hop-by-hop and untrusted forwarding headers, keeps every other one (generated)', () => {
    const hop = ['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'upgrade'];
    const more = ['proxy-authorization', 'proxy-authenticate', 'expect', 'http2-settings'];
    const forwarding = ['forwarded', 'x-forwarded-port', 'x-real-ip', 'x-forwarded-host'];
    const other = [
      'host',
      'accept',
      'content-type',
      'x-forwarded-proto',
      'cookie',
      'x-custom',
      'authorization',
    ];
    const names = fc.constantFrom(...hop, ...more, ...forwarding, ...other);
    fc.assert(
      fc.property(
        fc.dictionary(names, fc.stringMatching(/^[a-z0-9 ,.=-]{1,12}$/)),
        fc.boolean(),
        (given, trustProxy) => {
          // a Connection value naming another header removes that one too: keep to the usual values here
          if (given.connection !== undefined) given.connection = 'keep-alive';
          const r = req(given);
          prepareUpstreamHeaders(r, { requestId: 'id-g', trustProxy });
          for (const name of [...hop, ...more]) expect(r.headers[name], name).toBeUndefined();
          for (const name of other.filter((n) => n !== 'x-forwarded-proto'))
            expect(r.headers[name], name).toBe(given[name]);
          expect(r.headers['x-request-id']).toBe('id-g');
          if (trustProxy) {
            for (const name of forwarding) {
              if (name === 'x-forwarded-host') continue;
              expect(r.headers[name], name).toBe(given[name]);
            }
            expect(r.headers['x-forwarded-host']).toBe(given['x-forwarded-host'] || given.host);
          } else {
            for (const name of ['forwarded', 'x-forwarded-port', 'x-real-ip'])
              expect(r.headers[name], name).toBeUndefined();
            expect(r.headers['x-forwarded-host']).toBe(given.host);
            expect(r.headers['x-forwarded-for']).toBe('10.1.2.3');
            expect(r.headers['x-forwarded-proto']).toBe('http');
          }
        },
      ),
    );
  });

  it('never lets a Connection token remove the framing headers', () => {
    const r = req({
      host: 'a',
      connection: 'content-length, transfer-encoding, host, x-a',
      'content-length': '3',
      'x-a': '1',
    });
    prepareUpstreamHeaders(r, { requestId: 'id-2', trustProxy: false });
    expect(r.headers['content-length']).toBe('3');
    expect(r.headers.host).toBe('a');
    expect(r.headers['x-a']).toBeUndefined();
    expect(r.headers.connection).toBeUndefined();
  });
});

describe('stats windows', () => {
  it('any window asked for becomes whole seconds in 1..60, and reading it is bounded', () => {
    const stats = new WindowStats();
    const now = Date.now();
    for (let i = 89; i >= 0; i--) stats.record(1, false, now - i * 1000);
    fc.assert(
      fc.property(
        fc.oneof(fc.double(), fc.integer(), fc.constantFrom(1e9, -1e9, Infinity, -Infinity, NaN)),
        (asked) => {
          const w = windowSeconds(asked);
          expect(Number.isInteger(w) && w >= 1 && w <= MAX_WINDOW_S).toBe(true);
          expect(stats.raw(asked, now).seconds.length).toBe(w);
        },
      ),
    );
  });
});
