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
 * and RateLimit-Policy on its answer (a backend's own fields of those names replace them).
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
  /** Log refused requests as access lines (default true). */
  accessLog?: boolean;
  /** Called for every refused request (the gateway counts it with its other refusals). */
  onRefused?: (route: string, policy: string) => void;
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
  /** The same counter, without reporting a Redis failure (used while Redis is known to be away). */
  counted(key: string | number, points?: number, options?: Record<string, unknown>) {
    return super.consume(key, points, options);
  }
}

interface PolicyLimiter {
  policy: LimitPolicy;
  memory: Insurance;
  store: RateLimiterAbstract | null;
}

interface RouteLimits {
  route: string;
  limiters: PolicyLimiter[];
  described: RateLimitPolicy[];
  policyHeader: string;
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
    const useRedis = this.redisUsable;
    const { limiters } = limits;
    const pending: Promise<RateLimiterRes>[] = new Array(limiters.length);
    for (let i = 0; i < limiters.length; i++) {
      const l = limiters[i]!;
      const key = keyOf(req, l.policy.key, address);
      if (useRedis) pending[i] = l.store!.consume(key);
      else {
        if (this.redis) this.insured.inc();
        pending[i] = l.memory.counted(key);
      }
    }
    const settle = (outcomes: PromiseSettledResult<RateLimiterRes>[]) => {
      if (res.destroyed) return; // the client left while we counted
      this.decide(req, res, table, limits, outcomes, next);
    };
    void Promise.allSettled(pending).then(settle);
  }

  private decide(
    req: IncomingMessage,
    res: ServerResponse,
    table: Table,
    limits: RouteLimits,
    outcomes: PromiseSettledResult<RateLimiterRes>[],
    next: Next,
  ): void {
    const counts: RateLimitCount[] = new Array(outcomes.length);
    let over = -1;
    let retryMs = 0;
    for (let i = 0; i < outcomes.length; i++) {
      const o = outcomes[i]!;
      const r = o.status === 'fulfilled' ? o.value : o.reason;
      if (!(r instanceof RateLimiterRes)) {
        // the store and its insurance both failed: a broken limiter must not take the route down
        this.logger.error({ err: (r as Error)?.message, route: limits.route }, 'rate limit not counted');
        counts[i] = { consumed: 0, msLeft: 0 };
        continue;
      }
      if (o.status === 'fulfilled') counts[i] = { consumed: r.consumedPoints, msLeft: r.msBeforeNext };
      else {
        // a key blocked in memory is refused without its count: it is over the quota either way
        const quota = limits.described[i]!.quota;
        counts[i] = { consumed: Math.max(r.consumedPoints, quota), msLeft: r.msBeforeNext };
        if (over === -1) over = i;
        retryMs = Math.max(retryMs, r.msBeforeNext);
      }
    }
    const ratelimit = rateLimitHeader(limits.described, counts);
    if (over === -1) {
      res.setHeader('ratelimit-policy', limits.policyHeader);
      res.setHeader('ratelimit', ratelimit);
      next();
      return;
    }
    this.refuse(req, res, table, limits, limits.limiters[over]!.policy, retryMs, ratelimit);
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
    this.options.onRefused?.(limits.route, policy.name);
    if (this.options.accessLog !== false) {
      this.logger.info(
        {
          method: req.method,
          url: req.url,
          status: 429,
          rejected: 'rate_limited',
          route: limits.route,
          policy: policy.name,
        },
        'request',
      );
    }
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
    return { route: route.id, limiters, described, policyHeader: rateLimitPolicyHeader(described) };
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
    return { policy, memory, store };
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
