import { afterAll, describe, expect, it } from 'vitest';
import { deleteByPrefix, useTestRedis } from '../src/redis.ts';

describe('useTestRedis (real Redis)', () => {
  it('gives each caller its own prefix and cleans only its own keys', async () => {
    const a = await useTestRedis('a');
    const b = await useTestRedis('a');
    afterAll(() => b.cleanup());
    expect(a.prefix).not.toBe(b.prefix);
    await a.client.set(`${a.prefix}k1`, '1');
    await b.client.set(`${b.prefix}k1`, '2');
    await a.cleanup();
    expect(await b.client.get(`${b.prefix}k1`)).toBe('2');
    expect(await b.client.exists(`${a.prefix}k1`)).toBe(0);
  });

  it('deleteByPrefix counts what it removed', async () => {
    const r = await useTestRedis('count');
    try {
      await r.client.mset(`${r.prefix}x`, '1', `${r.prefix}y`, '2');
      expect(await deleteByPrefix(r.client, r.prefix)).toBe(2);
    } finally {
      await r.cleanup();
    }
  });
});
