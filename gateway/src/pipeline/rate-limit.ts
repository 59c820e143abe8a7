import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  addressKey,
  type RateLimitCount,
  type RateLimitPolicy,
  rateLimitHeader,
  rateLimitPolicyHeader,
  secondsLeft,
} from '@pilot/contracts';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { Counter, Gauge, type Registry } from 'prom-client';
import {
  type RateLimiterAbstract,
  RateLimiterMemory,
  RateLimiterRedis,
  RateLimiterRes,
} from 'rate-limiter-flexible';
import type { LimitKeySource, LimitPolicy } from '../config/limits.ts';
import { drainBounded, MAX_DRAIN_BYTES, sendError } from '../errors.ts';
import type { CompiledRoute, Table } from '../table.ts';
import { jwtSubject } from './choose.ts';
import { clientAddress } from './client-address.ts';

/**
 * The rate-limit step: after match, before choose. A route's policies (its `limits`, else
 * `settings.limits`) each count the request against its client's key in a fixed window,
 * per route; over any quota → 429 RATE_LIMITED in the envelope with Retry-After, RateLimit and
 * RateLimit-Policy, and the request goes no further. An admitted request carries RateLimit
 * and RateLimit-Policy on its answer once its client has used half of a quota (nearQuota; a
 * backend's own fields of those names replace them).
 * A policy with `countStatus` counts answers instead (failed logins: 401): it refuses a client
 * whose count is at the quota, and counts an answer with one of those statuses once it is sent
 * (requests already in flight when the quota is reached still go through).
 *
 * Counters live in Redis when the gateway has one (`REDIS_URL`), so every instance shares
 * them; otherwise in this process. While Redis is away (down, restarting, not answering within
 * `redisTimeoutMs`) each policy counts in this process instead (rate-limiter-flexible's
 * insurance limiter, same quota): an outage neither blocks traffic nor lifts the limits, and
 * no request waits for a Redis that is known to be gone — a background PING brings Redis back
 * into use once it answers. The counters of the outage are not merged back.
 *
 * Library: rate-limiter-flexible (RateLimiterRedis's atomic INCR+EXPIRE script, its
 * insurance limiter and in-memory block of keys already over the limit, so a client hammering
 * past its quota costs no Redis round trip).
 */
export interface RateLimitOptions {
  logger: Logger;
  /** Counters shared through this Redis; none → in this process. */
  redisUrl?: string;
  /** Key prefix in Redis (default `pilot:gateway:`; the counters go under `<prefix>rl:`). */
  redisPrefix?: string;
  /** A Redis command slower than this counts in this process instead (default 100 ms). */
  redisTimeoutMs?: number;
  /** How often a Redis that stopped answering is tried again (default 1000 ms). */
  redisProbeMs?: number;
  registry?: Registry;
  /** Called for every refused request (the gateway counts and access-logs it with its other refusals). */
  onRefused?: (req: IncomingMessage, route: string, policy: string) => void;
}

/** A request admitted (maybe after the counters answered) goes on with this. */
export type Next = () => void;

/** Clients' header values longer than this are not used as keys (the next source is). */
const MAX_KEY_LENGTH = 256;

/** The in-process counters; used by the Redis limiter as its insurance, and reports when it is. */
class Insurance extends RateLimiterMemory {
  onInsure: (() => void) | null = null;
  override consume(key: string | number, points?: number, options?: Record<string, unknown>) {
    this.onInsure?.();
    return this.counted(key, points, options);
  }
  override get(key: string | number, options?: Record<string, unknown>) {
    this.onInsure?.();
    return this.peek(key, options);
  }
  /** consume() without reporting a Redis failure (used while Redis is known to be away). */
  counted(key: string | number, points?: number, options?: Record<string, unknown>) {
    return super.consume(key, points, options);
  }
  /** get() without reporting a Redis failure. */
  peek(key: string | number, options?: Record<string, unknown>) {
    return super.get(key, options);
  }

