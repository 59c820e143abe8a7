import type { FastifyInstance, preHandlerHookHandler } from 'fastify';
import fp from 'fastify-plugin';
import { envelopeFor, sendEnvelope } from './errors.ts';

/**
 * A failed request validation answers its 422 straight from a preHandler, instead of being
 * sent as an Error through Fastify's error path (the common "rejected write" is then about as
 * cheap as a success). Same envelope as the error handler would write (envelopeFor).
 */
const answerInvalid: preHandlerHookHandler = (request, reply, done) => {
  // replying without calling done() ends the request here (Fastify's early-response pattern);
  // a callback hook, not an async one: the success path pays no promise for this check
  if (request.validationError) sendEnvelope(reply, envelopeFor(request.validationError));
  else done();
};

export default fp(
  async function validationPlugin(fastify: FastifyInstance) {
    fastify.addHook('onRoute', (route) => {
      const schema = route.schema;
      if (!schema || !(schema.params || schema.querystring || schema.body || schema.headers)) return;
      route.attachValidation = true;
      const existing = route.preHandler ? [route.preHandler].flat() : [];
      route.preHandler = [answerInvalid, ...existing];
    });
  },
  { name: 'validation', dependencies: ['errors'] },
);
