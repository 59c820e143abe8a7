import { ApiError, routes } from '@pilot/contracts';
import { Router } from 'express';
import type { AppDeps } from '../deps.ts';
import { sendJson } from '../lib/send.ts';

const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/i;

/** The raw token of an `Authorization: Bearer <token>` header, or null. */
export function bearerToken(header: string | undefined): string | null {
  const match = header ? BEARER.exec(header) : null;
  return match?.[1] ?? null;
}

/** GET /me: the user behind the access token. */
export function meRouter({ auth }: AppDeps): Router {
  const router = Router();

  router.get(routes.me.path, async (req, res) => {
    const token = bearerToken(req.headers.authorization);
    if (!token) throw new ApiError('UNAUTHORIZED');
    sendJson(res, 200, { data: await auth.verify(token) });
  });

  return router;
}
