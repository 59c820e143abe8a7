import { z } from 'zod';

/**
 * The `rollout:` block of a route: the steps a migration walks through by itself and the gates
 * each step must pass. Defaults live here next to their field; gateway/README.md#rollout
 * documents the same.
 */

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const DURATION = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h)$/;

/** `"60s"`, `"2m"`, `"1500ms"`, `"1h"` or a number of milliseconds → milliseconds; null when unreadable. */
export function parseDuration(value: string | number): number | null {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? Math.round(value) : null;
  const m = DURATION.exec(value.trim());
  if (!m) return null;
  return Math.round(Number(m[1]) * UNITS[m[2]!]!);
}

const duration = (min: number, label: string, max = 3_600_000) =>
  z.union([z.number(), z.string()]).transform((value, ctx) => {
    const ms = parseDuration(value);
    if (ms === null) {
      ctx.addIssue({
        code: 'custom',
        message: 'must be a duration like "60s", "2m", "500ms" or milliseconds',
      });
      return z.NEVER;
    }
    if (ms < min) {
      ctx.addIssue({ code: 'custom', message: `must be at least ${label}` });
      return z.NEVER;
    }
    if (ms > max) {
      ctx.addIssue({ code: 'custom', message: 'must be at most 1h' });
      return z.NEVER;
    }
    return ms;
  });

const percent = z.number().min(0).max(100);

export const COMPARISONS = ['<', '<=', '>', '>='] as const;
export type Comparison = (typeof COMPARISONS)[number];

/** `name` or `name{label="value",other="x"}`: one Prometheus series selector (exact label matches). */
const SELECTOR =
  /^[a-zA-Z_:][a-zA-Z0-9_:]*(\{\s*([a-zA-Z_][a-zA-Z0-9_]*\s*=\s*"(?:[^"\\]|\\.)*"\s*,?\s*)*\})?$/;

const customGate = z
  .object({
    /** Shown on the control page and in the audit log. */
    name: z.string().regex(/^[A-Za-z0-9 _.:-]{1,64}$/, 'letters, digits, " ", "_", ".", ":", "-" (1 to 64)'),
    /** Where the Prometheus text is read from (e.g. the new backend's /metrics). */
    url: z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }),
    /** Series selector; every matching series is summed. */
    metric: z.string().regex(SELECTOR, 'must be a metric name, optionally with {label="value",...}'),
    /** The gate passes when `<value> <op> <threshold>`. */
    op: z.enum(COMPARISONS).default('<='),
    threshold: z.number(),
    /** Compare the growth since the previous check instead of the value (for counters). */
    increase: z.boolean().default(false),
    timeoutMs: z.number().int().min(100).max(30_000).default(2000),
  })
  .strict();

const gates = z
  .object({
    /** Minimum share (percent) of the new backend's answers that are not 5xx. */
    successRate: percent.default(99),
    /** p99 of the new backend ≤ factor × p99 of the old one, and ≤ maxMs when set. */
    p99: z
      .object({
        factor: z.number().min(1).max(100).optional(),
        maxMs: z.number().min(1).optional(),
      })
      .strict()
      .refine((p) => p.factor !== undefined || p.maxMs !== undefined, 'needs "factor", "maxMs" or both')
      .optional(),
    /**
     * Shadow step only: the upper end of the 95% Wilson interval of the mismatch rate (percent),
     * counting compared answers only, must stay at or below this.
     */
    shadowMismatch: percent.default(1),
    custom: z.array(customGate).default([]),
  })
  .strict();

const step = z.union([z.literal('shadow'), z.number().int('a step is a whole percent').min(1).max(100)]);

export const PHASES = ['pending', 'running', 'paused', 'promoted', 'rolled-back', 'aborted'] as const;
export type Phase = (typeof PHASES)[number];
export const FINAL_PHASES: ReadonlySet<Phase> = new Set(['promoted', 'rolled-back', 'aborted']);