  /**
   * The library's own in-process storage, counted without the promise consume() wraps around
   * it: a request then goes on in the same tick (a microtask per request measured ~5% of the
   * gateway's CPU on the bench). Undefined if a release of the library renames it; the
   * promise-based path is used then.
   */
  private readonly storage = (this as unknown as { _memoryStorage?: SyncStorage })._memoryStorage;

  get synchronous(): boolean {
    return typeof this.storage?.incrby === 'function' && typeof this.storage.get === 'function';
  }

  /** consume() now: the count, and whether it is over the quota (what consume() would reject). */
  countNow(key: string): { res: RateLimiterRes; over: boolean } {
    const res = this.storage!.incrby(this.getKey(key), 1, this.duration);
    return { res, over: res.consumedPoints > this.points };
  }

  /** get() now. */
  peekNow(key: string): RateLimiterRes | null {
    return this.storage!.get(this.getKey(key));
  }
}

/** rate-limiter-flexible's MemoryStorage, as RateLimiterMemory uses it. */
interface SyncStorage {
  incrby(key: string, value: number, durationSec: number): RateLimiterRes;
  get(key: string): RateLimiterRes | null;
}

interface PolicyLimiter {
  policy: LimitPolicy;
  memory: Insurance;
  store: RateLimiterAbstract | null;
  /** countStatus as a set: the answers that count (after the fact); null: every request (before). */
  counted: ReadonlySet<number> | null;
}

interface RouteLimits {
  route: string;
  limiters: PolicyLimiter[];
  described: RateLimitPolicy[];
  policyHeader: string;
  /** Every policy's in-process counter can be counted without a promise. */
  synchronous: boolean;
}

export class RateLimits {
  private readonly options: RateLimitOptions;
  private readonly logger: Logger;
  private readonly prefix: string;
  private readonly redis: Redis | null;
  /** Redis answers (connected and not timing out): counters go there; else in this process. */
  private redisUsable = false;
  private probing: NodeJS.Timeout | null = null;
  private closed = false;
  /** Per compiled route (a new table compiles new routes); null: the route has no limits. */
  private readonly routes = new WeakMap<CompiledRoute, RouteLimits | null>();
  /** Per route, policy and window: in-process counts survive table reloads and admin changes. */
  private readonly memories = new Map<string, Insurance>();
  private readonly limited: Counter;
  private readonly insured: Counter;
  private readonly redisUp: Gauge | null;

  constructor(options: RateLimitOptions) {
    this.options = options;
    this.logger = options.logger;
    this.prefix = `${options.redisPrefix ?? 'pilot:gateway:'}rl:`;
    const registers = options.registry ? [options.registry] : [];
    this.limited = new Counter({
      name: 'gateway_rate_limited_total',
      help: 'Requests refused with 429 by a rate-limit policy, by route and policy',
      labelNames: ['route', 'policy'],
      registers,
    });
    this.insured = new Counter({
      name: 'gateway_rate_limit_local_total',
      help: 'Rate-limit decisions counted in this process because Redis was away (REDIS_URL set)',
      registers,
    });
    this.redisUp = options.redisUrl
      ? new Gauge({
          name: 'gateway_rate_limit_redis_up',
          help: 'Whether rate-limit counters go to Redis (1) or this process (0, Redis away)',
          registers,
          aggregator: 'min',
        })
      : null;
    this.redis = options.redisUrl ? this.connect(options.redisUrl) : null;
  }

  private connect(url: string): Redis {
    const redis = new Redis(url, {
      connectionName: 'pilot-gateway-limits',
      // never queue or replay a count: a request must not wait for a Redis that is away
      enableOfflineQueue: false,
      autoResendUnfulfilledCommands: false,
      maxRetriesPerRequest: 0,
      commandTimeout: this.options.redisTimeoutMs ?? 100,
      retryStrategy: (times) => Math.min(times * 200, 2000),
    });
    this.redisUp?.set(0);
    redis.on('ready', () => this.setRedis(true, 'connected'));
    redis.on('close', () => this.setRedis(false, 'connection closed'));
    redis.on('error', (err: Error) => this.logger.debug({ err: err.message }, 'rate-limit Redis error'));
    return redis;
  }

