import { ApiError, type ReadyChecks, routes } from '@pilot/contracts';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { schemaFor } from '../lib/route-schema.ts';

/** GET /ready: Strapi and Redis reachable (per the content store); else 503 NOT_READY with the checks. */
const ready: FastifyPluginAsyncZod = async (fastify) => {
  const { content } = fastify.deps;

  fastify.get(routes.ready.path, { schema: schemaFor(routes.ready) }, async () => {
    let checks: ReadyChecks;
    try {
      checks = await content.health();
    } catch {
      checks = { strapi: 'down', redis: 'down' };
    }
    if (checks.strapi === 'down' || checks.redis === 'down') {
      throw new ApiError('NOT_READY', { details: { checks } });
    }
    return { status: 'ready' as const, checks };
  });
};

export default ready;
