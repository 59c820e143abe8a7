import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { InspectResult, RefreshStore, RotateResult } from './refresh-store.ts';

/**
 * Rotation as one Lua script, so two instances presenting the same token at the same moment
 * cannot both rotate it: Redis runs scripts atomically.
 * KEYS: old token, new token, family. ARGV: family id, ttl seconds, now (ms; kept as usedAt).
 * A rotated token is kept (marked used) until its own TTL ends, so a replay is recognised.
 */
const ROTATE_SCRIPT = `
local t = redis.call('HMGET', KEYS[1], 'user', 'family', 'used')
if not t[1] or t[2] ~= ARGV[1] then return {'invalid'} end
local fam = redis.call('GET', KEYS[3])
if not fam then return {'invalid'} end
if fam ~= 'active' then return {'revoked', t[1]} end
if t[3] == '1' then
  redis.call('SET', KEYS[3], 'revoked', 'KEEPTTL')
  return {'reused', t[1]}
end
redis.call('HSET', KEYS[1], 'used', '1', 'usedAt', ARGV[3])
redis.call('HSET', KEYS[2], 'user', t[1], 'family', ARGV[1], 'used', '0')
redis.call('EXPIRE', KEYS[2], ARGV[2])
redis.call('EXPIRE', KEYS[3], ARGV[2])
return {'ok', t[1]}
`;
const ROTATE_SHA = createHash('sha1').update(ROTATE_SCRIPT).digest('hex');

/**
 * Refresh tokens in Redis, shared by every instance. The caller owns the connection (it is
 * not closed here). Keys: `<prefix>rt:<token sha256>` (hash) and `<prefix>fam:<familyId>`.
 */
export function createRedisRefreshStore(redis: Redis, prefix = 'pilot:auth:'): RefreshStore {
  const tokenKey = (hash: string) => `${prefix}rt:${hash}`;
  const familyKey = (id: string) => `${prefix}fam:${id}`;

  async function runRotate(keys: string[], args: string[]): Promise<string[]> {
    try {
      return (await redis.evalsha(ROTATE_SHA, keys.length, ...keys, ...args)) as string[];
    } catch (error) {
      if (!String((error as Error).message).includes('NOSCRIPT')) throw error;
      return (await redis.eval(ROTATE_SCRIPT, keys.length, ...keys, ...args)) as string[];
    }
  }

  return {
    async issue(familyId, tokenHash, userId, ttlSeconds) {
      const results = await redis
        .multi()
        .set(familyKey(familyId), 'active', 'EX', ttlSeconds)
        .hset(tokenKey(tokenHash), 'user', userId, 'family', familyId, 'used', '0')
        .expire(tokenKey(tokenHash), ttlSeconds)
        .exec();
      const failed = results?.find(([error]) => error);
      if (!results || failed) throw failed?.[0] ?? new Error('Redis transaction was aborted');
    },
    async rotate(familyId, oldHash, newHash, ttlSeconds): Promise<RotateResult> {
      const [status, userId] = await runRotate(
        [tokenKey(oldHash), tokenKey(newHash), familyKey(familyId)],
        [familyId, String(ttlSeconds), String(Date.now())],
      );
      if (status === 'ok' || status === 'revoked' || status === 'reused') {
        return { status, userId: userId ?? '' };
      }
      return { status: 'invalid' };
    },
    async inspect(familyId, tokenHash): Promise<InspectResult> {
      // two reads, no script: a dry run needs no atomicity, only no writes
      const [token, family] = await Promise.all([
        redis.hmget(tokenKey(tokenHash), 'user', 'family', 'used', 'usedAt'),
        redis.get(familyKey(familyId)),
      ]);
      const [userId, tokenFamily, used, usedAt] = token;
      if (!userId || tokenFamily !== familyId || !family) return { status: 'invalid' };
      if (family !== 'active') return { status: 'revoked', userId };
      if (used === '1') return { status: 'used', userId, usedAt: Number(usedAt ?? 0) || 0 };
      return { status: 'ok', userId };
    },
    async close() {},
  };
}
