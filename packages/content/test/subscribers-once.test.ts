import { ApiError } from '@pilot/contracts';
import { type TestRedis, useTestRedis } from '@pilot/test-kit';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createMemoryContent,
  createMemoryIdempotencyStore,
  createRedisIdempotencyStore,
  type IdempotencyStore,
  parseIdempotencyKey,
} from '../src/index.ts';

/** Idempotency-Key and dry-run semantics, on the in-memory repository and a real Redis store. */
const failure = (p: Promise<unknown>) =>
  p.then(
    () => {
      throw new Error('expected a failure');
    },
    (e: unknown) => e as ApiError,
  );

let redis: TestRedis;
beforeAll(async () => {
  redis = await useTestRedis('content-idem');
});
afterAll(async () => {
  await redis?.cleanup();
});

const stores: Array<[string, () => IdempotencyStore]> = [
  ['memory', () => createMemoryIdempotencyStore()],
  ['redis', () => createRedisIdempotencyStore(redis.client, `${redis.prefix}idem:${Math.random()}:`)],
];

describe.each(stores)('Idempotency-Key (%s store)', (_name, makeStore) => {
  it('the same key and body answer the same subscriber, created once', async () => {
    const content = createMemoryContent({ idempotency: makeStore() });
    const a = await content.createSubscriber(
      { email: 'Ann@Example.com', name: 'Ann' },
      { idempotencyKey: 'k1' },
    );
    const b = await content.createSubscriber(
      { email: 'ann@example.com', name: 'Ann' },
      { idempotencyKey: 'k1' },
    );
    expect(b).toEqual(a);
    expect(content.subscribers).toHaveLength(1);
  });

  it('the same key with another body is a 422 naming the header', async () => {
    const content = createMemoryContent({ idempotency: makeStore() });
    await content.createSubscriber({ email: 'bob@example.com' }, { idempotencyKey: 'k2' });
    const e = await failure(content.createSubscriber({ email: 'eve@example.com' }, { idempotencyKey: 'k2' }));
    expect(e).toMatchObject({ code: 'VALIDATION_FAILED', status: 422 });
    expect(e.body.error.issues).toEqual([{ path: 'idempotency-key', message: expect.any(String) }]);
    expect(content.subscribers).toHaveLength(1);
  });

  it('a decided failure (duplicate email) is replayed for the same key', async () => {
    const content = createMemoryContent({ idempotency: makeStore() });
    await content.createSubscriber({ email: 'dup@example.com' });
    for (let i = 0; i < 2; i++) {
      expect(
        await failure(content.createSubscriber({ email: 'dup@example.com' }, { idempotencyKey: 'k3' })),
      ).toMatchObject({ code: 'CONFLICT' });
    }
  });

  it('a second request while the first runs is a 409 in progress, not a second create', async () => {
    const content = createMemoryContent({ idempotency: makeStore(), delayMs: 50 });
    const [first, second] = await Promise.allSettled([
      content.createSubscriber({ email: 'slow@example.com' }, { idempotencyKey: 'k4' }),
      new Promise((r) => setTimeout(r, 10)).then(() =>
        content.createSubscriber({ email: 'slow@example.com' }, { idempotencyKey: 'k4' }),
      ),
    ]);
    expect(first.status).toBe('fulfilled');
    expect(second.status === 'rejected' && (second.reason as ApiError).body.error).toMatchObject({
      status: 409,
      details: { reason: 'IDEMPOTENCY_KEY_IN_PROGRESS' },
    });
    expect(content.subscribers).toHaveLength(1);
  });
});

describe('Idempotency-Key shared by instances (real Redis)', () => {
  it('a retry that reaches another instance gets the first answer', async () => {
    const prefix = `${redis.prefix}idem-shared:`;
    const one = createMemoryContent({ idempotency: createRedisIdempotencyStore(redis.client, prefix) });
    const two = createMemoryContent({ idempotency: createRedisIdempotencyStore(redis.client, prefix) });
    const a = await one.createSubscriber({ email: 'shared@example.com' }, { idempotencyKey: 'retry-1' });
    expect(
      await two.createSubscriber({ email: 'shared@example.com' }, { idempotencyKey: 'retry-1' }),
    ).toEqual(a);
    expect(two.subscribers).toHaveLength(0);
    // stored for 24 h, under a hash of the key
    const keys = await redis.client.keys(`${prefix}*`);
    expect(keys).toHaveLength(1);
    expect(keys[0]).not.toContain('retry-1');
    expect(await redis.client.pttl(keys[0]!)).toBeGreaterThan(23 * 3600 * 1000);
  });
});

describe('parseIdempotencyKey', () => {
  it('accepts 1..255 visible ASCII characters and refuses anything else with a 422', () => {
    expect(parseIdempotencyKey(undefined)).toBeUndefined();
    expect(parseIdempotencyKey('0f3c-uuid-like')).toBe('0f3c-uuid-like');
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (value) => {
        const ok = /^[\x21-\x7e]{1,255}$/.test(value);
        if (ok) expect(parseIdempotencyKey(value)).toBe(value);
        else expect(() => parseIdempotencyKey(value)).toThrow(ApiError);
      }),
    );
  });
});

describe('dry run (a mirrored create)', () => {
  it('validates and answers as created, storing nothing', async () => {
    const content = createMemoryContent();
    const dry = await content.createSubscriber({ email: 'mirror@example.com', name: 'M' }, { dryRun: true });
    expect(dry).toMatchObject({ email: 'mirror@example.com', name: 'M', id: expect.any(String) });
    expect(content.subscribers).toHaveLength(0);
  });

  it("answers the served backend's write of the same request as created, with its id", async () => {
    const content = createMemoryContent();
    // the gateway received the request, then the served backend stored it, then the mirror asks
    const requestedAt = Date.now();
    const served = await content.createSubscriber({ email: 'pair@example.com' });
    expect(
      await content.createSubscriber({ email: 'pair@example.com' }, { dryRun: true, requestedAt }),
    ).toEqual(served);
  });

  it('a subscriber stored before the request is a duplicate, as for a real create (a double submit too)', async () => {
    const content = createMemoryContent({ clockSkewMs: 0 });
    await content.createSubscriber({ email: 'old@example.com' });
    const requestedAt = Date.now() + 1;
    expect(
      await failure(content.createSubscriber({ email: 'old@example.com' }, { dryRun: true, requestedAt })),
    ).toMatchObject({ code: 'CONFLICT' });
    // without the gateway's time, any existing entry is a duplicate
    expect(
      await failure(content.createSubscriber({ email: 'old@example.com' }, { dryRun: true })),
    ).toMatchObject({
      code: 'CONFLICT',
    });
  });

  it('never claims an Idempotency-Key (the served request must not find it taken)', async () => {
    const content = createMemoryContent();
    await content.createSubscriber({ email: 'key@example.com' }, { dryRun: true, idempotencyKey: 'k9' });
    const real = await content.createSubscriber({ email: 'key@example.com' }, { idempotencyKey: 'k9' });
    expect(content.subscribers).toEqual([real]);
    // and a mirror of a retry replays what the key stored
    expect(
      await content.createSubscriber({ email: 'key@example.com' }, { dryRun: true, idempotencyKey: 'k9' }),
    ).toEqual(real);
  });
});
