import { errorBody, HEADERS, LIMITS } from '@pilot/contracts';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { useTestRedis } from '@pilot/test-kit';
import {
  createApp,
  createMemoryEventsHub,
  createMemoryReplayGuard,
  createRedisReplayGuard,
  createWebhookVerifier,
  signWebhook,
} from '../src/index.ts';
import { type TestDeps, testDeps, WEBHOOK_HMAC_SECRET, WEBHOOK_SECRET } from './helpers.ts';

const entryUpdate = {
  event: 'entry.update',
  createdAt: '2026-01-01T00:00:00.000Z',
  model: 'article',
  uid: 'api::article.article',
  entry: { id: 7, documentId: 'doc-7', slug: 'strangler-fig-in-practice', title: 'x' },
};

let apps: FastifyInstance[] = [];
afterEach(async () => {
  await Promise.all(apps.map((a) => a.close()));
  apps = [];
});

function build(env: Record<string, string | undefined> = {}) {
  const events = createMemoryEventsHub();
  const deps: TestDeps = testDeps({ env, events });
  const app = createApp(deps);
  apps.push(app);
  const received: unknown[] = [];
  events.subscribe((e) => received.push(e));
  const post = (body: unknown, headers: Record<string, string> = {}) =>
    app.inject({
      method: 'POST',
      url: '/webhooks/strapi',
      headers: { 'content-type': 'application/json', ...headers },
      payload: typeof body === 'string' ? body : JSON.stringify(body),
    });
  return { app, deps, post, received };
}

const nowSeconds = () => Math.floor(Date.now() / 1000);
function signed(body: string, timestamp = nowSeconds(), secret = WEBHOOK_HMAC_SECRET) {
  return {
    [HEADERS.webhookSignature]: signWebhook(secret, timestamp, body),
    [HEADERS.webhookTimestamp]: String(timestamp),
  };
}

