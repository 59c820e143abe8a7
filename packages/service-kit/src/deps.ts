import { type AuthService, createAuthService } from '@pilot/auth';
import { type ContentRepository, createRedisIdempotencyStore, createStrapiContent } from '@pilot/content';
import {
  createStrapiClient,
  failFastRedisOptions,
  type StrapiClient,
  watchForHang,
} from '@pilot/strapi-client';
import { Redis } from 'ioredis';
import type { ServiceConfig } from './config.ts';
import type { Logger } from './logger.ts';
import { createLoginLimiter, type LoginLimiter } from './login-limit.ts';
import { createHttpMetrics, type HttpMetrics } from './metrics.ts';
import { attachStrapiMetrics } from './strapi-metrics.ts';

/**
 * Redis key prefix shared by both services (so they share the L2 cache, its invalidation bus
 * and sessions): `<prefix>strapi:` for the Strapi client, `<prefix>auth:` for refresh tokens,
 * `<prefix>idem:` for Idempotency-Key outcomes, `<prefix>login:` for the login limit's counters.
 */
export const DEFAULT_REDIS_PREFIX = 'pilot:';

export interface ServiceDeps {
  content: ContentRepository;
  auth: AuthService;
  /** The strict POST /auth/login limit (counters in Redis, shared by every instance of both apps). */
  loginLimiter: LoginLimiter;
  /** The app's Prometheus registry, with the Strapi clients' metrics attached. */
  metrics: HttpMetrics;
  /** The two Strapi clients (read token with cache; write token without). */
  strapi: { read: StrapiClient; write: StrapiClient };
  /** The service's own Redis connection (sessions); undefined without REDIS_URL. */
  redis: Redis | undefined;
  /** Closes everything above (Strapi clients and their Redis, the session Redis). Idempotent. */
  close(): Promise<void>;
}

export interface ServiceDepsOptions {
  /** Service name: the metrics registry's `service` label and `subscriber.source`. Default 'app'. */
  service?: string;
  /** Redis key prefix (tests isolate themselves with it). Default DEFAULT_REDIS_PREFIX. */
  redisPrefix?: string;
  /** Use this registry instead of a new createHttpMetrics(service). */
  metrics?: HttpMetrics;
}

/** The login limit from config: LOGIN_LIMIT_* (in this process without a Redis connection). */
export function loginLimiterFor(config: ServiceConfig, redis?: Redis, prefix?: string): LoginLimiter {
  return createLoginLimiter({
    perUserAddress: config.LOGIN_LIMIT_PER_USER,
    perAddress: config.LOGIN_LIMIT_PER_ADDRESS,
    windowSeconds: config.LOGIN_LIMIT_WINDOW_SECONDS,
    redis,
    ...(prefix ? { prefix } : {}),
  });
}

/**
 * Builds what both servers run on, from validated config: the Strapi clients (read: cached in
 * L1 + Redis L2 when REDIS_URL is set, invalidation bus; write: uncached), the Strapi-backed
 * content repository, the auth service (refresh tokens in Redis, else in memory), the login
 * limit (counters in Redis, else in memory), and the metrics registry fed by the clients' hooks. No REDIS_URL → no Redis anywhere.
 */
export function createServiceDeps(
  config: ServiceConfig,
  logger: Logger,
  options: ServiceDepsOptions = {},
): ServiceDeps {
  const service = options.service ?? 'app';
  const prefix = options.redisPrefix ?? DEFAULT_REDIS_PREFIX;
  const strapiLogger = logger.child({ component: 'strapi-client' });
  const common = {
    baseUrl: config.STRAPI_URL,
    timeoutMs: config.STRAPI_TIMEOUT_MS,
    logger: strapiLogger,
  };
  const read = createStrapiClient({
    ...common,
    token: config.STRAPI_READ_TOKEN,
    cache: {
      redisUrl: config.REDIS_URL,
      prefix: `${prefix}strapi:`,
      ttlMs: config.CACHE_TTL_MS,
      graceMs: config.CACHE_GRACE_MS,
      l1MaxItems: config.CACHE_L1_MAX_ITEMS,
    },
  });
  const write = createStrapiClient({
    ...common,
    token: config.STRAPI_WRITE_TOKEN,
    cache: { enabled: false },
  });

  let redis: Redis | undefined;
  if (config.REDIS_URL) {
    // a request never waits for Redis: commands fail at once while it is away (the request
    // answers 503) and a stopped Redis is noticed by a PING watch; it reconnects by itself
    redis = new Redis(config.REDIS_URL, failFastRedisOptions(1_000, `${service}:sessions`));
    const watch = watchForHang(redis, {
      onHang: (detail) =>
        logger.child({ component: 'redis' }).warn({ err: detail }, 'session Redis hung, reconnecting'),
    });
    redis.once('end', () => watch.stop());
    const redisLogger = logger.child({ component: 'redis' });
    let down = false;
    redis.on('error', (error) => {
      if (!down) redisLogger.warn({ err: error }, 'session Redis unavailable');
      down = true;
    });
    redis.on('ready', () => {
      if (down) redisLogger.info('session Redis back');
      down = false;
    });
  }

  const metrics = options.metrics ?? createHttpMetrics(service);
  const detach = [
    attachStrapiMetrics(metrics.registry, read, { client: 'read' }),
    attachStrapiMetrics(metrics.registry, write, { client: 'write' }),
  ];
  const content = createStrapiContent({
    read,
    write,
    source: service,
    // Idempotency-Key outcomes shared by every instance of both services
    idempotency: redis ? createRedisIdempotencyStore(redis, `${prefix}idem:`) : undefined,
  });
  const auth = createAuthService({
    users: config.AUTH_USERS,
    jwtSecret: config.JWT_SECRET,
    issuer: config.JWT_ISSUER,
    redis,
    prefix: `${prefix}auth:`,
  });

  const loginLimiter = loginLimiterFor(config, redis, `${prefix}login:`);

  let closing: Promise<void> | undefined;
  return {
    content,
    auth,
    loginLimiter,
    metrics,
    strapi: { read, write },
    redis,
    close() {
      closing ??= (async () => {
        for (const off of detach) off();
        await Promise.allSettled([content.close(), auth.close()]);
        if (redis && redis.status !== 'end') {
          // not events.once: it rejects on an 'error' before 'end', and ioredis emits one when a
          // connection still in its handshake fails its ready check because we ended it
          const ended = new Promise((resolve) => redis?.once('end', resolve));
          // QUIT lets pending replies arrive; a connection that is not up is just dropped
          if (redis.status === 'ready') await redis.quit().catch(() => redis?.disconnect());
          else redis.disconnect();
          await Promise.race([ended, new Promise((resolve) => setTimeout(resolve, 1_000).unref())]);
        }
      })();
      return closing;
    },
  };
}
