import { createHttpMetrics } from '@pilot/service-kit';
import express, { type Express } from 'express';
import type { AppDeps } from './deps.ts';
import { errorHandler, noAutomaticOptions, notFound } from './middleware/errors.ts';
import { urlLimit } from './middleware/limits.ts';
import { httpMetrics } from './middleware/metrics.ts';
import { requestLog } from './middleware/request-log.ts';
import { aggregateRouter } from './routes/aggregate.ts';
import { articlesRouter } from './routes/articles.ts';
import { authorsRouter } from './routes/authors.ts';
import { authRouter } from './routes/auth.ts';
import { meRouter } from './routes/me.ts';
import { operationsRouter } from './routes/operations.ts';
import { subscribersRouter } from './routes/subscribers.ts';

/**
 * Builds the legacy Express 5 app around its dependencies. It never listens: server.ts does
 * (and tests, through listen() in http-server.ts, on an ephemeral port).
 *
 * Order: request log + id → metrics → URL limit → routes (each POST route parses its own JSON
 * body) → 404 → the one error handler.
 */
export function createApp(deps: AppDeps): Express {
  const metrics = deps.metrics ?? createHttpMetrics('legacy');
  const app = express();
  // Both services send neither, so a client can't tell which one answered.
  app.disable('x-powered-by');
  app.set('etag', false);
  // Behind the gateway: trust its X-Forwarded-* (TRUST_PROXY, loopback by default).
  app.set('trust proxy', deps.config.TRUST_PROXY);

  app.use(requestLog(deps.logger));
  app.use(httpMetrics(metrics));
  app.use(urlLimit);
  app.use(noAutomaticOptions);

  app.use(articlesRouter(deps));
  app.use(authorsRouter(deps));
  app.use(subscribersRouter(deps));
  app.use(aggregateRouter(deps));
  app.use(authRouter(deps));
  app.use(meRouter(deps));
  app.use(operationsRouter(deps, metrics));

  app.use(notFound);
  app.use(errorHandler);
  return app;
}
