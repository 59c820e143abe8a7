import { request as httpRequest, Agent, type ClientRequest } from 'node:http';
import { ContentChangedEvent, HEADERS } from '@pilot/contracts';
import { useTestRedis, type TestRedis } from '@pilot/test-kit';
import type { FastifyInstance } from 'fastify';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createApp, createMemoryEventsHub, createRedisEventsHub, type EventsHub } from '../src/index.ts';
import { testDeps, WEBHOOK_SECRET } from './helpers.ts';
import { openSse, type SseStream } from './sse-client.ts';

const change = (documentId: string) => ({
  event: 'entry.update',
  model: 'article',
  entry: { documentId, slug: `slug-${documentId}` },
});

async function listening(hub: EventsHub, heartbeatMs = 60_000) {
  const app = createApp(
    testDeps({ events: hub, tuning: { underPressure: false, eventsHeartbeatMs: heartbeatMs } }),
  );
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  return { app, url };
}

function postWebhook(url: string, body: unknown) {
  return fetch(`${url}/webhooks/strapi`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', [HEADERS.webhookSecret]: WEBHOOK_SECRET },
    body: JSON.stringify(body),
  });
}

describe('GET /events (real server, fetch stream reader)', () => {
  const hub = createMemoryEventsHub();
  let app: FastifyInstance;
  let url: string;
  const streams: SseStream[] = [];

  beforeAll(async () => {
    ({ app, url } = await listening(hub, 50));
  });
  afterEach(async () => {
    for (const s of streams.splice(0)) s.close();
    await vi.waitFor(() => expect(hub.listenerCount()).toBe(0));
  });
  afterAll(async () => {
    await app.close();
    await hub.close();
  });

  it('streams text/event-stream with the request id and no caching', async () => {
    const stream = await openSse(`${url}/events`, { 'x-request-id': 'sse-1' });
    streams.push(stream);
    expect(stream.status).toBe(200);
    expect(stream.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(stream.headers.get('cache-control')).toBe('no-cache, no-transform');
    expect(stream.headers.get('x-request-id')).toBe('sse-1');
    expect(await stream.next((m) => m.retry !== undefined)).toEqual({ retry: '2000' });
  });

  it('HEAD /events answers the head and ends (no stream held open, no subscriber)', async () => {
    const res = await fetch(`${url}/events`, { method: 'HEAD', signal: AbortSignal.timeout(5_000) });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(await res.text()).toBe('');
    expect(hub.listenerCount()).toBe(0);
  });

  // a timing assertion the requirements demand; retried so a momentarily saturated machine does not flake it
  it('a subscriber receives content.changed within 1 s of a webhook', { retry: 2 }, async () => {
    const stream = await openSse(`${url}/events`);
    streams.push(stream);
    await stream.next((m) => m.retry !== undefined); // subscribed
    const started = performance.now();
    const res = await postWebhook(url, change('doc-live'));
    expect(res.status).toBe(200);
    const message = await stream.next((m) => m.event === 'content.changed');
    expect(performance.now() - started).toBeLessThan(1000);
    const data = ContentChangedEvent.parse(JSON.parse(message.data as string));
    expect(data).toMatchObject({
      event: 'entry.update',
      model: 'article',
      documentId: 'doc-live',
      slug: 'slug-doc-live',
    });
    expect(message.id).toBe(data.id);
  });

  it('sends heartbeats', async () => {
    const stream = await openSse(`${url}/events`);
    streams.push(stream);
    expect(await stream.next((m) => m.comment === 'heartbeat')).toEqual({ comment: 'heartbeat' });
  });

  it('resumes after Last-Event-ID from the backlog', async () => {
    const first = await hub.publish({
      event: 'entry.create',
      model: 'article',
      documentId: 'a',
      slug: null,
      at: 'now',
    });
    const second = await hub.publish({
      event: 'entry.update',
      model: 'article',
      documentId: 'b',
      slug: null,
      at: 'now',
    });
    const third = await hub.publish({
      event: 'entry.delete',
      model: 'article',
      documentId: 'c',
      slug: null,
      at: 'now',
    });
    const stream = await openSse(`${url}/events`, { 'last-event-id': first.id });
    streams.push(stream);
    const a = await stream.next((m) => m.event === 'content.changed');
    const b = await stream.next((m) => m.event === 'content.changed');
    expect([a.id, b.id]).toEqual([second.id, third.id]);
  });

  it('releases the listener and the heartbeat timer when the client goes away', async () => {
    const before = hub.listenerCount();
    const stream = await openSse(`${url}/events`);
    await stream.next((m) => m.retry !== undefined);
    expect(hub.listenerCount()).toBe(before + 1);
    stream.close();
    await vi.waitFor(() => expect(hub.listenerCount()).toBe(before));
  });
});

describe('1,000 idle SSE subscribers', () => {
  it('connect and disconnect without leaking listeners, sockets or timers', {
    timeout: 120_000,
  }, async () => {
    const hub = createMemoryEventsHub();
    const { app, url } = await listening(hub, 30_000);
    const agent = new Agent({ keepAlive: false, maxSockets: Number.POSITIVE_INFINITY });
    const { port } = new URL(url);
    const count = (type: string) => process.getActiveResourcesInfo().filter((t) => t === type).length;
    try {
      // warm up one connection so lazily created handles exist before the baseline
      const warm = await openSse(`${url}/events`);
      await warm.next((m) => m.retry !== undefined);
      warm.close();
      await vi.waitFor(() => expect(hub.listenerCount()).toBe(0));
      const baseline = { sockets: count('TCPSocketWrap'), timers: count('Timeout') };

      const requests: ClientRequest[] = [];
      await Promise.all(
        Array.from(
          { length: 1000 },
          () =>
            new Promise<void>((resolve, reject) => {
              const req = httpRequest({ host: '127.0.0.1', port, path: '/events', agent }, (res) => {
                res.once('data', () => resolve()); // the retry: line: subscribed
              });
              req.on('error', reject);
              req.end();
              requests.push(req);
            }),
        ),
      );
      expect(hub.listenerCount()).toBe(1000);
      expect(await new Promise((r) => app.server.getConnections((_e, n) => r(n)))).toBe(1000);
      expect(count('TCPSocketWrap')).toBeGreaterThanOrEqual(baseline.sockets + 2000);
      // one heartbeat each (not baseline + 1000: a timer of the baseline may have fired since)
      expect(count('Timeout')).toBeGreaterThanOrEqual(1000);

      for (const req of requests) req.destroy();
      await vi.waitFor(
        async () => {
          expect(hub.listenerCount()).toBe(0);
          expect(await new Promise((r) => app.server.getConnections((_e, n) => r(n)))).toBe(0);
          expect(count('TCPSocketWrap')).toBeLessThanOrEqual(baseline.sockets);
        },
        { timeout: 60_000, interval: 50 },
      );
      // counted outside waitFor, whose own timers would be in the count
      expect(count('Timeout')).toBeLessThanOrEqual(baseline.timers);
    } finally {
      agent.destroy();
      await app.close();
      await hub.close();
    }
  });
});

describe('GET /events across instances (real Redis)', () => {
  let redis: TestRedis;
  beforeAll(async () => {
    redis = await useTestRedis('modern-events');
  });
  afterAll(async () => {
    await redis.cleanup();
  });

  it('a webhook received by instance A reaches a subscriber of instance B, with the same id', async () => {
    const hubA = createRedisEventsHub({ url: redis.url, prefix: redis.prefix });
    const hubB = createRedisEventsHub({ url: redis.url, prefix: redis.prefix });
    await Promise.all([hubA.ready, hubB.ready]);
    const a = await listening(hubA);
    const b = await listening(hubB);
    const onB = await openSse(`${b.url}/events`);
    const onA = await openSse(`${a.url}/events`);
    try {
      await Promise.all([onA.next((m) => m.retry !== undefined), onB.next((m) => m.retry !== undefined)]);
      expect((await postWebhook(a.url, change('doc-x'))).status).toBe(200);
      const [fromB, fromA] = await Promise.all([
        onB.next((m) => m.event === 'content.changed'),
        onA.next((m) => m.event === 'content.changed'),
      ]);
      expect(JSON.parse(fromB.data as string)).toMatchObject({ documentId: 'doc-x' });
      expect(fromB.id).toBe(fromA.id);
      // B's backlog has it too: a client that reconnects to B resumes from there
      expect(hubB.since('0').map((e) => e.id)).toEqual([fromB.id]);
    } finally {
      onA.close();
      onB.close();
      await Promise.all([a.app.close(), b.app.close()]);
      await Promise.all([hubA.close(), hubB.close()]);
    }
  });
});

describe('shutdown', () => {
  it('app.close() ends open streams instead of waiting for them', async () => {
    const hub = createMemoryEventsHub();
    const { app, url } = await listening(hub);
    const stream = await openSse(`${url}/events`);
    await stream.next((m) => m.retry !== undefined);
    await app.close();
    await expect(stream.next((m) => m.event === 'content.changed')).rejects.toThrow();
    expect(hub.listenerCount()).toBe(0);
  });
});
