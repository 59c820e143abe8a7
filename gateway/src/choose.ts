import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { BUCKETS, type CompiledRoute, type StickySource } from './table.ts';

/**
 * Step 3 of the pipeline: pick the backend for a matched route.
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
