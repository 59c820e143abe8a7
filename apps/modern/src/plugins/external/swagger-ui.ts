import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

/** Interactive docs at GET /docs; swagger-ui's assets are served from the package, no CDN. */
export default fp(
  async function swaggerUiPlugin(fastify: FastifyInstance) {
    await fastify.register(swaggerUi, {
      routePrefix: '/docs',
      uiConfig: { deepLinking: true, docExpansion: 'list', tryItOutEnabled: true },
      staticCSP: true,
    });
  },
  { name: 'swagger-ui', dependencies: ['swagger'] },
);
