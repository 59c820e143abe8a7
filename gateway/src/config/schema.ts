import { z } from 'zod';
import { checkRolloutRoute, rolloutSchema } from '../control/rollout/schema.ts';
import { limitsSchema } from './limits.ts';

/**
 * The route table's schema: the only description of what a table file may say.
 * Defaults live here, next to the field they belong to; README.md documents the same.
 */

export const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;
export const IDEMPOTENT_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE']);

const name = z
  .string()
  .regex(/^[a-z][a-z0-9_-]{0,62}$/i, 'must start with a letter and use only letters, digits, "_" and "-"');
const headerToken = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/;

/** `/exact`, `/prefix/*` (the path itself and everything below it) or `/raw-prefix*`. */
const pathPattern = z
  .string()
  .regex(
    /^\/[^*?#\s]*\*?$/,
    'must start with "/" and may only end in "*" (e.g. /articles, /webhooks/*, /docs*)',
  );

const healthCheck = z
  .object({
    enabled: z.boolean().default(true),
    path: z.string().startsWith('/').default('/health'),
    intervalMs: z.number().int().min(100).default(1000),
    timeoutMs: z.number().int().min(10).default(1000),
    /** Consecutive passes needed to let a down backend take traffic again (half-open first). */
    healthyThreshold: z.number().int().min(1).default(2),
    /** Consecutive failures that mark a backend down. */
    unhealthyThreshold: z.number().int().min(1).default(2),
  })
  .strict();

/**
 * Backend-level outlier detection (Envoy's consecutive_gateway_failure, narrowed): only failures
 * that say the backend itself is broken eject it for every route — refused connections, and a
 * stall (requests waiting, nothing at all answered, and an immediate probe of the health path
 * unanswered too). A backend's answers, 5xx included, and its resets and timeouts on a request
 * never count here: those belong to the route (see `breaker`).
 */
const outlier = z
  .object({
    consecutiveGatewayFailures: z.number().int().min(1).default(5),
    /** No answer at all (no response head, no health answer) for this long while requests wait → probe → eject. 0 disables. */
    stallMs: z.number().int().min(0).default(1000),
    /** First ejection; each further one in a row doubles it, up to maxEjectionMs. */
    ejectionMs: z.number().int().min(100).default(5000),
    maxEjectionMs: z.number().int().min(100).default(60_000),
    /** Half-open: share of requests (percent) let through while the backend proves itself. */
    halfOpenPercent: z.number().int().min(1).max(100).default(25),
    /** Successes (answers or passing health checks) that close it again. */
    halfOpenSuccesses: z.number().int().min(1).default(5),
  })
  .strict();

/**
 * The per-route breaker, one per route and backend (Envoy's consecutive_5xx, kept per route):
 * the backend's 5xx answers, and the route's timeouts and resets on that backend. Open: the route's traffic
 * for that backend goes to an alternative (the other side of a split; the fallback for
 * idempotent requests); with no alternative it still goes to the backend (whose own answer
 * beats a gateway 503; Envoy's panic routing), so a failing dependency on one route can
 * neither take other routes down nor turn a backend's fast answer into a gateway refusal.
 */
export const breakerSchema = z
  .object({
    consecutive5xx: z.number().int().min(1).default(5),
    /** Error rate (percent) over `windowMs` that opens the breaker, once `minRequests` were seen. */
    errorRatePercent: z.number().min(1).max(100).default(50),
    minRequests: z.number().int().min(1).default(20),
    windowMs: z.number().int().min(1000).default(10_000),
    /** How long the breaker stays open before half-open. */
    openMs: z.number().int().min(100).default(5000),
    halfOpenPercent: z.number().int().min(1).max(100).default(25),
    halfOpenSuccesses: z.number().int().min(1).default(5),
  })
  .strict();

export const backendSchema = z
  .object({
    url: z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }),
    /** Environment variable that, when set, replaces `url` (e.g. LEGACY_URL). */
    urlEnv: z
      .string()
      .regex(/^[A-Z_][A-Z0-9_]*$/, 'must be an environment variable name')
      .optional(),
    /** Response head deadline once the request is sent (0 = none) → 504, or the fallback. */
    timeoutMs: z.number().int().min(0).default(5000),
    /** Socket inactivity allowed once the response has started (0 = none). */
    idleTimeoutMs: z.number().int().min(0).default(30_000),
    /** Connection budget for ordinary requests, per gateway process (keep-alive pool). */
    maxSockets: z.number().int().min(1).default(256),
    /** Separate connection budget for streaming routes (`stream: true`), so streams never take ordinary sockets. */
    maxStreams: z.number().int().min(1).default(128),
    /** A request waiting this long for a free connection is answered 503 (or goes to the fallback). */
    queueTimeoutMs: z.number().int().min(1).default(1000),
    /** Idle pooled sockets are closed after this (keep it under the backend's keep-alive timeout). */
    idleSocketMs: z.number().int().min(100).default(2000),
    healthCheck: healthCheck.prefault({}),
    outlier: outlier.prefault({}),
  })
  .strict();

