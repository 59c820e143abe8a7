/**
 * One trace per request across the gateway, the real modern app (Fastify), the Strapi client,
 * Redis and Strapi — here a fake Strapi (fake Strapi: an in-process stand-in whose requests,
 * headers included, the test can read) — with spans kept in memory. The shadow target is the
 * real legacy app (Express); its side of a mirrored request is a trace of its own, linked.
 *
 * Everything runs in this process, so the server-span instrumentation is told which servers
 * are the apps' (the gateway makes its own spans).
 */
import type { Server } from 'node:http';
import { createApp as createLegacyApp, listen as listenLegacy } from '@pilot/legacy';
import { createApp as createModernApp } from '@pilot/modern';
import { createLogger, createServiceDeps, loadServiceConfig, type ServiceDeps } from '@pilot/service-kit';
import { type FakeStrapi, startFakeStrapi } from '@pilot/strapi-client/testing';
import { type ReadableSpan, startTestTracing, type TestTracing } from '@pilot/telemetry/testing';
import { type TestRedis, useTestRedis } from '@pilot/test-kit';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { GatewayHandle } from '../src/index.ts';
import { call, startGateway, tempDir, writeTable } from './helpers.ts';

const article = (documentId: string, slug: string) => ({
  documentId,
  slug,
  title: `Title ${slug}`,
  summary: `Summary ${slug}`,
  body: `Body ${slug}`,
  publishedAt: '2025-01-01T00:00:00.000Z',
  updatedAt: '2025-01-01T00:00:00.000Z',
  author: null,
});

const SERVER = 1; // SpanKind.SERVER
const CLIENT = 2; // SpanKind.CLIENT