  private setRedis(usable: boolean, reason: string): void {
    if (this.closed || usable === this.redisUsable) return;
    this.redisUsable = usable;
    this.redisUp?.set(usable ? 1 : 0);
    if (usable) this.logger.info({ reason }, 'rate limits counted in Redis again');
    else this.logger.warn({ reason }, 'rate limits counted in this process until Redis answers');
  }

  /** A Redis command failed or timed out while the connection looked fine: stop using it, PING until it answers. */
  private redisFailed(): void {
    this.insured.inc();
    if (!this.redisUsable || this.closed) return;
    this.setRedis(false, 'command failed or timed out');
    const redis = this.redis!;
    const probe = () => {
      this.probing = null;
      if (this.closed || redis.status !== 'ready') return; // 'ready' brings it back
      redis.ping().then(
        () => this.setRedis(true, 'answers again'),
        () => {
          this.probing = setTimeout(probe, this.options.redisProbeMs ?? 1000);
          this.probing.unref();
        },
      );
    };
    if (!this.probing) {
      this.probing = setTimeout(probe, this.options.redisProbeMs ?? 1000);
      this.probing.unref();
    }
  }

  /**
   * Counts the request against its route's policies: `next()` when every policy admits it
   * (at once for a route without limits), else a 429 is answered here. `next` is not called
   * when the client went away while the counters answered.
   */
  admit(req: IncomingMessage, res: ServerResponse, table: Table, route: CompiledRoute, next: Next): void {
    let limits = this.routes.get(route);
    if (limits === undefined) {
      limits = this.compile(table, route);
      this.routes.set(route, limits);
    }
    if (limits === null) {
      next();
      return;
    }
    const address = addressKey(clientAddress(req, table.settings.trustProxy));
    const { limiters } = limits;
    const keys: string[] = new Array(limiters.length);
    if (!this.redisUsable && limits.synchronous) {
      // counted in this process: decided now, the request goes on in this tick
      const outcomes: PromiseSettledResult<RateLimiterRes | null>[] = new Array(limiters.length);
      for (let i = 0; i < limiters.length; i++) {
        const l = limiters[i]!;
        const key = keyOf(req, l.policy.key, address);
        keys[i] = key;
        if (l.counted) outcomes[i] = { status: 'fulfilled', value: l.memory.peekNow(key) };
        else {
          const { res: counted, over } = l.memory.countNow(key);
          outcomes[i] = over
            ? { status: 'rejected', reason: counted }
            : { status: 'fulfilled', value: counted };
        }
      }
      if (this.redis) this.insured.inc(limiters.length);
      this.decide(req, res, table, limits, keys, outcomes, next);
      return;
    }
    const pending: Promise<RateLimiterRes | null>[] = new Array(limiters.length);
    for (let i = 0; i < limiters.length; i++) {
      const l = limiters[i]!;
      const key = keyOf(req, l.policy.key, address);
      keys[i] = key;
      // a policy that counts answers only looks now; the answer is counted when it is known
      pending[i] = l.counted ? this.peek(l, key) : this.consume(l, key);
    }
    const settle = (outcomes: PromiseSettledResult<RateLimiterRes | null>[]) => {
      if (res.destroyed) return; // the client left while we counted
      this.decide(req, res, table, limits, keys, outcomes, next);
    };
    if (pending.length === 1) {
      // the common case, without allSettled's promise per element
      pending[0]!.then(
        (value) => settle([{ status: 'fulfilled', value }]),
        (reason: unknown) => settle([{ status: 'rejected', reason }]),
      );
    } else void Promise.allSettled(pending).then(settle);
  }

