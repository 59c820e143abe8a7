import { type ErrorEnvelope, HEADERS } from '@pilot/contracts';
import type { Response } from 'express';

/** JSON success answer with the route's cache policy (no-store unless a public read). */
export function sendJson(
  res: Response,
  status: number,
  body: unknown,
  cache: 'public' | 'private' = 'private',
): void {
  res
    .status(status)
    .set('cache-control', cache === 'public' ? HEADERS.publicReadCacheControl : HEADERS.privateCacheControl)
    .json(body);
}

/** Error envelope answer: never cacheable. */
export function sendError(res: Response, body: ErrorEnvelope): void {
  res.status(body.error.status).set('cache-control', HEADERS.privateCacheControl).json(body);
}
