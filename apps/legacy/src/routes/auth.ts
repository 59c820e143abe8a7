import { mirrorOf, routes } from '@pilot/contracts';
import { loginLimiterFor } from '@pilot/service-kit';
import { Router } from 'express';
import type { AppDeps } from '../deps.ts';
import { jsonBody } from '../middleware/limits.ts';
import { sendError, sendJson } from '../lib/send.ts';
import { validateRequest } from '../lib/validate.ts';

/**
 * POST /auth/login (under the login limit: failures per username+address and per address,
 * 429 past it) and POST /auth/refresh (failures are ApiErrors from @pilot/auth).
 */
export function authRouter({ auth, config, loginLimiter = loginLimiterFor(config) }: AppDeps): Router {
  const router = Router();

  router.post(routes.login.path, jsonBody, async (req, res) => {
    const checked = validateRequest(routes.login, req);
    if (!checked.ok) return sendError(res, checked.error);
    const { username, password } = checked.value.body;
    // a mirror neither counts against nor waits for the client's login limit, and starts no session
    const mirror = mirrorOf(req.headers);
    if (mirror.dryRun) return sendJson(res, 200, await auth.login(username, password, mirror));
    const { value, headers } = await loginLimiter.attempt(username, req.ip ?? '', () =>
      auth.login(username, password),
    );
    res.set(headers);
    sendJson(res, 200, value);
  });

  router.post(routes.refresh.path, jsonBody, async (req, res) => {
    const checked = validateRequest(routes.refresh, req);
    if (!checked.ok) return sendError(res, checked.error);
    // a mirrored refresh verifies and answers, rotating and revoking nothing
    sendJson(res, 200, await auth.refresh(checked.value.body.refreshToken, mirrorOf(req.headers)));
  });

  return router;
}
