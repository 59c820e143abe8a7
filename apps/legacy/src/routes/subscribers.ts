import { HEADERS, mirrorOf, routes } from '@pilot/contracts';
import { parseIdempotencyKey } from '@pilot/content';
import { Router } from 'express';
import type { AppDeps } from '../deps.ts';
import { jsonBody } from '../middleware/limits.ts';
import { sendError, sendJson } from '../lib/send.ts';
import { validateRequest } from '../lib/validate.ts';

/**
 * POST /subscribers: validated write; a duplicate email is 409 CONFLICT from the content store.
 * `Idempotency-Key`: at most one create per key; a mirrored request (x-pilot-shadow) writes nothing.
 */
export function subscribersRouter({ content }: AppDeps): Router {
  const router = Router();

  router.post(routes.createSubscriber.path, jsonBody, async (req, res) => {
    const checked = validateRequest(routes.createSubscriber, req);
    if (!checked.ok) return sendError(res, checked.error);
    const subscriber = await content.createSubscriber(checked.value.body, {
      idempotencyKey: parseIdempotencyKey(req.headers[HEADERS.idempotencyKey]),
      ...mirrorOf(req.headers),
    });
    sendJson(res, 201, { data: subscriber });
  });

  return router;
}
