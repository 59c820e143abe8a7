import { setTimeout as sleep } from 'node:timers/promises';
import { type TestRedis, useTestRedis } from '@pilot/test-kit';
import { Redis } from 'ioredis';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initialState, type RolloutState } from '../../src/control/rollout/engine.ts';
import { RedisLease } from '../../src/control/rollout/lease.ts';
import { rolloutSchema } from '../../src/control/rollout/schema.ts';
import { mergeOverride, RedisRolloutStore } from '../../src/control/rollout/store.ts';

const silent = pino({ level: 'silent' });
const config = rolloutSchema.parse({ steps: [10, 50, 100], interval: '1s' });

function next(state: RolloutState): RolloutState {
  return { ...state, version: state.version + 1, updatedAt: state.updatedAt + 1 };
}

async function until(what: () => boolean | Promise<boolean>, tick: () => Promise<unknown>, maxMs = 10_000) {
  const end = Date.now() + maxMs;
  while (!(await what())) {
    if (Date.now() > end) throw new Error('condition not reached');
    await tick();
    await sleep(20);
  }
}

describe('rollout lease and fenced state writes (real Redis)', () => {
  let redis: TestRedis;
  const clients: Redis[] = [];
  const stores: RedisRolloutStore[] = [];

  const contender = (instance: string, prefix: string, ttlMs = 400) => {
    const client = new Redis(redis.url, { maxRetriesPerRequest: 1 });
    clients.push(client);
    return new RedisLease({ redis: client, prefix, instance, ttlMs, logger: silent });
  };
  const store = (instance: string, prefix: string) => {
    const s = new RedisRolloutStore(redis.url, prefix, instance, silent);
    stores.push(s);
    return s;
  };

  beforeAll(async () => {
    redis = await useTestRedis('rollout-lease');
  });
  afterAll(async () => {
    for (const s of stores) await s.close();
    for (const c of clients) c.disconnect();
    await redis.cleanup();
  });

  it('of two contenders exactly one leads; the other takes over when the leader stops renewing', async () => {
    const prefix = `${redis.prefix}a:`;
    // a generous ttl: a stalled test machine must not expire A's lease while it renews
    const a = contender('gw-a', prefix, 1500);
    const b = contender('gw-b', prefix, 1500);
    await a.tick();
    await b.tick();
    expect(a.current()?.token).toBe(1);
    expect(b.current()).toBeNull();
    // while A renews, B never gets it
    for (let i = 0; i < 10; i++) {
      await a.tick();
      await b.tick();
      await sleep(60);
    }
    expect(b.current()).toBeNull();
    expect(a.current()?.token).toBe(1);
    // A is frozen (no renewals, no release): B takes over once the lease expires, with a larger token
    await until(
      () => b.current() !== null,
      () => b.tick(),
    );
    expect(b.current()!.token).toBe(2);
    expect(a.current()).toBeNull();
    // A comes back: its renewal fails and it stays a follower
    await a.tick();
    expect(a.current()).toBeNull();
  });

  it('a released lease is taken at once, and tokens only grow', async () => {
    const prefix = `${redis.prefix}b:`;
    const a = contender('gw-a', prefix, 60_000);
    const b = contender('gw-b', prefix, 60_000);
    await a.tick();
    expect(a.current()?.token).toBe(1);
    await a.stop(true);
    await b.tick();
    expect(b.current()?.token).toBe(2);
    await b.stop(true);
    await a.tick();
    expect(a.current()?.token).toBe(3);
    await a.stop(true);
  });

  it('fencing refuses a stale leader write, whole: neither the state nor the override changes', async () => {
    const prefix = `${redis.prefix}c:`;
    const a = contender('gw-a', prefix, 300);
    const b = contender('gw-b', prefix, 300);
    const sa = store('gw-a', prefix);
    const sb = store('gw-b', prefix);
    await a.tick();
    const staleFence = a.current()!;
    const s1 = initialState('subscribers', config, 1000).state;
    expect(
      await sa.commit({
        state: s1,
        expectedVersion: 0,
        fence: staleFence,
        change: { weights: { legacy: 90, modern: 10 } },
        by: 'rollout',
      }),
    ).toBe('ok');
    // A is paused past its lease; B leads with a newer token
    await until(
      () => b.current() !== null,
      () => b.tick(),
    );
    const s2 = next(s1);
    // A wakes up and applies the decision it took before the pause
    expect(
      await sa.commit({
        state: { ...s2, step: 1 },
        expectedVersion: s1.version,
        fence: staleFence,
        change: { weights: { legacy: 50, modern: 50 } },
        by: 'rollout',
      }),
    ).toBe('fenced');
    expect((await sb.load('subscribers'))!.version).toBe(s1.version);
    const override = JSON.parse((await redis.client.hget(`${prefix}overrides`, 'subscribers'))!);
    expect(override.weights).toEqual({ legacy: 90, modern: 10 });
    // the new leader's write goes through
    expect(
      await sb.commit({
        state: s2,
        expectedVersion: s1.version,
        fence: b.current(),
        change: { weights: { legacy: 75, modern: 25 } },
        by: 'rollout',
      }),
    ).toBe('ok');
    expect((await sa.load('subscribers'))!.version).toBe(s2.version);
  });

  it('a person’s command is a compare-and-set on the version: a stale read is refused', async () => {
    const prefix = `${redis.prefix}d:`;
    const s = store('gw-a', prefix);
    const s1 = initialState('subscribers', config, 1000).state;
    expect(await s.commit({ state: s1, expectedVersion: 0, fence: null, by: 'alice' })).toBe('ok');
    expect(await s.commit({ state: next(s1), expectedVersion: 0, fence: null, by: 'bob' })).toBe('stale');
    expect(await s.commit({ state: next(s1), expectedVersion: s1.version, fence: null, by: 'bob' })).toBe(
      'ok',
    );
  });

  it('a decision reaches every instance on the override channel they already follow', async () => {
    const prefix = `${redis.prefix}e:`;
    const s = store('gw-a', prefix);
    // an admin paused the shadow earlier: the rollout's weights do not undo that
    await redis.client.hset(
      `${prefix}overrides`,
      'subscribers',
      JSON.stringify({ shadowPaused: true, by: 'alice', at: 'x' }),
    );
    const listener = new Redis(redis.url);
    clients.push(listener);
    const got: string[] = [];
    listener.on('message', (_ch, msg) => got.push(msg));
    await listener.subscribe(`${prefix}changes`);
    const s1 = initialState('subscribers', config, 1000).state;
    expect(
      await s.commit({
        state: s1,
        expectedVersion: 0,
        fence: null,
        change: { weights: { legacy: 90, modern: 10 }, fallback: 'legacy' },
        by: 'rollout',
      }),
    ).toBe('ok');
    await until(
      () => got.length > 0,
      async () => {},
    );
    expect(JSON.parse(got[0]!)).toEqual({ from: 'gw-a', route: 'subscribers' });
    const stored = JSON.parse((await redis.client.hget(`${prefix}overrides`, 'subscribers'))!);
    expect(stored).toMatchObject({ shadowPaused: true, weights: { legacy: 90, modern: 10 }, by: 'rollout' });
    // key order is the split order: the old backend first, so raises move only old-backend users
    expect(Object.keys(stored.weights)).toEqual(['legacy', 'modern']);
    expect(stored.fallback).toBe('legacy');
  });

  it('mergeOverride keeps other fields and drops the fallback on request', () => {
    const merged = mergeOverride(
      { weights: { a: 1 }, shadowPaused: true, by: 'x', at: 'y', fallback: 'legacy' } as never,
      { weights: { legacy: 100, modern: 0 }, shadowPaused: true, fallback: null },
      'rollout',
      'now',
    );
    expect(merged).toEqual({
      weights: { legacy: 100, modern: 0 },
      shadowPaused: true,
      by: 'rollout',
      at: 'now',
    });
  });
});