  private consume(l: PolicyLimiter, key: string): Promise<RateLimiterRes> {
    if (this.redisUsable) return l.store!.consume(key);
    if (l.memory.synchronous) {
      if (this.redis) this.insured.inc();
      const { res, over } = l.memory.countNow(key);
      return over ? Promise.reject(res) : Promise.resolve(res);
    }
    if (this.redis) this.insured.inc();
    return l.memory.counted(key);
  }

  private peek(l: PolicyLimiter, key: string): Promise<RateLimiterRes | null> {
    if (this.redisUsable) return l.store!.get(key);
    if (this.redis) this.insured.inc();
    return l.memory.peek(key);
  }

  private decide(
    req: IncomingMessage,
    res: ServerResponse,
    table: Table,
    limits: RouteLimits,
    keys: string[],
    outcomes: PromiseSettledResult<RateLimiterRes | null>[],
    next: Next,
  ): void {
    const counts: RateLimitCount[] = new Array(outcomes.length);
    let over = -1;
    let retryMs = 0;
    let after = false;
    for (let i = 0; i < outcomes.length; i++) {
      const o = outcomes[i]!;
      const r = o.status === 'fulfilled' ? o.value : o.reason;
      const quota = limits.described[i]!.quota;
      const byAnswer = limits.limiters[i]!.counted !== null;
      after ||= byAnswer;
      if (r === null) {
        counts[i] = { consumed: 0, msLeft: 0 }; // nothing counted yet in this window
        continue;
      }
      if (!(r instanceof RateLimiterRes)) {
        // the store and its insurance both failed: a broken limiter must not take the route down
        this.logger.error({ err: (r as Error)?.message, route: limits.route }, 'rate limit not counted');
        counts[i] = { consumed: 0, msLeft: 0 };
        continue;
      }
      const refused = o.status === 'rejected' || (byAnswer && r.consumedPoints >= quota);
      if (!refused) {
        counts[i] = { consumed: r.consumedPoints, msLeft: r.msBeforeNext };
        continue;
      }
      // a key blocked in memory is refused without its count: it is over the quota either way
      counts[i] = { consumed: Math.max(r.consumedPoints, quota), msLeft: r.msBeforeNext };
      if (over === -1) over = i;
      retryMs = Math.max(retryMs, r.msBeforeNext);
    }
    if (over !== -1) {
      const ratelimit = rateLimitHeader(limits.described, counts);
      this.refuse(req, res, table, limits, limits.limiters[over]!.policy, retryMs, ratelimit);
      return;
    }
    if (nearQuota(limits.described, counts)) {
      res.setHeader('ratelimit-policy', limits.policyHeader);
      res.setHeader('ratelimit', rateLimitHeader(limits.described, counts));
    }
    if (after) res.once('close', () => this.countAnswer(res, limits, keys));
    next();
  }

  /** Counts an answer against the policies that count answers with its status (once its head went out). */
  private countAnswer(res: ServerResponse, limits: RouteLimits, keys: string[]): void {
    if (!res.headersSent || this.closed) return;
    const status = res.statusCode;
    for (let i = 0; i < limits.limiters.length; i++) {
      const l = limits.limiters[i]!;
      // over the quota is the expected outcome here: the next request is the one refused
      if (l.counted?.has(status)) this.consume(l, keys[i]!).catch(() => {});
    }
  }

