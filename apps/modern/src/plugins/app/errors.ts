import {
  ApiError,
  type ErrorCode,
  type ErrorEnvelope,
  errorBody,
  errorCodeForClientStatus,
  HEADERS,
  validationErrorBody,
} from '@pilot/contracts';
import type { FastifyError, FastifyInstance, FastifyReply } from 'fastify';
import fp from 'fastify-plugin';
import { RequestValidationError, requestPartOf } from '../../lib/validation.ts';
import { logWithRequest } from './logging.ts';

/** Fastify's own error codes → the contract's. Anything not listed falls back on its status. */
const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_INVALID_JSON_BODY: 'MALFORMED_JSON',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'MALFORMED_JSON',
  FST_ERR_CTP_BODY_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'BAD_REQUEST',
  FST_ERR_NOT_FOUND: 'NOT_FOUND',
  FST_ERR_BAD_URL: 'BAD_REQUEST',
  FST_UNDER_PRESSURE: 'OVERLOADED',
};

/** Maps anything thrown in the request lifecycle to the contract's envelope. */
export function envelopeFor(error: unknown): ErrorEnvelope {
  if (error instanceof ApiError) return error.body;
  if (error instanceof RequestValidationError) {
    return validationErrorBody(requestPartOf(error.validationContext), error.zodError);
  }
  const fastifyError = error as Partial<FastifyError> | null;
  const code = fastifyError?.code ? FASTIFY_CODES[fastifyError.code] : undefined;
  if (code) return errorBody(code);
  const status = fastifyError?.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    // a 4xx we did not map (e.g. a JSON parse error from a plugin): never leak Fastify's shape
    return errorBody(errorCodeForClientStatus(status));
  }
  return errorBody('INTERNAL');
}

/** Writes an envelope pre-serialised (no response schema or serializer can reshape it), never cacheable. */
export function sendEnvelope(reply: FastifyReply, body: ErrorEnvelope): FastifyReply {
  return reply
    .code(body.error.status)
    .header('content-type', HEADERS.contentType)
    .header('cache-control', HEADERS.privateCacheControl)
    .send(JSON.stringify(body));
}

/**
 * One error handler for the whole app (the not-found handler is plugins/app/not-found.ts).
 * 4xx answers pass through with their contract message; 5xx are logged with the request and
 * answered generically (an ApiError's 5xx, e.g. 503 from the content store, keeps its own code
 * and message).
 */
export default fp(
  async function errorsPlugin(fastify: FastifyInstance) {
    fastify.setErrorHandler((error, request, reply) => {
      const body = envelopeFor(error);
      // Fastify closes the connection after any body-parser error; whether a refused request's
      // connection survives is the HTTP server's call (createHttpServer drains what is left of
      // the body, bounded, or has already said close), as in legacy
      if (reply.hasHeader('connection') && !reply.raw.hasHeader('connection'))
        reply.removeHeader('connection');
      if (error instanceof ApiError) reply.headers(error.headers);
      if (body.error.status >= 500) {
        if (error instanceof ApiError) request.log.warn({ err: error }, 'request failed upstream');
        else logWithRequest(reply, error); // in the request's completion line
      }
      if (body.error.code === 'OVERLOADED' && !reply.hasHeader('retry-after'))
        reply.header('retry-after', '10');
      return sendEnvelope(reply, body);
    });
  },
  { name: 'errors' },
);
