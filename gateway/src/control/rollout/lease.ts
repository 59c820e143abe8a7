import type { Redis } from 'ioredis';
import type { Logger } from 'pino';

/**
 * Who drives the rollouts: exactly one gateway instance, the holder of a lease in Redis.
 *
 * - Acquire: when the lease key is absent, INCR the fence counter and SET the key to
 *   `<instance>|<token>` with PX ttl, atomically (one script). Tokens only ever grow.
 * - Renew every ttl/4 (compare-and-PEXPIRE); a missed renewal for a whole ttl steps down locally.
 * - Every state write of the leader is a script that checks both the lease value and that the
 *   fence counter still equals its token (store.ts), so a leader that was paused or partitioned
 *   past its lease can never apply a decision: a newer leader has taken a larger token.
 * - Release on shutdown (compare-and-DEL) so a successor need not wait a whole ttl.
 *
 * Without Redis the single instance leads (LocalLease) with token 1.
 */
export interface Fence {
  /** `<instance>|<token>`: the lease value this leader holds. */
  value: string;
  token: number;
}

export interface Lease {
  readonly kind: 'redis' | 'local';
  /** The fence of this instance while it leads, else null. */
  current(): Fence | null;
  start(): Promise<void>;
  /** Stops renewing; `release` (default) hands the lease back at once. */
  stop(release?: boolean): Promise<void>;
  /** Called on every change of leadership (true: this instance leads now). */
  onChange(fn: (leading: boolean, fence: Fence | null) => void): void;
}

export class LocalLease implements Lease {
  readonly kind = 'local' as const;
  private readonly fence: Fence;
  private running = false;
  private listeners: Array<(leading: boolean, fence: Fence | null) => void> = [];

  constructor(instance: string) {
    this.fence = { value: `${instance}|1`, token: 1 };
  }

  current(): Fence | null {
    return this.running ? this.fence : null;
  }

  async start(): Promise<void> {
    this.running = true;
    for (const l of this.listeners) l(true, this.fence);
  }

  async stop(): Promise<void> {
    this.running = false;
    for (const l of this.listeners) l(false, null);
  }

  onChange(fn: (leading: boolean, fence: Fence | null) => void): void {
    this.listeners.push(fn);
  }
}

const ACQUIRE = `
if redis.call('exists', KEYS[1]) == 1 then return 0 end
local token = redis.call('incr', KEYS[2])
redis.call('set', KEYS[1], ARGV[1] .. '|' .. token, 'PX', ARGV[2])
return token`;

const RENEW = `
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end
return 0`;

const RELEASE = `
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0`;

export interface RedisLeaseOptions {
  redis: Redis;
  prefix: string;
  instance: string;
  ttlMs?: number;
  logger: Logger;
  now?: () => number;
}

export function leaseKeys(prefix: string) {
  return { lease: `${prefix}rollout:lease`, fence: `${prefix}rollout:fence` };
}

export class RedisLease implements Lease {
  readonly kind = 'redis' as const;
  readonly ttlMs: number;
  private readonly redis: Redis;
  private readonly keys: { lease: string; fence: string };
  private readonly instance: string;
  private readonly logger: Logger;
  private readonly now: () => number;
  private fence: Fence | null = null;
  private lastRenewed = 0;
  private timer: NodeJS.Timeout | null = null;
  private round: Promise<void> = Promise.resolve();
  private listeners: Array<(leading: boolean, fence: Fence | null) => void> = [];

  constructor(options: RedisLeaseOptions) {
    this.redis = options.redis;
    this.keys = leaseKeys(options.prefix);
    this.instance = options.instance;
    this.ttlMs = options.ttlMs ?? 10_000;
    this.logger = options.logger;
    this.now = options.now ?? Date.now;
  }

  current(): Fence | null {
    // Not renewed for a whole ttl: someone else may hold it by now. Fencing makes a write from
    // here fail anyway; stepping down locally keeps us from even trying.
    if (this.fence && this.now() - this.lastRenewed >= this.ttlMs) this.setFence(null);
    return this.fence;
  }

  onChange(fn: (leading: boolean, fence: Fence | null) => void): void {
    this.listeners.push(fn);
  }

  private setFence(fence: Fence | null): void {
    const was = this.fence;
    this.fence = fence;
    if ((was === null) !== (fence === null) || (was && fence && was.token !== fence.token)) {
      this.logger.info(
        { leading: fence !== null, token: fence?.token },
        fence ? 'rollout leader' : 'rollout follower',
      );
      for (const l of this.listeners) l(fence !== null, fence);
    }
  }

  /** One acquire-or-renew round (the timer calls it every ttl/3; tests call it directly). */
  tick(): Promise<void> {
    this.round = this.round.then(async () => {
      try {
        const started = this.now();
        if (this.fence) {
          const ok = await this.redis.eval(RENEW, 1, this.keys.lease, this.fence.value, this.ttlMs);
          if (ok === 1) this.lastRenewed = started;
          else this.setFence(null);
          return;
        }
        const token = Number(
          await this.redis.eval(ACQUIRE, 2, this.keys.lease, this.keys.fence, this.instance, this.ttlMs),
        );
        if (token > 0) {
          this.lastRenewed = started;
          this.setFence({ value: `${this.instance}|${token}`, token });
        }
      } catch (error) {
        this.logger.warn({ err: (error as Error).message }, 'rollout lease: redis unavailable');
        this.current();
      }
    });
    return this.round;
  }

  async start(): Promise<void> {
    await this.tick();
    // renew at a quarter of the ttl; a follower tries as often, so it takes over within ttl + ttl/4
    this.timer = setInterval(() => void this.tick(), Math.max(50, Math.floor(this.ttlMs / 4)));
    this.timer.unref();
  }

  async stop(release = true): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.round;
    const fence = this.fence;
    if (release && fence) {
      try {
        await this.redis.eval(RELEASE, 1, this.keys.lease, fence.value);
      } catch (error) {
        this.logger.warn({ err: (error as Error).message }, 'rollout lease: release failed');
      }
    }
    this.setFence(null);
  }
}
