import swagger from '@fastify/swagger';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { createJsonSchemaTransform } from 'fastify-type-provider-zod';

/**
 * OpenAPI 3.1 from the routes' zod schemas (the same ones that validate and serialise),
 * served by routes/openapi.ts at GET /openapi.json.
 */
export default fp(
  async function swaggerPlugin(fastify: FastifyInstance) {
    await fastify.register(swagger, {
      openapi: {
        openapi: '3.1.0',
        info: {
          title: 'Migration pilot public API',
          description:
            'The contract both services obey (packages/contracts). Every 4xx/5xx answer is the one ErrorEnvelope.',
          version: '1.0.0',
        },
        components: {
          securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
        },
      },
      transform: createJsonSchemaTransform({ skipList: [] }),
    });
  },
  { name: 'swagger' },
);
