import { createMemoryContent } from '@pilot/content';
import { errorBody, LIMITS } from '@pilot/contracts';
import { startDelayedUpstream, startTestServer, type TestServer } from '@pilot/test-kit';
import { afterEach, describe, expect, it } from 'vitest';
import { createApp } from '../src/index.ts';
import { testDeps } from './helpers.ts';

const servers: TestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function upstream(source: string, options: Parameters<typeof startDelayedUpstream>[1] = {}) {
  const server = await startDelayedUpstream(source, options);
  servers.push(server);
  return `${server.url}/${source}`;
}

async function aggregateWith(options: {
  weather: string;
  quote: string;
  timeoutMs: number;
  articlesDelayMs?: number;
}) {
  const content = createMemoryContent({ delayMs: options.articlesDelayMs ?? 0 });
  const app = createApp(
    testDeps({
      content,
      env: {
        AGGREGATE_WEATHER_URL: options.weather,
        AGGREGATE_QUOTE_URL: options.quote,
        AGGREGATE_TIMEOUT_MS: String(options.timeoutMs),
      },
    }),
  );
  await app.ready();
  try {
    const started = performance.now();
    const res = await app.inject('/aggregate');
    return { res, elapsed: performance.now() - started, content };
  } finally {
    await app.close();
  }
}

describe('GET /aggregate', () => {
  // The one timing assertion the requirements demand. Made robust for a loaded 2-core machine: a
  // warm-up request first (keep-alive connections, JIT), and up to 2 retries; the concurrency
  // itself is also proven without a clock (all three parts were asked before any answered).
  it('runs the three 1 s parts concurrently: answers in under 1.3 s', {
    retry: 2,
  }, async () => {
    const events: string[] = [];
    let delayMs = 0; // 0 during the warm-up
    const slow = (source: string) =>
      startTestServer(async (_req, res) => {
        events.push(`${source}:start`);
        const ms = delayMs;
        if (ms > 0) await new Promise((resolve) => setTimeout(resolve, ms));
        events.push(`${source}:end`);
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ source, delayMs: ms }));
      });
    const [weather, quote] = await Promise.all([slow('weather'), slow('quote')]);
    servers.push(weather, quote);
    const content = createMemoryContent();
    const contentDelay = { ms: 0 };
    const latest = content.latestArticles.bind(content);
    content.latestArticles = async (count) => {
      events.push('articles:start');
      if (contentDelay.ms > 0) await new Promise((resolve) => setTimeout(resolve, contentDelay.ms));
      events.push('articles:end');
      return latest(count);
    };
    const app = createApp(
      testDeps({
        content,
        env: {
          AGGREGATE_WEATHER_URL: `${weather.url}/weather`,
          AGGREGATE_QUOTE_URL: `${quote.url}/quote`,
          AGGREGATE_TIMEOUT_MS: '5000',
        },
      }),
    );
    try {
      expect((await app.inject('/aggregate')).statusCode).toBe(200); // warm-up
      events.length = 0;
      delayMs = 1000;
      contentDelay.ms = 1000;
      const started = performance.now();
      const res = await app.inject('/aggregate');
      const elapsed = performance.now() - started;
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({
        data: {
          articles: await latest(LIMITS.aggregateArticleCount),
          weather: { source: 'weather', delayMs: 1000 },
          quote: { source: 'quote', delayMs: 1000 },
        },
        meta: { partial: false, missing: [] },
      });
      const firstEnd = events.findIndex((e) => e.endsWith(':end'));
      expect(events.slice(0, firstEnd).sort()).toEqual(['articles:start', 'quote:start', 'weather:start']);
      expect(elapsed).toBeGreaterThanOrEqual(990);
      expect(elapsed).toBeLessThan(1300);
    } finally {
      await app.close();
    }
  });

  it('with one upstream hanging, answers at the per-upstream timeout with that part missing', async () => {
    const timeoutMs = 600;
    const { res, elapsed } = await aggregateWith({
      weather: await upstream('weather', { delayMs: 50 }),
      quote: await upstream('quote', { hang: true }),
      timeoutMs,
    });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.meta).toEqual({ partial: true, missing: ['quote'] });
    expect(body.data.quote).toBeNull();
    expect(body.data.weather).toEqual({ source: 'weather', delayMs: 50 });
    expect(body.data.articles).toHaveLength(LIMITS.aggregateArticleCount);
    expect(elapsed).toBeGreaterThanOrEqual(timeoutMs - 5);
    expect(elapsed).toBeLessThan(timeoutMs + 1000);
  });

  it('a slow content store times out like an HTTP upstream', async () => {
    const { res } = await aggregateWith({
      weather: await upstream('weather'),
      quote: await upstream('quote'),
      articlesDelayMs: 5_000,
      timeoutMs: 300,
    });
    expect(res.json().meta).toEqual({ partial: true, missing: ['articles'] });
    expect(res.json().data.articles).toBeNull();
  });

  it('a 5xx or non-JSON answer is a missing part too', async () => {
    const notJson = await startTestServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<html>maintenance</html>');
    });
    servers.push(notJson);
    const { res } = await aggregateWith({
      weather: await upstream('weather', { status: 500 }),
      quote: `${notJson.url}/quote`,
      timeoutMs: 2000,
    });
    expect(res.statusCode).toBe(200);
    expect(res.json().meta).toEqual({ partial: true, missing: ['weather', 'quote'] });
  });

  it('forwards the request id to the upstreams', async () => {
    const weather = await startDelayedUpstream('weather');
    servers.push(weather);
    const content = createMemoryContent();
    const app = createApp(
      testDeps({
        content,
        env: { AGGREGATE_WEATHER_URL: `${weather.url}/w`, AGGREGATE_QUOTE_URL: `${weather.url}/q` },
      }),
    );
    await app.inject({ url: '/aggregate', headers: { 'x-request-id': 'agg-1' } });
    await app.close();
    expect(weather.requests.map((r) => r.headers['x-request-id'])).toEqual(['agg-1', 'agg-1']);
  });

  it('when every part fails there is nothing to answer: 502 (504 when they all timed out)', async () => {
    const failing = createMemoryContent();
    failing.latestArticles = async () => {
      throw new Error('strapi down');
    };
    const app = createApp(
      testDeps({
        content: failing,
        env: {
          AGGREGATE_WEATHER_URL: await upstream('weather', { status: 503 }),
          AGGREGATE_QUOTE_URL: await upstream('quote', { status: 503 }),
        },
      }),
    );
    const res = await app.inject('/aggregate');
    await app.close();
    expect(res.statusCode).toBe(502);
    expect(res.json()).toEqual(
      errorBody('UPSTREAM_FAILED', { details: { missing: ['articles', 'weather', 'quote'] } }),
    );

    const { res: timedOut } = await aggregateWith({
      weather: await upstream('weather', { hang: true }),
      quote: await upstream('quote', { hang: true }),
      articlesDelayMs: 5_000,
      timeoutMs: 200,
    });
    expect(timedOut.statusCode).toBe(504);
    expect(timedOut.json().error.code).toBe('UPSTREAM_TIMEOUT');
  });
});
