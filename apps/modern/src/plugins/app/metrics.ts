import type { FastifyInstance } from 'fastify';
import { noteRoute } from '@pilot/telemetry';
import fp from 'fastify-plugin';

/** Label for requests that matched no route (never the raw URL: unbounded cardinality). */
export const UNMATCHED_ROUTE = 'unmatched';

/**
 * Records every answered request in the app's Prometheus registry by route pattern, and gives
 * the pattern to the request's server span, if it has one (@pilot/telemetry noteRoute).
 */
export default fp(
  async function metricsPlugin(fastify: FastifyInstance) {
    const { metrics } = fastify.deps;
    fastify.addHook('onResponse', (request, reply, done) => {
      const pattern = request.routeOptions.url;
      if (pattern !== undefined) noteRoute(request.raw, pattern);
      const route = pattern ?? UNMATCHED_ROUTE;
      metrics.observe(request.method, route, reply.statusCode, reply.elapsedTime / 1000);
      done();
    });
  },
  { name: 'metrics', dependencies: ['deps'] },
);
