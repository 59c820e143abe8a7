import { readiness } from '@pilot/content';
import { routes } from '@pilot/contracts';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { schemaFor } from '../lib/route-schema.ts';

/** GET /ready: Strapi and Redis reachable (per the content store); else 503 NOT_READY with the checks. */
const ready: FastifyPluginAsyncZod = async (fastify) => {
  const { content } = fastify.deps;

  fastify.get(routes.ready.path, { schema: schemaFor(routes.ready) }, () => readiness(content));
};

export default ready;
