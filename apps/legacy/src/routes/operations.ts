import { HEADERS, routes } from '@pilot/contracts';
import { readiness } from '@pilot/content';
import type { HttpMetrics } from '@pilot/service-kit';
import { renderMetrics } from '@pilot/telemetry';
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
    sendJson(res, 200, await readiness(content));
  });

  router.get('/metrics', async (req, res) => {
    // OpenMetrics (latency exemplars) for a scraper that asks for it, else Prometheus text
    const out = await renderMetrics(metrics.registry, req.headers.accept);
    res
      .status(200)
      .set('content-type', out.contentType)
      .set('cache-control', HEADERS.privateCacheControl)
      .send(out.body);
  });

  return router;
}
