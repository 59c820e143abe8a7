import { z } from 'zod';
import { checkRolloutRoute, rolloutSchema } from '../control/rollout/schema.ts';

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
    intervalMs: z.number().int().min(100).default(5000),
    timeoutMs: z.number().int().min(10).default(2000),
    /** Consecutive passes needed to mark a down backend up again. */
    healthyThreshold: z.number().int().min(1).default(2),
    /** Consecutive failures that mark a backend down. */
    unhealthyThreshold: z.number().int().min(1).default(3),
  })
  .strict();

const breaker = z
  .object({
    /** Consecutive failures (connect error, timeout, 5xx) that eject the backend: passive ejection. */
    consecutiveFailures: z.number().int().min(1).default(5),
    /** Error rate (percent) over `windowMs` that opens the breaker, once `minRequests` were seen. */
    errorRatePercent: z.number().min(1).max(100).default(50),
    minRequests: z.number().int().min(1).default(20),
    windowMs: z.number().int().min(1000).default(10_000),
    /** How long the breaker stays open before one half-open probe is let through. */
    openMs: z.number().int().min(100).default(5000),
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
    /** Upstream idle timeout in ms (socket inactivity); 0 disables. */
    timeoutMs: z.number().int().min(0).default(30_000),
    /** Keep-alive pool size per gateway process. */
    maxSockets: z.number().int().min(1).default(256),
    /** Idle pooled sockets are closed after this (keep it under the backend's keep-alive timeout). */
    idleSocketMs: z.number().int().min(100).default(2000),
    healthCheck: healthCheck.prefault({}),
    breaker: breaker.prefault({}),
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
    maxBodyBytes: z.number().int().min(0).optional(),
    /** Overrides the backend's upstream idle timeout for this route (0 = none, e.g. SSE). */
    timeoutMs: z.number().int().min(0).optional(),
    /** Migration autopilot: steps shadow → percentages → 100 with gates (gateway/README.md#rollout). */
    rollout: rolloutSchema.optional(),
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
