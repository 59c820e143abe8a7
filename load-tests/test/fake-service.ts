// An in-test stand-in for legacy / modern / gateway: implements the public routes' status
// codes (not their bodies in full) so the load tooling can be tested without the real apps.
// It counts a fake "Strapi call" per cache miss and exposes it on /metrics under the name
// compare reads, so the upstream-calls column is exercised too.
import { randomUUID } from 'node:crypto';
import { startTestServer, type TestServer } from '@pilot/test-kit';
import { UPSTREAM_CALL_METRICS } from '../src/metrics.ts';

export interface FakeServiceOptions {
  slug: string;
  username: string;
  password: string;
  /** Serve GET /events (modern and gateway only). */
  events: boolean;
  /** Value of the x-pilot-backend response header (a gateway names its backend). */
  backendHeader?: string;
  aggregateDelayMs?: number;
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export async function startFakeService(options: FakeServiceOptions): Promise<TestServer> {
  let upstreamCalls = 0;
  const cached = new Set<string>();
  const subscribers = new Set<string>();
  const access = new Set<string>();
  const refresh = new Set<string>();
  const cacheRead = (key: string) => {
    if (!cached.has(key)) {
      cached.add(key);
      upstreamCalls += 1;
    }
  };
  const tokens = () => {
    const pair = {
      accessToken: randomUUID(),
      refreshToken: randomUUID(),
      tokenType: 'Bearer',
      expiresIn: 900,
    };
    access.add(pair.accessToken);
    refresh.add(pair.refreshToken);
    return pair;
  };

  return startTestServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://fake');
    const json = (status: number, body: unknown) => {
      const headers: Record<string, string> = { 'content-type': 'application/json; charset=utf-8' };
      if (options.backendHeader) headers['x-pilot-backend'] = options.backendHeader;
      res.writeHead(status, headers);
      res.end(JSON.stringify(body));
    };
    const fail = (status: number, code: string) => json(status, { error: { status, code, message: code } });
    const body = (): Record<string, unknown> => {
      try {
        return JSON.parse(req.body) as Record<string, unknown>;
      } catch {
        return {};
      }
    };
    const route = `${req.method} ${url.pathname}`;

    if (route === 'GET /health') return json(200, { status: 'ok' });
    if (route === 'GET /metrics') {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
      res.end(
        `# TYPE ${UPSTREAM_CALL_METRICS[0]} counter\n${UPSTREAM_CALL_METRICS[0]}{op="find"} ${upstreamCalls}\n`,
      );
      return;
    }
    if (route === 'GET /articles') {
      const page = Number(url.searchParams.get('page') ?? 1);
      const pageSize = Number(url.searchParams.get('pageSize') ?? 25);
      if (
        !Number.isInteger(page) ||
        page < 1 ||
        !Number.isInteger(pageSize) ||
        pageSize < 1 ||
        pageSize > 100
      ) {
        return fail(422, 'VALIDATION_FAILED');
      }
      cacheRead(`list:${page}:${pageSize}`);
      return json(200, { data: [], meta: { pagination: { page, pageSize, pageCount: 5, total: 50 } } });
    }
    const slug = /^\/articles\/([^/]+)$/.exec(url.pathname);
    if (req.method === 'GET' && slug) {
      if (slug[1] !== options.slug) return fail(404, 'NOT_FOUND');
      cacheRead(`slug:${slug[1]}`);
      return json(200, { data: { slug: options.slug, title: 'Hello' } });
    }
    const author = /^\/authors\/([^/]+)$/.exec(url.pathname);
    if (req.method === 'GET' && author) {
      cacheRead(`author:${author[1]}`);
      return json(200, { data: { slug: author[1], name: 'An Author' } });
    }
    if (route === 'POST /subscribers') {
      const email = body().email;
      if (typeof email !== 'string' || !EMAIL.test(email)) return fail(422, 'VALIDATION_FAILED');
      if (subscribers.has(email)) return fail(409, 'CONFLICT');
      subscribers.add(email);
      upstreamCalls += 1;
      return json(201, { data: { email } });
    }
    if (route === 'GET /aggregate') {
      if (options.aggregateDelayMs)
        await new Promise((resolve) => setTimeout(resolve, options.aggregateDelayMs));
      return json(200, { articles: [], weather: {}, quote: {}, partial: false });
    }
    if (route === 'POST /auth/login') {
      const b = body();
      if (b.username !== options.username || b.password !== options.password)
        return fail(401, 'UNAUTHORIZED');
      return json(200, tokens());
    }
    if (route === 'POST /auth/refresh') {
      const token = body().refreshToken;
      if (typeof token !== 'string' || !refresh.delete(token)) return fail(401, 'UNAUTHORIZED');
      return json(200, tokens());
    }
    if (route === 'GET /me') {
      const token = (req.headers.authorization ?? '').replace(/^Bearer /, '');
      if (!access.has(token)) return fail(401, 'UNAUTHORIZED');
      return json(200, { data: { id: '1', username: options.username, name: 'Demo User' } });
    }
    if (route === 'GET /events' && options.events) {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      res.write(': connected\n\n');
      let id = 0;
      const timer = setInterval(() => res.write(`id: ${++id}\nevent: heartbeat\ndata: {}\n\n`), 100);
      req.on('close', () => clearInterval(timer));
      res.on('close', () => clearInterval(timer));
      return;
    }
    return fail(404, 'NOT_FOUND');
  });
}
