import { renderMetrics } from '@pilot/telemetry';
import type { FastifyPluginAsync } from 'fastify';
import { NEVER_SHED } from '../plugins/external/under-pressure.ts';

/** GET /metrics: this instance's registry as Prometheus text or OpenMetrics (never shed). */
const metrics: FastifyPluginAsync = async (fastify) => {
  const { registry } = fastify.deps.metrics;

  fastify.get('/metrics', { schema: { hide: true }, config: NEVER_SHED }, async (request, reply) => {
    // OpenMetrics (latency exemplars) for a scraper that asks for it, else Prometheus text
    const out = await renderMetrics(registry, request.headers.accept);
    return reply.header('content-type', out.contentType).send(out.body);
  });
};

export default metrics;
