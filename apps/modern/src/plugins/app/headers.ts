import { HEADERS } from '@pilot/contracts';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Successful answers are public, cacheable reads (HEADERS.publicReadCacheControl). */
    publicRead?: boolean;
  }
}

/**
 * The headers both services send the same way: X-Request-Id echoed, Cache-Control public for
 * successful public reads and no-store for everything else. (Fastify sends no X-Powered-By and
 * no ETag, and its JSON content type is already `application/json; charset=utf-8`.)
 */
export default fp(
  async function headersPlugin(fastify: FastifyInstance) {
    fastify.addHook('onSend', (request, reply, payload, done) => {
      reply.header(HEADERS.requestId, request.id);
      if (!reply.hasHeader('cache-control')) {
        const publicRead = reply.statusCode < 400 && request.routeOptions.config.publicRead === true;
        reply.header(
          'cache-control',
          publicRead ? HEADERS.publicReadCacheControl : HEADERS.privateCacheControl,
        );
      }
      done(null, payload);
    });
  },
  { name: 'headers' },
);
