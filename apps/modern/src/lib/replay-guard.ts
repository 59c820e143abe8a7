import type { Redis } from 'ioredis';

/**
 * Remembers webhook signatures for the replay window. `claim` is true the first time a
 * signature is seen and false for a replay. The memory guard protects one instance; the Redis
 * guard (SET NX EX) protects every instance behind a load balancer.
 */
export interface ReplayGuard {
  claim(signature: string, ttlSeconds: number): Promise<boolean>;
  size(): number;
}

export function createMemoryReplayGuard(now: () => number = Date.now): ReplayGuard {
  /** signature → epoch ms when it may be forgotten */
  const seen = new Map<string, number>();
  return {
    async claim(signature, ttlSeconds) {
      const nowMs = now();
      for (const [key, expiresAt] of seen) if (expiresAt <= nowMs) seen.delete(key);
      if (seen.has(signature)) return false;
      seen.set(signature, nowMs + ttlSeconds * 1000);
      return true;
    },
    size: () => seen.size,
  };
}

export function createRedisReplayGuard(redis: Redis, prefix = 'pilot:webhooks:seen:'): ReplayGuard {
  return {
    async claim(signature, ttlSeconds) {
      const ok = await redis.set(
        `${prefix}${signature}`,
        '1',
        'EX',
        Math.max(1, Math.ceil(ttlSeconds)),
        'NX',
      );
      return ok === 'OK';
    },
    size: () => Number.NaN,
  };
}
