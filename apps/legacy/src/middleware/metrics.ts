import type { HttpMetrics } from '@pilot/service-kit';
import type { NextFunction, Request, Response } from 'express';

/** Label for requests that matched no route (never the raw URL: unbounded cardinality). */
export const UNMATCHED_ROUTE = 'unmatched';

/** Records every answered request by route PATTERN (e.g. /articles/:slug) and status. */
export function httpMetrics(metrics: HttpMetrics) {
  return (req: Request, res: Response, next: NextFunction) => {
    const started = performance.now();
    res.on('finish', () => {
      const route = req.route?.path ? `${req.baseUrl}${String(req.route.path)}` : UNMATCHED_ROUTE;
      metrics.observe(req.method, route, res.statusCode, (performance.now() - started) / 1000);
    });
    next();
  };
}