const stickySource = z
  .string()
  .refine(
    (s) =>
      s === 'jwt:sub' ||
      ((s.startsWith('header:') || s.startsWith('cookie:')) && headerToken.test(s.slice(7))),
    'must be "header:<name>", "cookie:<name>" or "jwt:sub"',
  );

/** Methods without side effects (RFC 9110 9.2.1): the only ones mirrored without mirrorWrites. */
export const SAFE_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS']);

/** `noise: learn` or `noise: { mode: learn, sampleRate: 0.1, warmupPairs: 10 }`. */
const noiseSchema = z
  .union([
    z.enum(['off', 'learn']).transform((mode) => ({ mode })),
    z
      .object({
        mode: z.enum(['off', 'learn']).default('learn'),
        /** Fraction (0..1) of safe, body-less mirrored requests also sent twice to the served backend. */
        sampleRate: z.number().min(0).max(1).optional(),
        /** Pairs of served answers learned before the route's answers are compared at all. */
        warmupPairs: z.number().int().min(0).optional(),
      })
      .strict(),
  ])
  .prefault('off')
  .transform((n) => ({
    mode: n.mode,
    sampleRate: ('sampleRate' in n ? n.sampleRate : undefined) ?? 0.1,
    warmupPairs: ('warmupPairs' in n ? n.warmupPairs : undefined) ?? 10,
  }));

export const shadowSchema = z
  .object({
    backend: name,
    /** Paused shadows mirror nothing (admin: pause/resume). */
    paused: z.boolean().default(false),
    /** Percentage of matching requests that are mirrored. */
    percent: z.number().min(0).max(100).default(100),
    /** Methods that are mirrored; unsafe methods (POST, PUT, PATCH, DELETE) need mirrorWrites. */
    methods: z.array(z.enum(METHODS)).min(1).default(['GET', 'HEAD']),
    /**
     * Allows mirroring unsafe methods. The shadow backend then receives the client's writes
     * (marked `x-pilot-shadow: 1`) and must honour the marker by writing nothing.
     */
    mirrorWrites: z.boolean().default(false),
    /** JSON paths ignored by the diff: `meta.generatedAt`, `data.*.updatedAt`, `**.requestId`. */
    ignore: z.array(z.string().min(1)).default([]),
    /** Learn the paths that differ between two answers of the served backend (see README). */
    noise: noiseSchema,
    /** Response headers compared (lower-case). */
    compareHeaders: z.array(z.string().regex(headerToken)).default(['content-type']),
    /** Bodies larger than this are not mirrored (request) or not compared (response). */
    maxBodyBytes: z
      .number()
      .int()
      .min(0)
      .default(1024 * 1024),
    timeoutMs: z.number().int().min(1).default(5000),
  })
  .strict()
  .superRefine((shadow, ctx) => {
    if (shadow.mirrorWrites) return;
    shadow.methods.forEach((method, i) => {
      if (SAFE_METHODS.has(method)) return;
      ctx.addIssue({
        code: 'custom',
        message: `${method} is not a safe method: mirroring it sends the client's write to "${shadow.backend}" as well; add "mirrorWrites: true" to this shadow only if that backend honours x-pilot-shadow (writes nothing)`,
        path: ['methods', i],
      });
    });
  });

