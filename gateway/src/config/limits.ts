import { z } from 'zod';
import { parseDuration } from '../control/rollout/schema.ts';

/**
 * The `limits:` block of a route (and its table-wide default, `settings.limits`): rate-limit
 * policies the gateway enforces before it picks a backend. Each policy counts requests per
 * client over a fixed window, per route; over the quota → 429 (pipeline/rate-limit.ts).
 * Defaults live here next to their field; gateway/README.md#rate-limits documents the same.
 *
 *   limits:
 *     - { name: login-failures, requests: 20, window: 15m, countStatus: [401] }
 *     - { name: per-user, key: [jwt:sub, header:x-api-key], requests: 600, window: 1m }
 */

/** Where a policy's counter key comes from. */
export type LimitKeySource = { kind: 'header'; name: string } | { kind: 'jwt' } | { kind: 'address' };

/** A validated policy, ready for the limiter. */
export interface LimitPolicy {
  name: string;
  /** Requests allowed per client in one window. */
  requests: number;
  windowSeconds: number;
  /** First present wins; always ends with the client address, so every request has a key. */
  key: LimitKeySource[];
  /**
   * Only answers with these statuses count (e.g. [401]: failed logins), checked before the
   * request goes on and counted once it is answered; null: every request counts.
   */
  countStatus: number[] | null;
}

const headerToken = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/;
const policyName = /^[a-z][a-z0-9_.-]{0,62}$/i;
export const MAX_WINDOW_SECONDS = 86_400;
export const MAX_REQUESTS = 1_000_000_000;

const keySource = z.string().transform((s, ctx): LimitKeySource => {
  if (s === 'address') return { kind: 'address' };
  if (s === 'jwt:sub') return { kind: 'jwt' };
  if (s.startsWith('header:') && headerToken.test(s.slice(7))) {
    return { kind: 'header', name: s.slice(7).toLowerCase() };
  }
  ctx.addIssue({ code: 'custom', message: 'must be "address", "jwt:sub" or "header:<name>"' });
  return z.NEVER;
});

/** `"60s"`, `"15m"`, `"24h"` or milliseconds; whole seconds from 1 s to 24 h (the store counts in seconds). */
const windowSchema = z.union([z.number(), z.string()]).transform((value, ctx) => {
  const ms = parseDuration(value);
  if (ms === null) {
    ctx.addIssue({ code: 'custom', message: 'must be a duration like "60s", "15m", "1h" or milliseconds' });
    return z.NEVER;
  }
  if (ms < 1000 || ms > MAX_WINDOW_SECONDS * 1000 || ms % 1000 !== 0) {
    ctx.addIssue({ code: 'custom', message: 'must be whole seconds from 1s to 24h' });
    return z.NEVER;
  }
  return ms / 1000;
});

const keyLabel = (key: LimitKeySource[]) =>
  key[0]!.kind === 'header' ? `header-${(key[0] as { name: string }).name}` : key[0]!.kind;

export const limitPolicySchema = z
  .object({
    /** Names the policy in RateLimit-Policy, the 429's message and metrics; default `<key>-<window>s`. */
    name: z
      .string()
      .regex(policyName, 'must start with a letter and use only letters, digits, ".", "_" and "-"')
      .optional(),
    requests: z.number().int().min(1).max(MAX_REQUESTS),
    window: windowSchema,
    /** `address` (default), `jwt:sub` (unverified!) or `header:<name>`; a list: first present wins. */
    key: z
      .preprocess((v) => (typeof v === 'string' ? [v] : v), z.array(keySource).min(1).max(4))
      .prefault('address'),
    /** Count only answers with these statuses (e.g. [401]); default: every request. */
    countStatus: z.array(z.number().int().min(100).max(599)).min(1).max(16).optional(),
  })
  .strict()
  .transform((p): LimitPolicy => {
    const listed = p.key;
    const cut = listed.findIndex((k) => k.kind === 'address');
    // the address ends every list: a client that sends no header is still counted
    const key = cut === -1 ? [...listed, { kind: 'address' } as const] : listed.slice(0, cut + 1);
    return {
      name: p.name ?? `${keyLabel(key)}-${p.window}s`,
      requests: p.requests,
      windowSeconds: p.window,
      key,
      countStatus: p.countStatus ?? null,
    };
  });

/** A list of policies with distinct names (`[]`: none, also for a route under a table-wide default). */
export const limitsSchema = z
  .array(limitPolicySchema)
  .max(8)
  .superRefine((policies, ctx) => {
    const seen = new Set<string>();
    policies.forEach((p, i) => {
      if (seen.has(p.name)) {
        ctx.addIssue({
          code: 'custom',
          message: `duplicate policy name "${p.name}" (name each policy of a route differently)`,
          path: [i, 'name'],
        });
      }
      seen.add(p.name);
    });
  });
