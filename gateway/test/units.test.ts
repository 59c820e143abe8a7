import { describe, expect, it } from 'vitest';
import { Breaker } from '../src/breaker.ts';
import { bucketOf, jwtSubject } from '../src/choose.ts';
import { diffResponses } from '../src/shadow/diff.ts';
import { normalizeTarget } from '../src/normalize.ts';
import { prepareUpstreamHeaders } from '../src/proxy.ts';
import { compileIgnore } from '../src/table.ts';

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

describe('breaker', () => {
  const cfg = {
    consecutiveFailures: 3,
    errorRatePercent: 50,
    minRequests: 10,
    windowMs: 10_000,
    openMs: 1000,
  };
  it('opens on consecutive failures, admits one half-open probe, closes on success', () => {
    const b = new Breaker(cfg);
    const t = 1_000_000;
    b.record(false, t);
    b.record(false, t);
    expect(b.state).toBe('closed');
    b.record(false, t);
    expect(b.state).toBe('open');
    expect(b.allow(t + 10)).toBe(false);
    expect(b.allow(t + 1000)).toBe(true);
    expect(b.state).toBe('half-open');
    expect(b.allow(t + 1001)).toBe(false);
    b.record(true, t + 1002);
    expect(b.state).toBe('closed');
  });
  it('opens on the error rate over the window', () => {
    const b = new Breaker(cfg);
    const t = 2_000_000;
    for (let i = 0; i < 10; i++) b.record(i % 2 === 0, t);
    expect(b.state).toBe('open');
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
