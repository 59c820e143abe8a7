import { HEADERS, mirrorOf, routes } from '@pilot/contracts';
import { parseIdempotencyKey } from '@pilot/content';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { schemaFor } from '../lib/route-schema.ts';

/**
 * POST /subscribers: validated write; a duplicate email is 409 CONFLICT from the content store.
 * `Idempotency-Key`: at most one create per key; a mirrored request (x-pilot-shadow) writes nothing.
 */
const subscribers: FastifyPluginAsyncZod = async (fastify) => {
  const { content } = fastify.deps;

  fastify.post(
    routes.createSubscriber.path,
    {
      schema: {
        ...schemaFor(routes.createSubscriber),
        // documented here, checked by parseIdempotencyKey (the same check and answer as legacy's)
        headers: z.looseObject({
          [HEADERS.idempotencyKey]: z
            .string()
            .optional()
            .describe(
              'Runs the create at most once per key (1..255 visible ASCII characters): a retry with the same key and body gets the first answer; another body is 422; one still running is 409.',
            ),
        }),
      },
    },
    async (request, reply) => {
      const subscriber = await content.createSubscriber(request.body, {
        idempotencyKey: parseIdempotencyKey(request.headers[HEADERS.idempotencyKey]),
        ...mirrorOf(request.headers),
      });
      return reply.code(201).send({ data: subscriber });
    },
  );
};

export default subscribers;
