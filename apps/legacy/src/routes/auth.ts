import { isMirrored, routes } from '@pilot/contracts';
import { Router } from 'express';
import type { AppDeps } from '../deps.ts';
import { jsonBody } from '../middleware/limits.ts';
import { sendError, sendJson } from '../lib/send.ts';
import { validateRequest } from '../lib/validate.ts';

/** POST /auth/login and POST /auth/refresh (failures are ApiErrors from @pilot/auth). */
export function authRouter({ auth }: AppDeps): Router {
  const router = Router();

  router.post(routes.login.path, jsonBody, async (req, res) => {
    const checked = validateRequest(routes.login, req);
    if (!checked.ok) return sendError(res, checked.error);
    const { username, password } = checked.value.body;
    sendJson(res, 200, await auth.login(username, password));
  });

  router.post(routes.refresh.path, jsonBody, async (req, res) => {
    const checked = validateRequest(routes.refresh, req);
    if (!checked.ok) return sendError(res, checked.error);
    // a mirrored refresh verifies and answers, rotating and revoking nothing
    sendJson(
      res,
      200,
      await auth.refresh(checked.value.body.refreshToken, { dryRun: isMirrored(req.headers) }),
    );
  });

  return router;
}
