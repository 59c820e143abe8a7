import { routes } from '@pilot/contracts';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { schemaFor } from '../lib/route-schema.ts';
import { NEVER_SHED } from '../plugins/external/under-pressure.ts';

/** GET /health: liveness only (never shed, never touches a dependency). */
const health: FastifyPluginAsyncZod = async (fastify) => {
  fastify.get(routes.health.path, { schema: schemaFor(routes.health), config: NEVER_SHED }, async () => ({
    status: 'ok' as const,
  }));
};

export default health;
