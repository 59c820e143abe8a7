import { errorBody } from '@pilot/contracts';
import type { FastifyInstance } from 'fastify';
import { sendEnvelope } from './errors.ts';

/**
 * Unknown routes (and methods) → the 404 envelope, whatever the request carries. Registered
 * WITHOUT fastify-plugin on purpose: in its own context every body parser is replaced by one
 * that ignores the body, so an unknown route answers 404 even with a malformed, oversized or
 * non-JSON body (like legacy, whose body parsers are per route) instead of 400/413/415.
 */
export default async function notFound(fastify: FastifyInstance) {
  fastify.removeAllContentTypeParsers();
  fastify.addContentTypeParser('*', (_request, _payload, done) => done(null, undefined));
  fastify.setNotFoundHandler((_request, reply) => sendEnvelope(reply, errorBody('NOT_FOUND')));
}