export const routeSchema = z
  .object({
    id: name,
    path: z.union([pathPattern, z.array(pathPattern).min(1)]),
    /** Default: every method. GET implies HEAD. */
    methods: z.array(z.enum(METHODS)).min(1).optional(),
    backend: name.optional(),
    /** Weighted split: backend name → integer percent; the weights add up to 100. */
    split: z.record(name, z.number().int().min(0).max(100)).optional(),
    /** Where the sticky key comes from, first present wins; no key → random. */
    sticky: z.array(stickySource).optional(),
    /** When no sticky key is present, assign a random one in this cookie so the client stays put. */
    stickyCookie: z.string().regex(headerToken).optional(),
    shadow: shadowSchema.optional(),
    /** Backend retried for idempotent, body-less requests on connect error, timeout, 5xx or open breaker. */
    fallback: name.optional(),
    /** Default targets of promote / rollback (derived from split or shadow when absent). */
    migration: z.object({ from: name, to: name }).strict().optional(),
    /** Request body limit for this route (bytes; default settings.maxBodyBytes) → 413 before forwarding. */
    maxBodyBytes: z.number().int().min(0).optional(),
    /** Long-lived responses (SSE): the backend's stream budget, no stall detection, no fallback once started. */
    stream: z.boolean().default(false),
    /** The backend's response head deadline for this route (0 = none); for a stream, the first-byte deadline. */
    timeoutMs: z.number().int().min(0).optional(),
    /** The backend's idle timeout once the response started, for this route (0 = none). */
    idleTimeoutMs: z.number().int().min(0).optional(),
    /** This route's breaker settings over settings.breaker. */
    breaker: breakerSchema.partial().optional(),
    /** Migration autopilot: steps shadow → percentages → 100 with gates (gateway/README.md#rollout). */
    rollout: rolloutSchema.optional(),
    /** Rate-limit policies of this route (config/limits.ts); absent → settings.limits, `[]` → none. */
    limits: limitsSchema.optional(),
  })
  .strict()
  .superRefine((route, ctx) => {
    checkRolloutRoute(route, ctx);
    const hasBackend = route.backend !== undefined;
    const hasSplit = route.split !== undefined;
    if (hasBackend === hasSplit) {
      ctx.addIssue({
        code: 'custom',
        message: 'a route needs exactly one of "backend" or "split"',
        path: [],
      });
    }
    if (route.stickyCookie && !(route.sticky ?? []).includes(`cookie:${route.stickyCookie}`)) {
      ctx.addIssue({
        code: 'custom',
        message: `stickyCookie needs "cookie:${route.stickyCookie}" in sticky, or the assigned cookie is never read`,
        path: ['stickyCookie'],
      });
    }
    if (route.split) {
      const values = Object.values(route.split);
      const sum = values.reduce((a, b) => a + b, 0);
      if (values.length === 0 || sum !== 100) {
        ctx.addIssue({
          code: 'custom',
          message: `weights must add up to 100 (they add up to ${sum})`,
          path: ['split'],
        });
      }
    }
  });

export const tableSchema = z
  .object({
    /** A label for humans; the gateway's own version is a hash of the effective table. */
    version: z.union([z.string(), z.number()]).optional(),
    settings: z
      .object({
        /** Request body limit (bytes) unless a route says otherwise; over it → 413. */
        maxBodyBytes: z
          .number()
          .int()
          .min(0)
          .default(1024 * 1024),
        /** Trust incoming X-Forwarded-* (append) instead of overwriting them. */
        trustProxy: z.boolean().default(false),
        /** Response header naming the backend that answered. */
        backendHeader: z.string().regex(headerToken).default('x-backend'),
        /** Mirrors in flight per gateway process; more are dropped, not queued. */
        shadowMaxConcurrent: z.number().int().min(0).default(64),
        /** Shadow diff samples kept per route (the most recent mismatches). */
        shadowMaxSamples: z.number().int().min(0).default(20),
        /** Route breaker defaults (a route's `breaker` overrides them field by field). */
        breaker: breakerSchema.prefault({}),
        /** Rate-limit policies of every route without its own `limits` (counted per route). */
        limits: limitsSchema.default([]),
      })
      .strict()
      .prefault({}),
    backends: z.record(name, backendSchema).refine((b) => Object.keys(b).length > 0, 'at least one backend'),
    routes: z.array(routeSchema).min(1),
  })
  .strict()
  .superRefine((table, ctx) => {
    const backends = new Set(Object.keys(table.backends));
    const ids = new Set<string>();
    table.routes.forEach((route, i) => {
      if (ids.has(route.id))
        ctx.addIssue({
          code: 'custom',
          message: `duplicate route id "${route.id}"`,
          path: ['routes', i, 'id'],
        });
      ids.add(route.id);
      const check = (value: string | undefined, path: (string | number)[]) => {
        if (value !== undefined && !backends.has(value)) {
          ctx.addIssue({
            code: 'custom',
            message: `unknown backend "${value}"`,
            path: ['routes', i, ...path],
          });
        }
      };
      check(route.backend, ['backend']);
      for (const b of Object.keys(route.split ?? {})) check(b, ['split', b]);
      check(route.shadow?.backend, ['shadow', 'backend']);
      check(route.fallback, ['fallback']);
      check(route.migration?.from, ['migration', 'from']);
      check(route.migration?.to, ['migration', 'to']);
    });
  });

export type TableInput = z.input<typeof tableSchema>;
export type TableConfig = z.output<typeof tableSchema>;
export type RouteConfig = z.output<typeof routeSchema>;
export type BackendConfig = z.output<typeof backendSchema>;
export type ShadowConfig = z.output<typeof shadowSchema>;
export type BreakerConfig = z.output<typeof breakerSchema>;
export type OutlierConfig = z.output<typeof outlier>;