describe('POST /webhooks/strapi', () => {
  it('shared secret: 200, drops exactly the tags of the changed entry, publishes content.changed', async () => {
    const { post, deps, received } = build();
    const res = await post(entryUpdate, { [HEADERS.webhookSecret]: WEBHOOK_SECRET });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      data: { event: 'entry.update', invalidated: ['type:articles', 'doc:articles:doc-7'] },
    });
    expect(deps.content.invalidations).toEqual([['type:articles', 'doc:articles:doc-7']]);
    expect(received).toEqual([
      {
        id: expect.stringMatching(/^\d+$/),
        event: 'entry.update',
        model: 'article',
        documentId: 'doc-7',
        slug: 'strangler-fig-in-practice',
        at: expect.any(String),
      },
    ]);
  });

  it.each(['entry.create', 'entry.delete', 'entry.publish', 'entry.unpublish'])(
    '%s invalidates too',
    async (event) => {
      const { post, deps } = build();
      const res = await post({ ...entryUpdate, event }, { [HEADERS.webhookSecret]: WEBHOOK_SECRET });
      expect(res.statusCode).toBe(200);
      expect(deps.content.invalidations).toHaveLength(1);
    },
  );

  it('other events (media.*) are acknowledged and invalidate nothing', async () => {
    const { post, deps, received } = build();
    const res = await post({ event: 'media.create', media: {} }, { [HEADERS.webhookSecret]: WEBHOOK_SECRET });
    expect(res.json()).toEqual({ data: { event: 'media.create', invalidated: [] } });
    expect(deps.content.invalidations).toEqual([]);
    expect(received).toEqual([]);
  });

  it('HMAC signature (hex, with or without sha256=) over "<timestamp>.<raw body>": 200', async () => {
    const { post, deps } = build();
    const body = JSON.stringify(entryUpdate);
    expect((await post(body, signed(body))).statusCode).toBe(200);
    const other = JSON.stringify({ ...entryUpdate, event: 'entry.publish' });
    const headers = signed(other);
    headers[HEADERS.webhookSignature] = (headers[HEADERS.webhookSignature] as string).slice('sha256='.length);
    expect((await post(other, headers)).statusCode).toBe(200);
    expect(deps.content.invalidations).toHaveLength(2);
  });

  describe('refuses, and invalidates nothing', () => {
    const body = JSON.stringify(entryUpdate);
    const cases: Array<[string, () => Record<string, string>, number, string]> = [
      ['no credentials', () => ({}), 401, 'UNAUTHORIZED'],
      [
        'a wrong secret',
        () => ({ [HEADERS.webhookSecret]: 'wrong-secret-of-some-length' }),
        401,
        'UNAUTHORIZED',
      ],
      ['a secret of another length', () => ({ [HEADERS.webhookSecret]: 'x' }), 401, 'UNAUTHORIZED'],
      [
        'a signature by another key',
        () => signed(body, nowSeconds(), 'another-hmac-secret-0123456789'),
        401,
        'UNAUTHORIZED',
      ],
      [
        'a signature of another body',
        () => signed(JSON.stringify({ ...entryUpdate, event: 'entry.delete' })),
        401,
        'UNAUTHORIZED',
      ],
      [
        'a timestamp outside the replay window',
        () => signed(body, nowSeconds() - LIMITS.webhookReplayWindowSeconds - 5),
        401,
        'UNAUTHORIZED',
      ],
      [
        'a timestamp in the future beyond the window',
        () => signed(body, nowSeconds() + LIMITS.webhookReplayWindowSeconds + 5),
        401,
        'UNAUTHORIZED',
      ],
      [
        'a malformed signature',
        () => ({ [HEADERS.webhookSignature]: 'sha256=zz', [HEADERS.webhookTimestamp]: String(nowSeconds()) }),
        400,
        'BAD_REQUEST',
      ],
      [
        'a signature without timestamp',
        () => ({ [HEADERS.webhookSignature]: signWebhook(WEBHOOK_HMAC_SECRET, nowSeconds(), body) }),
        400,
        'BAD_REQUEST',
      ],
      [
        'a valid secret but a bad signature',
        () => ({
          [HEADERS.webhookSecret]: WEBHOOK_SECRET,
          ...signed(body, nowSeconds(), 'another-hmac-secret-0123456789'),
        }),
        401,
        'UNAUTHORIZED',
      ],
    ];
    it.each(cases)('%s → %i', async (_name, headers, status, code) => {
      const { post, deps, received } = build();
      const res = await post(body, headers());
      expect(res.statusCode).toBe(status);
      expect(res.headers['content-type']).toBe(HEADERS.contentType);
      expect(res.json().error).toMatchObject({ status, code });
      expect(deps.content.invalidations).toEqual([]);
      expect(received).toEqual([]);
    });

    it('a replayed signed delivery → 401 (the first one counted once)', async () => {
      const { post, deps } = build();
      const headers = signed(body);
      expect((await post(body, headers)).statusCode).toBe(200);
      const replay = await post(body, headers);
      expect(replay.statusCode).toBe(401);
      expect(deps.content.invalidations).toHaveLength(1);
    });

    it('oversized body → 413, even with valid credentials', async () => {
      const { post, deps } = build();
      const big = JSON.stringify({ ...entryUpdate, padding: 'x'.repeat(LIMITS.webhookBodyLimitBytes) });
      const res = await post(big, { [HEADERS.webhookSecret]: WEBHOOK_SECRET });
      expect(res.statusCode).toBe(413);
      expect(res.json()).toEqual(errorBody('PAYLOAD_TOO_LARGE'));
      expect(deps.content.invalidations).toEqual([]);
    });

    it('a body between the API limit and the webhook limit is accepted (Strapi payloads are big)', async () => {
      const { post } = build();
      const big = JSON.stringify({ ...entryUpdate, padding: 'x'.repeat(LIMITS.bodyLimitBytes * 2) });
      expect((await post(big, { [HEADERS.webhookSecret]: WEBHOOK_SECRET })).statusCode).toBe(200);
    });

    it('malformed JSON → 400 and an invalid payload → 422, only after the sender is verified', async () => {
      const { post, deps } = build();
      const auth = { [HEADERS.webhookSecret]: WEBHOOK_SECRET };
      expect((await post('{"event":', auth)).json()).toEqual(errorBody('MALFORMED_JSON'));
      expect((await post('{"event":', {})).statusCode).toBe(401);
      const invalid = await post({ event: '' }, auth);
      expect(invalid.statusCode).toBe(422);
      expect(invalid.json().error.message).toBe('Invalid request body.');
      expect((await post('event=x', { ...auth, 'content-type': 'text/plain' })).statusCode).toBe(415);
      expect(deps.content.invalidations).toEqual([]);
    });

    it('with neither WEBHOOK_SECRET nor WEBHOOK_HMAC_SECRET configured, refuses everything (fail closed)', async () => {
      const { post, deps } = build({ WEBHOOK_SECRET: undefined, WEBHOOK_HMAC_SECRET: undefined });
      const attempts: Array<Record<string, string>> = [
        {},
        { [HEADERS.webhookSecret]: WEBHOOK_SECRET },
        signed(body),
      ];
      for (const headers of attempts) {
        const res = await post(body, headers);
        expect(res.statusCode).toBe(401);
      }
      expect(deps.content.invalidations).toEqual([]);
    });

    it('with only the HMAC key configured, a shared-secret header alone is refused', async () => {
      const { post } = build({ WEBHOOK_SECRET: undefined });
      expect((await post(body, { [HEADERS.webhookSecret]: WEBHOOK_SECRET })).statusCode).toBe(401);
      expect((await post(body, signed(body))).statusCode).toBe(200);
    });
  });
});