  private refuse(
    req: IncomingMessage,
    res: ServerResponse,
    table: Table,
    limits: RouteLimits,
    policy: LimitPolicy,
    retryMs: number,
    ratelimit: string,
  ): void {
    const retryAfter = Math.max(1, secondsLeft(retryMs));
    this.limited.labels(limits.route, policy.name).inc();
    this.options.onRefused?.(req, limits.route, policy.name);
    // an unread body is read and dropped (bounded) so the client can read the answer
    const te = req.headers['transfer-encoding'];
    const declared = Number(req.headers['content-length'] ?? 0);
    const close = te === undefined && declared > MAX_DRAIN_BYTES;
    if (!close && (te !== undefined || declared > 0)) drainBounded(req);
    sendError(
      res,
      429,
      'RATE_LIMITED',
      `rate limit "${policy.name}" of route "${limits.route}" reached (${policy.requests} requests per ${policy.windowSeconds} s); retry in ${retryAfter} s`,
      close,
      {
        [table.settings.backendHeader]: 'gateway',
        'retry-after': String(retryAfter),
        'ratelimit-policy': limits.policyHeader,
        ratelimit,
      },
    );
  }

  private compile(table: Table, route: CompiledRoute): RouteLimits | null {
    const policies = route.config.limits ?? table.settings.limits;
    if (policies.length === 0) return null;
    const limiters = policies.map((policy) => this.limiterFor(route.id, policy));
    const described = policies.map((p) => ({
      name: p.name,
      quota: p.requests,
      windowSeconds: p.windowSeconds,
    }));
    return {
      route: route.id,
      limiters,
      described,
      policyHeader: rateLimitPolicyHeader(described),
      synchronous: limiters.every((l) => l.memory.synchronous),
    };
  }

  private limiterFor(routeId: string, policy: LimitPolicy): PolicyLimiter {
    const keyPrefix = `${this.prefix}${routeId}:${policy.name}:${policy.windowSeconds}`;
    let memory = this.memories.get(keyPrefix);
    if (memory) memory.points = policy.requests;
    else {
      memory = new Insurance({ keyPrefix, points: policy.requests, duration: policy.windowSeconds });
      memory.onInsure = () => this.redisFailed();
      this.memories.set(keyPrefix, memory);
    }
    const store = this.redis
      ? new RateLimiterRedis({
          storeClient: this.redis,
          keyPrefix,
          points: policy.requests,
          duration: policy.windowSeconds,
          rejectIfRedisNotReady: true,
          // a key over its quota is refused from memory until its window ends: no round trip
          inMemoryBlockOnConsumed: policy.requests + 1,
          insuranceLimiter: memory,
        })
      : null;
    return { policy, memory, store, counted: policy.countStatus ? new Set(policy.countStatus) : null };
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.probing) clearTimeout(this.probing);
    const redis = this.redis;
    if (!redis) return;
    if (redis.status === 'ready') await redis.quit().catch(() => redis.disconnect());
    else redis.disconnect();
  }
}

/**
 * An admitted answer carries RateLimit and RateLimit-Policy once the client has used half of
 * some quota: a client far from every limit has nothing to pace, and the two fields on every
 * answer cost ~7% of the gateway's CPU per request on the bench (more bytes per head, and
 * Node's slower path for a head with headers set before it). A 429 always carries them.
 */
function nearQuota(policies: readonly RateLimitPolicy[], counts: readonly RateLimitCount[]): boolean {
  for (let i = 0; i < policies.length; i++) {
    if (counts[i]!.consumed * 2 >= policies[i]!.quota) return true;
  }
  return false;
}

/** The policy's key for this request: the first source present; the address ends every list. */
function keyOf(req: IncomingMessage, sources: readonly LimitKeySource[], address: string): string {
  if (sources.length === 1) return `a:${address}`;
  for (const source of sources) {
    if (source.kind === 'address') break;
    if (source.kind === 'header') {
      const v = req.headers[source.name];
      const value = Array.isArray(v) ? v[0] : v;
      if (value && value.length <= MAX_KEY_LENGTH) return `h:${value}`;
    } else {
      const sub = jwtSubject(req.headers.authorization);
      if (sub && sub.length <= MAX_KEY_LENGTH) return `j:${sub}`;
    }
  }
  return `a:${address}`;
}
