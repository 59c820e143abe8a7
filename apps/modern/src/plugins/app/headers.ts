import { HEADERS } from '@pilot/contracts';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Successful answers are public, cacheable reads (HEADERS.publicReadCacheControl); errors never. */
    publicRead?: boolean;
  }
}

/**
 * The headers both services send the same way: X-Request-Id echoed, Cache-Control public for
 * public reads and no-store for everything else; an error answer is always no-store
 * (sendEnvelope overrides it). Set when the request arrives, so no onSend pass is needed.
 * (Fastify sends no X-Powered-By and no ETag, and its JSON content type is already
 * `application/json; charset=utf-8`.)
 */
export default fp(
  async function headersPlugin(fastify: FastifyInstance) {
    fastify.addHook('onRequest', (request, reply, done) => {
      reply.header(HEADERS.requestId, request.id);
      reply.header(
        'cache-control',
        request.routeOptions.config.publicRead === true
          ? HEADERS.publicReadCacheControl
          : HEADERS.privateCacheControl,
      );
      done();
    });
  },
  { name: 'headers' },
);
