import { AggregateResponse, ApiError } from '@pilot/contracts';
import { createMemoryContent } from '@pilot/content';
import { startDelayedUpstream, startTestServer, type TestServer } from '@pilot/test-kit';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { call, closeTestRedis, expectEnvelope, startApp, type TestApp } from './helpers.ts';

const servers: Array<TestServer | TestApp> = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});
afterAll(async () => {
  await closeTestRedis();
});

async function appWith(
  weather: TestServer,
  quote: TestServer,
  options: Parameters<typeof startApp>[0] = {},
): Promise<TestApp> {
  servers.push(weather, quote);
  const app = await startApp({
    ...options,
    env: {
      AGGREGATE_WEATHER_URL: `${weather.url}/weather`,
      AGGREGATE_QUOTE_URL: `${quote.url}/quote`,
      ...options.env,
    },
  });
  servers.push(app);
  return app;
}

describe('GET /aggregate (legacy: one part after another)', () => {
  it('with three parts of 1 s each answers in ≥ 2.9 s: the parts are awaited in sequence', async () => {
    const app = await appWith(
      await startDelayedUpstream('weather', { delayMs: 1000 }),
      await startDelayedUpstream('quote', { delayMs: 1000 }),
      { content: createMemoryContent({ delayMs: 1000 }) },
    );
    const started = performance.now();
    const res = await call(`${app.url}/aggregate`);
    const elapsed = performance.now() - started;
    expect(res.status).toBe(200);
    expect(elapsed).toBeGreaterThanOrEqual(2900);
    const body = AggregateResponse.parse(res.body);
    expect(body.data.articles).toHaveLength(5);
    expect(body.data.weather).toEqual({ source: 'weather', delayMs: 1000 });
    expect(body.data.quote).toEqual({ source: 'quote', delayMs: 1000 });
    expect(body.meta).toEqual({ partial: false, missing: [] });
    expect(res.headers.get('cache-control')).toBe('no-store');
  });

  it('asks the upstreams in order and forwards the request id', async () => {
    const order: string[] = [];
    const upstream = (name: string) =>
      startTestServer((req, res) => {
        order.push(name);
        expect(req.headers['x-request-id']).toBe('agg-1');
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ name }));
      });
    const app = await appWith(await upstream('weather'), await upstream('quote'));
    const res = await call(`${app.url}/aggregate`, { headers: { 'x-request-id': 'agg-1' } });
    expect(res.status).toBe(200);
    expect(order).toEqual(['weather', 'quote']);
  });

  it('answers 502 UPSTREAM_FAILED when the weather upstream fails, without asking the quote one', async () => {
    const quote = await startDelayedUpstream('quote');
    const app = await appWith(await startDelayedUpstream('weather', { status: 500 }), quote);
    const envelope = expectEnvelope(await call(`${app.url}/aggregate`), 502, 'UPSTREAM_FAILED');
    expect(envelope.error.details).toEqual({ missing: ['weather'] });
    expect(quote.requests).toHaveLength(0);
  });

  it('answers 502 when an upstream answers something that is not JSON', async () => {
    const notJson = await startTestServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' }).end('<html>oops</html>');
    });
    const app = await appWith(await startDelayedUpstream('weather'), notJson);
    const envelope = expectEnvelope(await call(`${app.url}/aggregate`), 502, 'UPSTREAM_FAILED');
    expect(envelope.error.details).toEqual({ missing: ['quote'] });
  });

  it('answers 504 UPSTREAM_TIMEOUT when an upstream hangs past AGGREGATE_TIMEOUT_MS', async () => {
    const app = await appWith(
      await startDelayedUpstream('weather'),
      await startDelayedUpstream('quote', { hang: true }),
      {
        env: { AGGREGATE_TIMEOUT_MS: '300' },
      },
    );
    const envelope = expectEnvelope(await call(`${app.url}/aggregate`), 504, 'UPSTREAM_TIMEOUT');
    expect(envelope.error.details).toEqual({ missing: ['quote'] });
  });

  it('answers 502 when an upstream can’t be reached, and when the articles fail', async () => {
    const gone = await startDelayedUpstream('weather');
    await gone.close();
    const app = await appWith(gone, await startDelayedUpstream('quote'));
    expectEnvelope(await call(`${app.url}/aggregate`), 502, 'UPSTREAM_FAILED');

    const content = createMemoryContent();
    content.latestArticles = async () => {
      throw new ApiError('SERVICE_UNAVAILABLE');
    };
    const noArticles = await appWith(
      await startDelayedUpstream('weather'),
      await startDelayedUpstream('quote'),
      { content },
    );
    const envelope = expectEnvelope(await call(`${noArticles.url}/aggregate`), 502, 'UPSTREAM_FAILED');
    expect(envelope.error.details).toEqual({ missing: ['articles'] });
  });
});
