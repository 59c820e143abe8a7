import ipaddr from 'ipaddr.js';

/**
 * The rate-limit fields every limiter of the pilot sends (the apps' login limit and the
 * gateway's limits), in the IETF httpapi format (draft-ietf-httpapi-ratelimit-headers):
 *
 *   RateLimit-Policy: "login-burst";q=10;w=60, "login-address";q=60;w=900
 *   RateLimit: "login-burst";r=0;t=42, "login-address";r=48;t=800
 *
 * one list item per policy, in the same order in both fields; `Retry-After` goes with a 429.
 */
export interface RateLimitPolicy {
  name: string;
  /** Requests (or failures) allowed per window. */
  quota: number;
  windowSeconds: number;
}

export interface RateLimitCount {
  /** Counted so far in the running window (0 when no window runs). */
  consumed: number;
  /** Milliseconds until the running window ends (0 when none runs). */
  msLeft: number;
}

/** A structured-field string: quotes and backslashes escaped, anything outside printable ASCII dropped. */
function sfString(value: string): string {
  let out = '"';
  for (const ch of value) {
    const c = ch.charCodeAt(0);
    if (c < 0x20 || c > 0x7e) continue;
    out += ch === '"' || ch === '\\' ? `\\${ch}` : ch;
  }
  return `${out}"`;
}

/** Whole seconds until a window ends: at least 1 while it runs, 0 when none runs. */
export function secondsLeft(msLeft: number): number {
  return msLeft > 0 ? Math.ceil(msLeft / 1000) : 0;
}

/** The `RateLimit-Policy` value (the same for every answer of a route: compute it once). */
export function rateLimitPolicyHeader(policies: readonly RateLimitPolicy[]): string {
  return policies.map((p) => `${sfString(p.name)};q=${p.quota};w=${p.windowSeconds}`).join(', ');
}

/** The `RateLimit` value: what is left of each policy and when its window ends. */
export function rateLimitHeader(
  policies: readonly RateLimitPolicy[],
  counts: readonly RateLimitCount[],
): string {
  let out = '';
  for (let i = 0; i < policies.length; i++) {
    const policy = policies[i]!;
    const count = counts[i];
    const remaining = count ? Math.max(0, policy.quota - count.consumed) : policy.quota;
    const reset = count ? secondsLeft(count.msLeft) : 0;
    out += `${i > 0 ? ', ' : ''}${sfString(policy.name)};r=${remaining};t=${reset}`;
  }
  return out;
}

const DOTTED_QUAD = /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;

/**
 * The counter key of a client address: IPv4-mapped IPv6 as IPv4, and IPv6 by its /64 (one
 * subscriber holds a whole /64, so per-/128 counters would be free to dodge). Anything that is
 * not an address is its own key. A canonical dotted quad (what Node reports for IPv4 peers) is
 * returned as it is without parsing: the hot path of the gateway.
 */
export function addressKey(address: string): string {
  if (DOTTED_QUAD.test(address)) return address;
  if (!ipaddr.isValid(address)) return address;
  const parsed = ipaddr.process(address);
  if (parsed.kind() === 'ipv4') return parsed.toString();
  const parts = (parsed as ipaddr.IPv6).parts.slice(0, 4);
  return `${parts.map((p) => p.toString(16)).join(':')}::/64`;
}
