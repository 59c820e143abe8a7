import { errorBody, HEADERS } from '@pilot/contracts';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';

/**
 * Errors Fastify raises while routing, before any hook runs: a malformed percent-encoding in
 * the path (400, as Express answers it) and a path parameter longer than the router allows
 * (only possible in a URL over LIMITS.maxUrlLength: 414, like the URL limit).
 */
export function frameworkErrors(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const body = errorBody(error.code === 'FST_ERR_MAX_PARAM_LENGTH' ? 'URI_TOO_LONG' : 'BAD_REQUEST');
  reply
    .code(body.error.status)
    .header(HEADERS.requestId, request.id)
    .header('cache-control', HEADERS.privateCacheControl)
    .header('content-type', HEADERS.contentType)
    .send(JSON.stringify(body));
}
