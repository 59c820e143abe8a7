import { z } from 'zod';
import { StrapiConfigError } from './errors.ts';

/** The subset of pino's API the client uses. Pass a pino logger (or a child) as is. */
export interface StrapiLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

const int = (min: number) => z.number().int().min(min);

const retrySchema = z.strictObject({
  /** Retries after the first attempt, for idempotent requests (GET/HEAD) only. 0 disables. */
  maxAttempts: int(0).max(10).default(2),
  /** First backoff delay; exponential with decorrelated jitter after that. */
  initialDelayMs: int(1).default(100),
  maxDelayMs: int(1).default(2_000),
  /** A Retry-After longer than this is not waited for: the error is returned instead. */
  maxRetryAfterMs: int(0).default(5_000),
});

const breakerSchema = z.strictObject({
  /** Consecutive upstream failures (5xx, network, timeout) that open the circuit. */
  threshold: int(1).default(5),
  /** How long the circuit stays open before one half-open probe is let through. */
  halfOpenAfterMs: int(1).default(10_000),
});

const cacheSchema = z.strictObject({
  /** false: no caching at all; every read goes to Strapi (through the same resilience stack). */
  enabled: z.boolean().default(true),
  /** ioredis URL for L2 + the invalidation bus. Unset: in-process L1 only. */
  redisUrl: z.string().min(1).optional(),
  /** Prefix for every Redis key and the bus channel. Separate apps/environments with it. */
  prefix: z.string().min(1).default('strapi-client:'),
  /** Freshness: how long a cached result is served without asking Strapi. */
  ttlMs: int(1).default(30_000),
  /** After ttl, how long a stale result may still be served (while revalidating, or when Strapi fails). */
  graceMs: int(0).default(10 * 60_000),
  /** true: a stale hit answers at once and refreshes in the background. false: waits for Strapi, stale only on error. */
  staleWhileRevalidate: z.boolean().default(true),
  /**
   * Bound of the in-process cache (entries). 0: no in-process cache, every read asks Redis (an
   * instance then never serves what another instance has invalidated, at one Redis round trip a read).
   */
  l1MaxItems: int(0).default(5_000),
  /** Redis commands slower than this count as failed (the read goes on without L2). */
  redisCommandTimeoutMs: int(1).default(500),
});

const graphqlSchema = z.strictObject({
  /** Strapi's GraphQL endpoint (the plugin's `endpoint`), beside the REST prefix. */
  path: z.string().startsWith('/').default('/graphql'),
  /**
   * `__typename` → plural API id (e.g. `{ Article: 'articles' }`), for the cache tags of GraphQL
   * answers; a query may add its own. An answer holding a document of an unnamed type is not cached.
   */
  types: z
    .record(
      z.string().regex(/^[_A-Za-z][_0-9A-Za-z]*$/, 'a GraphQL type name'),
      z.string().regex(/^[a-z0-9][a-z0-9-_]*$/i, 'a plural API id'),
    )
    .default({}),
});

export const clientOptionsSchema = z.strictObject({
  /** Strapi origin, e.g. http://127.0.0.1:1337 (the client adds /api). */
  baseUrl: z.url({ protocol: /^https?$/ }),
  /** Strapi API token, sent as a Bearer token. Never logged, never put in errors. */
  token: z.string().min(1).optional(),
  /** REST prefix, `/api` unless Strapi's `rest.prefix` was changed. */
  apiPrefix: z.string().startsWith('/').default('/api'),
  /** Per-attempt timeout (AbortSignal). */
  timeoutMs: int(1).default(5_000),
  retry: retrySchema.prefault({}),
  breaker: breakerSchema.prefault({}),
  /** Max requests in flight to Strapi from this client. */
  maxConcurrency: int(1).default(32),
  /** Requests allowed to wait for a slot; beyond that they fail with STRAPI_OVERLOADED. */
  maxQueue: int(0).default(1_000),
  cache: cacheSchema.prefault({}),
  graphql: graphqlSchema.prefault({}),
  logger: z
    .custom<StrapiLogger>(
      (value) =>
        !!value &&
        typeof value === 'object' &&
        ['debug', 'info', 'warn', 'error'].every(
          (method) => typeof (value as Record<string, unknown>)[method] === 'function',
        ),
      { message: 'expected a pino-compatible logger (debug/info/warn/error methods)' },
    )
    .optional(),
  /** Clock used by the cache for freshness (tests inject a fake one). */
  now: z
    .custom<() => number>((value) => typeof value === 'function', { message: 'expected a function' })
    .optional(),
});

export type StrapiClientOptions = z.input<typeof clientOptionsSchema>;
export type ResolvedOptions = z.output<typeof clientOptionsSchema>;
export type ResolvedCacheOptions = ResolvedOptions['cache'];

export function resolveOptions(input: StrapiClientOptions): ResolvedOptions {
  const result = clientOptionsSchema.safeParse(input);
  if (!result.success) {
    const issues = result.error.issues.map((issue) => ({
      path: issue.path.join('.'),
      message: issue.message,
    }));
    const summary = issues.map((issue) => `${issue.path || '(root)'}: ${issue.message}`).join('; ');
    throw new StrapiConfigError(`Invalid Strapi client options: ${summary}`, issues);
  }
  return result.data;
}

export const noopLogger: StrapiLogger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
};
