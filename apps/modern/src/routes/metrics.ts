import type { FastifyPluginAsync } from 'fastify';
import { NEVER_SHED } from '../plugins/external/under-pressure.ts';

/** GET /metrics: Prometheus text of this instance's registry (never shed). */
const metrics: FastifyPluginAsync = async (fastify) => {
  const { registry } = fastify.deps.metrics;

  fastify.get('/metrics', { schema: { hide: true }, config: NEVER_SHED }, async (_request, reply) => {
    const text = await registry.metrics();
    return reply.header('content-type', registry.contentType).send(text);
  });
};

export default metrics;
