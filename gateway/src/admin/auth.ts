import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/**
 * Bearer-token check in constant time: both sides are hashed first, so neither the token's
 * content nor its length leaks through timing.
 */
export function tokenMatches(header: string | undefined, token: string): boolean {
  if (!header) return false;
  const m = /^Bearer\s+(.+)$/i.exec(header.trim());
  const given = m ? m[1]! : '';
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(token).digest();
  return timingSafeEqual(a, b) && given.length > 0;
}

/** Who did it: the optional `X-Admin-User` header (free text, for the audit log) and the peer address. */
export function actorOf(req: IncomingMessage): { who: string; ip: string } {
  const raw = req.headers['x-admin-user'];
  const who = typeof raw === 'string' ? raw.replace(/[^\w .@-]/g, '').slice(0, 64) : '';
  return { who: who || 'admin-token', ip: req.socket.remoteAddress ?? '' };
}
