/**
 * Requests the gateway mirrors (`x-pilot-shadow: 1`) are answered as usual and change nothing,
 * in both apps; and `Idempotency-Key` on POST /subscribers, with the same answers in both apps.
 * Memory content and the in-memory refresh store (the real-Strapi proof is in @pilot/e2e).
 */
import { createMemoryContent, type MemoryContent } from '@pilot/content';
import { type ErrorEnvelope, HEADERS, type TokenPair } from '@pilot/contracts';
import { createApp as createLegacyApp, listen as listenLegacy } from '@pilot/legacy';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp as createModernApp, createMemoryEventsHub, signWebhook } from '../src/index.ts';
import { testDeps, WEBHOOK_HMAC_SECRET, WEBHOOK_SECRET } from './helpers.ts';

const MIRROR = { [HEADERS.shadow]: '1' };
const JSON_HEADERS = { 'content-type': 'application/json' };

interface Side {
  name: 'legacy' | 'modern';
  url: string;
  content: MemoryContent;
  close(): Promise<void>;
}

async function startLegacy(): Promise<Side> {
  const content = createMemoryContent();
  const deps = testDeps({ content });
  const app = createLegacyApp({ config: deps.config, logger: deps.logger, content, auth: deps.auth });
  const running = await listenLegacy(app, { host: '127.0.0.1', port: 0 });
  return { name: 'legacy', url: running.url, content, close: async () => void (await running.close(1000)) };
}

const events = createMemoryEventsHub();
async function startModern(): Promise<Side> {
  const content = createMemoryContent();
  const app: FastifyInstance = createModernApp(testDeps({ content, events }));
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  return { name: 'modern', url, content, close: () => app.close() };
}

const json = async <T>(res: Response) => (await res.json()) as T;

