import type { FastifyPluginAsync } from 'fastify';

/** GET /openapi.json: the OpenAPI 3.1 document @fastify/swagger builds from the routes' zod schemas. */
const openapi: FastifyPluginAsync = async (fastify) => {
  fastify.get('/openapi.json', { schema: { hide: true } }, async () => fastify.swagger());
};

export default openapi;
