import { routes } from '@pilot/contracts';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { schemaFor } from '../lib/route-schema.ts';

/** POST /subscribers: validated write; a duplicate email is 409 CONFLICT from the content store. */
const subscribers: FastifyPluginAsyncZod = async (fastify) => {
  const { content } = fastify.deps;

  fastify.post(
    routes.createSubscriber.path,
    { schema: schemaFor(routes.createSubscriber) },
    async (request, reply) => {
      const subscriber = await content.createSubscriber(request.body);
      return reply.code(201).send({ data: subscriber });
    },
  );
};

export default subscribers;
