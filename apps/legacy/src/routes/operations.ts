import { ApiError, HEADERS, type ReadyChecks, routes } from '@pilot/contracts';
import type { HttpMetrics } from '@pilot/service-kit';
import { Router } from 'express';
import type { AppDeps } from '../deps.ts';
import { sendJson } from '../lib/send.ts';

/** GET /health (liveness), GET /ready (Strapi and Redis per the content store), GET /metrics. */
export function operationsRouter({ content }: AppDeps, metrics: HttpMetrics): Router {
  const router = Router();

  router.get(routes.health.path, (_req, res) => {
    sendJson(res, 200, { status: 'ok' });
  });

  router.get(routes.ready.path, async (_req, res) => {
    let checks: ReadyChecks;
    try {
      checks = await content.health();
    } catch {
      checks = { strapi: 'down', redis: 'down' };
    }
    if (checks.strapi === 'down' || checks.redis === 'down') {
      throw new ApiError('NOT_READY', { details: { checks } });
    }
    sendJson(res, 200, { status: 'ready', checks });
  });

  router.get('/metrics', async (_req, res) => {
    const text = await metrics.registry.metrics();
    res
      .status(200)
      .set('content-type', metrics.registry.contentType)
      .set('cache-control', HEADERS.privateCacheControl)
      .send(text);
  });

  return router;
}