describe('webhook verifier and replay guards', () => {
  const body = Buffer.from('{}');
  const signedAt = (ts: number) => ({
    [HEADERS.webhookSignature]: signWebhook(WEBHOOK_HMAC_SECRET, ts, body),
    [HEADERS.webhookTimestamp]: String(ts),
  });

  it('the memory guard forgets signatures once their window has passed (bounded memory)', async () => {
    let now = 1_700_000_000_000;
    const guard = createMemoryReplayGuard(() => now);
    const verifier = createWebhookVerifier({
      hmacSecret: WEBHOOK_HMAC_SECRET,
      now: () => now,
      replayGuard: guard,
    });
    for (let i = 0; i < 5; i++) {
      await verifier.verify(signedAt(Math.floor(now / 1000)), body);
      now += 1000;
    }
    expect(guard.size()).toBe(5);
    now += (LIMITS.webhookReplayWindowSeconds + 10) * 1000;
    await verifier.verify(signedAt(Math.floor(now / 1000)), body);
    expect(guard.size()).toBe(1);
  });

  it('a signature refused for another reason (wrong secret alongside) is not used up', async () => {
    const guard = createMemoryReplayGuard();
    const verifier = createWebhookVerifier({
      secret: WEBHOOK_SECRET,
      hmacSecret: WEBHOOK_HMAC_SECRET,
      replayGuard: guard,
    });
    const headers = signedAt(Math.floor(Date.now() / 1000));
    await expect(
      verifier.verify({ ...headers, [HEADERS.webhookSecret]: 'wrong-secret-0123456789' }, body),
    ).rejects.toThrow();
    await expect(verifier.verify(headers, body)).resolves.toBe('signature');
  });

  it('apps given a shared Redis guard refuse a delivery replayed from one app to the other (real Redis)', async () => {
    const redis = await useTestRedis('modern-replay-apps');
    const [a, b] = [0, 1].map(() =>
      createApp(testDeps({ replayGuard: createRedisReplayGuard(redis.client, redis.prefix) })),
    ) as [FastifyInstance, FastifyInstance];
    try {
      const payload = JSON.stringify(entryUpdate);
      const headers = { 'content-type': 'application/json', ...signed(payload) };
      const first = await a.inject({ method: 'POST', url: '/webhooks/strapi', headers, payload });
      expect(first.statusCode).toBe(200);
      const replay = await b.inject({ method: 'POST', url: '/webhooks/strapi', headers, payload });
      expect(replay.statusCode).toBe(401);
    } finally {
      await Promise.all([a.close(), b.close()]);
      await redis.cleanup();
    }
  });

  it('with the Redis guard a delivery replayed to ANOTHER instance is refused (real Redis)', async () => {
    const redis = await useTestRedis('modern-replay');
    try {
      const instance = () =>
        createWebhookVerifier({
          hmacSecret: WEBHOOK_HMAC_SECRET,
          replayGuard: createRedisReplayGuard(redis.client, redis.prefix),
        });
      const headers = signedAt(Math.floor(Date.now() / 1000));
      await expect(instance().verify(headers, body)).resolves.toBe('signature');
      await expect(instance().verify(headers, body)).rejects.toMatchObject({ status: 401 });
      const ttl = await redis.client.ttl(
        `${redis.prefix}${headers[HEADERS.webhookSignature].slice('sha256='.length)}`,
      );
      expect(ttl).toBeGreaterThan(LIMITS.webhookReplayWindowSeconds - 5);
      expect(ttl).toBeLessThanOrEqual(LIMITS.webhookReplayWindowSeconds + 1);
    } finally {
      await redis.cleanup();
    }
  });
});
