import { ApiError, LIMITS } from '@pilot/contracts';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

/**
 * Parses a JSON text the way express.json() does (so both services agree on what is
 * malformed): an empty body is `{}`, and in strict mode only an object or array is accepted.
 * Anything else is 400 MALFORMED_JSON.
 */
export function parseJsonBody(text: string): unknown {
  if (text.length === 0) return {};
  const first = text.trimStart()[0];
  if (first !== '{' && first !== '[') throw new ApiError('MALFORMED_JSON');
  try {
    return JSON.parse(text);
  } catch {
    throw new ApiError('MALFORMED_JSON');
  }
}

const CHARSET = /;\s*charset\s*=\s*"?([^";\s]+)"?/i;

/** Like body-parser: a declared charset other than UTF-* is 415 (the body would be misread). */
export function assertUtf8(contentType: string | undefined): void {
  const charset = contentType ? CHARSET.exec(contentType)?.[1] : undefined;
  if (charset && !charset.toLowerCase().startsWith('utf-')) throw new ApiError('UNSUPPORTED_MEDIA_TYPE');
}

/**
 * The only body parser: application/json up to LIMITS.bodyLimitBytes (larger → 413 by Fastify,
 * mapped by the error handler). Fastify's text/plain parser is removed, so any other media type
 * is 415 like legacy.
 */
export default fp(
  async function bodyParserPlugin(fastify: FastifyInstance) {
    fastify.removeAllContentTypeParsers();
    fastify.addContentTypeParser(
      'application/json',
      { parseAs: 'string', bodyLimit: LIMITS.bodyLimitBytes },
      (request, body, done) => {
        try {
          assertUtf8(request.headers['content-type']);
          done(null, parseJsonBody(body as string));
        } catch (error) {
          done(error as Error, undefined);
        }
      },
    );
  },
  { name: 'body-parser' },
);