const post = (base: string, path: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${base}${path}`, {
    method: 'POST',
    headers: { ...JSON_HEADERS, ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });

let sides: Side[];
beforeAll(async () => {
  sides = [await startLegacy(), await startModern()];
});
afterAll(async () => {
  await Promise.all(sides.map((s) => s.close()));
});

describe.each(['legacy', 'modern'] as const)('%s: mirrored requests change nothing', (name) => {
  const side = () => sides.find((s) => s.name === name)!;

  it('POST /subscribers answers 201 as a create would, and stores nothing', async () => {
    const res = await post(
      side().url,
      '/subscribers',
      { email: `mirror-${name}@example.com`, name: 'M' },
      MIRROR,
    );
    expect(res.status).toBe(201);
    expect((await json<{ data: unknown }>(res)).data).toMatchObject({
      email: `mirror-${name}@example.com`,
      name: 'M',
    });
    expect(side().content.subscribers).toHaveLength(0);
  });

  it('POST /subscribers still validates and still finds duplicates', async () => {
    const bad = await post(side().url, '/subscribers', { email: 'not-an-email' }, MIRROR);
    expect(bad.status).toBe(422);
    const receivedAt = Date.now();
    const served = await post(side().url, '/subscribers', { email: `dup-${name}@example.com` });
    const servedBody = await served.json();
    // the mirror of the same request (received before the served write): the same answer
    const mirrored = await post(
      side().url,
      '/subscribers',
      { email: `dup-${name}@example.com` },
      { ...MIRROR, [HEADERS.shadowAt]: String(receivedAt) },
    );
    expect(mirrored.status).toBe(201);
    expect(await mirrored.json()).toEqual(servedBody);
    // a later request for the same email (a double submit): mirrored, it is the 409 the served one gets
    const later = await post(
      side().url,
      '/subscribers',
      { email: `dup-${name}@example.com` },
      { ...MIRROR, [HEADERS.shadowAt]: String(Date.now() + 1_000) },
    );
    expect(later.status).toBe(409);
    expect(side().content.subscribers).toHaveLength(1);
  });

  it('POST /auth/refresh answers like a rotation and leaves the family usable', async () => {
    const login = await post(side().url, '/auth/login', { username: 'demo', password: 'demo-password' });
    const { refreshToken } = await json<TokenPair>(login);
    const mirrored = await post(
      side().url,
      '/auth/refresh',
      { refreshToken },
      {
        ...MIRROR,
        [HEADERS.shadowAt]: String(Date.now()),
      },
    );
    expect(mirrored.status).toBe(200);
    const dry = await json<TokenPair>(mirrored);
    expect(dry).toMatchObject({ tokenType: 'Bearer', refreshToken: expect.any(String) });
    // its access token never works; its refresh token was never stored
    const me = await fetch(`${side().url}/me`, { headers: { authorization: `Bearer ${dry.accessToken}` } });
    expect(me.status).toBe(401);
    expect((await post(side().url, '/auth/refresh', { refreshToken: dry.refreshToken })).status).toBe(401);
    // the real token still rotates, and the rotated one after it (no reuse was recorded)
    const real = await post(side().url, '/auth/refresh', { refreshToken });
    expect(real.status).toBe(200);
    const next = await post(side().url, '/auth/refresh', {
      refreshToken: (await json<TokenPair>(real)).refreshToken,
    });
    expect(next.status).toBe(200);
  });

  it('POST /auth/login checks the password and starts no session; failures do not count against the limit', async () => {
    const wrong = await post(side().url, '/auth/login', { username: 'demo', password: 'nope' }, MIRROR);
    expect(wrong.status).toBe(401);
    const dry = await post(
      side().url,
      '/auth/login',
      { username: 'demo', password: 'demo-password' },
      MIRROR,
    );
    expect(dry.status).toBe(200);
    const tokens = await json<TokenPair>(dry);
    const me = await fetch(`${side().url}/me`, {
      headers: { authorization: `Bearer ${tokens.accessToken}` },
    });
    expect(me.status).toBe(401);
    expect((await post(side().url, '/auth/refresh', { refreshToken: tokens.refreshToken })).status).toBe(401);
    // many mirrored failures, then the client's own login still works
    for (let i = 0; i < 30; i++) {
      await post(side().url, '/auth/login', { username: 'demo', password: `nope-${i}` }, MIRROR);
    }
    expect(
      (await post(side().url, '/auth/login', { username: 'demo', password: 'demo-password' })).status,
    ).toBe(200);
  });

  it('a client cannot skip a write: without the gateway the marker is only honoured as "1"', async () => {
    const res = await post(
      side().url,
      '/subscribers',
      { email: `yes-${name}@example.com` },
      { [HEADERS.shadow]: 'true' },
    );
    expect(res.status).toBe(201);
    expect(side().content.subscribers.map((s) => s.email)).toContain(`yes-${name}@example.com`);
  });
});

describe.each(['legacy', 'modern'] as const)('%s: Idempotency-Key on POST /subscribers', (name) => {
  const side = () => sides.find((s) => s.name === name)!;

  it('the same key and body answer the same subscriber once; another body is 422', async () => {
    const key = { [HEADERS.idempotencyKey]: `key-${name}-1` };
    const first = await post(side().url, '/subscribers', { email: `idem-${name}@example.com` }, key);
    const again = await post(side().url, '/subscribers', { email: `idem-${name}@example.com` }, key);
    expect(first.status).toBe(201);
    expect(again.status).toBe(201);
    expect(await again.json()).toEqual(await first.json());
    const other = await post(side().url, '/subscribers', { email: `other-${name}@example.com` }, key);
    expect(other.status).toBe(422);
    expect((await json<ErrorEnvelope>(other)).error).toMatchObject({
      code: 'VALIDATION_FAILED',
      issues: [{ path: 'idempotency-key' }],
    });
  });
});

describe('both apps answer Idempotency-Key problems alike', () => {
  it.each([
    ['an empty key', ''],
    ['a key with a space', 'a b'],
    ['a key over 255 characters', 'k'.repeat(256)],
  ])('%s is the same 422', async (_label, value) => {
    const answers = await Promise.all(
      sides.map(async (s) => {
        const res = await post(
          s.url,
          '/subscribers',
          { email: 'k@example.com' },
          { [HEADERS.idempotencyKey]: value },
        );
        return { status: res.status, body: await res.json() };
      }),
    );
    expect(answers[0]!.status).toBe(422);
    expect(answers[1]).toEqual(answers[0]);
  });
});

describe('modern: mirrored webhook and event stream', () => {
  const modern = () => sides.find((s) => s.name === 'modern')!;
  const entryUpdate = JSON.stringify({
    event: 'entry.update',
    createdAt: '2026-01-01T00:00:00.000Z',
    model: 'article',
    uid: 'api::article.article',
    entry: { id: 7, documentId: 'doc-7', slug: 'strangler-fig-in-practice' },
  });

  it('a mirrored webhook is verified and answered with the tags it would drop, dropping none, publishing nothing', async () => {
    const received: unknown[] = [];
    const unsubscribe = events.subscribe((e) => received.push(e));
    try {
      const refused = await post(modern().url, '/webhooks/strapi', entryUpdate, MIRROR);
      expect(refused.status).toBe(401);
      const res = await post(modern().url, '/webhooks/strapi', entryUpdate, {
        ...MIRROR,
        [HEADERS.webhookSecret]: WEBHOOK_SECRET,
      });
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({
        data: { event: 'entry.update', invalidated: ['type:articles', 'doc:articles:doc-7'] },
      });
      expect(modern().content.invalidations).toEqual([]);
      expect(received).toEqual([]);
    } finally {
      unsubscribe();
    }
  });

  it('a mirrored signed delivery does not use it up: the served one is still accepted once', async () => {
    const timestamp = Math.floor(Date.now() / 1000);
    const signature = {
      [HEADERS.webhookSignature]: signWebhook(WEBHOOK_HMAC_SECRET, timestamp, entryUpdate),
      [HEADERS.webhookTimestamp]: String(timestamp),
    };
    expect(
      (await post(modern().url, '/webhooks/strapi', entryUpdate, { ...MIRROR, ...signature })).status,
    ).toBe(200);
    expect((await post(modern().url, '/webhooks/strapi', entryUpdate, signature)).status).toBe(200);
    expect(modern().content.invalidations).toHaveLength(1);
    expect((await post(modern().url, '/webhooks/strapi', entryUpdate, signature)).status).toBe(401);
  });

  it('a mirrored GET /events gets the head and the backlog, then the stream ends', async () => {
    await events.publish({ event: 'entry.update', model: 'article', documentId: 'd', slug: 's', at: 'now' });
    const res = await fetch(`${modern().url}/events`, { headers: { ...MIRROR, 'last-event-id': '0' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    // the body completes (a live stream never would)
    const text = await res.text();
    expect(text).toContain('event: content.changed');
    expect(events.listenerCount()).toBe(0);
  });
});