describe('one trace per request: gateway → modern → strapi-client → Redis and Strapi (fake Strapi)', () => {
  let tracing: TestTracing;
  let strapi: FakeStrapi;
  let redis: TestRedis;
  let modernDeps: ServiceDeps;
  let legacyDeps: ServiceDeps;
  let modern: FastifyInstance;
  let legacy: { url: string; server?: Server; close(): Promise<unknown> };
  let gw: GatewayHandle;
  let cleanup: () => Promise<void>;
  const appServers = new Set<Server>();

  beforeAll(async () => {
    tracing = startTestTracing({
      service: 'pilot-test',
      // the gateway's default: a client's trace id is kept, its sampled flag is not obeyed
      env: { TRACING_INCOMING: 'continue' },
      traceServer: (server) => appServers.has(server),
    });
    strapi = await startFakeStrapi({
      collections: { articles: [article('doc-a', 'alpha'), article('doc-b', 'beta')] },
    });
    redis = await useTestRedis('gateway-tracing');
    const config = loadServiceConfig(
      { NODE_ENV: 'test', LOG_LEVEL: 'silent', STRAPI_URL: strapi.url, REDIS_URL: redis.url },
      { port: 0 },
    );
    const logger = createLogger({ service: 'test', level: 'silent' });
    modernDeps = createServiceDeps(config, logger, { service: 'modern', redisPrefix: `${redis.prefix}m:` });
    legacyDeps = createServiceDeps(config, logger, { service: 'legacy', redisPrefix: `${redis.prefix}l:` });
    await Promise.all([modernDeps.strapi.read.ready(), legacyDeps.strapi.read.ready()]);
    modern = createModernApp({
      config,
      logger,
      content: modernDeps.content,
      auth: modernDeps.auth,
      metrics: modernDeps.metrics,
      tuning: { underPressure: false },
    });
    const modernUrl = await modern.listen({ host: '127.0.0.1', port: 0 });
    appServers.add(modern.server);
    legacy = await listenLegacy(
      createLegacyApp({ config, logger, content: legacyDeps.content, auth: legacyDeps.auth }),
      { host: '127.0.0.1', port: 0 },
    );
    if (legacy.server) appServers.add(legacy.server);

    const dir = await tempDir();
    cleanup = dir.cleanup;
    const file = await writeTable(
      dir.dir,
      `
backends:
  legacy: { url: ${legacy.url}, healthCheck: { enabled: false } }
  modern: { url: ${modernUrl}, healthCheck: { enabled: false } }
routes:
  - id: shadowed
    path: /articles/beta
    backend: modern
    shadow: { backend: legacy }
  - id: articles
    path: /articles*
    backend: modern
    fallback: legacy
`,
    );
    gw = await startGateway({ routesFile: file });
  });

  afterAll(async () => {
    await gw?.close();
    await modern?.close();
    await legacy?.close();
    await Promise.all([modernDeps?.close(), legacyDeps?.close()]);
    await strapi?.close();
    await redis?.cleanup();
    await cleanup?.();
    await tracing?.shutdown();
  });

  beforeEach(() => tracing.reset());

  const spansOf = (traceId: string) => tracing.spans().filter((s) => s.spanContext().traceId === traceId);
  const children = (spans: ReadableSpan[], parent: ReadableSpan) =>
    spans.filter((s) => s.parentSpanContext?.spanId === parent.spanContext().spanId);
  const gatewaySpan = (name: string) =>
    tracing.spans().find((s) => s.instrumentationScope.name === '@pilot/gateway' && s.name === name);

  it('a cold read: gateway → modern → strapi-client (upstream) → Strapi HTTP, one trace; Strapi gets its traceparent', async () => {
    const reply = await call(`${gw.url}/articles/alpha`);
    expect(reply.status).toBe(200);
    await expect.poll(() => gatewaySpan('GET articles')).toBeDefined();
    const root = gatewaySpan('GET articles')!;
    expect(root.kind).toBe(SERVER);
    expect(root.parentSpanContext).toBeUndefined();
    expect(root.attributes).toMatchObject({
      'pilot.route': 'articles',
      'pilot.route.mode': 'backend',
      'pilot.backend.chosen': 'modern',
      'pilot.backend': 'modern',
      'pilot.sticky': false,
      'http.response.status_code': 200,
    });
    const traceId = root.spanContext().traceId;
    await expect.poll(() => spansOf(traceId).some((s) => s.name === 'GET /articles/:slug')).toBe(true);
    const spans = spansOf(traceId);

    const [app] = children(spans, root);
    expect(app?.name).toBe('GET /articles/:slug');
    expect(app?.kind).toBe(SERVER);
    expect(app?.attributes).toMatchObject({
      'http.route': '/articles/:slug',
      'http.response.status_code': 200,
    });

    const reads = children(spans, app!).filter((s) => s.name.startsWith('strapi-client read'));
    expect(reads.length).toBeGreaterThan(0);
    expect(reads.every((r) => r.attributes['pilot.cache.tier'] === 'upstream')).toBe(true);
    const read = reads[0]!;
    // L2 was asked first (a miss): Redis commands under the read
    expect(children(spans, read).some((s) => s.attributes['db.system.name'] === 'redis')).toBe(true);
    const request = children(spans, read).find((s) => s.name === 'strapi GET /api/articles')!;
    expect(request.attributes).toMatchObject({ 'strapi.retries': 0, 'strapi.breaker': 'closed' });
    const [http] = children(spans, request);
    expect(http?.kind).toBe(CLIENT);
    expect(http?.attributes['http.response.status_code']).toBe(200);

    const received = strapi.requests.filter((r) => r.headers.traceparent?.includes(traceId));
    expect(received.map((r) => r.headers.traceparent)).toContain(
      `00-${traceId}-${http!.spanContext().spanId}-01`,
    );
  });

  it('the same read again: the trace shows the L1 hit and no Strapi call', async () => {
    await call(`${gw.url}/articles/alpha`);
    tracing.reset();
    const before = strapi.requests.length;
    expect((await call(`${gw.url}/articles/alpha`)).status).toBe(200);
    await expect.poll(() => tracing.spans().some((s) => s.name === 'GET /articles/:slug')).toBe(true);
    const root = gatewaySpan('GET articles')!;
    const spans = spansOf(root.spanContext().traceId);
    const app = children(spans, root)[0]!;
    const reads = children(spans, app).filter((s) => s.name.startsWith('strapi-client read'));
    expect(reads.map((r) => r.attributes['pilot.cache.tier'])).toEqual(reads.map(() => 'l1'));
    expect(spans.some((s) => s.kind === CLIENT)).toBe(false);
    expect(strapi.requests.length).toBe(before);
  });

  it('a client’s traceparent is continued (its trace id), its sampled flag decides nothing', async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const caller = '00f067aa0ba902b7';
    // "not sampled" from the client: our root sampler (always on here) still records it
    await call(`${gw.url}/articles/alpha`, { headers: { traceparent: `00-${traceId}-${caller}-00` } });
    await expect.poll(() => spansOf(traceId).some((s) => s.name === 'GET /articles/:slug')).toBe(true);
    const spans = spansOf(traceId);
    const root = spans.find((s) => s.instrumentationScope.name === '@pilot/gateway')!;
    expect(root.parentSpanContext?.spanId).toBe(caller);
    expect(children(spans, root)[0]?.name).toBe('GET /articles/:slug');
  });

  it('a shadowed request: the mirror is its own trace, linked to the served one, with the verdict', async () => {
    expect((await call(`${gw.url}/articles/beta`)).status).toBe(200);
    await expect.poll(() => gatewaySpan('shadow shadowed')).toBeDefined();
    const served = gatewaySpan('GET shadowed')!;
    const shadow = gatewaySpan('shadow shadowed')!;
    expect(served.attributes['pilot.shadow.backend']).toBe('legacy');
    expect(shadow.spanContext().traceId).not.toBe(served.spanContext().traceId);
    expect(shadow.parentSpanContext).toBeUndefined();
    expect(shadow.links.map((l) => l.context.spanId)).toEqual([served.spanContext().spanId]);
    expect(['match', 'mismatch']).toContain(shadow.attributes['pilot.shadow.verdict']);
    // legacy's handler is in the shadow trace, under the shadow span
    const legacySpans = spansOf(shadow.spanContext().traceId);
    expect(children(legacySpans, shadow).map((s) => s.name)).toContain('GET /articles/:slug');
    // and modern's in the served one
    expect(children(spansOf(served.spanContext().traceId), served).map((s) => s.name)).toEqual([
      'GET /articles/:slug',
    ]);
  });

  it('latency exemplars name the trace, in OpenMetrics only', async () => {
    await call(`${gw.url}/articles/alpha`);
    await expect.poll(() => gatewaySpan('GET articles')).toBeDefined();
    const traceId = gatewaySpan('GET articles')!.spanContext().traceId;
    const om = await call(`${gw.adminUrl}/metrics`, {
      headers: { accept: 'application/openmetrics-text;version=1.0.0,text/plain;q=0.5' },
    });
    expect(om.headers['content-type']).toContain('application/openmetrics-text');
    expect(om.text).toMatch(
      /gateway_request_duration_seconds_bucket\{[^}]*route="articles"[^}]*\} \d+ # \{trace_id="[0-9a-f]{32}"\}/,
    );
    expect(om.text).toContain(`trace_id="${traceId}"`);
    const text = await call(`${gw.adminUrl}/metrics`);
    expect(text.headers['content-type']).toContain('text/plain');
    expect(text.text).not.toContain('trace_id');

    // the app's histogram: the same trace (modern's span is in it)
    const app = await modern.inject({
      url: '/metrics',
      headers: { accept: 'application/openmetrics-text;version=1.0.0' },
    });
    expect(app.headers['content-type']).toContain('application/openmetrics-text');
    const bucket = app.body
      .split('\n')
      .filter(
        (l) => l.startsWith('http_request_duration_seconds_bucket{') && l.includes('route="/articles/:slug"'),
      );
    expect(bucket.some((l) => l.includes(`# {trace_id="${traceId}"}`))).toBe(true);
    const plain = await modern.inject({ url: '/metrics' });
    expect(plain.headers['content-type']).toContain('text/plain');
    expect(plain.body).toContain('http_requests_total{');
    expect(plain.body).not.toContain('trace_id');
  });
});
