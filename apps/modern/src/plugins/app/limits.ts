import { ApiError, LIMITS } from '@pilot/contracts';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

/** Path + query longer than LIMITS.maxUrlLength → 414, before routing matters (also for unknown routes). */
export default fp(
  async function limitsPlugin(fastify: FastifyInstance) {
    fastify.addHook('onRequest', (request, _reply, done) => {
      done(request.url.length > LIMITS.maxUrlLength ? new ApiError('URI_TOO_LONG') : undefined);
    });
  },
  { name: 'limits' },
);
