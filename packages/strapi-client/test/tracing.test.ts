import { context, SpanKind, trace } from '@opentelemetry/api';
import { type TestRedis, useTestRedis } from '@pilot/test-kit';
import { startTestTracing, type ReadableSpan, type TestTracing } from '@pilot/telemetry/testing';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type FakeStrapi, startFakeStrapi } from '../src/testing/index.ts';
import { articleSchema, clientFor, closeClients, seedArticles, TOKEN } from './helpers.ts';

/**
 * Spans of the Strapi client inside a traced request: the cache tier that answered, retries,
 * the breaker's state, the Redis commands and the HTTP calls to Strapi (whose traceparent the
 * fake Strapi receives). The fake is used for the faults (503 then 200, a dead Strapi).
 */
let tracing: TestTracing;
let fake: FakeStrapi;
let redis: TestRedis;
const tracer = trace.getTracer('test');

beforeAll(async () => {
  tracing = startTestTracing({ service: 'strapi-client-test', serverSpans: false });
  fake = await startFakeStrapi({ token: TOKEN, collections: { articles: seedArticles(3) } });
  redis = await useTestRedis('strapi-tracing');
});
beforeEach(() => {
  tracing.reset();
  fake.setFault(null);
  fake.requests.length = 0;
});
afterEach(closeClients);
afterAll(async () => {
  await fake.close();
  await redis.cleanup();
  await tracing.shutdown();
});

/** Runs `fn` inside a recorded "request" span; returns the spans of that trace. */
async function inRequest(fn: () => Promise<unknown>): Promise<{ root: ReadableSpan; spans: ReadableSpan[] }> {
  const span = tracer.startSpan('request', { kind: SpanKind.SERVER });
  await context.with(trace.setSpan(context.active(), span), fn).catch(() => {});
  span.end();
  const traceId = span.spanContext().traceId;
  const spans = tracing.spans().filter((s) => s.spanContext().traceId === traceId);
  return { root: spans.find((s) => s.name === 'request')!, spans };
}

const childrenOf = (spans: ReadableSpan[], parent: ReadableSpan) =>
  spans.filter((s) => s.parentSpanContext?.spanId === parent.spanContext().spanId);

describe('strapi-client spans (fake Strapi for faults)', () => {
  it('a cold read: read span (upstream) → request span → HTTP span, traceparent sent to Strapi', async () => {
    const client = clientFor(fake);
    const { root, spans } = await inRequest(() => client.collection('articles').find({}, articleSchema));
    const [read] = childrenOf(spans, root);
    expect(read?.name).toBe('strapi-client read articles');
    expect(read?.attributes['pilot.cache.tier']).toBe('upstream');
    const [request] = childrenOf(spans, read!);
    expect(request?.name).toBe('strapi GET /api/articles');
    expect(request?.attributes).toMatchObject({ 'strapi.retries': 0, 'strapi.breaker': 'closed' });
    const [http] = childrenOf(spans, request!);
    expect(http?.kind).toBe(SpanKind.CLIENT);
    expect(http?.attributes['http.response.status_code']).toBe(200);
    const sent = fake.requests.at(-1)!.headers.traceparent;
    expect(sent).toBe(`00-${http!.spanContext().traceId}-${http!.spanContext().spanId}-01`);
  });

  it('a second read is an L1 hit, with no request and nothing sent to Strapi', async () => {
    const client = clientFor(fake);
    await client.collection('articles').find({}, articleSchema);
    fake.requests.length = 0;
    const { root, spans } = await inRequest(() => client.collection('articles').find({}, articleSchema));
    expect(spans.map((s) => s.name).sort()).toEqual(['request', 'strapi-client read articles']);
    expect(childrenOf(spans, root)[0]?.attributes['pilot.cache.tier']).toBe('l1');
    expect(fake.requests).toHaveLength(0);
  });

  it('another instance answers from L2, with the Redis commands as spans', async () => {
    const cache = { redisUrl: redis.url, prefix: redis.prefix };
    const first = clientFor(fake, { cache });
    await first.ready();
    await first.collection('articles').findOne('doc1', undefined, articleSchema);
    // the L2 write is not awaited by the read: wait until it is there
    await expect.poll(async () => (await redis.client.keys(`${redis.prefix}*`)).length).toBeGreaterThan(0);
    const second = clientFor(fake, { cache });
    await second.ready();
    const { root, spans } = await inRequest(() =>
      second.collection('articles').findOne('doc1', undefined, articleSchema),
    );
    const [read] = childrenOf(spans, root);
    expect(read?.attributes['pilot.cache.tier']).toBe('l2');
    const redisSpans = childrenOf(spans, read!).filter((s) => s.attributes['db.system.name'] === 'redis');
    expect(redisSpans.length).toBeGreaterThan(0);
    expect(spans.some((s) => s.name.startsWith('strapi GET'))).toBe(false);
  });

  it('retries: one request span, two HTTP spans, strapi.retries = 1', async () => {
    const client = clientFor(fake, { retry: { maxAttempts: 2, initialDelayMs: 1, maxDelayMs: 2 } });
    fake.setFault({ kind: 'status', status: 503 }, 1);
    const { spans } = await inRequest(() =>
      client.collection('articles').find({ sort: 'title' }, articleSchema),
    );
    const request = spans.find((s) => s.name === 'strapi GET /api/articles')!;
    expect(request.attributes['strapi.retries']).toBe(1);
    const https = childrenOf(spans, request);
    expect(https.map((s) => s.attributes['http.response.status_code'])).toEqual([503, 200]);
  });

  it('an open breaker: the request span is an error with the code and the breaker state', async () => {
    const client = clientFor(fake, { breaker: { threshold: 1, halfOpenAfterMs: 60_000 } });
    fake.setFault({ kind: 'status', status: 503 });
    await client
      .collection('articles')
      .find({ q: 'a' } as never, articleSchema, { cache: false })
      .catch(() => {});
    const { spans } = await inRequest(() =>
      client.collection('articles').find({ q: 'b' } as never, articleSchema, { cache: false }),
    );
    const request = spans.find((s) => s.name === 'strapi GET /api/articles')!;
    expect(request.status.code).toBe(2);
    expect(request.attributes).toMatchObject({
      'strapi.error_code': 'STRAPI_CIRCUIT_OPEN',
      'strapi.breaker': 'open',
    });
    expect(spans.find((s) => s.name === 'strapi-client read articles')?.attributes['pilot.cache.tier']).toBe(
      'bypass',
    );
  });

  it('outside a traced request: no spans, and no traceparent sent', async () => {
    const client = clientFor(fake);
    await client.collection('articles').find({ page: 2 } as never, articleSchema);
    expect(tracing.spans()).toHaveLength(0);
    expect(fake.requests.at(-1)!.headers.traceparent).toBeUndefined();
  });
});