export const rolloutSchema = z
  .object({
    /** `shadow` (mirror only, optional, first) then percentages on the new backend, ending at 100. */
    steps: z
      .array(step)
      .min(1)
      // checked on the array itself, so these are reported alongside the block's other problems
      .superRefine((steps, ctx) => {
        steps.forEach((s, i) => {
          if (s === 'shadow' && i !== 0) {
            ctx.addIssue({ code: 'custom', message: '"shadow" can only be the first step', path: [i] });
          }
          const prev = steps[i - 1];
          if (typeof s === 'number' && typeof prev === 'number' && s <= prev) {
            ctx.addIssue({ code: 'custom', message: `steps must increase (${s} after ${prev})`, path: [i] });
          }
        });
        if (steps[steps.length - 1] !== 100) {
          ctx.addIssue({
            code: 'custom',
            message: 'the last step must be 100 (reaching it promotes the new backend)',
            path: [steps.length - 1],
          });
        }
      }),
    /** One check per interval; a passing check moves to the next step. */
    interval: duration(1000, '1s').default(60_000),
    /** A check needs this many answers from the new backend (compared answers in the shadow step). */
    minRequests: z.number().int().min(1).default(100),
    /** Failed checks tolerated over the whole rollout; one more rolls back at once. */
    maxFailedChecks: z.number().int().min(0).default(1),
    /** `auto` starts as soon as the table is loaded; `manual` waits in `pending` for a resume. */
    start: z.enum(['auto', 'manual']).default('auto'),
    gates: gates.prefault({}),
    /** Every transition is POSTed here as JSON (Slack-compatible `text` field included). */
    notify: z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }).optional(),
    /**
     * Written by the gateway at every transition (the file's record of where the rollout stands);
     * read back at start when Redis holds no state. Delete it to start over.
     */
    status: z
      .object({
        phase: z.enum(PHASES),
        step: z.number().int().min(-1),
        at: z.string().optional(),
      })
      .strict()
      .optional(),
  })
  .strict()
  .superRefine((r, ctx) => {
    if (r.status && r.status.step >= r.steps.length) {
      ctx.addIssue({ code: 'custom', message: 'step is past the last step', path: ['status', 'step'] });
    }
  });

export type RolloutInput = z.input<typeof rolloutSchema>;
export type RolloutConfig = z.output<typeof rolloutSchema>;
export type Step = RolloutConfig['steps'][number];
export type CustomGateConfig = RolloutConfig['gates']['custom'][number];

/** The fields of a route the rollout checks depend on (a structural subset of the route schema). */
export interface RolloutRouteFields {
  backend?: string;
  split?: Record<string, number>;
  shadow?: { backend: string };
  fallback?: string;
  migration?: { from: string; to: string };
  rollout?: RolloutConfig;
}

/**
 * Old and new backend of a rollout: `migration` when set, otherwise the backend and its shadow,
 * the two sides of a split, or the backend and its fallback (the same rule as promote/rollback).
 */
export function rolloutPair(route: RolloutRouteFields): { from: string; to: string } | null {
  if (route.migration) return route.migration;
  if (route.shadow && route.backend) return { from: route.backend, to: route.shadow.backend };
  if (route.split) {
    const names = Object.keys(route.split);
    if (names.length === 2) return { from: names[0]!, to: names[1]! };
  }
  if (route.backend && route.fallback) return { from: route.fallback, to: route.backend };
  return null;
}

/** Route-level checks of a `rollout:` block (called from the route schema's superRefine). */
export function checkRolloutRoute(route: RolloutRouteFields, ctx: z.RefinementCtx): void {
  const r = route.rollout;
  if (!r) return;
  const pair = rolloutPair(route);
  if (!pair) {
    ctx.addIssue({
      code: 'custom',
      message:
        'a rollout needs to know the old and the new backend: set "migration: {from, to}" or use a two-backend split',
      path: ['rollout'],
    });
    return;
  }
  if (pair.from === pair.to) {
    ctx.addIssue({ code: 'custom', message: 'old and new backend are the same', path: ['rollout'] });
  }
  if (r.steps[0] === 'shadow' && route.shadow?.backend !== pair.to) {
    ctx.addIssue({
      code: 'custom',
      message: `the "shadow" step needs a shadow block mirroring to the new backend "${pair.to}"`,
      path: ['rollout', 'steps', 0],
    });
  }
}
