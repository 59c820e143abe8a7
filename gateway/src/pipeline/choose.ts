import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { BUCKETS, type CompiledRoute, type StickySource } from '../table.ts';
import type { Backend } from './backends.ts';
import type { FallbackReason, PipelineState } from './context.ts';
import { mayFallback } from './fallback.ts';
import type { RouteBreaker } from './route-breaker.ts';

/**
 * Choose: the backend for a matched route. `choose` applies the route's weights; `pickBackend`
 * then asks whether that backend takes traffic now, and picks another one if not.
 *
 * A split hashes a sticky key (first present of: a header, a cookie, the JWT `sub`) into one of
 * 10,000 buckets, and each backend owns a contiguous range of buckets in the table's order:
 * the same key always lands on the same backend while the weights stand, and raising the last
 * backend's weight (the canary) only moves users onto it, never off it.
 *
 * The JWT is decoded WITHOUT verifying its signature. That is fine for stickiness (a forged
 * `sub` only chooses which backend serves the forger's own request; every backend still
 * verifies the token before trusting it) and it must never be used for anything else.
 */
export interface Choice {
  backend: string;
  /** Set when the client had no sticky key and the route assigns one in a cookie. */
  setCookie?: string;
  key?: string;
}

/** FNV-1a, 32 bit: cheap and well spread for short keys. */
export function bucketOf(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % BUCKETS;
}

export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  let start = 0;
  while (start < header.length) {
    let end = header.indexOf(';', start);
    if (end === -1) end = header.length;
    const eq = header.indexOf('=', start);
    if (eq !== -1 && eq < end && header.slice(start, eq).trim() === name) {
      const v = header.slice(eq + 1, end).trim();
      return v.length > 0 ? v : undefined;
    }
    start = end + 1;
  }
  return undefined;
}

/** The `sub` claim of a Bearer JWT, decoded without verification (stickiness only). */
export function jwtSubject(authorization: string | undefined): string | undefined {
  if (!authorization || !/^bearer /i.test(authorization)) return undefined;
  const parts = authorization.slice(7).trim().split('.');
  if (parts.length !== 3 || parts[1]!.length > 8192) return undefined;
  try {
    const claims = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as { sub?: unknown };
    return typeof claims.sub === 'string' || typeof claims.sub === 'number' ? String(claims.sub) : undefined;
  } catch {
    return undefined;
  }
}

export function stickyKey(req: IncomingMessage, sources: readonly StickySource[]): string | undefined {
  for (const source of sources) {
    let value: string | undefined;
    if (source.kind === 'header') {
      const h = req.headers[source.name];
      value = Array.isArray(h) ? h[0] : h;
    } else if (source.kind === 'cookie') value = cookieValue(req.headers.cookie, source.name);
    else value = jwtSubject(req.headers.authorization);
    if (value) return `${source.kind}:${value}`;
  }
  return undefined;
}

export function choose(route: CompiledRoute, req: IncomingMessage): Choice {
  const slots = route.slots;
  if (slots.length === 1) return { backend: slots[0]!.backend };
  let key = route.sticky ? stickyKey(req, route.sticky) : undefined;
  let setCookie: string | undefined;
  if (key === undefined && route.stickyCookie) {
    const id = randomBytes(12).toString('base64url');
    key = `cookie:${id}`;
    setCookie = `${route.stickyCookie}=${id}; Path=/; Max-Age=31536000; HttpOnly; SameSite=Lax`;
  }
  const bucket = key === undefined ? Math.floor(Math.random() * BUCKETS) : bucketOf(key);
  for (const slot of slots) {
    if (bucket < slot.until) return { backend: slot.backend, setCookie, key };
  }
  return { backend: slots[slots.length - 1]!.backend, setCookie, key };
}

export type Picked =
  | { backend: Backend; breaker: RouteBreaker; reason: FallbackReason | null }
  | { backend: null; breaker: null; reason: null };

/**
 * Where a request goes: the chosen backend, unless it is ejected or this route's breaker for it
 * is open; then an alternative (another backend of the split — nothing was sent yet, so any
 * method may move — or the fallback for idempotent, body-less requests). An open route breaker
 * with no alternative still sends the request to the backend: its own answer beats a gateway
 * 503 (Envoy's panic routing). An ejected backend with no alternative → no backend (503).
 */
export function pickBackend(
  state: PipelineState,
  route: CompiledRoute,
  chosen: string,
  method: string,
  bodyLength: number,
): Picked {
  const now = Date.now();
  const primary = state.pool.get(chosen)!;
  const up = primary.admit(now);
  const breaker = state.breakers.get(route.id, primary.name, route.breaker);
  if (up && breaker.allow(now)) return { backend: primary, breaker, reason: null };
  for (const slot of route.slots) {
    const peer = state.pool.get(slot.backend);
    if (!peer || peer === primary || !peer.available(now)) continue;
    const peerBreaker = state.breakers.get(route.id, peer.name, route.breaker);
    if (peerBreaker.closed && peer.admit(now)) {
      return { backend: peer, breaker: peerBreaker, reason: up ? 'breaker' : 'unavailable' };
    }
  }
  if (route.fallback && mayFallback(method, bodyLength)) {
    const fb = state.pool.get(route.fallback);
    if (fb && fb !== primary && fb.available(now)) {
      const fbBreaker = state.breakers.get(route.id, fb.name, route.breaker);
      if (fbBreaker.allow(now) && fb.admit(now)) {
        return { backend: fb, breaker: fbBreaker, reason: up ? 'breaker' : 'unavailable' };
      }
    }
  }
  if (up) return { backend: primary, breaker, reason: null };
  return { backend: null, breaker: null, reason: null };
}
